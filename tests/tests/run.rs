//! `framejet run` on media made by the test: frame-exact segmenting, audio
//! that matches the video, `fit`, overlays landing where the plugin put
//! them, and clear errors for bad inputs with nothing left behind.

use std::path::{Path, PathBuf};

use framejet_tests::*;
use serde_json::json;
use tempfile::TempDir;

/// A 320x240 clip of `frames` frames at 30 fps with a keyframe every 10
/// frames, with a sine tone when `audio`.
fn clip(dir: &Path, name: &str, frames: u32, audio: bool) -> PathBuf {
    testsrc_clip(dir, name, "320x240", frames, audio)
}

/// Runs a job; returns the `--json` events.
fn run_job(dir: &Path, job: &serde_json::Value, output: &Path) -> Vec<serde_json::Value> {
    let spec = write_job(dir, "job.json", job);
    let out = framejet(&[
        "run",
        spec.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--json",
        "--jobs",
        "2",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn planned_segments(events: &[serde_json::Value]) -> u64 {
    events
        .iter()
        .find(|e| e["event"] == "planned")
        .and_then(|e| e["segments"].as_u64())
        .expect("a planned event")
}

#[test]
fn segmenting_is_frame_exact_for_1_2_3_and_7_segments() {
    let dir = TempDir::new().unwrap();
    let input = clip(dir.path(), "in.mp4", 90, false);
    let source = frame_md5s(&input);
    assert_eq!(source.len(), 90);
    for segments in [1u64, 2, 3, 7] {
        let output = dir.path().join(format!("out{segments}.mkv"));
        let job = json!({
            "inputs": [{"src": input}],
            "segment": {"plugin": "segment-keyframes",
                        "params": {"min_segments": segments, "max_segments": segments, "min_frames": 1}},
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        });
        let events = run_job(dir.path(), &job, &output);
        assert_eq!(planned_segments(&events), segments);
        let decoded = frame_md5s(&output);
        assert_eq!(decoded.len(), 90, "{segments} segments: frame count");
        assert_eq!(
            decoded, source,
            "{segments} segments: every frame identical to the source's"
        );
    }
}

#[test]
fn the_default_segmenter_gives_every_job_slot_a_segment() {
    let dir = TempDir::new().unwrap();
    // 3 s: one segment by length (about 10 s each), but `--jobs 2` can run two.
    let input = clip(dir.path(), "in.mp4", 90, true);
    let output = dir.path().join("out.mp4");
    let job = json!({
        "inputs": [{"src": input}],
        "output": {"video": {"codec": "h264", "preset": "ultrafast"}}
    });
    let events = run_job(dir.path(), &job, &output);
    assert_eq!(planned_segments(&events), 2);
    assert_eq!(frame_md5s(&output).len(), 90);
    // One AAC source covering the output: copied in the join, nothing encoded beside.
    let done = events
        .iter()
        .find(|e| e["event"] == "done")
        .expect("a done event");
    assert!(done["report"]["audio"].is_null(), "{done}");
    assert_eq!(done["report"]["output"]["audio_copied"], true);
}

#[test]
fn audio_and_video_durations_agree_and_a_compilation_has_continuous_audio() {
    let dir = TempDir::new().unwrap();
    let with_audio = clip(dir.path(), "a.mp4", 45, true);
    let silent = clip(dir.path(), "b.mp4", 60, false);
    let still = dir.path().join("card.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=blue:s=320x240",
        "-frames:v",
        "1",
        still.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mp4");
    let job = json!({
        "inputs": [{"src": with_audio}, {"src": silent}, {"src": still, "still_seconds": 1.0}],
        "steps": [{"native": "fit", "width": 320, "height": 240}],
        "output": {"video": {"codec": "h264", "preset": "ultrafast"}}
    });
    let events = run_job(dir.path(), &job, &output);
    // Three items with silence to make: the track is encoded beside the segments.
    let done = events
        .iter()
        .find(|e| e["event"] == "done")
        .expect("a done event");
    assert!(
        done["report"]["audio"]["key"].is_string(),
        "audio encoded beside the segments: {done}"
    );
    assert_eq!(frame_md5s(&output).len(), 45 + 60 + 30);
    let video = stream_duration(&output, "v").expect("video");
    let audio = stream_duration(&output, "a").expect("audio: continuous across items");
    assert!((video - 4.5).abs() < 1.0 / 30.0, "video {video}");
    assert!(
        (audio - video).abs() <= 1.0 / 30.0,
        "audio {audio} vs video {video}"
    );
}

#[test]
fn fit_brings_every_input_to_the_output_size_centred_and_unstretched() {
    let dir = TempDir::new().unwrap();
    for (w, h) in [(1280, 720), (1920, 1080), (720, 1280), (641, 359)] {
        let input = dir.path().join(format!("red{w}x{h}.mp4"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("color=c=red:s={w}x{h}:rate=30"),
            "-t",
            "0.2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            input.to_str().unwrap(),
        ]);
        let output = dir.path().join(format!("fit{w}x{h}.mkv"));
        let job = json!({
            "inputs": [{"src": input}],
            "steps": [{"native": "fit", "width": 640, "height": 360, "mode": "pad"}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        });
        run_job(dir.path(), &job, &output);
        assert_eq!(video_size(&output), (640, 360));
        let frame = frame_rgb(&output, 0);
        let red = [255, 0, 0];
        let black = [0, 0, 0];
        assert!(
            near(pixel(&frame, 320, 180), red, 24),
            "{w}x{h}: centre is content"
        );
        // Scaled content width at 360 lines high, kept to the aspect ratio.
        let content_w = (w as f64 * 360.0 / h as f64).min(640.0);
        let left_edge = 320.0 - content_w / 2.0;
        if left_edge > 8.0 {
            assert!(
                near(pixel(&frame, (left_edge / 2.0) as u32, 180), black, 24),
                "{w}x{h}: left bar"
            );
            assert!(
                near(
                    pixel(&frame, 639 - (left_edge / 2.0) as u32, 180),
                    black,
                    24
                ),
                "{w}x{h}: right bar"
            );
            assert!(
                near(pixel(&frame, (left_edge + 6.0) as u32, 180), red, 40),
                "{w}x{h}: not stretched"
            );
        } else {
            assert!(
                near(pixel(&frame, 4, 180), red, 40),
                "{w}x{h}: fills the width"
            );
            assert!(
                near(pixel(&frame, 320, 4), red, 40),
                "{w}x{h}: fills the height"
            );
        }
    }
}

#[test]
fn an_overlay_lands_where_the_plugin_placed_it_with_the_asked_opacity() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("gray.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0x808080:s=640x360:rate=30",
        "-t",
        "0.2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "0",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let logo = dir.path().join("logo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=0xFF0000:s=64x32",
        "-frames:v",
        "1",
        logo.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mkv");
    let job = json!({
        "inputs": [{"src": input, "assets": {"logo": logo}}],
        "steps": [{"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "bottom-right", "margin": 16, "opacity": 0.5}}],
        "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
    });
    run_job(dir.path(), &job, &output);
    let frame = frame_rgb(&output, 3);
    // The logo covers x 560..624, y 312..344.
    let inside = pixel(&frame, 592, 328);
    let expected = [191, 64, 64];
    assert!(
        near(inside, expected, 12),
        "half-opaque red over gray: {inside:?}"
    );
    assert!(
        near(pixel(&frame, 550, 328), [128, 128, 128], 6),
        "left of the logo is untouched"
    );
    assert!(
        near(pixel(&frame, 592, 350), [128, 128, 128], 6),
        "below the logo is untouched"
    );
    assert!(
        near(pixel(&frame, 20, 20), [128, 128, 128], 6),
        "the rest is untouched"
    );
}

#[test]
fn bad_inputs_fail_with_one_clear_error_naming_the_input_and_leave_nothing() {
    let dir = TempDir::new().unwrap();
    let good = clip(dir.path(), "good.mp4", 60, true);
    let bytes = std::fs::read(&good).unwrap();
    let truncated = dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let corrupt = dir.path().join("corrupt.mp4");
    std::fs::write(
        &corrupt,
        (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761u32) >> 13) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let empty = dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let not_video = dir.path().join("notes.txt");
    std::fs::write(&not_video, "not a video\n").unwrap();
    let audio_only = dir.path().join("voice.m4a");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300",
        "-t",
        "1",
        "-c:a",
        "aac",
        audio_only.to_str().unwrap(),
    ]);

    for (input, hint) in [
        (&truncated, ""),
        (&corrupt, ""),
        (&empty, ""),
        (&not_video, ""),
        (&audio_only, "no video stream"),
    ] {
        let output = dir.path().join("out.mp4");
        let job = json!({"inputs": [{"src": input}]});
        let spec = write_job(dir.path(), "job.json", &job);
        let out = framejet(&[
            "run",
            spec.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            // Each run replaces the job log the failed run before it left.
            "-y",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let name = input.file_name().unwrap().to_str().unwrap();
        assert!(!out.status.success(), "{name} must fail: {}", text(&out));
        assert!(stderr.contains(name), "the error names {name}: {stderr}");
        assert!(stderr.contains(hint), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert_eq!(
            stderr.matches("error:").count(),
            1,
            "one error for {name}: {stderr}"
        );
        assert!(!output.exists(), "{name}: no partial output");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".framejet-"))
            .collect();
        assert!(leftovers.is_empty(), "{name}: work directory removed");
    }
}

#[test]
fn an_odd_sized_input_without_fit_comes_out_at_the_even_size_below() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("odd.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=321x241:rate=10",
        "-t",
        "1",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "yuv444p",
        input.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mkv");
    let job = json!({"inputs": [{"src": input}], "output": {"video": {"codec": "ffv1"}}});
    run_job(dir.path(), &job, &output);
    assert_eq!(video_size(&output), (320, 240));
    assert_eq!(frame_md5s(&output).len(), 10);
}

#[test]
fn a_job_past_its_timeout_fails_and_leaves_nothing() {
    let dir = TempDir::new().unwrap();
    let input = clip(dir.path(), "in.mp4", 30, false);
    let output = dir.path().join("out.mp4");
    // A router that loops until its 3 s call deadline outlasts the job's 1 s.
    let job = json!({
        "inputs": [{"src": input}],
        "route": {"plugin": "broken-loop"},
        "plugin_limits": {"deadline_ms": 3000},
        "timeout_s": 1
    });
    let spec = write_job(dir.path(), "job.json", &job);
    let out = framejet(&[
        "run",
        spec.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("timed out"),
        "{}",
        text(&out)
    );
    assert!(!output.exists());
}
