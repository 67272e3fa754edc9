//! The parts of the native `inpaint` step that see the input as a whole:
//! turning the spec's mask into a [`Mask`] (a rectangle, a PNG, or a static
//! mark found from frames sampled across the video), so that a bad mask
//! fails the job at plan time, before any frame is processed; and the model
//! of a semi-transparent mark, estimated once per input from frames across
//! it. Both go into the plan, so every segment, wherever it runs, removes
//! the same mark the same way.

use framejet_inpaint::{
    DetectOptions, InpaintConfig, Inpainter, LogoModel, MarkModel, Mask, Plane, Rect, Yuv420Frame,
    detect_mask,
};
use framejet_media::{Decoder, VideoFrame};
use framejet_spec::plan::{MaskRuns, MaskSummary};
use std::ops::Range;

use super::plan::{OutputFormat, PlanItem};
use super::spec::{InpaintStep, MaskSpec};

/// The mask of inpaint step `step` for a `width`x`height` view of `item`'s
/// input (for `auto`, found from the frames shown in the step's time range).
pub(crate) fn resolve_mask(
    step: &InpaintStep,
    item: &PlanItem,
    out: &OutputFormat,
    width: u32,
    height: u32,
) -> Result<Mask, String> {
    let (w, h) = (width as usize, height as usize);
    match &step.mask {
        MaskSpec::Rect([x, y, mw, mh]) => {
            let rect = Rect::new((*x).into(), (*y).into(), (*mw).into(), (*mh).into());
            Mask::from_rect(rect, w, h).map_err(|e| e.to_string())
        }
        MaskSpec::Png(path) => Mask::from_png(path, w, h).map_err(|e| e.to_string()),
        MaskSpec::Auto => detect_mask_in(item, source_span(item, out, step.active_us()), w, h),
    }
}

/// Summarises `mask` for the plan and the job log.
pub(crate) fn summarize(mask: &Mask, step: usize, item: usize, detected: bool) -> MaskSummary {
    let b = mask.bbox();
    MaskSummary {
        step,
        item,
        bbox: [b.x, b.y, b.width as i64, b.height as i64],
        pixels: mask.count(),
        detected,
        mask: detected.then(|| MaskRuns::from(mask)),
    }
}

/// The mask of inpaint step `step` (`spec`) on item `item` of `plan` for a
/// `width`x`height` view: the one the plan carries when it was detected,
/// else the spec's (a rectangle or a PNG).
pub(crate) fn planned_mask(
    plan: &super::plan::Plan,
    step: usize,
    item: usize,
    spec: &InpaintStep,
    width: u32,
    height: u32,
) -> Result<Mask, String> {
    let carried = plan
        .masks
        .iter()
        .find(|m| m.step == step && m.item == item)
        .and_then(|m| m.mask.as_ref())
        .filter(|m| (m.width, m.height) == (width as usize, height as usize));
    match (&spec.mask, carried) {
        (MaskSpec::Auto, Some(mask)) => Mask::try_from(mask).map_err(|e| e.to_string()),
        _ => {
            let plan_item = plan
                .items
                .get(item)
                .ok_or_else(|| format!("the plan has no input {item}"))?;
            resolve_mask(spec, plan_item, &plan.output, width, height)
        }
    }
}

/// Runs of consecutive frames the mark is estimated from, and their length.
const MARK_RUNS: u64 = 6;
const MARK_RUN_FRAMES: u64 = 10;

/// The source frames of `item` shown at output times in `active` (µs into
/// the input), as a range; empty when none is.
pub(crate) fn source_span(item: &PlanItem, out: &OutputFormat, active: Range<i64>) -> Range<u64> {
    let frames = item.output_frames;
    // The first output frame shown at or after `t`.
    let at = |t: i64| -> u64 {
        if t <= 0 {
            return 0;
        }
        let (num, den) = (
            i128::from(out.frame_rate.0),
            i128::from(out.frame_rate.1).max(1),
        );
        let scale = den * 1_000_000;
        let j = (i128::from(t) * num + scale - 1) / scale;
        u64::try_from(j).unwrap_or(u64::MAX).min(frames)
    };
    let (j0, j1) = (at(active.start), at(active.end));
    if j0 >= j1 || item.source_frames == 0 {
        return 0..0;
    }
    let s0 = item.source_frame_at(j0, out);
    let s1 = (item.source_frame_at(j1 - 1, out) + 1).min(item.source_frames);
    s0..s1.max(s0)
}

/// Runs of consecutive frames spread over `span` (source frames of
/// `item`'s input, see [`source_span`]) that a mark is estimated from, each
/// starting on a keyframe where one is in the span, so few seeks decode
/// frames they drop: the runs, and not where segments are cut, decide the
/// model. Each frame carries the output index and time it is shown at.
/// Empty when the span is too short to tell (a step then learns the mark
/// from each segment's first frames).
pub(crate) fn sample_runs(
    item: &PlanItem,
    out: &OutputFormat,
    span: Range<u64>,
) -> Result<Vec<Vec<VideoFrame>>, String> {
    if item.still || span.end.saturating_sub(span.start) < 2 {
        return Ok(Vec::new());
    }
    let decoder = match &item.probe {
        Some(probe) => Decoder::open_probed(&item.src, probe),
        None => Decoder::open(&item.src),
    };
    let mut decoder = decoder.map_err(|e| e.to_string())?;
    let total = span.end - span.start;
    let mut starts: Vec<u64> = if total <= MARK_RUNS * MARK_RUN_FRAMES {
        vec![span.start]
    } else {
        (0..MARK_RUNS)
            .map(|k| {
                let target = span.start + k * total / MARK_RUNS;
                let at = item.keyframes.partition_point(|&f| f <= target);
                item.keyframes
                    .get(at.saturating_sub(1))
                    .copied()
                    .filter(|&key| key >= span.start)
                    .unwrap_or(target)
                    .min(span.end - MARK_RUN_FRAMES)
            })
            .collect()
    };
    starts.dedup();
    let run = if starts.len() == 1 {
        total.min(MARK_RUNS * MARK_RUN_FRAMES)
    } else {
        MARK_RUN_FRAMES
    };
    let mut runs = Vec::with_capacity(starts.len());
    for &start in &starts {
        decoder.seek_to_frame(start).map_err(|e| e.to_string())?;
        let mut frames = Vec::new();
        for _ in 0..run {
            let Some(mut frame) = decoder.next_frame().map_err(|e| e.to_string())? else {
                break;
            };
            if frame.index >= span.end {
                break;
            }
            let j = item.output_frame_for(frame.index, out);
            frame.index = j;
            frame.pts_us = out.pts_us(j);
            frames.push(frame);
        }
        runs.push(frames);
    }
    Ok(runs)
}

/// Estimates the mark under `mask` from `frames` as the inpaint step sees
/// them (`width`x`height`), and the input's coding noise under it, measured
/// on the same frames (see [`InpaintConfig::coding_noise`]). `None` when
/// there are too few to tell.
pub(crate) fn estimate_mark<'a>(
    frames: impl IntoIterator<Item = &'a VideoFrame>,
    mask: &Mask,
    width: u32,
    height: u32,
) -> Result<Option<(LogoModel, Option<f64>)>, String> {
    let mut yuv = Vec::new();
    for frame in frames {
        if (frame.width(), frame.height()) != (width, height) {
            return Ok(None);
        }
        let [y, u, v] = [0, 1, 2].map(|i| {
            Plane::new(
                frame.plane(i),
                frame.plane_width(i),
                frame.plane_height(i),
                frame.stride(i),
            )
        });
        let frame = Yuv420Frame::from_planes(
            y.map_err(|e| e.to_string())?,
            u.map_err(|e| e.to_string())?,
            v.map_err(|e| e.to_string())?,
        )
        .map_err(|e| e.to_string())?;
        yuv.push(frame);
    }
    if yuv.len() < 2 {
        return Ok(None);
    }
    let model =
        LogoModel::estimate(&yuv, mask, &InpaintConfig::default()).map_err(|e| e.to_string())?;
    let noise = coding_noise(yuv, mask, &model).map_err(|e| e.to_string())?;
    Ok(Some((model, noise)))
}

/// Runs `frames` (runs of consecutive frames, one after the other: pairs
/// across runs do not match and are left out) through the step with the
/// estimated `model`, averaging every frame, to measure how much averaging
/// takes off the input's coding noise under the mark.
fn coding_noise(
    frames: Vec<Yuv420Frame>,
    mask: &Mask,
    model: &LogoModel,
) -> Result<Option<f64>, framejet_inpaint::InpaintError> {
    let config = InpaintConfig::default()
        .mark(MarkModel::Estimated(model.clone()))
        .measure_coding_noise();
    let mut inpainter = Inpainter::new(config, mask.clone())?;
    for frame in frames {
        inpainter.push(frame)?;
    }
    inpainter.finish()?;
    Ok(inpainter.coding_noise())
}

/// Frames sampled across the input to find the mark.
const DETECT_SAMPLES: u64 = 60;

/// Finds the static mark of `item`'s input from frames spread over `span`
/// (source frames; its decoder opened from the plan's probe when there is
/// one). The frames must be `width`x`height`, so `auto` goes before any
/// `fit`.
fn detect_mask_in(
    item: &PlanItem,
    span: Range<u64>,
    width: usize,
    height: usize,
) -> Result<Mask, String> {
    if span.is_empty() {
        return Err("no frame of the input is shown in the step's time range".to_string());
    }
    let decoder = match &item.probe {
        Some(probe) => Decoder::open_probed(&item.src, probe),
        None => Decoder::open(&item.src),
    };
    let mut decoder = decoder.map_err(|e| e.to_string())?;
    let frames = decoder.info().video.frame_count.min(span.end);
    let step = (frames.saturating_sub(span.start) / DETECT_SAMPLES).max(1);
    let mut samples = Vec::new();
    let mut n = span.start;
    while n < frames && (samples.len() as u64) < DETECT_SAMPLES {
        decoder.seek_to_frame(n).map_err(|e| e.to_string())?;
        let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? else {
            break;
        };
        if (frame.width() as usize, frame.height() as usize) != (width, height) {
            return Err(format!(
                "`\"mask\": \"auto\"` finds the mark on the input's {}x{} frames, but this step sees {width}x{height}: put the inpaint step before `fit`",
                frame.width(),
                frame.height()
            ));
        }
        samples.push(frame);
        n += step;
    }
    let planes = samples
        .iter()
        .map(|f| Plane::new(f.plane(0), f.plane_width(0), f.plane_height(0), f.stride(0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    detect_mask(planes, &DetectOptions::default()).map_err(|e| e.to_string())
}
