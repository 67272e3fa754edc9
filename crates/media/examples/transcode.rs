//! The media side of a whole job, in one process: probe, cut into segments at keyframes,
//! decode → fit → draw → encode each segment on its own thread, then join them with the
//! source's audio. A working reference for the host's plan / run_segment / finalize, and a
//! quick benchmark.
//!
//! ```text
//! cargo run --release -p framejet-media --example transcode -- in.mp4 out.mp4 [WIDTH HEIGHT [SEGMENTS]]
//! ```

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use framejet_media::{
    AudioSource, ConcatOptions, Decoder, Encoder, EncoderSettings, FitMode, Fitter, HwAccel,
    MediaError, RateControl, VideoInfo, concat_segments, fill_rect, probe,
};

fn main() -> Result<(), MediaError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(output)) = (args.first(), args.get(1)) else {
        eprintln!("usage: transcode IN OUT [WIDTH HEIGHT [SEGMENTS]]");
        std::process::exit(2);
    };
    let width: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1280);
    let height: u32 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(720);
    let segments: usize = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(4);
    let started = Instant::now();

    // plan: frame ranges starting at keyframes.
    let info = probe(input)?;
    let ranges = plan(&info.video, segments);
    println!(
        "{} frames, {} segments: {ranges:?}",
        info.video.frame_count,
        ranges.len()
    );

    // run_segment, in parallel.
    let dir = Path::new(output)
        .parent()
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let threads =
        (std::thread::available_parallelism().map_or(1, |n| n.get()) / ranges.len()).max(1);
    let results: Vec<Result<PathBuf, MediaError>> = std::thread::scope(|s| {
        let handles: Vec<_> = ranges
            .iter()
            .enumerate()
            .map(|(i, &(from, to))| {
                let seg = dir.join(format!(".segment-{i}.mp4"));
                let info = &info;
                s.spawn(move || {
                    run_segment(
                        Path::new(input),
                        &info.video,
                        from,
                        to,
                        &seg,
                        width,
                        height,
                        threads,
                    )
                    .map(|_| seg)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("segment thread"))
            .collect()
    });
    let segs: Vec<PathBuf> = results.into_iter().collect::<Result<_, _>>()?;

    // finalize.
    let options = ConcatOptions {
        audio: vec![AudioSource::file(input, 0, info.video.duration_us)],
        ..ConcatOptions::default()
    };
    let stats = concat_segments(&segs, output, &options)?;
    for s in &segs {
        let _ = std::fs::remove_file(s);
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} frames in {secs:.2} s ({:.1} fps), audio {}, {} bytes",
        stats.frames,
        stats.frames as f64 / secs,
        if stats.audio_copied {
            "copied"
        } else {
            "encoded"
        },
        stats.bytes
    );
    Ok(())
}

/// About `n` ranges of frames, each starting at a keyframe.
fn plan(video: &VideoInfo, n: usize) -> Vec<(u64, u64)> {
    let total = video.frame_count;
    let mut starts = vec![0u64];
    for i in 1..n as u64 {
        let ideal = total * i / n as u64;
        if let Some(&k) = video.keyframes.iter().rev().find(|&&k| k <= ideal)
            && k > *starts.last().unwrap_or(&0)
        {
            starts.push(k);
        }
    }
    starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&total)))
        .map(|(&a, &b)| (a, b))
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn run_segment(
    input: &Path,
    video: &VideoInfo,
    from: u64,
    to: u64,
    out: &Path,
    width: u32,
    height: u32,
    threads: usize,
) -> Result<(), MediaError> {
    let mut decoder = Decoder::open(input)?;
    decoder.seek_to_frame(from)?;
    let mut fitter = Fitter::new(
        video.display_width,
        video.display_height,
        width,
        height,
        FitMode::Pad,
        [0, 0, 0],
    )?;
    let settings = EncoderSettings {
        rate: RateControl::Crf(23),
        preset: Some("veryfast".into()),
        hw: HwAccel::Auto,
        threads: Some(threads as u32),
        ..EncoderSettings::default()
    };
    let mut encoder = Encoder::create(out, None, width, height, video.frame_rate, &settings)?;
    while let Some(frame) = decoder.next_frame()? {
        if frame.index >= to {
            break;
        }
        let mut frame = fitter.fit(frame)?;
        // A small progress bar, drawn in YUV.
        let done = (frame.index - from + 1) as f64 / (to - from) as f64;
        fill_rect(
            &mut frame,
            0,
            height as i32 - 8,
            (f64::from(width) * done) as u32,
            8,
            [255, 200, 0, 200],
        );
        encoder.push(&frame)?;
    }
    encoder.finish()?;
    Ok(())
}
