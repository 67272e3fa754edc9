//! `concat_segments`: frame-exact joins, audio copied or rebuilt item by item, metadata.

use crate::common::*;
use crate::encode::encode_range;
use framejet_media::{
    AudioSource, ConcatOptions, Container, EncoderSettings, HwAccel, Metadata, RateControl,
    parse_bitrate, probe,
};

fn lossless() -> EncoderSettings {
    EncoderSettings {
        codec: "h264".into(),
        rate: RateControl::Crf(0),
        preset: Some("ultrafast".into()),
        gop: None,
        hw: HwAccel::Cpu,
        threads: Some(2),
    }
}

/// Decoded audio of a file (ffmpeg CLI, mono 48 kHz s16).
fn decoded_audio(path: &std::path::Path) -> Vec<i16> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        .args([
            "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000", "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Audio duration of a file as decoded by the ffmpeg CLI (priming and edit lists applied), µs.
fn decoded_audio_us(path: &std::path::Path) -> i64 {
    decoded_audio(path).len() as i64 * 1_000_000 / 48_000
}

#[test]
fn three_segments_join_frame_exactly_with_copied_audio() {
    let src = video_320();
    let dir = scratch();
    // Segment boundaries off the source keyframes on purpose: each segment starts with its
    // own IDR anyway.
    let segs: Vec<_> = [(0u64, 25u64), (25, 40), (40, 50)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let p = dir.path().join(format!("seg{i}.mp4"));
            assert_eq!(encode_range(&src, a..b, &p, &lossless()).frames, b - a);
            p
        })
        .collect();
    let single = dir.path().join("single.mp4");
    encode_range(&src, 0..50, &single, &lossless());

    let out = dir.path().join("out.mp4");
    let opts = ConcatOptions {
        audio: vec![AudioSource::file(&src, 0, 2_000_000)],
        metadata: Metadata {
            title: Some("Joined".into()),
        },
        ..ConcatOptions::default()
    };
    let stats = framejet_media::concat_segments(&segs, &out, &opts).unwrap();
    assert_eq!(stats.frames, 50);
    assert_eq!(stats.video_duration_us, 2_000_000);
    assert!(stats.audio_copied);
    assert_eq!(checksums(&out), checksums(&single));
    assert_eq!(checksums(&out), checksums(&src));

    let info = probe(&out).unwrap();
    assert_eq!(info.video.frame_count, 50);
    assert_eq!(info.video.frame_rate.num, 25);
    let audio = info.audio.expect("audio track");
    assert_eq!(audio.codec, "aac");
    let a = decoded_audio_us(&out);
    assert!(
        (a - info.video.duration_us).abs() <= 40_000,
        "audio {a} µs vs video {} µs",
        info.video.duration_us
    );
    let tags = ffprobe(
        &out,
        &["-show_entries", "format_tags", "-of", "default=nw=1"],
    );
    assert!(tags.contains("TAG:title=Joined"), "{tags}");
    assert!(tags.contains("TAG:encoder=framejet"), "{tags}");
}

#[test]
fn compilation_audio_is_rebuilt_item_by_item() {
    // Three items: 1 s of the source from 0.5 s, 0.6 s of silence (a still), 0.4 s of a
    // 48 kHz audio-only file. Video: 50 frames at 25 fps = 2 s.
    let src = video_320();
    let dir = scratch();
    let segs: Vec<_> = [(0u64, 20u64), (20, 50)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let p = dir.path().join(format!("seg{i}.mp4"));
            encode_range(&src, a..b, &p, &lossless());
            p
        })
        .collect();
    let timeline = vec![
        AudioSource::file(&src, 500_000, 1_000_000),
        AudioSource::silence(600_000),
        AudioSource::file(audio_only(), 0, 400_000),
    ];
    // The timeline encoded ahead, as a job does beside its segments, then copied by the join.
    let track = dir.path().join("track.m4a");
    let made = framejet_media::encode_audio(
        &timeline,
        &track,
        Container::Mp4,
        parse_bitrate("320k").unwrap(),
        &|| false,
    )
    .unwrap();
    assert_eq!(made.duration_us, 2_000_000);
    assert!(made.bytes > 0);
    let mut lengths = Vec::new();
    for (container, file, codec, pre_encoded) in [
        (None, "out.mkv", "aac", false),
        (Some(Container::Mp4), "out.bin", "aac", false),
        (None, "pre.mkv", "aac", true),
        (None, "pre.mp4", "aac", true),
    ] {
        let out = dir.path().join(file);
        let opts = ConcatOptions {
            container,
            audio: if pre_encoded {
                Vec::new()
            } else {
                timeline.clone()
            },
            audio_track: pre_encoded.then(|| track.clone()),
            audio_bitrate: parse_bitrate("320k").unwrap(),
            metadata: Metadata::default(),
        };
        let stats = framejet_media::concat_segments(&segs, &out, &opts).unwrap();
        assert_eq!(stats.frames, 50);
        assert_eq!(stats.audio_copied, pre_encoded);
        if !pre_encoded {
            assert_eq!(stats.audio_duration_us, Some(2_000_000));
        }
        let info = probe(&out).unwrap();
        assert_eq!(info.video.frame_count, 50);
        let audio = info.audio.expect("audio track");
        assert_eq!(
            (audio.codec.as_str(), audio.sample_rate, audio.channels),
            (codec, 48_000, 2)
        );
        let a = decoded_audio_us(&out);
        assert!((a - 2_000_000).abs() <= 40_000, "{file}: audio {a} µs");
        lengths.push(a);
        assert_eq!(checksums(&out), checksums(&src));
    }
    // Encoded ahead or in the join, the same track to the sample: the encoder's priming is
    // carried over (as the container allows), not played as a delay.
    assert_eq!((lengths[2], lengths[3]), (lengths[0], lengths[1]));
    // The silent middle is silent, the sine parts are not: decode the output's audio.
    for file in ["out.mkv", "pre.mp4"] {
        let samples = decoded_audio(&dir.path().join(file));
        let rms = |from_s: f64, to_s: f64| {
            let (a, b) = ((from_s * 48_000.0) as usize, (to_s * 48_000.0) as usize);
            let s = &samples[a..b.min(samples.len())];
            (s.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
        };
        assert!(
            rms(0.1, 0.9) > 1000.0,
            "{file}: first item should be the sine"
        );
        assert!(
            rms(1.1, 1.5) < 50.0,
            "{file}: second item should be silence: {}",
            rms(1.1, 1.5)
        );
        assert!(
            rms(1.7, 1.95) > 1000.0,
            "{file}: third item should be the sine"
        );
    }
}

#[test]
fn no_audio_and_webm() {
    let dir = scratch();
    let vp9 = EncoderSettings {
        codec: "vp9".into(),
        rate: RateControl::Crf(40),
        preset: Some("8".into()),
        gop: None,
        hw: HwAccel::Cpu,
        threads: Some(2),
    };
    let src = video_320();
    let a = dir.path().join("a.webm");
    let b = dir.path().join("b.webm");
    encode_range(&src, 0..10, &a, &vp9);
    encode_range(&src, 10..20, &b, &vp9);
    let out = dir.path().join("out.webm");
    let opts = ConcatOptions {
        audio: vec![AudioSource::file(&src, 0, 800_000)],
        ..ConcatOptions::default()
    };
    let stats = framejet_media::concat_segments(&[a.clone(), b.clone()], &out, &opts).unwrap();
    assert_eq!(stats.frames, 20);
    let info = probe(&out).unwrap();
    assert_eq!(info.video.frame_count, 20);
    assert_eq!(info.audio.unwrap().codec, "opus");
    let out2 = dir.path().join("silent.mkv");
    let stats = framejet_media::concat_segments(&[a, b], &out2, &ConcatOptions::default()).unwrap();
    assert_eq!(stats.audio_duration_us, None);
    assert!(probe(&out2).unwrap().audio.is_none());
}

#[test]
fn an_audio_track_asked_to_stop_fails_and_leaves_nothing() {
    let dir = scratch();
    let track = dir.path().join("track.m4a");
    let timeline = [
        AudioSource::file(audio_only(), 0, 400_000),
        AudioSource::silence(600_000),
    ];
    let err = framejet_media::encode_audio(&timeline, &track, Container::Mp4, 128_000, &|| true)
        .unwrap_err();
    assert!(
        matches!(err, framejet_media::MediaError::Cancelled),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bitrates_parse() {
    assert_eq!(parse_bitrate("192k").unwrap(), 192_000);
    assert_eq!(parse_bitrate("320K").unwrap(), 320_000);
    assert_eq!(parse_bitrate("1.5M").unwrap(), 1_500_000);
    assert_eq!(parse_bitrate("128000").unwrap(), 128_000);
    for bad in ["", "k", "fast", "-5k", "99G"] {
        assert!(parse_bitrate(bad).is_err(), "{bad}");
    }
}

#[test]
fn one_frame_segments_join_between_b_frame_segments() {
    // A one-frame segment has no B-frame delay; its neighbours do.
    let src = video_320();
    let dir = scratch();
    let segs: Vec<_> = [(0u64, 20u64), (20, 21), (21, 50)]
        .iter()
        .enumerate()
        .map(|(i, &(a, b))| {
            let p = dir.path().join(format!("seg{i}.mp4"));
            // Lossy: x264 uses no B-frames when lossless.
            let s = EncoderSettings {
                preset: Some("medium".into()),
                rate: RateControl::Crf(20),
                ..lossless()
            };
            encode_range(&src, a..b, &p, &s);
            p
        })
        .collect();
    let out = dir.path().join("out.mp4");
    let stats = framejet_media::concat_segments(&segs, &out, &ConcatOptions::default()).unwrap();
    assert_eq!(stats.frames, 50);
    // Remuxing changes no picture: the join decodes to the segments' frames, in order.
    let want: Vec<u64> = segs.iter().flat_map(|s| checksums(s)).collect();
    assert_eq!(checksums(&out), want);
}

#[test]
fn audio_that_starts_late_is_preceded_by_silence() {
    // Audio starts 0.3 s after the video in the source.
    let late = ffmpeg_fixture(
        "late-audio.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=1",
            "-itsoffset",
            "0.3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=0.7",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
    );
    let dir = scratch();
    let seg = dir.path().join("seg.mp4");
    encode_range(&late, 0..25, &seg, &lossless());
    let out = dir.path().join("out.mp4");
    // Two items so the audio is rebuilt rather than copied.
    let opts = ConcatOptions {
        audio: vec![
            AudioSource::file(&late, 0, 600_000),
            AudioSource::file(&late, 600_000, 400_000),
        ],
        ..ConcatOptions::default()
    };
    let stats = framejet_media::concat_segments(&[seg], &out, &opts).unwrap();
    assert!(!stats.audio_copied);
    let samples = decoded_audio(&out);
    let rms = |from_s: f64, to_s: f64| {
        let (a, b) = ((from_s * 48_000.0) as usize, (to_s * 48_000.0) as usize);
        let s = &samples[a..b.min(samples.len())];
        (s.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / s.len() as f64).sqrt()
    };
    assert!(
        rms(0.02, 0.27) < 50.0,
        "before the audio starts: {}",
        rms(0.02, 0.27)
    );
    assert!(
        rms(0.35, 0.95) > 1000.0,
        "after it starts: {}",
        rms(0.35, 0.95)
    );
    assert!((decoded_audio_us(&out) - 1_000_000).abs() <= 40_000);
}
