//! Blend inversion: with `observed = alpha * logo + (1 - alpha) * background`, the background is
//! `(observed - alpha * logo) / (1 - alpha)`, exact up to the 8-bit rounding of `observed`
//! (amplified by `1 / (1 - alpha)`). Pixels at or above the opaque threshold are left as holes
//! for the fill, pixels without a mark are left alone.
//!
//! [`invert_reference`] is the scalar definition in floating point. [`invert`] is the CPU path:
//! a per-pixel fixed-point gain and offset (16 fractional bits) precomputed once, rows in
//! parallel; it matches the reference within ±1.

use crate::logo::LogoPlane;
use crate::mask::Bounds;
use crate::plane::to_pixel;

/// What happens to each pixel of a plane's marked region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum PixelKind {
    /// No mark: the pixel is kept.
    Keep = 0,
    /// Semi-transparent: the blend is inverted.
    Invert = 1,
    /// Opaque (or unknown): filled from other frames or the surroundings.
    Hole = 2,
}

/// One plane's inversion, precomputed over the bounds of its marked region.
pub(crate) struct Inversion {
    pub bounds: Bounds,
    pub kind: Vec<PixelKind>,
    /// `alpha` and `alpha * logo` (reference path).
    alpha: Vec<f32>,
    premul: Vec<f32>,
    /// `65536 / (1 - alpha)` and `32768 - 65536 * alpha * logo / (1 - alpha)` (optimised path).
    gain: Vec<i32>,
    offset: Vec<i32>,
}

impl Inversion {
    /// Classifies the pixels of `bounds` on a plane `w` wide: `bits` marks the pixels to treat,
    /// `logo` (when known) their alpha; without a logo every marked pixel is a hole.
    pub fn new(
        bounds: Bounds,
        w: usize,
        bits: &[u8],
        logo: Option<&LogoPlane>,
        opaque_alpha: f32,
    ) -> Self {
        let size = bounds.width() * bounds.height();
        let mut inv = Self {
            bounds,
            kind: vec![PixelKind::Keep; size],
            alpha: vec![0.0; size],
            premul: vec![0.0; size],
            gain: vec![0; size],
            offset: vec![0; size],
        };
        for y in bounds.y0..bounds.y1 {
            for x in bounds.x0..bounds.x1 {
                let i = (y - bounds.y0) * bounds.width() + x - bounds.x0;
                let (alpha, premul) = match logo {
                    None => (if bits[y * w + x] != 0 { 1.0 } else { 0.0 }, 0.0),
                    Some(l) => {
                        let b = l.bounds;
                        if x < b.x0 || y < b.y0 || x >= b.x1 || y >= b.y1 {
                            (0.0, 0.0)
                        } else {
                            let j = (y - b.y0) * b.width() + x - b.x0;
                            (l.alpha[j], l.premul[j])
                        }
                    }
                };
                inv.kind[i] = if alpha >= opaque_alpha {
                    PixelKind::Hole
                } else if alpha > 0.0 {
                    PixelKind::Invert
                } else {
                    PixelKind::Keep
                };
                if inv.kind[i] == PixelKind::Invert {
                    let k = 1.0 - alpha;
                    inv.alpha[i] = alpha;
                    inv.premul[i] = premul;
                    inv.gain[i] = (65536.0 / k).round() as i32;
                    inv.offset[i] = (32768.0 - 65536.0 * premul / k).round() as i32;
                }
            }
        }
        inv
    }

    /// An inversion from its per-pixel arrays (`alpha`, `premul` = alpha × logo), for the
    /// reference path only.
    pub fn from_parts(
        bounds: Bounds,
        kind: Vec<PixelKind>,
        alpha: Vec<f32>,
        premul: Vec<f32>,
    ) -> Self {
        Self {
            bounds,
            kind,
            alpha,
            premul,
            gain: Vec::new(),
            offset: Vec::new(),
        }
    }

    /// Per pixel of the bounds: the kind (as `PixelKind`'s value), alpha, alpha × logo.
    pub fn kinds(&self) -> Vec<u8> {
        self.kind.iter().map(|&k| k as u8).collect()
    }

    pub fn alphas(&self) -> &[f32] {
        &self.alpha
    }

    pub fn premuls(&self) -> &[f32] {
        &self.premul
    }

    /// The mark's alpha at index `i` of the bounds, where the pixel is un-blended (0 elsewhere).
    pub fn alpha(&self, i: usize) -> f32 {
        self.alpha[i]
    }
}

/// Scalar reference: un-blends the marked pixels of a plane `w` pixels wide in place.
pub(crate) fn invert_reference(plane: &mut [u8], w: usize, inv: &Inversion) {
    let b = inv.bounds;
    for y in b.y0..b.y1 {
        for x in b.x0..b.x1 {
            let i = (y - b.y0) * b.width() + x - b.x0;
            if inv.kind[i] == PixelKind::Invert {
                let observed = f32::from(plane[y * w + x]);
                let background = (observed - inv.premul[i]) / (1.0 - inv.alpha[i]);
                plane[y * w + x] = to_pixel(background);
            }
        }
    }
}

/// Optimised path of [`invert_reference`]: one multiply-add and shift per pixel. Within ±1 of
/// the reference. Serial: a mark's rows are too little work to share out per frame (a job runs
/// segments in parallel instead).
pub(crate) fn invert(plane: &mut [u8], w: usize, inv: &Inversion) {
    let b = inv.bounds;
    let bw = b.width();
    plane[b.y0 * w..b.y1 * w]
        .chunks_mut(w)
        .enumerate()
        .for_each(|(r, row)| {
            let kinds = &inv.kind[r * bw..(r + 1) * bw];
            let gains = &inv.gain[r * bw..(r + 1) * bw];
            let offsets = &inv.offset[r * bw..(r + 1) * bw];
            for (((px, &kind), &gain), &offset) in row[b.x0..b.x1]
                .iter_mut()
                .zip(kinds)
                .zip(gains)
                .zip(offsets)
            {
                // Keep and Hole pixels pass through untouched.
                if kind == PixelKind::Invert {
                    *px = ((i32::from(*px) * gain + offset) >> 16).clamp(0, 255) as u8;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimised_matches_reference_and_inverts_exactly() {
        let (w, h) = (21, 9);
        let bounds = Bounds {
            x0: 2,
            y0: 1,
            x1: 19,
            y1: 8,
        };
        let size = bounds.width() * bounds.height();
        let logo = LogoPlane {
            bounds,
            alpha: (0..size).map(|i| (i % 23) as f32 / 23.0).collect(),
            premul: (0..size)
                .map(|i| (i % 23) as f32 / 23.0 * (16 + (i * 37) % 220) as f32)
                .collect(),
        };
        let inv = Inversion::new(bounds, w, &vec![1; w * h], Some(&logo), 0.9);
        let background: Vec<u8> = (0..w * h).map(|i| ((i * 97) % 256) as u8).collect();
        let mut observed = background.clone();
        for y in bounds.y0..bounds.y1 {
            for x in bounds.x0..bounds.x1 {
                let i = (y - bounds.y0) * bounds.width() + x - bounds.x0;
                let o = logo.premul[i] + (1.0 - logo.alpha[i]) * f32::from(background[y * w + x]);
                observed[y * w + x] = o.round() as u8;
            }
        }
        let (mut a, mut b) = (observed.clone(), observed.clone());
        invert_reference(&mut a, w, &inv);
        invert(&mut b, w, &inv);
        for i in 0..w * h {
            assert!(a[i].abs_diff(b[i]) <= 1, "pixel {i}: {} vs {}", a[i], b[i]);
            let (x, y) = (i % w, i / w);
            let inside = x >= bounds.x0 && x < bounds.x1 && y >= bounds.y0 && y < bounds.y1;
            let j = if inside {
                (y - bounds.y0) * bounds.width() + x - bounds.x0
            } else {
                0
            };
            if !inside || inv.kind[j] == PixelKind::Keep {
                assert_eq!(a[i], background[i]);
            } else if inv.kind[j] == PixelKind::Invert {
                // Rounding of the observed value, amplified by 1 / (1 - alpha) <= 10.
                let bound = 0.5 / (1.0 - logo.alpha[j]) + 0.5;
                assert!(
                    f32::from(a[i].abs_diff(background[i])) <= bound,
                    "pixel {i}"
                );
            }
        }
    }
}
