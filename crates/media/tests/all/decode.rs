//! `Decoder` and `StillSource`: frame counts, display-order indexes and timestamps, seeking,
//! pixel-format conversion, rotation.

use crate::common::*;
use framejet_media::{ColorMatrix, Decoder, HwDecode, Rational, StillSource};

#[test]
fn decodes_every_frame_in_order() {
    let mut d = Decoder::open(video_320()).unwrap();
    let mut n = 0u64;
    while let Some(f) = d.next_frame().unwrap() {
        assert_eq!(f.index, n);
        assert_eq!(f.pts_us, n as i64 * 40_000);
        assert_eq!((f.width(), f.height()), (320, 240));
        n += 1;
    }
    assert_eq!(n, 50);
    // After the end it stays at the end.
    assert!(d.next_frame().unwrap().is_none());
}

#[test]
fn matches_the_ffmpeg_cli() {
    // Every frame of streams that reorder frames (B-frames), in MP4 and in Matroska, which the
    // decoder opens without FFmpeg's stream analysis (the probe ran it).
    for p in [video_320(), b_frames_mkv()] {
        let info = framejet_media::probe(&p).unwrap();
        assert!(info.video.reorder_depth > Some(0), "{}", p.display());
        let frames = info.video.frame_count as u32;
        let raw = ffmpeg_raw_frames(&p, frames);
        let mut d = Decoder::open(&p).unwrap();
        let mut ours = Vec::new();
        while let Some(f) = d.next_frame().unwrap() {
            ours.extend(packed(&f));
        }
        assert_eq!(ours.len(), raw.len(), "{}", p.display());
        assert!(ours == raw, "{}: frames differ from FFmpeg's", p.display());
        // A probe recorded without the depth (an older plan's) has the decoder analyse.
        let mut probe = framejet_media::probe_input(&p).unwrap();
        probe.info.video.reorder_depth = None;
        let mut d = Decoder::open_probed(&p, &probe).unwrap();
        let mut analysed = Vec::new();
        while let Some(f) = d.next_frame().unwrap() {
            analysed.extend(packed(&f));
        }
        assert!(
            analysed == raw,
            "{}: frames differ from FFmpeg's",
            p.display()
        );
    }
}

/// H.264 in Matroska, 50 frames at 160x120 with up to three B-frames between references.
fn b_frames_mkv() -> std::path::PathBuf {
    ffmpeg_fixture(
        "seek.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "3",
            "-g",
            "10",
            "-sc_threshold",
            "0",
        ],
    )
}

#[test]
fn seek_gives_the_same_pixels_as_decoding_from_the_start() {
    let p = video_320();
    let all = checksums(&p);
    let mut d = Decoder::open(&p).unwrap();
    // Forward, backward, onto keyframes, just before/after them, the last frame, the first.
    for target in [37u64, 3, 25, 24, 26, 49, 0, 12] {
        d.seek_to_frame(target).unwrap();
        for k in 0..3u64 {
            let want = target + k;
            match d.next_frame().unwrap() {
                Some(f) => {
                    assert_eq!(f.index, want, "after seek to {target}");
                    assert_eq!(
                        checksum(&f),
                        all[want as usize],
                        "pixels of frame {want} after seek to {target}"
                    );
                }
                None => assert!(want >= 50),
            }
        }
    }
    let e = d.seek_to_frame(50).unwrap_err();
    assert!(e.to_string().contains("past the end"), "{e}");
}

#[test]
fn seek_in_matroska() {
    let p = b_frames_mkv();
    let all = checksums(&p);
    assert_eq!(all.len(), 50);
    let mut d = Decoder::open(&p).unwrap();
    for target in [33u64, 10, 9, 48, 1] {
        d.seek_to_frame(target).unwrap();
        let f = d.next_frame().unwrap().unwrap();
        assert_eq!(f.index, target);
        assert_eq!(checksum(&f), all[target as usize]);
    }
}

#[test]
fn converts_other_pixel_formats_to_yuv420p() {
    // 4:4:4 at an odd size, and 10-bit.
    let odd = sized(
        "odd444.mp4",
        640,
        360,
        &["-vf", "scale=641:359,format=yuv444p"],
    );
    let mut d = Decoder::open(&odd).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!((f.width(), f.height()), (641, 359));
    assert_eq!((f.plane_width(1), f.plane_height(1)), (321, 180));
    assert_eq!(d.count() + 1, 25);

    let ten = sized("ten.mkv", 320, 240, &["-pix_fmt", "yuv420p10le"]);
    let ours = {
        let mut d = Decoder::open(&ten).unwrap();
        packed(&d.next_frame().unwrap().unwrap())
    };
    let cli = ffmpeg_raw_frames(&ten, 1);
    assert_eq!(ours.len(), cli.len());
    let mean_diff: f64 = ours
        .iter()
        .zip(&cli)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .sum::<f64>()
        / ours.len() as f64;
    assert!(
        mean_diff < 1.0,
        "10-bit conversion differs from ffmpeg by {mean_diff} on average"
    );

    // Odd size without conversion (FFV1 yuv420p).
    let odd420 = ffmpeg_fixture(
        "odd420.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360:rate=25:duration=1",
            "-vf",
            "scale=641:359,format=yuv420p",
            "-c:v",
            "ffv1",
        ],
    );
    let mut d = Decoder::open(&odd420).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    assert_eq!(packed(&f), ffmpeg_raw_frames(&odd420, 1));
}

#[test]
fn full_range_input_is_converted_to_limited() {
    let p = ffmpeg_fixture(
        "fullrange.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=white:size=64x64:rate=25:duration=0.2",
            "-vf",
            "scale=out_range=full,format=yuvj420p",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
        ],
    );
    let mut d = Decoder::open(&p).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    let y = at(&f, 0, 10, 10);
    assert!(
        (233..=236).contains(&y),
        "white should be Y≈235 in limited range, got {y}"
    );
}

#[test]
fn rotation_is_applied() {
    let src = video_320();
    let src_s = src.to_string_lossy().into_owned();
    for deg in [90, 180, 270] {
        let p = ffmpeg_fixture(
            &format!("rot{deg}.mp4"),
            &[
                "-i",
                &src_s,
                "-c",
                "copy",
                "-metadata:s:v:0",
                &format!("rotate={deg}"),
            ],
        );
        let mut d = Decoder::open(&p).unwrap();
        let f = d.next_frame().unwrap().unwrap();
        let (w, h) = if deg == 180 { (320, 240) } else { (240, 320) };
        assert_eq!((f.width(), f.height()), (w, h), "rotate={deg}");
        // The ffmpeg CLI autorotates: our upright frame must be identical.
        assert_eq!(packed(&f), ffmpeg_raw_frames(&p, 1), "rotate={deg}");
    }
}

#[test]
fn still_source_shares_one_buffer() {
    let png = ffmpeg_fixture(
        "still.png",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=300x200",
            "-frames:v",
            "1",
        ],
    );
    let still = StillSource::open(&png, ColorMatrix::Bt601).unwrap();
    assert_eq!((still.width(), still.height()), (300, 200));
    let frames: Vec<_> = still.frames(75, Rational::new(25, 1)).collect();
    assert_eq!(frames.len(), 75);
    assert_eq!(frames[74].index, 74);
    assert_eq!(frames[74].pts_us, 2_960_000);
    assert!(std::ptr::eq(
        frames[0].plane(0).as_ptr(),
        frames[74].plane(0).as_ptr()
    ));
    // Writing to one copies it first; the others keep the picture.
    let mut one = frames[1].clone();
    one.plane_mut(0)[0] = 0;
    assert!(!std::ptr::eq(
        one.plane(0).as_ptr(),
        frames[0].plane(0).as_ptr()
    ));
    assert_eq!(checksum(&frames[0]), checksum(&frames[2]));
    // Close to the ffmpeg CLI's own conversion of the PNG.
    let cli = ffmpeg_raw_frames(&png, 1);
    let ours = packed(&frames[0]);
    let mean_diff: f64 = ours
        .iter()
        .zip(&cli)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .sum::<f64>()
        / ours.len() as f64;
    assert!(
        mean_diff < 2.0,
        "still conversion differs from ffmpeg by {mean_diff} on average"
    );
}

#[test]
fn frames_cross_threads() {
    let mut d = Decoder::open(video_320()).unwrap();
    let f = d.next_frame().unwrap().unwrap();
    let sum = checksum(&f);
    let back = std::thread::spawn(move || (checksum(&f), f))
        .join()
        .unwrap();
    assert_eq!(back.0, sum);
    // The decoder itself can move too.
    let n = std::thread::spawn(move || d.count()).join().unwrap();
    assert_eq!(n, 49);
}

#[test]
fn nvdec_gives_the_cpu_decoders_frames_or_says_why_it_is_not_used() {
    // H.264 decoding is exact: NVDEC's frames, copied to memory and converted, equal the CPU
    // decoder's. Without a CUDA device the decoder runs on the CPU and says why.
    let clip = video_320();
    let mut d = Decoder::open_with(&clip, None, HwDecode::Cuda(0)).unwrap();
    let mut sums = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        sums.push(checksum(&f));
    }
    assert_eq!(sums, checksums(&clip));
    match d.hw_fallback() {
        Some(why) => {
            println!("skipped NVDEC: {why}");
            assert!(why.contains("CUDA"), "{why}");
            assert_eq!(d.hw_frames(), 0);
        }
        None => assert_eq!(d.hw_frames(), sums.len() as u64, "every frame on NVDEC"),
    }
}
