//! Bad inputs: each gives one clear error naming the file, never a panic, and leaves no
//! partial output behind.

use std::path::{Path, PathBuf};

use crate::common::*;
use framejet_media::{
    ColorMatrix, ConcatOptions, Decoder, Encoder, EncoderSettings, HwAccel, MediaError,
    RateControl, Rational, StillSource, concat_segments, probe,
};

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The error from both `probe` and `Decoder::open`, checked to name the file.
fn both_fail(p: &Path) -> (MediaError, MediaError) {
    let e1 = probe(p).expect_err("probe must fail");
    let e2 = Decoder::open(p).err().expect("decoder must fail");
    for e in [&e1, &e2] {
        assert!(
            e.to_string().contains(&name(p)),
            "error does not name the file: {e}"
        );
    }
    (e1, e2)
}

#[test]
fn missing_file() {
    let p = fixture_dir().join("does-not-exist.mp4");
    let (e, _) = both_fail(&p);
    assert!(matches!(e, MediaError::NotFound { .. }), "{e}");
    assert!(e.to_string().contains("file not found"));
}

#[test]
fn empty_file() {
    let p = derived_fixture("empty.mp4", |t| std::fs::write(t, b"").unwrap());
    let (e, _) = both_fail(&p);
    assert!(matches!(e, MediaError::Empty { .. }), "{e}");
}

#[test]
fn random_bytes() {
    let p = derived_fixture("random.mp4", |t| {
        let mut x: u64 = 0x9E3779B97F4A7C15;
        let bytes: Vec<u8> = (0..64 * 1024)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        std::fs::write(t, bytes).unwrap();
    });
    let (e, _) = both_fail(&p);
    assert!(
        matches!(
            e,
            MediaError::NotMedia { .. } | MediaError::Corrupt { .. } | MediaError::NoVideo { .. }
        ),
        "{e}"
    );
}

#[test]
fn audio_only_has_no_video() {
    let p = audio_only();
    let (e, _) = both_fail(&p);
    assert!(matches!(e, MediaError::NoVideo { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("input `{}`: no video stream", p.display())
    );
}

#[test]
fn directory() {
    let dir = scratch();
    let (e, _) = both_fail(dir.path());
    assert!(matches!(e, MediaError::Io { .. }), "{e}");
}

fn truncated(name: &str, faststart: bool) -> PathBuf {
    let src = if faststart {
        video_320()
    } else {
        sized("v320-moov-at-end.mp4", 320, 240, &["-pix_fmt", "yuv420p"])
    };
    derived_fixture(name, |t| {
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(t, &bytes[..bytes.len() / 2]).unwrap();
    })
}

#[test]
fn truncated_with_index_up_front() {
    // The index (moov) survives, the media data is cut: probe sees the missing frames.
    let p = truncated("trunc-faststart.mp4", true);
    let (e, _) = both_fail(&p);
    assert!(matches!(e, MediaError::Corrupt { .. }), "{e}");
}

#[test]
fn truncated_with_index_at_end() {
    // The index is lost: FFmpeg cannot read the file at all.
    let p = truncated("trunc-moov-end.mp4", false);
    let (e, _) = both_fail(&p);
    assert!(
        matches!(e, MediaError::NotMedia { .. } | MediaError::Corrupt { .. }),
        "{e}"
    );
}

#[test]
fn truncated_matroska_stops_with_an_error_or_cleanly() {
    // Matroska has no frame count up front: probe counts what is there; decoding it must not
    // panic and must end (with an error, or after the frames that exist).
    let src = ffmpeg_fixture(
        "v320.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
        ],
    );
    let p = derived_fixture("trunc.mkv", |t| {
        let bytes = std::fs::read(&src).unwrap();
        std::fs::write(t, &bytes[..bytes.len() / 2]).unwrap();
    });
    match Decoder::open(&p) {
        Err(e) => assert!(e.to_string().contains("trunc.mkv"), "{e}"),
        Ok(mut d) => {
            let count = d.info().video.frame_count;
            assert!(count < 50);
            let mut n = 0;
            loop {
                match d.next_frame() {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => break,
                    Err(e) => {
                        assert!(e.to_string().contains("trunc.mkv"), "{e}");
                        break;
                    }
                }
            }
            assert!(n <= count);
        }
    }
}

#[test]
fn bad_still() {
    let p = derived_fixture("broken.png", |t| {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0u8; 40]);
        std::fs::write(t, bytes).unwrap();
    });
    let e = StillSource::open(&p, ColorMatrix::Bt601).expect_err("must fail");
    assert!(e.to_string().contains("broken.png"), "{e}");
    assert!(probe(&p).is_err());
}

#[test]
fn encoder_errors_leave_nothing() {
    let dir = scratch();
    let settings = EncoderSettings {
        hw: HwAccel::Cpu,
        ..EncoderSettings::default()
    };
    // Odd size.
    let e = Encoder::create(
        dir.path().join("odd.mp4"),
        None,
        321,
        240,
        Rational::new(25, 1),
        &settings,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("odd.mp4"), "{e}");
    // H.264 in WebM.
    let e = Encoder::create(
        dir.path().join("x.webm"),
        None,
        320,
        240,
        Rational::new(25, 1),
        &settings,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("webm"), "{e}");
    // Unknown codec.
    let bad = EncoderSettings {
        codec: "nope".into(),
        ..settings.clone()
    };
    let e = Encoder::create(
        dir.path().join("n.mp4"),
        None,
        320,
        240,
        Rational::new(25, 1),
        &bad,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("nope"), "{e}");
    // Unknown container.
    let e = Encoder::create(
        dir.path().join("x.avi"),
        None,
        320,
        240,
        Rational::new(25, 1),
        &settings,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("x.avi"), "{e}");
    // Bad preset.
    let bad = EncoderSettings {
        preset: Some("warp-speed".into()),
        ..settings.clone()
    };
    let e = Encoder::create(
        dir.path().join("p.mp4"),
        None,
        320,
        240,
        Rational::new(25, 1),
        &bad,
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("p.mp4"), "{e}");
    // Dropped without finish.
    let mut enc = Encoder::create(
        dir.path().join("dropped.mp4"),
        None,
        64,
        64,
        Rational::new(25, 1),
        &EncoderSettings {
            rate: RateControl::Crf(30),
            ..settings.clone()
        },
    )
    .unwrap();
    enc.push(&solid(64, 64, [100, 128, 128])).unwrap();
    // Wrong frame size.
    let e = enc.push(&solid(32, 32, [100, 128, 128])).unwrap_err();
    assert!(e.to_string().contains("dropped.mp4"), "{e}");
    drop(enc);
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn concat_errors_leave_nothing() {
    let dir = scratch();
    let out = dir.path().join("out.mp4");
    // A segment that is not media.
    let bad = derived_fixture("not-a-segment.mp4", |t| {
        std::fs::write(t, b"hello, not a video").unwrap()
    });
    let e =
        concat_segments(std::slice::from_ref(&bad), &out, &ConcatOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not-a-segment.mp4"), "{e}");
    // Mismatched sizes.
    let a = sized("seg-a.mp4", 320, 240, &["-pix_fmt", "yuv420p"]);
    let b = sized("seg-b.mp4", 160, 120, &["-pix_fmt", "yuv420p"]);
    let e = concat_segments(&[a.clone(), b.clone()], &out, &ConcatOptions::default()).unwrap_err();
    assert!(e.to_string().contains("seg-b.mp4"), "{e}");
    // A bad audio source.
    let opts = ConcatOptions {
        audio: vec![framejet_media::AudioSource::file(&bad, 500_000, 1_000_000)],
        ..ConcatOptions::default()
    };
    let e = concat_segments(std::slice::from_ref(&a), &out, &opts).unwrap_err();
    assert!(e.to_string().contains("not-a-segment.mp4"), "{e}");
    // Missing segment.
    let e = concat_segments(
        &[a, dir.path().join("missing.mp4")],
        &out,
        &ConcatOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing.mp4"), "{e}");
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[test]
fn damaged_middle_keeps_frame_count_or_fails_clearly() {
    // Noise over part of the media data: the container is intact, some frames are not.
    let src = video_320();
    let p = derived_fixture("damaged.mp4", |t| {
        let mut bytes = std::fs::read(&src).unwrap();
        let start = bytes.len() * 3 / 5;
        let mut x: u32 = 0xDEADBEEF;
        for b in &mut bytes[start..start + 3000] {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        std::fs::write(t, bytes).unwrap();
    });
    let mut d = match Decoder::open(&p) {
        Ok(d) => d,
        Err(e) => {
            assert!(e.to_string().contains("damaged.mp4"), "{e}");
            return;
        }
    };
    let mut n = 0u64;
    loop {
        match d.next_frame() {
            Ok(Some(f)) => {
                assert_eq!(f.index, n);
                n += 1;
            }
            Ok(None) => {
                assert_eq!(n, 50);
                break;
            }
            Err(e) => {
                assert!(e.to_string().contains("damaged.mp4"), "{e}");
                break;
            }
        }
    }
}
