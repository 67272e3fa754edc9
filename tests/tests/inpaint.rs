//! The native `inpaint` step through `framejet run`: a burned-in
//! semi-transparent logo comes out, `"auto"` finds it (and, where it moves,
//! each of its places and when it is there), and bad masks are refused
//! before any frame is processed.

use std::path::{Path, PathBuf};

use framejet_tests::*;
use serde_json::json;
use tempfile::TempDir;

const LOGO: (u32, u32, u32, u32) = (200, 150, 80, 40);

/// A clean textured clip with motion, a 45%-white logo PNG, and the clip
/// with the logo burned in at `LOGO`, all lossless.
fn clips(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let clean = dir.join("clean.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:rate=25",
        "-t",
        "2.4",
        "-c:v",
        "ffv1",
        "-pix_fmt",
        "yuv420p",
        clean.to_str().unwrap(),
    ]);
    let logo = logo(dir);
    let marked = dir.join("marked.mkv");
    burn_in(&clean, &logo, &marked, &["-c:v", "ffv1"]);
    (clean, logo, marked)
}

/// `clean` with `logo` burned in at `LOGO`, written to `marked` with the encoder arguments
/// `codec`.
fn burn_in(clean: &Path, logo: &Path, marked: &Path, codec: &[&str]) {
    let overlay = format!(
        "[0:v][1:v]overlay={}:{}:format=auto,format=yuv420p",
        LOGO.0, LOGO.1
    );
    let mut args = vec![
        "-i",
        clean.to_str().unwrap(),
        "-i",
        logo.to_str().unwrap(),
        "-filter_complex",
        &overlay,
    ];
    args.extend_from_slice(codec);
    args.push(marked.to_str().unwrap());
    ffmpeg(&args);
}

/// The logo PNG of [`clips`]: white at 45% opacity, `LOGO`'s size.
fn logo(dir: &Path) -> PathBuf {
    let logo = dir.join("logo.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("color=c=white@0.45:s={}x{},format=rgba", LOGO.2, LOGO.3),
        "-frames:v",
        "1",
        logo.to_str().unwrap(),
    ]);
    logo
}

/// `frames` frames at 25 fps of the still `texture` through the filter `crop` (a crop that
/// moves with the frame number `n`), lossless, in `out`.
fn pan_over(texture: &Path, crop: &str, frames: u32, out: &Path) {
    ffmpeg(&[
        "-loop",
        "1",
        "-framerate",
        "25",
        "-i",
        texture.to_str().unwrap(),
        "-vf",
        crop,
        "-frames:v",
        &frames.to_string(),
        "-c:v",
        "ffv1",
        out.to_str().unwrap(),
    ]);
}

fn in_logo(x: u32, y: u32) -> bool {
    (LOGO.0..LOGO.0 + LOGO.2).contains(&x) && (LOGO.1..LOGO.1 + LOGO.3).contains(&y)
}

/// Runs the job `spec` from `dir` into `dir/out.mkv`, which it returns, with the job log.
fn run_job(dir: &Path, spec: &serde_json::Value) -> (PathBuf, String) {
    run_named_job(dir, "out", spec, &[])
}

/// Runs the job `spec` from `dir` into `dir/{name}.mkv` with the further arguments `args` of
/// `framejet run`; returns the output's path and the job log.
fn run_named_job(
    dir: &Path,
    name: &str,
    spec: &serde_json::Value,
    args: &[&str],
) -> (PathBuf, String) {
    let output = dir.join(format!("{name}.mkv"));
    let job = write_job(dir, &format!("{name}.json"), spec);
    let mut run = vec!["run", job.to_str().unwrap(), "-o", output.to_str().unwrap()];
    run.extend_from_slice(args);
    let out = framejet(&run);
    assert!(out.status.success(), "{}", text(&out));
    let log = std::fs::read_to_string(dir.join(format!("{name}.mkv.log"))).unwrap();
    (output, log)
}

#[test]
fn a_semi_transparent_logo_is_removed() {
    let dir = TempDir::new().unwrap();
    let (clean, logo, marked) = clips(dir.path());
    let (output, log) = run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [LOGO.0, LOGO.1, LOGO.2, LOGO.3]},
                       "logo": logo, "write_mask": true}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    let clean = luma_frames(&clean);
    let before = psnr_where(&luma_frames(&marked), &clean, 320, in_logo);
    let after = psnr_where(&luma_frames(&output), &clean, 320, in_logo);
    assert_eq!(luma_frames(&output).len(), clean.len());
    assert!(
        after > before + 15.0 && after > 35.0,
        "PSNR in the mask: {before:.1} dB before, {after:.1} dB after"
    );
    let outside = psnr_where(&luma_frames(&output), &luma_frames(&marked), 320, |x, y| {
        !in_logo(x, y)
    });
    assert!(
        outside > 60.0,
        "the rest of the frame is as it came in: {outside:.1} dB"
    );
    assert!(
        dir.path().join("out.mkv.mask.png").is_file(),
        "write_mask writes the mask beside the output"
    );
    // The job log says what the step did, as a step's report.
    let report = log
        .lines()
        .find(|l| l.contains("step `inpaint`: steps[0]:"))
        .unwrap_or_else(|| panic!("no inpaint report in the job log:\n{log}"));
    assert!(
        report.contains(" frames seen") && report.contains("pixels un-blended"),
        "{report}"
    );
}

/// Frames of each segment, from the report in a job log.
fn segment_frames(log: &str) -> Vec<u64> {
    let report: serde_json::Value = log
        .lines()
        .find_map(|l| l.split_once(" report ").map(|(_, r)| r))
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_else(|| panic!("no report in the job log:\n{log}"));
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["frames"].as_u64().unwrap())
        .collect()
}

/// Each segment of an inpaint job decodes the frames of context ahead of its range again, so
/// the default segmenter keeps a short video whole (this one has a keyframe every dozen frames,
/// and two segments are asked for), where a job without the step is cut.
#[test]
fn a_short_video_is_one_segment_of_an_inpaint_job_and_cut_without_one() {
    let dir = TempDir::new().unwrap();
    let (_, _, marked) = clips(dir.path());
    let run = |name: &str, steps: serde_json::Value| {
        let spec = json!({
            "inputs": [{"src": marked}],
            "steps": steps,
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        });
        segment_frames(&run_named_job(dir.path(), name, &spec, &["--jobs", "2"]).1)
    };
    let rect = [LOGO.0, LOGO.1, LOGO.2, LOGO.3];
    assert_eq!(
        run(
            "inpaint",
            json!([{"native": "inpaint", "mask": {"rect": rect}}])
        ),
        [60]
    );
    let plain = run("plain", json!([]));
    assert!(
        plain.len() == 2 && plain.iter().sum::<u64>() == 60,
        "{plain:?}"
    );
}

/// A video that fades in from black over its first 3 s, with a single keyframe (as x264
/// writes a short clip): the mark is estimated from frames across the whole video, not from
/// the fade that its first keyframe starts, and comes out of the frames after the fade.
#[test]
fn a_mark_is_estimated_from_across_a_video_with_one_keyframe_that_fades_in() {
    let dir = TempDir::new().unwrap();
    let logo = logo(dir.path());
    let texture = dir.path().join("texture.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=size=960x360:start_x=-0.743643887037151:start_y=0.13182590420533\
         :start_scale=0.00006:end_scale=0.00006:maxiter=256",
        "-frames:v",
        "1",
        texture.to_str().unwrap(),
    ]);
    let fade_frames = 75;
    let clean = dir.path().join("fade-clean.mkv");
    pan_over(
        &texture,
        &format!("crop=320:240:x='2*n':y=60,format=yuv420p,fade=in:0:{fade_frames}"),
        200,
        &clean,
    );
    let marked = dir.path().join("fade-marked.mkv");
    // One keyframe, as x264 writes a clip shorter than its default group of pictures.
    let x264 = [
        "-c:v", "libx264", "-crf", "18", "-g", "1000", "-preset", "veryfast",
    ];
    burn_in(&clean, &logo, &marked, &x264);
    let (output, log) = run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [LOGO.0, LOGO.1, LOGO.2, LOGO.3]}}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    let estimate = log
        .lines()
        .find(|l| l.contains("estimated from frames across it"))
        .unwrap_or_else(|| panic!("no estimate in the job log:\n{log}"));
    eprintln!("{estimate}");
    // It says how sure it is: what the opacities were measured from (a pan: other frames).
    assert!(
        estimate.contains("; confidence: ")
            && estimate.contains("% of the mask measured from other frames' view"),
        "{estimate}"
    );
    let (clean, output) = (luma_frames(&clean), luma_frames(&output));
    assert_eq!(output.len(), clean.len());
    let after_fade = psnr_where(&output[fade_frames..], &clean[fade_frames..], 320, in_logo);
    let untouched = psnr_where(
        &luma_frames(&marked)[fade_frames..],
        &clean[fade_frames..],
        320,
        in_logo,
    );
    eprintln!("after the fade, inside the mask: {after_fade:.2} dB, untouched {untouched:.2} dB");
    // Estimated from the fade's first 60 frames alone, these frames came out at 24 dB.
    assert!(
        after_fade > 30.0,
        "after the fade: {after_fade:.2} dB inside the mask (untouched {untouched:.2})"
    );
}

#[test]
fn an_auto_mask_finds_the_burned_in_logo() {
    let dir = TempDir::new().unwrap();
    let (_, logo, _) = clips(dir.path());
    // A window panning over a larger test card, with camera-like noise: only the logo stays.
    let marked = dir.path().join("panned.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=640x480:rate=25",
        "-i",
        logo.to_str().unwrap(),
        "-t",
        "2.4",
        "-filter_complex",
        &format!(
            "[0:v]crop=320:240:t*60:t*40,noise=alls=12:allf=t[bg];[bg][1:v]overlay={}:{}:format=auto,format=yuv420p",
            LOGO.0, LOGO.1
        ),
        "-c:v",
        "ffv1",
        marked.to_str().unwrap(),
    ]);
    run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": "auto", "write_mask": true}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    let mask = luma_frames(&dir.path().join("out.mkv.mask.png"));
    let (mut covered, mut found) = (0u32, 0u32);
    for (i, &v) in mask[0].iter().enumerate() {
        let hit = v > 127;
        found += u32::from(hit);
        covered += u32::from(hit && in_logo(i as u32 % 320, i as u32 / 320));
    }
    let logo_pixels = LOGO.2 * LOGO.3;
    // The crate's detection tests hold IoU >= 0.8 on their clips; here the frame's edge can add
    // a strip, so the check is that the logo is covered and the mask stays near its size.
    assert!(
        covered * 100 >= logo_pixels * 95,
        "{covered} of the logo's {logo_pixels} pixels found"
    );
    assert!(
        found <= 2 * logo_pixels,
        "{found} pixels found for a {logo_pixels}-pixel logo"
    );
}

#[test]
fn bad_masks_are_refused_before_any_frame_is_processed() {
    let dir = TempDir::new().unwrap();
    let (_, _, marked) = clips(dir.path());
    let small_png = dir.path().join("small-mask.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=white:s=64x48",
        "-frames:v",
        "1",
        small_png.to_str().unwrap(),
    ]);
    for (mask, words) in [
        (json!({"rect": [10, 10, 0, 0]}), "no pixel"),
        (json!({"rect": [5000, 5000, 20, 20]}), "outside"),
        (json!({"rect": [0, 0, 320, 240]}), "100%"),
        (json!({"png": small_png}), "64x48"),
    ] {
        let output = dir.path().join("out.mkv");
        let job = write_job(
            dir.path(),
            "job.json",
            &json!({
                "inputs": [{"src": marked}],
                "steps": [{"native": "inpaint", "mask": mask}],
                "output": {"video": {"codec": "ffv1"}}
            }),
        );
        let out = framejet(&[
            "run",
            job.to_str().unwrap(),
            "-o",
            output.to_str().unwrap(),
            "--json",
            // Each run replaces the job log the failed run before it left.
            "-y",
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
        assert!(!out.status.success(), "{mask}: {}", text(&out));
        assert!(stderr.contains("steps[0].mask"), "{mask}: {stderr}");
        assert!(stderr.contains(words), "{mask}: says {words:?}: {stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains("\"progress\"") && !stdout.contains("\"planned\""),
            "failed before processing: {stdout}"
        );
        assert!(!output.exists());
    }
}

#[test]
fn a_cut_moves_where_its_context_decodes_from_a_keyframe_and_the_frames_stay_the_same() {
    // 200 frames with a keyframe every 100: cut on the keyframe at 100, the second segment's
    // 48 frames of context (52..100) would be decoded from frame 0. The plan moves the cut
    // to 148, where the context starts on that keyframe; the output is the one segment's.
    let dir = TempDir::new().unwrap();
    let (_, logo, _) = clips(dir.path());
    let marked = dir.path().join("long-gop.mkv");
    let overlay = format!(
        "[0:v][1:v]overlay={}:{}:format=auto,format=yuv420p",
        LOGO.0, LOGO.1
    );
    let mut args: Vec<&str> = "-f lavfi -i testsrc2=s=320x240:rate=25:d=8 -i"
        .split(' ')
        .collect();
    args.extend([logo.to_str().unwrap(), "-filter_complex", &overlay]);
    // Lossless H.264 with a keyframe every 100 frames and none elsewhere.
    args.extend(
        "-c:v libx264 -preset ultrafast -qp 0 -g 100 -keyint_min 100 -sc_threshold 0".split(' '),
    );
    args.push(marked.to_str().unwrap());
    ffmpeg(&args);
    let run = |name: &str, segments: u32| {
        let spec = json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [LOGO.0, LOGO.1, LOGO.2, LOGO.3]},
                       "logo": logo}],
            "segment": {"plugin": "segment-keyframes",
                        "params": {"min_segments": segments, "max_segments": segments}},
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        });
        let (output, log) = run_named_job(dir.path(), name, &spec, &[]);
        (frame_md5s(&output), segment_frames(&log))
    };
    let (one, one_frames) = run("one", 1);
    let (two, two_frames) = run("two", 2);
    assert_eq!(one_frames, [200]);
    assert_eq!(two_frames, [148, 52], "the cut moved from 100 to 148");
    assert_eq!(one.len(), 200);
    assert!(
        one == two,
        "cut in two, the frames differ from one segment's"
    );
}

#[test]
fn a_scene_cut_is_found_and_reported() {
    // testsrc2's moving pattern, cut at 1.2 s to a Mandelbrot render, under a logo.
    let dir = TempDir::new().unwrap();
    let (_, logo, _) = clips(dir.path());
    let marked = dir.path().join("cut.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:rate=25:d=1.2",
        "-f",
        "lavfi",
        "-i",
        "mandelbrot=s=320x240:rate=25,trim=duration=1.2",
        "-i",
        logo.to_str().unwrap(),
        "-filter_complex",
        &format!(
            "[0:v][1:v]concat=n=2:v=1,format=yuv420p[v];[v][2:v]overlay={}:{}:format=auto,format=yuv420p",
            LOGO.0, LOGO.1
        ),
        "-c:v",
        "ffv1",
        marked.to_str().unwrap(),
    ]);
    let (_, log) = run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [LOGO.0, LOGO.1, LOGO.2, LOGO.3]},
                       "logo": logo}],
            "segment": {"plugin": "segment-keyframes", "params": {"max_segments": 1}},
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    let report = log
        .lines()
        .find(|l| l.contains("step `inpaint`: steps[0]:"))
        .unwrap_or_else(|| panic!("no inpaint report in the job log:\n{log}"));
    assert!(report.contains("; 1 scene cuts"), "{report}");
}

#[test]
fn a_still_test_cards_bars_are_filled_across_a_wide_box() {
    // FFmpeg's SMPTE bars with a fixed grain, still, under an opaque box much wider than tall
    // that crosses three bar edges: the plan tries the spatial fill's weightings on copies of
    // the mask beside it and has it lead across the box's short side, which every segment
    // follows. A harmonic fill, blurring the edges sideways, ends over 4 dB under delogo here
    // (which interpolates each column between the rows above and below the box); led across
    // the box, on a par with it.
    let dir = TempDir::new().unwrap();
    let clean = dir.path().join("bars.mkv");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "smptebars=s=320x240:rate=25",
        "-t",
        "2",
        "-vf",
        "noise=alls=4,format=yuv420p",
        "-c:v",
        "ffv1",
        clean.to_str().unwrap(),
    ]);
    let marked = dir.path().join("boxed.mkv");
    ffmpeg(&[
        "-i",
        clean.to_str().unwrap(),
        "-vf",
        "drawbox=x=100:y=40:w=120:h=24:color=white:t=fill",
        "-c:v",
        "ffv1",
        marked.to_str().unwrap(),
    ]);
    let (output, log) = run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": {"rect": [98, 38, 124, 28]}}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    assert!(
        log.lines()
            .any(|l| l.contains("estimated from frames across it")
                && l.contains("spatial fill led across the mask's short side")),
        "the plan kept the harmonic fill:\n{log}"
    );
    let delogo = dir.path().join("delogo.mkv");
    ffmpeg(&[
        "-i",
        marked.to_str().unwrap(),
        "-vf",
        "delogo=x=98:y=38:w=124:h=28",
        "-c:v",
        "ffv1",
        delogo.to_str().unwrap(),
    ]);
    let truth = luma_frames(&clean);
    let in_box = |x: u32, y: u32| (100..220).contains(&x) && (40..64).contains(&y);
    let [ours, theirs] =
        [&output, &delogo].map(|path| psnr_where(&luma_frames(path), &truth, 320, in_box));
    eprintln!("inside the box: framejet {ours:.2} dB, delogo {theirs:.2} dB");
    assert!(
        ours >= theirs - 0.3,
        "framejet {ours:.2} dB, delogo {theirs:.2} dB: the bars blurred sideways"
    );
}

#[test]
fn the_readme_example_beats_delogo() {
    // The README's watermark-removal job on its own media, against FFmpeg's
    // delogo on the same rectangle, both measured inside the mask against
    // the clean clip the example media were made from.
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let status = std::process::Command::new("bash")
        .arg(examples.join("make-media.sh"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text(&status));
    let dir = TempDir::new().unwrap();
    let output = dir.path().join("removed.mp4");
    let out = framejet(&[
        "run",
        examples.join("watermark-removal.json").to_str().unwrap(),
        "-o",
        output.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let marked = examples.join("media/watermarked.mp4");
    let delogo = dir.path().join("delogo.mp4");
    ffmpeg(&[
        "-i",
        marked.to_str().unwrap(),
        "-vf",
        "delogo=x=1080:y=620:w=160:h=80",
        "-c:v",
        "libx264",
        "-crf",
        "18",
        "-preset",
        "veryfast",
        delogo.to_str().unwrap(),
    ]);
    let clean = luma_frames(&examples.join("media/clean.mp4"));
    let in_mask = |x: u32, y: u32| (1080..1240).contains(&x) && (620..700).contains(&y);
    let [ours, theirs, untouched] = [&output, &delogo, &marked]
        .map(|path| psnr_where(&luma_frames(path), &clean, 1280, in_mask));
    eprintln!(
        "inside the mask: framejet {ours:.2} dB, delogo {theirs:.2} dB, untouched {untouched:.2} dB"
    );
    assert!(
        ours > theirs,
        "framejet {ours:.2} dB does not beat delogo's {theirs:.2} dB"
    );
    // The plan measured the input's coding noise under the mark once, so both segments
    // decide alike whether to average un-blended pixels with other frames.
    let log = std::fs::read_to_string(dir.path().join("removed.mp4.log")).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains("estimated from frames across it") && l.contains("coding noise")),
        "no coding noise measured in the plan:\n{log}"
    );
    let averaged: Vec<bool> = log
        .lines()
        .filter(|l| l.contains("step `inpaint`: steps[0]:"))
        .map(|l| !l.contains("(0 of them averaged"))
        .collect();
    assert!(
        averaged.len() == 2 && averaged[0] == averaged[1],
        "the segments decided differently whether to average:\n{log}"
    );
}

/// Where the logo of `moving_clip` is: its top-left corner and its frames.
const PLACES: [((u32, u32), std::ops::Range<usize>); 3] =
    [((200, 150), 0..30), ((40, 60), 30..55), ((200, 20), 55..75)];

/// A 3-s pan over a random texture with the 45%-white logo moving between
/// `PLACES`, as platforms that stamp generated video move theirs: the clean
/// clip, the logo and the marked clip, lossless.
fn moving_clip(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let (_, logo, _) = clips(dir);
    let texture = dir.join("texture.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=640x480",
        "-vf",
        "noise=alls=100:allf=u:all_seed=7,gblur=sigma=3,eq=contrast=4",
        "-frames:v",
        "1",
        texture.to_str().unwrap(),
    ]);
    let clean = dir.join("pan.mkv");
    pan_over(
        &texture,
        "crop=320:240:x='40+3*n':y='20+n',format=yuv420p",
        75,
        &clean,
    );
    let mut graph = String::from("[1:v]split=3[l0][l1][l2];[0:v]");
    for (k, ((x, y), frames)) in PLACES.iter().enumerate() {
        let tail = if k + 1 < PLACES.len() {
            format!("[v{k}];[v{k}]")
        } else {
            ",format=yuv420p".into()
        };
        graph += &format!(
            "[l{k}]overlay={x}:{y}:format=auto:enable='between(n,{},{})'{tail}",
            frames.start,
            frames.end - 1
        );
    }
    let marked = dir.join("moving.mkv");
    ffmpeg(&[
        "-i",
        clean.to_str().unwrap(),
        "-i",
        logo.to_str().unwrap(),
        "-filter_complex",
        &graph,
        "-c:v",
        "ffv1",
        marked.to_str().unwrap(),
    ]);
    (clean, logo, marked)
}

/// Luma PSNR of `output` against `clean` inside the logo at each place over
/// its frames, and whether `output` is `marked` itself at each place outside
/// them.
fn per_place(clean: &Path, marked: &Path, output: &Path) -> Vec<(f64, f64, bool)> {
    let (clean, marked, output) = (luma_frames(clean), luma_frames(marked), luma_frames(output));
    assert_eq!(output.len(), 75);
    PLACES
        .iter()
        .map(|((x0, y0), frames)| {
            let inside =
                |x: u32, y: u32| (*x0..x0 + LOGO.2).contains(&x) && (*y0..y0 + LOGO.3).contains(&y);
            let psnr =
                |f: &[Vec<u8>]| psnr_where(&f[frames.clone()], &clean[frames.clone()], 320, inside);
            let untouched = (0..75)
                .filter(|i| !frames.contains(i))
                .all(|i| psnr_where(&output[i..=i], &marked[i..=i], 320, inside).is_infinite());
            (psnr(&marked), psnr(&output), untouched)
        })
        .collect()
}

#[test]
fn a_mark_that_moves_is_removed_at_each_place_in_its_time() {
    // One step, the mask a list of places with their time ranges.
    let dir = TempDir::new().unwrap();
    let (clean, logo, marked) = moving_clip(dir.path());
    let places: Vec<serde_json::Value> = PLACES
        .iter()
        .map(|((x, y), frames)| {
            json!({"rect": [x, y, LOGO.2, LOGO.3],
                   "from": frames.start as f64 / 25.0, "to": frames.end as f64 / 25.0})
        })
        .collect();
    for (name, step) in [
        (
            "given with the logo",
            json!({"native": "inpaint", "mask": places, "logo": logo}),
        ),
        (
            "given, the mark estimated",
            json!({"native": "inpaint", "mask": places}),
        ),
    ] {
        let (output, log) = run_job(
            dir.path(),
            &json!({
                "inputs": [{"src": marked}],
                "steps": [step],
                "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
            }),
        );
        assert!(log.contains("(place 1, 1.20 s to 2.20 s)"), "{log}");
        for (k, (before, after, untouched)) in
            per_place(&clean, &marked, &output).into_iter().enumerate()
        {
            eprintln!("{name}, place {k}: {before:.1} dB before, {after:.1} dB after");
            assert!(
                after > before + 15.0 && after > 35.0,
                "{name}, place {k}: {after:.1} dB"
            );
            assert!(
                untouched,
                "{name}: place {k} changed outside its time range"
            );
        }
        // The next run writes the same output and log.
        std::fs::remove_file(output).unwrap();
        std::fs::remove_file(dir.path().join("out.mkv.log")).unwrap();
    }
}

#[test]
fn auto_finds_a_mark_that_moves_and_when_it_is_at_each_place() {
    let dir = TempDir::new().unwrap();
    let (clean, _, marked) = moving_clip(dir.path());
    let (output, log) = run_job(
        dir.path(),
        &json!({
            "inputs": [{"src": marked}],
            "steps": [{"native": "inpaint", "mask": "auto"}],
            "output": {"video": {"codec": "ffv1"}, "audio": {"codec": "none"}}
        }),
    );
    // Each place found with its frames exactly: 1.2 s and 2.2 s at 25 fps.
    for words in [
        "(place 0, until 1.20 s)",
        "(place 1, 1.20 s to 2.20 s)",
        "(place 2, from 2.20 s)",
        "at place 2, estimated from frames across it",
    ] {
        assert!(log.contains(words), "{words}: {log}");
    }
    for (k, (before, after, untouched)) in
        per_place(&clean, &marked, &output).into_iter().enumerate()
    {
        eprintln!("auto, place {k}: {before:.1} dB before, {after:.1} dB after");
        assert!(
            after > before + 15.0 && after > 35.0,
            "place {k}: {after:.1} dB"
        );
        assert!(untouched, "place {k} changed outside its time range");
    }
}

#[test]
fn a_time_range_must_be_sane() {
    let dir = TempDir::new().unwrap();
    let (_, _, marked) = clips(dir.path());
    for (range, message) in [
        (
            json!({"from": 2.0, "to": 1.0}),
            "steps[0].to: must be after `from`",
        ),
        (
            json!({"from": -1.0}),
            "steps[0].from: expected seconds into the input",
        ),
        (
            json!({"mask": [{"rect": [0, 0, 8, 8], "from": 3.0, "to": 2.0}]}),
            "steps[0].mask[0].to: must be after `from`",
        ),
        (
            json!({"mask": [{"rect": [0, 0, 8, 8]}, {"rect": [0, 0, 8, 8], "png": "m.png"}]}),
            "steps[0].mask[1]: give a place either `rect` or `png`",
        ),
        (json!({"mask": []}), "a list of places needs at least one"),
        (
            json!({"mask": [{"rect": [0, 0, 8, 8]}], "logo_at": [0, 0]}),
            "steps[0].logo_at: with a list of places",
        ),
    ] {
        let mut step = json!({"native": "inpaint", "mask": {"rect": [0, 0, 8, 8]}});
        for (k, v) in range.as_object().unwrap() {
            step[k] = v.clone();
        }
        let job = write_job(
            dir.path(),
            "job.json",
            &json!({"inputs": [{"src": marked}], "steps": [step]}),
        );
        let out = framejet(&[
            "run",
            job.to_str().unwrap(),
            "-o",
            dir.path().join("o.mkv").to_str().unwrap(),
        ]);
        assert!(!out.status.success());
        assert!(text(&out).contains(message), "{}", text(&out));
    }
}
