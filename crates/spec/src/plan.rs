//! The plan: everything the segments and the finalize step of a job need,
//! decided once by the planner, as a versioned wire type. A plan travels as
//! JSON beside the job's media; one read back is checked ([`Plan::check`])
//! before any of it is used, so a malformed plan fails with a [`PlanError`]
//! rather than a panic.
//!
//! Making a plan (probing inputs, running the router and segmenter plugins,
//! finding masks) needs the media engine and the plugin runtime and lives in
//! the `framejet` crate; the types are here so that clients can read plans
//! without linking either.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::probe::Probe;
use crate::{HwSpec, JobSpec, NativeStep, StepSpec};

/// The version of the plan's wire form ([`Plan::to_json`], [`Plan::from_json`]).
pub const PLAN_VERSION: u32 = 2;

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
    /// Frames a segment decodes and runs through its steps on either side
    /// of its range without outputting them, so that steps that look at
    /// neighbouring frames (inpainting fills what a mark hides from them)
    /// restore the frames either side of a cut alike.
    #[serde(default)]
    pub context: SegmentContextFrames,
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
    pub hw: HwSpec,
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
    pub probe: Option<Probe>,
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

/// Frames of temporal context around each segment's range (see
/// [`Plan::context`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentContextFrames {
    /// Frames before the range.
    pub before: u64,
    /// Frames after it (a segment among the first frames of an inpaint
    /// step's range decodes until `before` frames past that range's start,
    /// or `after` if more: those first frames wait for as many frames as the
    /// step holds behind, or as its look-ahead).
    pub after: u64,
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
        serde_json::to_string(self).map_err(PlanError::Malformed)
    }

    /// Reads a plan from its wire form and checks it ([`Plan::check`]).
    pub fn from_json(text: &str) -> Result<Plan, PlanError> {
        // The version first, so an old or new plan says so rather than
        // failing on a field it lacks or adds.
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let Version { version } = serde_json::from_str(text).map_err(PlanError::Malformed)?;
        if version != PLAN_VERSION {
            return Err(PlanError::Version { found: version });
        }
        let plan: Plan = serde_json::from_str(text).map_err(PlanError::Malformed)?;
        plan.check()?;
        Ok(plan)
    }

    /// `" at place K"` for place `place` of inpaint step `step` on input
    /// `item` when that step's mark has several places, else nothing: for
    /// log lines.
    pub fn place_name(&self, step: usize, item: usize, place: usize) -> String {
        let places = self
            .masks
            .iter()
            .filter(|m| (m.step, m.item) == (step, item))
            .count();
        if places > 1 {
            format!(" at place {place}")
        } else {
            String::new()
        }
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
                    == Some(&(m.model.width as u32, m.model.height as u32))
            });
            if !fits {
                return bad(format!(
                    "a mark of steps[{}] on item {} that does not fit it",
                    m.step, m.item
                ));
            }
        }
        for m in &self.masks {
            if let Some(mask) = &m.mask {
                mask.check().map_err(|e| {
                    PlanError::Inconsistent(format!(
                        "the mask of steps[{}] on item {}: {e}",
                        m.step, m.item
                    ))
                })?;
            }
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
        for m in &self.marks {
            let placed = self
                .masks
                .iter()
                .any(|k| (k.step, k.item, k.place) == (m.step, m.item, m.place));
            if !placed {
                return bad(format!(
                    "a mark of steps[{}] on item {} at place {}, which has no mask",
                    m.step, m.item, m.place
                ));
            }
            m.model.check().map_err(|e| {
                PlanError::Inconsistent(format!(
                    "the mark of steps[{}] on item {}: {e}",
                    m.step, m.item
                ))
            })?;
        }
        Ok(())
    }
}

/// The mark of an inpaint step on one input, estimated at plan time.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EstimatedMark {
    /// Index of the step in the spec.
    pub step: usize,
    /// Index of the input.
    pub item: usize,
    /// Index of the mask's place ([`MaskSummary::place`]).
    #[serde(default)]
    pub place: usize,
    /// Opacity and colour of the mark per pixel.
    pub model: MarkPlanes,
    /// The input's coding noise under the mark: how much averaging each un-blended pixel
    /// with other frames' view of it takes off its squared error (levels²), measured over the
    /// same frames. It decides, the same way for every segment, whether the step averages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coding_noise: Option<f64>,
    /// How far the spatial fill leads across a hole's short side: each pixel weighs its
    /// neighbours along an axis by the hole's length along it to the power minus this, where
    /// that restores the picture around the mark better than the plain harmonic fill (none):
    /// straight structure crossing a long mask. Chosen on copies of the mask beside it, over
    /// the same frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill_exponent: Option<f32>,
}

impl EstimatedMark {
    /// One line for the job log: the mark ([`MarkPlanes::describe`]), the coding noise and
    /// the spatial fill's weighting.
    pub fn describe(&self) -> String {
        let mut line = self.model.describe();
        if let Some(noise) = self.coding_noise {
            line += &format!("; coding noise under it {noise:.2} levels² per pixel");
        }
        if let Some(exponent) = self.fill_exponent {
            line +=
                &format!("; spatial fill led across the mask's short side (exponent {exponent})");
        }
        line
    }
}

/// The mask an inpaint step uses on one input, as the plan records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaskSummary {
    /// Index of the step in the spec.
    pub step: usize,
    /// Index of the input.
    pub item: usize,
    /// Index of the place, for a mark that moves between places (a list of
    /// places in the spec, or found by `"mask": "auto"`); 0 otherwise.
    #[serde(default)]
    pub place: usize,
    /// Output times (µs into the input) the place is used in, `[from, to)`,
    /// where it has a range of its own: the step's range narrowed to the
    /// place's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_us: Option<[i64; 2]>,
    /// Bounding box `[x, y, width, height]`.
    pub bbox: [i64; 4],
    /// Masked pixels.
    pub pixels: usize,
    /// Whether it was found from the video (`"mask": "auto"`).
    pub detected: bool,
    /// The detected mask itself, so that segments need not find it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mask: Option<MaskRuns>,
}

impl MaskSummary {
    /// One line for the job log: which step, input and place, where, and
    /// whether it was found from the video.
    pub fn describe(&self) -> String {
        let [x, y, w, h] = self.bbox;
        let range = match self.active_us {
            Some([from, to]) => {
                let secs = |us: i64| us as f64 / 1e6;
                match (from > i64::MIN, to < i64::MAX) {
                    (true, true) => format!(", {:.2} s to {:.2} s", secs(from), secs(to)),
                    (true, false) => format!(", from {:.2} s", secs(from)),
                    (false, true) => format!(", until {:.2} s", secs(to)),
                    (false, false) => String::new(),
                }
            }
            None => String::new(),
        };
        let place = if self.place > 0 || !range.is_empty() {
            format!(" (place {}{range})", self.place)
        } else {
            String::new()
        };
        format!(
            "of steps[{}] on input {}{place}: {} pixels in [x {x}, y {y}, w {w}, h {h}]{}",
            self.step,
            self.item,
            self.pixels,
            if self.detected {
                " (found from the video)"
            } else {
                ""
            }
        )
    }
}

/// The largest frame, in pixels, a mask or mark may cover.
const MAX_FRAME_PIXELS: usize = 1 << 28;

/// A mask as it travels: the runs of masked luma pixels of a
/// `width`x`height` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskRuns {
    pub width: usize,
    pub height: usize,
    /// Runs of masked luma pixels, `[start, length]`, in reading order
    /// (`start` counts pixels from the top left, row after row).
    pub runs: Vec<[usize; 2]>,
}

impl MaskRuns {
    /// Checks that the frame has a sane size and every run lies inside it.
    pub fn check(&self) -> Result<(), String> {
        let total = self
            .width
            .checked_mul(self.height)
            .filter(|&t| t > 0 && t <= MAX_FRAME_PIXELS)
            .ok_or_else(|| format!("mask size {}x{} out of range", self.width, self.height))?;
        for &[start, len] in &self.runs {
            if start.checked_add(len).is_none_or(|end| end > total) {
                return Err(format!("mask run [{start}, {len}] outside the frame"));
            }
        }
        Ok(())
    }
}

/// The model of a semi-transparent mark as it travels: per plane (Y, U, V),
/// the region it covers and its opacity and premultiplied colour there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkPlanes {
    /// Luma size of the frames the mark was estimated on.
    pub width: usize,
    pub height: usize,
    pub planes: [MarkPlane; 3],
    /// What the estimate's opacities rest on, for a mark estimated from the
    /// video: how sure it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support: Option<MarkSupport>,
}

/// What an estimated mark's opacities rest on, over the mask's luma pixels:
/// the job log's confidence in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkSupport {
    /// Whether the camera moved, so that other frames showed the background
    /// under the mark; otherwise only what changed in place under it did.
    pub moving: bool,
    /// Pixels under the mask.
    pub masked: usize,
    /// Pixels whose opacity came from their own samples: what frame pairs
    /// showed of their background (directly or under parts of the mark
    /// already found), or, under a still camera, the changes they followed
    /// or the camera's noise the mark scales.
    pub own: usize,
    /// Pixels nothing showed the background through, taken as opaque and
    /// filled rather than un-blended.
    pub unseen: usize,
}

impl MarkSupport {
    /// The job log's confidence: how much of the mask the opacities were
    /// measured on, and from what; the rest is inferred from around (the
    /// mark's colour beside it, or temporal statistics under a still camera).
    pub fn describe(&self) -> String {
        let share = |n: usize| 100.0 * n as f64 / self.masked.max(1) as f64;
        let rest = share(self.masked.saturating_sub(self.own + self.unseen));
        if self.moving {
            format!(
                "confidence: {:.0}% of the mask measured from other frames' view, {:.0}% taken as opaque (never seen through), {rest:.0}% inferred from around",
                share(self.own),
                share(self.unseen),
            )
        } else {
            format!(
                "confidence: a still camera, {:.0}% of the mask measured from what changes under it, {rest:.0}% from temporal statistics alone (weak: a logo PNG is exact)",
                share(self.own),
            )
        }
    }
}

/// One plane of a [`MarkPlanes`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkPlane {
    /// `[x0, y0, x1, y1]` of the region, half-open, in plane pixels.
    pub region: [usize; 4],
    /// Opacity per pixel of the region, row after row.
    pub alpha: Vec<f32>,
    /// Opacity times the mark's colour per pixel of the region.
    pub premul: Vec<f32>,
}

impl MarkPlanes {
    /// One line for the job log: how much of the region the mark covers,
    /// its opacity there, how much of it is opaque (filled rather than
    /// un-blended) and its mean colour (Y'CbCr, opacity-weighted).
    pub fn describe(&self) -> String {
        let luma = &self.planes[0];
        let marked: Vec<f32> = luma.alpha.iter().copied().filter(|&a| a > 0.0).collect();
        if marked.is_empty() {
            return "no mark found under the mask: it is left as it is".to_string();
        }
        let (lo, hi) = marked
            .iter()
            .fold((f32::MAX, f32::MIN), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        let mean = marked.iter().sum::<f32>() / marked.len() as f32;
        let opaque = marked.iter().filter(|&&a| a >= 0.9).count();
        let colour = self.planes.each_ref().map(|p| {
            let alpha: f32 = p.alpha.iter().sum();
            if alpha > 0.0 {
                p.premul.iter().sum::<f32>() / alpha
            } else {
                f32::NAN
            }
        });
        let line = format!(
            "{} of {} pixels marked, alpha {lo:.2}-{hi:.2} (mean {mean:.2}), {:.0}% opaque, mean colour Y {:.0} Cb {:.0} Cr {:.0}",
            marked.len(),
            luma.alpha.len(),
            100.0 * opaque as f64 / marked.len() as f64,
            colour[0],
            colour[1],
            colour[2],
        );
        match &self.support {
            Some(support) => format!("{line}; {}", support.describe()),
            None => line,
        }
    }

    /// Checks the size, that each region lies in its plane (chroma planes
    /// are half size, rounded up) with one finite value per pixel.
    pub fn check(&self) -> Result<(), String> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 || w > 1 << 15 || h > 1 << 15 {
            return Err(format!("mark model size {w}x{h} out of range"));
        }
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        for (p, (plane, (pw, ph))) in self
            .planes
            .iter()
            .zip([(w, h), (cw, ch), (cw, ch)])
            .enumerate()
        {
            let [x0, y0, x1, y1] = plane.region;
            let inside = x0 <= x1 && y0 <= y1 && x1 <= pw && y1 <= ph;
            let area = (x1.saturating_sub(x0)) * (y1.saturating_sub(y0));
            if !inside || plane.alpha.len() != area || plane.premul.len() != area {
                return Err(format!(
                    "mark model plane {p}: region or values do not fit a {pw}x{ph} plane"
                ));
            }
            if !plane
                .alpha
                .iter()
                .chain(&plane.premul)
                .all(|v| v.is_finite())
            {
                return Err(format!("mark model plane {p}: values must be finite"));
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
    Malformed(#[source] serde_json::Error),
    /// Made by a framejet with another wire form.
    #[error("plan version {found}: this framejet reads version {PLAN_VERSION}")]
    Version { found: u32 },
    /// Its parts do not agree.
    #[error("inconsistent plan: {0}")]
    Inconsistent(String),
}

/// The frame size each step sees for an item of `width`x`height`: the
/// input's until the `fit` step, the output's after it.
pub fn step_sizes(spec: &JobSpec, item: (u32, u32), out: &OutputFormat) -> Vec<(u32, u32)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A carried mark plane over `region` (`[x0, y0, x1, y1]`), at opacity 0.5 throughout.
    fn half_opaque_plane(region: [usize; 4]) -> MarkPlane {
        let n = (region[2] - region[0]) * (region[3] - region[1]);
        MarkPlane {
            region,
            alpha: vec![0.5; n],
            premul: vec![60.0; n],
        }
    }

    /// A carried `width`x`height` mark over the planes' `regions`, at opacity 0.5 throughout.
    fn half_opaque(width: usize, height: usize, regions: [[usize; 4]; 3]) -> MarkPlanes {
        MarkPlanes {
            width,
            height,
            planes: regions.map(half_opaque_plane),
            support: None,
        }
    }

    #[test]
    fn carried_masks_and_marks_are_checked() {
        let mask = |runs: Vec<[usize; 2]>| MaskRuns {
            width: 4,
            height: 4,
            runs,
        };
        assert!(mask(vec![[0, 3], [5, 11]]).check().is_ok());
        assert!(mask(vec![[14, 3]]).check().is_err());
        assert!(mask(vec![[usize::MAX, 2]]).check().is_err());

        let mut mark = half_opaque(5, 3, [[1, 0, 5, 2], [0, 0, 3, 2], [0, 0, 0, 0]]);
        assert!(mark.check().is_ok());
        mark.planes[1] = half_opaque_plane([0, 0, 4, 2]);
        assert!(mark.check().unwrap_err().contains("plane 1"));
        mark.planes[1] = half_opaque_plane([0, 0, 3, 2]);
        mark.planes[0].alpha[3] = f32::NAN;
        assert!(mark.check().unwrap_err().contains("finite"));
    }

    #[test]
    fn an_estimated_marks_log_line_says_what_its_opacities_rest_on() {
        let mut mark = half_opaque(4, 2, [[0, 0, 4, 2], [0, 0, 2, 1], [0, 0, 2, 1]]);
        mark.support = Some(MarkSupport {
            moving: true,
            masked: 200,
            own: 180,
            unseen: 4,
        });
        let line = mark.describe();
        assert!(
            line.ends_with(
                "; confidence: 90% of the mask measured from other frames' view, 2% taken as \
                 opaque (never seen through), 8% inferred from around"
            ),
            "{line}"
        );
        // Carried in the plan, and a plan written without it still reads.
        let json = serde_json::to_string(&mark).expect("serialisable");
        assert_eq!(
            serde_json::from_str::<MarkPlanes>(&json).ok(),
            Some(mark.clone())
        );
        mark.support = Some(MarkSupport {
            moving: false,
            masked: 200,
            own: 28,
            unseen: 0,
        });
        assert!(
            mark.describe().ends_with(
                "; confidence: a still camera, 14% of the mask measured from what changes under \
                 it, 86% from temporal statistics alone (weak: a logo PNG is exact)"
            ),
            "{}",
            mark.describe()
        );
        mark.support = None;
        let json = serde_json::to_string(&mark).expect("serialisable");
        assert!(!json.contains("support"));
        assert_eq!(serde_json::from_str::<MarkPlanes>(&json).ok(), Some(mark));
    }
}
