//! `run_segment`: one segment task from source frames to an encoded,
//! closed-GOP segment file.
//!
//! Three stages overlap, joined by bounded channels so that memory stays
//! flat whatever the video's length: a decoder thread (seek to the keyframe
//! before the range, map source frames to output frames), the steps (on the
//! calling thread, where the plugin instances live) and an encoder thread.
//! The decoder starts and ends the plan's context frames outside the range
//! (within the input); they go through the steps, so that steps that look
//! at neighbouring frames see the same ones whichever segment a frame is
//! in, and are dropped before the encoder.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};
use framejet_media::{ColorMatrix, Decoder, Encoder, HwDecode, StillSource, VideoFrame};
use serde::Serialize;

use crate::plugin::{LogSink, PluginRegistry};

use super::JobError;
use super::plan::{Plan, PlanItem, SegmentTask};
use super::settings::{encoder_settings, frame_rate, segment_container};
use super::steps::StepChain;
use super::storage::{Storage, segment_key};

/// Busy time of each stage of a segment (they overlap in time), in nanoseconds: where a
/// segment's time goes, for its line in the job log.
#[derive(Default)]
struct StageTimes {
    decode: AtomicU64,
    steps: AtomicU64,
    encode: AtomicU64,
}

impl StageTimes {
    /// Runs `f`, adding its time to `stage`.
    fn time<T>(stage: &AtomicU64, f: impl FnOnce() -> T) -> T {
        let t = Instant::now();
        let out = f();
        stage.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        out
    }

    fn seconds(stage: &AtomicU64) -> f64 {
        stage.load(Ordering::Relaxed) as f64 / 1e9
    }
}

/// What a segment's three stages share: when to stop, and where their time goes.
struct Flow<'a> {
    /// Set when a stage fails: the others stop.
    stop: &'a AtomicBool,
    /// The job was cancelled.
    cancel: &'a AtomicBool,
    /// Set when the encoder stopped taking frames.
    encoder_gone: &'a AtomicBool,
    times: &'a StageTimes,
}

impl Flow<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }
}

/// Frames in flight between two stages.
const CHANNEL_FRAMES: usize = 8;

/// What a finished segment task produced.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentOutput {
    pub index: usize,
    /// Storage key of the encoded segment.
    pub key: String,
    pub frames: u64,
    pub bytes: u64,
    #[serde(with = "duration_ms")]
    pub elapsed: Duration,
}

/// What a segment needs from whoever runs it.
pub struct SegmentContext<'a> {
    pub registry: &'a PluginRegistry,
    pub storage: &'a dyn Storage,
    /// Called with the number of frames just finished.
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// Where plugin log lines go.
    pub log: LogSink,
    /// Set to stop between frames.
    pub cancel: &'a AtomicBool,
}

/// Decodes, processes and encodes segment `index` of `plan`.
pub fn run_segment(
    plan: &Plan,
    index: usize,
    ctx: &SegmentContext<'_>,
) -> Result<SegmentOutput, JobError> {
    let started = Instant::now();
    let task = plan.segments.get(index).ok_or_else(|| {
        JobError::media("run_segment", format!("the plan has no segment {index}"))
    })?;
    let item = plan.items.get(task.item).ok_or_else(|| {
        JobError::media(
            "run_segment",
            format!(
                "segment {index} names input {} of a plan with {}",
                task.item,
                plan.items.len()
            ),
        )
    })?;
    let container = segment_container(plan);
    let key = segment_key(index, container.extension());
    let path = ctx
        .storage
        .writable_path(&key)
        .map_err(|e| JobError::io(&key, e))?;
    let mut steps = StepChain::new(plan, task, ctx.registry, ctx.log.clone())?;
    let settings = encoder_settings(plan, plan.encoder_threads);
    let context = format!("segment {index} ({})", item.src.display());

    let (decoded_tx, decoded_rx) = bounded::<VideoFrame>(CHANNEL_FRAMES);
    let (processed_tx, processed_rx) = bounded::<VideoFrame>(CHANNEL_FRAMES);
    let stop = AtomicBool::new(false);
    let encoder_gone = AtomicBool::new(false);
    let times = StageTimes::default();
    let flow = Flow {
        stop: &stop,
        cancel: ctx.cancel,
        encoder_gone: &encoder_gone,
        times: &times,
    };

    let (decoded, processed, encoded) = std::thread::scope(|scope| {
        let decoder = scope.spawn(|| decode_range(plan, item, task, decoded_tx, &flow, &ctx.log));
        let encoder = scope.spawn(|| {
            let mut encoder = StageTimes::time(&times.encode, || {
                Encoder::create(
                    &path,
                    Some(container),
                    plan.output.width,
                    plan.output.height,
                    frame_rate(&plan.output),
                    &settings,
                )
            })
            .map_err(|e| JobError::media(&context, e))?;
            // Where a GPU is in use, say once per segment that its encoder is not.
            if let Some(why) = encoder.fallback()
                && super::gpu::in_use()
            {
                (ctx.log)(&crate::plugin::LogLine {
                    source: crate::plugin::LogSource::Step("encode"),
                    level: crate::plugin::Level::WARN,
                    message: &format!("segment {index}: {why}"),
                });
            }
            for frame in processed_rx {
                StageTimes::time(&times.encode, || encoder.push(&frame))
                    .map_err(|e| JobError::media(&context, e))?;
            }
            StageTimes::time(&times.encode, || encoder.finish())
                .map_err(|e| JobError::media(&context, e))
        });
        let processed = process(
            &mut steps,
            task.output_start..task.output_end,
            decoded_rx,
            processed_tx,
            ctx,
            &flow,
        );
        if processed.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        let decoded = decoder
            .join()
            .unwrap_or_else(|_| Err(JobError::media(&context, "the decoder thread panicked")));
        let encoded = encoder
            .join()
            .unwrap_or_else(|_| Err(JobError::media(&context, "the encoder thread panicked")));
        (decoded, processed, encoded)
    });
    // The first failure in pipeline order is the cause; later ones follow from
    // it. An encoder that stopped takes the steps down with it: then its own
    // error is the cause.
    let result = match (decoded, processed, encoded) {
        (Err(e), _, _) => Err(in_context(e, &context)),
        (Ok(()), Err(_), Err(e)) if encoder_gone.load(Ordering::Relaxed) => Err(e),
        (Ok(()), Err(e), _) | (Ok(()), Ok(_), Err(e)) => Err(e),
        (Ok(()), Ok(frames), Ok(stats)) => Ok((frames, stats)),
    };
    let (frames, stats) = match result {
        Ok(ok) => ok,
        Err(e) => {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
    };
    if frames != task.output_frames() {
        let _ = std::fs::remove_file(&path);
        return Err(JobError::media(
            &context,
            format!(
                "produced {frames} frames, but the plan needs {} (the input may be truncated or corrupt)",
                task.output_frames()
            ),
        ));
    }
    ctx.storage
        .commit(&key)
        .map_err(|e| JobError::io(&key, e))?;
    let elapsed = started.elapsed();
    (ctx.log)(&crate::plugin::LogLine {
        source: crate::plugin::LogSource::Step("segment"),
        level: crate::plugin::Level::INFO,
        message: &format!(
            "segment {index}: {frames} frames in {:.2} s; busy (the stages overlap): decode {:.2} s, steps {:.2} s, encode {:.2} s",
            elapsed.as_secs_f64(),
            StageTimes::seconds(&times.decode),
            StageTimes::seconds(&times.steps),
            StageTimes::seconds(&times.encode),
        ),
    });
    Ok(SegmentOutput {
        index,
        key,
        frames,
        bytes: stats.bytes,
        elapsed,
    })
}

fn in_context(e: JobError, context: &str) -> JobError {
    match e {
        JobError::Media { message, .. } => JobError::media(context, message),
        other => other,
    }
}

/// Runs frames through the steps and those of `range` (the rest are
/// context) on to the encoder; returns the count.
fn process(
    steps: &mut StepChain,
    range: std::ops::Range<u64>,
    decoded: Receiver<VideoFrame>,
    encode: Sender<VideoFrame>,
    ctx: &SegmentContext<'_>,
    flow: &Flow<'_>,
) -> Result<u64, JobError> {
    let busy = &flow.times.steps;
    let mut out = Vec::new();
    let mut count = 0u64;
    let send = |out: &mut Vec<VideoFrame>, count: &mut u64| -> Result<(), JobError> {
        out.retain(|f| range.contains(&f.index));
        let n = out.len() as u64;
        for frame in out.drain(..) {
            encode.send(frame).map_err(|_| {
                flow.encoder_gone.store(true, Ordering::Relaxed);
                JobError::media("encode", "the encoder stopped")
            })?;
        }
        *count += n;
        if n > 0 {
            (ctx.progress)(n);
        }
        Ok(())
    };
    for frame in decoded {
        if flow.stopped() {
            return Err(JobError::Cancelled);
        }
        StageTimes::time(busy, || steps.push(frame, &mut out))?;
        send(&mut out, &mut count)?;
    }
    StageTimes::time(busy, || steps.finish(&mut out))?;
    send(&mut out, &mut count)?;
    Ok(count)
}

/// Sends output frames `task.output_start..task.output_end` (item-relative),
/// each the source frame shown at its time, with output index and pts,
/// and the plan's context frames either side, within the item.
fn decode_range(
    plan: &Plan,
    item: &PlanItem,
    task: &SegmentTask,
    tx: Sender<VideoFrame>,
    flow: &Flow<'_>,
    log: &crate::plugin::LogSink,
) -> Result<(), JobError> {
    let out = &plan.output;
    let busy = &flow.times.decode;
    let stopped = || flow.stopped();
    let (before, after) = (plan.context.before, plan.context.after);
    let mut end = task.output_end.saturating_add(after);
    if before > 0 {
        // The first frames of an inpaint step's range wait for as many
        // frames as it holds behind: a segment among them decodes that far.
        for start in super::inpaint::stream_starts(plan, task.item) {
            if start < task.output_end && start.saturating_add(before) > task.output_start {
                end = end.max(start.saturating_add(before.max(after)));
            }
        }
    }
    let range = task.output_start.saturating_sub(before)..end.min(item.output_frames);
    let retimed = |mut frame: VideoFrame, j: u64| {
        frame.index = j;
        frame.pts_us = out.pts_us(j);
        frame
    };
    if item.still {
        let still = StillSource::open(&item.src, ColorMatrix::for_height(item.height))
            .map_err(|e| JobError::media("decode", e))?;
        for j in range.clone() {
            if stopped()
                || tx
                    .send(retimed(
                        StageTimes::time(busy, || still.frame(j, frame_rate(out))),
                        j,
                    ))
                    .is_err()
            {
                break;
            }
        }
        return Ok(());
    }

    let hw = match super::gpu::nvdec_device(plan.spec.output.video.hw) {
        Some(ordinal) => HwDecode::Cuda(ordinal),
        None => HwDecode::Cpu,
    };
    let mut decoder = StageTimes::time(busy, || {
        Decoder::open_with(&item.src, item.probe.as_ref(), hw)
    })
    .map_err(|e| JobError::media("decode", e))?;
    let decoded = decode_frames(&mut decoder, plan, item, task, range, &tx, flow);
    if hw != HwDecode::Cpu {
        let message = match (decoder.hw_fallback(), decoder.hw_frames()) {
            (Some(why), _) => format!("segment {}: decoding on the CPU: {why}", task.index),
            (None, 0) => format!(
                "segment {}: decoding on the CPU: NVDEC does not take this input's codec here",
                task.index
            ),
            (None, n) => format!("segment {}: {n} frames decoded on NVDEC", task.index),
        };
        log(&crate::plugin::LogLine {
            source: crate::plugin::LogSource::Step("decode"),
            level: crate::plugin::Level::INFO,
            message: &message,
        });
    }
    decoded
}

/// Sends the frames of `range` (output indexes) from an opened decoder.
fn decode_frames(
    decoder: &mut Decoder,
    plan: &Plan,
    item: &PlanItem,
    task: &SegmentTask,
    range: std::ops::Range<u64>,
    tx: &Sender<VideoFrame>,
    flow: &Flow<'_>,
) -> Result<(), JobError> {
    let busy = &flow.times.decode;
    let stopped = || flow.stopped();
    let out = &plan.output;
    let retimed = |mut frame: VideoFrame, j: u64| {
        frame.index = j;
        frame.pts_us = out.pts_us(j);
        frame
    };
    let first = if range.start < task.output_start {
        item.source_frame_at(range.start, out)
    } else {
        task.source_start
    };
    StageTimes::time(busy, || decoder.seek_to_frame(first))
        .map_err(|e| JobError::media("decode", e))?;
    let mut current: Option<VideoFrame> = None;
    for j in range.clone() {
        if stopped() {
            break;
        }
        let wanted = item.source_frame_at(j, out);
        while current.as_ref().is_none_or(|f| f.index < wanted) {
            match StageTimes::time(busy, || decoder.next_frame())
                .map_err(|e| JobError::media("decode", e))?
            {
                Some(frame) => current = Some(frame),
                None => {
                    return Err(JobError::media(
                        "decode",
                        format!(
                            "the input ended at frame {} before frame {wanted}",
                            current.map_or(0, |f| f.index + 1)
                        ),
                    ));
                }
            }
        }
        // Move the frame on unless the next output frame shows it again.
        let again = j + 1 < range.end && item.source_frame_at(j + 1, out) == wanted;
        let frame = if again {
            current.clone()
        } else {
            current.take()
        };
        let Some(frame) = frame else { break };
        if tx.send(retimed(frame, j)).is_err() {
            break;
        }
    }
    Ok(())
}

mod duration_ms {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}
