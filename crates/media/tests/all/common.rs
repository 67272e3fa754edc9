//! Shared test helpers: fixture generation (the `ffmpeg` CLI, cached by name and arguments),
//! frame checksums and small frame builders.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use framejet_media::{Decoder, VideoFrame};

/// Directory holding generated fixtures (kept between runs).
pub fn fixture_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("framejet-media-fixtures");
    std::fs::create_dir_all(&dir).expect("create fixture dir");
    dir
}

static GENERATE: Mutex<()> = Mutex::new(());

/// A fixture made by `ffmpeg -y <args> <out>`; regenerated when the arguments change.
pub fn ffmpeg_fixture(name: &str, args: &[&str]) -> PathBuf {
    let _guard = GENERATE.lock().unwrap_or_else(|e| e.into_inner());
    let key = fnv(args.join("\u{1}").as_bytes());
    let path = fixture_dir().join(format!("{key:016x}-{name}"));
    if path.exists() {
        return path;
    }
    let tmp = fixture_dir().join(format!("tmp-{}-{name}", std::process::id()));
    let status = Command::new("ffmpeg")
        .args(["-y", "-hide_banner", "-loglevel", "error"])
        .args(args)
        .arg(&tmp)
        .status()
        .expect("run ffmpeg");
    assert!(
        status.success(),
        "ffmpeg failed for fixture {name}: {args:?}"
    );
    std::fs::rename(&tmp, &path).expect("move fixture");
    path
}

/// A fixture written by a closure (derived files: truncated, random, empty).
pub fn derived_fixture(name: &str, make: impl FnOnce(&Path)) -> PathBuf {
    let _guard = GENERATE.lock().unwrap_or_else(|e| e.into_inner());
    let path = fixture_dir().join(name);
    if !path.exists() {
        let tmp = fixture_dir().join(format!("tmp-{}-{name}", std::process::id()));
        make(&tmp);
        std::fs::rename(&tmp, &path).expect("move fixture");
    }
    path
}

/// 320x240, 25 fps, 2 s (50 frames), keyframes every 25 frames exactly, B-frames, with a
/// 44.1 kHz mono AAC sine.
pub fn video_320() -> PathBuf {
    ffmpeg_fixture(
        "v320.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=44100:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "2",
            "-pix_fmt",
            "yuv420p",
            "-x264-params",
            "keyint=25:min-keyint=25:scenecut=0",
            "-c:a",
            "aac",
            "-b:a",
            "64k",
            "-movflags",
            "+faststart",
        ],
    )
}

/// A generated test pattern of the given size, 1 s at 25 fps, no audio.
pub fn sized(name: &str, w: u32, h: u32, extra: &[&str]) -> PathBuf {
    let src = format!("testsrc2=size={w}x{h}:rate=25:duration=1");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        src.as_str(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "25",
    ];
    args.extend_from_slice(extra);
    ffmpeg_fixture(name, &args)
}

/// Audio only (AAC in m4a), 1 s.
pub fn audio_only() -> PathBuf {
    ffmpeg_fixture(
        "audio.m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=660:sample_rate=48000:duration=1",
            "-c:a",
            "aac",
        ],
    )
}

/// 64-bit FNV-1a.
pub fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x100000001b3);
    }
    h
}

/// The visible pixels of a frame, planes packed without padding.
pub fn packed(frame: &VideoFrame) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..3 {
        let (w, h, s) = (frame.plane_width(i), frame.plane_height(i), frame.stride(i));
        let p = frame.plane(i);
        for r in 0..h {
            out.extend_from_slice(&p[r * s..r * s + w]);
        }
    }
    out
}

/// Checksum of a frame's visible pixels.
pub fn checksum(frame: &VideoFrame) -> u64 {
    fnv(&packed(frame))
}

/// Checksums of every frame of a file, in order, asserting indexes 0, 1, 2, ….
pub fn checksums(path: &Path) -> Vec<u64> {
    let mut d = Decoder::open(path).expect("open decoder");
    let mut out = Vec::new();
    while let Some(f) = d.next_frame().expect("decode") {
        assert_eq!(f.index, out.len() as u64, "display-order index");
        out.push(checksum(&f));
    }
    out
}

/// Sample of plane `i` at (x, y) in that plane's coordinates.
pub fn at(frame: &VideoFrame, i: usize, x: usize, y: usize) -> u8 {
    frame.plane(i)[y * frame.stride(i) + x]
}

/// A frame filled with one YUV colour.
pub fn solid(w: u32, h: u32, yuv: [u8; 3]) -> VideoFrame {
    let (cw, ch) = (w.div_ceil(2) as usize, h.div_ceil(2) as usize);
    let y = vec![yuv[0]; w as usize * h as usize];
    let u = vec![yuv[1]; cw * ch];
    let v = vec![yuv[2]; cw * ch];
    VideoFrame::from_planes(w, h, [&y, &u, &v], [w as usize, cw, cw]).expect("frame")
}

/// Raw yuv420p frames decoded by the ffmpeg CLI (with its default autorotation).
pub fn ffmpeg_raw_frames(path: &Path, frames: u32) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-frames:v",
            &frames.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success());
    out.stdout
}

/// A scratch directory for outputs.
pub fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Files in a directory (to prove nothing partial was left behind).
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `ffprobe` output for a file (for checks independent of this crate).
pub fn ffprobe(path: &Path, args: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(args)
        .arg(path)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout).into_owned()
}
