//! `probe`: sizes, frame counts and keyframes from the packet scan, frame rates, rotation,
//! audio, stills.

use crate::common::*;
use framejet_media::{MediaKind, Rational, probe};

#[test]
fn video_with_audio() {
    let info = probe(video_320()).unwrap();
    assert_eq!(info.kind, MediaKind::Video);
    assert!(info.container.contains("mp4"), "{}", info.container);
    let v = &info.video;
    assert_eq!((v.width, v.height), (320, 240));
    assert_eq!(
        (v.display_width, v.display_height, v.rotation),
        (320, 240, 0)
    );
    assert_eq!(v.codec, "h264");
    assert_eq!(v.pixel_format, "yuv420p");
    assert_eq!(v.frame_rate, Rational::new(25, 1));
    assert!(!v.variable_frame_rate);
    assert_eq!(v.frame_count, 50);
    assert_eq!(v.keyframes, vec![0, 25]);
    assert_eq!(v.duration_us, 2_000_000);
    let a = info.audio.expect("audio stream");
    assert_eq!(a.codec, "aac");
    assert_eq!(a.sample_rate, 44_100);
    assert_eq!(a.channels, 1);
    assert_eq!(a.channel_layout, "mono");
    assert!(
        (a.duration_us - 2_000_000).abs() < 30_000,
        "{}",
        a.duration_us
    );
    // Serialises for `framejet probe --json`.
    let json = serde_json::to_value(probe(video_320()).unwrap()).unwrap();
    assert_eq!(json["video"]["frame_count"], 50);
    assert_eq!(json["kind"], "video");
    assert_eq!(json["video"]["frame_rate"]["num"], 25);
}

#[test]
fn sizes_and_counts() {
    for (name, w, h) in [
        ("v720.mp4", 1280, 720),
        ("v1080.mp4", 1920, 1080),
        ("portrait.mp4", 720, 1280),
    ] {
        let info = probe(sized(name, w, h, &["-pix_fmt", "yuv420p"])).unwrap();
        assert_eq!((info.video.width, info.video.height), (w, h), "{name}");
        assert_eq!(info.video.frame_count, 25, "{name}");
        assert_eq!(info.video.keyframes[0], 0, "{name}");
        assert!(info.audio.is_none());
    }
    let odd = probe(sized(
        "odd444.mp4",
        640,
        360,
        &["-vf", "scale=641:359,format=yuv444p"],
    ))
    .unwrap();
    assert_eq!((odd.video.width, odd.video.height), (641, 359));
    assert_eq!(odd.video.pixel_format, "yuv444p");
}

#[test]
fn ntsc_rate_is_exact() {
    let p = ffmpeg_fixture(
        "ntsc.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=30000/1001:duration=1",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let info = probe(p).unwrap();
    assert_eq!(info.video.frame_rate, Rational::new(30000, 1001));
    assert!(!info.video.variable_frame_rate);
    assert_eq!(info.video.frame_count, 30);
}

#[test]
fn variable_frame_rate_is_flagged() {
    let p = ffmpeg_fixture(
        "vfr.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=2",
            "-vf",
            "setpts='(N+if(gte(N,25),N-25,0))/(25*TB)'",
            "-fps_mode",
            "passthrough",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let info = probe(p).unwrap();
    assert!(info.video.variable_frame_rate);
    assert_eq!(info.video.frame_count, 50);
}

#[test]
fn rotation_from_display_matrix() {
    let src = video_320();
    let src_s = src.to_string_lossy().into_owned();
    let p = ffmpeg_fixture(
        "rot90.mp4",
        &["-i", &src_s, "-c", "copy", "-metadata:s:v:0", "rotate=90"],
    );
    let info = probe(p).unwrap();
    assert_eq!(info.video.rotation, 90);
    assert_eq!((info.video.width, info.video.height), (320, 240));
    assert_eq!(
        (info.video.display_width, info.video.display_height),
        (240, 320)
    );
}

#[test]
fn stills() {
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
    let jpg = ffmpeg_fixture(
        "still.jpg",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=300x200",
            "-vf",
            "scale=301:199",
            "-frames:v",
            "1",
        ],
    );
    let info = probe(&png).unwrap();
    assert_eq!(info.kind, MediaKind::Still);
    assert_eq!(info.container, "png");
    assert_eq!((info.video.width, info.video.height), (300, 200));
    assert_eq!(info.video.frame_count, 1);
    let info = probe(&jpg).unwrap();
    assert_eq!(info.kind, MediaKind::Still);
    assert_eq!(info.container, "jpeg");
    assert_eq!(
        (info.video.display_width, info.video.display_height),
        (301, 199)
    );
}
