//! The model of a semi-transparent mark: per pixel and per plane, its opacity `alpha` and its
//! premultiplied value `alpha * logo`, so that
//! `observed = alpha * logo + (1 - alpha) * background`.
//!
//! A model comes either from the logo image itself ([`LogoModel::from_rgba`],
//! [`LogoModel::from_png`]) when the job has it, or from the video
//! ([`LogoModel::estimate`], see `estimate.rs`).
//!
//! ## Colour conversion of a given logo
//!
//! RGB is converted to Y'CbCr with the BT.709 matrix, limited range, as the host's compositor
//! draws logos (and as FFmpeg's `overlay` does when the logo is converted with
//! `scale=out_color_matrix=bt709:out_range=tv`):
//!
//! ```text
//! Y  = 16  + 219 * (0.2126 R + 0.7152 G + 0.0722 B) / 255
//! Cb = 128 + 224 * (B - Y') / 1.8556 / 255      (Y' = 0.2126 R + 0.7152 G + 0.0722 B)
//! Cr = 128 + 224 * (R - Y') / 1.5748 / 255
//! ```
//!
//! Alpha is straight (not premultiplied), `A / 255`. A chroma pixel covers four luma pixels; its
//! alpha is the mean of their four alphas (transparent outside the logo) and its colour the
//! plain mean of the logo pixels' chroma among them, which is how FFmpeg's `overlay` blends
//! yuv420p.

use std::path::Path;

use framejet_spec::plan::MarkSupport;
use image::ImageFormat;

use crate::config::InpaintConfig;
use crate::error::InpaintError;
use crate::estimate;
use crate::mask::{Bounds, Mask};
use crate::plane::Yuv420Frame;

/// One plane of a [`LogoModel`]: `alpha` and `alpha * logo` over a region of the plane.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LogoPlane {
    pub bounds: Bounds,
    pub alpha: Vec<f32>,
    pub premul: Vec<f32>,
}

impl LogoPlane {
    /// Alpha at plane pixel (`x`, `y`): 0 outside the region.
    pub fn alpha_at(&self, x: usize, y: usize) -> f32 {
        let b = self.bounds;
        if x < b.x0 || y < b.y0 || x >= b.x1 || y >= b.y1 {
            return 0.0;
        }
        self.alpha[(y - b.y0) * b.width() + x - b.x0]
    }

    /// The mark's own value at plane pixel (`x`, `y`) (`premul / alpha`), where it has one.
    pub fn colour_at(&self, x: usize, y: usize) -> Option<f32> {
        let b = self.bounds;
        if x < b.x0 || y < b.y0 || x >= b.x1 || y >= b.y1 {
            return None;
        }
        let i = (y - b.y0) * b.width() + x - b.x0;
        (self.alpha[i] > 0.05).then(|| self.premul[i] / self.alpha[i])
    }
}

/// The opacity and colour of a semi-transparent mark, per pixel of each yuv420p plane, for
/// frames of one size.
#[derive(Clone, Debug, PartialEq)]
pub struct LogoModel {
    width: usize,
    height: usize,
    planes: [LogoPlane; 3],
    /// What an estimate's opacities rest on; `None` for a mark's own image.
    support: Option<MarkSupport>,
}

/// BT.709 limited-range Y'CbCr of an sRGB-coded pixel (no linearisation: the codes are mixed
/// as they are, as video pipelines do).
fn bt709_limited(r: u8, g: u8, b: u8) -> [f32; 3] {
    let (r, g, b) = (
        f32::from(r) / 255.0,
        f32::from(g) / 255.0,
        f32::from(b) / 255.0,
    );
    let y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    [
        16.0 + 219.0 * y,
        128.0 + 224.0 * (b - y) / 1.8556,
        128.0 + 224.0 * (r - y) / 1.5748,
    ]
}

impl LogoModel {
    /// A model from a straight-alpha RGBA image (`logo_width * logo_height * 4` bytes) drawn
    /// with its top-left corner at (`x`, `y`) on `frame_width`x`frame_height` frames. The part
    /// outside the frame is ignored.
    pub fn from_rgba(
        rgba: &[u8],
        logo_width: usize,
        logo_height: usize,
        x: i64,
        y: i64,
        frame_width: usize,
        frame_height: usize,
    ) -> Result<Self, InpaintError> {
        if rgba.len() != logo_width * logo_height * 4 {
            return Err(InpaintError::BadPlane {
                what: "RGBA logo",
                len: rgba.len(),
                width: logo_width,
                height: logo_height,
                stride: logo_width * 4,
            });
        }
        let outside = || InpaintError::LogoOutsideFrame {
            logo_width,
            logo_height,
            x,
            y,
            width: frame_width,
            height: frame_height,
        };
        let clip = |v: i64, len: usize, max: usize| {
            (
                v.clamp(0, max as i64) as usize,
                (v + len as i64).clamp(0, max as i64) as usize,
            )
        };
        let (x0, x1) = clip(x, logo_width, frame_width);
        let (y0, y1) = clip(y, logo_height, frame_height);
        if x1 <= x0 || y1 <= y0 {
            return Err(outside());
        }
        // Logo pixel under frame pixel (fx, fy), if any: (alpha, [Y, Cb, Cr]).
        let logo_at = |fx: usize, fy: usize| -> Option<(f32, [f32; 3])> {
            let (lx, ly) = (fx as i64 - x, fy as i64 - y);
            if lx < 0 || ly < 0 || lx >= logo_width as i64 || ly >= logo_height as i64 {
                return None;
            }
            let p = &rgba[(ly as usize * logo_width + lx as usize) * 4..][..4];
            Some((f32::from(p[3]) / 255.0, bt709_limited(p[0], p[1], p[2])))
        };

        let luma = Bounds { x0, y0, x1, y1 };
        let mut planes: [LogoPlane; 3] = std::array::from_fn(|i| {
            let b = if i == 0 {
                luma
            } else {
                luma.halved(frame_width.div_ceil(2), frame_height.div_ceil(2))
            };
            LogoPlane {
                bounds: b,
                alpha: vec![0.0; b.width() * b.height()],
                premul: vec![0.0; b.width() * b.height()],
            }
        });
        for fy in y0..y1 {
            for fx in x0..x1 {
                if let Some((a, yuv)) = logo_at(fx, fy) {
                    let i = (fy - y0) * luma.width() + fx - x0;
                    planes[0].alpha[i] = a;
                    planes[0].premul[i] = a * yuv[0];
                }
            }
        }
        let cb = planes[1].bounds;
        for cy in cb.y0..cb.y1 {
            for cx in cb.x0..cb.x1 {
                let (mut alpha, mut colour, mut n) = (0.0f32, [0.0f32; 2], 0.0f32);
                for (fx, fy) in [
                    (2 * cx, 2 * cy),
                    (2 * cx + 1, 2 * cy),
                    (2 * cx, 2 * cy + 1),
                    (2 * cx + 1, 2 * cy + 1),
                ] {
                    if let Some((a, yuv)) = logo_at(fx, fy) {
                        alpha += a;
                        colour[0] += yuv[1];
                        colour[1] += yuv[2];
                        n += 1.0;
                    }
                }
                if n > 0.0 {
                    let i = (cy - cb.y0) * cb.width() + cx - cb.x0;
                    let a = alpha / 4.0;
                    for c in 0..2 {
                        planes[c + 1].alpha[i] = a;
                        planes[c + 1].premul[i] = a * colour[c] / n;
                    }
                }
            }
        }
        if planes[0].alpha.iter().all(|&a| a <= 0.0) {
            return Err(InpaintError::TransparentLogo);
        }
        Ok(Self {
            width: frame_width,
            height: frame_height,
            planes,
            support: None,
        })
    }

    /// A model from a PNG logo file (any colour type; straight alpha) placed at (`x`, `y`).
    pub fn from_png(
        path: &Path,
        x: i64,
        y: i64,
        frame_width: usize,
        frame_height: usize,
    ) -> Result<Self, InpaintError> {
        let bytes = std::fs::read(path).map_err(|e| InpaintError::Png {
            path: Some(path.to_path_buf()),
            source: image::ImageError::IoError(e),
        })?;
        Self::from_png_bytes(&bytes, x, y, frame_width, frame_height).map_err(|e| match e {
            InpaintError::Png { source, .. } => InpaintError::Png {
                path: Some(path.to_path_buf()),
                source,
            },
            other => other,
        })
    }

    /// Like [`LogoModel::from_png`], from the PNG's bytes (a job asset).
    pub fn from_png_bytes(
        bytes: &[u8],
        x: i64,
        y: i64,
        frame_width: usize,
        frame_height: usize,
    ) -> Result<Self, InpaintError> {
        let image = image::load_from_memory_with_format(bytes, ImageFormat::Png)
            .map_err(|source| InpaintError::Png { path: None, source })?
            .to_rgba8();
        let (w, h) = (image.width() as usize, image.height() as usize);
        Self::from_rgba(image.as_raw(), w, h, x, y, frame_width, frame_height)
    }

    /// Estimates the mark under `mask` from frames of the video, in order (see the crate docs
    /// for the method). Runs of consecutive frames give the best estimate: the background
    /// moving under the mark is what reveals it. A sample of runs from across the video (say
    /// six runs of ten frames) works; unrelated neighbours are detected and not paired.
    pub fn estimate(
        frames: &[Yuv420Frame],
        mask: &Mask,
        config: &InpaintConfig,
    ) -> Result<Self, InpaintError> {
        estimate::estimate(frames, mask, config)
    }

    pub(crate) fn from_planes(width: usize, height: usize, planes: [LogoPlane; 3]) -> Self {
        Self {
            width,
            height,
            planes,
            support: None,
        }
    }

    pub(crate) fn with_support(mut self, support: Option<MarkSupport>) -> Self {
        self.support = support;
        self
    }

    /// What an estimated model's opacities rest on (how sure the estimate is); `None` for a
    /// model made from the mark's own image.
    pub fn support(&self) -> Option<MarkSupport> {
        self.support
    }

    pub(crate) fn planes(&self) -> &[LogoPlane; 3] {
        &self.planes
    }

    /// Frame width this model is for.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height this model is for.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Opacity of the mark at pixel (`x`, `y`) of plane `plane` (0 = Y, 1 = U, 2 = V): 0 where
    /// there is no mark.
    pub fn alpha(&self, plane: usize, x: usize, y: usize) -> f32 {
        self.planes[plane].alpha_at(x, y)
    }

    /// The pixels the mark touches (luma alpha above 1/255). Grow it with [`Mask::grown`] when
    /// the video's compression smears the mark's edges.
    pub fn mask(&self) -> Result<Mask, InpaintError> {
        let p = &self.planes[0];
        let b = p.bounds;
        let mut bits = vec![0u8; self.width * self.height];
        for y in b.y0..b.y1 {
            for x in b.x0..b.x1 {
                bits[y * self.width + x] =
                    u8::from(p.alpha[(y - b.y0) * b.width() + x - b.x0] > 1.0 / 255.0);
            }
        }
        Mask::from_bits(self.width, self.height, &bits)
    }

    pub(crate) fn plane(&self, index: usize) -> &LogoPlane {
        &self.planes[index]
    }

    /// Size check against the frames being processed.
    pub(crate) fn check_size(&self, width: usize, height: usize) -> Result<(), InpaintError> {
        if (self.width, self.height) != (width, height) {
            return Err(InpaintError::SizeMismatch {
                what: "the logo model".into(),
                expected_width: self.width,
                expected_height: self.height,
                width,
                height,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_and_black_convert_to_limited_range() {
        assert_eq!(
            bt709_limited(255, 255, 255).map(f32::round),
            [235.0, 128.0, 128.0]
        );
        assert_eq!(bt709_limited(0, 0, 0).map(f32::round), [16.0, 128.0, 128.0]);
        let red = bt709_limited(255, 0, 0).map(f32::round);
        assert_eq!(red, [63.0, 102.0, 240.0]);
    }

    #[test]
    fn rgba_logo_is_placed_and_subsampled() {
        // 3x2 half-transparent white logo at (1, 0) on an 8x4 frame.
        let rgba: Vec<u8> = [255, 255, 255, 128].repeat(6);
        let m = LogoModel::from_rgba(&rgba, 3, 2, 1, 0, 8, 4).unwrap();
        assert_eq!(m.alpha(0, 0, 0), 0.0);
        assert!((m.alpha(0, 1, 0) - 128.0 / 255.0).abs() < 1e-6);
        // Chroma pixel 0 covers luma columns 0-1: one of two columns is logo.
        assert!((m.alpha(1, 0, 0) - 0.5 * 128.0 / 255.0).abs() < 1e-6);
        assert!((m.alpha(2, 1, 0) - 128.0 / 255.0).abs() < 1e-6);
        assert_eq!(m.mask().unwrap().count(), 6);
        assert!(matches!(
            LogoModel::from_rgba(&rgba, 3, 2, 9, 0, 8, 4),
            Err(InpaintError::LogoOutsideFrame { .. })
        ));
        assert!(matches!(
            LogoModel::from_rgba(&[0; 24], 3, 2, 0, 0, 8, 4),
            Err(InpaintError::TransparentLogo)
        ));
    }
}
