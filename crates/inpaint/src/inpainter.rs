//! [`Inpainter`]: the streaming watermark remover. Frames go in one at a time and come out in
//! order, the same number, after a bounded delay: `window` frames of look-ahead, and at the
//! start `memory` frames (or the learning frames, when the mark is estimated from the video),
//! as nothing is behind the first frames.
//!
//! Per frame:
//! 1. **Un-blend** (on arrival): semi-transparent pixels are restored exactly by inverting the
//!    blend (`blend.rs`); opaque pixels become holes. The frame is cropped to the working
//!    region around the mark and kept as a source of background for its neighbours: `window`
//!    frames ahead (at the start, as many as the memory or the learning frames), `memory`
//!    frames behind.
//! 2. **Motion** (on arrival): the motion from the previous frame (a translation, or with a
//!    zoom or rotation as well) is measured around the mark (`motion.rs`); a frame that no motion matches and whose picture changed is a scene
//!    cut (`cut.rs`), and no frame is restored from one across it.
//! 3. **Averaging** (when the look-ahead is there): un-blended pixels are mixed with what the
//!    frames around show at their places, where a lossy input's noise shows (`average.rs`).
//! 4. **Temporal fill**: each hole pixel takes the background
//!    that the nearest frame in time shows at the motion-compensated position (`temporal.rs`).
//!    Frames are tried nearest first until every hole is filled; pairs whose motion does not
//!    explain the ring around the mark are skipped.
//! 5. **Spatial fill**: what no frame shows is filled smoothly from its surroundings
//!    (`fill.rs`). Where the camera is still, the fill starts from the previous frame's (a few
//!    relaxation sweeps instead of a solve from scratch) and is smoothed over time (each frame
//!    moves a quarter of the way from the previous fill to the new one), so noise around the
//!    mark does not make the fill flicker.
//! 6. **Check** (as frames go out, in order): a restoration that leaves the mark's edges, a
//!    seam or amplified noise behind is replaced by a fill of everything the mark covers from
//!    the surroundings (`guard.rs`), so a wrong model or a motion miss never does worse than
//!    the classic filters.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use rayon::prelude::*;

use crate::average::{AveragePlane, Averaged};
use crate::blend::{self, Inversion, PixelKind};
use crate::config::{CodingNoise, InpaintConfig, KernelDevice, Kernels, MarkModel};
use crate::cut;
use crate::error::InpaintError;
use crate::estimate::{MarkLearner, Measured};
use crate::fill::{self, Anisotropy};
use crate::guard::{Fallback, Guard, Score, Verdicts};
use crate::logo::LogoModel;
use crate::mask::{Bounds, Mask};
use crate::morph;
use crate::motion::{Match, Motion, MotionSearch};
use crate::plane::{Yuv420Frame, check_size, to_pixel};
use crate::reference;
use crate::region::Crop;
use crate::sampling::Blocked;
use crate::temporal::{self, OpenHoles, Source};

/// Motions this close to whole pixels (on luma) count as copies when ordering sources.
const WHOLE_ENOUGH: f32 = 0.1;
/// A motion predicted from earlier ones (whole pixels from the consecutive motions summed, or
/// the last consecutive motion) is taken without a full search when it explains the ring around
/// the mark this well (fraction of `max_residual`).
pub(crate) const CONFIRM_RESIDUAL: f32 = 0.5;
/// Sweeps of a spatial fill that starts from the previous frame's (a still camera).
pub(crate) const WARM_SWEEPS: usize = 8;
/// Weight of the new spatial fill when the camera is still (the rest is the previous fill).
pub(crate) const STILL_BLEND: f32 = 0.25;
/// Known pixels around the holes that a spatial fill reads.
const FILL_MARGIN: usize = 2;

/// Counts of how the pixels of the frames so far were restored (luma and chroma together).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InpaintStats {
    /// Frames output.
    pub frames: u64,
    /// Pixels restored by inverting the blend.
    pub unblended: u64,
    /// Of those, pixels averaged with other frames' view of them (a lossy input's noise).
    pub averaged: u64,
    /// Hole pixels copied from another frame, where the motion reveals the background.
    pub from_other_frames: u64,
    /// Hole pixels filled from their surroundings.
    pub spatial: u64,
    /// Frames whose restoration did not hold (it left the mark's edges behind, or a seam, or
    /// noise): what the mark covers was filled from the surroundings instead, where it did
    /// not hold (the tiles of the mask that failed the check) or all over.
    pub fallback_frames: u64,
    /// Of those, frames filled in some tiles of the mask only.
    pub fallback_in_part: u64,
    /// Scene cuts among the frames output: frames that no frame before them helped restore.
    pub scene_cuts: u64,
    /// With [`Kernels::Device`], the first call the device failed (that call, and any later
    /// failing one, ran on the CPU reference instead).
    pub device_error: Option<String>,
}

/// Removes a mark from a stream of yuv420p frames. See the module docs for the steps.
///
/// ```no_run
/// # use framejet_inpaint::*;
/// # fn frames() -> Vec<Yuv420Frame> { vec![] }
/// # fn write(_: Yuv420Frame) {}
/// let mask = Mask::from_rect(Rect::new(1600, 40, 260, 90), 1920, 1080)?;
/// let mut inpainter = Inpainter::new(InpaintConfig::default(), mask)?;
/// for frame in frames() {
///     for done in inpainter.push(frame)? {
///         write(done);
///     }
/// }
/// for done in inpainter.finish()? {
///     write(done);
/// }
/// # Ok::<(), InpaintError>(())
/// ```
pub struct Inpainter {
    config: InpaintConfig,
    mask: Mask,
    /// Per plane, the rows of a frame that the inpainter writes to: those of the mask.
    written_rows: [std::ops::Range<usize>; 3],
    phase: Phase,
    stats: InpaintStats,
    /// The coding noise measured, once finished.
    measured_noise: Option<f64>,
}

enum Phase {
    /// Learning the mark from the first frames, which are held until it is known.
    Learning(Box<Learning>),
    Running(Box<Engine>),
    Finished,
}

impl Inpainter {
    /// An inpainter for frames of the mask's size. With a [`MarkModel::Given`] or
    /// [`MarkModel::Estimated`] logo, the mask is widened to every pixel the logo touches.
    pub fn new(config: InpaintConfig, mask: Mask) -> Result<Self, InpaintError> {
        let (phase, mask) = match &config.mark {
            MarkModel::Opaque => (
                Phase::Running(Box::new(Engine::new(&config, &mask, None, None))),
                mask,
            ),
            MarkModel::Given(logo) | MarkModel::Estimated(logo) => {
                logo.check_size(mask.width(), mask.height())?;
                let mask = match logo.mask() {
                    Ok(logo_mask) => {
                        let union: Vec<u8> = (0..mask.height())
                            .flat_map(|y| (0..mask.width()).map(move |x| (x, y)))
                            .map(|(x, y)| u8::from(mask.contains(x, y) || logo_mask.contains(x, y)))
                            .collect();
                        Mask::from_bits(mask.width(), mask.height(), &union)?
                    }
                    // A model estimated where nothing shows through: the mask alone.
                    Err(InpaintError::EmptyMask) => mask,
                    Err(e) => return Err(e),
                };
                (
                    Phase::Running(Box::new(Engine::new(
                        &config,
                        &mask,
                        Some(logo.clone()),
                        None,
                    ))),
                    mask,
                )
            }
            MarkModel::Estimate { frames } => (
                Phase::Learning(Box::new(Learning {
                    held: Vec::new(),
                    learner: MarkLearner::new(&mask, &config),
                    needed: (*frames).max(2),
                })),
                mask,
            ),
        };
        let Bounds { y0, y1, .. } = mask.bounds();
        let chroma = y0 / 2..y1.div_ceil(2);
        Ok(Self {
            config,
            mask,
            written_rows: [y0..y1, chroma.clone(), chroma],
            phase,
            stats: InpaintStats::default(),
            measured_noise: None,
        })
    }

    /// Takes the next frame; returns the frames that are ready, in order (none while the
    /// look-ahead fills up).
    pub fn push(&mut self, mut frame: Yuv420Frame) -> Result<Vec<Yuv420Frame>, InpaintError> {
        check_size(
            || "the mask".into(),
            (self.mask.width(), self.mask.height()),
            (frame.width(), frame.height()),
        )?;
        for (p, rows) in self.written_rows.iter().enumerate() {
            frame.will_write(p, rows.clone());
        }
        match &mut self.phase {
            Phase::Finished => Err(InpaintError::Finished),
            Phase::Running(engine) => Ok(engine.push(frame, &mut self.stats)),
            Phase::Learning(learning) => {
                learning.learner.add(&frame)?;
                learning.held.push(frame);
                if learning.held.len() < learning.needed {
                    return Ok(Vec::new());
                }
                self.start()
            }
        }
    }

    /// Ends the stream: returns every frame still held, in order. Further pushes fail.
    pub fn finish(&mut self) -> Result<Vec<Yuv420Frame>, InpaintError> {
        let mut out = match &self.phase {
            Phase::Finished => return Err(InpaintError::Finished),
            Phase::Learning(_) => self.start()?,
            Phase::Running(_) => Vec::new(),
        };
        if let Phase::Running(mut engine) = std::mem::replace(&mut self.phase, Phase::Finished) {
            out.extend(engine.finish(&mut self.stats));
            self.measured_noise = engine.averaging.measured();
        }
        Ok(out)
    }

    /// Ends the learning: builds the engine from what was learnt (one frame alone is treated
    /// as opaque) and runs the held frames through it, with the motion the learner measured
    /// on them.
    fn start(&mut self) -> Result<Vec<Yuv420Frame>, InpaintError> {
        let Phase::Learning(learning) = std::mem::replace(&mut self.phase, Phase::Finished) else {
            return Ok(Vec::new());
        };
        let Learning { held, learner, .. } = *learning;
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let (logo, search, matches, crops) = if held.len() >= 2 {
            let (logo, measured) = learner.finish()?;
            let logo = crate::estimate::refit(logo, &held, &self.mask, &self.config)?;
            let Measured {
                search,
                consecutive,
                pairs,
                crops,
            } = measured;
            (Some(logo), Some(search), Some((consecutive, pairs)), crops)
        } else {
            (None, None, None, Vec::new())
        };
        let mut engine = Box::new(Engine::new(&self.config, &self.mask, logo, search));
        // All of them go in before any comes out: the first frames get a long look-ahead.
        engine.ingest_held(held, matches, crops);
        let out = engine.drain(&mut self.stats);
        self.phase = Phase::Running(engine);
        Ok(out)
    }

    /// The mask in use.
    pub fn mask(&self) -> &Mask {
        &self.mask
    }

    /// The mark model in use (given or estimated), once known; `None` for opaque marks and
    /// while learning.
    pub fn logo(&self) -> Option<&LogoModel> {
        match &self.phase {
            Phase::Running(engine) => engine.logo.as_ref(),
            _ => None,
        }
    }

    /// The input's coding noise under the mark, as far as the frames restored so far tell:
    /// how much averaging un-blended pixels with other frames takes off their squared error
    /// (levels², per pixel, the amplified noise alone), to hand to
    /// [`InpaintConfig::coding_noise`] for the same input. Measured on every frame with
    /// [`InpaintConfig::measure_coding_noise`], else on the first few; `None` when nothing
    /// was measured (no semi-transparent pixel, no frames matched with each other).
    pub fn coding_noise(&self) -> Option<f64> {
        match &self.phase {
            Phase::Running(engine) => engine.averaging.measured(),
            _ => self.measured_noise,
        }
    }

    /// Whether un-blended pixels are averaged with other frames, so that
    /// [`coding_noise`](Self::coding_noise) can measure anything: not for a mark with no
    /// semi-transparent pixel, nor with averaging off. `true` while the mark is being learnt.
    pub fn averages(&self) -> bool {
        match &self.phase {
            Phase::Running(engine) => engine.averages(),
            _ => true,
        }
    }

    /// How the pixels of the frames output so far were restored.
    pub fn stats(&self) -> InpaintStats {
        self.stats.clone()
    }
}

/// The frames held while the mark is learnt, and the learner that has seen them.
struct Learning {
    held: Vec<Yuv420Frame>,
    learner: MarkLearner,
    /// Frames to learn from.
    needed: usize,
}

/// One plane's static setup.
struct PlaneSetup {
    /// Plane width.
    w: usize,
    inversion: Inversion,
    /// Hole pixels (plane coordinates), in scan order.
    holes: Vec<(u32, u32)>,
    /// Holes (grown by one pixel on luma), cropped to the working region: not trusted as
    /// background in any frame.
    blocked: Blocked,
    /// Region of the spatial fill: the holes' bounds with a margin of known pixels.
    fill_region: Option<Bounds>,
    /// Stencils of the fill region with every hole pixel open: the shape of a still camera's
    /// warm starts, frame after frame.
    open_stencils: Option<fill::Stencils>,
    /// Every hole pixel open: where each frame's temporal fill starts.
    open: OpenHoles,
    /// The holes as runs along rows (see `temporal::hole_runs`).
    hole_runs: Vec<(usize, u32, u32, u32)>,
}

/// A frame kept as a source of background: un-blended, cropped to the working region.
struct Kept {
    index: u64,
    crop: Crop,
}

struct Engine {
    look_ahead: usize,
    memory: usize,
    /// Frames held before the first comes out: nothing is behind the first frames, so where
    /// holes are filled from other frames their look-ahead reaches as far as the memory would
    /// (the learning frames, when the mark is learnt, are held already).
    opening: u64,
    max_residual: f32,
    kernels: Kernels,
    /// How the spatial fill weighs a pixel's neighbours.
    fill_shape: Anisotropy,
    logo: Option<LogoModel>,
    search: MotionSearch,
    planes: [PlaneSetup; 3],
    /// Whether any plane has holes to fill (else only un-blending runs).
    has_holes: bool,
    /// Per plane, the averaging of its un-blended pixels with other frames (none without).
    average: [Option<AveragePlane>; 3],
    /// Frames either side averaged with.
    average_frames: usize,
    /// Whether averaging pays on this video: measured by the plan, or told by the first frames.
    averaging: Averaging,
    /// Pixels of every frame (all planes) un-blended, and holes.
    unblended_per_frame: u64,
    holes_per_frame: u64,
    /// Crops of frames `emitted - memory .. pushed`.
    kept: VecDeque<Kept>,
    /// Crops of frames no longer kept: buffers for the next frames' crops.
    spare_crops: Vec<Crop>,
    /// Un-blended frames not yet output: `emitted .. pushed`.
    pending: VecDeque<Yuv420Frame>,
    /// The motion between the last two frames pushed, the first guess for the next pair.
    last_motion: Option<Motion>,
    pushed: u64,
    emitted: u64,
    /// Frames that start a new scene (`cut.rs`), kept while frames before them are.
    cuts: BTreeSet<u64>,
    /// Measured pairs, keyed (earlier, later), motion from the earlier frame to the later.
    /// Locked: the frames of a burst are restored in parallel, measuring pairs as they go.
    matches: Mutex<HashMap<(u64, u64), Option<Match>>>,
    /// The first call a [`Kernels::Device`] failed.
    device_error: Mutex<Option<String>>,
    /// The previous output's spatial fill values per plane and hole pixel (NaN: not spatial).
    previous_spatial: Option<(u64, [Vec<f32>; 3])>,
    /// The last frame decided to fall back to a fill from its surroundings.
    last_fell_back: Option<u64>,
    /// Frames decided, with their fallback fills still to do (on the core the next frame's
    /// un-blending leaves free): they go out with the next push.
    to_fill: Vec<Decided>,
    /// The last frame filled's fallback, when it fell back: where the next one starts.
    carried_fallback: Option<Fallback>,
    /// The check of each restored frame, and the decisions so far.
    guard: Guard,
    verdicts: Verdicts,
}

/// Pairs measured the same way by the learner and the engine: the match of each frame with
/// the next, and other pairs keyed (earlier, later).
type LearntMatches = (Vec<Option<Match>>, Vec<((usize, usize), Option<Match>)>);

/// Frames restored one after the other, each from the previous one's spatial fill (a still
/// camera); the first from `carried`, when given.
struct Run {
    carried: Option<[Vec<f32>; 3]>,
    frames: Vec<(u64, Yuv420Frame)>,
}

/// A frame restored, with its spatial fill values per plane (see `fill_spatially`) and how
/// many of its hole pixels (all planes) came from other frames.
struct Restored {
    frame: Yuv420Frame,
    score: Score,
    spatial: [Vec<f32>; 3],
    from_other_frames: u64,
    /// What averaging with other frames did.
    averaged: Averaged,
}

/// Whether un-blended pixels are averaged with other frames.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Averaging {
    /// For the first frames, to tell whether it pays: what it did to them so far.
    Probing {
        frames: usize,
        done: Averaged,
    },
    /// On every frame as while probing, to measure the coding noise: what it did so far.
    Measuring(Averaged),
    On,
    Off,
}

impl Averaging {
    /// The coding noise measured so far: what averaging takes off each un-blended pixel's
    /// squared error, on average.
    fn measured(&self) -> Option<f64> {
        match self {
            Averaging::Probing { done, .. } | Averaging::Measuring(done) if done.weighed > 0 => {
                Some(done.gain_sum / done.weighed as f64)
            }
            _ => None,
        }
    }
}

/// Frames averaged before deciding whether averaging pays.
const AVERAGE_PROBE_FRAMES: usize = 4;
/// Expected drop of the squared error (levels², per un-blended pixel) below which averaging
/// stops: a lossless input's un-blended pixels are off by their rounding, amplified, which
/// averaging takes down by 0.02-0.3 on the corpus's clips; a lossy one's by 0.6 (H.264 at CRF
/// 16) to 60 (H.265 at CRF 28).
const AVERAGE_MIN_GAIN: f64 = 0.5;

/// A restored frame and the guard's decision on it.
struct Decided {
    frame: Yuv420Frame,
    fill: Fill,
    /// The guard's tiles to fill (see [`Verdicts::reject`]); empty when none.
    tiles: Vec<bool>,
    /// Whether the camera stood still since the frame before.
    still: bool,
}

/// Whether a frame is filled from its surroundings instead of restored, and from where the
/// fill starts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fill {
    /// Restored: it goes out as it is.
    No,
    Fresh,
    /// From the fill of the frame before (a still camera).
    FromPrevious,
}

/// Does the fallback fills of `decided`, in order: those that start afresh in parallel, then
/// those that start from the frame before's. `carried` is the fallback of the frame before
/// the first; returns the frames and the last one's fallback (when it fell back).
fn fill_decided(
    guard: &Guard,
    mut decided: Vec<Decided>,
    carried: Option<Fallback>,
) -> (Vec<Yuv420Frame>, Option<Fallback>) {
    if decided.is_empty() {
        return (Vec::new(), carried);
    }
    let mut fallbacks: Vec<Option<Fallback>> = decided
        .par_iter_mut()
        .map(|d| match d.fill {
            Fill::Fresh => guard.fill(&mut d.frame, None, d.still, &d.tiles),
            _ => None,
        })
        .collect();
    let mut carried = carried;
    for (i, d) in decided.iter_mut().enumerate() {
        if d.fill == Fill::FromPrevious {
            let previous = match i {
                0 => carried.take(),
                _ => fallbacks[i - 1].take(),
            };
            fallbacks[i] = guard.fill(&mut d.frame, previous.as_ref(), d.still, &d.tiles);
        }
    }
    let last = fallbacks.pop().flatten();
    (decided.into_iter().map(|d| d.frame).collect(), last)
}

impl Engine {
    /// An engine for `mask`, with the motion search the learner set up when there was one.
    fn new(
        config: &InpaintConfig,
        mask: &Mask,
        logo: Option<LogoModel>,
        search: Option<MotionSearch>,
    ) -> Self {
        // The learner's search tries similarities only where no translation will do; restoring,
        // a similarity that explains the ring better is the better source.
        let search = search
            .unwrap_or_else(|| MotionSearch::new(mask, config.max_motion))
            .links_similar_from(0.0);
        let region = *search.region();
        let planes = std::array::from_fn(|p| {
            let (w, h) = mask.plane_size(p);
            let bounds = if p == 0 {
                mask.bounds()
            } else {
                mask.bounds().halved(w, h)
            };
            let bits = mask.plane_bits(p);
            let inversion = Inversion::new(
                bounds,
                w,
                bits,
                logo.as_ref().map(|l| l.plane(p)),
                config.opaque_alpha,
            );
            let mut holes = Vec::new();
            for y in bounds.y0..bounds.y1 {
                for x in bounds.x0..bounds.x1 {
                    if inversion.kind[(y - bounds.y0) * bounds.width() + x - bounds.x0]
                        == PixelKind::Hole
                    {
                        holes.push((x as u32, y as u32));
                    }
                }
            }
            let fill_region =
                Bounds::of_points(holes.iter().copied()).map(|b| b.grown(FILL_MARGIN, w, h));
            let none_filled = vec![false; holes.len()];
            let open_stencils = fill_region.map(|r| {
                let unknown = unknown_map(r, &holes, &none_filled);
                fill::Stencils::new(&unknown, r.width(), r.height(), config.fill_shape)
            });
            let open = OpenHoles::new(&holes, &none_filled);
            let hole_runs = temporal::hole_runs(&holes);
            // Luma holes get a one-pixel safety margin against the mark's soft or smeared
            // edges; a chroma pixel already spans two luma pixels.
            let (cw, ch) = region.size(p);
            let r = region.bounds(p);
            let mut cropped = vec![0u8; cw * ch];
            for &(x, y) in &holes {
                cropped[(y as usize - r.y0) * cw + x as usize - r.x0] = 1;
            }
            let blocked = Blocked::new(
                if p == 0 {
                    morph::dilate(&cropped, cw, ch, 1)
                } else {
                    cropped
                },
                cw,
                ch,
            );
            PlaneSetup {
                w,
                inversion,
                holes,
                blocked,
                fill_region,
                open_stencils,
                open,
                hole_runs,
            }
        });
        let has_holes = planes.iter().any(|p: &PlaneSetup| !p.holes.is_empty());
        // Without holes nothing is filled from other frames: a frame waits only for the
        // frames after it that it is averaged with.
        let look_ahead = if has_holes {
            config.window
        } else {
            config.window.min(config.average)
        };
        let average = std::array::from_fn(|p| {
            let (w, h) = mask.plane_size(p);
            (config.average > 0)
                .then(|| AveragePlane::new(&planes[p].inversion, w, h, region.bounds(p), p == 0))
                .flatten()
        });
        let unblended_per_frame = planes
            .iter()
            .map(|setup| {
                setup
                    .inversion
                    .kind
                    .iter()
                    .filter(|&&k| k == PixelKind::Invert)
                    .count() as u64
            })
            .sum();
        let holes_per_frame = planes.iter().map(|p| p.holes.len() as u64).sum();
        // Only a mark given by its image is trusted as it is: its shape is exact.
        let trusted = matches!(config.mark, MarkModel::Given(_));
        let guard = Guard::new(mask, logo.as_ref(), trusted, config.fill_shape);
        Self {
            guard,
            verdicts: Verdicts::new(trusted),
            has_holes,
            average,
            average_frames: config.average,
            averaging: match config.noise {
                CodingNoise::Probe => Averaging::Probing {
                    frames: 0,
                    done: Averaged::default(),
                },
                CodingNoise::Measure => Averaging::Measuring(Averaged::default()),
                CodingNoise::Known(gain) if gain >= AVERAGE_MIN_GAIN => Averaging::On,
                CodingNoise::Known(_) => Averaging::Off,
            },
            unblended_per_frame,
            holes_per_frame,
            look_ahead,
            memory: config.memory,
            opening: match (look_ahead, has_holes) {
                (0, _) => 0,
                (_, true) => look_ahead.max(config.memory) as u64,
                (_, false) => look_ahead as u64,
            },
            max_residual: config.max_residual,
            kernels: config.kernels.clone(),
            fill_shape: config.fill_shape,
            logo,
            search,
            planes,
            kept: VecDeque::new(),
            spare_crops: Vec::new(),
            pending: VecDeque::new(),
            last_motion: None,
            pushed: 0,
            emitted: 0,
            matches: Mutex::new(HashMap::new()),
            device_error: Mutex::new(None),
            cuts: BTreeSet::new(),
            previous_spatial: None,
            last_fell_back: None,
            to_fill: Vec::new(),
            carried_fallback: None,
        }
    }

    /// Takes the next frame. The frames whose look-ahead is kept already are restored while
    /// this one is un-blended and the fallback fills decided last time are done, on another
    /// core: they no longer depend on it. Returns the frames filled.
    fn push(&mut self, frame: Yuv420Frame, stats: &mut InpaintStats) -> Vec<Yuv420Frame> {
        let ready = self.ready();
        let runs = self.runs(ready);
        let crop = self.spare_crops.pop().unwrap_or_default();
        let (to_fill, carried) = (
            std::mem::take(&mut self.to_fill),
            self.carried_fallback.take(),
        );
        let (restored, ((frame, crop), (out, carried))) = rayon::join(
            || self.restore_runs(runs),
            || {
                rayon::join(
                    || self.unblend(frame, crop),
                    || fill_decided(&self.guard, to_fill, carried),
                )
            },
        );
        self.carried_fallback = carried;
        self.to_fill = self.decided(restored, stats);
        self.keep(frame, crop, None);
        out
    }

    /// Ingests the frames held while the mark was learnt, un-blending them in parallel. The
    /// learner's matches between them (`learnt`) are taken as they are: the engine would find
    /// the same, as motion is measured outside the mark. The frames are cropped into the
    /// `spare` crops (the learner's) where there are some.
    fn ingest_held(
        &mut self,
        held: Vec<Yuv420Frame>,
        learnt: Option<LearntMatches>,
        mut spare: Vec<Crop>,
    ) {
        let base = self.pushed;
        spare.resize_with(held.len(), Crop::default);
        let ready: Vec<(Yuv420Frame, Crop)> = held
            .into_par_iter()
            .zip(spare)
            .map(|(f, crop)| self.unblend(f, crop))
            .collect();
        let (consecutive, pairs) = learnt.unwrap_or_default();
        let mut consecutive = consecutive.into_iter();
        for (i, (frame, crop)) in ready.into_iter().enumerate() {
            let known = if i == 0 { None } else { consecutive.next() };
            self.keep(frame, crop, known);
        }
        if self.needs_motion() {
            let matches = self
                .matches
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner);
            for ((a, b), found) in pairs {
                matches.insert((base + a as u64, base + b as u64), found);
            }
        }
    }

    /// A frame with its semi-transparent pixels un-blended, and its crop to the working region
    /// (into `crop`'s buffers).
    fn unblend(&self, mut frame: Yuv420Frame, mut crop: Crop) -> (Yuv420Frame, Crop) {
        for (p, setup) in self.planes.iter().enumerate() {
            match &self.kernels {
                Kernels::Optimised => blend::invert(frame.data_mut(p), setup.w, &setup.inversion),
                Kernels::Reference => {
                    blend::invert_reference(frame.data_mut(p), setup.w, &setup.inversion)
                }
                Kernels::Device(device) => {
                    let inv = &setup.inversion;
                    let b = inv.bounds;
                    let done = device.invert(
                        frame.data_mut(p),
                        setup.w,
                        [b.x0, b.y0, b.x1, b.y1],
                        &inv.kinds(),
                        inv.alphas(),
                        inv.premuls(),
                    );
                    if let Err(e) = done {
                        self.device_failed(e);
                        blend::invert_reference(frame.data_mut(p), setup.w, inv);
                    }
                }
            }
        }
        self.search.region().crop_into(&frame, &mut crop);
        (frame, crop)
    }

    /// Keeps an un-blended frame and its crop, with its match to the previous frame: `known`
    /// when it was measured already, else measured here.
    fn keep(&mut self, frame: Yuv420Frame, crop: Crop, known: Option<Option<Match>>) {
        let index = self.pushed;
        let matched = |found: Option<Match>| found.is_some_and(|m| m.residual <= self.max_residual);
        // Without holes to fill or pixels to average, no motion is needed.
        let previous = self
            .kept
            .back()
            .filter(|_| self.needs_motion())
            .map(|prev| {
                let found = known.unwrap_or_else(|| {
                    self.search.consecutive(
                        &prev.crop.planes[0],
                        &crop.planes[0],
                        self.last_motion,
                        CONFIRM_RESIDUAL * self.max_residual,
                    )
                });
                (prev.index, found)
            });
        let cut = self.kept.back().is_some_and(|prev| {
            !previous.is_some_and(|(_, found)| matched(found))
                && cut::is_cut(&prev.crop.planes[0], &crop.planes[0])
        });
        if cut {
            self.cuts.insert(index);
        }
        if let Some((prev, found)) = previous {
            self.last_motion = found.map(|m| m.motion);
            self.matches
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .insert((prev, index), found);
        }
        self.kept.push_back(Kept { index, crop });
        self.pending.push_back(frame);
        self.pushed += 1;
    }

    /// Whether a scene cut lies between frames `a` and `b`: neither restores the other.
    fn across_cut(&self, a: u64, b: u64) -> bool {
        let (lo, hi) = (a.min(b), a.max(b));
        self.cuts.range(lo + 1..=hi).next().is_some()
    }

    /// Whether frames are matched with each other: to fill holes or to average un-blended
    /// pixels.
    fn needs_motion(&self) -> bool {
        self.has_holes || self.averages()
    }

    /// Whether frames are only averaged, to measure the coding noise: their holes are left
    /// as they are and nothing is checked (the averaging reads no hole of another frame).
    fn measures_only(&self) -> bool {
        matches!(self.averaging, Averaging::Measuring(_))
    }

    /// Whether un-blended pixels are averaged (while probing, and after where it pays).
    fn averages(&self) -> bool {
        self.average.iter().any(Option::is_some) && self.averaging != Averaging::Off
    }

    /// The frames within [`InpaintConfig::average`] of frame `t`, kept and matched with it,
    /// nearest first, with the motion to each.
    fn average_sources(&self, t: u64) -> Vec<(u64, Motion)> {
        let reach = self.average_frames as u64;
        (1..=reach)
            .flat_map(|dist| {
                let before = t.checked_sub(dist).filter(|_| dist <= self.memory as u64);
                [before, Some(t + dist).filter(|&s| s < self.pushed)]
            })
            .flatten()
            .filter(|&s| !self.across_cut(t, s))
            .filter_map(|s| {
                let m = self.pair(t, s)?;
                (m.residual <= self.max_residual).then_some((s, m.motion))
            })
            .collect()
    }

    /// Averages the un-blended pixels of frame `t` (`out`) with what the frames around show
    /// of them; returns what it did.
    fn average(&self, t: u64, out: &mut Yuv420Frame) -> Averaged {
        if !self.averages() {
            return Averaged::default();
        }
        let sources = self.average_sources(t);
        if sources.is_empty() {
            return Averaged::default();
        }
        let planes = out.data_mut_all();
        planes
            .into_par_iter()
            .enumerate()
            .map(|(p, plane)| {
                let Some(average) = &self.average[p] else {
                    return Averaged::default();
                };
                let list: Vec<Source<'_>> =
                    sources.iter().map(|&(s, m)| self.source(p, s, m)).collect();
                let holes = !self.planes[p].holes.is_empty();
                let confirmed = self.averaging == Averaging::On;
                let sums = match &self.kernels {
                    Kernels::Device(device) => average
                        .sums_on(device.as_ref(), &reference::views(&list), holes)
                        .unwrap_or_else(|e| {
                            self.device_failed(e);
                            average.sums(&list, holes)
                        }),
                    _ => average.sums(&list, holes),
                };
                average.apply(plane, sums, confirmed)
            })
            .reduce(Averaged::default, Averaged::add)
    }

    /// Counts what averaging did to a frame while measuring or probing; a probe decides once
    /// enough frames have told: on a lossless input the un-blended pixels are no noisier than
    /// their neighbours in time and averaging stops, sparing its motion measurements too.
    fn probe_averaging(&mut self, averaged: Averaged) {
        if let Averaging::Measuring(done) = &mut self.averaging {
            *done = done.add(averaged);
        }
        let Averaging::Probing { frames, done } = &mut self.averaging else {
            return;
        };
        *done = done.add(averaged);
        *frames += 1;
        if *frames >= AVERAGE_PROBE_FRAMES {
            // No frame matched with another: nothing to average with.
            let gain = done.gain_sum / done.weighed.max(1) as f64;
            self.averaging = if gain >= AVERAGE_MIN_GAIN {
                Averaging::On
            } else {
                Averaging::Off
            };
        }
    }

    /// The pair cache.
    fn matches(&self) -> MutexGuard<'_, HashMap<(u64, u64), Option<Match>>> {
        self.matches.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Emits the frames that have their look-ahead.
    fn drain(&mut self, stats: &mut InpaintStats) -> Vec<Yuv420Frame> {
        self.emit(self.ready(), stats)
    }

    /// How many frames, from the next to emit on, have their look-ahead kept.
    fn ready(&self) -> usize {
        if self.emitted == 0 && self.pushed < self.opening {
            return 0;
        }
        self.pushed
            .saturating_sub(self.look_ahead as u64)
            .saturating_sub(self.emitted) as usize
    }

    fn finish(&mut self, stats: &mut InpaintStats) -> Vec<Yuv420Frame> {
        self.emit((self.pushed - self.emitted) as usize, stats)
    }

    fn kept(&self, index: u64) -> Option<&Kept> {
        let front = self.kept.front()?.index;
        self.kept.get(index.checked_sub(front)? as usize)
    }

    /// The motion from frame `t` to frame `s`, measured once per pair: the consecutive motions
    /// between them summed, then confirmed on the ring (whole pixels) or refined directly.
    /// Pairs less than half a pixel apart are not refined: they reveal nothing.
    fn pair(&self, t: u64, s: u64) -> Option<Match> {
        let key = (t.min(s), t.max(s));
        let known = self.matches().get(&key).copied();
        let found = match known {
            Some(found) => found,
            // Measured without the lock: another frame may measure the same pair meanwhile,
            // and finds the same.
            None => {
                let found = self.measure(key);
                self.matches().insert(key, found);
                found
            }
        }?;
        Some(if t < s {
            found
        } else {
            Match {
                motion: found.motion.neg(),
                residual: found.residual,
            }
        })
    }

    /// Measures the pair (`a`, `b`), `a < b`, from the consecutive motions between them.
    fn measure(&self, (a, b): (u64, u64)) -> Option<Match> {
        let guess = predicted(&self.matches(), a, b)?;
        if guess.within_half_pixel() {
            return Some(Match {
                motion: Motion::default(),
                residual: f32::INFINITY,
            });
        }
        let (a, b) = (&self.kept(a)?.crop.planes[0], &self.kept(b)?.crop.planes[0]);
        self.search
            .confirm(a, b, guess, CONFIRM_RESIDUAL * self.max_residual)
            .or_else(|| self.search.refine_either(a, b, guess, self.max_residual))
    }

    /// The sources for frame `t`, found lazily: candidates are measured and tried on the luma
    /// holes until those are all filled. Frames whose motion is (nearly) whole pixels come
    /// first, nearest first, as they give exact copies; then the others, nearest first.
    /// Returns them in that order, with the luma plane filled as far as they go (`filled`: none
    /// yet).
    fn luma_sources(&self, t: u64, luma: &mut [u8], filled: &mut [bool]) -> Vec<(u64, Motion)> {
        // Every frame held is a source: the look-ahead, and at the start the learning frames.
        let reach = (self.memory as u64).max(self.pushed - t - 1);
        let by_distance: Vec<u64> = (1..=reach)
            .flat_map(|dist| {
                let before = t.checked_sub(dist).filter(|_| dist <= self.memory as u64);
                [before, Some(t + dist).filter(|&s| s < self.pushed)]
            })
            .flatten()
            .filter(|&s| !self.across_cut(t, s))
            .collect();
        let whole: Vec<bool> = {
            let matches = self.matches();
            by_distance
                .iter()
                .map(|&s| predicted(&matches, t, s).is_some_and(|m| m.off_grid() <= WHOLE_ENOUGH))
                .collect()
        };
        let ordered = (0..by_distance.len())
            .filter(|&i| whole[i])
            .chain((0..by_distance.len()).filter(|&i| !whole[i]))
            .map(|i| by_distance[i]);

        let mut accepted = Vec::new();
        // Without luma holes (chroma only), every usable source is taken.
        let luma_holes = !filled.is_empty();
        let mut open = self.planes[0].open.clone();
        for s in ordered {
            if luma_holes && open.is_empty() {
                break;
            }
            let Some(m) = self.pair(t, s) else { continue };
            if m.residual > self.max_residual || m.motion.is_still() {
                continue;
            }
            accepted.push((s, m.motion));
            let source = self.source(0, s, m.motion);
            let w = self.planes[0].w;
            match &self.kernels {
                Kernels::Optimised => open.fill_from(luma, w, &source),
                Kernels::Reference => {
                    let holes = &self.planes[0].holes;
                    temporal::fill_reference(luma, w, holes, filled, &[source]);
                    open = OpenHoles::new(holes, filled);
                }
                Kernels::Device(device) => {
                    let holes = &self.planes[0].holes;
                    self.temporal_on(device.as_ref(), luma, w, holes, filled, &[source]);
                    open = OpenHoles::new(holes, filled);
                }
            }
        }
        open.mark_filled(&self.planes[0].hole_runs, filled);
        accepted
    }

    /// Frame `s` as a source for plane `p`, with the luma motion `m`.
    fn source(&self, p: usize, s: u64, m: Motion) -> Source<'_> {
        let kept = self.kept(s).expect("sources are kept");
        let b = self.search.region().bounds(p);
        let (w, h) = self.search.region().size(p);
        let motion = if p == 0 { m } else { m.halved() };
        Source {
            plane: &kept.crop.planes[p],
            blocked: &self.planes[p].blocked,
            w,
            h,
            x0: b.x0,
            y0: b.y0,
            motion,
        }
    }

    /// Runs the temporal fill kernel on plane `p`, none of whose holes is `filled` yet.
    fn temporal(&self, target: &mut [u8], p: usize, filled: &mut [bool], sources: &[Source<'_>]) {
        let setup = &self.planes[p];
        match &self.kernels {
            Kernels::Optimised => temporal::fill(
                target,
                setup.w,
                &setup.hole_runs,
                setup.open.clone(),
                filled,
                sources,
            ),
            Kernels::Reference => {
                temporal::fill_reference(target, setup.w, &setup.holes, filled, sources)
            }
            Kernels::Device(device) => self.temporal_on(
                device.as_ref(),
                target,
                setup.w,
                &setup.holes,
                filled,
                sources,
            ),
        }
    }

    /// The temporal fill on a device, or on the reference where the device fails.
    fn temporal_on(
        &self,
        device: &dyn KernelDevice,
        target: &mut [u8],
        w: usize,
        holes: &[(u32, u32)],
        filled: &mut [bool],
        sources: &[Source<'_>],
    ) {
        let views = reference::views(sources);
        let before = filled.to_vec();
        if let Err(e) = device.temporal_fill(target, w, holes, filled, &views) {
            self.device_failed(e);
            filled.copy_from_slice(&before);
            temporal::fill_reference(target, w, holes, filled, sources);
        }
    }

    /// Keeps the first error of a device; the caller runs the reference instead.
    fn device_failed(&self, error: String) {
        let mut first = self
            .device_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        first.get_or_insert(error);
    }

    /// Whether the camera is still from frame `t - 1` to frame `t`: then frame `t`'s spatial
    /// fill starts from, and moves only part of the way from, frame `t - 1`'s.
    fn still_since_previous(&self, t: u64) -> bool {
        t.checked_sub(1)
            .filter(|_| self.has_holes)
            .and_then(|prev| self.pair(t, prev))
            .is_some_and(|m| m.motion.is_still() && m.residual <= 0.5 * self.max_residual)
    }

    /// Restores the next `n` frames and moves on; returns them with those decided before.
    /// While averaging is on probation, the frames that decide it go first, so a burst (the
    /// frames held while the mark was learnt) does not all pay for it.
    fn emit(&mut self, n: usize, stats: &mut InpaintStats) -> Vec<Yuv420Frame> {
        let probing = match self.averaging {
            Averaging::Probing { frames, .. } if self.averages() => {
                AVERAGE_PROBE_FRAMES.saturating_sub(frames)
            }
            _ => 0,
        };
        if probing == 0 || probing >= n {
            return self.emit_now(n, stats);
        }
        let mut out = self.emit_now(probing, stats);
        out.extend(self.emit_now(n - probing, stats));
        out
    }

    /// [`emit`](Self::emit) in one go.
    fn emit_now(&mut self, n: usize, stats: &mut InpaintStats) -> Vec<Yuv420Frame> {
        let runs = self.runs(n);
        let restored = self.restore_runs(runs);
        let mut decided = std::mem::take(&mut self.to_fill);
        decided.extend(self.decided(restored, stats));
        let (out, carried) = fill_decided(&self.guard, decided, self.carried_fallback.take());
        self.carried_fallback = carried;
        if stats.device_error.is_none() {
            stats.device_error = self
                .device_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
        }
        out
    }

    /// Takes the next `n` frames to restore, as runs. Each frame where the camera moved
    /// starts a run of frames that depend only on each other (a still camera's fills carry
    /// over from frame to frame).
    fn runs(&mut self, n: usize) -> Vec<Run> {
        if n == 0 {
            return Vec::new();
        }
        let first = self.emitted;
        let still: Vec<bool> = (first..first + n as u64)
            .map(|t| self.still_since_previous(t))
            .collect();
        let mut carried = self
            .previous_spatial
            .take()
            .filter(|(i, _)| still[0] && i + 1 == first)
            .map(|(_, v)| v);
        let mut runs: Vec<Run> = Vec::new();
        for (i, frame) in self.pending.drain(..n).enumerate() {
            if i == 0 || !still[i] {
                runs.push(Run {
                    carried: carried.take(),
                    frames: Vec::new(),
                });
            }
            if let Some(run) = runs.last_mut() {
                run.frames.push((first + i as u64, frame));
            }
        }
        runs
    }

    /// Restores `runs`, in parallel (the burst that ends the learning uses every core), in
    /// order.
    fn restore_runs(&self, runs: Vec<Run>) -> Vec<Restored> {
        runs.into_par_iter()
            .flat_map_iter(|run| {
                let mut out: Vec<Restored> = Vec::with_capacity(run.frames.len());
                for (t, frame) in run.frames {
                    let previous = out.last().map(|r| &r.spatial).or(run.carried.as_ref());
                    let r = self.restore(t, frame, previous);
                    out.push(r);
                }
                out
            })
            .collect()
    }

    /// Decides, in order, which of the `restored` frames (the next ones) fall back to a fill
    /// from their surroundings, counts them as emitted and forgets the frames and pairs no
    /// longer needed.
    fn decided(&mut self, restored: Vec<Restored>, stats: &mut InpaintStats) -> Vec<Decided> {
        if restored.is_empty() {
            return Vec::new();
        }
        let first = self.emitted;
        let n = restored.len();
        let mut out = Vec::with_capacity(n);
        for (i, r) in restored.into_iter().enumerate() {
            let t = first + i as u64;
            // A frame filled from its surroundings alone has nothing to check. A still
            // camera's fallback starts from the frame before's, when that fell back too.
            let spatial_only = self.unblended_per_frame == 0 && r.from_other_frames == 0;
            let tiles = if spatial_only || self.measures_only() {
                None
            } else {
                self.verdicts.reject(&r.score)
            };
            let still = tiles.is_some() && self.still_since_previous(t);
            let fill = if tiles.is_none() {
                Fill::No
            } else if still && self.last_fell_back.is_some_and(|p| p + 1 == t) {
                Fill::FromPrevious
            } else {
                Fill::Fresh
            };
            let tiles = tiles.unwrap_or_default();
            if fill != Fill::No {
                self.last_fell_back = Some(t);
                stats.fallback_frames += 1;
                // A still camera's fallback fills every tile (see `Guard::fill`).
                stats.fallback_in_part += u64::from(!still && tiles.contains(&false));
            }
            stats.scene_cuts += u64::from(self.cuts.contains(&t));
            stats.unblended += self.unblended_per_frame;
            stats.averaged += r.averaged.pixels;
            self.probe_averaging(r.averaged);
            stats.from_other_frames += r.from_other_frames;
            stats.spatial += self.holes_per_frame - r.from_other_frames;
            stats.frames += 1;
            self.previous_spatial = Some((t, r.spatial));
            out.push(Decided {
                frame: r.frame,
                fill,
                tiles,
                still,
            });
        }
        self.emitted += n as u64;
        // Frames further back than the memory are no longer sources.
        while let Some(gone) = self
            .kept
            .pop_front_if(|k| k.index + (self.memory as u64) < self.emitted)
        {
            self.spare_crops.push(gone.crop);
        }
        let oldest = self.kept.front().map_or(self.emitted, |k| k.index);
        // A cut before every frame kept and counted separates nothing any more.
        self.cuts
            .retain(|&c| c > oldest.min(self.emitted.saturating_sub(1)));
        self.matches
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&(a, _), _| a >= oldest);
        out
    }

    /// Restores frame `t` (un-blended already): its holes from other frames, then spatially,
    /// from `previous` (frame `t - 1`'s spatial fill) when the camera is still.
    fn restore(&self, t: u64, mut out: Yuv420Frame, previous: Option<&[Vec<f32>; 3]>) -> Restored {
        let averaged = self.average(t, &mut out);
        if self.measures_only() {
            return Restored {
                score: Score::default(),
                frame: out,
                spatial: std::array::from_fn(|p| vec![f32::NAN; self.planes[p].holes.len()]),
                from_other_frames: 0,
                averaged,
            };
        }
        let mut filled: [Vec<bool>; 3] =
            std::array::from_fn(|p| vec![false; self.planes[p].holes.len()]);
        let [luma, cb, cr] = out.data_mut_all();
        let sources = if self.has_holes {
            self.luma_sources(t, luma, &mut filled[0])
        } else {
            Vec::new()
        };
        let previous = |p: usize| previous.map(|v| &v[p]);

        // Chroma from the same sources; then every plane's spatial fill.
        let [fy, fu, fv] = &mut filled;
        let chroma = |plane: &mut [u8], p: usize, filled: &mut Vec<bool>| {
            if !filled.is_empty() {
                let list: Vec<Source<'_>> =
                    sources.iter().map(|&(s, m)| self.source(p, s, m)).collect();
                self.temporal(plane, p, filled, &list);
            }
            self.fill_spatially(plane, &self.planes[p], filled, previous(p))
        };
        let (sy, (su, sv)) = rayon::join(
            || self.fill_spatially(luma, &self.planes[0], fy, previous(0)),
            || rayon::join(|| chroma(cb, 1, fu), || chroma(cr, 2, fv)),
        );
        let from_other_frames = filled
            .iter()
            .map(|f| f.iter().filter(|&&f| f).count() as u64)
            .sum();
        Restored {
            score: self.guard.score(&out),
            frame: out,
            spatial: [sy, su, sv],
            from_other_frames,
            averaged,
        }
    }

    /// Fills the hole pixels not `filled` from their surroundings; returns each hole pixel's
    /// spatial value (NaN where it was background). With `previous` (a still camera), the fill
    /// moves only part of the way from the previous frame's.
    fn fill_spatially(
        &self,
        plane: &mut [u8],
        setup: &PlaneSetup,
        filled: &[bool],
        previous: Option<&Vec<f32>>,
    ) -> Vec<f32> {
        let nothing_spatial = || vec![f32::NAN; setup.holes.len()];
        let w = setup.w;
        let (Some(whole_region), true) = (setup.fill_region, filled.contains(&false)) else {
            return nothing_spatial();
        };
        // A still camera with last frame's fill for every open pixel: start from it.
        let warm = previous.filter(|prev| {
            filled
                .iter()
                .zip(prev.iter())
                .all(|(&f, p)| f || !p.is_nan())
        });
        // A warm start relaxes every hole (the shape its stencils are kept for); a fresh solve
        // needs only the open pixels and the known ones around them.
        let region = if warm.is_some() {
            whole_region
        } else {
            let open = setup.holes.iter().zip(filled).filter(|&(_, &f)| !f);
            match Bounds::of_points(open.map(|(&hole, _)| hole)) {
                Some(open) => open.grown(FILL_MARGIN, w, plane.len() / w),
                None => return nothing_spatial(),
            }
        };
        let (rw, rh) = (region.width(), region.height());
        let mut values = region_values(plane, w, region);
        if let (Kernels::Optimised, Some(prev), Some(open), false) = (
            &self.kernels,
            warm,
            &setup.open_stencils,
            filled.contains(&true),
        ) {
            return still_fill(plane, setup, region, open, values, prev);
        }
        let unknown = || unknown_map(region, &setup.holes, filled);
        if let Some(prev) = warm {
            for ((&(x, y), &f), &p) in setup.holes.iter().zip(filled).zip(prev.iter()) {
                if !f {
                    values[(y as usize - region.y0) * rw + x as usize - region.x0] = p;
                }
            }
        }
        let shape = self.fill_shape;
        match (&self.kernels, warm.is_some()) {
            (Kernels::Optimised, false) => fill::fill(&mut values, &unknown(), rw, rh, shape),
            (Kernels::Reference, false) => {
                fill::fill_reference(&mut values, &unknown(), rw, rh, shape)
            }
            (Kernels::Optimised, true) => {
                fill::Stencils::new(&unknown(), rw, rh, shape).relax(&mut values, WARM_SWEEPS)
            }
            (Kernels::Reference, true) => {
                fill::relax_reference(&mut values, &unknown(), rw, rh, WARM_SWEEPS, shape)
            }
            (Kernels::Device(device), warm) => {
                let unknown = unknown();
                let before = values.clone();
                let done = if warm {
                    device.relax(&mut values, &unknown, rw, rh, WARM_SWEEPS, shape)
                } else {
                    device.spatial_fill(&mut values, &unknown, rw, rh, shape)
                };
                if let Err(e) = done {
                    self.device_failed(e);
                    values = before;
                    if warm {
                        fill::relax_reference(&mut values, &unknown, rw, rh, WARM_SWEEPS, shape);
                    } else {
                        fill::fill_reference(&mut values, &unknown, rw, rh, shape);
                    }
                }
            }
        }
        let mut spatial = nothing_spatial();
        for (i, (&(x, y), &f)) in setup.holes.iter().zip(filled).enumerate() {
            if f {
                continue;
            }
            let mut v = values[(y as usize - region.y0) * rw + x as usize - region.x0];
            if let Some(prev) = previous.map(|p| p[i]).filter(|p| !p.is_nan()) {
                v = prev + STILL_BLEND * (v - prev);
            }
            spatial[i] = v;
            plane[y as usize * w + x as usize] = to_pixel(v);
        }
        spatial
    }
}

/// The pixels of `region` of a plane `w` wide, as values for a spatial fill.
fn region_values(plane: &[u8], w: usize, region: Bounds) -> Vec<f32> {
    let mut values = Vec::with_capacity(region.width() * region.height());
    for y in region.y0..region.y1 {
        values.extend(
            plane[y * w + region.x0..y * w + region.x1]
                .iter()
                .map(|&v| f32::from(v)),
        );
    }
    values
}

/// The spatial fill of a still camera's frame with no hole filled from other frames (the
/// optimised path of `Engine::fill_spatially`, with the same sums): every hole starts from
/// `previous`, is relaxed with the `open` stencils, and moves a part of the way from
/// `previous` to where it relaxed. The holes go in and out as runs along rows. `values` is
/// the fill `region` of `plane`.
fn still_fill(
    plane: &mut [u8],
    setup: &PlaneSetup,
    region: Bounds,
    open: &fill::Stencils,
    mut values: Vec<f32>,
    previous: &[f32],
) -> Vec<f32> {
    let (w, rw) = (setup.w, region.width());
    let at = |x: u32, y: u32| (y as usize - region.y0) * rw + x as usize - region.x0;
    let runs = &setup.hole_runs;
    for &(hole, y, x, len) in runs {
        let len = len as usize;
        values[at(x, y)..][..len].copy_from_slice(&previous[hole..][..len]);
    }
    open.relax(&mut values, WARM_SWEEPS);
    let mut spatial = vec![0.0; setup.holes.len()];
    for &(hole, y, x, len) in runs {
        let len = len as usize;
        let relaxed = &values[at(x, y)..][..len];
        let previous = &previous[hole..][..len];
        let out = &mut spatial[hole..][..len];
        let pixels = &mut plane[y as usize * w + x as usize..][..len];
        for k in 0..len {
            let v = previous[k] + STILL_BLEND * (relaxed[k] - previous[k]);
            out[k] = v;
            pixels[k] = to_pixel(v);
        }
    }
    spatial
}

/// The motion from frame `t` to frame `s` predicted by the consecutive motions between them
/// (no measurement).
fn predicted(matches: &HashMap<(u64, u64), Option<Match>>, t: u64, s: u64) -> Option<Motion> {
    let (a, b) = (t.min(s), t.max(s));
    let mut sum = Motion::default();
    for i in a..b {
        sum = sum.add(matches.get(&(i, i + 1)).copied().flatten()?.motion);
    }
    Some(if t < s { sum } else { sum.neg() })
}

/// Which pixels of the fill `region` are unknown (1): the `holes` not `filled`.
fn unknown_map(region: Bounds, holes: &[(u32, u32)], filled: &[bool]) -> Vec<u8> {
    let rw = region.width();
    let mut unknown = vec![0u8; rw * region.height()];
    for (&(x, y), &f) in holes.iter().zip(filled) {
        if !f {
            unknown[(y as usize - region.y0) * rw + x as usize - region.x0] = 1;
        }
    }
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    /// A textured 160x96 clip whose camera pans by (3, 1) pixels per frame for `moving`
    /// frames, then stands still, under an opaque grey block.
    fn pan_then_still(n: usize, moving: usize, mark: Rect) -> Vec<Yuv420Frame> {
        let (w, h) = (160, 96);
        let texture = |x: i64, y: i64| ((x * 7 + y * 13) % 64 + ((x / 5 + y / 3) % 7) * 20) as u8;
        (0..n)
            .map(|t| {
                let (dx, dy) = (3 * t.min(moving) as i64, t.min(moving) as i64);
                let mut f = Yuv420Frame::new(w, h);
                for (p, scale) in [(0, 1), (1, 2), (2, 2)] {
                    let pw = w / scale;
                    for (i, v) in f.data_mut(p).iter_mut().enumerate() {
                        let (x, y) = ((i % pw * scale) as i64, (i / pw * scale) as i64);
                        let inside = (mark.x..mark.x + mark.width as i64).contains(&x)
                            && (mark.y..mark.y + mark.height as i64).contains(&y);
                        *v = if inside {
                            200
                        } else {
                            texture(x + dx, y + dy) / 2 + 30 * p as u8
                        };
                    }
                }
                f
            })
            .collect()
    }

    #[test]
    fn a_burst_restores_what_frame_by_frame_restores() {
        let mark = Rect::new(60, 36, 40, 24);
        let mask = Mask::from_rect(mark, 160, 96).expect("a valid mask");
        let frames = pan_then_still(24, 10, mark);
        let config = InpaintConfig::default().mark(MarkModel::Opaque);
        let engine = || {
            let mut engine = Engine::new(&config, &mask, None, None);
            engine.ingest_held(frames.clone(), None, Vec::new());
            engine
        };
        let (mut burst, mut one_by_one) = (engine(), engine());
        let (mut burst_stats, mut one_stats) = (InpaintStats::default(), InpaintStats::default());
        let all = burst.emit(frames.len(), &mut burst_stats);
        let single: Vec<_> = (0..frames.len())
            .flat_map(|_| one_by_one.emit(1, &mut one_stats))
            .collect();
        assert_eq!(all.len(), frames.len());
        assert!(
            all == single,
            "the burst differs from frame-by-frame output"
        );
        assert_eq!(burst_stats, one_stats);
        // Both ways of filling ran: moving frames copy background, still ones fill spatially.
        assert!(burst_stats.from_other_frames > 0 && burst_stats.spatial > 0);
        // The mark is gone: no pixel of the block's grey is left inside it in a moving frame.
        let w = 160;
        let luma = all[3].data(0);
        let grey = (mark.y as usize..(mark.y as usize + mark.height as usize))
            .flat_map(|y| {
                (mark.x as usize..mark.x as usize + mark.width as usize).map(move |x| (x, y))
            })
            .filter(|&(x, y)| luma[y * w + x] == 200)
            .count();
        assert_eq!(grey, 0);
    }
}
