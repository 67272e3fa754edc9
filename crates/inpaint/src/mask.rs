//! Where the mark is: [`Mask`], a per-pixel bitmask at luma resolution with its chroma-resolution
//! view, built from a rectangle, a PNG or a bitmap (detection builds one too), and checked
//! before any frame is processed.
//!
//! Rules, so that a job fails early and clearly:
//! - a mask with no pixel is [`InpaintError::EmptyMask`];
//! - a rectangle entirely outside the frame is [`InpaintError::RectOutsideFrame`]; one partly
//!   outside is clipped to the frame without complaint (a logo at the edge is common);
//! - a mask over more than [`Mask::MAX_FRACTION`] of the frame is [`InpaintError::MaskTooLarge`]:
//!   inpainting restores marks, not pictures;
//! - a PNG of another size than the video is [`InpaintError::MaskSizeMismatch`] (both sizes
//!   are said).

use std::path::Path;

use image::{DynamicImage, ExtendedColorType, ImageFormat};

use crate::error::InpaintError;
use crate::morph;
use crate::plane::chroma_size;

/// An axis-aligned rectangle in luma pixels, as a job writes it: `[x, y, width, height]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// Left edge (may be negative: the part outside the frame is clipped).
    pub x: i64,
    /// Top edge (may be negative).
    pub y: i64,
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: i64, y: i64, width: u64, height: u64) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }
}

/// A region of a plane, half-open: columns `x0..x1`, rows `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl Bounds {
    pub fn width(&self) -> usize {
        self.x1 - self.x0
    }

    pub fn height(&self) -> usize {
        self.y1 - self.y0
    }

    /// Grown by `margin` on every side, clipped to a `w`x`h` plane.
    pub fn grown(&self, margin: usize, w: usize, h: usize) -> Self {
        Self {
            x0: self.x0.saturating_sub(margin),
            y0: self.y0.saturating_sub(margin),
            x1: (self.x1 + margin).min(w),
            y1: (self.y1 + margin).min(h),
        }
    }

    /// The same region on a plane subsampled by two (a chroma plane).
    pub fn halved(&self, w: usize, h: usize) -> Self {
        Self {
            x0: self.x0 / 2,
            y0: self.y0 / 2,
            x1: self.x1.div_ceil(2).min(w),
            y1: self.y1.div_ceil(2).min(h),
        }
    }

    /// The smallest bounds around some pixels, if there are any.
    pub fn of_points(points: impl IntoIterator<Item = (u32, u32)>) -> Option<Self> {
        points.into_iter().fold(None, |b, (x, y)| {
            let (x, y) = (x as usize, y as usize);
            Some(match b {
                None => Self {
                    x0: x,
                    y0: y,
                    x1: x + 1,
                    y1: y + 1,
                },
                Some(b) => Self {
                    x0: b.x0.min(x),
                    y0: b.y0.min(y),
                    x1: b.x1.max(x + 1),
                    y1: b.y1.max(y + 1),
                },
            })
        })
    }

    /// The smallest bounds around the set pixels of a bitmap, if any.
    pub fn of_bits(bits: &[u8], w: usize, h: usize) -> Option<Self> {
        let mut b = Self {
            x0: w,
            y0: h,
            x1: 0,
            y1: 0,
        };
        for y in 0..h {
            let row = &bits[y * w..(y + 1) * w];
            // A whole-row OR first (vectorised): most rows of a mask are clear.
            if row.iter().fold(0, |any, &v| any | v) == 0 {
                continue;
            }
            if let (Some(first), Some(last)) = (
                row.iter().position(|&v| v != 0),
                row.iter().rposition(|&v| v != 0),
            ) {
                b.x0 = b.x0.min(first);
                b.x1 = b.x1.max(last + 1);
                b.y0 = b.y0.min(y);
                b.y1 = y + 1;
            }
        }
        (b.x1 > b.x0).then_some(b)
    }
}

/// Which pixels hold the mark: a bitmask at luma resolution plus its view at chroma resolution
/// (a chroma pixel is masked when any of the four luma pixels it covers is).
///
/// A `Mask` is always valid: non-empty and no larger than [`Mask::MAX_FRACTION`] of the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    width: usize,
    height: usize,
    /// Luma then chroma bitmaps, one byte per pixel (0 or 1).
    bits: [Vec<u8>; 2],
    count: usize,
    bounds: Bounds,
}

impl Mask {
    /// The largest share of the frame a mask may cover.
    pub const MAX_FRACTION: f64 = 0.5;

    /// The pixels of `rect`, clipped to a `width`x`height` frame.
    pub fn from_rect(rect: Rect, width: usize, height: usize) -> Result<Self, InpaintError> {
        if rect.width == 0 || rect.height == 0 {
            return Err(InpaintError::EmptyMask);
        }
        let x0 = rect.x.clamp(0, width as i64) as usize;
        let y0 = rect.y.clamp(0, height as i64) as usize;
        let x1 = rect
            .x
            .saturating_add(rect.width as i64)
            .clamp(0, width as i64) as usize;
        let y1 = rect
            .y
            .saturating_add(rect.height as i64)
            .clamp(0, height as i64) as usize;
        if x1 <= x0 || y1 <= y0 {
            return Err(InpaintError::RectOutsideFrame {
                rect,
                width,
                height,
            });
        }
        let mut bits = vec![0u8; width * height];
        for row in bits.chunks_exact_mut(width).take(y1).skip(y0) {
            row[x0..x1].fill(1);
        }
        Self::from_bits(width, height, &bits)
    }

    /// A mask from one byte per luma pixel, row after row: non-zero is masked.
    pub fn from_bits(width: usize, height: usize, bits: &[u8]) -> Result<Self, InpaintError> {
        if bits.len() != width * height {
            return Err(InpaintError::BadPlane {
                what: "mask bitmap",
                len: bits.len(),
                width,
                height,
                stride: width,
            });
        }
        Self::from_flags(
            width,
            height,
            bits.iter().map(|&b| u8::from(b != 0)).collect(),
        )
    }

    /// A mask from one byte per luma pixel, each 0 or 1, of the right count.
    fn from_flags(width: usize, height: usize, luma: Vec<u8>) -> Result<Self, InpaintError> {
        let count = luma.iter().map(|&b| usize::from(b)).sum();
        let total = width * height;
        let bounds = Bounds::of_bits(&luma, width, height).ok_or(InpaintError::EmptyMask)?;
        if count as f64 > Self::MAX_FRACTION * total as f64 {
            return Err(InpaintError::MaskTooLarge {
                masked: count,
                total,
            });
        }
        let (cw, ch) = chroma_size(width, height);
        let mut chroma = vec![0u8; cw * ch];
        for y in bounds.y0..bounds.y1 {
            for x in bounds.x0..bounds.x1 {
                if luma[y * width + x] != 0 {
                    chroma[(y / 2) * cw + x / 2] = 1;
                }
            }
        }
        Ok(Self {
            width,
            height,
            bits: [luma, chroma],
            count,
            bounds,
        })
    }

    /// Reads a mask PNG of the frame's size. With a real alpha channel (not opaque everywhere),
    /// pixels with alpha > 127 are masked; otherwise pixels with luma > 127 (white) are.
    pub fn from_png(path: &Path, width: usize, height: usize) -> Result<Self, InpaintError> {
        let bytes = std::fs::read(path).map_err(|e| InpaintError::Png {
            path: Some(path.to_path_buf()),
            source: image::ImageError::IoError(e),
        })?;
        Self::decode_png(&bytes, width, height).map_err(|e| match e {
            InpaintError::Png { source, .. } => InpaintError::Png {
                path: Some(path.to_path_buf()),
                source,
            },
            other => other,
        })
    }

    /// Like [`Mask::from_png`], from the PNG's bytes (a job asset).
    pub fn from_png_bytes(bytes: &[u8], width: usize, height: usize) -> Result<Self, InpaintError> {
        Self::decode_png(bytes, width, height)
    }

    fn decode_png(bytes: &[u8], width: usize, height: usize) -> Result<Self, InpaintError> {
        let image = image::load_from_memory_with_format(bytes, ImageFormat::Png)
            .map_err(|source| InpaintError::Png { path: None, source })?;
        let (pw, ph) = (image.width() as usize, image.height() as usize);
        if (pw, ph) != (width, height) {
            return Err(InpaintError::MaskSizeMismatch {
                png_width: pw,
                png_height: ph,
                frame_width: width,
                frame_height: height,
            });
        }
        let flags = match image {
            // The usual mask: greyscale, turned into flags where it lies.
            DynamicImage::ImageLuma8(luma) => {
                let mut flags = luma.into_raw();
                flags.iter_mut().for_each(|v| *v = u8::from(*v > 127));
                flags
            }
            image => {
                let la = image.to_luma_alpha8();
                let has_alpha = image.color().has_alpha() && la.pixels().any(|p| p.0[1] != 255);
                la.pixels()
                    .map(|p| {
                        u8::from(if has_alpha {
                            p.0[1] > 127
                        } else {
                            p.0[0] > 127
                        })
                    })
                    .collect()
            }
        };
        Self::from_flags(width, height, flags)
    }

    /// Writes the mask as an 8-bit greyscale PNG, white where masked (the format
    /// [`Mask::from_png`] and FFmpeg's `removelogo` read).
    pub fn to_png(&self, path: &Path) -> Result<(), InpaintError> {
        let grey: Vec<u8> = self.bits[0].iter().map(|&b| b * 255).collect();
        image::save_buffer_with_format(
            path,
            &grey,
            self.width as u32,
            self.height as u32,
            ExtendedColorType::L8,
            ImageFormat::Png,
        )
        .map_err(|source| InpaintError::Png {
            path: Some(path.to_path_buf()),
            source,
        })
    }

    /// The mask grown by `radius` pixels in every direction (a square window), to cover a
    /// mark's soft edges; fails if the result covers too much of the frame.
    pub fn grown(&self, radius: usize) -> Result<Self, InpaintError> {
        Self::from_bits(
            self.width,
            self.height,
            &morph::dilate(&self.bits[0], self.width, self.height, radius),
        )
    }

    /// Frame width this mask is for.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height this mask is for.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of masked luma pixels.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The smallest rectangle holding every masked pixel.
    pub fn bbox(&self) -> Rect {
        let b = self.bounds;
        Rect::new(
            b.x0 as i64,
            b.y0 as i64,
            b.width() as u64,
            b.height() as u64,
        )
    }

    /// Whether luma pixel (`x`, `y`) is masked (false outside the frame).
    pub fn contains(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.bits[0][y * self.width + x] != 0
    }

    /// Whether chroma pixel (`x`, `y`) is masked (false outside the chroma plane).
    pub fn contains_chroma(&self, x: usize, y: usize) -> bool {
        let (cw, ch) = chroma_size(self.width, self.height);
        x < cw && y < ch && self.bits[1][y * cw + x] != 0
    }

    /// Intersection over union with another mask of the same frame size (0 when sizes differ).
    pub fn iou(&self, other: &Mask) -> f64 {
        if (self.width, self.height) != (other.width, other.height) {
            return 0.0;
        }
        let (mut inter, mut union) = (0usize, 0usize);
        for (&a, &b) in self.bits[0].iter().zip(&other.bits[0]) {
            inter += usize::from(a & b != 0);
            union += usize::from(a | b != 0);
        }
        inter as f64 / union.max(1) as f64
    }

    /// The pixels of either mask (the sizes must agree); fails where the union covers too much
    /// of the frame.
    pub fn union(&self, other: &Mask) -> Result<Self, InpaintError> {
        if (self.width, self.height) != (other.width, other.height) {
            return Err(InpaintError::SizeMismatch {
                what: "the other mask".into(),
                expected_width: self.width,
                expected_height: self.height,
                width: other.width,
                height: other.height,
            });
        }
        let bits: Vec<u8> = self.bits[0]
            .iter()
            .zip(&other.bits[0])
            .map(|(&a, &b)| a | b)
            .collect();
        Self::from_flags(self.width, self.height, bits)
    }

    /// The pixels of both masks (of one size); `None` when they share none.
    pub(crate) fn intersection(&self, other: &Mask) -> Option<Self> {
        let bits: Vec<u8> = self.bits[0]
            .iter()
            .zip(&other.bits[0])
            .map(|(&a, &b)| a & b)
            .collect();
        Self::from_flags(self.width, self.height, bits).ok()
    }

    /// Bitmap of plane `index` (0 = luma, 1 and 2 = chroma), one byte per pixel.
    pub(crate) fn plane_bits(&self, index: usize) -> &[u8] {
        &self.bits[usize::from(index > 0)]
    }

    /// Size of plane `index`.
    pub(crate) fn plane_size(&self, index: usize) -> (usize, usize) {
        if index == 0 {
            (self.width, self.height)
        } else {
            chroma_size(self.width, self.height)
        }
    }

    /// Bounds of the masked luma pixels.
    pub(crate) fn bounds(&self) -> Bounds {
        self.bounds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_is_clipped_or_refused() {
        let m = Mask::from_rect(Rect::new(-4, -2, 10, 6), 64, 48).unwrap();
        assert_eq!(m.bbox(), Rect::new(0, 0, 6, 4));
        assert_eq!(m.count(), 24);
        assert!(m.contains_chroma(2, 1) && !m.contains_chroma(3, 0));
        assert!(matches!(
            Mask::from_rect(Rect::new(64, 0, 10, 10), 64, 48),
            Err(InpaintError::RectOutsideFrame { .. })
        ));
        assert!(matches!(
            Mask::from_rect(Rect::new(1, 1, 0, 10), 64, 48),
            Err(InpaintError::EmptyMask)
        ));
        assert!(matches!(
            Mask::from_rect(Rect::new(0, 0, 64, 30), 64, 48),
            Err(InpaintError::MaskTooLarge {
                masked: 1920,
                total: 3072
            })
        ));
    }

    #[test]
    fn png_round_trips_and_checks_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mask.png");
        let m = Mask::from_rect(Rect::new(5, 7, 9, 3), 33, 21).unwrap();
        m.to_png(&path).unwrap();
        assert_eq!(Mask::from_png(&path, 33, 21).unwrap(), m);
        let err = Mask::from_png(&path, 32, 21).unwrap_err();
        assert!(
            err.to_string().contains("33x21") && err.to_string().contains("32x21"),
            "{err}"
        );
        assert!(matches!(
            Mask::from_png(&dir.path().join("none.png"), 33, 21),
            Err(InpaintError::Png { .. })
        ));
    }
}
