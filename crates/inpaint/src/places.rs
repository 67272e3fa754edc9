//! Finding a mark that moves between a few places, and when it is at each: [`PlaceFinder`].
//!
//! Platforms that stamp generated video move their mark every few seconds, so no pixel holds
//! it all the time and [`detect_mask`](crate::detect_mask)'s statistics over the whole video
//! see nothing still. What does hold while the mark stays is that its pixels are *pinned to
//! the screen* while the picture moves. Each sample is a pair of nearby frames:
//!
//! 1. The picture's motion between them is measured as one translation (a coarse-to-fine
//!    search over a box pyramid), or as a zoom and a turn as well where that explains the
//!    picture clearly better (fitted to the motions of a grid of blocks, those that do not
//!    follow the rest left out: [`similarity`]); with a translation alone, the middle of a
//!    zoom, which barely moves, and everything that the translation misplaces would look
//!    pinned. A pair that moves no pixel by a whole pixel tells nothing and is refused, so the
//!    caller can offer a later second frame.
//! 2. Per pixel, the difference between the two frames where they are (`still`) and after
//!    compensating the motion (`moved`), each averaged over 3×3: a pixel is *pinned* when
//!    `still` is small and `moved` is much larger (the mark's edges: what stays put is
//!    mismatched by the compensation), and *unchanged* when `still` is small. The picture's
//!    own pixels match once compensated; flat ones and edges along the motion tell nothing.
//!
//! Over all samples, the pixels pinned in a few of them form connected regions. Each region
//! gets a presence series: the share of its pixels pinned in each sample. A mark's region is
//! present in a run of samples and absent outside it; runs of at least [`MIN_STAY`] samples
//! are its *stays*. Regions with about the same stay are one place, whose mask is the pixels pinned
//! in a good part of the stay's samples and the pixels near them that stayed unchanged
//! throughout (a mark's flat inside), closed and with enclosed holes filled, grown by
//! [`DetectOptions::grow`](crate::DetectOptions). [`FoundPlace::refine`] adds what
//! [`detect_mask`](crate::detect_mask) finds still next to it over frames of its stay: the
//! edges of a semi-transparent mark that lie along the motion are never pinned, but the
//! picture under them is dimmed. For a mark found at one place,
//! [`FoundPlace::refine_throughout`] looks over the whole video and takes all of what stays
//! still where nearly all of it lies next to the place (else what stays still further off is
//! picture that moves too little to tell, such as the middle of a zoom).
//!
//! A place's first and last frames are those of its first and last samples; the caller can
//! narrow the gap to the samples either side frame by frame with [`FoundPlace::is_present`],
//! which compares a frame with one known to show the mark and one known not to, at the
//! place's pinned pixels.
//!
//! Limits: as for a static mark, anything pinned to the screen is found (a still part of the
//! picture while the camera pans is not, as it moves with the picture); a still camera shows
//! nothing, and a mark's edges along the motion are never pinned (the unchanged pixels and
//! the hole filling take in the rest).

use rayon::prelude::*;

use crate::detect::DetectOptions;
use crate::error::InpaintError;
use crate::mask::Mask;
use crate::morph;
use crate::motion::Motion;
use crate::plane::Plane;

/// Fewest consecutive samples a stay lasts.
pub const MIN_STAY: usize = 4;
/// How much more than the most exact pair's residual a nearer pair may leave.
const NEAR_EXACT: f32 = 1.1;
/// Largest motion (pixels of the working plane) searched between the two frames of a pair.
const MAX_MOTION: usize = 64;
/// Largest `still` difference (levels, 3×3 mean) of a pinned or unchanged pixel.
const STILL: f32 = 6.0;
/// A pinned pixel's `moved` difference is at least `PINNED_RATIO * still + PINNED_MARGIN`.
const PINNED_RATIO: f32 = 2.0;
const PINNED_MARGIN: f32 = 8.0;
/// Share of a region's peak presence from which it is present in a sample, and below which
/// it is absent (weak in between).
const PRESENT: f32 = 0.35;
const ABSENT: f32 = 0.15;
/// Samples of weaker presence bridged inside a stay.
const GAP: usize = 2;
/// Share of the union of two regions' stays that they must share to be one place.
const SAME_STAY: f32 = 0.8;
/// Distance (working-plane pixels) within which a part of a mark joins a place.
const NEAR: usize = 16;
/// Smallest region: pinned pixels, at least this share of the working plane's and 16.
const MIN_REGION: usize = 4000;
/// Smallest share of a region's pixels pinned at once (in its best samples): a mark's edges
/// are pinned together, stray pixels of the picture now and then.
const MIN_PEAK: f32 = 0.25;
/// Pixels along the frame's edges (beyond those the motion uncovers) never pinned.
const BORDER: usize = 4;
/// Share of a stay's samples in which a pixel is pinned to belong to its place.
const PLACE_PINNED: f32 = 0.2;
/// Distance (working-plane pixels) from a place's pinned pixels within which unchanged pixels
/// are its flat inside.
const NEAR_FILL: usize = 6;
/// Share of a stay's samples in which a pixel is unchanged to be a place's flat inside.
const PLACE_UNCHANGED: f32 = 0.9;
/// Largest frame side of the working plane: larger frames are averaged down.
const WORKING_PIXELS: usize = 1920 * 1088;
/// Distance (pixels) from a place's mask within which [`FoundPlace::refine`] adds to it.
const NEAR_REFINE: usize = 8;
/// Share of what stays still that lies within `NEAR_REFINE` of a place for
/// [`FoundPlace::refine_throughout`] to take all of it as the mark's.
const STILL_BY_PLACE: f32 = 0.9;
/// Most pinned pixels a place keeps to tell whether it is present in a frame.
const MAX_POINTS: usize = 4096;

/// One bit per working-plane pixel.
#[derive(Clone)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 != 0
    }
}

/// What one pair of frames showed.
struct Sample {
    /// Indices of the pair's frames, as the caller counts.
    frame: u64,
    second: u64,
    pinned: Bits,
    unchanged: Bits,
}

/// A place of the mark found by [`PlaceFinder::finish`].
#[derive(Clone)]
pub struct FoundPlace {
    /// The pixels the mark covers here.
    pub mask: Mask,
    /// The first frame of the first sample that shows it here, and the second frame of the
    /// last: it is here from one to the other.
    pub first: u64,
    pub last: u64,
    /// Frames that do not show it here, of the nearest samples that do not, before and after
    /// (the first frame of the one before, the second of the one after; none where it is here
    /// from the first sample on or until the last): it arrives after `before` and is gone by
    /// `after`.
    pub before: Option<u64>,
    pub after: Option<u64>,
    /// Full-resolution luma offsets (`y * width + x`) of pixels pinned while it is here.
    points: Vec<usize>,
}

impl std::fmt::Debug for FoundPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundPlace")
            .field("bbox", &self.mask.bbox())
            .field("pixels", &self.mask.count())
            .field("first", &self.first)
            .field("last", &self.last)
            .field("before", &self.before)
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

impl FoundPlace {
    /// Adds to the place's mask what [`detect_mask`](crate::detect_mask) finds on `frames`
    /// (luma planes shown while the mark is here) within `NEAR_REFINE` (8) pixels of it. Frames
    /// that tell nothing (too few, a still picture) leave it as it is.
    pub fn refine<'a>(
        &mut self,
        frames: impl IntoIterator<Item = Plane<'a>>,
        options: &DetectOptions,
    ) -> Result<(), InpaintError> {
        if let Some(found) = still(frames, options)? {
            self.add(&found, false)?;
        }
        Ok(())
    }

    /// [`refine`](Self::refine) for a mark found at this one place, which stays there: `frames`
    /// spread over the whole video. Where nearly all of what stays still (`STILL_BY_PLACE`,
    /// nine tenths) lies next to the place, all of it is taken: the same mark, with its
    /// parts that no pair pinned (a semi-transparent mark over moving texture is not still
    /// either, and its faint parts may be pinned nowhere). Else only what lies next to it: the
    /// rest is picture too still to tell from a mark (the middle of a zoom or a turn).
    pub fn refine_throughout<'a>(
        &mut self,
        frames: impl IntoIterator<Item = Plane<'a>>,
        options: &DetectOptions,
    ) -> Result<(), InpaintError> {
        if let Some(found) = still(frames, options)? {
            self.add(&found, true)?;
        }
        Ok(())
    }

    /// Adds `found`'s pixels within `NEAR_REFINE` of the mask, or all of them when `whole` and
    /// [`STILL_BY_PLACE`] of them are.
    fn add(&mut self, found: &Mask, whole: bool) -> Result<(), InpaintError> {
        let (w, h) = (self.mask.width(), self.mask.height());
        let place = self.mask.plane_bits(0);
        let found = found.plane_bits(0);
        let near = morph::dilate(place, w, h, NEAR_REFINE);
        let (mut by, mut all) = (0usize, 0usize);
        for (&f, &n) in found.iter().zip(&near) {
            all += usize::from(f != 0);
            by += usize::from(f != 0 && n != 0);
        }
        let whole = whole && by as f32 >= STILL_BY_PLACE * all as f32;
        let bits: Vec<u8> = (0..w * h)
            .map(|i| u8::from(place[i] != 0 || (found[i] != 0 && (whole || near[i] != 0))))
            .collect();
        self.mask = Mask::from_bits(w, h, &bits)?;
        Ok(())
    }

    /// Whether luma plane `probe` shows the mark here: whether it is closer, at the place's
    /// pinned pixels, to `present` (a frame that shows it) than to `absent` (one that does
    /// not). Planes of another size than the mask's do not.
    pub fn is_present(&self, probe: Plane<'_>, present: Plane<'_>, absent: Plane<'_>) -> bool {
        let (w, h) = (self.mask.width(), self.mask.height());
        let fits = |p: &Plane<'_>| (p.width(), p.height()) == (w, h);
        if !(fits(&probe) && fits(&present) && fits(&absent)) {
            return false;
        }
        let (mut near, mut far) = (0u64, 0u64);
        for &i in &self.points {
            let (x, y) = (i % w, i / w);
            let v = i32::from(probe.row(y)[x]);
            near += v.abs_diff(i32::from(present.row(y)[x])) as u64;
            far += v.abs_diff(i32::from(absent.row(y)[x])) as u64;
        }
        near < far
    }
}

/// What [`detect_mask`](crate::detect_mask) finds still on `frames`; `None` where they tell
/// nothing (too few, a still picture, nothing or too much still).
fn still<'a>(
    frames: impl IntoIterator<Item = Plane<'a>>,
    options: &DetectOptions,
) -> Result<Option<Mask>, InpaintError> {
    match crate::detect::detect_mask(frames, options) {
        Ok(found) => Ok(Some(found)),
        Err(
            InpaintError::TooFewFrames { .. }
            | InpaintError::StaticVideo { .. }
            | InpaintError::NoMarkFound
            | InpaintError::MaskTooLarge { .. },
        ) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Collects samples of a video (pairs of nearby frames) and finds the places of a mark that
/// moves between them; see the module docs.
pub struct PlaceFinder {
    width: usize,
    height: usize,
    /// Working-plane scale: frames are averaged down by this factor each way.
    scale: usize,
    samples: Vec<Sample>,
    /// Pyramids of the frames the last sample used, by index: nearby samples share frames.
    pyramids: Vec<(u64, std::sync::Arc<Pyramid>)>,
}

/// A working-plane copy of a luma plane.
struct Work {
    w: usize,
    h: usize,
    data: Vec<u8>,
}

impl Work {
    fn of(plane: &Plane<'_>, scale: usize) -> Self {
        let (w, h) = (plane.width() / scale, plane.height() / scale);
        let mut data = vec![0u8; w * h];
        let area = (scale * scale) as u32;
        data.par_chunks_mut(w.max(1))
            .enumerate()
            .for_each(|(y, row)| {
                for (x, out) in row.iter_mut().enumerate() {
                    let mut sum = 0u32;
                    for dy in 0..scale {
                        let src = plane.row(y * scale + dy);
                        sum += src[x * scale..(x + 1) * scale]
                            .iter()
                            .map(|&v| u32::from(v))
                            .sum::<u32>();
                    }
                    *out = ((sum + area / 2) / area) as u8;
                }
            });
        Self { w, h, data }
    }

    /// Half size, 2×2 averages.
    fn halved(&self) -> Self {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut data = vec![0u8; w * h];
        for y in 0..h {
            for x in 0..w {
                let at =
                    |dx: usize, dy: usize| u16::from(self.data[(2 * y + dy) * self.w + 2 * x + dx]);
                data[y * w + x] = ((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8;
            }
        }
        Self { w, h, data }
    }

    /// Mean absolute difference with `other` displaced by (`dx`, `dy`) (`other`'s pixel at
    /// `p + d` against ours at `p`), over every `step`-th row of the overlap.
    fn difference(&self, other: &Self, dx: isize, dy: isize, step: usize) -> f32 {
        let (w, h) = (self.w as isize, self.h as isize);
        let (x0, x1) = ((-dx).max(0), (w - dx).min(w));
        let (y0, y1) = ((-dy).max(0), (h - dy).min(h));
        if x1 - x0 < w / 2 || y1 - y0 < h / 2 {
            return f32::MAX;
        }
        let (x0, x1) = (x0 as usize, x1 as usize);
        let mut sum = 0u64;
        let mut rows = 0u64;
        for y in (y0..y1).step_by(step) {
            let a = &self.data[y as usize * self.w..][x0..x1];
            let b =
                &other.data[(y + dy) as usize * self.w..][(x0 as isize + dx) as usize..][..x1 - x0];
            // Whole rows at a time, in 32-bit lanes: a row of differences fits easily.
            sum += u64::from(
                a.iter()
                    .zip(b)
                    .map(|(&p, &q)| u32::from(p.abs_diff(q)))
                    .sum::<u32>(),
            );
            rows += 1;
        }
        sum as f32 / (rows * (x1 - x0) as u64).max(1) as f32
    }
}

/// A working plane and its 2×2-averaged halvings, down to where [`MAX_MOTION`] is a few
/// pixels (or the plane is small): what [`translation`] searches.
struct Pyramid {
    levels: Vec<Work>,
}

impl Pyramid {
    fn of(work: Work) -> Self {
        let mut levels = vec![work];
        while let Some(last) = levels.last() {
            if (MAX_MOTION >> (levels.len() - 1)) <= 4 || last.w < 64 || last.h < 64 {
                break;
            }
            let next = last.halved();
            levels.push(next);
        }
        Self { levels }
    }

    fn plane(&self) -> &Work {
        &self.levels[0]
    }
}

/// The translation from `a` to `b` (where `a`'s picture at `p` is in `b` at `p + d`), in
/// whole working-plane pixels, and the mean absolute difference it leaves: a full search on
/// the coarsest level of the pyramids, refined by ±1 on each finer one.
fn translation(a: &Pyramid, b: &Pyramid) -> ((isize, isize), f32) {
    let coarsest = a.levels.len().min(b.levels.len()) - 1;
    let reach = (MAX_MOTION >> coarsest).max(2) as isize;
    let (ca, cb) = (&a.levels[coarsest], &b.levels[coarsest]);
    let mut best = (0isize, 0isize);
    let mut best_d = f32::MAX;
    for dy in -reach..=reach {
        for dx in -reach..=reach {
            let d = ca.difference(cb, dx, dy, 1);
            if d < best_d {
                (best, best_d) = ((dx, dy), d);
            }
        }
    }
    for (la, lb) in a.levels[..coarsest].iter().zip(&b.levels).rev() {
        let centre = (best.0 * 2, best.1 * 2);
        best_d = f32::MAX;
        // Rows enough for some 64k pixels tell ±1 apart as well as all of them.
        let step = (la.w * la.h).div_ceil(1 << 16).max(1);
        for dy in -1..=1 {
            for dx in -1..=1 {
                let d = la.difference(lb, centre.0 + dx, centre.1 + dy, step);
                if d < best_d {
                    (best, best_d) = ((centre.0 + dx, centre.1 + dy), d);
                }
            }
        }
    }
    (best, best_d)
}

/// Whether `motion` moves no pixel of a `w`x`h` plane by a whole pixel: such a pair tells
/// nothing.
fn moves_nothing(motion: Motion, w: usize, h: usize) -> bool {
    let (w, h) = (w as f32, h as f32);
    [(0.0, 0.0), (w, 0.0), (0.0, h), (w, h)]
        .iter()
        .all(|&(x, y)| {
            let (dx, dy) = motion.at(x, y);
            dx.abs() < 1.0 && dy.abs() < 1.0
        })
}

/// A block's centre and how far it moved (pixels of the pyramid level searched).
struct BlockMotion {
    at: (f32, f32),
    moved: (f32, f32),
}

/// Blocks across and down whose motions [`similarity`] fits.
const WARP_GRID: (usize, usize) = (8, 6);
/// Side of those blocks, and how far around the translation each is searched (pixels of
/// the pyramid level searched).
const WARP_BLOCK: usize = 16;
const WARP_REACH: isize = 6;
/// Widest pyramid level the blocks are searched on.
const WARP_WIDTH: usize = 480;
/// Fewest blocks with texture enough for a fit.
const WARP_MIN_BLOCKS: usize = 12;
/// How much less a zoom or a turn must leave of the picture's difference than the
/// translation to be taken instead.
const WARP_GAIN: f32 = 0.8;

/// The similarity from `a` to `b` that explains the picture around the translation `d` (whole
/// working-plane pixels): each of a grid of blocks is matched around it on a coarse level,
/// to a tenth of a pixel or so, and a zoom, a turn and a shift fitted to their motions, the
/// blocks that do not follow the rest (a mark, a moving object) dropped. `None` where too few
/// blocks have texture to match.
fn similarity(a: &Pyramid, b: &Pyramid, d: (isize, isize)) -> Option<Motion> {
    let level = (0..a.levels.len().min(b.levels.len()))
        .find(|&l| a.levels[l].w <= WARP_WIDTH)
        .unwrap_or(a.levels.len().min(b.levels.len()) - 1);
    let (la, lb) = (&a.levels[level], &b.levels[level]);
    let k = (1usize << level) as f32;
    let t = (
        (d.0 as f32 / k).round() as isize,
        (d.1 as f32 / k).round() as isize,
    );
    let margin = WARP_BLOCK as isize / 2 + WARP_REACH + t.0.abs().max(t.1.abs()) + 1;
    let (w, h) = (la.w as isize, la.h as isize);
    if w < 2 * margin + 2 || h < 2 * margin + 2 {
        return None;
    }
    let sad = |cx: isize, cy: isize, dx: isize, dy: isize| -> u32 {
        let half = WARP_BLOCK as isize / 2;
        let mut sum = 0u32;
        for y in cy - half..cy + half {
            let ra = &la.data[y as usize * la.w..];
            let rb = &lb.data[(y + dy) as usize * lb.w..];
            for x in cx - half..cx + half {
                sum += u32::from(ra[x as usize].abs_diff(rb[(x + dx) as usize]));
            }
        }
        sum
    };
    // Each block's motion: the best whole-pixel match, then a parabola through it and its
    // neighbours along each axis.
    let mut found: Vec<BlockMotion> = Vec::new();
    for gy in 0..WARP_GRID.1 {
        for gx in 0..WARP_GRID.0 {
            let cx = margin + (w - 2 * margin) * (2 * gx as isize + 1) / (2 * WARP_GRID.0 as isize);
            let cy = margin + (h - 2 * margin) * (2 * gy as isize + 1) / (2 * WARP_GRID.1 as isize);
            let mut costs =
                Vec::with_capacity(((2 * WARP_REACH + 1) * (2 * WARP_REACH + 1)) as usize);
            let mut best = (u32::MAX, 0, 0);
            for dy in t.1 - WARP_REACH..=t.1 + WARP_REACH {
                for dx in t.0 - WARP_REACH..=t.0 + WARP_REACH {
                    let c = sad(cx, cy, dx, dy);
                    costs.push(c);
                    if c < best.0 {
                        best = (c, dx, dy);
                    }
                }
            }
            let (c0, bx, by) = best;
            // A block without texture matches anywhere about as well.
            costs.sort_unstable();
            let typical = costs[costs.len() / 2];
            if typical < WARP_BLOCK as u32 * WARP_BLOCK as u32 * 4 || c0 * 2 > typical {
                continue;
            }
            let vertex = |minus: u32, plus: u32| {
                let (m, p, c) = (minus as f32, plus as f32, c0 as f32);
                let curve = m + p - 2.0 * c;
                if curve <= 0.0 {
                    0.0
                } else {
                    (0.5 * (m - p) / curve).clamp(-0.5, 0.5)
                }
            };
            let inner = |v: isize, reach_from: isize| (v - reach_from).abs() < WARP_REACH;
            let fx = if inner(bx, t.0) {
                vertex(sad(cx, cy, bx - 1, by), sad(cx, cy, bx + 1, by))
            } else {
                0.0
            };
            let fy = if inner(by, t.1) {
                vertex(sad(cx, cy, bx, by - 1), sad(cx, cy, bx, by + 1))
            } else {
                0.0
            };
            found.push(BlockMotion {
                at: (cx as f32, cy as f32),
                moved: (bx as f32 + fx, by as f32 + fy),
            });
        }
    }
    let c = (w as f32 / 2.0, h as f32 / 2.0);
    let mut keep = vec![true; found.len()];
    let mut fit = None;
    for _ in 0..3 {
        let used: Vec<&BlockMotion> = (found.iter().zip(&keep))
            .filter(|(_, k)| **k)
            .map(|(f, _)| f)
            .collect();
        if used.len() < WARP_MIN_BLOCKS {
            return None;
        }
        let n = used.len() as f32;
        let mean = |f: fn(&BlockMotion) -> f32| used.iter().map(|&b| f(b)).sum::<f32>() / n;
        let (pu, pv) = (mean(|b| b.at.0), mean(|b| b.at.1));
        let (du, dv) = (mean(|b| b.moved.0), mean(|b| b.moved.1));
        let (mut num_s, mut num_r, mut den) = (0.0f32, 0.0f32, 0.0f32);
        for b in &used {
            let (u, v) = (b.at.0 - pu, b.at.1 - pv);
            let (ex, ey) = (b.moved.0 - du, b.moved.1 - dv);
            num_s += u * ex + v * ey;
            num_r += u * ey - v * ex;
            den += u * u + v * v;
        }
        if den <= 0.0 {
            return None;
        }
        let (s, r) = (num_s / den, num_r / den);
        // The shift at the centre: the mean motion, less what the zoom and turn add at the
        // blocks' mean position.
        let (u, v) = (pu - c.0, pv - c.1);
        let fitted = Motion::similarity(du - (s * u - r * v), dv - (r * u + s * v), s, r, c);
        let residual = |b: &BlockMotion| {
            let (dx, dy) = fitted.at(b.at.0, b.at.1);
            (dx - b.moved.0).hypot(dy - b.moved.1)
        };
        let mut errors: Vec<f32> = used.iter().map(|&b| residual(b)).collect();
        errors.sort_by(f32::total_cmp);
        let limit = (2.5 * errors[errors.len() / 2]).max(0.5);
        for (f, k) in found.iter().zip(keep.iter_mut()) {
            *k = residual(f) <= limit;
        }
        fit = Some(fitted);
    }
    fit.map(|m| m.scaled(1.0 / k))
}

/// Mean absolute difference between `a` and `b` where `motion` moves `a`'s pixels (nearest
/// pixel), over every `step`-th row, where the moved position is inside `b`.
fn warped_difference(a: &Work, b: &Work, motion: Motion, step: usize) -> f32 {
    let (mut sum, mut n) = (0u64, 0u64);
    for y in (0..a.h).step_by(step) {
        for x in 0..a.w {
            let (mx, my) = motion.moved_to(x as f32, y as f32);
            let (mx, my) = (mx.round(), my.round());
            if mx < 0.0 || my < 0.0 || mx >= b.w as f32 || my >= b.h as f32 {
                continue;
            }
            sum += u64::from(a.data[y * a.w + x].abs_diff(b.data[my as usize * b.w + mx as usize]));
            n += 1;
        }
    }
    if n * 2 < (a.w * a.h.div_ceil(step)) as u64 {
        return f32::MAX;
    }
    sum as f32 / n as f32
}

/// Per pixel of `a`, the 3×3 mean absolute difference with `b` where they are (`still`) and
/// with `b` where `motion` moves it (`moved`, nearest pixel, clamped to the plane).
fn residuals(a: &Work, b: &Work, motion: Motion) -> (Vec<f32>, Vec<f32>) {
    let (w, h) = (a.w, a.h);
    let mut still = vec![0.0f32; w * h];
    let mut moved = vec![0.0f32; w * h];
    still
        .par_chunks_mut(w)
        .zip(moved.par_chunks_mut(w))
        .enumerate()
        .for_each(|(y, (s_row, m_row))| {
            let ra = &a.data[y * w..][..w];
            let rb = &b.data[y * w..][..w];
            for x in 0..w {
                s_row[x] = f32::from(ra[x].abs_diff(rb[x]));
                let (mx, my) = motion.moved_to(x as f32, y as f32);
                let mx = (mx.round().max(0.0) as usize).min(w - 1);
                let my = (my.round().max(0.0) as usize).min(h - 1);
                m_row[x] = f32::from(ra[x].abs_diff(b.data[my * w + mx]));
            }
        });
    (box3(&still, w, h), box3(&moved, w, h))
}

/// 3×3 box mean of `values` (`w`x`h`), clamped at the borders.
fn box3(values: &[f32], w: usize, h: usize) -> Vec<f32> {
    let mut across = vec![0.0f32; w * h];
    across.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let src = &values[y * w..][..w];
        for x in 0..w {
            row[x] = src[x.saturating_sub(1)] + src[x] + src[(x + 1).min(w - 1)];
        }
    });
    let mut out = vec![0.0f32; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let (up, mid, down) = (
            &across[y.saturating_sub(1) * w..][..w],
            &across[y * w..][..w],
            &across[(y + 1).min(h - 1) * w..][..w],
        );
        for x in 0..w {
            row[x] = (up[x] + mid[x] + down[x]) / 9.0;
        }
    });
    out
}

impl PlaceFinder {
    /// A finder for `width`x`height` luma planes.
    pub fn new(width: usize, height: usize) -> Self {
        let mut scale = 1;
        while (width / scale) * (height / scale) > WORKING_PIXELS {
            scale += 1;
        }
        Self {
            width,
            height,
            scale,
            samples: Vec::new(),
            pyramids: Vec::new(),
        }
    }

    /// Samples taken so far.
    pub fn samples(&self) -> usize {
        self.samples.len()
    }

    /// Adds a sample: frame `first` (its index and its Y, U and V planes, 4:2:0) paired with the
    /// one of `later` (frames a few on; the mark must not move in between) that the picture
    /// moved to by whole pixels most exactly. Returns whether it was used: `false` when the
    /// picture moved less than a pixel to each. Frames are known by their index (one index,
    /// one picture), so that samples close together measure a frame they share once; samples
    /// are added in the order of their first frame.
    pub fn add(
        &mut self,
        (frame, first): (u64, [Plane<'_>; 3]),
        later: &[(u64, [Plane<'_>; 3])],
    ) -> Result<bool, InpaintError> {
        for (n, p) in
            std::iter::once((frame, &first[0])).chain(later.iter().map(|(n, p)| (*n, &p[0])))
        {
            if (p.width(), p.height()) != (self.width, self.height) {
                return Err(InpaintError::SizeMismatch {
                    what: format!("frame {n} of sample {frame}"),
                    expected_width: self.width,
                    expected_height: self.height,
                    width: p.width(),
                    height: p.height(),
                });
            }
        }
        if self.width / self.scale < 8 || self.height / self.scale < 8 {
            return Ok(false);
        }
        let mut kept = std::mem::take(&mut self.pyramids);
        kept.retain(|(n, _)| *n >= frame);
        let scale = self.scale;
        let mut pyramid = |n: u64, plane: &Plane<'_>| {
            if let Some((_, p)) = kept.iter().find(|(k, _)| *k == n) {
                return p.clone();
            }
            let p = std::sync::Arc::new(Pyramid::of(Work::of(plane, scale)));
            kept.push((n, p.clone()));
            p
        };
        let a = pyramid(frame, &first[0]);
        // The later frame the picture moved to by whole pixels most exactly (a fraction of a
        // pixel left over mismatches the picture's edges as much as the mark's), the nearest
        // of those about as exact: the mark is less likely to move in between.
        let mut measured = Vec::with_capacity(later.len());
        for (k, (n, planes)) in later.iter().enumerate() {
            let b = pyramid(*n, &planes[0]);
            let (d, residual) = translation(&a, &b);
            measured.push((k, b, d, residual));
        }
        self.pyramids = kept;
        let (w, h) = (a.plane().w, a.plane().h);
        let exact = (measured.iter())
            .filter(|m| m.2 != (0, 0))
            .map(|m| m.3)
            .min_by(f32::total_cmp);
        // Where no translation moves the picture (a zoom or a turn about the middle), the
        // farthest frame, which has moved the most.
        let choice = match exact {
            Some(exact) => {
                (measured.into_iter()).find(|m| m.2 != (0, 0) && m.3 <= exact * NEAR_EXACT + 0.1)
            }
            None => measured.pop(),
        };
        let Some((k, b, d, _)) = choice else {
            return Ok(false);
        };
        // A zoom or a turn that explains the picture clearly better than the translation.
        let mut motion = Motion::new(d.0 as f32, d.1 as f32);
        if let Some(zoomed) = similarity(&a, &b, d) {
            let step = (w * h).div_ceil(1 << 16).max(1);
            let plain = warped_difference(a.plane(), b.plane(), motion, step);
            if warped_difference(a.plane(), b.plane(), zoomed, step) < WARP_GAIN * plain {
                motion = zoomed;
            }
        }
        if moves_nothing(motion, w, h) {
            return Ok(false);
        }
        let a = a.plane();
        let (later, second) = (later[k].0, &later[k].1);
        let (still, moved) = residuals(a, b.plane(), motion);
        // Where the moved frame has no counterpart (the picture entering at the edges),
        // nothing can be pinned.
        let inside = |x: usize, y: usize| {
            let (mx, my) = motion.moved_to(x as f32, y as f32);
            let border = BORDER as f32;
            let within = |v: f32, len: usize| v >= border && v + border < len as f32;
            within(x as f32, w) && within(y as f32, h) && within(mx, w) && within(my, h)
        };
        let mut pinned = Bits::new(w * h);
        let mut unchanged = Bits::new(w * h);
        for i in 0..w * h {
            if still[i] <= STILL {
                unchanged.set(i);
            }
            if moved[i] >= PINNED_RATIO * still[i] + PINNED_MARGIN && inside(i % w, i / w) {
                pinned.set(i);
            }
        }
        // A mark's colour may stand out where its brightness does not: its chroma pinned
        // pins the luma pixels it covers. A chroma pixel here is `q` working-plane pixels.
        let cs = (self.scale / 2).max(1);
        let q = (2 * cs) as f32 / self.scale as f32;
        let chroma_motion = motion.scaled(q);
        for p in 1..3 {
            let (ca, cb) = (Work::of(&first[p], cs), Work::of(&second[p], cs));
            if ca.w == 0 || ca.h == 0 {
                continue;
            }
            let (still, moved) = residuals(&ca, &cb, chroma_motion);
            for y in 0..h {
                let cy = (y * self.scale / (2 * cs)).min(ca.h - 1);
                for x in 0..w {
                    let c = cy * ca.w + (x * self.scale / (2 * cs)).min(ca.w - 1);
                    if moved[c] >= PINNED_RATIO * still[c] + PINNED_MARGIN && inside(x, y) {
                        pinned.set(y * w + x);
                    }
                }
            }
        }
        self.samples.push(Sample {
            frame,
            second: later,
            pinned,
            unchanged,
        });
        Ok(true)
    }

    /// The places found, by their first frame; empty when nothing was pinned for long.
    pub fn finish(mut self, options: &DetectOptions) -> Result<Vec<FoundPlace>, InpaintError> {
        self.samples.sort_by_key(|s| s.frame);
        let n = self.samples.len();
        let (w, h) = (self.width / self.scale, self.height / self.scale);
        if n < MIN_STAY || w == 0 || h == 0 {
            return Ok(Vec::new());
        }
        let mut hits = vec![0u16; w * h];
        for s in &self.samples {
            for (i, hit) in hits.iter_mut().enumerate() {
                *hit += u16::from(s.pinned.get(i));
            }
        }
        let need = (MIN_STAY as u16 - 1).max((n / 20) as u16);
        let candidate: Vec<u8> = hits.iter().map(|&c| u8::from(c >= need)).collect();
        let (labels, areas) = morph::components(&morph::close(&candidate, w, h, 2), w, h);
        // Per region, its pinned candidate pixels.
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); areas.len()];
        for (i, (&l, &c)) in labels.iter().zip(&candidate).enumerate() {
            if l > 0 && c != 0 {
                members[l as usize - 1].push(i);
            }
        }
        let min_region = (w * h / MIN_REGION).max(16);
        // Stays per region, as runs of sample indices, and its presence in each sample.
        let mut stays: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
        let mut presence: Vec<Vec<Presence>> = vec![Vec::new(); members.len()];
        for (region, pixels) in members.iter().enumerate() {
            if pixels.len() < min_region {
                continue;
            }
            let series: Vec<f32> = self
                .samples
                .iter()
                .map(|s| {
                    pixels.iter().filter(|&&i| s.pinned.get(i)).count() as f32 / pixels.len() as f32
                })
                .collect();
            let mut sorted = series.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let peak = sorted[(MIN_STAY - 1).min(n - 1)];
            if peak < MIN_PEAK {
                continue;
            }
            let states: Vec<Presence> = series
                .iter()
                .map(|&v| match v / peak {
                    r if r >= PRESENT => Presence::Present,
                    r if r >= ABSENT => Presence::Weak,
                    _ => Presence::Absent,
                })
                .collect();
            for run in runs(&states) {
                let present = states[run.clone()]
                    .iter()
                    .filter(|&&p| p == Presence::Present)
                    .count();
                if present >= MIN_STAY {
                    stays.push((run, region));
                }
            }
            presence[region] = states;
        }
        // Regions with about the same stay (the runs overlapping by most of their union: the
        // parts of a mark are pinned from slightly different samples on) are one place.
        stays.sort_by_key(|(run, _)| (run.start, run.end));
        let mut groups: Vec<(std::ops::Range<usize>, Vec<usize>)> = Vec::new();
        for (run, region) in stays {
            let same = groups.iter_mut().find(|(g, _)| {
                let common = run.end.min(g.end).saturating_sub(run.start.max(g.start));
                let union = run.end.max(g.end) - run.start.min(g.start);
                common as f32 >= SAME_STAY * union as f32
            });
            match same {
                Some((g, regions)) => {
                    *g = g.start.min(run.start)..g.end.max(run.end);
                    regions.push(region);
                }
                None => groups.push((run, vec![region])),
            }
        }
        // A part of a mark that shows less often (its contrast with the picture under it
        // comes and goes) joins the place it lies next to when its stay falls mostly within
        // that place's.
        let bbox = |regions: &[usize]| {
            let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0, 0);
            for &i in regions.iter().flat_map(|&r| &members[r]) {
                let (x, y) = (i % w, i / w);
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x + 1), y1.max(y + 1));
            }
            (x0, y0, x1, y1)
        };
        groups.sort_by_key(|(run, _)| std::cmp::Reverse(run.len()));
        let mut merged: Vec<(std::ops::Range<usize>, Vec<usize>)> = Vec::new();
        for (run, regions) in groups {
            let (x0, y0, x1, y1) = bbox(&regions);
            let host = merged.iter_mut().find(|(g, others)| {
                let (a0, b0, a1, b1) = bbox(others);
                let near = x0 < a1 + NEAR && a0 < x1 + NEAR && y0 < b1 + NEAR && b0 < y1 + NEAR;
                let common = run.end.min(g.end).saturating_sub(run.start.max(g.start));
                near && common as f32 >= SAME_STAY * run.len() as f32
            });
            match host {
                Some((_, others)) => others.extend(regions),
                None => merged.push((run, regions)),
            }
        }
        let mut places = Vec::new();
        for (run, regions) in merged {
            if let Some(place) = self.place(run, &regions, &members, &presence, (w, h), options)? {
                places.push(place);
            }
        }
        places.sort_by_key(|p| p.first);
        Ok(one_at_a_time(rejoin(places)?))
    }

    /// The place of `regions` during the samples `run`.
    fn place(
        &self,
        run: std::ops::Range<usize>,
        regions: &[usize],
        members: &[Vec<usize>],
        presence: &[Vec<Presence>],
        (w, h): (usize, usize),
        options: &DetectOptions,
    ) -> Result<Option<FoundPlace>, InpaintError> {
        // Where the place's largest region is clearly not: the samples its time range is
        // narrowed down between.
        let largest = regions
            .iter()
            .copied()
            .max_by_key(|&r| members[r].len())
            .unwrap_or_default();
        let states = &presence[largest];
        let during = &self.samples[run.clone()];
        let count = |i: usize, pick: fn(&Sample) -> &Bits| {
            during.iter().filter(|s| pick(s).get(i)).count() as f32
        };
        let len = during.len() as f32;
        let mut core = vec![0u8; w * h];
        let mut points = Vec::new();
        for &r in regions {
            for &i in &members[r] {
                if count(i, |s| &s.pinned) >= PLACE_PINNED * len {
                    core[i] = 1;
                    points.push(i);
                }
            }
        }
        if points.len() < (w * h / MIN_REGION).max(16) {
            return Ok(None);
        }
        // The flat inside of a mark stays unchanged while it is here: so do flat stretches of
        // the picture, so only those close to its pinned pixels count.
        let near = morph::dilate(&core, w, h, NEAR_FILL);
        let mut bits = core.clone();
        for (i, bit) in bits.iter_mut().enumerate() {
            if near[i] != 0 && count(i, |s| &s.unchanged) >= PLACE_UNCHANGED * len {
                *bit = 1;
            }
        }
        let bits = morph::close(&bits, w, h, 2);
        // Edges along the motion are never pinned, so an outline may stay open on two sides:
        // what lies between pinned pixels of the place across a row or down a column is
        // inside it.
        let bits = morph::fill_holes(&spans(&bits, w, h), w, h);
        let bits = morph::open(&bits, w, h, 1);
        // Back to full resolution.
        let s = self.scale;
        let mut full = vec![0u8; self.width * self.height];
        for y in 0..self.height {
            for x in 0..self.width {
                let (wx, wy) = ((x / s).min(w - 1), (y / s).min(h - 1));
                full[y * self.width + x] = bits[wy * w + wx];
            }
        }
        let grown = morph::dilate(&full, self.width, self.height, options.grow);
        let mask = match Mask::from_bits(self.width, self.height, &grown) {
            Ok(mask) => mask,
            Err(InpaintError::EmptyMask) => return Ok(None),
            Err(e) => return Err(e),
        };
        let step = points.len().div_ceil(MAX_POINTS).max(1);
        let points = points
            .iter()
            .step_by(step)
            .map(|&i| (i / w * s + s / 2) * self.width + (i % w) * s + s / 2)
            .collect();
        Ok(Some(FoundPlace {
            mask,
            first: self.samples[run.start].frame,
            last: self.samples[run.end - 1].second,
            before: (0..run.start)
                .rev()
                .find(|&i| states[i] == Presence::Absent)
                .map(|i| self.samples[i].frame),
            after: (run.end..states.len())
                .find(|&i| states[i] == Presence::Absent)
                .map(|i| self.samples[i].second),
            points,
        }))
    }
}

/// `bits` (`w`x`h`) with every run between two set pixels of a row, or of a column, set.
fn spans(bits: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = bits.to_vec();
    for y in 0..h {
        let row = &bits[y * w..][..w];
        if let (Some(a), Some(b)) = (
            row.iter().position(|&v| v != 0),
            row.iter().rposition(|&v| v != 0),
        ) {
            out[y * w + a..y * w + b].fill(1);
        }
    }
    for x in 0..w {
        let set = |y: usize| bits[y * w + x] != 0;
        if let (Some(a), Some(b)) = ((0..h).find(|&y| set(y)), (0..h).rev().find(|&y| set(y))) {
            for y in a..b {
                out[y * w + x] = 1;
            }
        }
    }
    out
}

/// `places` (by first frame) with the stays of a place that the mark seems to leave and come
/// back to, while no other place shows it in between, made one: it never left, the evidence
/// only faded for a while.
fn rejoin(mut places: Vec<FoundPlace>) -> Result<Vec<FoundPlace>, InpaintError> {
    'again: loop {
        for i in 0..places.len() {
            for j in i + 1..places.len() {
                let (a, b) = (&places[i], &places[j]);
                let common = a
                    .mask
                    .plane_bits(0)
                    .iter()
                    .zip(b.mask.plane_bits(0))
                    .filter(|&(&x, &y)| x & y != 0)
                    .count();
                let same = common * 2 >= a.mask.count().min(b.mask.count());
                let elsewhere = places
                    .iter()
                    .enumerate()
                    .any(|(k, m)| k != i && k != j && m.first < b.first && m.last > a.last);
                if same && !elsewhere && a.last < b.first {
                    let b = places.remove(j);
                    let a = &mut places[i];
                    a.mask = a.mask.union(&b.mask)?;
                    a.last = b.last;
                    a.after = b.after;
                    a.points.extend(b.points);
                    a.points.sort_unstable();
                    a.points.dedup();
                    continue 'again;
                }
            }
        }
        return Ok(places);
    }
}

/// Of `places` (by first frame), those a mark that is at one place at a time can be at: the
/// set of stays that do not overlap and together last longest. What overlaps them is pinned
/// for another reason (part of the picture that stays put or changes in place for a while,
/// such as a counter).
fn one_at_a_time(places: Vec<FoundPlace>) -> Vec<FoundPlace> {
    let mut order: Vec<usize> = (0..places.len()).collect();
    order.sort_by_key(|&i| places[i].last);
    let length = |i: usize| places[i].last - places[i].first + 1;
    // best[k]: the longest total over the first k places by end, and the choice made there.
    let mut best: Vec<(u64, bool)> = vec![(0, false); order.len() + 1];
    let before = |k: usize| {
        order[..k]
            .iter()
            .rposition(|&j| places[j].last < places[order[k]].first)
            .map_or(0, |p| p + 1)
    };
    for k in 0..order.len() {
        let take = best[before(k)].0 + length(order[k]);
        best[k + 1] = if take > best[k].0 {
            (take, true)
        } else {
            (best[k].0, false)
        };
    }
    let mut keep = vec![false; places.len()];
    let mut k = order.len();
    while k > 0 {
        if best[k].1 {
            keep[order[k - 1]] = true;
            k = before(k - 1);
        } else {
            k -= 1;
        }
    }
    places
        .into_iter()
        .zip(keep)
        .filter_map(|(place, kept)| kept.then_some(place))
        .collect()
}

/// How plainly a region is pinned in a sample, relative to its best samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presence {
    Present,
    /// Too few of its pixels pinned to tell (the picture under it is flat for a moment): it
    /// neither starts a stay nor ends one.
    Weak,
    Absent,
}

/// Stays: runs from the first to the last `Present` sample of maximal stretches that hold no
/// `Absent` sample, other than gaps of up to [`GAP`] between `Present` ones.
fn runs(states: &[Presence]) -> Vec<std::ops::Range<usize>> {
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    let mut absent_since: Option<usize> = None;
    for (i, &state) in states.iter().enumerate() {
        match state {
            Presence::Present => {
                match out.last_mut() {
                    Some(run) if absent_since.is_none_or(|a| i - a <= GAP) && run.end <= i => {
                        run.end = i + 1
                    }
                    _ => out.push(i..i + 1),
                }
                absent_since = None;
            }
            Presence::Weak => {}
            Presence::Absent => {
                if absent_since.is_none() {
                    absent_since = Some(i);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_bridge_short_gaps_and_weak_samples() {
        let p = |s: &str| {
            s.chars()
                .map(|c| match c {
                    '1' => Presence::Present,
                    '?' => Presence::Weak,
                    _ => Presence::Absent,
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(runs(&p("0111001100011")), vec![1..8, 11..13]);
        assert_eq!(runs(&p("000")), Vec::<std::ops::Range<usize>>::new());
        // Weak samples neither end a stay nor start one.
        assert_eq!(runs(&p("?11??????11?")), vec![1..11]);
        assert_eq!(runs(&p("11000?011")), vec![0..2, 7..9]);
    }

    #[test]
    fn a_mark_is_at_one_place_at_a_time() {
        let place = |first: u64, last: u64| FoundPlace {
            mask: Mask::from_rect(
                crate::Rect {
                    x: 0,
                    y: 0,
                    width: 8,
                    height: 8,
                },
                64,
                64,
            )
            .unwrap(),
            first,
            last,
            before: None,
            after: None,
            points: Vec::new(),
        };
        let spans = |places: Vec<FoundPlace>| {
            one_at_a_time(places)
                .iter()
                .map(|p| (p.first, p.last))
                .collect::<Vec<_>>()
        };
        // A mark that stays put while something else is pinned for a while: only the mark.
        assert_eq!(
            spans(vec![place(0, 79), place(0, 18), place(68, 74)]),
            vec![(0, 79)]
        );
        // One that moves: every stay, and not what overlaps two of them.
        assert_eq!(
            spans(vec![
                place(0, 29),
                place(25, 40),
                place(30, 54),
                place(55, 74)
            ]),
            vec![(0, 29), (30, 54), (55, 74)]
        );
        assert_eq!(spans(Vec::new()), Vec::<(u64, u64)>::new());
    }

    /// A working plane of a smooth-edged texture seen through `motion` (what the first frame
    /// shows at `p`, this one shows where `motion` takes `p`), as the second frame of a pair.
    fn warped_texture(w: usize, h: usize, motion: Motion) -> Pyramid {
        // Value noise: random levels on a lattice 4 pixels apart, bilinear between them.
        let lattice = |i: i64, j: i64| {
            let k = (i.wrapping_mul(73_856_093) ^ j.wrapping_mul(19_349_663)) as u64;
            (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as f32
        };
        let texture = |x: f32, y: f32| {
            let (x, y) = (x / 4.0 + 100.0, y / 4.0 + 100.0);
            let (i, j) = (x.floor(), y.floor());
            let (fx, fy) = (x - i, y - j);
            let (i, j) = (i as i64, j as i64);
            let top = lattice(i, j) * (1.0 - fx) + lattice(i + 1, j) * fx;
            let bottom = lattice(i, j + 1) * (1.0 - fx) + lattice(i + 1, j + 1) * fx;
            top * (1.0 - fy) + bottom * fy
        };
        // The inverse of a small motion, to a few hundredths of a pixel: fixed-point steps.
        let source = |x: f32, y: f32| {
            let (mut sx, mut sy) = (x, y);
            for _ in 0..4 {
                let (mx, my) = motion.moved_to(sx, sy);
                (sx, sy) = (sx + x - mx, sy + y - my);
            }
            (sx, sy)
        };
        let data = (0..w * h)
            .map(|i| {
                let (sx, sy) = source((i % w) as f32, (i / w) as f32);
                texture(sx, sy).round().clamp(0.0, 255.0) as u8
            })
            .collect();
        Pyramid::of(Work { w, h, data })
    }

    #[test]
    fn a_zoom_and_a_turn_are_fitted_from_block_motions() {
        let (w, h) = (640, 360);
        let c = (w as f32 / 2.0, h as f32 / 2.0);
        let a = warped_texture(w, h, Motion::new(0.0, 0.0));
        for truth in [
            Motion::similarity(0.0, 0.0, 0.02, 0.0, c),
            Motion::similarity(3.0, -2.0, 0.0, 0.015, c),
        ] {
            let b = warped_texture(w, h, truth);
            let (d, _) = translation(&a, &b);
            let found = similarity(&a, &b, d).expect("texture enough");
            // Within a pixel everywhere on the plane.
            for (x, y) in [
                (0.0, 0.0),
                (w as f32, 0.0),
                (0.0, h as f32),
                (w as f32, h as f32),
                c,
            ] {
                let (fx, fy) = found.at(x, y);
                let (tx, ty) = truth.at(x, y);
                assert!(
                    (fx - tx).hypot(fy - ty) < 1.0,
                    "{truth:?}: found {found:?}, at ({x}, {y}) off by ({}, {})",
                    fx - tx,
                    fy - ty
                );
            }
            let step = 1;
            let plain = warped_difference(
                a.plane(),
                b.plane(),
                Motion::new(d.0 as f32, d.1 as f32),
                step,
            );
            let zoomed = warped_difference(a.plane(), b.plane(), found, step);
            assert!(zoomed < WARP_GAIN * plain, "{zoomed} against {plain}");
        }
    }

    /// A place of a 40x20 block at (40, 40) on a 200x120 frame, and what stays still: `extra`
    /// rectangles `(x, y, w, h)` beside the block itself.
    fn place_and_still(extra: &[(usize, usize, usize, usize)]) -> (FoundPlace, Mask) {
        let (w, h) = (200, 120);
        let rect = |bits: &mut [u8], (x0, y0, rw, rh): (usize, usize, usize, usize)| {
            for y in y0..y0 + rh {
                bits[y * w + x0..y * w + x0 + rw].fill(1);
            }
        };
        let mut bits = vec![0u8; w * h];
        rect(&mut bits, (40, 40, 40, 20));
        let place = FoundPlace {
            mask: Mask::from_bits(w, h, &bits).unwrap(),
            first: 0,
            last: 10,
            before: None,
            after: None,
            points: Vec::new(),
        };
        for &r in extra {
            rect(&mut bits, r);
        }
        (place, Mask::from_bits(w, h, &bits).unwrap())
    }

    #[test]
    fn a_mark_that_stays_takes_a_part_further_off_but_not_still_picture() {
        // A thin bar running on from the block, 24 pixels past it: part of the same mark.
        let (mut place, still) = place_and_still(&[(80, 52, 24, 4)]);
        place.add(&still, true).unwrap();
        assert_eq!(place.mask.count(), 40 * 20 + 24 * 4);
        assert!(place.mask.contains(103, 53));
        // Only the 8 pixels of it next to the place, for a place of a mark that moves.
        let (mut place, still) = place_and_still(&[(80, 52, 24, 4)]);
        place.add(&still, false).unwrap();
        assert_eq!(place.mask.count(), 40 * 20 + 8 * 4);
        // Still picture over much of the frame, touching the block: only what lies next to it.
        let (mut place, still) = place_and_still(&[(80, 0, 60, 120)]);
        place.add(&still, true).unwrap();
        assert!(place.mask.contains(87, 50) && !place.mask.contains(88, 50));
        assert!(!place.mask.contains(84, 10) && !place.mask.contains(130, 50));
    }
}
