//! Watermark removal on 8-bit yuv420p video, on the CPU: the kernels behind framejet's native
//! `inpaint` job step.
//!
//! A mark is removed in up to two ways, per pixel:
//! - **Semi-transparent** pixels (`observed = alpha * logo + (1 - alpha) * background`) are
//!   restored exactly by inverting the blend, with the mark's `alpha` and colour either taken
//!   from its image ([`LogoModel::from_png`]) or estimated from the video
//!   ([`LogoModel::estimate`]: the background moving under a static mark reveals both).
//! - **Opaque** pixels (alpha ≥ 0.9 by default) are filled from neighbouring frames, where the
//!   camera's motion shows the background they hide, and what no frame shows is filled
//!   smoothly from the surroundings, steadily over time.
//!
//! The host's `inpaint` step:
//! 1. builds a [`Mask`]: [`Mask::from_rect`], [`Mask::from_png`], or [`detect_mask`] over a
//!    sample of frames (then [`Mask::to_png`] beside the output); a mark is found by a
//!    [`PlaceFinder`] over pairs of frames, one [`FoundPlace`] for each place it moves
//!    between, with the frames it is there, and [`detect_mask`] adds what stays still next to
//!    it ([`FoundPlace::refine`]); errors come before any frame is processed;
//! 2. picks a [`MarkModel`]: `Given` a logo image, `Estimate` from the video (the default,
//!    which handles opaque marks too; [`LogoModel::estimate_places`] learns one mark from all
//!    its places), or `Opaque`;
//! 3. streams each segment through an [`Inpainter`]: [`Inpainter::push`] each frame (read
//!    into one taken from a [`FramePool`], given back once written, or mapped from a file with
//!    [`Yuv420Frame::map_file`]), write what it returns, then [`Inpainter::finish`].
//!
//! The per-pixel kernels (blend inversion, temporal fill, spatial fill) each have a scalar
//! reference ([`mod@reference`]) and an optimised CPU path, selectable with [`Kernels`] and tested
//! against each other; they are loops over planes with a fixed number of passes. Their CUDA
//! twins (crate `framejet-gpu`) plug in as [`Kernels::Device`] and give the reference's
//! results.

mod average;
mod blend;
mod config;
mod cut;
mod detect;
mod error;
mod estimate;
mod fill;
mod fill_shape;
mod guard;
mod inpainter;
mod logo;
mod mask;
mod morph;
mod motion;
mod moved;
mod pixels;
mod places;
mod plane;
mod pool;
#[doc(hidden)]
pub mod reference;
mod region;
mod sampling;
mod temporal;
mod wire;

pub use config::{InpaintConfig, KernelDevice, Kernels, MarkModel};
pub use detect::{DetectOptions, detect_mask};
pub use error::InpaintError;
pub use fill::Anisotropy;
pub use fill_shape::{FILL_SHAPE_FRAMES, choose_fill_shape};
pub use inpainter::{InpaintStats, Inpainter};
pub use logo::LogoModel;
pub use mask::{Mask, Rect};
pub use places::{FoundPlace, MIN_STAY, PlaceFinder};
pub use plane::{Plane, PlaneMut, Yuv420Frame, chroma_size};
pub use pool::FramePool;
