//! Motion of the background around the mark, between two frames.
//!
//! The mark stays put while the picture moves, so a masked pixel's background is often in plain
//! view in another frame, displaced by the camera's motion. The model is a translation per
//! frame pair, or a similarity (a zoom or a slight rotation as well, about the mark's centre)
//! where that explains the picture clearly better, measured on luma in a band around the mask
//! (the mask itself, grown by a safety margin, is left out). The ring check below rejects the
//! pairs that neither explains.
//!
//! - Between consecutive frames, a coarse-to-fine block match (mean absolute difference over a
//!   pyramid, full search at the coarsest level, ±1 refinement at each finer one) finds the
//!   integer translation within `max_motion` pixels.
//! - For any pair of frames, the consecutive motions composed are refined directly at full
//!   resolution: ±1 pixel, re-centred while the minimum moves, then to sub-pixel precision by
//!   Lucas-Kanade (Gauss-Newton) steps; fractions within 1/16 of a whole pixel snap to it, so
//!   that a whole-pixel motion copies pixels instead of interpolating them. A similarity is
//!   fitted the same way (four unknowns, robustly weighted) and kept when it explains the ring
//!   clearly better than the translation (by 5% and by a level): a zoom's displacement grows
//!   across the mark, which no single translation follows between frames far apart.
//! - Every pair is scored by the mean absolute difference over a thin ring just outside the
//!   mask, after compensation: the background the fill will copy sits right inside that ring.
//!
//! All of it works on the frames cropped to the working region (`region.rs`).
//!
//! Convention: a [`Motion`] from frame `t` to frame `s` means the background at `p` in `t` is
//! at `p + motion.at(p)` in `s`.

use crate::mask::{Bounds, Mask};
use crate::morph;
use crate::region::Region;
use crate::sampling::Blocked;

/// The background's displacement from one frame to another: a translation, or a similarity (a
/// zoom or a rotation as well) about a centre. Pixel `p` moves by `(dx, dy) + L (p - c)`, with
/// `L = [a -b; b a]` (scale `s` and angle `θ`: `a = s cos θ - 1`, `b = s sin θ`) and `c` the
/// centre, in plane coordinates. A translation has `a = b = 0`; for one, the centre is
/// immaterial.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Motion {
    /// The displacement at the centre.
    pub dx: f32,
    pub dy: f32,
    /// The linear part.
    pub a: f32,
    pub b: f32,
    /// The centre (plane coordinates).
    pub cx: f32,
    pub cy: f32,
}

impl Motion {
    /// A translation by (`dx`, `dy`).
    pub fn new(dx: f32, dy: f32) -> Self {
        Self {
            dx,
            dy,
            ..Self::default()
        }
    }

    /// A similarity: displacement (`dx`, `dy`) at `centre`, linear part (`a`, `b`).
    pub fn similarity(dx: f32, dy: f32, a: f32, b: f32, (cx, cy): (f32, f32)) -> Self {
        Self {
            dx,
            dy,
            a,
            b,
            cx,
            cy,
        }
    }

    /// Whether every pixel moves alike.
    #[inline]
    pub fn is_translation(self) -> bool {
        self.a == 0.0 && self.b == 0.0
    }

    /// The displacement of the pixel at (`x`, `y`) (plane coordinates).
    #[inline(always)]
    pub fn at(self, x: f32, y: f32) -> (f32, f32) {
        let (qx, qy) = (x - self.cx, y - self.cy);
        (
            self.dx + self.a * qx - self.b * qy,
            self.dy + self.b * qx + self.a * qy,
        )
    }

    /// Where the pixel at (`x`, `y`) moves to (plane coordinates).
    #[inline(always)]
    pub fn moved_to(self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = self.at(x, y);
        (x + dx, y + dy)
    }

    /// The same motion on a plane subsampled by two.
    pub fn halved(self) -> Self {
        self.scaled(2.0)
    }

    /// The same motion on a plane whose pixels are `k` of these.
    pub fn scaled(self, k: f32) -> Self {
        Self {
            dx: self.dx / k,
            dy: self.dy / k,
            cx: self.cx / k,
            cy: self.cy / k,
            ..self
        }
    }

    /// This motion followed by `other` (with either one's centre).
    pub fn add(self, other: Self) -> Self {
        let (cx, cy) = if self.is_translation() {
            (other.cx, other.cy)
        } else {
            (self.cx, self.cy)
        };
        let first = self.at(cx, cy);
        let then = other.at(cx + first.0, cy + first.1);
        // L = L1 + L2 + L2 L1, a similarity again.
        let (a1, b1, a2, b2) = (self.a, self.b, other.a, other.b);
        Self {
            dx: first.0 + then.0,
            dy: first.1 + then.1,
            a: a1 + a2 + (a2 * a1 - b2 * b1),
            b: b1 + b2 + (a2 * b1 + b2 * a1),
            cx,
            cy,
        }
    }

    /// The motion back.
    pub fn neg(self) -> Self {
        if self.is_translation() {
            return Self::new(-self.dx, -self.dy);
        }
        // The inverse of I + L is [p b; -b p] / (p² + b²), with p = 1 + a.
        let p = 1.0 + self.a;
        let n = p * p + self.b * self.b;
        let (ia, ib) = (p / n, -self.b / n);
        Self {
            dx: -(ia * self.dx - ib * self.dy),
            dy: -(ib * self.dx + ia * self.dy),
            a: ia - 1.0,
            b: ib,
            ..self
        }
    }

    /// How far from whole pixels: the larger fractional distance of the components (0 to 0.5);
    /// 0.5 for a zoom or a rotation, which never copies pixels as they are.
    pub fn off_grid(self) -> f32 {
        if !self.is_translation() {
            return 0.5;
        }
        (self.dx - self.dx.round())
            .abs()
            .max((self.dy - self.dy.round()).abs())
    }

    /// Less than half a pixel either way, and no zoom or rotation to speak of: too little to
    /// reveal anything.
    pub fn within_half_pixel(self) -> bool {
        self.within(0.5)
    }

    /// Less than an eighth of a pixel either way, and no zoom or rotation to speak of: no
    /// motion.
    pub fn is_still(self) -> bool {
        self.within(0.125)
    }

    /// Less than `pixels` either way at the centre, and a linear part under [`STILL_LINEAR`].
    fn within(self, pixels: f32) -> bool {
        self.dx.abs() < pixels
            && self.dy.abs() < pixels
            && self.a.abs() < STILL_LINEAR
            && self.b.abs() < STILL_LINEAR
    }
}

/// A linear part this small moves a pixel 64 pixels from the centre by under an eighth of a
/// pixel.
const STILL_LINEAR: f32 = 1.0 / 512.0;

/// A measured motion and how well it explains the ring around the mask.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Match {
    pub motion: Motion,
    /// Mean absolute luma difference over the ring after compensation.
    pub residual: f32,
}

/// A luma pyramid of one frame's working region.
pub(crate) struct LumaPyramid {
    levels: Vec<Vec<u8>>,
}

/// One level of the motion search geometry.
struct LevelGeometry {
    w: usize,
    h: usize,
    /// Points to match at this level.
    points: Vec<(u32, u32)>,
    /// 1 where the level's pixel touches the (grown) mask.
    blocked: Vec<u8>,
}

/// Everything about motion search that depends only on the mask: where to look, what to skip.
/// Coordinates are those of the luma plane cropped to the working [`Region`].
pub(crate) struct MotionSearch {
    region: Region,
    /// Size of the luma crop.
    w: usize,
    h: usize,
    levels: Vec<LevelGeometry>,
    /// The mask grown by a safety margin (excluded from matching), crop-sized.
    blocked: Blocked,
    /// Full-resolution matching points (a sparse grid over the band), with the luma gradient
    /// direction unknown until a frame is given.
    points: Vec<(u32, u32)>,
    /// Fewer of them for refining a guess (two unknowns need few equations).
    fine_points: Vec<(u32, u32)>,
    /// Ring just outside the mask (thinned to a bounded count).
    ring: Vec<(u32, u32)>,
    /// The ring's bounds.
    ring_bounds: Option<Bounds>,
    max_motion: usize,
    /// Plane coordinates of the crop's top-left pixel.
    origin: (f32, f32),
    /// The centre of a zoom or rotation: the middle of the mask's bounds (plane coordinates).
    centre: (f32, f32),
    /// Half the diagonal of the band: the similarity fit's unit of distance.
    radius: f32,
    /// The translation's residual (levels) from which a similarity is tried between
    /// consecutive frames (see [`Self::links_similar_from`]).
    links_similar_from: f32,
}

/// Whether `n` of `total` points is enough to judge a displacement: an eighth of them (large
/// motions between distant frames push much of the band out of the region), and at least 32.
fn enough(n: usize, total: usize) -> bool {
    n * 8 >= total && n >= 32.min(total.max(1))
}

/// The stricter rule of the coarse search between consecutive frames, whose motion stays
/// within the region's margin: half the points, so that a few chance matches cannot win.
fn enough_coarse(n: usize, total: usize) -> bool {
    n * 2 >= total && n >= 8.min(total.max(1))
}

/// Pixels of the matching band beyond the mask's bounding box.
const MATCH_MARGIN: usize = 32;
/// Mask growth kept out of matching (soft edges, chroma bleed, compression halos).
const SAFETY: usize = 2;
/// Width of the ring that judges a match.
const RING: usize = 6;
/// Coarsest-level candidates followed down to full resolution.
const COARSE_CANDIDATES: usize = 3;
/// Most points used for full-resolution matching and for the ring.
const MAX_POINTS: usize = 4096;
/// Fractions of a pixel closer than this to a whole pixel are snapped to it (a copy beats an
/// interpolation).
const SNAP: f32 = 1.0 / 16.0;

/// Gauss-Newton steps of the similarity fit.
const SIMILARITY_STEPS: usize = 6;
/// Largest linear part a similarity may have: a zoom by a quarter between two frames.
const MAX_LINEAR: f32 = 0.25;
/// Least displacement a similarity's linear part makes at the band's edge (pixels) to count.
const MIN_REACH: f32 = 0.25;
/// How much better than the translation a similarity must explain the ring to be taken, as a
/// share of the translation's residual and in levels: a translation copies whole pixels where
/// it can, and a zoom fitted to noise, or to a picture that changes as well as moves (its
/// colours cycling, say), is no zoom. A real zoom or turn between frames far apart leaves a
/// translation several levels off on any texture.
const SIMILARITY_GAIN: f32 = 0.05;
const SIMILARITY_LEVELS: f32 = 1.0;

/// Solves `h x = g` for a symmetric 4x4 `h` (Gaussian elimination, partial pivoting); `None`
/// when it is (nearly) singular.
fn solve4(mut h: [[f64; 4]; 4], mut g: [f64; 4]) -> Option<[f64; 4]> {
    let scale = (0..4).map(|i| h[i][i].abs()).fold(0.0, f64::max);
    for col in 0..4 {
        let pivot = (col..4).max_by(|&i, &j| h[i][col].abs().total_cmp(&h[j][col].abs()))?;
        if h[pivot][col].abs() <= 1e-9 * scale {
            return None;
        }
        h.swap(col, pivot);
        g.swap(col, pivot);
        let pivot = h[col];
        for row in col + 1..4 {
            let f = h[row][col] / pivot[col];
            for (cell, &p) in h[row][col..].iter_mut().zip(&pivot[col..]) {
                *cell -= f * p;
            }
            g[row] -= f * g[col];
        }
    }
    let mut x = [0.0; 4];
    for row in (0..4).rev() {
        let rest: f64 = (row + 1..4).map(|k| h[row][k] * x[k]).sum();
        x[row] = (g[row] - rest) / h[row][row];
    }
    Some(x)
}

/// Keeps about `max` of `points`, evenly spread.
fn thin(points: Vec<(u32, u32)>, max: usize) -> Vec<(u32, u32)> {
    if points.len() <= max {
        return points;
    }
    let step = points.len() as f64 / max as f64;
    (0..max)
        .map(|i| points[(i as f64 * step) as usize])
        .collect()
}

impl MotionSearch {
    /// The working region of a search for `mask` up to `max_motion` pixels per frame: the
    /// mask's bounds grown by the reach of a match.
    pub fn region_for(mask: &Mask, max_motion: usize) -> Region {
        Region::new(mask, MATCH_MARGIN + 2 * max_motion)
    }

    /// Sets up the search for `mask`, for translations up to `max_motion` pixels per frame.
    pub fn new(mask: &Mask, max_motion: usize) -> Self {
        let region = Self::region_for(mask, max_motion);
        let r = region.bounds(0);
        let (w, h) = region.size(0);
        let bits = region.crop_plane(0, mask.plane_bits(0), mask.width());
        let blocked = morph::dilate(&bits, w, h, SAFETY);
        let outer = morph::dilate(&bits, w, h, SAFETY + RING);
        let bounds = mask.bounds();
        // The band, in crop coordinates.
        let band = Bounds {
            x0: bounds.x0.saturating_sub(MATCH_MARGIN).max(r.x0) - r.x0,
            y0: bounds.y0.saturating_sub(MATCH_MARGIN).max(r.y0) - r.y0,
            x1: (bounds.x1 + MATCH_MARGIN).min(r.x1) - r.x0,
            y1: (bounds.y1 + MATCH_MARGIN).min(r.y1) - r.y0,
        };
        let in_band =
            |x: usize, y: usize| x >= band.x0 && x < band.x1 && y >= band.y0 && y < band.y1;

        let mut ring = Vec::new();
        let mut band_points = Vec::new();
        for y in band.y0..band.y1 {
            for x in band.x0..band.x1 {
                let i = y * w + x;
                if blocked[i] == 0 {
                    if outer[i] != 0 {
                        ring.push((x as u32, y as u32));
                    }
                    // Interior points only: the gradient needs both neighbours.
                    if x > 0 && y > 0 && x + 1 < w && y + 1 < h {
                        band_points.push((x as u32, y as u32));
                    }
                }
            }
        }

        // Level geometry: level 0 is the region at full resolution; a coarse pixel is blocked
        // when any of its fine pixels is, and matched when it lies in the band.
        let mut levels = Vec::new();
        let (mut lw, mut lh) = (w, h);
        let mut level_blocked = blocked.clone();
        let mut scale = 1;
        loop {
            let mut pts = Vec::new();
            for y in 0..lh {
                for x in 0..lw {
                    if in_band(x * scale, y * scale) && level_blocked[y * lw + x] == 0 {
                        pts.push((x as u32, y as u32));
                    }
                }
            }
            levels.push(LevelGeometry {
                w: lw,
                h: lh,
                points: pts,
                blocked: level_blocked.clone(),
            });
            if (max_motion >> (levels.len() - 1)) <= 3 || lw < 32 || lh < 32 {
                break;
            }
            let (cw, ch) = (lw.div_ceil(2), lh.div_ceil(2));
            let mut coarse = vec![0u8; cw * ch];
            for y in 0..lh {
                for x in 0..lw {
                    coarse[(y / 2) * cw + x / 2] |= level_blocked[y * lw + x];
                }
            }
            (lw, lh, level_blocked, scale) = (cw, ch, coarse, scale * 2);
        }
        Self {
            region,
            w,
            h,
            levels,
            blocked: Blocked::new(blocked, w, h),
            fine_points: thin(band_points.clone(), MAX_POINTS / 4),
            points: thin(band_points, MAX_POINTS),
            ring_bounds: Bounds::of_points(ring.iter().copied()),
            ring: thin(ring, MAX_POINTS / 2),
            max_motion,
            origin: (r.x0 as f32, r.y0 as f32),
            centre: (
                (bounds.x0 + bounds.x1) as f32 * 0.5,
                (bounds.y0 + bounds.y1) as f32 * 0.5,
            ),
            radius: 0.5 * (band.width() as f32).hypot(band.height() as f32).max(1.0),
            links_similar_from: 0.0,
        }
    }

    /// Between consecutive frames, tries a similarity only where the translation explains the
    /// ring worse than `levels`. For a mark's estimate: pairs of frames far apart start from
    /// the consecutive motions composed, and pairs that move by (nearly) whole pixels are
    /// chosen for their exact samples; a zoom in one link makes every composition through it
    /// a zoom, which never copies pixels. A real zoom still shows between frames far apart,
    /// where the pair's own refinement finds it.
    pub fn links_similar_from(mut self, levels: f32) -> Self {
        self.links_similar_from = levels;
        self
    }

    /// The working region (the crops this search expects).
    pub fn region(&self) -> &Region {
        &self.region
    }

    /// The pyramid of a luma crop.
    pub fn pyramid(&self, luma: &[u8]) -> LumaPyramid {
        let mut levels: Vec<Vec<u8>> = Vec::with_capacity(self.levels.len());
        levels.push(luma.to_vec());
        for l in 1..self.levels.len() {
            let (fw, fh) = (self.levels[l - 1].w, self.levels[l - 1].h);
            let (w, h) = (self.levels[l].w, self.levels[l].h);
            let fine = &levels[l - 1];
            let mut coarse = vec![0u8; w * h];
            for y in 0..h {
                for x in 0..w {
                    let (x1, y1) = ((2 * x + 1).min(fw - 1), (2 * y + 1).min(fh - 1));
                    let s = u32::from(fine[2 * y * fw + 2 * x])
                        + u32::from(fine[2 * y * fw + x1])
                        + u32::from(fine[y1 * fw + 2 * x])
                        + u32::from(fine[y1 * fw + x1]);
                    coarse[y * w + x] = ((s + 2) / 4) as u8;
                }
            }
            levels.push(coarse);
        }
        LumaPyramid { levels }
    }

    /// Mean absolute difference at pyramid level `l` for integer displacement (`dx`, `dy`), or
    /// `None` when too few points can be compared (`coarse`: by the stricter rule).
    fn level_cost(
        &self,
        l: usize,
        a: &[u8],
        b: &[u8],
        dx: isize,
        dy: isize,
        coarse: bool,
    ) -> Option<f32> {
        let g = &self.levels[l];
        // Full resolution: the sparse grid, or sparser still when refining a guess.
        let points = match (l, coarse) {
            (0, true) => &self.points,
            (0, false) => &self.fine_points,
            _ => &g.points,
        };
        let (mut sum, mut n) = (0u64, 0usize);
        for &(x, y) in points {
            let (qx, qy) = (x as isize + dx, y as isize + dy);
            if qx < 0 || qy < 0 || qx >= g.w as isize || qy >= g.h as isize {
                continue;
            }
            let q = qy as usize * g.w + qx as usize;
            if g.blocked[q] != 0 {
                continue;
            }
            sum += u64::from(a[y as usize * g.w + x as usize].abs_diff(b[q]));
            n += 1;
        }
        let ok = if coarse {
            enough_coarse(n, points.len())
        } else {
            enough(n, points.len())
        };
        ok.then(|| sum as f32 / n as f32)
    }

    /// Integer translation from frame `a` to frame `b`, searched coarse to fine. The best few
    /// candidates of the coarsest level are each followed down (a coarse level can alias
    /// fine texture), and the one matching best at full resolution wins.
    pub fn coarse_to_fine(&self, a: &LumaPyramid, b: &LumaPyramid) -> Option<Motion> {
        let top = self.levels.len() - 1;
        let range = (self.max_motion >> top) as isize + 1;
        let mut candidates: Vec<(f32, isize, isize)> = Vec::new();
        for dy in -range..=range {
            for dx in -range..=range {
                if let Some(c) = self.level_cost(top, &a.levels[top], &b.levels[top], dx, dy, true)
                {
                    // Ties go to the smaller motion.
                    candidates.push((c + 1e-3 * (dx.abs() + dy.abs()) as f32, dx, dy));
                }
            }
        }
        candidates.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut best: Option<(f32, isize, isize)> = None;
        for &(_, mut dx, mut dy) in candidates.iter().take(COARSE_CANDIDATES) {
            let mut cost = None;
            for l in (0..top).rev() {
                (dx, dy) = (dx * 2, dy * 2);
                let mut local: Option<(f32, isize, isize)> = None;
                for ey in -1..=1 {
                    for ex in -1..=1 {
                        if let Some(c) =
                            self.level_cost(l, &a.levels[l], &b.levels[l], dx + ex, dy + ey, true)
                            && local.is_none_or(|(bc, _, _)| c < bc)
                        {
                            local = Some((c, dx + ex, dy + ey));
                        }
                    }
                }
                let Some((c, x, y)) = local else { break };
                (cost, dx, dy) = (Some(c), x, y);
            }
            if top == 0 {
                cost = self.level_cost(0, &a.levels[0], &b.levels[0], dx, dy, true);
            }
            if let Some(c) = cost
                && best.is_none_or(|(bc, _, _)| c < bc)
            {
                best = Some((c, dx, dy));
            }
        }
        best.map(|(_, dx, dy)| Motion::new(dx as f32, dy as f32))
    }

    /// Where crop pixel (`x`, `y`) of one frame is in the other's crop, moved by `motion`.
    #[inline]
    fn moved(&self, x: u32, y: u32, motion: Motion) -> (f32, f32) {
        let (x, y) = (x as f32, y as f32);
        let (dx, dy) = motion.at(x + self.origin.0, y + self.origin.1);
        (x + dx, y + dy)
    }

    /// Mean absolute difference over the ring after compensating `motion`.
    fn ring_residual(&self, a: &[u8], b: &[u8], motion: Motion) -> Option<f32> {
        let (mut sum, mut n) = (0.0f32, 0usize);
        if motion.is_translation() && motion.dx.fract() == 0.0 && motion.dy.fract() == 0.0 {
            // Whole pixels, read as they are: what `sample` returns there.
            let (dx, dy) = (motion.dx as isize, motion.dy as isize);
            let moved_inside = self.ring_bounds.is_some_and(|r| {
                let (x0, y0) = (r.x0 as isize + dx, r.y0 as isize + dy);
                let (x1, y1) = (r.x1 as isize + dx, r.y1 as isize + dy);
                x0 >= 0 && y0 >= 0 && x1 <= self.w as isize && y1 <= self.h as isize
            });
            if moved_inside {
                // Every moved point is inside the crop: one offset, and only the mark hides.
                let offset = dy * self.w as isize + dx;
                for &(x, y) in &self.ring {
                    let i = y as usize * self.w + x as usize;
                    let moved = i.wrapping_add_signed(offset);
                    if !self.blocked.at_index(moved) {
                        sum += (f32::from(a[i]) - f32::from(b[moved])).abs();
                        n += 1;
                    }
                }
                return enough(n, self.ring.len()).then(|| sum / n as f32);
            }
            for &(x, y) in &self.ring {
                let (sx, sy) = (x as isize + dx, y as isize + dy);
                if self.blocked.clear_pixel(sx, sy) {
                    let v = f32::from(b[sy as usize * self.w + sx as usize]);
                    sum += (f32::from(a[y as usize * self.w + x as usize]) - v).abs();
                    n += 1;
                }
            }
            return enough(n, self.ring.len()).then(|| sum / n as f32);
        }
        for &(x, y) in &self.ring {
            let (sx, sy) = self.moved(x, y, motion);
            let Some(v) = self.blocked.sample_clear(b, sx, sy) else {
                continue;
            };
            sum += (f32::from(a[y as usize * self.w + x as usize]) - v).abs();
            n += 1;
        }
        enough(n, self.ring.len()).then(|| sum / n as f32)
    }

    /// One matching point's part in a Gauss-Newton step towards aligning `b` to `a` under `m`:
    /// `a`'s luma gradient at (`x`, `y`), how far `b` at the moved place is from `a` there, and
    /// the weight of that difference; `None` where the moved place is not clear of the mask.
    #[inline]
    fn step_term(
        &self,
        a: &[u8],
        b: &[u8],
        x: u32,
        y: u32,
        m: Motion,
    ) -> Option<(f64, f64, f64, f64)> {
        let (sx, sy) = self.moved(x, y, m);
        let v = self.blocked.sample_clear(b, sx, sy)?;
        let w = self.w;
        let i = y as usize * w + x as usize;
        let gx = 0.5 * (f64::from(a[i + 1]) - f64::from(a[i - 1]));
        let gy = 0.5 * (f64::from(a[i + w]) - f64::from(a[i - w]));
        let e = f64::from(v) - f64::from(a[i]);
        // Large differences are occlusions or noise spikes: weigh them down (Huber).
        let weight = if e.abs() > 16.0 { 16.0 / e.abs() } else { 1.0 };
        Some((gx, gy, e, weight))
    }

    /// Gauss-Newton (Lucas-Kanade) steps from `start` to the sub-pixel translation that best
    /// aligns `b` to `a` over the matching points, at most one pixel away.
    fn lucas_kanade(&self, a: &[u8], b: &[u8], start: Motion) -> Motion {
        let mut d = start;
        for _ in 0..4 {
            let (mut sxx, mut sxy, mut syy, mut ex, mut ey, mut n) =
                (0.0f64, 0.0, 0.0, 0.0, 0.0, 0usize);
            for &(x, y) in &self.fine_points {
                let Some((gx, gy, e, weight)) = self.step_term(a, b, x, y, d) else {
                    continue;
                };
                sxx += weight * gx * gx;
                sxy += weight * gx * gy;
                syy += weight * gy * gy;
                ex += weight * gx * e;
                ey += weight * gy * e;
                n += 1;
            }
            let det = sxx * syy - sxy * sxy;
            if !enough(n, self.fine_points.len()) || det <= 1e-6 * (sxx + syy).powi(2) {
                break;
            }
            let step_x = -(syy * ex - sxy * ey) / det;
            let step_y = -(sxx * ey - sxy * ex) / det;
            d = Motion::new(
                (d.dx + step_x as f32).clamp(start.dx - 1.0, start.dx + 1.0),
                (d.dy + step_y as f32).clamp(start.dy - 1.0, start.dy + 1.0),
            );
            if step_x.abs() < 0.01 && step_y.abs() < 0.01 {
                break;
            }
        }
        let snap = |v: f32| {
            if (v - v.round()).abs() < SNAP {
                v.round()
            } else {
                v
            }
        };
        Motion::new(snap(d.dx), snap(d.dy))
    }

    /// Gauss-Newton steps from `start` to the similarity (a translation with a zoom and a
    /// rotation about the mark's centre) that best aligns `b` to `a` over the matching points;
    /// `None` when the points do not pin it down or it strays beyond a plausible zoom.
    fn similarity_fit(&self, a: &[u8], b: &[u8], start: Motion) -> Option<Motion> {
        let r = f64::from(self.radius);
        let (cx, cy) = self.centre;
        let at_centre = start.at(cx, cy);
        let mut m = Motion::similarity(at_centre.0, at_centre.1, start.a, start.b, self.centre);
        for _ in 0..SIMILARITY_STEPS {
            // Normal equations in (dx, dy, a·r, b·r): all four in pixels at the band's edge.
            let (mut h, mut g, mut n) = ([[0.0f64; 4]; 4], [0.0f64; 4], 0usize);
            for &(x, y) in &self.points {
                let Some((gx, gy, e, weight)) = self.step_term(a, b, x, y, m) else {
                    continue;
                };
                let qx = (f64::from(x) + f64::from(self.origin.0) - f64::from(cx)) / r;
                let qy = (f64::from(y) + f64::from(self.origin.1) - f64::from(cy)) / r;
                let j = [gx, gy, gx * qx + gy * qy, gy * qx - gx * qy];
                for (row, &jr) in h.iter_mut().zip(&j) {
                    for (cell, &jc) in row.iter_mut().zip(&j) {
                        *cell += weight * jr * jc;
                    }
                }
                for (gk, &jk) in g.iter_mut().zip(&j) {
                    *gk += weight * jk * e;
                }
                n += 1;
            }
            if !enough(n, self.points.len()) {
                return None;
            }
            let step = solve4(h, g)?;
            m.dx -= step[0] as f32;
            m.dy -= step[1] as f32;
            m.a -= (step[2] / r) as f32;
            m.b -= (step[3] / r) as f32;
            if step.iter().all(|s| s.abs() < 0.01) {
                break;
            }
        }
        // A zoom that moves the band's edge by less than a fraction of a pixel is noise.
        let reach = m.a.abs().max(m.b.abs()) * self.radius;
        (m.a.abs() <= MAX_LINEAR && m.b.abs() <= MAX_LINEAR && reach >= MIN_REACH).then_some(m)
    }

    /// The motion between consecutive frames `a` and `b` (luma crops). Cameras mostly keep
    /// their motion, so the previous pair's (`last`) is refined first and taken when it
    /// explains the ring to within `tolerance` levels; otherwise (a first frame, a change of
    /// motion, a cut) the full coarse-to-fine search runs, then the refinement.
    pub fn consecutive(
        &self,
        a: &[u8],
        b: &[u8],
        last: Option<Motion>,
        tolerance: f32,
    ) -> Option<Match> {
        last.and_then(|m| self.refine_from(a, b, m, self.links_similar_from))
            .filter(|m| m.residual <= tolerance)
            .or_else(|| {
                let guess = self.coarse_to_fine(&self.pyramid(a), &self.pyramid(b))?;
                self.refine_from(a, b, guess, self.links_similar_from)
            })
    }

    /// `guess` itself when it is a whole-pixel motion (within [`SNAP`]) that explains the ring
    /// around the mark to within `tolerance` levels: a copy that good leaves nothing for a
    /// search to improve, and checking it costs one pass over the ring instead of a search.
    pub fn confirm(&self, a: &[u8], b: &[u8], guess: Motion, tolerance: f32) -> Option<Match> {
        let whole = Motion::new(guess.dx.round(), guess.dy.round());
        if !guess.is_translation()
            || (guess.dx - whole.dx).abs() >= SNAP
            || (guess.dy - whole.dy).abs() >= SNAP
        {
            return None;
        }
        let residual = self.ring_residual(a, b, whole)?;
        (residual <= tolerance).then_some(Match {
            motion: whole,
            residual,
        })
    }

    /// Like [`refine`](Self::refine), also measured from `b` to `a` (and turned around) when
    /// the motion from `a` to `b` cannot be measured or explains the ring to no better than
    /// `good` levels; the better of the two is kept. Near a frame edge, the ring moved one way
    /// leaves the picture while moved the other way it stays in; and a zoom out keeps in the
    /// region what a zoom in pushes out of it.
    pub fn refine_either(&self, a: &[u8], b: &[u8], guess: Motion, good: f32) -> Option<Match> {
        let forward = self.refine(a, b, guess);
        if forward.is_some_and(|m| m.residual <= good) {
            return forward;
        }
        let back = self.refine(b, a, guess.neg()).map(|m| Match {
            motion: m.motion.neg(),
            residual: m.residual,
        });
        match (forward, back) {
            (Some(f), Some(b)) => Some(if b.residual < f.residual { b } else { f }),
            (f, b) => f.or(b),
        }
    }

    /// Refines `guess` (luma crops of frame `a` and frame `b`) at full resolution: whole pixels
    /// by search, then a sub-pixel step, scored on the ring; then a zoom or rotation, fitted
    /// from the guess's (or from the translation found), kept where it explains the ring
    /// clearly better than the translation. `None` when the frames cannot be compared (the
    /// displacement leaves the region).
    pub fn refine(&self, a: &[u8], b: &[u8], guess: Motion) -> Option<Match> {
        self.refine_from(a, b, guess, 0.0)
    }

    /// [`refine`](Self::refine), trying a similarity only where the translation explains the
    /// ring worse than `similar_from` levels.
    fn refine_from(&self, a: &[u8], b: &[u8], guess: Motion, similar_from: f32) -> Option<Match> {
        let translation = self.refine_translation(a, b, guess);
        let start = match translation {
            Some(t) if guess.is_translation() => t.motion,
            _ => guess,
        };
        // A similarity must gain SIMILARITY_LEVELS: below that residual none can.
        if translation.is_some_and(|t| t.residual <= similar_from || t.residual < SIMILARITY_LEVELS)
        {
            return translation;
        }
        let similar = self.similarity_fit(a, b, start).and_then(|m| {
            let residual = self.ring_residual(a, b, m)?;
            Some(Match {
                motion: m,
                residual,
            })
        });
        match (translation, similar) {
            (Some(t), Some(s))
                if s.residual < (1.0 - SIMILARITY_GAIN) * t.residual
                    && t.residual - s.residual >= SIMILARITY_LEVELS =>
            {
                Some(s)
            }
            (None, s) => s,
            (t, _) => t,
        }
    }

    /// The translation part of [`refine`](Self::refine), from the guess's displacement at the
    /// mark's centre.
    fn refine_translation(&self, a: &[u8], b: &[u8], guess: Motion) -> Option<Match> {
        let (gx, gy) = guess.at(self.centre.0, self.centre.1);
        let (mut cx, mut cy) = (gx.round() as isize, gy.round() as isize);
        for _ in 0..4 {
            let mut best = (f32::INFINITY, 0, 0);
            for ey in -1..=1 {
                for ex in -1..=1 {
                    if let Some(c) = self.level_cost(0, a, b, cx + ex, cy + ey, false)
                        && c < best.0
                    {
                        best = (c, ex, ey);
                    }
                }
            }
            if !best.0.is_finite() {
                return None;
            }
            if (best.1, best.2) == (0, 0) {
                break;
            }
            (cx, cy) = (cx + best.1, cy + best.2);
        }
        let whole = Motion::new(cx as f32, cy as f32);
        let mut best = Match {
            motion: whole,
            residual: self.ring_residual(a, b, whole)?,
        };
        let sub = self.lucas_kanade(a, b, whole);
        if sub != whole
            && let Some(r) = self.ring_residual(a, b, sub)
            && r < best.residual
        {
            best = Match {
                motion: sub,
                residual: r,
            };
        }
        Some(best)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    fn texture(w: usize, h: usize, ox: f32, oy: f32) -> Vec<u8> {
        (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 + ox, (i / w) as f32 + oy);
                let v = 128.0
                    + 50.0 * (x * 0.31).sin() * (y * 0.17).cos()
                    + 40.0 * ((x + 2.0 * y) * 0.083).sin();
                v.clamp(0.0, 255.0) as u8
            })
            .collect()
    }

    #[test]
    fn finds_integer_and_fractional_shifts() {
        let (w, h) = (200, 150);
        let mask = Mask::from_rect(Rect::new(80, 60, 30, 20), w, h).unwrap();
        let search = MotionSearch::new(&mask, 16);
        let crop = |f: Vec<u8>| search.region().crop_plane(0, &f, w);
        let a = crop(texture(w, h, 0.0, 0.0));
        // Content moves by (-7, +3): what was at p + (7, -3) in `a` is at p in `b`.
        let b = crop(texture(w, h, 7.0, -3.0));
        let m = search
            .coarse_to_fine(&search.pyramid(&a), &search.pyramid(&b))
            .unwrap();
        assert_eq!(m, Motion::new(-7.0, 3.0));
        let r = search.refine(&a, &b, m).unwrap();
        assert_eq!(r.motion, Motion::new(-7.0, 3.0));
        assert!(r.residual < 0.5, "{r:?}");

        let c = crop(texture(w, h, 2.4, -0.3));
        let r = search.refine(&a, &c, Motion::default()).unwrap();
        assert!(
            (r.motion.dx + 2.4).abs() < 0.05 && (r.motion.dy - 0.3).abs() < 0.05,
            "{r:?}"
        );
        assert!(r.residual < 1.0, "{r:?}");
    }

    #[test]
    fn finds_a_zoom_and_a_rotation_about_a_point_off_the_mark() {
        let (w, h) = (320, 240);
        let mask = Mask::from_rect(Rect::new(190, 140, 48, 24), w, h).unwrap();
        let search = MotionSearch::new(&mask, 16);
        let crop = |f: Vec<u8>| search.region().crop_plane(0, &f, w);
        let a = crop(texture(w, h, 0.0, 0.0));
        // Frame b is frame a zoomed by `scale` and turned by `angle` about the picture's
        // centre: what is at p in a is at C + scale R (p - C) in b.
        let (cx, cy) = (160.0f32, 120.0f32);
        for (scale, angle) in [(1.04f32, 0.0f32), (0.97, 0.0), (1.0, 0.03), (1.02, -0.02)] {
            let (sa, ca) = angle.sin_cos();
            let b: Vec<u8> = (0..w * h)
                .map(|i| {
                    let (x, y) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
                    // Back to a's coordinates: R⁻¹ (p - C) / scale + C.
                    let (u, v) = ((ca * x + sa * y) / scale, (-sa * x + ca * y) / scale);
                    let (u, v) = (u + cx, v + cy);
                    let t = texture(1, 1, u, v);
                    t[0]
                })
                .collect();
            let b = crop(b);
            let (ea, eb) = (scale * ca - 1.0, scale * sa);
            let centre = (214.0f32, 152.0f32);
            let expected = Motion::similarity(
                ea * (centre.0 - cx) - eb * (centre.1 - cy),
                eb * (centre.0 - cx) + ea * (centre.1 - cy),
                ea,
                eb,
                centre,
            );
            // Where the consecutive search starts: the whole-pixel translation at the mark.
            let guess = Motion::new(expected.dx.round(), expected.dy.round());
            let r = search.refine(&a, &b, guess).unwrap();
            let m = r.motion;
            assert!(!m.is_translation(), "{scale} {angle}: {r:?}");
            for (x, y) in [(190.0, 140.0), (238.0, 164.0), (214.0, 152.0)] {
                let (got, want) = (m.at(x, y), expected.at(x, y));
                assert!(
                    (got.0 - want.0).abs() < 0.1 && (got.1 - want.1).abs() < 0.1,
                    "{scale} {angle} at ({x}, {y}): {got:?} against {want:?}"
                );
            }
            assert!(r.residual < 1.0, "{scale} {angle}: {r:?}");
        }
    }

    #[test]
    fn similarities_compose_and_invert() {
        let first = Motion::similarity(3.0, -1.0, 0.03, 0.01, (100.0, 50.0));
        let then = Motion::similarity(-2.0, 0.5, -0.02, 0.02, (100.0, 50.0));
        let both = first.add(then);
        for (x, y) in [(100.0f32, 50.0f32), (20.0, 80.0), (160.0, 10.0)] {
            let d1 = first.at(x, y);
            let (x1, y1) = (x + d1.0, y + d1.1);
            let d2 = then.at(x1, y1);
            let d = both.at(x, y);
            assert!((d.0 - (d1.0 + d2.0)).abs() < 1e-3 && (d.1 - (d1.1 + d2.1)).abs() < 1e-3);
            let back = first.neg().at(x1, y1);
            assert!((x1 + back.0 - x).abs() < 1e-3 && (y1 + back.1 - y).abs() < 1e-3);
        }
        assert_eq!(Motion::new(2.0, 3.0).neg(), Motion::new(-2.0, -3.0));
        let (d, d1) = (
            Motion::new(2.0, 3.0).add(first).at(0.0, 0.0),
            first.at(2.0, 3.0),
        );
        assert!((d.0 - (d1.0 + 2.0)).abs() < 1e-3 && (d.1 - (d1.1 + 3.0)).abs() < 1e-3);
    }
}
