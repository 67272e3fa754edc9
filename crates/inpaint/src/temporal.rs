//! Temporal fill: each hole pixel takes the background that another frame shows at the
//! motion-compensated position, from the nearest frame in time where that position (and the
//! interpolation's support around it) is clear of the mark.
//!
//! Sources are tried in the order given: nearest in time first. Sources are frames cropped to
//! the working region (`region.rs`). [`fill_reference`] is the scalar definition; [`fill`] is
//! the CPU path with identical results.

use crate::motion::Motion;
use crate::plane::to_pixel;
use crate::sampling::{Blocked, floor, sample};

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

/// The value `source` gives for hole pixel (`x`, `y`) (plane coordinates), if it shows it.
#[inline]
fn pick(source: &Source<'_>, x: u32, y: u32) -> Option<u8> {
    let sx = x as f32 + (source.motion.dx - source.x0 as f32);
    let sy = y as f32 + (source.motion.dy - source.y0 as f32);
    source
        .blocked
        .clear(sx, sy)
        .then(|| to_pixel(sample(source.plane, source.w, source.h, sx, sy)))
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

/// Optimised path of [`fill_reference`]: the holes still `open` (those not `filled`) filled
/// from the sources in order. Same result as the reference given the same sources in the same
/// order.
pub(crate) fn fill(
    target: &mut [u8],
    w: usize,
    mut open: OpenRuns,
    filled: &mut [bool],
    sources: &[Source<'_>],
) {
    for source in sources {
        if open.is_empty() {
            break;
        }
        open.fill_from(target, w, filled, source);
    }
}

/// The hole pixels still open, as runs along rows: the state of the optimised temporal fill
/// between sources, so that trying one more source costs in proportion to what is still
/// open, not to the whole mark.
#[derive(Clone)]
pub(crate) struct OpenRuns {
    /// (index of the first hole, row, first column, length).
    runs: Vec<(usize, u32, u32, u32)>,
    next: Vec<(usize, u32, u32, u32)>,
}

impl OpenRuns {
    /// The holes not yet `filled` (`holes` in scan order).
    pub fn new(holes: &[(u32, u32)], filled: &[bool]) -> Self {
        let mut runs: Vec<(usize, u32, u32, u32)> = Vec::new();
        for (i, (&(x, y), &done)) in holes.iter().zip(filled.iter()).enumerate() {
            if done {
                continue;
            }
            match runs.last_mut() {
                Some((_, ry, rx, len)) if *ry == y && *rx + *len == x => *len += 1,
                _ => runs.push((i, y, x, 1)),
            }
        }
        let next = Vec::with_capacity(runs.len());
        Self { runs, next }
    }

    /// The open runs: (index of the first hole, row, first column, length).
    pub fn runs(&self) -> &[(usize, u32, u32, u32)] {
        &self.runs
    }

    /// Whether every hole is filled.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Fills what `source` shows of the open holes. Each run is intersected with the source
    /// row's runs of clear pixels (the source's motion is one offset for every pixel), so only
    /// the pixels the source reveals are visited; whole-pixel motion copies them directly.
    pub fn fill_from(
        &mut self,
        target: &mut [u8],
        w: usize,
        filled: &mut [bool],
        source: &Source<'_>,
    ) {
        let (dx, dy) = (
            source.motion.dx - source.x0 as f32,
            source.motion.dy - source.y0 as f32,
        );
        let whole = dx.fract() == 0.0 && dy.fract() == 0.0;
        // Whole columns and rows of the source's (top-left support) pixel: x + shift.
        let (shift_x, shift_y) = (floor(dx), floor(dy));
        let next = &mut self.next;
        for &(first, y, x0, len) in &self.runs {
            let clear = source.blocked.clear_runs(y as i32 + shift_y, whole);
            // Columns of the run in source coordinates: [a, b).
            let (a, b) = (x0 as i32 + shift_x, (x0 + len) as i32 + shift_x);
            let mut cursor = a;
            // The clear runs that meet [a, b): those ending after `a`, up to the first that
            // starts at or after `b` (a row of a text mark has dozens).
            let first_clear = clear.partition_point(|&(_, c1)| c1 as i32 <= a);
            for &(c0, c1) in &clear[first_clear..] {
                if c0 as i32 >= b {
                    break;
                }
                let (lo, hi) = ((c0 as i32).max(a), (c1 as i32).min(b));
                if lo > cursor {
                    next.push((
                        first + (cursor - a) as usize,
                        y,
                        (cursor - shift_x) as u32,
                        (lo - cursor) as u32,
                    ));
                }
                let row = y as usize * w;
                let (xa, xb) = ((lo - shift_x) as usize, (hi - shift_x) as usize);
                if whole {
                    let src_row = (y as i32 + shift_y) as usize * source.w;
                    target[row + xa..row + xb].copy_from_slice(
                        &source.plane[src_row + lo as usize..src_row + hi as usize],
                    );
                } else {
                    let sy = y as f32 + dy;
                    for x in xa..xb {
                        target[row + x] =
                            to_pixel(sample(source.plane, source.w, source.h, x as f32 + dx, sy));
                    }
                }
                let i = first + (lo - a) as usize;
                filled[i..i + (hi - lo) as usize].fill(true);
                cursor = hi;
            }
            if cursor < b {
                next.push((
                    first + (cursor - a) as usize,
                    y,
                    (cursor - shift_x) as u32,
                    (b - cursor) as u32,
                ));
            }
        }
        std::mem::swap(&mut self.runs, &mut self.next);
        self.next.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let mut t1 = vec![0u8; w * h];
        let mut t2 = t1.clone();
        let mut f1 = vec![false; holes.len()];
        let mut f2 = f1.clone();
        fill_reference(&mut t1, w, &holes, &mut f1, &sources);
        fill(&mut t2, w, OpenRuns::new(&holes, &f2), &mut f2, &sources);
        assert_eq!((&t1, &f1), (&t2, &f2));
        assert!(f1.iter().all(|&f| f));
        assert_eq!(t1[2 * w + 7], a[2 * w + 8]);
        assert_eq!(t1[2 * w + 4], b[2 * w]);
    }
}
