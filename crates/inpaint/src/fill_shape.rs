//! Choosing how the spatial fill weighs a pixel's neighbours ([`Anisotropy`]) for one mask on
//! one video, by trying each weighting where the answer is known: copies of the mask placed
//! beside it, on clear picture, are filled from around them and compared with what they
//! cover. Over texture the plain harmonic fill wins; over straight structure that crosses a
//! mask wider than tall (or taller than wide), filling mostly across its short side does.

use rayon::prelude::*;

use crate::fill::{self, Anisotropy};
use crate::mask::{Bounds, Mask};
use crate::plane::Yuv420Frame;

/// Exponents tried besides the harmonic fill (see [`Anisotropy`]).
const EXPONENTS: [f32; 2] = [1.0, 2.0];
/// Share of the harmonic fill's squared error a weighting must stay under to be chosen: on
/// texture the weightings come within a few percent of it either way, and the harmonic fill
/// is the safer of near equals.
const MIN_GAIN: f64 = 0.9;
/// Clear pixels kept between the mask and a copy of it, and known pixels around each copy.
const GAP: usize = 4;
/// Frames the copies are tried on, at most: those after are not read.
pub const FILL_SHAPE_FRAMES: usize = 4;

/// The weighting of the spatial fill that best restores copies of `mask` placed beside it in
/// `frames` (luma, the frames' whole picture around the mask), or the harmonic fill where no
/// copy fits in the frame or none does clearly better.
pub fn choose_fill_shape(frames: &[Yuv420Frame], mask: &Mask) -> Anisotropy {
    let (w, h) = (mask.width(), mask.height());
    let bits = mask.plane_bits(0);
    let b = mask.bounds();
    let (bw, bh) = (b.width(), b.height());
    if bw == 0 || bh == 0 {
        return Anisotropy::ISOTROPIC;
    }
    let shapes: Vec<Anisotropy> = std::iter::once(Anisotropy::ISOTROPIC)
        .chain(EXPONENTS.iter().map(|&p| Anisotropy::exponent(p)))
        .collect();
    let (dx, dy) = ((bw + GAP) as i64, (bh + GAP) as i64);
    let copies: Vec<Bounds> = [(-dx, 0), (dx, 0), (0, -dy), (0, dy)]
        .into_iter()
        .filter_map(|(sx, sy)| {
            let x0 = b.x0 as i64 + sx - GAP as i64;
            let y0 = b.y0 as i64 + sy - GAP as i64;
            let (x1, y1) = (x0 + (bw + 2 * GAP) as i64, y0 + (bh + 2 * GAP) as i64);
            (x0 >= 0 && y0 >= 0 && x1 <= w as i64 && y1 <= h as i64).then_some(Bounds {
                x0: x0 as usize,
                y0: y0 as usize,
                x1: x1 as usize,
                y1: y1 as usize,
            })
        })
        .collect();
    let frames: Vec<&Yuv420Frame> = frames
        .iter()
        .filter(|f| (f.width(), f.height()) == (w, h))
        .take(FILL_SHAPE_FRAMES)
        .collect();
    if copies.is_empty() || frames.is_empty() {
        return Anisotropy::ISOTROPIC;
    }
    let trials: Vec<(&Yuv420Frame, Bounds)> = frames
        .iter()
        .flat_map(|&f| copies.iter().map(move |&c| (f, c)))
        .collect();
    let errors: Vec<Vec<f64>> = trials
        .par_iter()
        .map(|&(frame, copy)| copy_errors(frame, copy, bits, w, b, &shapes))
        .collect();
    let total = |k: usize| errors.iter().map(|e| e[k]).sum::<f64>();
    let (best, best_error) = (1..shapes.len())
        .map(|k| (k, total(k)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::INFINITY));
    if best_error < MIN_GAIN * total(0) {
        shapes[best]
    } else {
        Anisotropy::ISOTROPIC
    }
}

/// The squared error of each of `shapes`' fills of the mask's copy within `copy` (the copy's
/// bounds with [`GAP`] known pixels around) against the frame's luma there.
fn copy_errors(
    frame: &Yuv420Frame,
    copy: Bounds,
    bits: &[u8],
    w: usize,
    b: Bounds,
    shapes: &[Anisotropy],
) -> Vec<f64> {
    let (rw, rh) = (copy.width(), copy.height());
    let luma = frame.plane(0);
    let mut truth = Vec::with_capacity(rw * rh);
    let mut unknown = Vec::with_capacity(rw * rh);
    for y in 0..rh {
        let row = luma.row(copy.y0 + y);
        truth.extend(row[copy.x0..copy.x1].iter().map(|&v| f32::from(v)));
        for x in 0..rw {
            // The mask's pixel this copy pixel stands for.
            let (mx, my) = (
                (b.x0 + x) as i64 - GAP as i64,
                (b.y0 + y) as i64 - GAP as i64,
            );
            let inside = mx >= b.x0 as i64
                && my >= b.y0 as i64
                && (mx as usize) < b.x1
                && (my as usize) < b.y1
                && bits[my as usize * w + mx as usize] != 0;
            unknown.push(u8::from(inside));
        }
    }
    shapes
        .iter()
        .map(|&shape| {
            let mut values = truth.clone();
            fill::fill(&mut values, &unknown, rw, rh, shape);
            values
                .iter()
                .zip(&truth)
                .zip(&unknown)
                .filter(|&(_, &u)| u != 0)
                .map(|((&v, &t), _)| f64::from(v - t).powi(2))
                .sum()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    /// A frame whose luma is `f(x, y)`.
    fn frame(w: usize, h: usize, f: impl Fn(usize, usize) -> u8) -> Yuv420Frame {
        let mut frame = Yuv420Frame::new(w, h);
        let mut y = frame.plane_mut(0);
        for row in 0..h {
            for (x, v) in y.row_mut(row).iter_mut().enumerate() {
                *v = f(x, row);
            }
        }
        frame
    }

    #[test]
    fn bars_crossing_a_wide_mask_are_filled_across_its_short_side() {
        let (w, h) = (320, 160);
        // Vertical bars 23 pixels wide, with a little texture.
        let bars = frame(w, h, |x, y| {
            (if (x / 23).is_multiple_of(2) { 60 } else { 190 }) + ((x * 7 + y * 13) % 5) as u8
        });
        let mask = Mask::from_rect(Rect::new(110, 60, 90, 24), w, h).expect("mask");
        let shape = choose_fill_shape(&[bars], &mask);
        assert!(shape.power() >= 1.0, "{shape:?}");
    }

    #[test]
    fn texture_keeps_the_harmonic_fill() {
        let (w, h) = (320, 160);
        // Smooth blobs in every direction.
        let blobs = frame(w, h, |x, y| {
            let (x, y) = (x as f32, y as f32);
            (128.0 + 50.0 * (x * 0.11).sin() * (y * 0.13).cos() + 30.0 * ((x + y) * 0.05).sin())
                as u8
        });
        let mask = Mask::from_rect(Rect::new(110, 60, 90, 24), w, h).expect("mask");
        assert_eq!(choose_fill_shape(&[blobs], &mask), Anisotropy::ISOTROPIC);
    }
}
