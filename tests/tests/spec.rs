//! Job specs that cannot run are refused before any work, with the field at
//! fault and what is allowed.

use framejet_tests::*;
use serde_json::json;
use tempfile::TempDir;

fn refusal(job: &serde_json::Value) -> String {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=160x120:rate=10",
        "-t",
        "1",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let job = serde_json::to_string(job)
        .unwrap()
        .replace("INPUT", input.to_str().unwrap());
    let spec = dir.path().join("job.json");
    std::fs::write(&spec, job).unwrap();
    let output = dir.path().join("out.mp4");
    let out = framejet(&[
        "run",
        spec.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!output.exists());
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_bad_plugin_param_names_the_step_and_the_field() {
    let err = refusal(&json!({
        "inputs": [{"src": "INPUT", "assets": {}}],
        "steps": [{"plugin": "overlay-logo", "params": {"asset": "logo", "corner": "middle"}}]
    }));
    assert!(err.contains("steps[0].params.corner"), "{err}");
    assert!(err.contains("top-left"), "says what is allowed: {err}");
}

#[test]
fn an_unknown_plugin_is_named_with_the_known_ones() {
    let err = refusal(&json!({
        "inputs": [{"src": "INPUT"}],
        "steps": [{"plugin": "no-such-plugin"}]
    }));
    assert!(
        err.contains("steps[0].plugin") && err.contains("no-such-plugin"),
        "{err}"
    );
    assert!(err.contains("overlay-logo"), "lists what exists: {err}");
}

#[test]
fn malformed_specs_name_the_field() {
    let err = refusal(
        &json!({"inputs": [{"src": "INPUT"}], "steps": [{"native": "fit", "width": 640, "height": 360, "mode": "squash"}]}),
    );
    assert!(
        err.contains("steps[0].mode") && err.contains("pad"),
        "{err}"
    );
    let err = refusal(
        &json!({"inputs": [{"src": "INPUT"}], "steps": [{"native": "fit", "width": 641, "height": 360}]}),
    );
    assert!(err.contains("steps[0]") && err.contains("even"), "{err}");
    let err =
        refusal(&json!({"inputs": [{"src": "INPUT"}], "output": {"video": {"rate": {"crf": 99}}}}));
    assert!(err.contains("output.video.rate.crf"), "{err}");
    let err = refusal(&json!({"inputs": [{"src": "INPUT"}], "outptu": {}}));
    assert!(err.contains("outptu"), "{err}");
    let err = refusal(&json!({"inputs": []}));
    assert!(err.contains("inputs"), "{err}");
    let err = refusal(&json!({"inputs": [{"src": "missing.mp4"}]}));
    assert!(
        err.contains("inputs[0].src") && err.contains("missing.mp4"),
        "{err}"
    );
}

#[test]
fn a_trapping_plugin_fails_the_job_with_its_name() {
    let err = refusal(&json!({
        "inputs": [{"src": "INPUT"}],
        "steps": [{"plugin": "broken-trap-overlay"}]
    }));
    assert!(
        err.contains("broken-trap-overlay") && err.contains("trapped"),
        "{err}"
    );
}
