//! The parts of the native `inpaint` step that see the input as a whole:
//! turning the spec's mask into a [`Mask`] (a rectangle, a PNG, or a static
//! mark found from frames sampled across the video), so that a bad mask
//! fails the job at plan time, before any frame is processed; and the model
//! of a semi-transparent mark, estimated once per input from frames across
//! it. Both go into the plan, so every segment, wherever it runs, removes
//! the same mark the same way.

use framejet_inpaint::{
    Anisotropy, DetectOptions, FILL_SHAPE_FRAMES, FoundPlace, InpaintConfig, Inpainter, LogoModel,
    MarkModel, Mask, PlaceFinder, Plane, Rect, Yuv420Frame, choose_fill_shape, detect_mask,
};
use framejet_media::{Decoder, VideoFrame};
use framejet_spec::plan::{MaskRuns, MaskSummary};
use std::ops::Range;

use super::plan::{OutputFormat, PlanItem};
use super::spec::{InpaintStep, MaskSpec, NativeStep, StepSpec};

/// One place of an inpaint step's mark on one input: its mask and the
/// output times (µs into the input) it is used in.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub mask: Mask,
    pub active_us: Range<i64>,
}

/// The places of inpaint step `step`'s mark for a `width`x`height` view of
/// `item`'s input: one for a rectangle or a PNG, one per entry of a list of
/// places, and for `auto` those found from the frames shown in the step's
/// time range (one for a mark that stays put).
pub(crate) fn resolve_places(
    step: &InpaintStep,
    item: &PlanItem,
    out: &OutputFormat,
    width: u32,
    height: u32,
) -> Result<Vec<Place>, String> {
    let (w, h) = (width as usize, height as usize);
    let range = step.active_us();
    let rect = |[x, y, mw, mh]: [u32; 4]| {
        let rect = Rect::new(x.into(), y.into(), mw.into(), mh.into());
        Mask::from_rect(rect, w, h).map_err(|e| e.to_string())
    };
    let png = |path: &std::path::Path| Mask::from_png(path, w, h).map_err(|e| e.to_string());
    let whole = |mask| {
        Ok(vec![Place {
            mask,
            active_us: range.clone(),
        }])
    };
    match &step.mask {
        MaskSpec::Rect(r) => whole(rect(*r)?),
        MaskSpec::Png(path) => whole(png(path)?),
        MaskSpec::Places(places) => places
            .iter()
            .enumerate()
            .map(|(k, place)| {
                let mask = match (&place.rect, &place.png) {
                    (Some(r), _) => rect(*r),
                    (None, Some(path)) => png(path),
                    (None, None) => Err("give a place either `rect` or `png`".to_string()),
                };
                let own = place.active_us();
                Ok(Place {
                    mask: mask.map_err(|e| format!("place {k}: {e}"))?,
                    active_us: range.start.max(own.start)..range.end.min(own.end),
                })
            })
            .collect(),
        MaskSpec::Auto => find_places_in(item, out, range, w, h),
    }
}

/// Summarises place `place` of inpaint step `step` on input `item` for the
/// plan and the job log; `step_range` is the step's own time range.
pub(crate) fn summarize(
    found: &Place,
    step: usize,
    item: usize,
    place: usize,
    detected: bool,
    step_range: &Range<i64>,
) -> MaskSummary {
    let b = found.mask.bbox();
    MaskSummary {
        step,
        item,
        place,
        active_us: (found.active_us != *step_range)
            .then_some([found.active_us.start, found.active_us.end]),
        bbox: [b.x, b.y, b.width as i64, b.height as i64],
        pixels: found.mask.count(),
        detected,
        mask: detected.then(|| MaskRuns::from(&found.mask)),
    }
}

/// The output frames of input `item` at which an inpaint step's frames
/// start going through its inpainter: the first frame of each place's time
/// range. The first frames wait for as many frames as the step's memory
/// (nothing is behind them), so a segment among them decodes that far.
pub(crate) fn stream_starts(plan: &super::plan::Plan, item: usize) -> Vec<u64> {
    let out = &plan.output;
    plan.masks
        .iter()
        .filter(|m| m.item == item)
        .filter_map(|m| {
            let StepSpec::Native(NativeStep::Inpaint(step)) = plan.spec.steps.get(m.step)? else {
                return None;
            };
            let start = m
                .active_us
                .map_or(step.active_us().start, |[a, _]| a)
                .max(0);
            let (num, den) = (i128::from(out.frame_rate.0), i128::from(out.frame_rate.1));
            let mut j = u64::try_from(i128::from(start) * num / (1_000_000 * den.max(1))).ok()?;
            while out.pts_us(j) < start {
                j += 1;
            }
            Some(j)
        })
        .collect()
}

/// The places of inpaint step `step` (`spec`) on item `item` of `plan` for
/// a `width`x`height` view: the ones the plan carries when they were
/// detected, else the spec's (rectangles or PNGs), with the plan's ranges.
pub(crate) fn planned_places(
    plan: &super::plan::Plan,
    step: usize,
    item: usize,
    spec: &InpaintStep,
    width: u32,
    height: u32,
) -> Result<Vec<Place>, String> {
    let range = spec.active_us();
    let mut carried: Vec<&MaskSummary> = plan
        .masks
        .iter()
        .filter(|m| m.step == step && m.item == item)
        .collect();
    carried.sort_by_key(|m| m.place);
    let size = (width as usize, height as usize);
    let detected: Option<Vec<Place>> = carried
        .iter()
        .map(|m| {
            let runs = m.mask.as_ref().filter(|r| (r.width, r.height) == size)?;
            Some(Place {
                mask: Mask::try_from(runs).ok()?,
                active_us: m.active_us.map_or(range.clone(), |[a, b]| a..b),
            })
        })
        .collect();
    match (&spec.mask, detected) {
        (MaskSpec::Auto, Some(places)) if !places.is_empty() => Ok(places),
        _ => {
            let plan_item = plan
                .items
                .get(item)
                .ok_or_else(|| format!("the plan has no input {item}"))?;
            resolve_places(spec, plan_item, &plan.output, width, height)
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

/// Runs of consecutive frames spread evenly over `span` (source frames of
/// `item`'s input, see [`source_span`]) that a mark is estimated from: the
/// runs, and not where segments are cut, decide the model, and a video's
/// first seconds (a fade in, a title) weigh no more than the rest of it,
/// however far apart its keyframes are. The decoder reaches each run from
/// the keyframe before it or from the run before, skipping the frames on
/// the way that no other frame refers to. Each frame carries the output
/// index and time it is shown at. Empty when the span is too short to tell
/// (a step then learns the mark from each segment's first frames).
pub(crate) fn sample_runs(
    item: &PlanItem,
    out: &OutputFormat,
    span: Range<u64>,
) -> Result<Vec<Vec<VideoFrame>>, String> {
    sample_runs_as(item, out, span, |frame, _| Ok(frame))
}

/// The runs of [`sample_runs`] as the inpaint step's own frames when it is
/// the job's first step (it sees them as decoded), `None` when a frame is
/// not `width`x`height`. Each frame is copied as it is decoded, so the
/// decoder reuses its buffers while it decodes the next frames on the other
/// cores; only its part within `reach` where there is one (see
/// [`estimate_reach`]).
pub(crate) fn sample_step_frames(
    item: &PlanItem,
    out: &OutputFormat,
    span: Range<u64>,
    (width, height): (u32, u32),
    reach: Option<Rect>,
) -> Result<Option<SampledRuns>, String> {
    // The first frame of each run, whole, for as many runs as the fill's choice reads.
    let mut wholes = 0;
    let runs = sample_runs_as(item, out, span, |frame, k| {
        let whole = if k == 0 && wholes < FILL_SHAPE_FRAMES {
            wholes += 1;
            step_frame(&frame, width, height, None)?
        } else {
            None
        };
        Ok((step_frame(&frame, width, height, reach)?, whole))
    })?;
    let mut sampled = SampledRuns::default();
    for run in runs {
        let mut frames = Vec::with_capacity(run.len());
        for (frame, whole) in run {
            let Some(frame) = frame else {
                return Ok(None);
            };
            frames.push(frame);
            sampled.whole.extend(whole);
        }
        sampled.runs.push(frames);
    }
    Ok(Some(sampled))
}

/// The runs of frames a place's mark is estimated from, as the inpaint step
/// sees them (their part within the estimate's reach), and the first frame
/// of each of the first runs whole, on which the spatial fill's shape is
/// chosen (see [`framejet_inpaint::choose_fill_shape`]).
#[derive(Default)]
pub(crate) struct SampledRuns {
    pub runs: Vec<Vec<Yuv420Frame>>,
    pub whole: Vec<Yuv420Frame>,
}

/// [`sample_runs`], each frame made into a `T` by `keep` as it is decoded
/// (with its place in its run).
fn sample_runs_as<T>(
    item: &PlanItem,
    out: &OutputFormat,
    span: Range<u64>,
    mut keep: impl FnMut(VideoFrame, usize) -> Result<T, String>,
) -> Result<Vec<Vec<T>>, String> {
    if item.still || span.end.saturating_sub(span.start) < 2 {
        return Ok(Vec::new());
    }
    let decoder = match &item.probe {
        Some(probe) => Decoder::open_probed(&item.src, probe),
        None => Decoder::open(&item.src),
    };
    let mut decoder = decoder.map_err(|e| e.to_string())?;
    let total = span.end - span.start;
    // A short span is one run; a longer one, runs a sixth of it apart (more than a run).
    let (starts, run): (Vec<u64>, u64) = if total <= MARK_RUNS * MARK_RUN_FRAMES {
        (vec![span.start], total)
    } else {
        let starts = (0..MARK_RUNS).map(|k| span.start + k * total / MARK_RUNS);
        (starts.collect(), MARK_RUN_FRAMES)
    };
    let mut runs = Vec::with_capacity(starts.len());
    for &start in &starts {
        decoder.seek_to_frame(start).map_err(|e| e.to_string())?;
        let mut frames = Vec::new();
        for k in 0..run as usize {
            let Some(mut frame) = decoder.next_frame().map_err(|e| e.to_string())? else {
                break;
            };
            if frame.index >= span.end {
                break;
            }
            let j = item.output_frame_for(frame.index, out);
            frame.index = j;
            frame.pts_us = out.pts_us(j);
            frames.push(keep(frame, k)?);
        }
        runs.push(frames);
    }
    Ok(runs)
}

/// `frames` as the inpaint step's own frames (their part within `reach`, see
/// [`estimate_reach`]), `None` when one is not `width`x`height` (the step
/// then learns the mark from each segment).
pub(crate) fn step_frames<'a>(
    frames: impl IntoIterator<Item = &'a VideoFrame>,
    width: u32,
    height: u32,
    reach: Option<Rect>,
) -> Result<Option<Vec<Yuv420Frame>>, String> {
    frames
        .into_iter()
        .map(|frame| step_frame(frame, width, height, reach))
        .collect::<Result<Option<Vec<_>>, _>>()
}

/// What of each frame [`estimate_marks`] reads for a step whose places have
/// the masks `masks`: one place's estimate and measurement read its mask's
/// reach alone ([`InpaintConfig::reach`]; the rest of a frame copied for
/// them can stay 0, costing no memory); a mark at several places is
/// estimated from them aligned, so all of every frame (`None`).
pub(crate) fn estimate_reach(masks: &[&Mask]) -> Option<Rect> {
    match masks {
        [mask] => Some(InpaintConfig::default().reach(mask)),
        _ => None,
    }
}

/// `frame` copied as the inpaint step's own frame, only its part within
/// `reach` where there is one, `None` when it is not `width`x`height`.
fn step_frame(
    frame: &VideoFrame,
    width: u32,
    height: u32,
    reach: Option<Rect>,
) -> Result<Option<Yuv420Frame>, String> {
    if (frame.width(), frame.height()) != (width, height) {
        return Ok(None);
    }
    let [y, u, v] = planes(frame)?;
    match reach {
        Some(rect) => Yuv420Frame::from_planes_within(y, u, v, rect),
        None => Yuv420Frame::from_planes(y, u, v),
    }
    .map(Some)
    .map_err(|e| e.to_string())
}

/// A place's estimated mark, the coding noise measured under it, and the
/// shape of spatial fill that suits the picture around it.
pub(crate) type PlaceMark = (LogoModel, Option<f64>, Anisotropy);

/// Estimates the mark of each place (its runs of consecutive frames as the
/// inpaint step sees them, and its mask), and the input's coding noise under
/// it, measured on the same runs (see [`InpaintConfig::coding_noise`]): once
/// from all the places' frames where their masks are one mark at several
/// places (see [`LogoModel::estimate_places`]), else per place. `None` for a
/// place with too few frames to tell. The frames are used up by the
/// measurement. Both run with the default configuration (whose reach
/// [`estimate_reach`] says). The spatial fill's shape is chosen on the first
/// frames of the runs, kept whole (see [`choose_fill_shape`]).
pub(crate) fn estimate_marks(
    places: Vec<(SampledRuns, &Mask)>,
) -> Result<Vec<Option<PlaceMark>>, String> {
    // The estimate reads each place's frames one after the other: a pair across two runs
    // counts where the pictures match, as any pair does. The noise is measured run by run.
    let mut shapes = Vec::with_capacity(places.len());
    let places: Vec<(Vec<Yuv420Frame>, Vec<usize>, &Mask)> = places
        .into_iter()
        .map(|(sampled, mask)| {
            shapes.push(choose_fill_shape(&sampled.whole, mask));
            let lengths = sampled.runs.iter().map(Vec::len).collect();
            (sampled.runs.into_iter().flatten().collect(), lengths, mask)
        })
        .collect();
    let config = InpaintConfig::default();
    let usable = |frames: &[Yuv420Frame]| frames.len() >= 2;
    let joint = if places.len() > 1 && places.iter().all(|(f, _, _)| usable(f)) {
        let views: Vec<(&[Yuv420Frame], &Mask)> =
            places.iter().map(|(f, _, m)| (f.as_slice(), *m)).collect();
        LogoModel::estimate_places(&views, &config).map_err(|e| e.to_string())?
    } else {
        None
    };
    let mut marks = Vec::with_capacity(places.len());
    for (k, (frames, runs, mask)) in places.into_iter().enumerate() {
        let model = match &joint {
            Some(models) => models[k].clone(),
            None if usable(&frames) => {
                LogoModel::estimate(&frames, mask, &config).map_err(|e| e.to_string())?
            }
            None => {
                marks.push(None);
                continue;
            }
        };
        let noise = coding_noise(frames, &runs, mask, &model).map_err(|e| e.to_string())?;
        marks.push(Some((model, noise, shapes[k])));
    }
    Ok(marks)
}

/// Averages the un-blended pixels of `frames` (runs of consecutive frames
/// of the lengths `runs`, one after the other) with the estimated `model`,
/// every frame, to measure how much averaging takes off the input's coding
/// noise under the mark (nothing else of the step runs: see
/// [`InpaintConfig::measure_coding_noise`]). Each run is measured on its
/// own, since frames of two runs are far apart in the video (where the
/// camera stands still they would still match, and what changed in between
/// would count as noise), and the runs' measurements are averaged by their
/// frames.
fn coding_noise(
    frames: Vec<Yuv420Frame>,
    runs: &[usize],
    mask: &Mask,
    model: &LogoModel,
) -> Result<Option<f64>, framejet_inpaint::InpaintError> {
    let config = InpaintConfig::default()
        .mark(MarkModel::Estimated(model.clone()))
        .measure_coding_noise();
    let (mut sum, mut weight) = (0.0, 0.0);
    let mut frames = frames.into_iter();
    for &len in runs {
        let mut inpainter = Inpainter::new(config.clone(), mask.clone())?;
        if !inpainter.averages() {
            // An opaque mark: nothing is un-blended, so nothing to measure.
            return Ok(None);
        }
        for frame in frames.by_ref().take(len) {
            inpainter.push(frame)?;
        }
        inpainter.finish()?;
        if let Some(noise) = inpainter.coding_noise() {
            sum += noise * len as f64;
            weight += len as f64;
        }
    }
    Ok((weight > 0.0).then(|| sum / weight))
}

/// Finds the places of the mark of `item`'s input over the output times
/// `range` (µs into the input): pairs of nearby frames sampled across it
/// show where something stays pinned to the screen while the picture moves,
/// and when. A mark found at one place only stays put and is removed
/// throughout; a mark that moves has each place's first and last frames
/// narrowed down frame by frame between the samples either side. Either
/// way, a place's mask takes in what stays still next to it (a
/// semi-transparent mark's edges along the motion are never pinned).
fn find_places_in(
    item: &PlanItem,
    out: &OutputFormat,
    range: Range<i64>,
    width: usize,
    height: usize,
) -> Result<Vec<Place>, String> {
    let span = source_span(item, out, range.clone());
    if span.is_empty() {
        return Err("no frame of the input is shown in the step's time range".to_string());
    }
    let mut decoder = open_decoder(item)?;
    let found = sample_places(&mut decoder, span.clone(), width, height)?;
    if found.len() < 2 {
        let frames = still_samples(&mut decoder, span, width, height)?;
        let lumas = frames
            .iter()
            .map(|f| planes(f).map(|[y, _, _]| y))
            .collect::<Result<Vec<_>, _>>()?;
        let options = DetectOptions::default();
        let mask = match found.into_iter().next() {
            Some(mut place) => {
                place
                    .refine_throughout(lumas, &options)
                    .map_err(|e| e.to_string())?;
                place.mask
            }
            // Nothing pinned (a still camera): what stays still is all there
            // is to go by.
            None => detect_mask(lumas, &options).map_err(|e| e.to_string())?,
        };
        return Ok(vec![Place {
            mask,
            active_us: range,
        }]);
    }
    let at = |frame: u64| out.pts_us(item.output_frame_for(frame, out));
    let mut places = Vec::with_capacity(found.len());
    for mut place in found {
        let first = match place.before {
            Some(before) => bisect(&mut decoder, &place, place.first, before)?.0,
            None => span.start,
        };
        let end = match place.after {
            Some(after) => bisect(&mut decoder, &place, place.last, after)?.1,
            None => span.end,
        };
        // What the pairs could not pin (edges along the motion), from frames of the stay.
        let step = ((end - first) / REFINE_SAMPLES).max(1);
        let mut frames = Vec::new();
        for n in (first..end).step_by(step as usize) {
            let Some(frame) = next_at(&mut decoder, n, (width, height))? else {
                break;
            };
            frames.push(frame);
        }
        let lumas = frames
            .iter()
            .map(|f| planes(f).map(|[y, _, _]| y))
            .collect::<Result<Vec<_>, _>>()?;
        place
            .refine(lumas, &DetectOptions::default())
            .map_err(|e| e.to_string())?;
        let start = if place.before.is_some() {
            at(first)
        } else {
            range.start
        };
        let end = if place.after.is_some() {
            at(end)
        } else {
            range.end
        };
        places.push(Place {
            mask: place.mask,
            active_us: start.max(range.start)..end.min(range.end),
        });
    }
    Ok(places)
}

/// Frames of each place's stay that show what stays still next to it.
const REFINE_SAMPLES: u64 = 24;
/// Frame pairs sampled to find a mark's places.
const PLACE_SAMPLES: u64 = 96;
/// How far apart (frames) the frames of a pair may be: the picture moves
/// by a whole number of pixels over one of them more exactly than others.
const PLACE_PAIR_GAPS: [u64; 6] = [1, 2, 3, 4, 6, 8];

/// Samples up to [`PLACE_SAMPLES`] pairs of nearby frames over `span` and
/// finds the places of a mark in them (see [`PlaceFinder`]).
fn sample_places(
    decoder: &mut Decoder,
    span: Range<u64>,
    width: usize,
    height: usize,
) -> Result<Vec<FoundPlace>, String> {
    let mut finder = PlaceFinder::new(width, height);
    let total = span.end - span.start;
    let step = total.div_ceil(PLACE_SAMPLES).max(1);
    // Frames decoded for the pairs: samples close together share them, and
    // the decoder never seeks back.
    let mut window: Vec<(u64, VideoFrame)> = Vec::new();
    // The frames each sample decodes, from its first: every one up to the
    // farthest pair when samples are closer than that (later samples pair
    // frames this one skips), else only this sample's.
    let reach = PLACE_PAIR_GAPS[PLACE_PAIR_GAPS.len() - 1];
    let offsets: Vec<u64> = if step <= reach {
        (0..=reach).collect()
    } else {
        std::iter::once(0).chain(PLACE_PAIR_GAPS).collect()
    };
    let mut n = span.start;
    while n + 1 < span.end {
        window.retain(|(i, _)| *i >= n);
        for i in offsets.iter().map(|o| n + o).filter(|&i| i < span.end) {
            if !window.iter().any(|(j, _)| *j == i)
                && let Some(frame) = next_at(decoder, i, (width, height))?
            {
                window.push((i, frame));
            }
        }
        window.sort_by_key(|(i, _)| *i);
        let mut frames = window
            .iter()
            .filter(|(i, _)| *i == n || PLACE_PAIR_GAPS.contains(&(i - n)));
        let Some((_, first)) = frames.next() else {
            break;
        };
        let later = frames
            .map(|(i, f)| Ok((*i, planes(f)?)))
            .collect::<Result<Vec<_>, String>>()?;
        if later.is_empty() {
            break;
        }
        finder
            .add((n, planes(first)?), &later)
            .map_err(|e| e.to_string())?;
        n += step;
    }
    finder
        .finish(&DetectOptions::default())
        .map_err(|e| e.to_string())
}

/// Narrows down, by bisection, where the mark at `place` comes or goes
/// between frame `present` (which shows it) and frame `absent` (which does
/// not), on either side: the two neighbouring frames, the one that shows it
/// first. Each frame tried is compared with the nearest frames known to show
/// it and known not to, so that how far the picture has moved weighs alike
/// on both sides.
fn bisect(
    decoder: &mut Decoder,
    place: &FoundPlace,
    present: u64,
    absent: u64,
) -> Result<(u64, u64), String> {
    let size = (place.mask.width(), place.mask.height());
    let mut present = (present, frame_at(decoder, present, size)?);
    let mut absent = (absent, frame_at(decoder, absent, size)?);
    while present.0.abs_diff(absent.0) > 1 {
        let mid = present.0.min(absent.0) + present.0.abs_diff(absent.0) / 2;
        let probe = frame_at(decoder, mid, size)?;
        if shows(place, &probe, &present.1, &absent.1)? {
            present = (mid, probe);
        } else {
            absent = (mid, probe);
        }
    }
    Ok((present.0, absent.0))
}

/// Whether `probe` shows the mark at `place`, as `present` does and
/// `absent` does not.
fn shows(
    place: &FoundPlace,
    probe: &VideoFrame,
    present: &VideoFrame,
    absent: &VideoFrame,
) -> Result<bool, String> {
    Ok(place.is_present(planes(probe)?[0], planes(present)?[0], planes(absent)?[0]))
}

fn open_decoder(item: &PlanItem) -> Result<Decoder, String> {
    match &item.probe {
        Some(probe) => Decoder::open_probed(&item.src, probe),
        None => Decoder::open(&item.src),
    }
    .map_err(|e| e.to_string())
}

/// Frame `n` of the input, which must be `width`x`height`.
fn frame_at(decoder: &mut Decoder, n: u64, size: (usize, usize)) -> Result<VideoFrame, String> {
    next_at(decoder, n, size)?.ok_or_else(|| format!("the input ends before frame {n}"))
}

/// Frame `n` of the input, none past its end. It must be
/// `width`x`height`: `auto` finds the mark on the input's frames, so it goes
/// before any `fit`.
fn next_at(
    decoder: &mut Decoder,
    n: u64,
    (width, height): (usize, usize),
) -> Result<Option<VideoFrame>, String> {
    if n >= decoder.info().video.frame_count {
        return Ok(None);
    }
    decoder.seek_to_frame(n).map_err(|e| e.to_string())?;
    let Some(frame) = decoder.next_frame().map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    if (frame.width() as usize, frame.height() as usize) != (width, height) {
        return Err(format!(
            "`\"mask\": \"auto\"` finds the mark on the input's {}x{} frames, but this step sees {width}x{height}: put the inpaint step before `fit`",
            frame.width(),
            frame.height()
        ));
    }
    Ok(Some(frame))
}

/// The Y, U and V planes of `frame`.
fn planes(frame: &VideoFrame) -> Result<[Plane<'_>; 3], String> {
    super::steps::planes_of(frame).map_err(|e| e.to_string())
}

/// Frames sampled across the input to find what stays still in it.
const DETECT_SAMPLES: u64 = 60;

/// Up to [`DETECT_SAMPLES`] frames of an input (`decoder`) spread over
/// `span` (source frames), for [`detect_mask`].
fn still_samples(
    decoder: &mut Decoder,
    span: Range<u64>,
    width: usize,
    height: usize,
) -> Result<Vec<VideoFrame>, String> {
    let frames = decoder.info().video.frame_count.min(span.end);
    let step = (frames.saturating_sub(span.start) / DETECT_SAMPLES).max(1);
    let mut samples = Vec::new();
    let mut n = span.start;
    while n < frames && (samples.len() as u64) < DETECT_SAMPLES {
        let Some(frame) = next_at(decoder, n, (width, height))? else {
            break;
        };
        samples.push(frame);
        n += step;
    }
    Ok(samples)
}
