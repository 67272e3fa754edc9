//! `plan`: from a job spec and its probed inputs to the list of segment
//! tasks, using the router and segmenter plugins. Plugin steps are created
//! once per input here too, so bad params fail the job before any frame is
//! decoded.

use std::collections::BTreeMap;
use std::path::PathBuf;

use framejet_media::MediaKind;
use serde::{Deserialize, Serialize};

use crate::plugin::{self, PluginEnv, PluginKind, PluginRegistry};

use super::JobError;
use super::inpaint::{EstimatedMark, MaskSummary, estimate_mark, resolve_mask, summarize};
use super::spec::{
    HwSpec, JobPriority, JobSpec, MaskSpec, NativeStep, PluginStep, StepSpec, parse_rational,
};

/// Plugins used when a job names none.
pub const DEFAULT_ROUTER: &str = "route-by-size";
pub const DEFAULT_SEGMENTER: &str = "segment-keyframes";

/// Output frame rate when no input has one (a job of stills only).
const STILLS_FRAME_RATE: (u32, u32) = (30, 1);
/// How long a still is shown when the spec does not say.
const DEFAULT_STILL_SECONDS: f64 = 3.0;

/// The version of the plan's wire form ([`Plan::to_json`], [`Plan::from_json`]).
pub const PLAN_VERSION: u32 = 1;

/// Everything `run_segment` and `finalize` need, decided up front.
///
/// A plan travels as JSON ([`Plan::to_json`]); one read back
/// ([`Plan::from_json`]) is checked before use, so a malformed one fails
/// with a [`PlanError`] instead of a panic.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// [`PLAN_VERSION`] when the plan was made.
    pub version: u32,
    pub job_id: String,
    pub spec: JobSpec,
    pub route: RouteDecision,
    pub output: OutputFormat,
    pub items: Vec<PlanItem>,
    pub segments: Vec<SegmentTask>,
    /// The mask of every inpaint step on every input.
    pub masks: Vec<MaskSummary>,
    /// The mark of every inpaint step that learns it, on every input long
    /// enough to learn it from, estimated once for all segments.
    #[serde(default)]
    pub marks: Vec<EstimatedMark>,
    /// Threads each segment's encoder gets. Fixed here, with the rest of
    /// the encoder's settings, because the encoded bytes depend on it: a
    /// segment encodes the same wherever it runs.
    pub encoder_threads: usize,
    /// The SHA-256 (hex) of every plugin the plan uses, by the name the
    /// spec gives it: whoever runs a segment must run these very components.
    pub plugins: BTreeMap<String, String>,
    /// When the plan was made (ms since 1970); plugins see this time.
    pub planned_at_ms: u64,
    /// The encoder hardware: the spec's `output.video.hw`, with `auto`
    /// decided here when segments may run on different machines (NVENC
    /// when the route asks for the `nvenc` capability, else the CPU), so
    /// that every segment encodes alike.
    pub hw: super::spec::HwSpec,
}

/// Where the router sent the job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RouteDecision {
    pub queue: String,
    pub capabilities: Vec<String>,
    pub min_memory_mib: Option<u64>,
}

/// The one size and rate every item is brought to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct OutputFormat {
    pub width: u32,
    pub height: u32,
    /// Frames per second as `(num, den)`.
    pub frame_rate: (u32, u32),
}

impl OutputFormat {
    /// Microseconds at output frame `index`.
    pub fn pts_us(&self, index: u64) -> i64 {
        let (num, den) = self.frame_rate;
        (index as i128 * 1_000_000 * den as i128 / num as i128) as i64
    }
}

/// One input, probed, and its place on the output timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanItem {
    pub src: PathBuf,
    /// A still image shown for a set time, rather than a video.
    pub still: bool,
    pub width: u32,
    pub height: u32,
    /// The source's frame rate, `(num, den)`.
    pub source_rate: (u32, u32),
    pub source_frames: u64,
    pub keyframes: Vec<u64>,
    pub has_audio: bool,
    /// Frames this item contributes to the output.
    pub output_frames: u64,
    /// Where it starts on the output timeline, in output frames.
    pub output_start: u64,
    /// The probe, with the frame index a decoder needs: segments open their
    /// decoders from it instead of scanning the input again, here or, with
    /// the plan, on another machine.
    #[serde(default)]
    pub probe: Option<framejet_media::Probe>,
}

impl PlanItem {
    /// The first output frame (item-relative) that shows source frame `n`
    /// or a later one: output frame `j` shows source frame
    /// `floor(j * source_rate / output_rate)`.
    pub fn output_frame_for(&self, n: u64, out: &OutputFormat) -> u64 {
        if self.still {
            return n.min(self.output_frames);
        }
        let (sn, sd) = self.source_rate;
        let (on, od) = out.frame_rate;
        // j >= n * (on/od) / (sn/sd)  =>  j = ceil(n * on * sd / (od * sn))
        let num = n as u128 * on as u128 * sd as u128;
        let den = od as u128 * sn as u128;
        (num.div_ceil(den) as u64).min(self.output_frames)
    }

    /// The source frame shown at item-relative output frame `j`.
    pub fn source_frame_at(&self, j: u64, out: &OutputFormat) -> u64 {
        if self.still {
            return 0;
        }
        let (sn, sd) = self.source_rate;
        let (on, od) = out.frame_rate;
        let n = j as u128 * od as u128 * sn as u128 / (on as u128 * sd as u128);
        (n as u64).min(self.source_frames.saturating_sub(1))
    }
}

/// One unit of work: source frames `source_start..source_end` of an item,
/// which become output frames `output_start..output_end` of that item.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SegmentTask {
    pub index: usize,
    pub item: usize,
    pub source_start: u64,
    pub source_end: u64,
    pub output_start: u64,
    pub output_end: u64,
}

impl SegmentTask {
    pub fn output_frames(&self) -> u64 {
        self.output_end - self.output_start
    }
}

impl Plan {
    /// Frames in the whole output.
    pub fn total_frames(&self) -> u64 {
        self.items.iter().map(|i| i.output_frames).sum()
    }

    /// The plan as JSON, its wire form, frame indexes included.
    pub fn to_json(&self) -> Result<String, PlanError> {
        serde_json::to_string(self).map_err(|e| PlanError::Malformed(e.to_string()))
    }

    /// Reads a plan from its wire form and checks it ([`Plan::check`]).
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        // The version first, so an old or new plan says so rather than
        // failing on a field it lacks or adds.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } =
            serde_json::from_str(text).map_err(|e| PlanError::Malformed(e.to_string()))?;
        if version != PLAN_VERSION {
            return Err(PlanError::Version { found: version });
        }
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| PlanError::Malformed(e.to_string()))?;
        plan.check()?;
        Ok(plan)
    }

    /// Checks what a plan read from elsewhere must hold before any of it is
    /// used: one item per input, segments numbered in order over existing
    /// items and within their frames, masks of existing steps and items, a
    /// usable output format.
    pub fn check(&self) -> Result<(), PlanError> {
        let bad = |what: String| Err(PlanError::Inconsistent(what));
        let out = &self.output;
        if out.width == 0 || out.height == 0 || out.width % 2 == 1 || out.height % 2 == 1 {
            return bad(format!("output size {}x{}", out.width, out.height));
        }
        if out.frame_rate.0 == 0 || out.frame_rate.1 == 0 {
            return bad(format!(
                "output frame rate {}/{}",
                out.frame_rate.0, out.frame_rate.1
            ));
        }
        if self.encoder_threads == 0 || self.encoder_threads > 256 {
            return bad(format!("{} encoder threads", self.encoder_threads));
        }
        if self.items.len() != self.spec.inputs.len() {
            return bad(format!(
                "{} items for {} inputs",
                self.items.len(),
                self.spec.inputs.len()
            ));
        }
        for (i, item) in self.items.iter().enumerate() {
            if item.source_rate.0 == 0 || item.source_rate.1 == 0 {
                return bad(format!("item {i}: source frame rate of zero"));
            }
        }
        for (n, task) in self.segments.iter().enumerate() {
            let Some(item) = self.items.get(task.item) else {
                return bad(format!(
                    "segment {n} names item {} of {}",
                    task.item,
                    self.items.len()
                ));
            };
            let in_order = task.index == n
                && task.source_start <= task.source_end
                && task.source_end <= item.source_frames.max(1)
                && task.output_start <= task.output_end
                && task.output_end <= item.output_frames;
            if !in_order {
                return bad(format!("segment {n} does not fit its item: {task:?}"));
            }
        }
        for m in &self.marks {
            let fits = matches!(
                self.spec.steps.get(m.step),
                Some(StepSpec::Native(NativeStep::Inpaint(_)))
            ) && self.items.get(m.item).is_some_and(|item| {
                step_sizes(&self.spec, (item.width, item.height), &self.output).get(m.step)
                    == Some(&(m.model.width() as u32, m.model.height() as u32))
            });
            if !fits {
                return bad(format!(
                    "a mark of steps[{}] on item {} that does not fit it",
                    m.step, m.item
                ));
            }
        }
        for m in &self.masks {
            let is_inpaint = matches!(
                self.spec.steps.get(m.step),
                Some(StepSpec::Native(NativeStep::Inpaint(_)))
            );
            if !is_inpaint || m.item >= self.items.len() {
                return bad(format!(
                    "a mask of steps[{}] on item {}, which the plan lacks",
                    m.step, m.item
                ));
            }
        }
        Ok(())
    }
}

/// A plan that cannot be used. Retrying cannot help: the plan is wrong.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Not JSON of a plan.
    #[error("malformed plan: {0}")]
    Malformed(String),
    /// Made by a framejet with another wire form.
    #[error("plan version {found}: this framejet reads version {PLAN_VERSION}")]
    Version { found: u32 },
    /// Its parts do not agree.
    #[error("inconsistent plan: {0}")]
    Inconsistent(String),
}

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

/// The frame size each step sees for an item of `width`x`height`: the
/// input's until the `fit` step, the output's after it.
pub(crate) fn step_sizes(spec: &JobSpec, item: (u32, u32), out: &OutputFormat) -> Vec<(u32, u32)> {
    let mut size = item;
    spec.steps
        .iter()
        .map(|step| {
            let seen = size;
            if let StepSpec::Native(NativeStep::Fit(_)) = step {
                size = (out.width, out.height);
            }
            seen
        })
        .collect()
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
    let marks = estimate_marks(&spec, &items, &output)?;
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
    Ok(Plan {
        version: PLAN_VERSION,
        job_id,
        spec,
        route,
        output,
        items,
        segments,
        masks,
        marks,
        encoder_threads: options.encoder_threads.clamp(1, 256),
        plugins,
        planned_at_ms,
        hw,
    })
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
            let mask = resolve_mask(&inpaint.mask, item, w, h).map_err(|message| {
                JobError::media(
                    format!("steps[{i}].mask (input `{}`)", item.src.display()),
                    message,
                )
            })?;
            masks.push(summarize(
                &mask,
                i,
                n,
                matches!(inpaint.mask, MaskSpec::Auto),
            ));
        }
    }
    Ok(masks)
}

/// Estimates the mark of every inpaint step that has no logo PNG and sees
/// the input as decoded (the first step), on every video input.
fn estimate_marks(
    spec: &JobSpec,
    items: &[PlanItem],
    output: &OutputFormat,
) -> Result<Vec<EstimatedMark>, JobError> {
    let mut marks = Vec::new();
    let Some(StepSpec::Native(NativeStep::Inpaint(inpaint))) = spec.steps.first() else {
        return Ok(marks);
    };
    if inpaint.logo.is_some() {
        return Ok(marks);
    }
    for (n, item) in items.iter().enumerate() {
        let (w, h) = step_sizes(spec, (item.width, item.height), output)[0];
        let field = || format!("steps[0] (input `{}`)", item.src.display());
        let mask =
            resolve_mask(&inpaint.mask, item, w, h).map_err(|m| JobError::media(field(), m))?;
        if let Some(model) =
            estimate_mark(item, &mask, w, h).map_err(|m| JobError::media(field(), m))?
        {
            marks.push(EstimatedMark {
                step: 0,
                item: n,
                model,
            });
        }
    }
    Ok(marks)
}

fn plan_segments(
    spec: &JobSpec,
    items: &[PlanItem],
    output: &OutputFormat,
    registry: &PluginRegistry,
    env: &PluginEnv,
    options: &PlanOptions,
    plugins: &mut BTreeMap<String, String>,
) -> Result<Vec<SegmentTask>, JobError> {
    let step = spec.segment.clone().unwrap_or_else(|| PluginStep {
        plugin: DEFAULT_SEGMENTER.into(),
        params: serde_json::json!({ "min_segments": options.parallel_segments.max(1) }),
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
        let segments = segmenter
            .plan_segments(&info, &params, env.clone())
            .map_err(|e| JobError::plugin("segment", e))?;
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
