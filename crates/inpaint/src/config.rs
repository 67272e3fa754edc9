//! [`InpaintConfig`]: every knob of the inpainter, with documented defaults, as a builder.

use crate::fill::Anisotropy;
use crate::logo::LogoModel;
use crate::mask::{Mask, Rect};
use crate::motion::MotionSearch;

/// What the inpainter knows about the mark's opacity.
#[derive(Clone, Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "built once per job; boxing would only burden callers"
)]
pub enum MarkModel {
    /// The mark hides what is under it: every masked pixel is filled from other frames or
    /// from its surroundings.
    Opaque,
    /// The mark's opacity and colour are known (from its image): the blend is inverted where
    /// it is semi-transparent, and only the (nearly) opaque pixels are filled.
    Given(LogoModel),
    /// The mark's opacity and colour as estimated from the video beforehand (at plan time, from
    /// frames across the whole input, [`LogoModel::estimate`]): used as [`MarkModel::Given`],
    /// but an estimate can be wrong, so each restored frame is checked more strictly against
    /// its surroundings before it is kept.
    Estimated(LogoModel),
    /// Learn the mark from the first `frames` frames (held back before the first output; see
    /// [`LogoModel::estimate`]), then proceed as with [`MarkModel::Given`]. Works for opaque
    /// marks too: their pixels come out opaque and are filled.
    Estimate {
        /// Frames to learn from (at least 2; 48 by default).
        frames: usize,
    },
}

/// Which implementation of the per-pixel kernels runs.
#[derive(Clone, Debug, Default)]
pub enum Kernels {
    /// The optimised CPU path (precomputed fixed-point tables, run lists, coarse-to-fine).
    #[default]
    Optimised,
    /// The plain scalar reference the optimised (and CUDA) paths are tested against.
    Reference,
    /// Blend inversion, temporal and spatial fill, and the sums the averaging of un-blended
    /// pixels takes its means from, on a device (a GPU: crate `framejet-gpu`),
    /// with the reference's results. A call the device fails runs the reference instead, and
    /// [`InpaintStats::device_error`](crate::InpaintStats::device_error) keeps the first error.
    Device(std::sync::Arc<dyn KernelDevice>),
}

/// A device that runs the per-pixel kernels: each method gives what the scalar reference of
/// the same name in [`reference`](crate::reference) gives on the same input, or an error.
pub trait KernelDevice: Send + Sync + std::fmt::Debug {
    /// What runs the kernels, for logs (`"GPU 0: NVIDIA H100"`).
    fn name(&self) -> String;

    /// [`reference::invert`](crate::reference::invert).
    fn invert(
        &self,
        plane: &mut [u8],
        w: usize,
        bounds: [usize; 4],
        kind: &[u8],
        alpha: &[f32],
        premul: &[f32],
    ) -> Result<(), String>;

    /// [`reference::temporal_fill`](crate::reference::temporal_fill).
    fn temporal_fill(
        &self,
        target: &mut [u8],
        w: usize,
        holes: &[(u32, u32)],
        filled: &mut [bool],
        sources: &[crate::reference::TemporalSource<'_>],
    ) -> Result<(), String>;

    /// [`reference::spatial_fill`](crate::reference::spatial_fill).
    fn spatial_fill(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        shape: Anisotropy,
    ) -> Result<(), String>;

    /// [`reference::average_sums`](crate::reference::average_sums).
    fn average_sums(
        &self,
        rect: [usize; 4],
        sparse: Option<&[u32]>,
        holes: bool,
        sources: &[crate::reference::TemporalSource<'_>],
        sum: &mut [f32],
        count: &mut [u16],
    ) -> Result<(), String>;

    /// [`reference::relax`](crate::reference::relax).
    fn relax(
        &self,
        values: &mut [f32],
        unknown: &[u8],
        w: usize,
        h: usize,
        sweeps: usize,
        shape: Anisotropy,
    ) -> Result<(), String>;
}

/// Settings of an [`Inpainter`](crate::Inpainter). `InpaintConfig::default()` is:
///
/// | setting | default | meaning |
/// | --- | --- | --- |
/// | [`window`](Self::window) | 16 | frames of look-ahead searched for revealed background |
/// | [`memory`](Self::memory) | 48 | frames behind searched for revealed background |
/// | [`average`](Self::average) | 8 | frames either side whose view of an un-blended pixel it is averaged with |
/// | [`coding_noise`](Self::coding_noise) | measured on the first 4 frames | whether the input is noisy enough under the mark for that averaging to pay |
/// | [`mark`](Self::mark) | `Estimate { frames: 48 }` | how the mark's opacity is known |
/// | [`opaque_alpha`](Self::opaque_alpha) | 0.9 | alpha from which a pixel is filled, not un-blended |
/// | [`max_motion`](Self::max_motion) | 32 | largest camera motion searched, pixels per frame |
/// | [`max_residual`](Self::max_residual) | 6.0 | largest luma mismatch around the mark for a match |
/// | [`fill_shape`](Self::fill_shape) | isotropic | how the spatial fill weighs a pixel's neighbours |
/// | [`kernels`](Self::kernels) | `Optimised` | kernel implementation |
#[derive(Clone, Debug)]
pub struct InpaintConfig {
    pub(crate) window: usize,
    pub(crate) memory: usize,
    pub(crate) average: usize,
    pub(crate) noise: CodingNoise,
    pub(crate) mark: MarkModel,
    pub(crate) opaque_alpha: f32,
    pub(crate) max_motion: usize,
    pub(crate) max_residual: f32,
    pub(crate) fill_shape: Anisotropy,
    pub(crate) kernels: Kernels,
}

impl Default for InpaintConfig {
    fn default() -> Self {
        Self {
            window: 16,
            memory: 48,
            average: 8,
            noise: CodingNoise::Probe,
            mark: MarkModel::Estimate { frames: 48 },
            opaque_alpha: 0.9,
            max_motion: 32,
            max_residual: 6.0,
            fill_shape: Anisotropy::ISOTROPIC,
            kernels: Kernels::Optimised,
        }
    }
}

impl InpaintConfig {
    /// Frames after the one being restored that are searched for revealed background: the
    /// look-ahead, so the delay between a frame going in and coming out. Each costs a full
    /// frame of memory. At the start of a stream, where nothing is behind, the first frames
    /// wait for as many frames as the [`memory`](Self::memory) (with a window of 0, none wait).
    /// A mark with nothing to fill (semi-transparent throughout) searches for no background:
    /// its frames wait only for the frames after them they are [averaged](Self::average) with.
    pub fn window(mut self, frames: usize) -> Self {
        self.window = frames;
        self
    }

    /// Frames before the one being restored that are searched for revealed background. They
    /// are kept cropped to the region around the mark, so each costs memory in proportion to
    /// the mark, not the frame.
    pub fn memory(mut self, frames: usize) -> Self {
        self.memory = frames;
        self
    }

    /// Frames either side of the one being restored (within the look-ahead and the memory)
    /// whose motion-compensated view of each un-blended pixel it is averaged with, as far as
    /// that pixel is noisier than their mean (a lossy input's noise, amplified by un-blending;
    /// see `average.rs`). 0 turns the averaging off.
    pub fn average(mut self, frames: usize) -> Self {
        self.average = frames;
        self
    }

    /// How the spatial fill (of what no frame shows, and the check's fallback) weighs a
    /// pixel's neighbours along its row against those across rows: the harmonic fill by
    /// default; [`choose_fill_shape`](crate::choose_fill_shape) tells which suits a video.
    pub fn fill_shape(mut self, shape: Anisotropy) -> Self {
        self.fill_shape = shape;
        self
    }

    /// Frames of look-ahead (see [`window`](Self::window)).
    pub fn window_frames(&self) -> usize {
        self.window
    }

    /// Frames behind searched (see [`memory`](Self::memory)).
    pub fn memory_frames(&self) -> usize {
        self.memory
    }

    /// The part of a frame that an [`Inpainter`](crate::Inpainter) with this configuration, and
    /// [`LogoModel::estimate`](crate::LogoModel::estimate), read for `mask`: its bounds grown by
    /// the motion search's reach, clipped to the frame (luma pixels; on the chroma planes the
    /// same area, halved and rounded outward). Pixels outside it are neither read nor written,
    /// so frames that hold only this part ([`Yuv420Frame::from_planes_within`]) are restored and
    /// measured exactly as whole ones are.
    ///
    /// [`Yuv420Frame::from_planes_within`]: crate::Yuv420Frame::from_planes_within
    pub fn reach(&self, mask: &Mask) -> Rect {
        let b = MotionSearch::region_for(mask, self.max_motion).bounds(0);
        Rect::new(
            b.x0 as i64,
            b.y0 as i64,
            b.width() as u64,
            b.height() as u64,
        )
    }

    /// How the mark's opacity is known.
    pub fn mark(mut self, mark: MarkModel) -> Self {
        self.mark = mark;
        self
    }

    /// Alpha from which a pixel counts as opaque (clamped to 0.5..=1). Un-blending divides by
    /// `1 - alpha`, amplifying quantisation and noise; above this, filling is more accurate.
    pub fn opaque_alpha(mut self, alpha: f32) -> Self {
        self.opaque_alpha = alpha.clamp(0.5, 1.0);
        self
    }

    /// Largest motion between consecutive frames that is searched for, in pixels.
    pub fn max_motion(mut self, pixels: usize) -> Self {
        self.max_motion = pixels.max(1);
        self
    }

    /// Largest mean absolute luma difference (0-255 levels) over the ring around the mark for
    /// a motion-compensated frame to be trusted as a source of background. Raise it for noisy
    /// video, lower it to be stricter about parallax and moving objects.
    pub fn max_residual(mut self, levels: f32) -> Self {
        self.max_residual = levels.max(0.0);
        self
    }

    /// Which kernel implementation runs (the reference one is for tests and porting).
    pub fn kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    /// The input's coding noise under the mark, as [`Inpainter::coding_noise`] measured it
    /// over frames across the input (with [`measure_coding_noise`](Self::measure_coding_noise)):
    /// un-blended pixels are then averaged with other frames, or not, from the first frame
    /// on, the same way in every segment. Without it the first frames tell.
    ///
    /// [`Inpainter::coding_noise`]: crate::Inpainter::coding_noise
    pub fn coding_noise(mut self, measured: f64) -> Self {
        self.noise = CodingNoise::Known(measured);
        self
    }

    /// Averages un-blended pixels on every frame as while telling whether it pays, to measure
    /// the input's coding noise ([`Inpainter::coding_noise`](crate::Inpainter::coding_noise)),
    /// and does nothing else: what the mark hides is left as it is, and nothing is checked.
    pub fn measure_coding_noise(mut self) -> Self {
        self.noise = CodingNoise::Measure;
        self
    }
}

/// What the inpainter knows of the input's coding noise under the mark, which decides whether
/// un-blended pixels are averaged with other frames (see [`InpaintConfig::average`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum CodingNoise {
    /// Nothing: the first frames tell.
    Probe,
    /// As measured over the input.
    Known(f64),
    /// Nothing, and every frame is averaged as while telling, to measure it.
    Measure,
}
