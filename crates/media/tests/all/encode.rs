//! `Encoder`: lossless round trips (x264 qp 0 in mp4, FFV1 in mkv), CFR timing, keyframe at
//! the start, other codecs, NVENC fallback.

use crate::common::*;
use framejet_media::{
    Decoder, EncodeStats, Encoder, EncoderSettings, HwAccel, RateControl, Rational, VideoFrame,
    probe,
};

fn lossless_x264() -> EncoderSettings {
    EncoderSettings {
        codec: "h264".into(),
        rate: RateControl::Crf(0),
        preset: Some("ultrafast".into()),
        gop: None,
        hw: HwAccel::Cpu,
        threads: Some(2),
    }
}

/// Decodes `src` frames `range` and encodes them into `out`.
pub fn encode_range(
    src: &std::path::Path,
    range: std::ops::Range<u64>,
    out: &std::path::Path,
    s: &EncoderSettings,
) -> EncodeStats {
    let mut d = Decoder::open(src).unwrap();
    let info = d.info().video.clone();
    d.seek_to_frame(range.start).unwrap();
    let mut enc = Encoder::create(
        out,
        None,
        info.display_width,
        info.display_height,
        info.frame_rate,
        s,
    )
    .unwrap();
    while let Some(f) = d.next_frame().unwrap() {
        if f.index >= range.end {
            break;
        }
        enc.push(&f).unwrap();
    }
    enc.finish().unwrap()
}

#[test]
fn lossless_x264_round_trip() {
    let src = video_320();
    let want = checksums(&src);
    let dir = scratch();
    let out = dir.path().join("lossless.mp4");
    let stats = encode_range(&src, 0..50, &out, &lossless_x264());
    assert_eq!(stats.frames, 50);
    assert_eq!(stats.encoder, "libx264");
    assert!(stats.bytes > 0);
    assert_eq!(checksums(&out), want);
    let info = probe(&out).unwrap();
    assert_eq!(info.video.frame_count, 50);
    assert_eq!(info.video.frame_rate, Rational::new(25, 1));
    assert!(!info.video.variable_frame_rate);
    assert_eq!(info.video.keyframes[0], 0);
    assert_eq!(info.video.duration_us, 2_000_000);
    // Only the output is there (the temporary file was renamed).
    assert_eq!(files_in(dir.path()), vec!["lossless.mp4".to_string()]);
}

#[test]
fn lossless_ffv1_round_trip_and_cfr_retiming() {
    // A VFR source comes out CFR with the same frames.
    let src = ffmpeg_fixture(
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
    let want = checksums(&src);
    let dir = scratch();
    let out = dir.path().join("lossless.mkv");
    let s = EncoderSettings {
        codec: "ffv1".into(),
        ..lossless_x264()
    };
    let mut d = Decoder::open(&src).unwrap();
    let mut enc = Encoder::create(&out, None, 160, 120, Rational::new(25, 1), &s).unwrap();
    while let Some(f) = d.next_frame().unwrap() {
        enc.push(&f).unwrap();
    }
    assert_eq!(enc.finish().unwrap().frames, 50);
    assert_eq!(checksums(&out), want);
    let info = probe(&out).unwrap();
    assert!(!info.video.variable_frame_rate);
    assert_eq!(info.video.frame_count, 50);
}

#[test]
fn mp4_cannot_hold_ffv1() {
    let dir = scratch();
    let s = EncoderSettings {
        codec: "ffv1".into(),
        ..lossless_x264()
    };
    let e = Encoder::create(
        dir.path().join("x.mp4"),
        None,
        64,
        64,
        Rational::new(25, 1),
        &s,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("ffv1"), "{e}");
}

#[test]
fn other_codecs_produce_decodable_files() {
    let dir = scratch();
    let frames: Vec<VideoFrame> = (0..8u8)
        .map(|i| solid(64, 64, [40 + i * 20, 100, 150]))
        .collect();
    for (codec, file, preset) in [
        ("hevc", "h.mp4", Some("ultrafast")),
        ("vp9", "v.webm", Some("8")),
        ("av1", "a.mp4", Some("12")),
        ("h264", "b.mkv", None),
    ] {
        let s = EncoderSettings {
            codec: codec.into(),
            rate: RateControl::Bitrate {
                target_kbps: 300,
                max_kbps: Some(600),
            },
            preset: preset.map(Into::into),
            gop: Some(4),
            hw: HwAccel::Cpu,
            threads: Some(1),
        };
        let out = dir.path().join(file);
        let mut enc = Encoder::create(&out, None, 64, 64, Rational::new(30000, 1001), &s).unwrap();
        for f in &frames {
            enc.push(f).unwrap();
        }
        assert_eq!(enc.finish().unwrap().frames, 8, "{codec}");
        let info = probe(&out).unwrap();
        assert_eq!(info.video.frame_count, 8, "{codec}");
        assert_eq!(info.video.keyframes[0], 0, "{codec}");
        assert_eq!(checksums(&out).len(), 8, "{codec}");
    }
}

#[test]
fn nvenc_falls_back_or_fails_as_asked() {
    let dir = scratch();
    let auto = EncoderSettings {
        hw: HwAccel::Auto,
        rate: RateControl::Crf(28),
        ..lossless_x264()
    };
    let mut enc = Encoder::create(
        dir.path().join("auto.mp4"),
        None,
        64,
        64,
        Rational::new(25, 1),
        &auto,
    )
    .unwrap();
    let name = enc.encoder_name().to_string();
    assert!(name == "libx264" || name == "h264_nvenc", "{name}");
    enc.push(&solid(64, 64, [100, 128, 128])).unwrap();
    enc.finish().unwrap();
    let forced = EncoderSettings {
        hw: HwAccel::Nvenc,
        ..auto
    };
    match Encoder::create(
        dir.path().join("nv.mp4"),
        None,
        64,
        64,
        Rational::new(25, 1),
        &forced,
    ) {
        // A machine with an NVIDIA GPU.
        Ok(enc) => assert_eq!(enc.encoder_name(), "h264_nvenc"),
        Err(e) => {
            assert_eq!(
                name, "libx264",
                "auto picked nvenc but forced nvenc failed: {e}"
            );
            assert!(e.to_string().contains("nv.mp4"), "{e}");
            assert!(!dir.path().join("nv.mp4").exists());
        }
    }
}
