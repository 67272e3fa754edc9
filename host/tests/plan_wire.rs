//! The plan's wire form: a plan made here, sent as JSON and read back, is
//! the same plan and runs byte-identical segments; a malformed one is refused
//! with a reason, never a panic.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use framejet::job::storage::LocalDir;
use framejet::job::{
    JobSpec, PLAN_VERSION, Plan, PlanError, PlanOptions, SegmentContext, plan, run_segment,
};
use framejet::plugin::LogLine;
use framejet_inpaint::Mask;
use serde_json::{Value, json};

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A compilation: a 25 fps clip, a 30 fps clip with sound and a still, fitted to
/// one size, with a logo overlay and an inpaint step (a mask per item).
fn compilation(dir: &Path) -> JobSpec {
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:rate=25",
        "-t",
        "2",
        "-g",
        "10",
        "-pix_fmt",
        "yuv420p",
        &p("a.mp4"),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=s=240x320:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=400",
        "-t",
        "1.5",
        "-g",
        "15",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        &p("b.mp4"),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=navy:s=200x100",
        "-frames:v",
        "1",
        &p("card.png"),
    ]);
    let spec = json!({
        "inputs": [
            {"src": p("a.mp4"), "assets": {"logo": p("card.png")}},
            {"src": p("b.mp4"), "assets": {"logo": p("card.png")}},
            {"src": p("card.png"), "still_seconds": 1, "assets": {"logo": p("card.png")}}
        ],
        "steps": [
            {"native": "fit", "width": 320, "height": 180},
            {"native": "inpaint", "mask": {"rect": [8, 8, 40, 20]}},
            {"plugin": "overlay-logo", "params": {"asset": "logo", "scale": 0.2}}
        ],
        "segment": {"plugin": "segment-keyframes", "params": {"min_segments": 2}},
        "output": {"frame_rate": "30", "video": {"codec": "h264", "preset": "ultrafast"}}
    });
    JobSpec::from_json(&spec.to_string()).unwrap()
}

/// Runs segment `index` of `plan` into `dir`; returns the segment file's bytes.
fn segment_bytes(plan: &Plan, index: usize, dir: &Path) -> Vec<u8> {
    let storage = LocalDir::new(dir).unwrap();
    let cancel = AtomicBool::new(false);
    let ctx = SegmentContext {
        registry: common::registry(),
        storage: &storage,
        progress: &|_| {},
        log: Arc::new(|_: &LogLine<'_>| {}),
        cancel: &cancel,
    };
    let out = run_segment(plan, index, &ctx).unwrap();
    std::fs::read(dir.join(&out.key)).unwrap()
}

#[test]
fn a_plan_read_back_is_the_same_plan_and_runs_byte_identical_segments() {
    let dir = tempfile::tempdir().unwrap();
    let made = plan(
        compilation(dir.path()),
        common::registry(),
        &PlanOptions {
            parallel_segments: 2,
            // Two threads: the plan, not the machine, fixes x264's output.
            encoder_threads: 2,
            one_machine: false,
        },
    )
    .unwrap();
    assert_eq!(made.version, PLAN_VERSION);
    assert!(made.segments.len() >= 4, "{} segments", made.segments.len());
    assert_eq!(made.masks.len(), 3);
    let wire = made.to_json().unwrap();
    let read = Plan::from_json(&wire).unwrap();
    assert_eq!(read.to_json().unwrap(), wire);
    // The frame indexes travel: a reader need not scan the inputs again.
    assert!(read.items.iter().all(|i| i.probe.is_some()));
    assert_eq!(read.encoder_threads, 2);
    assert!(read.plugins.contains_key("route-by-size"));
    assert!(read.plugins.values().all(|d| d.len() == 64));
    for i in 0..made.segments.len() {
        let here = segment_bytes(&made, i, &dir.path().join("here"));
        let there = segment_bytes(&read, i, &dir.path().join("there"));
        assert!(!here.is_empty());
        assert!(
            here == there,
            "segment {i} differs when run from the plan read back"
        );
    }
}

/// `edit` applied to the JSON of a real plan, then read back.
fn read_edited(edit: impl Fn(&mut Value)) -> Result<Plan, PlanError> {
    let dir = tempfile::tempdir().unwrap();
    let made = plan(
        compilation(dir.path()),
        common::registry(),
        &PlanOptions::default(),
    )
    .unwrap();
    let mut value: Value = serde_json::from_str(&made.to_json().unwrap()).unwrap();
    edit(&mut value);
    Plan::from_json(&value.to_string())
}

#[test]
fn malformed_plans_are_refused_with_a_reason() {
    let err = Plan::from_json("{\"version\": 1, \"job_id\": ").unwrap_err();
    assert!(matches!(err, PlanError::Malformed(_)), "{err}");
    let err = Plan::from_json("[1, 2]").unwrap_err();
    assert!(matches!(err, PlanError::Malformed(_)), "{err}");

    let err = read_edited(|v| v["version"] = json!(PLAN_VERSION + 1)).unwrap_err();
    assert!(matches!(err, PlanError::Version { .. }), "{err}");
    assert!(err.to_string().contains(&(PLAN_VERSION + 1).to_string()));

    type Edit = dyn Fn(&mut Value);
    let cases: [(&str, &Edit); 7] = [
        ("segment 0 names item 7", &|v| {
            v["segments"][0]["item"] = json!(7)
        }),
        ("items for 3 inputs", &|v| {
            v["items"].as_array_mut().unwrap().pop();
        }),
        ("does not fit its item", &|v| {
            v["segments"][0]["output_end"] = json!(1_000_000)
        }),
        ("does not fit its item", &|v| {
            v["segments"][1]["index"] = json!(0)
        }),
        ("which the plan lacks", &|v| {
            v["masks"][0]["step"] = json!(0)
        }),
        ("at place 3, which has no mask", &|v| {
            v["marks"][0]["place"] = json!(3)
        }),
        ("output frame rate", &|v| {
            v["output"]["frame_rate"] = json!([30, 0])
        }),
    ];
    for (words, edit) in cases {
        let err = read_edited(edit).unwrap_err();
        assert!(
            matches!(err, PlanError::Inconsistent(_)) && err.to_string().contains(words),
            "expected {words:?}: {err}"
        );
    }
    let err = read_edited(|v| v["segments"][0]["item"] = json!(-1)).unwrap_err();
    assert!(matches!(err, PlanError::Malformed(_)), "{err}");
}

/// A clip with a semi-transparent mark burned in, and an auto-detected,
/// learnt inpaint step as its first step.
fn watermarked(dir: &Path) -> JobSpec {
    let p = |name: &str| dir.join(name).to_str().unwrap().to_string();
    // A window panning over a larger test card, with camera-like noise: only the mark stays.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x480:rate=25",
        "-f",
        "lavfi",
        "-i",
        "color=c=white@0.5:s=60x30,format=rgba",
        "-t",
        "3.6",
        "-filter_complex",
        "[0:v]crop=320:240:t*60:t*40,noise=alls=12:allf=t[bg];[bg][1:v]overlay=240:190:format=auto,format=yuv420p",
        "-g",
        "10",
        "-c:v",
        "ffv1",
        &p("marked.mkv"),
    ]);
    let spec = json!({
        "inputs": [{"src": p("marked.mkv")}],
        "steps": [{"native": "inpaint", "mask": "auto"}],
        "segment": {"plugin": "segment-keyframes",
                    "params": {"min_segments": 3, "max_segments": 3, "min_frames": 1}},
        "output": {"video": {"codec": "h264", "preset": "ultrafast"}, "audio": {"codec": "none"}}
    });
    JobSpec::from_json(&spec.to_string()).unwrap()
}

#[test]
fn the_detected_mask_and_the_learnt_mark_travel_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let made = plan(
        watermarked(dir.path()),
        common::registry(),
        &PlanOptions {
            parallel_segments: 3,
            encoder_threads: 1,
            one_machine: false,
        },
    )
    .unwrap();
    assert_eq!(made.segments.len(), 3);
    // Estimated once, from frames across the video, for every segment.
    assert_eq!(made.marks.len(), 1);
    assert_eq!((made.marks[0].step, made.marks[0].item), (0, 0));
    let detected = Mask::try_from(made.masks[0].mask.as_ref().expect("the detected mask")).unwrap();
    let b = detected.bbox();
    // It covers the mark (detection may add a strip at the frame's edge).
    let covers =
        b.x <= 240 && b.y <= 190 && b.x + b.width as i64 >= 300 && b.y + b.height as i64 >= 220;
    assert!(covers, "{b:?}");
    let read = Plan::from_json(&made.to_json().unwrap()).unwrap();
    assert_eq!(read.marks[0].model, made.marks[0].model);
    assert_eq!(read.masks[0].mask, made.masks[0].mask);
    for i in 0..made.segments.len() {
        let here = segment_bytes(&made, i, &dir.path().join("here"));
        let there = segment_bytes(&read, i, &dir.path().join("there"));
        assert!(
            here == there,
            "segment {i} differs when run from the plan read back"
        );
    }
    // A model that does not fit its step is refused.
    let mut value: Value = serde_json::from_str(&made.to_json().unwrap()).unwrap();
    value["marks"][0]["model"]["width"] = json!(64);
    let err = Plan::from_json(&value.to_string()).unwrap_err();
    assert!(err.to_string().contains("mark"), "{err}");
}

#[test]
fn a_mark_behind_a_fit_step_is_estimated_on_the_frames_that_step_sees() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = serde_json::to_value(watermarked(dir.path())).unwrap();
    // Doubled in size first: the 60x30 mark at (240, 190) is 120x60 at (480, 380).
    spec["steps"] = json!([
        {"native": "fit", "width": 640, "height": 480, "mode": "stretch"},
        {"native": "inpaint", "mask": {"rect": [470, 370, 140, 80]}}
    ]);
    let spec = JobSpec::from_json(&spec.to_string()).unwrap();
    let made = plan(spec, common::registry(), &PlanOptions::default()).unwrap();
    assert_eq!(made.marks.len(), 1);
    let mark = &made.marks[0];
    assert_eq!((mark.step, mark.item), (1, 0));
    assert_eq!((mark.model.width, mark.model.height), (640, 480));
    // Opacity at the mark's centre: the white@0.5 it was burned in with.
    let luma = &mark.model.planes[0];
    let [x0, y0, x1, _] = luma.region;
    let (x, y) = (540, 410);
    let alpha = luma.alpha[(y - y0) * (x1 - x0) + (x - x0)];
    assert!(
        (0.4..0.6).contains(&alpha),
        "alpha {alpha} at the mark's centre"
    );
    let read = Plan::from_json(&made.to_json().unwrap()).unwrap();
    assert_eq!(read.marks[0].model, mark.model);
}
