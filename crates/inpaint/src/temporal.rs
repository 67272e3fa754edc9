//! Temporal fill: each hole pixel takes the background that another frame shows at the
//! motion-compensated position, from the nearest frame in time where that position (and the
//! interpolation's support around it) is clear of the mark.
//!
//! Sources are tried in the order given: nearest in time first. Sources are frames cropped to
//! the working region (`region.rs`). [`fill_reference`] is the scalar definition; [`fill`] is
//! the CPU path with identical results.

use crate::mask::Bounds;
use crate::motion::Motion;
use crate::plane::to_pixel;
use crate::sampling::{Blocked, floor, sample, word_at};

/// A frame that may show background for the holes of the frame being restored.
pub(crate) struct Source<'a> {
    /// The source frame's plane, cropped to the working region.
    pub plane: &'a [u8],
    /// 1 where the source pixel is not background (its own holes and their safety margin),
    /// same crop.
    pub blocked: &'a Blocked,
    /// Size of the crop.
    pub w: usize,
    pub h: usize,
    /// Plane coordinates of the crop's top-left pixel.
    pub x0: usize,
    pub y0: usize,
    /// Where the target's background sits in the source (plane pixels).
    pub motion: Motion,
}

impl Source<'_> {
    /// Where plane pixel (`x`, `y`) of the target is in this source's crop.
    #[inline(always)]
    pub fn at(&self, x: u32, y: u32) -> (f32, f32) {
        let m = self.motion;
        if m.is_translation() {
            return (
                x as f32 + (m.dx - self.x0 as f32),
                y as f32 + (m.dy - self.y0 as f32),
            );
        }
        let (dx, dy) = m.at(x as f32, y as f32);
        (
            x as f32 + dx - self.x0 as f32,
            y as f32 + dy - self.y0 as f32,
        )
    }
}

/// The value `source` gives for hole pixel (`x`, `y`) (plane coordinates), if it shows it.
#[inline]
fn pick(source: &Source<'_>, x: u32, y: u32) -> Option<u8> {
    let (sx, sy) = source.at(x, y);
    source
        .blocked
        .sample_clear(source.plane, sx, sy)
        .map(to_pixel)
}

/// Scalar reference: for each hole pixel not yet `filled`, writes the first source (in order)
/// that shows it into `target` (a plane `w` pixels wide) and sets `filled`.
pub(crate) fn fill_reference(
    target: &mut [u8],
    w: usize,
    holes: &[(u32, u32)],
    filled: &mut [bool],
    sources: &[Source<'_>],
) {
    for (&(x, y), done) in holes.iter().zip(filled.iter_mut()) {
        if *done {
            continue;
        }
        if let Some(v) = sources.iter().find_map(|s| pick(s, x, y)) {
            target[y as usize * w + x as usize] = v;
            *done = true;
        }
    }
}

/// Optimised path of [`fill_reference`]: the holes still `open` filled from the sources in
/// order, and marked in `filled` (the holes `open` was built from, as [`hole_runs`]). Same result as the
/// reference given the same sources in the same order.
pub(crate) fn fill(
    target: &mut [u8],
    w: usize,
    hole_runs: &[(usize, u32, u32, u32)],
    mut open: OpenHoles,
    filled: &mut [bool],
    sources: &[Source<'_>],
) {
    for source in sources {
        if open.is_empty() {
            break;
        }
        open.fill_from(target, w, source);
    }
    open.mark_filled(hole_runs, filled);
}

/// The hole pixels still open, one bit each over the rows of their bounds: the state of the
/// optimised temporal fill between sources. A source is tried on a row a 64-pixel word at a
/// time (the open bits against the source's clear bits at the moved position), so trying one
/// more source costs in proportion to the rows and words still open, not to the pixels.
#[derive(Clone)]
pub(crate) struct OpenHoles {
    /// Plane column of bit 0 and plane row of row 0.
    x0: u32,
    y0: u32,
    /// Words per row.
    words: usize,
    bits: Vec<u64>,
    /// The rows with an open pixel, in order.
    live: Vec<u32>,
}

impl OpenHoles {
    /// The `holes` not yet `filled`.
    pub fn new(holes: &[(u32, u32)], filled: &[bool]) -> Self {
        let open = || {
            holes
                .iter()
                .zip(filled)
                .filter(|&(_, &f)| !f)
                .map(|(&h, _)| h)
        };
        let Some(bounds) = Bounds::of_points(open()) else {
            return Self {
                x0: 0,
                y0: 0,
                words: 0,
                bits: Vec::new(),
                live: Vec::new(),
            };
        };
        let words = bounds.width().div_ceil(64);
        let mut bits = vec![0u64; words * bounds.height()];
        for (x, y) in open() {
            let (c, r) = (x as usize - bounds.x0, y as usize - bounds.y0);
            bits[r * words + c / 64] |= 1 << (c % 64);
        }
        let live = (0..bounds.height() as u32)
            .filter(|&r| bits[r as usize * words..][..words].iter().any(|&b| b != 0))
            .collect();
        Self {
            x0: bounds.x0 as u32,
            y0: bounds.y0 as u32,
            words,
            bits,
            live,
        }
    }

    /// Whether every hole is filled.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }

    /// Sets `filled` for the holes no longer open, given as runs along rows (see
    /// [`hole_runs`]) of the holes this set was built from.
    pub fn mark_filled(&self, runs: &[(usize, u32, u32, u32)], filled: &mut [bool]) {
        for &(first, y, x, len) in runs {
            let filled = &mut filled[first..][..len as usize];
            let row = y
                .checked_sub(self.y0)
                .and_then(|r| self.bits.get(r as usize * self.words..)?.get(..self.words));
            // Outside the bounds nothing is open.
            let Some(row) = row else {
                filled.fill(true);
                continue;
            };
            // A word of the row at a time: the run's pixels in it take its bits in turn.
            let mut c = x as isize - self.x0 as isize;
            for chunk in filled.chunks_mut(64) {
                let open = word_at(row, c.div_euclid(64), c.rem_euclid(64) as u32);
                for (k, done) in chunk.iter_mut().enumerate() {
                    *done |= open >> k & 1 == 0;
                }
                c += chunk.len() as isize;
            }
        }
    }

    /// Fills what `source` shows of the open holes: per row, the open bits that are clear in
    /// the source row at the moved position (the motion is one offset for every pixel). Whole-
    /// pixel motion copies those pixels directly.
    pub fn fill_from(&mut self, target: &mut [u8], w: usize, source: &Source<'_>) {
        if !source.motion.is_translation() {
            self.fill_each_from(target, w, source);
            return;
        }
        let (dx, dy) = (
            source.motion.dx - source.x0 as f32,
            source.motion.dy - source.y0 as f32,
        );
        let whole = dx.fract() == 0.0 && dy.fract() == 0.0;
        // Whole columns and rows of the source's (top-left support) pixel: x + shift.
        let (shift_x, shift_y) = (floor(dx), floor(dy));
        let clear = source.blocked.clear_bits(whole);
        // Where bit 0 of a row of this set falls in a source row.
        let at = self.x0 as isize + shift_x as isize;
        let (word0, shift) = (at.div_euclid(64), at.rem_euclid(64) as u32);
        let mut kept = 0;
        for k in 0..self.live.len() {
            let r = self.live[k];
            let y = self.y0 + r;
            let source_row = clear.row(y as i32 + shift_y);
            let open = &mut self.bits[r as usize * self.words..][..self.words];
            let mut left = 0;
            for (i, open) in open.iter_mut().enumerate() {
                let shown = match *open {
                    0 => 0,
                    bits => bits & word_at(source_row, word0 + i as isize, shift),
                };
                let mut rest = shown;
                while rest != 0 {
                    let start = rest.trailing_zeros();
                    let len = (rest >> start).trailing_ones();
                    rest &= !(u64::MAX >> (64 - len) << start);
                    let xa = (self.x0 + 64 * i as u32 + start) as usize;
                    let row = y as usize * w;
                    let target = &mut target[row + xa..][..len as usize];
                    if whole {
                        let sx = (xa as isize + shift_x as isize) as usize;
                        let src_row = (y as i32 + shift_y) as usize * source.w;
                        target.copy_from_slice(&source.plane[src_row + sx..][..len as usize]);
                    } else {
                        let sy = y as f32 + dy;
                        for (k, out) in target.iter_mut().enumerate() {
                            let sx = (xa + k) as f32 + dx;
                            *out = to_pixel(sample(source.plane, source.w, source.h, sx, sy));
                        }
                    }
                }
                *open &= !shown;
                left |= *open;
            }
            if left != 0 {
                self.live[kept] = r;
                kept += 1;
            }
        }
        self.live.truncate(kept);
    }

    /// [`fill_from`](Self::fill_from) for a zoom or a rotation, whose moved rows are not rows:
    /// each open pixel on its own.
    fn fill_each_from(&mut self, target: &mut [u8], w: usize, source: &Source<'_>) {
        let mut kept = 0;
        for k in 0..self.live.len() {
            let r = self.live[k];
            let y = self.y0 + r;
            let open = &mut self.bits[r as usize * self.words..][..self.words];
            let mut left = 0;
            for (i, open) in open.iter_mut().enumerate() {
                let mut rest = *open;
                while rest != 0 {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    let x = self.x0 + 64 * i as u32 + bit;
                    if let Some(v) = pick(source, x, y) {
                        target[y as usize * w + x as usize] = v;
                        *open &= !(1 << bit);
                    }
                }
                left |= *open;
            }
            if left != 0 {
                self.live[kept] = r;
                kept += 1;
            }
        }
        self.live.truncate(kept);
    }
}

/// Runs of hole pixels along rows, `(index of the first hole, row, first column, length)`,
/// `holes` in scan order.
pub(crate) fn hole_runs(holes: &[(u32, u32)]) -> Vec<(usize, u32, u32, u32)> {
    let mut runs: Vec<(usize, u32, u32, u32)> = Vec::new();
    for (i, &(x, y)) in holes.iter().enumerate() {
        match runs.last_mut() {
            Some((_, ry, rx, len)) if *ry == y && *rx + *len == x => *len += 1,
            _ => runs.push((i, y, x, 1)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target plane and its holes' filled flags.
    type Filled = (Vec<u8>, Vec<bool>);

    /// The target and the filled flags after the reference fill and after the optimised one,
    /// from the same `target` with no hole filled.
    fn both_paths(
        target: Vec<u8>,
        w: usize,
        holes: &[(u32, u32)],
        sources: &[Source<'_>],
    ) -> (Filled, Filled) {
        let (mut t1, mut f1) = (target.clone(), vec![false; holes.len()]);
        let (mut t2, mut f2) = (target, f1.clone());
        fill_reference(&mut t1, w, holes, &mut f1, sources);
        let open = OpenHoles::new(holes, &f2);
        fill(&mut t2, w, &hole_runs(holes), open, &mut f2, sources);
        ((t1, f1), (t2, f2))
    }

    #[test]
    fn nearest_clear_source_wins_and_paths_agree() {
        let (w, h) = (16, 8);
        let holes: Vec<(u32, u32)> = (4..8).flat_map(|x| (2..5).map(move |y| (x, y))).collect();
        let mut blocked = vec![0u8; w * h];
        for &(x, y) in &holes {
            blocked[y as usize * w + x as usize] = 1;
        }
        let a: Vec<u8> = (0..w * h).map(|i| i as u8).collect();
        let b: Vec<u8> = (0..w * h).map(|i| 200 - i as u8).collect();
        let blocked = Blocked::new(blocked, w, h);
        let source = |plane, motion| Source {
            plane,
            blocked: &blocked,
            w,
            h,
            x0: 0,
            y0: 0,
            motion,
        };
        let sources = [
            // Shifted by one: only the rightmost column of the hole lands outside it.
            source(&a, Motion::new(1.0, 0.0)),
            source(&b, Motion::new(-4.0, 0.0)),
        ];
        let (reference, optimised) = both_paths(vec![0u8; w * h], w, &holes, &sources);
        assert_eq!(reference, optimised);
        let (t1, f1) = reference;
        assert!(f1.iter().all(|&f| f));
        assert_eq!(t1[2 * w + 7], a[2 * w + 8]);
        assert_eq!(t1[2 * w + 4], b[2 * w]);
    }

    #[test]
    fn wide_holes_with_gaps_fill_as_the_reference_does_for_any_motion() {
        // A plane 230 pixels wide whose holes span four 64-pixel words with gaps, a crop that
        // starts inside the plane, and motions whole and fractional, either way, some beyond
        // the crop, and a zoom and a rotation.
        let (w, h) = (230, 30);
        let (cx, cy, cw, ch) = (5, 3, 220, 26);
        let holes: Vec<(u32, u32)> = (8..22)
            .flat_map(|y| (12..215).map(move |x| (x, y)))
            .filter(|&(x, y)| (x + 3 * y) % 17 != 0 && !(100..104).contains(&x))
            .collect();
        let mut blocked = vec![0u8; cw * ch];
        for &(x, y) in &holes {
            blocked[(y as usize - cy) * cw + x as usize - cx] = 1;
        }
        let blocked = Blocked::new(blocked, cw, ch);
        let motions = [
            Motion::new(6.0, 2.0),
            Motion::similarity(1.0, -0.5, 0.04, 0.0, (110.0, 15.0)),
            Motion::new(-6.0, -2.0),
            Motion::new(1.5, 0.5),
            Motion::similarity(-2.0, 1.0, -0.02, 0.01, (110.0, 15.0)),
            Motion::new(-70.0, 1.0),
            Motion::new(130.25, -3.75),
            Motion::new(-3.0, 0.0),
        ];
        let planes: Vec<Vec<u8>> = (0..motions.len())
            .map(|k| (0..cw * ch).map(|i| (i * (7 + k) % 251) as u8).collect())
            .collect();
        let sources: Vec<Source<'_>> = planes
            .iter()
            .zip(motions)
            .map(|(plane, motion)| Source {
                plane,
                blocked: &blocked,
                w: cw,
                h: ch,
                x0: cx,
                y0: cy,
                motion,
            })
            .collect();
        for n in 1..=sources.len() {
            let target = (0..w * h).map(|i| (i % 13) as u8).collect();
            let (reference, optimised) = both_paths(target, w, &holes, &sources[..n]);
            assert!(reference == optimised, "{n} sources");
            let (_, f1) = reference;
            assert!(
                f1.iter().any(|&f| f) && f1.iter().any(|&f| !f),
                "{n} sources"
            );
        }
    }

    #[test]
    fn holes_filled_before_the_set_was_built_read_as_filled() {
        // Two rows of holes; the left part of each filled already, so the set's bounds start
        // inside the runs.
        let holes: Vec<(u32, u32)> = (3..5).flat_map(|y| (10..90).map(move |x| (x, y))).collect();
        let before: Vec<bool> = holes.iter().map(|&(x, _)| x < 75).collect();
        let open = OpenHoles::new(&holes, &before);
        let mut filled = vec![false; holes.len()];
        open.mark_filled(&hole_runs(&holes), &mut filled);
        assert_eq!(filled, before);
    }
}
