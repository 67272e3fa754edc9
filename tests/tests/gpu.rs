//! `framejet gpu info`: on a machine with a GPU it lists it; without one it says why, and
//! exits 0 (no GPU is a state, not an error) unless `--gpu ID` asked for one.

use std::process::Command;

use framejet_tests::*;

#[test]
fn gpu_info_lists_the_gpus_or_explains_their_absence() {
    let out = framejet(&["gpu", "info", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
        assert_eq!(
            report["nvenc"].as_array().unwrap().len(),
            2,
            "h264 and hevc probed"
        );
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
    assert!(
        text.contains("no GPU") && text.contains("CUDA_VISIBLE_DEVICES"),
        "{text}"
    );

    let out = framejet(&["gpu", "info", "--gpu", "64"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("no GPU: "), "{text}");
}

/// The README's example job `name` (`examples/<name>.json`) run with `--gpu <choice>` into
/// `dir`: its output and job log.
fn example_job(dir: &std::path::Path, name: &str, choice: &str) -> (std::path::PathBuf, String) {
    let examples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let made = Command::new("bash")
        .arg(examples.join("make-media.sh"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made));
    let output = dir.join(format!("{name}-{choice}.mp4"));
    let out = framejet(&[
        "run",
        examples.join(format!("{name}.json")).to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
        "--gpu",
        choice,
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let log = std::fs::read_to_string(format!("{}.log", output.display())).unwrap();
    (output, log)
}

#[test]
fn the_watermark_job_on_the_gpu_path_matches_the_cpu_run() {
    // The GPU path's kernels give the CPU reference's results; the CPU run uses the optimised
    // kernels (un-blending in fixed point, within a level of the reference), so the two
    // outputs agree inside the mask up to that rounding and the encoder's response to it.
    // Here the CUDA sources run emulated on the CPU; where a GPU is, on it too.
    const FLOOR_DB: f64 = 45.0;
    let dir = tempfile::TempDir::new().unwrap();
    let (cpu, cpu_log) = example_job(dir.path(), "watermark-removal", "off");
    assert!(
        cpu_log.contains("kernels on the CPU (--gpu off)"),
        "{cpu_log}"
    );
    // Each segment says where its time went, stage by stage.
    let timed = cpu_log
        .lines()
        .filter(|l| l.contains("step `segment`") && l.contains("busy (the stages overlap): decode"))
        .count();
    assert_eq!(timed, 2, "{cpu_log}");
    let cpu_frames = luma_frames(&cpu);
    let in_mask = |x: u32, y: u32| (1080..1240).contains(&x) && (620..700).contains(&y);
    let mut choices = vec!["emulate"];
    let report = framejet(&["gpu", "info", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    if report["gpus"].as_array().is_some_and(|g| !g.is_empty()) {
        choices.push("auto");
    } else {
        println!("skipped the run on a GPU: {}", report["none"]);
    }
    for choice in choices {
        let (out, log) = example_job(dir.path(), "watermark-removal", choice);
        let reports: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("step `inpaint`"))
            .collect();
        assert_eq!(reports.len(), 2, "one report per segment:\n{log}");
        for r in &reports {
            let expected = if choice == "emulate" {
                "kernels: the CUDA kernels emulated"
            } else {
                "kernels on GPU "
            };
            assert!(r.contains(expected), "{r}");
            assert!(!r.contains("the GPU failed"), "{r}");
        }
        if choice == "emulate" {
            // No NVENC here: `hw: auto` encodes on the CPU and says so, once per segment.
            let encode: Vec<&str> = log
                .lines()
                .filter(|l| l.contains("step `encode`"))
                .collect();
            assert_eq!(encode.len(), 2, "{log}");
            assert!(
                encode[0].contains("h264_nvenc did not open")
                    && encode[0].contains("encoding with libx264"),
                "{}",
                encode[0]
            );
        }
        assert!(
            !cpu_log.contains("h264_nvenc did not open"),
            "no GPU in use, no line:\n{cpu_log}"
        );
        let db = psnr_where(&luma_frames(&out), &cpu_frames, 1280, in_mask);
        println!("--gpu {choice}: {db:.2} dB inside the mask against the CPU run");
        assert!(db >= FLOOR_DB, "--gpu {choice}: {db:.2} dB < {FLOOR_DB} dB");
    }
}

#[test]
fn the_compilation_job_on_the_gpu_path_matches_the_cpu_run() {
    // The README's main job: fit, a logo overlay and animated text, which run as one device
    // run (each frame uploaded once, downloaded once). Compositing is exact; the fit is
    // swscale's bicubic in float (within 4 levels), so the outputs differ by a little
    // rounding and the encoder's response to it.
    const FLOOR_DB: f64 = 40.0;
    let dir = tempfile::TempDir::new().unwrap();
    let run = |choice: &str| example_job(dir.path(), "compilation", choice);
    let (cpu, cpu_log) = run("off");
    assert!(!cpu_log.contains("step `gpu`"), "{cpu_log}");
    let (gpu, gpu_log) = run("emulate");
    let runs: Vec<&str> = gpu_log
        .lines()
        .filter(|l| l.contains("step `gpu`"))
        .collect();
    assert!(!runs.is_empty(), "no device run in the job log:\n{gpu_log}");
    for r in &runs {
        assert!(
            r.contains("steps[0]+steps[1]+steps[2] on the CUDA kernels emulated"),
            "{r}"
        );
    }
    let (a, b) = (luma_frames(&gpu), luma_frames(&cpu));
    assert_eq!(a.len(), b.len());
    let db = psnr_where(&a, &b, 1280, |_, _| true);
    println!("--gpu emulate: {db:.2} dB against the CPU run over whole frames");
    assert!(db >= FLOOR_DB, "{db:.2} dB < {FLOOR_DB} dB");
}
