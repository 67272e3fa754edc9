//! `framejet gpu info`: on a machine with a GPU it lists it; without one it says why, and
//! exits 0 (no GPU is a state, not an error) unless `--gpu ID` asked for one.

use std::process::Command;

use framejet_tests::*;

#[test]
fn gpu_info_lists_the_gpus_or_explains_their_absence() {
    let out = framejet(&["gpu", "info", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gpus = report["gpus"].as_array().unwrap();
    if gpus.is_empty() {
        let why = report["none"].as_str().unwrap();
        println!("skipped GPU listing: no GPU here: {why}");
        assert!(why.len() > 20, "a reason a user can act on: {why:?}");
    } else {
        for g in gpus {
            assert!(!g["name"].as_str().unwrap().is_empty());
            assert!(g["memory_total"].as_u64().unwrap() > 0);
            assert!(g["compute_capability"][0].as_u64().unwrap() >= 3);
        }
        assert_eq!(report["nvenc"].as_array().unwrap().len(), 2, "h264 and hevc probed");
    }
}

#[test]
fn hidden_gpus_and_a_missing_gpu_id_are_explained() {
    let out = Command::new(framejet_bin())
        .args(["gpu", "info"])
        .env("CUDA_VISIBLE_DEVICES", "")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("no GPU") && text.contains("CUDA_VISIBLE_DEVICES"), "{text}");

    let out = framejet(&["gpu", "info", "--gpu", "64"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("no GPU: "), "{text}");
}
