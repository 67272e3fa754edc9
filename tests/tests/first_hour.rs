//! A new user's first hour: the installed `framejet` works from anywhere
//! in a new login shell, never destroys a file, refuses bad output
//! settings before any work, and every codec the README lists works in
//! every container that can hold it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use framejet_tests::*;
use serde_json::json;
use tempfile::TempDir;

/// The checkout this test was built from.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repository root")
        .to_path_buf()
}

/// Runs `script` in a new login shell (`bash -l`) in `dir`, with nothing of
/// this process's environment but HOME and USER: what a user who just did
/// the quick start gets in a new terminal.
fn login_shell(dir: &Path, script: &str) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-lc").arg(script).current_dir(dir).env_clear();
    for var in ["HOME", "USER", "LOGNAME"] {
        if let Some(value) = std::env::var_os(var) {
            cmd.env(var, value);
        }
    }
    cmd.output().expect("run bash")
}

/// The plugins `scripts/install.sh` ships, as `framejet plugin list` names them.
const SHIPPED: [&str; 5] = [
    "invert-luma",
    "overlay-logo",
    "route-by-size",
    "segment-keyframes",
    "text-reveal",
];

fn md5(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().expect("md5sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

/// The codec name and frame count of the first video stream (`ffprobe`).
fn video_codec_and_frames(path: &Path) -> (String, u64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args(["-show_entries", "stream=codec_name,nb_read_frames"])
        .args(["-of", "default=noprint_wrappers=1:nokey=1"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let codec = lines.next().unwrap_or_default().trim().to_string();
    let frames = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    (codec, frames)
}

/// A `w`x`h` clip of `frames` frames at 25 fps, no audio.
fn tiny_clip(dir: &Path, name: &str, w: u32, h: u32, frames: u32) -> PathBuf {
    let path = dir.join(name);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=s={w}x{h}:rate=25"),
        "-frames:v",
        &frames.to_string(),
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        path.to_str().unwrap(),
    ]);
    path
}

fn run_spec(spec: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        spec.to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ];
    args.extend(extra);
    framejet(&args)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn the_installed_framejet_runs_both_examples_from_outside_the_checkout() {
    let repo = repo();
    let media = Command::new("bash")
        .arg(repo.join("examples/make-media.sh"))
        .output()
        .expect("make the example media");
    assert!(media.status.success(), "{}", text(&media));
    let dir = TempDir::new().unwrap();
    let examples = repo.join("examples");
    let script = format!(
        "set -e
         command -v framejet
         framejet run '{e}/compilation.json' -o compilation.mp4
         framejet run '{e}/watermark-removal.json' -o removed.mp4
         echo '== plugins'
         framejet plugin list",
        e = examples.display()
    );
    let out = login_shell(dir.path(), &script);
    assert!(
        out.status.success(),
        "in a new login shell, after the quick start (scripts/install.sh):\n{}",
        text(&out)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let bin = stdout.lines().next().unwrap_or_default();
    assert!(
        !bin.starts_with(repo.to_str().unwrap()) && !bin.contains("/target/"),
        "the login shell's framejet is the installed one, not a build: {bin}"
    );
    let plugins: Vec<&str> = stdout
        .split("== plugins\n")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .collect();
    assert_eq!(plugins, SHIPPED, "shipped plugins only, no test fixtures");

    let compilation = dir.path().join("compilation.mp4");
    assert_eq!(video_size(&compilation), (1280, 720));
    let (codec, frames) = video_codec_and_frames(&compilation);
    assert_eq!(codec, "h264");
    // 3 s + 4 s of video and a 2 s still, at 30 fps.
    assert_eq!(frames, 270);
    let removed = dir.path().join("removed.mp4");
    assert_eq!(video_size(&removed), (1280, 720));
    assert_eq!(video_codec_and_frames(&removed).1, 180);
    assert!(dir.path().join("removed.mp4.mask.png").is_file());
    // Nothing else left in the directory: no work directories.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "compilation.mp4",
            "compilation.mp4.log",
            "removed.mp4",
            "removed.mp4.log",
            "removed.mp4.mask.png"
        ]
    );
}

#[test]
fn a_plugin_made_by_the_installed_binary_outside_the_checkout_builds_and_passes_its_test() {
    let dir = TempDir::new().unwrap();
    // The compiled dependencies are shared with the other template tests.
    let target = std::env::var("FRAMEJET_PLUGINS_TARGET")
        .map(|t| format!("{t}/templates-installed"))
        .unwrap_or_else(|_| dir.path().join("target").display().to_string());
    let script = format!(
        "set -e
         framejet plugin new overlay my-mark
         cd my-mark
         export CARGO_TARGET_DIR='{target}'
         cargo test --quiet
         cargo build --quiet --release --target wasm32-wasip2
         framejet plugin check \"$CARGO_TARGET_DIR/wasm32-wasip2/release/my_mark.wasm\""
    );
    let out = login_shell(dir.path(), &script);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok, implements the `overlay` world"),
        "{}",
        text(&out)
    );
    let manifest = std::fs::read_to_string(dir.path().join("my-mark/Cargo.toml")).unwrap();
    let repo = repo().canonicalize().unwrap();
    assert!(
        !manifest.contains(repo.to_str().unwrap()),
        "the new crate depends on the installed SDK, not the checkout:\n{manifest}"
    );
}

/// A one-input job whose steps read an asset and a mask PNG.
fn job_with_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let input = tiny_clip(dir, "in.mp4", 128, 96, 10);
    let asset = dir.join("badge.png");
    let mask = dir.join("mask.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=red:s=32x16",
        "-frames:v",
        "1",
        asset.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=128x96,drawbox=x=0:y=0:w=80:h=96:color=black:t=fill",
        "-frames:v",
        "1",
        mask.to_str().unwrap(),
    ]);
    let spec = write_job(
        dir,
        "job.json",
        &json!({
            "inputs": [{"src": "in.mp4", "assets": {"logo": "badge.png"}}],
            "steps": [
                {"native": "inpaint", "mask": {"png": "mask.png"}},
                {"plugin": "overlay-logo", "params": {"asset": "logo"}}
            ],
            "output": {"video": {"codec": "h264", "preset": "ultrafast"}, "audio": {"codec": "none"}}
        }),
    );
    (spec, input, asset, mask)
}

#[test]
fn an_output_that_is_one_of_the_jobs_files_is_refused_and_the_file_kept() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (spec, input, asset, mask) = job_with_files(d);
    let soft = d.join("soft.mp4");
    let hard = d.join("hard.mp4");
    std::os::unix::fs::symlink(&input, &soft).unwrap();
    std::fs::hard_link(&input, &hard).unwrap();
    let sums: Vec<String> = [&input, &asset, &mask, &spec]
        .iter()
        .map(|p| md5(p))
        .collect();
    for (output, field, extra) in [
        (&input, "inputs[0].src", vec![]),
        (&soft, "inputs[0].src", vec!["-y"]),
        (&hard, "inputs[0].src", vec!["-y"]),
        (&asset, "inputs[0].assets.logo", vec!["-y"]),
        (&mask, "steps[0].mask.png", vec![]),
        (&spec, "spec file", vec!["-y"]),
    ] {
        let out = run_spec(&spec, output, &extra);
        assert!(!out.status.success(), "{}", text(&out));
        let err = stderr(&out);
        assert!(
            err.contains(field) && err.contains(output.to_str().unwrap()),
            "names the output and the job's file: {err}"
        );
        assert_eq!(err.lines().count(), 1, "one line: {err}");
    }
    // --log naming the input is refused too.
    let out = run_spec(
        &spec,
        &d.join("fresh.mp4"),
        &["--log", input.to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the job log"), "{}", text(&out));
    let after: Vec<String> = [&input, &asset, &mask, &spec]
        .iter()
        .map(|p| md5(p))
        .collect();
    assert_eq!(sums, after, "the job's files are unchanged");
    assert!(!d.join("fresh.mp4").exists() && !d.join("fresh.mp4.log").exists());
}

#[test]
fn an_existing_output_is_replaced_only_with_y() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let (spec, ..) = job_with_files(d);
    let output = d.join("out.mp4");
    std::fs::write(&output, b"the user's own file").unwrap();
    let out = run_spec(&spec, &output, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("-y"), "{}", text(&out));
    assert_eq!(std::fs::read(&output).unwrap(), b"the user's own file");
    assert!(
        !d.join("out.mp4.log").exists(),
        "checked before any file is created"
    );

    // The job log beside it is the user's too.
    let other = d.join("other.mp4");
    std::fs::write(d.join("other.mp4.log"), b"notes").unwrap();
    let out = run_spec(&spec, &other, &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("the job log"), "{}", text(&out));
    assert_eq!(std::fs::read(d.join("other.mp4.log")).unwrap(), b"notes");
    assert!(!other.exists());

    let out = run_spec(&spec, &output, &["-y"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(video_codec_and_frames(&output), ("h264".to_string(), 10));
}

/// Runs a job with `video` as its output settings into `output`; returns
/// the refusal, checking that nothing was started.
fn refusal(dir: &Path, input: &Path, output: &str, video: serde_json::Value) -> String {
    let spec = write_job(
        dir,
        "bad.json",
        &json!({"inputs": [{"src": input}], "output": {"video": video, "audio": {"codec": "none"}}}),
    );
    let out_path = dir.join(output);
    let out = run_spec(&spec, &out_path, &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(!out_path.exists());
    let log = dir.join(format!("{output}.log"));
    assert!(!log.exists(), "refused before any work, even the job log");
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".framejet"))
        .collect();
    assert!(leftovers.is_empty(), "no work directory: {leftovers:?}");
    stderr(&out)
}

#[test]
fn bad_output_settings_are_refused_before_any_work_naming_the_field_and_value() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let input = tiny_clip(d, "in.mp4", 128, 96, 5);
    let err = refusal(d, &input, "a.mp4", json!({"codec": "h999"}));
    assert!(
        err.contains("output.video.codec") && err.contains("h999") && err.contains("libx264"),
        "{err}"
    );
    let err = refusal(d, &input, "b.webm", json!({"codec": "hevc"}));
    assert!(
        err.contains("output.container") && err.contains("webm") && err.contains("hevc"),
        "{err}"
    );
    let err = refusal(
        d,
        &input,
        "c.mp4",
        json!({"codec": "h264", "preset": "turbo"}),
    );
    assert!(
        err.contains("output.video.preset") && err.contains("turbo"),
        "{err}"
    );
    let err = refusal(d, &input, "d.mkv", json!({"codec": "vp9", "preset": "p3"}));
    assert!(
        err.contains("output.video.preset") && err.contains("p3"),
        "{err}"
    );
    let err = refusal(
        d,
        &input,
        "e.mp4",
        json!({"codec": "h264", "rate": {"crf": 60}}),
    );
    assert!(
        err.contains("output.video.rate.crf") && err.contains("60"),
        "{err}"
    );
    let err = refusal(d, &input, "f.mp4", json!({"codec": "vp9", "hw": "nvenc"}));
    assert!(err.contains("output.video.hw"), "{err}");
}

/// Every codec the README lists, with the containers that can hold it.
const CODEC_CONTAINERS: [(&str, &[&str]); 5] = [
    ("h264", &["mp4", "mkv", "mov"]),
    ("hevc", &["mp4", "mkv", "mov"]),
    ("vp9", &["mp4", "mkv", "webm"]),
    ("av1", &["mp4", "mkv", "webm"]),
    ("ffv1", &["mkv"]),
];

/// `codec` in every container that holds it, with the default preset, the
/// fastest and the slowest: each output decodes as `codec` with every frame;
/// the other containers are refused.
fn codec_matrix(codec: &str) {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let input = tiny_clip(d, "in.mp4", 128, 96, 6);
    let allowed = CODEC_CONTAINERS
        .iter()
        .find(|(c, _)| *c == codec)
        .map(|(_, list)| *list)
        .unwrap();
    for container in ["mp4", "mkv", "webm", "mov"] {
        for preset in [None, Some("ultrafast"), Some("placebo")] {
            let mut video = json!({"codec": codec});
            if let Some(p) = preset {
                video["preset"] = json!(p);
            }
            let name = format!("out-{}.{container}", preset.unwrap_or("default"));
            let spec = write_job(
                d,
                "job.json",
                &json!({"inputs": [{"src": input}], "output": {"video": video}}),
            );
            let output = d.join(&name);
            let out = run_spec(&spec, &output, &[]);
            if allowed.contains(&container) {
                assert!(
                    out.status.success(),
                    "{codec} in {container}, preset {preset:?}: {}",
                    text(&out)
                );
                assert_eq!(
                    video_codec_and_frames(&output),
                    (codec.to_string(), 6),
                    "{name}"
                );
            } else {
                assert!(!out.status.success(), "{codec} in {container}");
                assert!(stderr(&out).contains("output.container"), "{}", text(&out));
            }
        }
    }
}

#[test]
fn h264_works_in_every_container_that_holds_it_at_every_speed() {
    codec_matrix("h264");
}

#[test]
fn hevc_works_in_every_container_that_holds_it_at_every_speed() {
    codec_matrix("hevc");
}

#[test]
fn vp9_works_in_every_container_that_holds_it_at_every_speed() {
    codec_matrix("vp9");
}

#[test]
fn av1_works_in_every_container_that_holds_it_at_every_speed() {
    codec_matrix("av1");
}

#[test]
fn ffv1_works_in_every_container_that_holds_it_at_every_speed() {
    codec_matrix("ffv1");
}

#[test]
fn ffmpegs_log_goes_to_the_job_log_with_its_level_and_rfc_3339_times() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    let input = tiny_clip(d, "in.mp4", 128, 96, 5);
    // Cut short before its index: FFmpeg's demuxer logs an error about it.
    let bytes = std::fs::read(&input).unwrap();
    let broken = d.join("broken.mp4");
    std::fs::write(&broken, &bytes[..bytes.len() / 3]).unwrap();
    let spec = write_job(d, "job.json", &json!({"inputs": [{"src": "broken.mp4"}]}));
    let out = run_spec(&spec, &d.join("out.mp4"), &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "one line, no raw FFmpeg log: {err}");
    assert!(
        err.starts_with("error: ") && !err.contains(" @ 0x"),
        "{err}"
    );
    let log = std::fs::read_to_string(d.join("out.mp4.log")).unwrap();
    assert!(
        log.lines().any(|l| l.contains("[error] ffmpeg mov,mp4")),
        "FFmpeg's own line, with its level: {log}"
    );
    for line in log.lines() {
        let time = line.split(' ').next().unwrap_or_default();
        let parsed = humantime::parse_rfc3339(time);
        assert!(parsed.is_ok(), "an RFC 3339 time first: {line}");
    }
}

#[test]
fn an_encoders_own_refusal_reaches_the_user_and_the_job_log() {
    let dir = TempDir::new().unwrap();
    let d = dir.path();
    // SVT-AV1 takes nothing under 64x64; only the encoder itself knows that. More
    // frames than the pipeline's channels hold, so the steps see the encoder go.
    let input = tiny_clip(d, "in.mp4", 32, 32, 40);
    let spec = write_job(
        d,
        "job.json",
        &json!({"inputs": [{"src": input}], "output": {"video": {"codec": "av1"}}}),
    );
    let out = run_spec(&spec, &d.join("out.mp4"), &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    let line = err
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_default();
    assert!(
        line.contains("cannot open encoder libsvtav1") && line.contains("(libsvtav1: "),
        "the encoder's own words: {err}"
    );
    assert!(!err.contains("the encoder stopped"), "{err}");
    let log = std::fs::read_to_string(d.join("out.mp4.log")).unwrap();
    assert!(log.contains("[error] ffmpeg libsvtav1: "), "{log}");
    assert!(log.contains("[error] failed: "), "{log}");
}

#[test]
fn an_error_says_its_cause_once() {
    let dir = TempDir::new().unwrap();
    let out = framejet(&[
        "run",
        dir.path().join("missing.json").to_str().unwrap(),
        "-o",
        dir.path().join("out.mp4").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}

#[test]
fn completions_are_generated_for_bash_zsh_and_fish() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef framejet"),
        ("fish", "complete -c framejet"),
    ] {
        let out = framejet(&["completions", shell]);
        assert!(out.status.success(), "{}", text(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(
            script.contains(marker) && script.contains("plugin"),
            "{shell}"
        );
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for command in [
        vec![],
        vec!["run"],
        vec!["probe"],
        vec!["schema"],
        vec!["completions"],
        vec!["plugin"],
        vec!["plugin", "check"],
        vec!["plugin", "new"],
        vec!["plugin", "list"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let out = framejet(&args);
        assert!(out.status.success(), "{command:?}: {}", text(&out));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.contains("Example") && help.contains("framejet "),
            "{command:?} --help has an example:\n{help}"
        );
    }
}
