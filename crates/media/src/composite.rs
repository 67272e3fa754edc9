//! Drawing on yuv420p frames without leaving YUV: overlays ([`YuvaImage`] + [`blend`]) and
//! solid rectangles ([`fill_rect`]).
//!
//! An overlay is converted from RGBA once ([`YuvaImage::from_rgba`]) into Y, U, V and A
//! planes, all at the image's full resolution, straight (not premultiplied) alpha. Keeping U
//! and V at full resolution lets [`blend`] compute each frame chroma sample from exactly the
//! 2×2 image pixels it covers, alpha-weighted, wherever the image is placed: the result equals
//! blending in 4:4:4 and then subsampling, for even and odd positions alike, with no colour
//! fringes at transparent edges.
//!
//! # Arithmetic (the hot loops)
//! Integers only. Opacity is fixed point `op ∈ 0..=256`; a pixel's effective alpha is
//! `a = (alpha × op + 128) >> 8 ∈ 0..=255`.
//! - Luma: `Y = (Y·(255 − a) + y·a + 127) / 255`.
//! - Chroma: over the 2×2 block, `Sa = Σ aᵢ` (0..=1020) and `Su = Σ aᵢ·uᵢ`;
//!   `U = (U·(1020 − Sa) + Su + 510) / 1020` (likewise V). Pixels outside the image count as
//!   `a = 0`.
//!
//! The divisions are by constants, which the compiler turns into multiplies. Results are
//! within ±1 of the exact real-valued blend (the tests check this against a float reference).
//!
//! # Colour
//! RGB → YUV uses the matrix given to [`YuvaImage::from_rgba`] (pass
//! [`ColorMatrix::for_height`] of the output); [`fill_rect`] uses the frame height's matrix.

use std::path::Path;

use crate::color::ColorMatrix;
use crate::error::MediaError;
use crate::frame::VideoFrame;

/// Decoded RGBA pixels, 8 bits per channel, straight alpha, rows top to bottom with no
/// padding (`pixels.len() == width × height × 4`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width × height × 4` bytes, R G B A per pixel.
    pub pixels: Vec<u8>,
}

/// Loads a PNG or JPEG file as RGBA, applying its EXIF orientation.
pub fn load_image(path: impl AsRef<Path>) -> Result<RgbaImage, MediaError> {
    let path = path.as_ref();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MediaError::image(path, "file not found"));
        }
        Err(e) => {
            return Err(MediaError::image(
                path,
                format!("cannot read the file: {e}"),
            ));
        }
    };
    decode_image(&bytes, path)
}

/// Decodes PNG or JPEG bytes (a job asset, say) as RGBA, applying EXIF orientation. `name`
/// is what errors call the image.
pub fn decode_image(bytes: &[u8], name: impl AsRef<Path>) -> Result<RgbaImage, MediaError> {
    use image::ImageDecoder;
    let name = name.as_ref();
    if bytes.is_empty() {
        return Err(MediaError::image(name, "the file is empty"));
    }
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| MediaError::image(name, format!("cannot read the image: {e}")))?;
    match reader.format() {
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg) => {}
        _ => return Err(MediaError::image(name, "not a PNG or JPEG image")),
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::image(name, format!("not a readable PNG/JPEG image: {e}")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| MediaError::image(name, format!("cannot decode the image: {e}")))?;
    img.apply_orientation(orientation);
    let rgba = img.into_rgba8();
    let (width, height) = rgba.dimensions();
    if width == 0 || height == 0 {
        return Err(MediaError::image(name, "the image has no pixels"));
    }
    Ok(RgbaImage {
        width,
        height,
        pixels: rgba.into_raw(),
    })
}

/// An overlay ready to blend onto yuv420p frames: Y, U, V and A planes at full resolution
/// (straight alpha), converted once from RGBA.
#[derive(Clone, Debug)]
pub struct YuvaImage {
    width: u32,
    height: u32,
    matrix: ColorMatrix,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
    a: Vec<u8>,
    /// The RGBA source, kept so that [`YuvaImage::scaled`] resamples colour, not YUV.
    rgba: Vec<u8>,
    /// Per row, the columns `lo..hi` outside which alpha is 0: blending skips the rest, which
    /// makes mostly transparent sprites (text over a full frame) cheap.
    spans: Vec<(u32, u32)>,
}

impl YuvaImage {
    /// Converts RGBA pixels (`width × height × 4` bytes, straight alpha) with `matrix`.
    pub fn from_rgba(
        width: u32,
        height: u32,
        rgba: &[u8],
        matrix: ColorMatrix,
    ) -> Result<YuvaImage, MediaError> {
        let n = (width as usize)
            .checked_mul(height as usize)
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                MediaError::InvalidArgument(format!(
                    "overlay size {width}x{height} is empty or too large"
                ))
            })?;
        if rgba.len() != n * 4 {
            return Err(MediaError::InvalidArgument(format!(
                "a {width}x{height} RGBA image needs {} bytes, got {}",
                n * 4,
                rgba.len()
            )));
        }
        let coeffs = matrix.coefficients();
        let (mut y, mut u, mut v, mut a) = (vec![0; n], vec![0; n], vec![0; n], vec![0; n]);
        for (i, px) in rgba.chunks_exact(4).enumerate() {
            let [yy, uu, vv] = coeffs.convert([px[0], px[1], px[2]]);
            y[i] = yy;
            u[i] = uu;
            v[i] = vv;
            a[i] = px[3];
        }
        let spans = a
            .chunks_exact(width as usize)
            .map(|row| {
                match (
                    row.iter().position(|&v| v > 0),
                    row.iter().rposition(|&v| v > 0),
                ) {
                    (Some(lo), Some(hi)) => (lo as u32, hi as u32 + 1),
                    _ => (0, 0),
                }
            })
            .collect();
        Ok(YuvaImage {
            width,
            height,
            matrix,
            y,
            u,
            v,
            a,
            rgba: rgba.to_vec(),
            spans,
        })
    }

    /// Converts a decoded image (see [`load_image`], [`decode_image`]).
    pub fn from_image(image: &RgbaImage, matrix: ColorMatrix) -> Result<YuvaImage, MediaError> {
        YuvaImage::from_rgba(image.width, image.height, &image.pixels, matrix)
    }

    /// Width in pixels.
    /// The Y, U, V and alpha planes, `width × height` each, rows packed.
    pub fn planes(&self) -> [&[u8]; 4] {
        [&self.y, &self.u, &self.v, &self.a]
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The matrix the colours were converted with.
    pub fn matrix(&self) -> ColorMatrix {
        self.matrix
    }

    /// A copy scaled by `factor` (size rounded, at least 1×1).
    ///
    /// Resamples the RGBA source with premultiplied alpha (so transparent pixels do not bleed
    /// their colour into edges): Lanczos-3 when shrinking, Catmull-Rom bicubic when enlarging.
    pub fn scaled(&self, factor: f32) -> Result<YuvaImage, MediaError> {
        if !(factor.is_finite() && factor > 0.0) {
            return Err(MediaError::InvalidArgument(format!(
                "overlay scale {factor} must be a positive number"
            )));
        }
        let nw = (self.width as f64 * f64::from(factor)).round().max(1.0);
        let nh = (self.height as f64 * f64::from(factor)).round().max(1.0);
        if nw > 16384.0 || nh > 16384.0 {
            return Err(MediaError::InvalidArgument(format!(
                "overlay scale {factor} makes a {nw}x{nh} image (limit 16384)"
            )));
        }
        let (nw, nh) = (nw as u32, nh as u32);
        if (nw, nh) == (self.width, self.height) {
            return Ok(self.clone());
        }
        // Premultiply: colour channels c·a, alpha a·255, so both share one scale (≤ 65025).
        let mut pre: image::ImageBuffer<image::Rgba<u16>, Vec<u16>> =
            image::ImageBuffer::new(self.width, self.height);
        for (dst, src) in pre.pixels_mut().zip(self.rgba.chunks_exact(4)) {
            let a = u16::from(src[3]);
            *dst = image::Rgba([
                u16::from(src[0]) * a,
                u16::from(src[1]) * a,
                u16::from(src[2]) * a,
                a * 255,
            ]);
        }
        let filter = if nw < self.width || nh < self.height {
            image::imageops::FilterType::Lanczos3
        } else {
            image::imageops::FilterType::CatmullRom
        };
        let resized = image::imageops::resize(&pre, nw, nh, filter);
        let mut rgba = Vec::with_capacity(nw as usize * nh as usize * 4);
        for px in resized.pixels() {
            let a = u32::from(px[3]);
            if a == 0 {
                rgba.extend_from_slice(&[0, 0, 0, 0]);
                continue;
            }
            let un = |c: u16| ((u32::from(c) * 255 + a / 2) / a).min(255) as u8;
            rgba.extend_from_slice(&[
                un(px[0]),
                un(px[1]),
                un(px[2]),
                ((a + 127) / 255).min(255) as u8,
            ]);
        }
        YuvaImage::from_rgba(nw, nh, &rgba, self.matrix)
    }
}

/// Opacity as fixed point 0..=256 (NaN and negatives are 0, above 1 is 1).
fn opacity_fixed(opacity: f32) -> u32 {
    if opacity.is_nan() {
        return 0;
    }
    (opacity.clamp(0.0, 1.0) * 256.0).round() as u32
}

/// Blends `image` onto `frame` with its top-left corner at (`x`, `y`) (may be negative or
/// beyond the frame; the image is clipped) at `opacity` (0.0–1.0, multiplied with the image's
/// alpha). See the module documentation for the arithmetic.
pub fn blend(frame: &mut VideoFrame, image: &YuvaImage, x: i32, y: i32, opacity: f32) {
    let op = opacity_fixed(opacity);
    if op == 0 {
        return;
    }
    let (fw, fh) = (i64::from(frame.width()), i64::from(frame.height()));
    let (iw, ih) = (i64::from(image.width), i64::from(image.height));
    let (x, y) = (i64::from(x), i64::from(y));
    let (x0, x1) = (x.max(0), (x + iw).min(fw));
    let (y0, y1) = (y.max(0), (y + ih).min(fh));
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let ([py, pu, pv], strides) = frame.planes_mut();

    // Luma: one row of the clipped rectangle at a time.
    for fy in y0..y1 {
        let iy = (fy - y) as usize;
        let (lo, hi) = image.spans[iy];
        let (rx0, rx1) = (x0.max(x + i64::from(lo)), x1.min(x + i64::from(hi)));
        if rx0 >= rx1 {
            continue;
        }
        let n = (rx1 - rx0) as usize;
        let src = iy * iw as usize + (rx0 - x) as usize;
        let dst = fy as usize * strides[0] + rx0 as usize;
        blend_luma_row(
            &mut py[dst..dst + n],
            &image.y[src..src + n],
            &image.a[src..src + n],
            op,
        );
    }

    // Chroma: every frame chroma sample whose 2×2 luma block meets the clipped rectangle.
    // Samples whose whole block lies inside the image take the fast row kernel; the ones on
    // the image's edges (partly covered blocks) the general per-sample path.
    let iwu = iw as usize;
    let (cx_lo, cx_hi) = (x0 / 2, (x1 - 1) / 2);
    // First and last chroma column whose two luma columns are both inside the image.
    let in_lo = cx_lo.max(-(-x).div_euclid(2));
    let in_hi = cx_hi.min((x + iw - 2).div_euclid(2));
    for cy in (y0 / 2)..=((y1 - 1) / 2) {
        let (urow, vrow) = (cy as usize * strides[1], cy as usize * strides[2]);
        let iy0 = 2 * cy - y;
        // Skip the transparent parts of the block's two image rows.
        let span = [iy0, iy0 + 1]
            .iter()
            .filter(|&&r| r >= 0 && r < ih)
            .map(|&r| image.spans[r as usize])
            .filter(|(lo, hi)| lo < hi)
            .fold(None, |acc: Option<(u32, u32)>, (lo, hi)| match acc {
                None => Some((lo, hi)),
                Some((a, b)) => Some((a.min(lo), b.max(hi))),
            });
        let Some((lo, hi)) = span else { continue };
        let cx_lo = cx_lo.max((x + i64::from(lo)).div_euclid(2));
        let cx_hi = cx_hi.min((x + i64::from(hi) - 1).div_euclid(2));
        if cx_lo > cx_hi {
            continue;
        }
        let (in_lo, in_hi) = (in_lo.max(cx_lo), in_hi.min(cx_hi));
        let mut edge = |cx: i64| {
            let (sa, su, sv) = block_sums(image, op, 2 * cx - x, iy0);
            if sa > 0 {
                let (ci, cv) = (urow + cx as usize, vrow + cx as usize);
                pu[ci] = blend_chroma(pu[ci], sa, su);
                pv[cv] = blend_chroma(pv[cv], sa, sv);
            }
        };
        if iy0 >= 0 && iy0 + 1 < ih && in_lo <= in_hi {
            for cx in cx_lo..in_lo {
                edge(cx);
            }
            for cx in (in_hi + 1)..=cx_hi {
                edge(cx);
            }
            let n = (in_hi - in_lo + 1) as usize;
            let ix = (2 * in_lo - x) as usize;
            let r0 = iy0 as usize * iwu + ix;
            let r1 = r0 + iwu;
            let (c0, c1) = (in_lo as usize, in_lo as usize + n);
            blend_chroma_row(
                &mut pu[urow + c0..urow + c1],
                &mut pv[vrow + c0..vrow + c1],
                [&image.a[r0..r0 + 2 * n], &image.a[r1..r1 + 2 * n]],
                [&image.u[r0..r0 + 2 * n], &image.u[r1..r1 + 2 * n]],
                [&image.v[r0..r0 + 2 * n], &image.v[r1..r1 + 2 * n]],
                op,
            );
        } else {
            for cx in cx_lo..=cx_hi {
                edge(cx);
            }
        }
    }
}

/// Effective-alpha sums of the 2×2 image block whose top-left is image pixel (`ix`, `iy`):
/// `(Σa, Σa·u, Σa·v)`, pixels outside the image counting as transparent.
fn block_sums(image: &YuvaImage, op: u32, ix: i64, iy: i64) -> (u32, u32, u32) {
    let (iw, ih) = (i64::from(image.width), i64::from(image.height));
    let (mut sa, mut su, mut sv) = (0u32, 0u32, 0u32);
    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
        let (px, py) = (ix + dx, iy + dy);
        if px >= 0 && px < iw && py >= 0 && py < ih {
            let i = (py * iw + px) as usize;
            let a = (u32::from(image.a[i]) * op + 128) >> 8;
            sa += a;
            su += a * u32::from(image.u[i]);
            sv += a * u32::from(image.v[i]);
        }
    }
    (sa, su, sv)
}

/// Blends one row of chroma samples whose 2×2 blocks lie wholly inside the image. `a`, `u`,
/// `v` are the two image rows of the blocks, starting at the first block's left pixel
/// (`2 × du.len()` samples each).
///
/// Bounds: `Σa ≤ 1020`, `Σa·u ≤ 260100`, so u32 never overflows (`wrapping_*` as in
/// [`blend_luma_row`]).
#[inline]
fn blend_chroma_row(
    du: &mut [u8],
    dv: &mut [u8],
    a: [&[u8]; 2],
    u: [&[u8]; 2],
    v: [&[u8]; 2],
    op: u32,
) {
    let op = op.min(256);
    let eff = |al: u8| u32::from(al).wrapping_mul(op).wrapping_add(128) >> 8;
    let dot = |w: [u32; 4], c0: &[u8], c1: &[u8]| {
        w[0].wrapping_mul(u32::from(c0[0]))
            .wrapping_add(w[1].wrapping_mul(u32::from(c0[1])))
            .wrapping_add(w[2].wrapping_mul(u32::from(c1[0])))
            .wrapping_add(w[3].wrapping_mul(u32::from(c1[1])))
    };
    let blocks = a[0]
        .chunks_exact(2)
        .zip(a[1].chunks_exact(2))
        .zip(u[0].chunks_exact(2).zip(u[1].chunks_exact(2)))
        .zip(v[0].chunks_exact(2).zip(v[1].chunks_exact(2)));
    for ((cu, cv), (((a0, a1), (u0, u1)), (v0, v1))) in du.iter_mut().zip(dv.iter_mut()).zip(blocks)
    {
        let w = [eff(a0[0]), eff(a0[1]), eff(a1[0]), eff(a1[1])];
        let sa = w[0]
            .wrapping_add(w[1])
            .wrapping_add(w[2])
            .wrapping_add(w[3]);
        *cu = blend_chroma(*cu, sa, dot(w, u0, u1));
        *cv = blend_chroma(*cv, sa, dot(w, v0, v1));
    }
}

/// Blends one row of luma: `dst = (dst·(255 − a) + src·a + 127) / 255` with
/// `a = (alpha·op + 128) >> 8`. `op` is the opacity in 0..=256.
///
/// Everything fits in 16 bits (`alpha·op + 128 ≤ 65408`, `t + 1 + (t >> 8) ≤ 65407`), and
/// `/ 255` is the exact shift form `(t + 1 + (t >> 8)) >> 8`, so the loop vectorises to 16-bit
/// lanes. The bounds are proven here, so the arithmetic is written `wrapping_*`: it never
/// wraps, and debug builds do not pay for overflow checks in the hot loop.
#[inline]
fn blend_luma_row(dst: &mut [u8], src: &[u8], alpha: &[u8], op: u32) {
    let op = op.min(256) as u16;
    for ((d, &s), &al) in dst.iter_mut().zip(src).zip(alpha) {
        let a = u16::from(al).wrapping_mul(op).wrapping_add(128) >> 8;
        let t = u16::from(*d)
            .wrapping_mul(255u16.wrapping_sub(a))
            .wrapping_add(u16::from(s).wrapping_mul(a))
            .wrapping_add(127);
        *d = (t.wrapping_add(1).wrapping_add(t >> 8) >> 8) as u8;
    }
}

/// One chroma sample: `(c·(1020 − sa) + s + 510) / 1020`, where `sa` is the sum of the four
/// effective alphas of the block and `s` the alpha-weighted sum of their chroma.
/// `sa ≤ 1020` and `s ≤ 1020·255`, so the sum stays below 2³¹.
#[inline]
fn blend_chroma(c: u8, sa: u32, s: u32) -> u8 {
    (u32::from(c)
        .wrapping_mul(1020u32.wrapping_sub(sa))
        .wrapping_add(s)
        .wrapping_add(510)
        / 1020) as u8
}

/// Fills the rectangle at (`x`, `y`) of `w × h` pixels with `rgba` (alpha 255 = opaque),
/// clipped to the frame. The colour is converted with the frame height's matrix
/// ([`ColorMatrix::for_height`]); partly covered chroma samples are weighted by coverage.
pub fn fill_rect(frame: &mut VideoFrame, x: i32, y: i32, w: u32, h: u32, rgba: [u8; 4]) {
    let alpha = u32::from(rgba[3]);
    if alpha == 0 || w == 0 || h == 0 {
        return;
    }
    let [cy_, cu, cv] =
        ColorMatrix::for_height(frame.height()).rgb_to_yuv([rgba[0], rgba[1], rgba[2]]);
    let (fw, fh) = (i64::from(frame.width()), i64::from(frame.height()));
    let (x, y) = (i64::from(x), i64::from(y));
    let (rx1, ry1) = (x + i64::from(w), y + i64::from(h));
    let (x0, x1) = (x.max(0), rx1.min(fw));
    let (y0, y1) = (y.max(0), ry1.min(fh));
    if x0 >= x1 || y0 >= y1 {
        return;
    }
    let ([py, pu, pv], strides) = frame.planes_mut();
    // Same 16-bit form as `blend_luma_row`: `d·(255 − a) + y·a + 127 ≤ 65152`.
    let (yv, keep) = ((u32::from(cy_) * alpha) as u16, (255 - alpha) as u16);
    for fy in y0..y1 {
        let start = fy as usize * strides[0];
        for d in &mut py[start + x0 as usize..start + x1 as usize] {
            let t = u16::from(*d)
                .wrapping_mul(keep)
                .wrapping_add(yv)
                .wrapping_add(127);
            *d = (t.wrapping_add(1).wrapping_add(t >> 8) >> 8) as u8;
        }
    }
    let inside = |lx: i64, ly: i64| lx >= x && lx < rx1 && ly >= y && ly < ry1;
    for cyy in (y0 / 2)..=((y1 - 1) / 2) {
        for cxx in (x0 / 2)..=((x1 - 1) / 2) {
            let covered = [(0, 0), (1, 0), (0, 1), (1, 1)]
                .iter()
                .filter(|(dx, dy)| inside(2 * cxx + dx, 2 * cyy + dy))
                .count() as u32;
            let sa = alpha * covered;
            let iu = cyy as usize * strides[1] + cxx as usize;
            let iv = cyy as usize * strides[2] + cxx as usize;
            pu[iu] = blend_chroma(pu[iu], sa, sa * u32::from(cu));
            pv[iv] = blend_chroma(pv[iv], sa, sa * u32::from(cv));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain-arithmetic definition the luma kernel must match exactly.
    fn luma_reference(d: u8, s: u8, al: u8, op: u32) -> u8 {
        let a = (u32::from(al) * op + 128) >> 8;
        ((u32::from(d) * (255 - a) + u32::from(s) * a + 127) / 255) as u8
    }

    #[test]
    fn luma_kernel_matches_its_reference_exactly() {
        for op in [0u32, 1, 77, 128, 255, 256] {
            for al in (0..=255u8).step_by(3).chain([255]) {
                for s in (0..=255u8).step_by(5).chain([255]) {
                    let dst_in: Vec<u8> = (0..=255).collect();
                    let mut dst = dst_in.clone();
                    blend_luma_row(&mut dst, &vec![s; 256], &vec![al; 256], op);
                    for (d, got) in dst_in.iter().zip(&dst) {
                        assert_eq!(
                            *got,
                            luma_reference(*d, s, al, op),
                            "d {d} s {s} alpha {al} op {op}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn spans_skip_transparent_columns() {
        let mut rgba = vec![0u8; 8 * 2 * 4];
        rgba[(3 * 4) + 3] = 255; // row 0, column 3
        rgba[(8 + 6) * 4 + 3] = 10; // row 1, column 6
        let img = YuvaImage::from_rgba(8, 2, &rgba, ColorMatrix::Bt601).unwrap();
        assert_eq!(img.spans, vec![(3, 4), (6, 7)]);
    }
}
