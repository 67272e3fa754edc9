//! `plan`: from a job spec and its probed inputs to the list of segment
//! tasks, using the router and segmenter plugins. Plugin steps are created
//! once per input here too, so bad params fail the job before any frame is
//! decoded.

use std::collections::BTreeMap;
use std::ops::Range;

use framejet_inpaint::FILL_SHAPE_FRAMES;
use framejet_media::MediaKind;
pub use framejet_spec::plan::{
    EstimatedMark, MaskSummary, OutputFormat, PLAN_VERSION, Plan, PlanError, PlanItem,
    RouteDecision, SegmentContextFrames, SegmentTask, step_sizes,
};

use crate::plugin::{self, PluginEnv, PluginKind, PluginRegistry};

use super::JobError;
use super::inpaint::{
    SampledRuns, estimate_marks as estimate_place_marks, estimate_reach, planned_places,
    resolve_places, sample_runs, sample_step_frames, source_span, step_frames, summarize,
};
use super::spec::{
    HwSpec, JobPriority, JobSpec, MaskSpec, NativeStep, PluginStep, StepSpec, parse_rational,
};
use super::steps::StepChain;

/// Plugins used when a job names none.
pub const DEFAULT_ROUTER: &str = "route-by-size";
pub const DEFAULT_SEGMENTER: &str = "segment-keyframes";

/// Output frame rate when no input has one (a job of stills only).
const STILLS_FRAME_RATE: (u32, u32) = (30, 1);
/// How long a still is shown when the spec does not say.
const DEFAULT_STILL_SECONDS: f64 = 3.0;

/// The media-info a plugin sees for `item`, at `width`x`height`.
pub(crate) fn plugin_media_info(
    item: &PlanItem,
    out: &OutputFormat,
    width: u32,
    height: u32,
) -> plugin::MediaInfo {
    plugin::MediaInfo {
        width,
        height,
        frame_rate: plugin::Rational {
            num: out.frame_rate.0,
            den: out.frame_rate.1,
        },
        frame_count: item.output_frames,
        duration_us: out.pts_us(item.output_frames).max(0) as u64,
        keyframes: if item.still {
            vec![0]
        } else {
            let mut keys: Vec<u64> = item
                .keyframes
                .iter()
                .map(|&k| item.output_frame_for(k, out))
                .collect();
            keys.dedup();
            keys
        },
        has_audio: item.has_audio,
    }
}

/// How the plan is to be run.
#[derive(Clone, Copy, Debug)]
pub struct PlanOptions {
    /// Segments that can run at once (local threads, or fleet workers). When the spec names
    /// no segmenter, the default one is asked for at least this many segments per video
    /// (`min_segments`), so that a short video still keeps every worker busy.
    pub parallel_segments: usize,
    /// Threads each segment's encoder gets (at least 1).
    pub encoder_threads: usize,
    /// Every segment runs on this machine, so `hw: auto` can be left to
    /// each encoder (they all find the same hardware).
    pub one_machine: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            parallel_segments: 1,
            encoder_threads: 1,
            one_machine: true,
        }
    }
}

/// Probes the inputs, routes the job and plans its segments.
pub fn plan(
    spec: JobSpec,
    registry: &PluginRegistry,
    options: &PlanOptions,
) -> Result<Plan, JobError> {
    spec.validate()?;
    refuse_remote_paths(&spec)?;
    super::settings::check_output_settings(&spec.output)?;
    let job_id = spec.id.clone().unwrap_or_else(new_job_id);
    let planned_at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let env = PluginEnv {
        limits: spec.plugin_limits.clone(),
        random_seed: random_seed(&job_id, None),
        wall_clock_ms: planned_at_ms,
        ..PluginEnv::default()
    };

    let mut items = Vec::with_capacity(spec.inputs.len());
    for input in &spec.inputs {
        items.push(probe_item(input)?);
    }

    let frame_rate = match &spec.output.frame_rate {
        Some(rate) => parse_rational(rate).map_err(|m| super::spec::SpecError::Invalid {
            field: "output.frame_rate".into(),
            message: m,
        })?,
        None => items
            .iter()
            .find(|i| !i.still)
            .map(|i| i.source_rate)
            .unwrap_or(STILLS_FRAME_RATE),
    };
    let (width, height) = match spec.fit() {
        Some((w, h, _, _)) => (w, h),
        None => (items[0].width & !1, items[0].height & !1),
    };
    let output = OutputFormat {
        width,
        height,
        frame_rate,
    };

    let mut start = 0;
    for (i, item) in items.iter_mut().enumerate() {
        item.output_frames = if item.still {
            let secs = spec.inputs[i]
                .still_seconds
                .unwrap_or(DEFAULT_STILL_SECONDS);
            ((secs * frame_rate.0 as f64 / frame_rate.1 as f64).round() as u64).max(1)
        } else {
            let probe = PlanItem {
                output_frames: u64::MAX,
                ..item.clone()
            };
            probe.output_frame_for(item.source_frames, &output)
        };
        item.output_start = start;
        start += item.output_frames;
    }

    let mut plugins = BTreeMap::new();
    let route = route(
        &spec,
        &job_id,
        &items,
        &output,
        registry,
        &env,
        &mut plugins,
    )?;
    check_plugin_steps(&spec, &items, &output, registry, &env, &mut plugins)?;
    let masks = resolve_masks(&spec, &items, &output)?;
    let hw = match spec.output.video.hw {
        HwSpec::Auto if route.capabilities.iter().any(|c| c == "nvenc") => HwSpec::Nvenc,
        HwSpec::Auto if !options.one_machine => HwSpec::Cpu,
        other => other,
    };
    let segments = plan_segments(
        &spec,
        &items,
        &output,
        registry,
        &env,
        options,
        &mut plugins,
    )?;
    let spec_steps = spec.steps.clone();
    let mut plan = Plan {
        version: PLAN_VERSION,
        job_id,
        spec,
        route,
        output,
        items,
        segments,
        masks,
        marks: Vec::new(),
        context: segment_context(&spec_steps),
        encoder_threads: options.encoder_threads.clamp(1, 256),
        plugins,
        planned_at_ms,
        hw,
    };
    estimate_marks(&mut plan, registry)?;
    Ok(plan)
}

/// Planning reads local files: a `media:` name or a URL (what a fleet
/// job names) must have been fetched first.
fn refuse_remote_paths(spec: &JobSpec) -> Result<(), JobError> {
    let mut remote = None;
    spec.clone().for_each_path(|p| {
        if remote.is_none() && framejet_spec::is_remote(p) {
            remote = Some(p.clone());
        }
    });
    match remote {
        Some(path) => Err(JobError::Input {
            input: path,
            message: "names a fleet's media or a URL; `framejet run` reads local files (framejet submit sends a job to a fleet)".into(),
        }),
        None => Ok(()),
    }
}

/// The seed of `wasi:random` for the plugins of `segment` of job `job_id`
/// (`None`: planning): the same wherever and however often it runs.
pub(crate) fn random_seed(job_id: &str, segment: Option<usize>) -> u64 {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(job_id.as_bytes());
    hash.update(segment.map_or(u64::MAX, |s| s as u64).to_le_bytes());
    let digest = hash.finalize();
    let mut seed = [0u8; 8];
    seed.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(seed)
}

fn probe_item(input: &super::spec::InputSpec) -> Result<PlanItem, JobError> {
    let probe = framejet_media::probe_input(&input.src).map_err(|e| JobError::Input {
        input: input.src.clone(),
        message: e.to_string(),
    })?;
    let info = &probe.info;
    let still = info.kind == MediaKind::Still;
    let video = &info.video;
    if !still && video.frame_count == 0 {
        return Err(JobError::Input {
            input: input.src.clone(),
            message: "the video has no frames".into(),
        });
    }
    let rate = |r: framejet_media::Rational| (r.num.max(1) as u32, r.den.max(1) as u32);
    Ok(PlanItem {
        src: input.src.clone(),
        still,
        width: video.display_width,
        height: video.display_height,
        source_rate: rate(video.frame_rate),
        source_frames: if still { 1 } else { video.frame_count },
        keyframes: video.keyframes.clone(),
        has_audio: info.audio.is_some(),
        output_frames: 0,
        output_start: 0,
        probe: Some(probe),
    })
}

fn route(
    spec: &JobSpec,
    job_id: &str,
    items: &[PlanItem],
    output: &OutputFormat,
    registry: &PluginRegistry,
    env: &PluginEnv,
    plugins: &mut BTreeMap<String, String>,
) -> Result<RouteDecision, JobError> {
    let step = spec.route.clone().unwrap_or_else(|| PluginStep {
        plugin: DEFAULT_ROUTER.into(),
        params: serde_json::json!({}),
    });
    let plugin = registry
        .get(&step.plugin)
        .map_err(|e| JobError::plugin("route.plugin", e))?;
    plugins.insert(step.plugin.clone(), plugin.digest().to_string());
    let total_frames: u64 = items.iter().map(|i| i.output_frames).sum();
    let job = plugin::JobInfo {
        id: job_id.to_string(),
        item_count: items.len() as u32,
        output_width: output.width,
        output_height: output.height,
        total_frames,
        total_duration_us: output.pts_us(total_frames).max(0) as u64,
        step_count: spec.steps.len() as u32,
        priority: match spec.priority {
            JobPriority::Low => plugin::Priority::Low,
            JobPriority::Normal => plugin::Priority::Normal,
            JobPriority::High => plugin::Priority::High,
        },
    };
    let route = plugin
        .route(&job, &step.params.to_string(), env.clone())
        .map_err(|e| JobError::plugin("route", e))?;
    Ok(RouteDecision {
        queue: route.queue,
        capabilities: route.capabilities,
        min_memory_mib: route.min_memory_mib,
    })
}

/// Creates every plugin step once per item so bad params and wrong worlds
/// fail now, not half-way through the video.
fn check_plugin_steps(
    spec: &JobSpec,
    items: &[PlanItem],
    output: &OutputFormat,
    registry: &PluginRegistry,
    env: &PluginEnv,
    plugins: &mut BTreeMap<String, String>,
) -> Result<(), JobError> {
    for (i, step) in spec.steps.iter().enumerate() {
        let StepSpec::Plugin(step) = step else {
            continue;
        };
        let field = format!("steps[{i}]");
        let plugin = registry
            .get(&step.plugin)
            .map_err(|e| JobError::plugin(format!("{field}.plugin"), e))?;
        plugins.insert(step.plugin.clone(), plugin.digest().to_string());
        for (n, item) in items.iter().enumerate() {
            let (w, h) = step_sizes(spec, (item.width, item.height), output)[i];
            let info = plugin_media_info(item, output, w, h);
            let env = PluginEnv {
                assets: super::assets::JobAssets::for_input(&spec.inputs[n]),
                ..env.clone()
            };
            let params = step.params.to_string();
            let created = match plugin.kind() {
                PluginKind::Overlay => plugin.overlay(&info, &params, env).map(drop),
                PluginKind::FrameFilter => plugin.frame_filter(&info, &params, env).map(drop),
                other => Err(plugin::PluginError::WrongWorld {
                    plugin: step.plugin.clone(),
                    expected: "the `overlay` or `frame-filter` world".into(),
                    found: other.to_string(),
                }),
            };
            created.map_err(|e| JobError::plugin(field.clone(), e))?;
        }
    }
    Ok(())
}

/// Builds the mask of every inpaint step for every input, so an empty,
/// misplaced or wrongly sized mask fails the job before any frame is
/// processed.
fn resolve_masks(
    spec: &JobSpec,
    items: &[PlanItem],
    output: &OutputFormat,
) -> Result<Vec<MaskSummary>, JobError> {
    let mut masks = Vec::new();
    for (i, step) in spec.steps.iter().enumerate() {
        let StepSpec::Native(NativeStep::Inpaint(inpaint)) = step else {
            continue;
        };
        for (n, item) in items.iter().enumerate() {
            let (w, h) = step_sizes(spec, (item.width, item.height), output)[i];
            let places = resolve_places(inpaint, item, output, w, h).map_err(|message| {
                JobError::media(
                    format!("steps[{i}].mask (input `{}`)", item.src.display()),
                    message,
                )
            })?;
            let detected = matches!(inpaint.mask, MaskSpec::Auto);
            let range = inpaint.active_us();
            for (k, place) in places.iter().enumerate() {
                masks.push(summarize(place, i, n, k, detected, &range));
            }
        }
    }
    Ok(masks)
}

/// Frames of context a segment decodes around its range: what an inpaint
/// step searches for revealed background (its memory behind, its
/// look-ahead in front), none without one.
fn segment_context(steps: &[StepSpec]) -> SegmentContextFrames {
    let inpaints = steps
        .iter()
        .any(|s| matches!(s, StepSpec::Native(NativeStep::Inpaint(_))));
    if !inpaints {
        return SegmentContextFrames::default();
    }
    let config = framejet_inpaint::InpaintConfig::default();
    SegmentContextFrames {
        before: config.memory_frames() as u64,
        after: config.window_frames() as u64,
    }
}

/// Estimates, once for all segments, the mark of every inpaint step that
/// learns it (no `logo`) on every input long enough to tell, from runs of
/// frames across the input as that step sees them: decoded, then through
/// the steps before it (steps in ascending order, so an earlier inpaint
/// step removes its mark with the model already estimated).
fn estimate_marks(plan: &mut Plan, registry: &PluginRegistry) -> Result<(), JobError> {
    // Sampled once per input and span of it for the steps after the first (steps with the same
    // time range share them).
    let mut runs: BTreeMap<(usize, u64, u64), Vec<Vec<framejet_media::VideoFrame>>> =
        BTreeMap::new();
    for i in 0..plan.spec.steps.len() {
        let Some(StepSpec::Native(NativeStep::Inpaint(inpaint))) = plan.spec.steps.get(i) else {
            continue;
        };
        if inpaint.logo.is_some() {
            continue;
        }
        let mut marks = Vec::new();
        for (n, item) in plan.items.iter().enumerate() {
            let (w, h) = step_sizes(&plan.spec, (item.width, item.height), &plan.output)[i];
            let field = || format!("steps[{i}] (input `{}`)", item.src.display());
            let places = planned_places(plan, i, n, inpaint, w, h)
                .map_err(|m| JobError::media(field(), m))?;
            let reach = estimate_reach(&places.iter().map(|p| &p.mask).collect::<Vec<_>>());
            let mut seen_places = Vec::with_capacity(places.len());
            for place in &places {
                let span = source_span(item, &plan.output, place.active_us.clone());
                let frames = if i == 0 {
                    // The first step sees the frames as decoded.
                    sample_step_frames(item, &plan.output, span, (w, h), reach)
                } else {
                    let sampled = match runs.entry((n, span.start, span.end)) {
                        std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::btree_map::Entry::Vacant(e) => e.insert(
                            sample_runs(item, &plan.output, span)
                                .map_err(|m| JobError::media(field(), m))?,
                        ),
                    };
                    let mut seen_runs = Vec::with_capacity(sampled.len());
                    for run in sampled.iter() {
                        let mut chain =
                            StepChain::before(plan, n, i, None, registry, plugin::tracing_sink())?;
                        let mut seen = Vec::new();
                        for frame in run {
                            chain.push(frame.clone(), &mut seen)?;
                        }
                        chain.finish(&mut seen)?;
                        seen_runs.push(seen);
                    }
                    let runs = seen_runs
                        .iter()
                        .map(|seen| step_frames(seen, w, h, reach))
                        .collect::<Result<Option<Vec<_>>, _>>();
                    let firsts = seen_runs.iter().filter_map(|s| s.first());
                    let whole = step_frames(firsts.take(FILL_SHAPE_FRAMES), w, h, None);
                    runs.and_then(|runs| {
                        Ok(runs
                            .zip(whole?)
                            .map(|(runs, whole)| SampledRuns { runs, whole }))
                    })
                };
                let frames = frames.map_err(|m| JobError::media(field(), m))?;
                seen_places.push((frames.unwrap_or_default(), &place.mask));
            }
            let estimated =
                estimate_place_marks(seen_places).map_err(|m| JobError::media(field(), m))?;
            for (k, mark) in estimated.into_iter().enumerate() {
                if let Some((model, coding_noise, fill)) = mark {
                    marks.push(EstimatedMark {
                        step: i,
                        item: n,
                        place: k,
                        model: (&model).into(),
                        coding_noise,
                        fill_exponent: (!fill.is_isotropic()).then(|| fill.power()),
                    });
                }
            }
        }
        plan.marks.extend(marks);
    }
    Ok(())
}

/// Least length of a segment the default segmenter makes, in frames of the context each
/// decodes ahead of its range.
const CONTEXT_SHARE: u64 = 2;

fn plan_segments(
    spec: &JobSpec,
    items: &[PlanItem],
    output: &OutputFormat,
    registry: &PluginRegistry,
    env: &PluginEnv,
    options: &PlanOptions,
    plugins: &mut BTreeMap<String, String>,
) -> Result<Vec<SegmentTask>, JobError> {
    let context_before = segment_context(&spec.steps).before;
    let step = spec.segment.clone().unwrap_or_else(|| PluginStep {
        plugin: DEFAULT_SEGMENTER.into(),
        params: serde_json::json!({
            "min_segments": options.parallel_segments.max(1),
            // Each segment decodes the context ahead of its range again: a segment at least
            // twice as long pays at most half its frames for it (a 4 s input at 1080p
            // with a keyframe every dozen frames ran 20% faster as one segment than as two).
            "min_frames": (CONTEXT_SHARE * context_before).max(1),
        }),
    });
    let segmenter = registry
        .get(&step.plugin)
        .map_err(|e| JobError::plugin("segment.plugin", e))?;
    plugins.insert(step.plugin.clone(), segmenter.digest().to_string());
    let params = step.params.to_string();
    let mut tasks = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if item.still {
            tasks.push(SegmentTask {
                index: tasks.len(),
                item: i,
                source_start: 0,
                source_end: 1,
                output_start: 0,
                output_end: item.output_frames,
            });
            continue;
        }
        // The segmenter plans in source frames, where the keyframes are.
        let info = plugin::MediaInfo {
            width: item.width,
            height: item.height,
            frame_rate: plugin::Rational {
                num: item.source_rate.0,
                den: item.source_rate.1,
            },
            frame_count: item.source_frames,
            duration_us: (item.source_frames as u128 * 1_000_000 * item.source_rate.1 as u128
                / item.source_rate.0 as u128) as u64,
            keyframes: item.keyframes.clone(),
            has_audio: item.has_audio,
        };
        let mut segments: Vec<Range<u64>> = segmenter
            .plan_segments(&info, &params, env.clone())
            .map_err(|e| JobError::plugin("segment", e))?
            .into_iter()
            .map(|s| s.start..s.end)
            .collect();
        cut_past_context(
            &mut segments,
            &item.keyframes,
            context_before,
            |n| item.output_frame_for(n, output),
            |j| item.source_frame_at(j, output),
        );
        for s in segments {
            let output_start = item.output_frame_for(s.start, output);
            let output_end = item.output_frame_for(s.end, output);
            if output_end > output_start {
                tasks.push(SegmentTask {
                    index: tasks.len(),
                    item: i,
                    source_start: s.start,
                    source_end: s.end,
                    output_start,
                    output_end,
                });
            }
        }
    }
    Ok(tasks)
}

/// Moves the cuts between `segments` (source frames, in order) where the `before` output
/// frames of context a segment decodes ahead of its range would otherwise be decoded from a
/// keyframe far behind them and mostly thrown away (a cut on a keyframe of an input with long
/// groups of pictures, 250 frames with x264's defaults). Such a cut moves to where that
/// context starts on the next keyframe, when the frames it saves decoding are more than those
/// it moves from one segment to the other and both segments keep frames; the output is the
/// same wherever the cuts are. `to_output` and `to_source` map source frames to the first
/// output frame showing them and back. Frame 0 counts as a keyframe.
fn cut_past_context(
    segments: &mut [Range<u64>],
    keyframes: &[u64],
    before: u64,
    to_output: impl Fn(u64) -> u64,
    to_source: impl Fn(u64) -> u64,
) {
    if before == 0 {
        return;
    }
    for j in 1..segments.len() {
        let cut = segments[j].start;
        // The first frame the segment decodes, and the keyframes either side of it.
        let first = to_source(to_output(cut).saturating_sub(before));
        let after = keyframes.partition_point(|&k| k <= first);
        let behind = after.checked_sub(1).map_or(0, |i| keyframes[i]);
        let Some(&next) = keyframes.get(after) else {
            continue;
        };
        let wanted = to_output(next) + before;
        let mut moved = to_source(wanted);
        while to_output(moved) < wanted && moved < segments[j].end {
            moved += 1;
        }
        let saved = first - behind;
        if saved > moved.abs_diff(cut) && segments[j - 1].start < moved && moved < segments[j].end {
            segments[j - 1].end = moved;
            segments[j].start = moved;
        }
    }
}

/// A job id from the clock and the process: unique enough on one machine.
pub fn new_job_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "job-{}-{:x}",
        now.as_secs(),
        now.subsec_nanos() ^ std::process::id()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_move_where_the_context_decodes_from_a_keyframe() {
        let same = |n: u64| n;
        // Keyframes every 250 frames, cuts on two of them, 48 frames of context: decoded from
        // the keyframe before, 202 frames would be thrown away each time.
        let mut segments = vec![0..250, 250..500, 500..600];
        cut_past_context(&mut segments, &[0, 250, 500], 48, same, same);
        assert_eq!(segments, vec![0..298, 298..548, 548..600]);

        // Keyframes every 50 frames: 2 frames thrown away do not pay for moving 48.
        let every_50: Vec<u64> = (0..12).map(|k| k * 50).collect();
        let mut segments = vec![0..250, 250..600];
        cut_past_context(&mut segments, &every_50, 48, same, same);
        assert_eq!(segments, vec![0..250, 250..600]);

        // Every frame a keyframe (an intra-only codec): nothing is thrown away.
        let every: Vec<u64> = (0..600).collect();
        let mut segments = vec![0..250, 250..600];
        cut_past_context(&mut segments, &every, 48, same, same);
        assert_eq!(segments, vec![0..250, 250..600]);

        // A segment too short to give 48 frames away keeps its start; the next cut moves to
        // where its context starts on the keyframe at 250. No context, no move.
        let mut segments = vec![0..250, 250..260, 260..400];
        cut_past_context(&mut segments, &[0, 250, 260], 48, same, same);
        assert_eq!(segments, vec![0..250, 250..298, 298..400]);
        let mut segments = vec![0..250, 250..500];
        cut_past_context(&mut segments, &[0, 250], 0, same, same);
        assert_eq!(segments, vec![0..250, 250..500]);

        // 50 fps shown at 25 fps: output frame j shows source frame 2j, so 48 output frames of
        // context are 96 source frames.
        let mut segments = vec![0..500, 500..1000];
        cut_past_context(&mut segments, &[0, 500], 48, |n| n.div_ceil(2), |j| 2 * j);
        assert_eq!(segments, vec![0..596, 596..1000]);
    }
}
