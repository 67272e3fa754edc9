//! `framejet plugin check` and `framejet plugin new`, through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use framejet::plugin::PluginRegistry;
use framejet_tests::*;
use serde_json::json;
use tempfile::TempDir;

fn built(name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    PluginRegistry::default_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{file} not built: run scripts/build-plugins.sh"))
}

#[test]
fn check_accepts_each_shipped_plugin_and_names_its_world() {
    for (name, world) in [
        ("route-by-size", "router"),
        ("segment-keyframes", "segmenter"),
        ("overlay-logo", "overlay"),
        ("text-reveal", "overlay"),
        ("invert-luma", "frame-filter"),
    ] {
        let out = framejet(&["plugin", "check", built(name).to_str().unwrap(), "--json"]);
        assert!(out.status.success(), "{}", text(&out));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(report["ok"], true);
        assert_eq!(report["world"], world, "{name}");
        let imports = report["imports"].as_array().unwrap();
        assert!(
            imports
                .iter()
                .all(|i| !i.as_str().unwrap().starts_with("wasi:sockets"))
        );
    }
}

#[test]
fn check_rejects_a_non_component_and_a_component_of_no_world() {
    let dir = TempDir::new().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let out = framejet(&["plugin", "check", core.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not a WebAssembly component"),
        "{}",
        text(&out)
    );

    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"MZ\x90\0 definitely not wasm").unwrap();
    let out = framejet(&["plugin", "check", junk.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not a WebAssembly component"),
        "{}",
        text(&out)
    );

    let empty = dir.path().join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x0d\0\x01\0").unwrap();
    let out = framejet(&["plugin", "check", empty.to_str().unwrap()]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("router, segmenter, overlay, frame-filter"),
        "{}",
        text(&out)
    );
}

/// `cargo` with the target dir the plugins share, so the SDK builds once.
fn cargo(dir: &std::path::Path, args: &[&str]) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir).args(args);
    if let Ok(target) = std::env::var("FRAMEJET_PLUGINS_TARGET") {
        cmd.env("CARGO_TARGET_DIR", format!("{target}/templates"));
    }
    let out = cmd.output().expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn wasm_of(dir: &std::path::Path, crate_name: &str) -> PathBuf {
    let target = std::env::var("FRAMEJET_PLUGINS_TARGET")
        .map(|t| PathBuf::from(t).join("templates"))
        .unwrap_or_else(|_| dir.join("target"));
    target
        .join("wasm32-wasip2/release")
        .join(format!("{crate_name}.wasm"))
}

/// `framejet plugin new <kind> <name>` in `dir`, then the crate's own
/// tests and its wasm build; checks the component implements `world` and
/// returns its path.
fn new_plugin_component(dir: &Path, kind: &str, name: &str, world: &str) -> PathBuf {
    let crate_dir = dir.join(name);
    let out = framejet(&[
        "plugin",
        "new",
        kind,
        name,
        "--dir",
        crate_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    cargo(&crate_dir, &["test", "--quiet"]);
    cargo(
        &crate_dir,
        &["build", "--quiet", "--release", "--target", "wasm32-wasip2"],
    );
    let wasm = wasm_of(&crate_dir, &name.replace('-', "_"));
    let out = framejet(&["plugin", "check", wasm.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["world"], world);
    wasm
}

#[test]
fn a_new_overlay_plugin_builds_passes_its_test_and_runs_through_the_host() {
    let dir = TempDir::new().unwrap();
    let wasm = new_plugin_component(dir.path(), "overlay", "my-badge", "overlay");

    // Run a job with it, by path.
    let input = dir.path().join("in.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=320x240:rate=10",
        "-t",
        "1",
        "-pix_fmt",
        "yuv420p",
        input.to_str().unwrap(),
    ]);
    let job = write_job(
        dir.path(),
        "job.json",
        &json!({
            "inputs": [{"src": input}],
            "steps": [{"plugin": wasm}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    let output = dir.path().join("out.mkv");
    let out = framejet(&["run", job.to_str().unwrap(), "-o", output.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(frame_md5s(&output).len(), 10);
    let (_, _, before) = frame_rgb(&input, 5);
    let (_, _, after) = frame_rgb(&output, 5);
    assert_ne!(before, after, "the new plugin drew on the frames");
}

#[test]
fn a_new_router_plugin_builds_passes_its_test_and_routes_through_the_host() {
    let dir = TempDir::new().unwrap();
    let wasm = new_plugin_component(dir.path(), "router", "my-router", "router");
    let registry = PluginRegistry::new(
        std::sync::Arc::new(
            framejet::plugin::PluginRuntime::new(framejet::plugin::RuntimeConfig::default())
                .unwrap(),
        ),
        Vec::new(),
    );
    let plugin = registry.get(wasm.to_str().unwrap()).expect("load");
    let job = framejet::plugin::JobInfo {
        id: "j".into(),
        item_count: 3,
        output_width: 1280,
        output_height: 720,
        total_frames: 90,
        total_duration_us: 3_000_000,
        step_count: 1,
        priority: framejet::plugin::Priority::Normal,
    };
    let route = plugin.route(&job, "{}", Default::default()).expect("route");
    assert!(!route.queue.is_empty());
}

#[test]
fn a_new_segmenter_and_a_new_frame_filter_build_and_pass_their_tests() {
    let dir = TempDir::new().unwrap();
    new_plugin_component(dir.path(), "segmenter", "my-cutter", "segmenter");
    new_plugin_component(dir.path(), "frame-filter", "my-filter", "frame-filter");
}

#[test]
fn plugin_new_refuses_an_unknown_kind_and_a_bad_name() {
    let dir = TempDir::new().unwrap();
    let out = framejet(&[
        "plugin",
        "new",
        "mixer",
        "x",
        "--dir",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("router, segmenter, overlay, frame-filter")
    );
    let out = framejet(&[
        "plugin",
        "new",
        "overlay",
        "Bad Name",
        "--dir",
        dir.path().join("y").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
}
