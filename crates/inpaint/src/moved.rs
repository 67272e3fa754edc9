//! One mark seen at several places: [`LogoModel::estimate_places`] estimates it once from the
//! frames of every place, as if they were all at the first.
//!
//! A mark that jumps between places is the same image at each, and each stay may be short: a
//! second of slow motion shows little of the background under it. The places' masks are
//! aligned with the first's (the shifts that match their row and column counts, refined to
//! the even offset at which the places' mean pictures match best over the mask: even so that
//! the 4:2:0 chroma samples line up), every place's frames are moved
//! by their offset, and the mark is estimated once from all of them under the union of the
//! aligned masks. Each place gets that model moved back to where it is. Places whose masks do
//! not line up (different marks) are estimated apart.

use crate::config::InpaintConfig;
use crate::error::InpaintError;
use crate::logo::{LogoModel, LogoPlane};
use crate::mask::{Bounds, Mask};
use crate::plane::Yuv420Frame;

/// Share of the smaller of two places' aligned masks covered by the other from which they
/// are one mark.
const SAME_MARK: f64 = 0.7;
/// How far (pixels) around the offset of the bounding boxes the alignment looks.
const ALIGN_REACH: i64 = 8;

/// `mask` moved by (`dx`, `dy`), clipped to the frame; `None` when nothing is left.
fn moved_mask(mask: &Mask, dx: i64, dy: i64) -> Option<Mask> {
    let (w, h) = (mask.width(), mask.height());
    let mut bits = vec![0u8; w * h];
    let src = mask.plane_bits(0);
    for y in 0..h {
        let sy = y as i64 - dy;
        if !(0..h as i64).contains(&sy) {
            continue;
        }
        for x in 0..w {
            let sx = x as i64 - dx;
            if (0..w as i64).contains(&sx) {
                bits[y * w + x] = src[sy as usize * w + sx as usize];
            }
        }
    }
    Mask::from_bits(w, h, &bits).ok()
}

/// The shift `d` that best matches `b[i + d]` with `a[i]` (most overlap).
fn best_shift(a: &[u32], b: &[u32]) -> i64 {
    let n = a.len() as i64;
    let score = |d: i64| -> u64 {
        (0..n)
            .filter(|&i| (0..n).contains(&(i + d)))
            .map(|i| u64::from(a[i as usize].min(b[(i + d) as usize])))
            .sum()
    };
    (-n + 1..n)
        .max_by_key(|&d| (score(d), std::cmp::Reverse(d.abs())))
        .unwrap_or(0)
}

/// The mean luma of `frames` (all of one size), row after row; empty without frames.
fn mean_luma(frames: &[Yuv420Frame]) -> Vec<f32> {
    let Some(first) = frames.first() else {
        return Vec::new();
    };
    let mut sum = vec![0.0f32; first.data(0).len()];
    for frame in frames {
        for (s, &v) in sum.iter_mut().zip(frame.data(0)) {
            *s += f32::from(v);
        }
    }
    let n = frames.len() as f32;
    sum.iter_mut().for_each(|s| *s /= n);
    sum
}

/// The even offset that moves `mask` onto `reference` best, when they are one mark: first the
/// shifts that best match their row and column counts, then, around those, the offset at which
/// the mean pictures of the two places (`means`: the mark stays, the picture under it changes)
/// differ least over the reference mask. They are one mark when, so aligned, most of the
/// smaller mask lies in the other (stray pixels next to one of them do not break the match).
fn align(reference: &Mask, mask: &Mask, means: (&[f32], &[f32])) -> Option<(i64, i64)> {
    let (w, h) = (reference.width(), reference.height());
    let counts = |m: &Mask| {
        let (mut cols, mut rows) = (vec![0u32; w], vec![0u32; h]);
        for (i, &b) in m.plane_bits(0).iter().enumerate() {
            cols[i % w] += u32::from(b);
            rows[i / w] += u32::from(b);
        }
        (cols, rows)
    };
    let ((rc, rr), (mc, mr)) = (counts(reference), counts(mask));
    let (cx, cy) = (best_shift(&rc, &mc), best_shift(&rr, &mr));
    let pixels: Vec<usize> = (0..w * h)
        .filter(|&i| reference.plane_bits(0)[i] != 0)
        .collect();
    let (a, b) = means;
    let mut best: Option<((i64, i64), f64)> = None;
    for dy in -ALIGN_REACH..=ALIGN_REACH {
        for dx in -ALIGN_REACH..=ALIGN_REACH {
            let (ox, oy) = (cx + dx, cy + dy);
            if ox % 2 != 0 || oy % 2 != 0 {
                continue;
            }
            let (mut sum, mut n) = (0.0f64, 0usize);
            for &i in &pixels {
                let (x, y) = ((i % w) as i64 + ox, (i / w) as i64 + oy);
                if (0..w as i64).contains(&x) && (0..h as i64).contains(&y) && !b.is_empty() {
                    sum += f64::from((a[i] - b[y as usize * w + x as usize]).abs());
                    n += 1;
                }
            }
            if n * 2 < pixels.len() {
                continue;
            }
            let difference = sum / n as f64;
            if best.is_none_or(|(_, d)| difference < d) {
                best = Some(((ox, oy), difference));
            }
        }
    }
    let (offset, _) = best?;
    let back = moved_mask(mask, -offset.0, -offset.1)?;
    let common = reference
        .plane_bits(0)
        .iter()
        .zip(back.plane_bits(0))
        .filter(|&(&a, &b)| a & b != 0)
        .count();
    let share = common as f64 / reference.count().min(back.count()).max(1) as f64;
    (share >= SAME_MARK).then_some(offset)
}

/// `frame` moved by (-`dx`, -`dy`) (even), so that what is at `p + (dx, dy)` comes to `p`;
/// pixels from beyond the frame repeat its edge.
fn moved_frame(frame: &Yuv420Frame, dx: i64, dy: i64) -> Yuv420Frame {
    let (w, h) = frame.plane_size(0);
    let mut out = Yuv420Frame::new(w, h);
    for p in 0..3 {
        let (pw, ph) = frame.plane_size(p);
        let (ox, oy) = if p == 0 { (dx, dy) } else { (dx / 2, dy / 2) };
        let src = frame.data(p);
        let dst = out.data_mut(p);
        for y in 0..ph {
            let sy = (y as i64 + oy).clamp(0, ph as i64 - 1) as usize;
            for x in 0..pw {
                let sx = (x as i64 + ox).clamp(0, pw as i64 - 1) as usize;
                dst[y * pw + x] = src[sy * pw + sx];
            }
        }
    }
    out
}

impl LogoModel {
    /// Estimates a mark seen at several places (each its frames, in runs of consecutive ones,
    /// and its mask) once from all of them; see the module docs. One model per place, each
    /// where that place is, or `None` when the masks are not one mark at several places.
    pub fn estimate_places(
        places: &[(&[Yuv420Frame], &Mask)],
        config: &InpaintConfig,
    ) -> Result<Option<Vec<LogoModel>>, InpaintError> {
        let Some(&(_, reference)) = places.first() else {
            return Ok(None);
        };
        let means: Vec<Vec<f32>> = places.iter().map(|(frames, _)| mean_luma(frames)).collect();
        let mut offsets = vec![(0, 0)];
        for (k, &(_, mask)) in places.iter().enumerate().skip(1) {
            match align(reference, mask, (&means[0], &means[k])) {
                Some(offset) => offsets.push(offset),
                None => return Ok(None),
            }
        }
        let mut union = reference.clone();
        let mut frames = Vec::new();
        for (&(place_frames, mask), &(dx, dy)) in places.iter().zip(&offsets) {
            if let Some(back) = moved_mask(mask, -dx, -dy) {
                union = union.union(&back)?;
            }
            frames.extend(place_frames.iter().map(|f| moved_frame(f, dx, dy)));
        }
        let model = LogoModel::estimate(&frames, &union, config)?;
        Ok(Some(
            offsets
                .iter()
                .map(|&(dx, dy)| model.moved(dx, dy))
                .collect(),
        ))
    }

    /// The model moved by (`dx`, `dy`) (even), clipped to the frame.
    fn moved(&self, dx: i64, dy: i64) -> LogoModel {
        let planes = std::array::from_fn(|p| {
            let plane = self.plane(p);
            let (pw, ph) = if p == 0 {
                (self.width(), self.height())
            } else {
                crate::plane::chroma_size(self.width(), self.height())
            };
            let (ox, oy) = if p == 0 { (dx, dy) } else { (dx / 2, dy / 2) };
            let b = plane.bounds;
            let clip = |v: usize, o: i64, max: usize| (v as i64 + o).clamp(0, max as i64) as usize;
            let bounds = Bounds {
                x0: clip(b.x0, ox, pw),
                y0: clip(b.y0, oy, ph),
                x1: clip(b.x1, ox, pw),
                y1: clip(b.y1, oy, ph),
            };
            let (mut alpha, mut premul) = (Vec::new(), Vec::new());
            for y in bounds.y0..bounds.y1 {
                for x in bounds.x0..bounds.x1 {
                    let (sx, sy) = ((x as i64 - ox) as usize, (y as i64 - oy) as usize);
                    let i = (sy - b.y0) * b.width() + sx - b.x0;
                    alpha.push(plane.alpha[i]);
                    premul.push(plane.premul[i]);
                }
            }
            LogoPlane {
                bounds,
                alpha,
                premul,
            }
        });
        LogoModel::from_planes(self.width(), self.height(), planes).with_support(self.support())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    #[test]
    fn masks_align_on_even_offsets_of_best_overlap() {
        let a = Mask::from_rect(Rect::new(10, 10, 20, 8), 100, 60).unwrap();
        let b = Mask::from_rect(Rect::new(52, 30, 20, 8), 100, 60).unwrap();
        // Mean pictures with a mark-like bump under each mask.
        let mean = |m: &Mask| -> Vec<f32> {
            (0..100 * 60)
                .map(|i| {
                    if m.contains(i % 100, i / 100) {
                        200.0 + (i % 7) as f32
                    } else {
                        50.0
                    }
                })
                .collect()
        };
        let (ma, mb) = (mean(&a), mean(&b));
        assert_eq!(align(&a, &b, (&ma, &mb)), Some((42, 20)));
        let other = Mask::from_rect(Rect::new(52, 30, 4, 30), 100, 60).unwrap();
        assert_eq!(align(&a, &other, (&ma, &mean(&other))), None);
    }

    #[test]
    fn a_moved_model_moves_its_values() {
        let rgba: Vec<u8> = (0..4 * 4)
            .flat_map(|i| [200, 100, 50, (i * 10) as u8])
            .collect();
        let model = LogoModel::from_rgba(&rgba, 4, 4, 10, 12, 64, 48).unwrap();
        let moved = model.moved(6, -4);
        for (x, y) in [(10, 12), (13, 15), (11, 14)] {
            assert_eq!(model.alpha(0, x, y), moved.alpha(0, x + 6, y - 4));
        }
        assert_eq!(model.alpha(1, 5, 6), moved.alpha(1, 8, 4));
    }
}
