//! Helpers for the end-to-end tests: the `framejet` binary, media made with
//! the FFmpeg CLI, and decoded-frame checksums as the oracle.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `framejet` binary cargo built beside this test.
pub fn framejet_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join(format!("framejet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is missing: build the workspace first",
        bin.display()
    );
    bin
}

/// Runs `framejet` with `args`.
pub fn framejet(args: &[&str]) -> Output {
    Command::new(framejet_bin())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run framejet")
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs the FFmpeg CLI quietly; panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// MD5 of every decoded video frame, in order (`ffmpeg -f framemd5`).
pub fn frame_md5s(path: &Path) -> Vec<String> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:v:0", "-pix_fmt", "yuv420p", "-f", "framemd5", "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|s| s.trim().to_string()))
        .collect()
}

/// One decoded frame as RGB24 rows (`width * 3` bytes each).
pub fn frame_rgb(path: &Path, index: u32) -> (u32, u32, Vec<u8>) {
    let (w, h) = video_size(path);
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-vf", &format!("select=eq(n\\,{index})"), "-frames:v", "1"])
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        out.stdout.len(),
        (w * h * 3) as usize,
        "frame {index} of {}",
        path.display()
    );
    (w, h, out.stdout)
}

/// The RGB value at (`x`, `y`) of an RGB24 frame.
pub fn pixel(frame: &(u32, u32, Vec<u8>), x: u32, y: u32) -> [u8; 3] {
    let i = ((y * frame.0 + x) * 3) as usize;
    [frame.2[i], frame.2[i + 1], frame.2[i + 2]]
}

/// Whether two colours are within `tol` on every channel.
pub fn near(a: [u8; 3], b: [u8; 3], tol: u8) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= tol)
}

fn ffprobe(path: &Path, entries: &[&str]) -> String {
    let out = Command::new("ffprobe")
        .args(["-v", "error"])
        .args(entries)
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Width and height of the first video stream.
pub fn video_size(path: &Path) -> (u32, u32) {
    let s = ffprobe(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
        ],
    );
    let mut it = s.lines().map(|l| l.trim().parse::<u32>().expect("size"));
    (it.next().expect("width"), it.next().expect("height"))
}

/// Duration in seconds of the first stream of `kind` (`v` or `a`), from its
/// packets (the last packet's end), `None` without such a stream.
pub fn stream_duration(path: &Path, kind: &str) -> Option<f64> {
    let s = ffprobe(
        path,
        &[
            "-select_streams",
            &format!("{kind}:0"),
            "-show_entries",
            "packet=pts_time,duration_time",
        ],
    );
    let values: Vec<f64> = s.lines().filter_map(|l| l.trim().parse().ok()).collect();
    values
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| c[0] + c[1])
        .fold(None, |m: Option<f64>, e| Some(m.map_or(e, |m| m.max(e))))
}

/// Writes a job spec as JSON into `dir` and returns its path.
pub fn write_job(dir: &Path, name: &str, job: &serde_json::Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(job).expect("json")).expect("write job");
    path
}

/// Every decoded frame's luma plane (`width * height` bytes each).
pub fn luma_frames(path: &Path) -> Vec<Vec<u8>> {
    let (w, h) = video_size(path);
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "gray", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks((w * h) as usize)
        .map(<[u8]>::to_vec)
        .collect()
}

/// PSNR in dB between two sets of luma frames over the pixels where
/// `inside(x, y)` holds.
pub fn psnr_where(
    a: &[Vec<u8>],
    b: &[Vec<u8>],
    width: u32,
    inside: impl Fn(u32, u32) -> bool,
) -> f64 {
    let (mut sum, mut n) = (0.0f64, 0u64);
    for (fa, fb) in a.iter().zip(b) {
        for (i, (&pa, &pb)) in fa.iter().zip(fb).enumerate() {
            let (x, y) = (i as u32 % width, i as u32 / width);
            if inside(x, y) {
                let d = f64::from(pa) - f64::from(pb);
                sum += d * d;
                n += 1;
            }
        }
    }
    let mse = sum / n.max(1) as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// A `size` (`"320x240"`) test-pattern clip of `frames` frames at 30 fps,
/// H.264 with a keyframe every 10 frames, with a sine tone when `audio`.
pub fn testsrc_clip(dir: &Path, name: &str, size: &str, frames: u32, audio: bool) -> PathBuf {
    let path = dir.join(name);
    let secs = format!("{}", frames as f64 / 30.0);
    let source = format!("testsrc2=s={size}:rate=30");
    let mut args = vec!["-f", "lavfi", "-i", &source];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=500:sample_rate=48000"]);
    }
    args.extend([
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
    ]);
    if audio {
        args.extend(["-c:a", "aac"]);
    }
    let out = path.to_str().expect("utf-8 path");
    args.push(out);
    ffmpeg(&args);
    path
}
