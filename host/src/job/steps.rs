//! The per-frame steps of a segment, as one chain: `fit`, `inpaint`, overlay
//! plugins (their draw ops composited on the YUV planes) and frame-filter
//! plugins. A step may hold frames back (inpainting looks ahead), so each
//! takes a frame and hands on zero or more, and `finish` flushes.

use std::collections::HashMap;
use std::sync::Arc;

use framejet_inpaint::{
    Anisotropy, FramePool, InpaintConfig, Inpainter, LogoModel, MarkModel, Mask, Plane, PlaneMut,
    Rect, Yuv420Frame,
};
use framejet_media::{ColorMatrix, FitMode as MediaFitMode, Fitter, VideoFrame, YuvaImage};

use crate::plugin::{
    DrawOp, FilterFrame, FilterInstance, FilterPlane, OverlayInstance, PixelFormat, PluginEnv,
    PluginRegistry,
};

use super::JobError;
use super::assets::JobAssets;
use super::device_steps::{DeviceRun, DeviceStep};
use super::plan::{Plan, SegmentTask, plugin_media_info, step_sizes};
use super::spec::{
    FitMode, FitStep, InpaintStep as InpaintSpec, NativeStep, StepSpec, parse_hex_color,
};

/// One step of the chain.
pub(crate) enum Step {
    Fit(Fitter),
    Inpaint(Box<InpaintStage>),
    Overlay(Box<OverlayStage>),
    Filter(FilterInstance),
    /// Consecutive `fit` and overlay steps on the GPU (see `device_steps`).
    Device(Box<dyn DeviceRun>),
}

/// The steps of one segment, in spec order.
pub(crate) struct StepChain {
    steps: Vec<(String, Step)>,
}

impl StepChain {
    /// Builds the steps for `task`: plugin instances are created here, once
    /// per segment.
    pub(crate) fn new(
        plan: &Plan,
        task: &SegmentTask,
        registry: &PluginRegistry,
        log: crate::plugin::LogSink,
    ) -> Result<Self, JobError> {
        let all = plan.spec.steps.len();
        let mut chain = Self::before(
            plan,
            task.item,
            all,
            Some(task.index),
            registry,
            log.clone(),
        )?;
        // Without a `fit` step the output takes the input's size rounded down
        // to even numbers (4:2:0); crop the odd line or column off.
        let item = &plan.items[task.item];
        let sizes = step_sizes(&plan.spec, (item.width, item.height), &plan.output);
        let last = sizes.last().copied().unwrap_or((item.width, item.height));
        let ends_fitted = plan.spec.fit().is_some();
        if !ends_fitted && last != (plan.output.width, plan.output.height) {
            let fitter = Fitter::new(
                last.0,
                last.1,
                plan.output.width,
                plan.output.height,
                MediaFitMode::Crop,
                [0, 0, 0],
            )
            .map_err(|e| JobError::media("output size", e))?;
            chain
                .steps
                .push(("output size".to_string(), Step::Fit(fitter)));
        }
        let steps = std::mem::take(&mut chain.steps);
        chain.steps = on_device(steps, plan.spec.output.video.hw, task.index, &log);
        Ok(chain)
    }

    /// The steps before step `end` on input `item`: what step `end` sees.
    /// Plugins see the random seed of `segment`, or the job's when `None`.
    pub(crate) fn before(
        plan: &Plan,
        item_index: usize,
        end: usize,
        segment: Option<usize>,
        registry: &PluginRegistry,
        log: crate::plugin::LogSink,
    ) -> Result<Self, JobError> {
        let (Some(item), Some(input)) =
            (plan.items.get(item_index), plan.spec.inputs.get(item_index))
        else {
            return Err(JobError::media(
                "steps",
                format!("the plan has no input {item_index}"),
            ));
        };
        let sizes = step_sizes(&plan.spec, (item.width, item.height), &plan.output);
        let mut steps = Vec::with_capacity(end);
        for (i, (spec, &(w, h))) in plan.spec.steps.iter().zip(&sizes).take(end).enumerate() {
            let field = format!("steps[{i}]");
            let step = match spec {
                StepSpec::Native(NativeStep::Fit(FitStep {
                    width,
                    height,
                    mode,
                    color,
                })) => {
                    let pad = color
                        .as_deref()
                        .map(parse_hex_color)
                        .transpose()
                        .map_err(|m| JobError::media(format!("{field}.color"), m))?;
                    let mode = match mode {
                        FitMode::Pad => MediaFitMode::Pad,
                        FitMode::Crop => MediaFitMode::Crop,
                        FitMode::Stretch => MediaFitMode::Stretch,
                    };
                    let fitter = Fitter::new(w, h, *width, *height, mode, pad.unwrap_or([0, 0, 0]))
                        .map_err(|e| JobError::media(&field, e))?;
                    Step::Fit(fitter)
                }
                StepSpec::Native(NativeStep::Inpaint(inpaint)) => {
                    // One stage per place of the mark, each over its own time range.
                    let places = super::inpaint::planned_places(plan, i, item_index, inpaint, w, h)
                        .map_err(|e| JobError::media(&field, e))?;
                    let several = places.len() > 1;
                    for (k, place) in places.into_iter().enumerate() {
                        let name = if several {
                            format!("{field} (place {k})")
                        } else {
                            field.clone()
                        };
                        let mut step =
                            InpaintStage::new(plan, (i, item_index, k), inpaint, place, w, h)
                                .map_err(|e| JobError::media(&name, e))?;
                        step.report_to(name.clone(), log.clone());
                        steps.push((name, Step::Inpaint(Box::new(step))));
                    }
                    continue;
                }
                StepSpec::Plugin(p) => {
                    let plugin = registry
                        .get(&p.plugin)
                        .map_err(|e| JobError::plugin(format!("{field}.plugin"), e))?;
                    if let Some(planned) = plan.plugins.get(&p.plugin)
                        && planned != plugin.digest()
                    {
                        return Err(JobError::PluginMismatch {
                            field: format!("{field}.plugin"),
                            plugin: p.plugin.clone(),
                            planned: planned.clone(),
                            found: plugin.digest().to_string(),
                        });
                    }
                    let info = plugin_media_info(item, &plan.output, w, h);
                    let env = PluginEnv {
                        assets: JobAssets::for_input(input),
                        log: log.clone(),
                        limits: plan.spec.plugin_limits.clone(),
                        random_seed: super::plan::random_seed(&plan.job_id, segment),
                        wall_clock_ms: plan.planned_at_ms,
                    };
                    let params = p.params.to_string();
                    match plugin.kind() {
                        crate::plugin::PluginKind::FrameFilter => Step::Filter(
                            plugin
                                .frame_filter(&info, &params, env)
                                .map_err(|e| JobError::plugin(&field, e))?,
                        ),
                        _ => {
                            let instance = plugin
                                .overlay(&info, &params, env)
                                .map_err(|e| JobError::plugin(&field, e))?;
                            Step::Overlay(Box::new(OverlayStage::new(instance, &input.assets)))
                        }
                    }
                }
            };
            steps.push((field, step));
        }
        Ok(Self { steps })
    }

    /// Runs `frame` through every step; finished frames go to `out`.
    pub(crate) fn push(
        &mut self,
        frame: VideoFrame,
        out: &mut Vec<VideoFrame>,
    ) -> Result<(), JobError> {
        let mut batch = vec![frame];
        for (field, step) in &mut self.steps {
            let mut next = Vec::with_capacity(batch.len());
            for frame in batch {
                step.push(frame, &mut next).map_err(|e| e.context(field))?;
            }
            batch = next;
        }
        out.extend(batch);
        Ok(())
    }

    /// Flushes frames the steps held back, in order.
    pub(crate) fn finish(&mut self, out: &mut Vec<VideoFrame>) -> Result<(), JobError> {
        let mut carried: Vec<VideoFrame> = Vec::new();
        for (field, step) in &mut self.steps {
            let mut next = Vec::new();
            for frame in carried {
                step.push(frame, &mut next).map_err(|e| e.context(field))?;
            }
            step.finish(&mut next).map_err(|e| e.context(field))?;
            carried = next;
        }
        out.extend(carried);
        Ok(())
    }
}

/// An error from a step, before it learns which step it was.
pub(crate) enum StepError {
    Plugin(crate::plugin::PluginError),
    Other(String),
}

impl StepError {
    fn context(self, field: &str) -> JobError {
        match self {
            StepError::Plugin(e) => JobError::plugin(field, e),
            StepError::Other(m) => JobError::media(field, m),
        }
    }
}

impl From<crate::plugin::PluginError> for StepError {
    fn from(e: crate::plugin::PluginError) -> Self {
        StepError::Plugin(e)
    }
}

fn other(e: impl std::fmt::Display) -> StepError {
    StepError::Other(e.to_string())
}

/// `steps` with each run of consecutive `fit` and overlay steps made one run on the GPU in
/// use (named by its steps' fields joined with `+`), where there is one.
fn on_device(
    steps: Vec<(String, Step)>,
    hw: super::spec::HwSpec,
    segment: usize,
    log: &crate::plugin::LogSink,
) -> Vec<(String, Step)> {
    let mut out = Vec::with_capacity(steps.len());
    let mut run: Vec<(String, DeviceStep)> = Vec::new();
    let flush = |run: &mut Vec<(String, DeviceStep)>, out: &mut Vec<(String, Step)>| {
        if run.is_empty() {
            return;
        }
        let (names, steps): (Vec<String>, Vec<DeviceStep>) =
            std::mem::take(run).into_iter().unzip();
        let name = names.join("+");
        match super::gpu::device_run(hw, steps, name.clone(), log.clone()) {
            Ok((device, place)) => {
                log(&crate::plugin::LogLine {
                    source: crate::plugin::LogSource::Step("gpu"),
                    level: crate::plugin::Level::INFO,
                    message: &format!(
                        "segment {segment}: {name} on {place}, each frame uploaded once and downloaded once"
                    ),
                });
                out.push((name, Step::Device(device)));
            }
            Err(steps) => out.extend(names.into_iter().zip(steps).map(|(name, step)| {
                let step = match step {
                    DeviceStep::Fit(fitter) => Step::Fit(fitter),
                    DeviceStep::Overlay(overlay) => Step::Overlay(overlay),
                };
                (name, step)
            })),
        }
    };
    for (name, step) in steps {
        match step {
            Step::Fit(fitter) => run.push((name, DeviceStep::Fit(fitter))),
            Step::Overlay(overlay) => run.push((name, DeviceStep::Overlay(overlay))),
            other => {
                flush(&mut run, &mut out);
                out.push((name, other));
            }
        }
    }
    flush(&mut run, &mut out);
    out
}

impl Step {
    fn push(&mut self, frame: VideoFrame, out: &mut Vec<VideoFrame>) -> Result<(), StepError> {
        match self {
            Step::Fit(fitter) => out.push(fitter.fit(frame).map_err(other)?),
            Step::Inpaint(step) => step.push(frame, out)?,
            Step::Overlay(step) => {
                let mut frame = frame;
                step.draw(&mut frame)?;
                out.push(frame);
            }
            Step::Device(run) => out.push(run.run(frame)?),
            Step::Filter(filter) => {
                let input = to_filter_frame(&frame);
                let result = filter.apply(frame.index, frame.pts_us, &input)?;
                out.push(from_filter_frame(&result, &frame).map_err(other)?);
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<VideoFrame>) -> Result<(), StepError> {
        if let Step::Inpaint(step) = self {
            step.finish(out)?;
        }
        Ok(())
    }
}

/// Draws an overlay plugin's ops on each frame. Assets and sprites are
/// converted to YUV once and kept, per scale.
pub(crate) struct OverlayStage {
    instance: OverlayInstance,
    asset_files: std::collections::BTreeMap<String, std::path::PathBuf>,
    /// Converted assets by name and scale (a job draws few; a list avoids
    /// allocating a key per draw op per frame).
    assets: Vec<(String, u32, Arc<YuvaImage>)>,
    sprites: HashMap<u32, Arc<YuvaImage>>,
}

impl OverlayStage {
    fn new(
        instance: OverlayInstance,
        asset_files: &std::collections::BTreeMap<String, std::path::PathBuf>,
    ) -> Self {
        Self {
            instance,
            asset_files: asset_files.clone(),
            assets: Vec::new(),
            sprites: HashMap::new(),
        }
    }

    fn draw(&mut self, frame: &mut VideoFrame) -> Result<(), StepError> {
        let drawings = self.resolve(frame.index, frame.pts_us, frame.height())?;
        draw_on_cpu(frame, drawings)
    }

    /// The plugin's draw ops for frame `index` at `pts_us`, with their images converted
    /// (for a frame `height` lines high: its colour matrix).
    pub(crate) fn resolve(
        &mut self,
        index: u64,
        pts_us: i64,
        height: u32,
    ) -> Result<Vec<Drawing>, StepError> {
        let ops = self.instance.frame(index, pts_us)?;
        let matrix = ColorMatrix::for_height(height);
        let mut drawings = Vec::with_capacity(ops.len());
        for op in ops {
            drawings.push(match op {
                DrawOp::Asset(a) => {
                    if a.opacity <= 0.0 {
                        continue;
                    }
                    let image = self.asset(&a.name, a.scale, matrix)?;
                    Drawing::Image {
                        image,
                        x: a.x,
                        y: a.y,
                        opacity: a.opacity,
                    }
                }
                DrawOp::Sprite(s) => {
                    if s.opacity <= 0.0 {
                        continue;
                    }
                    let image = self.sprite(s.id, matrix)?;
                    Drawing::Image {
                        image,
                        x: s.x,
                        y: s.y,
                        opacity: s.opacity,
                    }
                }
                DrawOp::Rect(r) => {
                    let c = r.color;
                    Drawing::Rect {
                        x: r.x,
                        y: r.y,
                        w: r.width,
                        h: r.height,
                        rgba: [c.r, c.g, c.b, c.a],
                    }
                }
                DrawOp::Inpaint(r) => Drawing::Inpaint {
                    x: r.x,
                    y: r.y,
                    w: r.width,
                    h: r.height,
                },
            });
        }
        Ok(drawings)
    }

    fn asset(
        &mut self,
        name: &str,
        scale: f32,
        matrix: ColorMatrix,
    ) -> Result<Arc<YuvaImage>, StepError> {
        let bits = scale.to_bits();
        if let Some((_, _, image)) = self.assets.iter().find(|(n, b, _)| n == name && *b == bits) {
            return Ok(image.clone());
        }
        let path = self.asset_files.get(name).ok_or_else(|| {
            StepError::Other(format!(
                "plugin `{}` drew asset `{name}`, which this input does not have",
                self.instance.plugin()
            ))
        })?;
        let rgba = framejet_media::load_image(path).map_err(other)?;
        let image = YuvaImage::from_image(&rgba, matrix).map_err(other)?;
        let image = if (scale - 1.0).abs() > f32::EPSILON {
            image.scaled(scale).map_err(other)?
        } else {
            image
        };
        let image = Arc::new(image);
        self.assets.push((name.to_string(), bits, image.clone()));
        Ok(image)
    }

    fn sprite(&mut self, id: u32, matrix: ColorMatrix) -> Result<Arc<YuvaImage>, StepError> {
        if let Some(image) = self.sprites.get(&id) {
            return Ok(image.clone());
        }
        let sprite = self
            .instance
            .sprites()
            .get(id as usize)
            .ok_or_else(|| StepError::Other(format!("sprite {id} is not defined")))?;
        let image = YuvaImage::from_rgba(sprite.width, sprite.height, &sprite.rgba, matrix)
            .map_err(other)?;
        let image = Arc::new(image);
        self.sprites.insert(id, image.clone());
        Ok(image)
    }
}

/// One draw op of an overlay plugin, its image converted.
pub(crate) enum Drawing {
    Image {
        image: Arc<YuvaImage>,
        x: i32,
        y: i32,
        opacity: f32,
    },
    Rect {
        x: i32,
        y: i32,
        w: u32,
        h: u32,
        rgba: [u8; 4],
    },
    Inpaint {
        x: i32,
        y: i32,
        w: u32,
        h: u32,
    },
}

/// Draws an overlay's resolved draw ops on `frame`.
pub(crate) fn draw_on_cpu(frame: &mut VideoFrame, drawings: Vec<Drawing>) -> Result<(), StepError> {
    for drawing in drawings {
        match drawing {
            Drawing::Image {
                image,
                x,
                y,
                opacity,
            } => framejet_media::blend(frame, &image, x, y, opacity),
            Drawing::Rect { x, y, w, h, rgba } => {
                framejet_media::fill_rect(frame, x, y, w, h, rgba)
            }
            Drawing::Inpaint { x, y, w, h } => inpaint_region(frame, x, y, w, h)?,
        }
    }
    Ok(())
}

/// Fills a region of one frame from its surroundings (an overlay's
/// `inpaint` draw op): a single-frame, spatial-only inpaint.
pub(crate) fn inpaint_region(
    frame: &mut VideoFrame,
    x: i32,
    y: i32,
    w: u32,
    h: u32,
) -> Result<(), StepError> {
    let (fw, fh) = (frame.width() as usize, frame.height() as usize);
    let mask = Mask::from_rect(Rect::new(x.into(), y.into(), w.into(), h.into()), fw, fh)
        .map_err(other)?;
    let config = InpaintConfig::default().mark(MarkModel::Opaque).window(0);
    let mut inpainter = Inpainter::new(config, mask).map_err(other)?;
    let mut done = inpainter
        .push(to_inpaint_frame(frame).map_err(other)?)
        .map_err(other)?;
    done.extend(inpainter.finish().map_err(other)?);
    if let Some(result) = done.first() {
        copy_from_inpaint(result, frame).map_err(other)?;
    }
    Ok(())
}

/// The native `inpaint` step: a streaming inpainter with look-ahead, over
/// the frames shown in the step's time range (the others pass through).
pub(crate) struct InpaintStage {
    inpainter: Inpainter,
    /// Output times (µs into the input) the step works on.
    active_us: std::ops::Range<i64>,
    /// Whether a frame after the range has come, so the inpainter is done.
    ended: bool,
    /// The frames handed in and not yet handed out, by arrival: copies in
    /// `out_pool`'s buffers (the inpainter holds dozens while it looks
    /// ahead), so the decoder's buffers go back at once. The inpainter's
    /// restored part of each is written into it as it comes back.
    pending: std::collections::VecDeque<VideoFrame>,
    /// The part of a frame the inpainter reads and writes (its reach).
    part: Rect,
    /// The frames handed to the inpainter, holding only `part`: those it
    /// has returned are refilled, fresh ones are faulted in ahead on
    /// another core.
    pool: FramePool,
    /// The buffers of the frames handed on, back from the encoder once
    /// it is done with them.
    out_pool: framejet_media::FramePool,
    /// Where to say, when done, how the frames were restored, as what.
    report: Option<(String, crate::plugin::LogSink)>,
    /// Where the kernels run, for that report.
    kernels: String,
}

impl InpaintStage {
    /// Says how the frames were restored in the job log when done, as
    /// step `name`.
    fn report_to(&mut self, name: String, log: crate::plugin::LogSink) {
        self.report = Some((name, log));
    }

    /// The step `spec` of `plan` at `(step, item, index)` (its index, the
    /// input's, the place's), for `place`: the place's mask and time range,
    /// and its mark (the logo PNG's, else the plan's estimate; with neither,
    /// the step learns it from the segment's first frames).
    fn new(
        plan: &Plan,
        (step, item, index): (usize, usize, usize),
        spec: &InpaintSpec,
        place: super::inpaint::Place,
        width: u32,
        height: u32,
    ) -> Result<Self, String> {
        let (w, h) = (width as usize, height as usize);
        let super::inpaint::Place { mask, active_us } = place;
        let mut config = InpaintConfig::default();
        if let Some(logo) = &spec.logo {
            let at = spec.logo_at.unwrap_or_else(|| {
                let b = mask.bbox();
                [b.x as i32, b.y as i32]
            });
            let model = LogoModel::from_png(logo, at[0].into(), at[1].into(), w, h)
                .map_err(|e| e.to_string())?;
            config = config.mark(MarkModel::Given(model));
        } else if let Some(mark) = plan
            .marks
            .iter()
            .find(|m| (m.step, m.item, m.place) == (step, item, index))
        {
            let model = LogoModel::try_from(&mark.model).map_err(|e| e.to_string())?;
            config = config.mark(MarkModel::Estimated(model));
            if let Some(noise) = mark.coding_noise {
                config = config.coding_noise(noise);
            }
            if let Some(exponent) = mark.fill_exponent {
                config = config.fill_shape(Anisotropy::exponent(exponent));
            }
        }
        let (device, kernels) = super::gpu::inpaint_kernels(plan.spec.output.video.hw);
        let part = config.reach(&mask);
        let inpainter = Inpainter::new(config.kernels(device), mask).map_err(|e| e.to_string())?;
        Ok(Self {
            inpainter,
            active_us,
            ended: false,
            pending: Default::default(),
            part,
            pool: FramePool::within(w, h, part),
            out_pool: framejet_media::FramePool::new(width, height).map_err(|e| e.to_string())?,
            report: None,
            kernels,
        })
    }

    fn push(&mut self, frame: VideoFrame, out: &mut Vec<VideoFrame>) -> Result<(), StepError> {
        if frame.pts_us < self.active_us.start {
            // Before the range: the inpainter has seen nothing yet.
            out.push(frame);
            return Ok(());
        }
        if frame.pts_us >= self.active_us.end {
            // After it: what the inpainter holds goes out first.
            self.finish(out)?;
            out.push(frame);
            return Ok(());
        }
        let mut part = self.pool.take();
        part.copy_from_within(planes_of(&frame).map_err(other)?, self.part)
            .map_err(other)?;
        let mut copy = VideoFrame::from_planes_in(
            &self.out_pool,
            [frame.plane(0), frame.plane(1), frame.plane(2)],
            [frame.stride(0), frame.stride(1), frame.stride(2)],
        )
        .map_err(other)?;
        (copy.index, copy.pts_us) = (frame.index, frame.pts_us);
        self.pending.push_back(copy);
        drop(frame);
        let done = self.inpainter.push(part).map_err(other)?;
        self.emit(done, out)
    }

    fn finish(&mut self, out: &mut Vec<VideoFrame>) -> Result<(), StepError> {
        if std::mem::replace(&mut self.ended, true) {
            return Ok(());
        }
        let done = self.inpainter.finish().map_err(other)?;
        let stats = self.inpainter.stats();
        if let Some((name, log)) = &self.report
            && stats.frames > 0
        {
            let mut message = format!(
                "{name}: {} frames seen (the segment's and its context); per frame {} pixels un-blended ({} of them averaged with other frames' view, the input's coding noise), {} filled from other frames, {} from the surroundings; {} frames whose restoration did not hold filled from the surroundings instead ({} of them only where it did not hold); {} scene cuts (no frame restored from one across a cut); {}",
                stats.frames,
                stats.unblended / stats.frames,
                stats.averaged / stats.frames,
                stats.from_other_frames / stats.frames,
                stats.spatial / stats.frames,
                stats.fallback_frames,
                stats.fallback_in_part,
                stats.scene_cuts,
                self.kernels
            );
            if let Some(e) = &stats.device_error {
                message += &format!(" (the GPU failed, so those calls ran on the CPU: {e})");
            }
            log(&crate::plugin::LogLine {
                source: crate::plugin::LogSource::Step("inpaint"),
                level: crate::plugin::Level::INFO,
                message: &message,
            });
        }
        self.emit(done, out)
    }

    fn emit(&mut self, done: Vec<Yuv420Frame>, out: &mut Vec<VideoFrame>) -> Result<(), StepError> {
        for result in done {
            let mut frame = self.pending.pop_front().ok_or_else(|| {
                StepError::Other("inpainter returned more frames than it was given".into())
            })?;
            copy_from_inpaint_within(&result, &mut frame, self.part).map_err(other)?;
            out.push(frame);
            self.pool.give_back(result);
        }
        Ok(())
    }
}

/// The Y, U and V planes of `frame`, as the inpaint crate reads them.
pub(super) fn planes_of(
    frame: &VideoFrame,
) -> Result<[Plane<'_>; 3], framejet_inpaint::InpaintError> {
    let plane = |i: usize| {
        Plane::new(
            frame.plane(i),
            frame.plane_width(i),
            frame.plane_height(i),
            frame.stride(i),
        )
    };
    Ok([plane(0)?, plane(1)?, plane(2)?])
}

fn to_inpaint_frame(frame: &VideoFrame) -> Result<Yuv420Frame, framejet_inpaint::InpaintError> {
    let [y, u, v] = planes_of(frame)?;
    Yuv420Frame::from_planes(y, u, v)
}

/// Writes `src`'s part within `rect` into `dst` (see
/// [`Yuv420Frame::copy_to_within`]).
fn copy_from_inpaint_within(
    src: &Yuv420Frame,
    dst: &mut VideoFrame,
    rect: Rect,
) -> Result<(), String> {
    let sizes: [(usize, usize); 3] =
        std::array::from_fn(|i| (dst.plane_width(i), dst.plane_height(i)));
    let (planes, strides) = dst.planes_mut();
    let [y, u, v] = planes;
    let view = |data, i: usize| {
        PlaneMut::new(data, sizes[i].0, sizes[i].1, strides[i]).map_err(|e| e.to_string())
    };
    src.copy_to_within([view(y, 0)?, view(u, 1)?, view(v, 2)?], rect)
        .map_err(|e| e.to_string())
}

fn copy_from_inpaint(src: &Yuv420Frame, dst: &mut VideoFrame) -> Result<(), String> {
    let whole = Rect::new(0, 0, src.width() as u64, src.height() as u64);
    copy_from_inpaint_within(src, dst, whole)
}

fn to_filter_frame(frame: &VideoFrame) -> FilterFrame {
    FilterFrame {
        width: frame.width(),
        height: frame.height(),
        format: PixelFormat::Yuv420p,
        planes: (0..3)
            .map(|i| {
                let (w, h, stride) = (frame.plane_width(i), frame.plane_height(i), frame.stride(i));
                let mut data = Vec::with_capacity(w * h);
                for row in frame.plane(i).chunks(stride).take(h) {
                    data.extend_from_slice(&row[..w]);
                }
                FilterPlane {
                    stride: w as u32,
                    data,
                }
            })
            .collect(),
    }
}

fn from_filter_frame(result: &FilterFrame, like: &VideoFrame) -> Result<VideoFrame, String> {
    let mut frame = like.clone();
    let sizes: Vec<(usize, usize)> = (0..3)
        .map(|i| (frame.plane_width(i), frame.plane_height(i)))
        .collect();
    let (planes, strides) = frame.planes_mut();
    for ((i, dst), plane) in planes.into_iter().enumerate().zip(&result.planes) {
        let ((w, h), stride) = (sizes[i], strides[i]);
        let src_stride = plane.stride as usize;
        for row in 0..h {
            let src = plane
                .data
                .get(row * src_stride..row * src_stride + w)
                .ok_or("filtered plane is too small")?;
            dst[row * stride..row * stride + w].copy_from_slice(src);
        }
    }
    Ok(frame)
}
