//! Estimating a semi-transparent mark from the video itself.
//!
//! Under the mark, per pixel `p` and plane, every frame satisfies
//! `observed_t(p) = c(p) + k(p) * background_t(p)` with `k = 1 - alpha` and `c = alpha * logo`:
//! an affine function of the background, with the same coefficients in every frame. Given pairs
//! `(background, observed)` for a pixel, a line fit gives `k` and `c`.
//!
//! The background comes from the video: when the camera moves, the background hidden at `p` in
//! frame `t` is in plain view at `p + d` in frame `s` (`d` the motion between them, see
//! `motion.rs`). Each frame is paired with one later frame in each range of distances 1, 2–3,
//! 4–7, … 32–47 (so that pixels deep inside a large mark get pairs too): the one whose motion
//! is closest to whole pixels, as whole-pixel samples are exact copies while interpolated ones
//! soften fine texture (and so bias the fit); each sample is weighted by how close its own
//! position is to whole pixels (a zoom or a turn moves every pixel by its own amount). A pair
//! counts when the motion explains the ring around the mark. Each pair gives a sample both ways
//! (`t` from `s` and `s` from `t`).
//!
//! The fit is the reduced major axis (`k = std(observed) / std(background)`, sign from the
//! covariance): with sensor noise in both the revealed background and the background under the
//! mark, it is unbiased where least squares would shrink `k`. A second pass drops samples more
//! than three residual deviations off the line (occlusions, parallax) and fits again.
//! Then, per pixel:
//! - a fit that is indistinguishable from "no mark" (the line moves no value seen by more than
//!   0.75 levels) becomes exactly `alpha = 0`, so clean pixels inside a generous mask stay
//!   untouched;
//! - luma pixels whose background barely varies (a smooth background) take the mark's colour
//!   from the pixels around that have a line, and their opacity from their two means
//!   (`from_mark_colour`), so the outline stays sharp; a pixel whose means give an opacity
//!   outside 0..1, or that stays put where that opacity says it would follow its background,
//!   is not of the colour around it (the rim of a disc inside a badge) and is left to its
//!   neighbours;
//! - pixels without enough samples (the camera moves less than the mark is wide, so their
//!   background shows only under other parts of the mark) are peeled from the outside in: the
//!   mark found so far is taken off the frames, and each such pixel is sampled against the
//!   background under it, in rounds, until no more pixels are found ([`peel`]); the noise
//!   taken off with the mark grows by `1 / (1 - alpha)`, so nearly opaque pixels serve no
//!   other;
//! - pixels still without enough samples get alpha and `alpha * logo` by smooth interpolation
//!   from the estimated pixels around them;
//! - chroma pixels whose own fit is weak (grey backgrounds barely vary in chroma) take the mean
//!   of their four luma alphas and fit only `c`.
//!
//! A mask drawn or found loosely around the mark leaves a clean margin that the mark's pixels
//! see their background through only by peeling, whose errors come back as a wrong opacity
//! (on a 1080p slow pan, the lower half of lettering came out at 0.6–0.8 for 0.5). Where the
//! mark found covers well under the mask, it is estimated again under the mark found, a pixel
//! wider ([`refit`]), from the same frames (those the plan decoded, or those a segment learnt
//! from).
//!
//! The work is spread over the frames as they arrive ([`MarkLearner`]): each is cropped to the
//! working region, its motion from the previous one measured, and every pair it completes (the
//! last frame of a distance range) chosen, confirmed and sampled into the first pass's sums at
//! once. Only the second pass and the fits wait for the last frame, so a stream that decodes
//! while the mark is learnt does not stall on all of it.
//!
//! When the background never moves (a fixed camera), no pair exists: what changes in place
//! shows through the mark instead, and each masked pixel is matched with a clear pixel nearby
//! whose values over time it follows; the rest falls back to temporal statistics against the
//! surroundings ([`still`]).

use framejet_spec::plan::MarkSupport;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::config::InpaintConfig;
use crate::error::InpaintError;
use crate::fill;
use crate::inpainter::CONFIRM_RESIDUAL;
use crate::logo::{LogoModel, LogoPlane};
use crate::mask::{Bounds, Mask};
use crate::morph;
use crate::motion::{Match, Motion, MotionSearch};
use crate::plane::{Yuv420Frame, check_size};
use crate::region::{Crop, Region};
use crate::sampling::{Blocked, runs_of, sample_by};

mod still;
use still::estimate_still;

/// Pair distances, in frames: one pair per range `[lo, hi)`, the one whose motion is closest
/// to whole pixels (exact samples, where interpolation would soften texture).
const PAIR_RANGES: [(usize, usize); 6] = [(1, 2), (2, 4), (4, 8), (8, 16), (16, 32), (32, 48)];
/// Fewest samples for a pixel's own fit.
const MIN_SAMPLES: f64 = 6.0;

/// Running weighted sums for one pixel: Σw, Σwx, Σwy, Σwx², Σwxy, Σwy² (x = background,
/// y = observed, w = the sample's weight).
type Moments = [f64; 6];

/// A pixel's fitted line `y = c + k x`, with the residual tolerance for the second pass.
#[derive(Clone, Copy, Debug)]
struct Line {
    k: f32,
    c: f32,
    tolerance: f32,
}

/// `n` zeros for sums. Written out, not allocated zeroed: the sums read every entry before
/// writing it, and on lazily zeroed memory that faults twice per page (the second time flushing
/// the page from every core's TLB).
fn zeros<T: Clone + Default>(n: usize) -> Vec<T> {
    let mut sums = Vec::with_capacity(n);
    sums.resize(n, T::default());
    sums
}

/// Statistics of a pixel's samples.
struct Stats {
    n: f64,
    mx: f64,
    my: f64,
    vx: f64,
    vy: f64,
    cxy: f64,
}

fn stats(m: &Moments) -> Stats {
    let n = m[0].max(1.0);
    let (mx, my) = (m[1] / n, m[2] / n);
    Stats {
        n: m[0],
        mx,
        my,
        vx: (m[3] / n - mx * mx).max(0.0),
        vy: (m[5] / n - my * my).max(0.0),
        cxy: m[4] / n - mx * my,
    }
}

/// Fits `y = c + k x` when the samples allow it.
fn fit(m: &Moments, min_var: f64, min_rho: f64) -> Option<Line> {
    let s = stats(m);
    if s.n < MIN_SAMPLES || s.vx < min_var {
        return None;
    }
    let (k, resid) = if s.vy < 1.0 && s.vx >= 4.0 * min_var {
        // The observed value does not follow the background: an opaque pixel.
        (0.0, s.vy)
    } else {
        let rho = s.cxy / (s.vx * s.vy).sqrt();
        if rho < min_rho {
            return None;
        }
        let k = (s.vy / s.vx).sqrt().min(1.0);
        (k, (s.vy + k * k * s.vx - 2.0 * k * s.cxy).max(0.0))
    };
    Some(Line {
        k: k as f32,
        c: (s.my - k * s.mx) as f32,
        tolerance: (3.0 * resid.sqrt()).max(2.0) as f32,
    })
}

/// Whether a line leaves every value seen (mean ± 2 deviations) within 0.75 levels.
fn is_identity(line: &Line, m: &Moments) -> bool {
    let s = stats(m);
    let spread = 2.0 * s.vx.sqrt();
    let alpha = 1.0 - f64::from(line.k);
    [s.mx - spread, s.mx + spread]
        .iter()
        .all(|&x| (f64::from(line.c) - alpha * x).abs() < 0.75)
}

/// One plane's geometry for the sample loops.
struct PlaneJob {
    index: usize,
    /// Plane size.
    w: usize,
    h: usize,
    /// The mask's bounds on this plane.
    bounds: Bounds,
    /// The mask on this plane, cropped to `bounds`.
    bits: Vec<u8>,
    /// Per row of `bounds`, the runs of masked columns (bounds coordinates).
    runs: Vec<Vec<(u32, u32)>>,
    /// The working region on this plane: frames are cropped to it.
    region: Bounds,
    /// The mask grown by one pixel, cropped to the region: not background.
    blocked: Blocked,
}

impl PlaneJob {
    fn new(mask: &Mask, region: &Region, index: usize) -> Self {
        let (w, h) = mask.plane_size(index);
        let plane_bits = mask.plane_bits(index);
        let bounds = if index == 0 {
            mask.bounds()
        } else {
            mask.bounds().halved(w, h)
        };
        let bits: Vec<u8> = (bounds.y0..bounds.y1)
            .flat_map(|y| &plane_bits[y * w + bounds.x0..y * w + bounds.x1])
            .copied()
            .collect();
        let runs = bits
            .chunks(bounds.width().max(1))
            .map(|row| runs_of(row, true))
            .collect();
        let r = region.bounds(index);
        let grown = morph::dilate(
            &region.crop_plane(index, plane_bits, w),
            r.width(),
            r.height(),
            1,
        );
        Self {
            index,
            w,
            h,
            bounds,
            bits,
            runs,
            region: r,
            blocked: Blocked::new(grown, r.width(), r.height()),
        }
    }

    /// Whether the mask covers `(x, y)`, a pixel inside `bounds` (plane coordinates).
    fn masked(&self, x: usize, y: usize) -> bool {
        self.bits[(y - self.bounds.y0) * self.bounds.width() + x - self.bounds.x0] != 0
    }

    /// The masked pixels, each as its index in the bounds and in `region` (which contains the
    /// bounds), in scan order.
    fn masked_indices(&self, region: Bounds) -> impl Iterator<Item = (usize, usize)> + '_ {
        let b = self.bounds;
        (b.y0..b.y1)
            .flat_map(move |y| (b.x0..b.x1).map(move |x| (x, y)))
            .filter(|&(x, y)| self.masked(x, y))
            .map(move |(x, y)| {
                (
                    (y - b.y0) * b.width() + x - b.x0,
                    (y - region.y0) * region.width() + x - region.x0,
                )
            })
    }

    /// Where crop pixel (`x`, `y`) is in another frame's crop, moved by `d` (on this plane).
    #[inline]
    fn moved(&self, x: usize, y: usize, d: Motion) -> (f32, f32) {
        let (x, y) = (x as f32, y as f32);
        let (dx, dy) = d.at(x + self.region.x0 as f32, y + self.region.y0 as f32);
        (x + dx, y + dy)
    }

    fn blocked_at(&self, x: usize, y: usize) -> bool {
        self.blocked.at(x - self.region.x0, y - self.region.y0)
    }
}

/// Adds the samples of every pair to the moments of one row of the plane's bounds.
///
/// Pairs whose motion is whole pixels (all of them in a pan by whole pixels) read pixels as
/// they are, with weight 1: their moments are integers, summed exactly in `u32` over each run
/// of masked pixels whose moved position is clear, by loops the compiler vectorises, into the
/// row's `whole` sums (of a [`WholeSums`], added to the `f64` moments later: the same sums as
/// adding them one by one). Other pairs interpolate and weigh each sample. Compiled twice, for
/// the baseline CPU and for AVX2 (twice as wide), and picked at run time.
#[multiversion(targets("x86_64+avx2"))]
fn accumulate_row(
    row: &mut [Moments],
    whole: &mut [u32],
    y: usize,
    job: &PlaneJob,
    crops: &[Crop],
    pairs: &[(usize, usize, Motion)],
    lines: Option<&[Option<Line>]>,
) {
    let b = job.bounds;
    let n = b.width();
    let runs = &job.runs[y - b.y0];
    if runs.is_empty() {
        return;
    }
    let lines = lines.map(|l| RowLines::new(&l[(y - b.y0) * n..][..n]));
    let rw = job.region.width();
    let (cx0, cy) = (b.x0 - job.region.x0, y - job.region.y0);
    let mut whole = WholeRow::new(whole, n);
    for &(t, s, d) in pairs {
        let d = if job.index == 0 { d } else { d.halved() };
        let (pt, ps) = (&crops[t].planes[job.index], &crops[s].planes[job.index]);
        if d.is_translation() && d.dx.fract() == 0.0 && d.dy.fract() == 0.0 {
            let (dx, dy) = (d.dx as isize, d.dy as isize);
            // Frame t's pixels against frame s's at the moved position, and back.
            whole.add(job, runs, lines.as_ref(), cy, (dx, dy), ps, pt);
            whole.add(job, runs, lines.as_ref(), cy, (-dx, -dy), pt, ps);
            continue;
        }
        let back = d.neg();
        for j in runs.iter().flat_map(|&(j0, j1)| j0 as usize..j1 as usize) {
            let cx = cx0 + j;
            let mut add = |(x, y): (f32, f32), bg: f32, obs: u8| {
                if lines
                    .as_ref()
                    .is_some_and(|l| !l.accepts(j, f32::from(obs), bg))
                {
                    return;
                }
                add_sample(&mut row[j], position_weight(x, y), bg, f32::from(obs));
            };
            let (fx, fy) = job.moved(cx, cy, d);
            if let Some(v) = job.blocked.sample_clear(ps, fx, fy) {
                add((fx, fy), v, pt[cy * rw + cx]);
            }
            let (bx, by) = job.moved(cx, cy, back);
            if let Some(v) = job.blocked.sample_clear(pt, bx, by) {
                add((bx, by), v, ps[cy * rw + cx]);
            }
        }
    }
}

/// Adds sample (`bg`, `obs`) with `weight` to a pixel's moments.
#[inline(always)]
fn add_sample(m: &mut Moments, weight: f64, bg: f32, obs: f32) {
    let (bg, obs) = (f64::from(bg), f64::from(obs));
    m[0] += weight;
    m[1] += weight * bg;
    m[2] += weight * obs;
    m[3] += weight * bg * bg;
    m[4] += weight * bg * obs;
    m[5] += weight * obs * obs;
}

/// One row's fitted lines as columns, for the second pass's outlier test; a pixel without a
/// line keeps every sample. In `f32`, as the lines are: eight lanes to a vector under AVX2.
struct RowLines {
    k: Vec<f32>,
    c: Vec<f32>,
    tolerance: Vec<f32>,
}

impl RowLines {
    fn new(lines: &[Option<Line>]) -> Self {
        let column = |f: fn(&Line) -> f32, none: f32| {
            lines.iter().map(|l| l.as_ref().map_or(none, f)).collect()
        };
        Self {
            k: column(|l| l.k, 0.0),
            c: column(|l| l.c, 0.0),
            tolerance: column(|l| l.tolerance, f32::INFINITY),
        }
    }

    /// Whether pixel `j` keeps sample (`bg`, `obs`): within the tolerance of its line (the
    /// lines are finite, so no comparison meets a NaN).
    #[inline]
    fn accepts(&self, j: usize, obs: f32, bg: f32) -> bool {
        Self::fits(self.k[j], self.c[j], self.tolerance[j], obs, bg)
    }

    /// Whether sample (`bg`, `obs`) is within `tolerance` of the line `obs = k * bg + c`.
    #[inline(always)]
    fn fits(k: f32, c: f32, tolerance: f32, obs: f32, bg: f32) -> bool {
        (obs - c - k * bg).abs() <= tolerance
    }
}

/// Integer moments of the whole-pixel samples of every pixel of a plane's bounds, kept across
/// rounds of pairs (the learner's first pass adds a few per frame) and added to the `f64`
/// moments once ([`flush_into`](Self::flush_into)), or before they could overflow. Row by row:
/// per column of the bounds Σ1, Σx, Σy, Σx², Σxy and Σy², each moment a run of its own.
struct WholeSums {
    width: usize,
    sums: Vec<u32>,
    /// Pairs summed since the last flush.
    pairs: usize,
}

impl WholeSums {
    /// Pairs whose sums a `u32` holds (two samples each, products up to 255²).
    const PAIRS: usize = (u32::MAX / (2 * 255 * 255)) as usize;

    fn new(bounds: Bounds) -> Self {
        Self {
            width: bounds.width(),
            sums: zeros(6 * bounds.width() * bounds.height()),
            pairs: 0,
        }
    }

    /// Adds the sums to `moments` (the bounds' pixels, row by row) and clears them.
    fn flush_into(&mut self, moments: &mut [Moments]) {
        let n = self.width;
        if self.pairs == 0 || n == 0 {
            return;
        }
        moments
            .par_chunks_mut(n)
            .zip(self.sums.par_chunks_mut(6 * n))
            .for_each(|(row, sums)| {
                for (j, m) in row.iter_mut().enumerate() {
                    if sums[j] == 0 {
                        continue;
                    }
                    for (k, m) in m.iter_mut().enumerate() {
                        *m += f64::from(sums[k * n + j]);
                    }
                }
                sums.fill(0);
            });
        self.pairs = 0;
    }
}

/// One row of [`WholeSums`].
struct WholeRow<'a> {
    sums: [&'a mut [u32]; 6],
}

impl<'a> WholeRow<'a> {
    fn new(row: &'a mut [u32], n: usize) -> Self {
        let mut moments = row.chunks_exact_mut(n.max(1));
        Self {
            sums: std::array::from_fn(|_| moments.next().unwrap_or_default()),
        }
    }

    /// Adds the samples of the masked `runs` of row `cy` (crop coordinates) of `observed`
    /// against `background` at the position moved by `(dx, dy)`, where that is clear (and,
    /// with `lines`, near the line).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn add(
        &mut self,
        job: &PlaneJob,
        runs: &[(u32, u32)],
        lines: Option<&RowLines>,
        cy: usize,
        (dx, dy): (isize, isize),
        background: &[u8],
        observed: &[u8],
    ) {
        let (rw, rh) = (job.region.width(), job.region.height());
        let fy = cy as isize + dy;
        if fy < 0 || fy >= rh as isize {
            return;
        }
        let fy = fy as usize;
        let (background, observed) = (&background[fy * rw..][..rw], &observed[cy * rw..][..rw]);
        // Only the columns whose moved position is clear give samples: between frames a few
        // pixels apart, a thin strip along the mark's edge. Crop column of bounds column j:
        // cx0 + j; of its moved position: cx0 + j + dx.
        let clear = job.blocked.clear_runs(fy as i32);
        let cx0 = job.bounds.x0 - job.region.x0;
        let shift = cx0 as isize + dx;
        for &(j0, j1) in runs {
            let (a, b) = (j0 as isize + shift, j1 as isize + shift);
            let first = clear.partition_point(|&(_, c1)| c1 as isize <= a);
            for &(c0, c1) in &clear[first..] {
                let (lo, hi) = ((c0 as isize).max(a), (c1 as isize).min(b));
                if lo >= hi {
                    break;
                }
                let (moved, len) = (lo as usize, (hi - lo) as usize);
                let j = (lo - shift) as usize;
                let bg = &background[moved..][..len];
                let obs = &observed[cx0 + j..][..len];
                match lines {
                    None => self.add_run(j, bg, obs, |_| true),
                    Some(lines) => {
                        // The run's own columns of the lines, so that the loop vectorises.
                        let (k, c) = (&lines.k[j..][..len], &lines.c[j..][..len]);
                        let tolerance = &lines.tolerance[j..][..len];
                        self.add_run(j, bg, obs, |i| {
                            let (obs, bg) = (f32::from(obs[i]), f32::from(bg[i]));
                            RowLines::fits(k[i], c[i], tolerance[i], obs, bg)
                        })
                    }
                }
            }
        }
    }

    /// Adds samples `(bg[i], obs[i])` where `keep(i)` to the columns from `j0`.
    #[inline(always)]
    fn add_run(&mut self, j0: usize, bg: &[u8], obs: &[u8], keep: impl Fn(usize) -> bool) {
        let len = bg.len();
        let obs = &obs[..len];
        let [n0, n1, n2, n3, n4, n5] = &mut self.sums;
        let (n0, n1, n2) = (
            &mut n0[j0..][..len],
            &mut n1[j0..][..len],
            &mut n2[j0..][..len],
        );
        let (n3, n4, n5) = (
            &mut n3[j0..][..len],
            &mut n4[j0..][..len],
            &mut n5[j0..][..len],
        );
        for i in 0..len {
            let (k, g, o) = (u32::from(keep(i)), u32::from(bg[i]), u32::from(obs[i]));
            n0[i] += k;
            n1[i] += k * g;
            n2[i] += k * o;
            n3[i] += k * g * g;
            n4[i] += k * g * o;
            n5[i] += k * o * o;
        }
    }
}

/// Adds the samples of `pairs` to the moments `m` of every pixel of the plane's bounds: those
/// of whole-pixel pairs to `whole`, to be flushed into `m`.
fn add_moments(
    m: &mut [Moments],
    whole: &mut WholeSums,
    job: &PlaneJob,
    crops: &[Crop],
    pairs: &[(usize, usize, Motion)],
    lines: Option<&[Option<Line>]>,
) {
    let b = job.bounds;
    let n = b.width();
    if n == 0 {
        return;
    }
    for pairs in pairs.chunks(WholeSums::PAIRS) {
        if whole.pairs + pairs.len() > WholeSums::PAIRS {
            whole.flush_into(m);
        }
        whole.pairs += pairs.len();
        m.par_chunks_mut(n)
            .zip(whole.sums.par_chunks_mut(6 * n))
            .enumerate()
            .for_each(|(r, (row, sums))| {
                accumulate_row(row, sums, b.y0 + r, job, crops, pairs, lines)
            });
    }
}

/// Weight of a sample read at (`x`, `y`) (crop coordinates): 1 for an exact copy, down to
/// 0.25 half a pixel from whole pixels, where interpolation softens fine texture and so biases
/// the fit. A zoom or a turn moves each pixel by its own amount, so some of its samples are
/// near-exact copies and weigh as such.
#[inline(always)]
fn position_weight(x: f32, y: f32) -> f64 {
    let off = (x - x.round()).abs().max((y - y.round()).abs());
    1.0 - 1.5 * f64::from(off)
}

/// Fills the unknown entries of a plane's map (alpha, or `alpha * logo`) smoothly from the
/// known ones, with the pixels just outside the mask as known zeros.
fn interpolate(job: &PlaneJob, map: &mut [f32], known: &[bool]) {
    let b = job.bounds;
    let region = b.grown(1, job.w, job.h);
    let (rw, rh) = (region.width(), region.height());
    let mut unknown = vec![0u8; rw * rh];
    let mut values = vec![0.0f32; rw * rh];
    for (i, r) in job.masked_indices(region) {
        if known[i] {
            values[r] = map[i];
        } else {
            unknown[r] = 1;
        }
    }
    fill::fill(&mut values, &unknown, rw, rh, fill::Anisotropy::ISOTROPIC);
    for y in b.y0..b.y1 {
        for x in b.x0..b.x1 {
            let i = (y - b.y0) * b.width() + x - b.x0;
            if !known[i] {
                map[i] = values[(y - region.y0) * rw + x - region.x0];
            }
        }
    }
}

/// Smallest difference between the mark's colour and a pixel's mean background (levels) for
/// its opacity to be told from the two means.
const MIN_CONTRAST: f64 = 24.0;
/// Background variance (levels squared) from which a pixel's own line is clear enough to keep.
const CONFIDENT_VAR: f64 = 100.0;
/// Reach (pixels) of the median that gives each pixel the mark's colour.
const COLOUR_RADIUS: usize = 3;
/// How far outside 0..1 an opacity told from the mark's colour may be and still be taken
/// (clamped): the noise of the two means.
const COLOUR_SLACK: f64 = 0.15;
/// Least share of the variance that an opacity `alpha` told from the mark's colour predicts
/// for the pixel under the mark, `(1 - alpha)² var(background)`, that it must show: one that
/// stays put while the background under it varies is more opaque than its colour says (the
/// rim of a disc of another colour inside an opaque badge).
const FOLLOWS: f64 = 0.25;
/// Opacity of a pixel whose mean under the mark is this close (levels) to its mean background
/// is taken as none.
const NO_MARK: f64 = 1.5;

/// The opacity of each luma pixel from its two means rather than its line: the samples give
/// the mean background `x` and the mean seen under the mark `y = alpha * logo + (1 - alpha) *
/// x`, and with the mark's colour `logo` known from the pixels whose line is clear (and
/// interpolated between them), `alpha = (y - x) / (logo - x)` wherever the colour stands out
/// from the background. A mean over many samples is far steadier than a slope: on a smooth
/// background, or one that moves little, slopes are noise, and interpolating the opacity
/// where they fail would smear the mark's outline over the pixels around it. Pixels where the
/// two means agree are unmarked.
fn from_mark_colour(
    job: &PlaneJob,
    moments: &[Moments],
    alpha: &mut [f32],
    premul: &mut [f32],
    known: &mut [bool],
) {
    let b = job.bounds;
    let mut colour = vec![0.0f32; alpha.len()];
    let mut colour_known = vec![false; alpha.len()];
    for i in 0..alpha.len() {
        if known[i] && alpha[i] > 0.25 {
            colour[i] = premul[i] / alpha[i];
            colour_known[i] = true;
        }
    }
    if !colour_known.contains(&true) {
        return;
    }
    // The colour near each pixel: the median of the clear pixels' colours within a few pixels
    // (a slope's noise does not survive it, the edge between two colours of the mark does),
    // and between them smoothly from them alone (the pixels outside the mark are no evidence
    // of its colour).
    let (w, h) = (b.width(), b.height());
    let unknown: Vec<u8> = colour_known.iter().map(|&k| u8::from(!k)).collect();
    let mut between = colour.clone();
    fill::fill(&mut between, &unknown, w, h, fill::Anisotropy::ISOTROPIC);
    // The median of the clear colours within COLOUR_RADIUS of (x, y) (bounds coordinates).
    let mut near = Vec::new();
    let mut local = |x: usize, y: usize| {
        near.clear();
        for ny in y.saturating_sub(COLOUR_RADIUS)..(y + COLOUR_RADIUS + 1).min(h) {
            for nx in x.saturating_sub(COLOUR_RADIUS)..(x + COLOUR_RADIUS + 1).min(w) {
                let j = ny * w + nx;
                if colour_known[j] {
                    near.push(colour[j]);
                }
            }
        }
        if near.is_empty() {
            return between[y * w + x];
        }
        let mid = near.len() / 2;
        *near.select_nth_unstable_by(mid, f32::total_cmp).1
    };
    for y in b.y0..b.y1 {
        for x in b.x0..b.x1 {
            let i = (y - b.y0) * w + x - b.x0;
            if !job.masked(x, y) {
                continue;
            }
            let s = stats(&moments[i]);
            if s.n < MIN_SAMPLES || (known[i] && s.vx >= CONFIDENT_VAR) {
                continue;
            }
            let seen = s.my - s.mx;
            if seen.abs() < NO_MARK {
                (alpha[i], premul[i], known[i]) = (0.0, 0.0, true);
                continue;
            }
            let colour = local(x - b.x0, y - b.y0);
            let logo = f64::from(colour);
            if (logo - s.mx).abs() >= MIN_CONTRAST {
                // An opacity well outside 0..1 says that this pixel is not of the colour
                // around it (the edge of a disc of another colour inside a badge): it is left
                // to its neighbours.
                let a = seen / (logo - s.mx);
                let follows = s.vy >= FOLLOWS * (1.0 - a).powi(2) * s.vx;
                if (-COLOUR_SLACK..=1.0 + COLOUR_SLACK).contains(&a) && follows {
                    let a = a.clamp(0.0, 1.0) as f32;
                    (alpha[i], premul[i], known[i]) = (a, a * colour, true);
                }
            }
        }
    }
}

/// How many masked pixels of a plane had a line of their own: before any was peeled, and in
/// all; and how many no pair saw the background through (taken as opaque).
struct Fitted {
    first: usize,
    own: usize,
    unseen: usize,
}

/// Estimates one plane from the paired samples, given the first pass's moments. `luma` (the
/// finished luma plane) guides chroma pixels whose own fit is weak. Returns the plane and how
/// its pixels were fitted.
fn estimate_plane(
    job: &PlaneJob,
    crops: &[Crop],
    pairs: &[(usize, usize, Motion)],
    first: &[Moments],
    luma: Option<&LogoPlane>,
) -> (LogoPlane, Fitted) {
    let b = job.bounds;
    let (min_var, min_rho) = if job.index == 0 {
        (4.0, 0.5)
    } else {
        (16.0, 0.8)
    };
    let lines: Vec<Option<Line>> = first.iter().map(|m| fit(m, min_var, min_rho)).collect();
    let mut moments = zeros(first.len());
    let mut whole = WholeSums::new(b);
    add_moments(&mut moments, &mut whole, job, crops, pairs, Some(&lines));
    whole.flush_into(&mut moments);

    let fits = Fits { min_var, min_rho };
    let mut solved = solve(job, &moments, fits, luma);
    let fitted = solved.fitted;
    let seen = moments.clone();
    for _ in 0..PEEL_ROUNDS {
        let Some(peeled) = peel(job, crops, pairs, &seen, &moments, &solved, fits) else {
            break;
        };
        let next = solve(job, &peeled, fits, luma);
        if next.known_count() <= solved.known_count() {
            break;
        }
        (moments, solved) = (peeled, next);
    }
    let Solved {
        mut alpha,
        mut premul,
        mut known_alpha,
        known_premul,
        fitted: own,
    } = solved;
    let mut unseen = 0;
    // A luma pixel that no pair ever saw background through cannot be un-blended, as nothing
    // tells its opacity (interpolated from the pixels around, the inside of an opaque badge
    // wider than the pairs moved came out semi-transparent and was un-blended into noise): it
    // is taken as opaque, so that it is filled from other frames. Chroma follows luma.
    if luma.is_none() {
        for (i, m) in moments.iter().enumerate() {
            if !known_alpha[i] && m[0] == 0.0 {
                (alpha[i], known_alpha[i]) = (1.0, true);
                unseen += 1;
            }
        }
    }
    if known_alpha.iter().any(|&k| !k) {
        interpolate(job, &mut alpha, &known_alpha);
    }
    if known_premul.iter().any(|&k| !k) {
        interpolate(job, &mut premul, &known_premul);
    }
    for (a, p) in alpha.iter_mut().zip(premul.iter_mut()) {
        *a = a.clamp(0.0, 1.0);
        *p = p.clamp(0.0, 255.0 * *a);
    }
    (
        LogoPlane {
            bounds: b,
            alpha,
            premul,
        },
        Fitted {
            first: fitted,
            own,
            unseen,
        },
    )
}

/// What a pixel's own fit needs of its samples, on one plane.
#[derive(Clone, Copy)]
struct Fits {
    min_var: f64,
    min_rho: f64,
}

/// A plane's mark as far as its samples tell, over the bounds: what is known is exact for the
/// pixel, the rest waits for more samples or for interpolation.
struct Solved {
    alpha: Vec<f32>,
    premul: Vec<f32>,
    known_alpha: Vec<bool>,
    known_premul: Vec<bool>,
    /// Masked pixels with their own fit.
    fitted: usize,
}

impl Solved {
    /// Whether pixel `i` of the bounds is known: the mark there can be taken off.
    fn known(&self, i: usize) -> bool {
        self.known_alpha[i] && self.known_premul[i]
    }

    fn known_count(&self) -> usize {
        (0..self.alpha.len()).filter(|&i| self.known(i)).count()
    }
}

/// Each pixel's mark from its samples' `moments`: its own line where the samples allow one,
/// else (luma) from the mark's colour around it, or (chroma) luma's opacity and the offset.
fn solve(job: &PlaneJob, moments: &[Moments], fits: Fits, luma: Option<&LogoPlane>) -> Solved {
    let b = job.bounds;
    let size = b.width() * b.height();
    let (mut alpha, mut premul) = (vec![0.0f32; size], vec![0.0f32; size]);
    let (mut known_alpha, mut known_premul) = (vec![false; size], vec![false; size]);
    let mut fitted = 0;
    for y in b.y0..b.y1 {
        for x in b.x0..b.x1 {
            let i = (y - b.y0) * b.width() + x - b.x0;
            let m = &moments[i];
            if !job.masked(x, y) {
                (known_alpha[i], known_premul[i]) = (true, true);
            } else if let Some(line) = fit(m, fits.min_var, fits.min_rho) {
                fitted += 1;
                (known_alpha[i], known_premul[i]) = (true, true);
                if !is_identity(&line, m) {
                    alpha[i] = 1.0 - line.k;
                    premul[i] = line.c.clamp(0.0, 255.0 * alpha[i]);
                }
            } else if let Some(luma) = luma {
                // Chroma: the mean alpha of the four luma pixels under it; then only the offset
                // is fitted, or interpolated when there are no samples.
                let a = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|&(dx, dy)| luma.alpha_at(2 * x + dx, 2 * y + dy))
                    .sum::<f32>()
                    / 4.0;
                (alpha[i], known_alpha[i]) = (a, true);
                let s = stats(m);
                if a <= 0.0 {
                    known_premul[i] = true;
                } else if s.n > 0.0 {
                    premul[i] = ((s.my - (1.0 - f64::from(a)) * s.mx) as f32).clamp(0.0, 255.0 * a);
                    known_premul[i] = true;
                }
            }
        }
    }
    if luma.is_none() {
        from_mark_colour(job, moments, &mut alpha, &mut premul, &mut known_alpha);
        known_premul.clone_from(&known_alpha);
    }
    Solved {
        alpha,
        premul,
        known_alpha,
        known_premul,
        fitted,
    }
}

/// Rounds of peeling (see [`peel`]): each reaches as deep into the mark as the pairs move.
const PEEL_ROUNDS: usize = 8;
/// Smallest `1 - alpha` of a pixel taken off to serve as background: below it, the pixel's
/// noise, multiplied by `1 / (1 - alpha)`, would swamp the samples.
const PEEL_MIN_K: f32 = 0.25;

/// One round of peeling the mark from the outside in: where a pixel's background is revealed
/// only under another part of the mark (a slow pan under a wide mark), the mark found there is
/// taken off first, and the pixel is sampled against what is under it. The unknown pixels short
/// of samples in `moments` get these samples on top of those of the background `seen` beside
/// the mark (each round samples every position known by then afresh), outliers dropped as in
/// the second pass; the other pixels keep their `moments`. `None` when no unknown pixel gets a
/// sample.
fn peel(
    job: &PlaneJob,
    crops: &[Crop],
    pairs: &[(usize, usize, Motion)],
    seen: &[Moments],
    moments: &[Moments],
    solved: &Solved,
    fits: Fits,
) -> Option<Vec<Moments>> {
    // The pixels short of samples (unmasked pixels are known): more samples do not make a
    // line of those that have plenty and fit none (opaque pixels in noise, mostly).
    let wanted: Vec<bool> = moments
        .iter()
        .enumerate()
        .map(|(i, m)| !solved.known(i) && m[0] < MIN_SAMPLES)
        .collect();
    if !wanted.contains(&true) {
        return None;
    }
    let sampled = |wanted: &[bool], lines: Option<&[Option<Line>]>| {
        let mut extra: Vec<Moments> = zeros(moments.len());
        extra
            .par_chunks_mut(job.bounds.width().max(1))
            .enumerate()
            .for_each(|(r, row)| {
                peel_row(
                    row,
                    job.bounds.y0 + r,
                    job,
                    crops,
                    solved,
                    pairs,
                    wanted,
                    lines,
                )
            });
        extra
    };
    let add = |a: &Moments, b: &Moments| -> Moments { std::array::from_fn(|k| a[k] + b[k]) };
    let first = sampled(&wanted, None);
    // The second pass, outliers dropped, only where the first found samples.
    let wanted: Vec<bool> = first.iter().map(|e| e[0] > 0.0).collect();
    if !wanted.contains(&true) {
        return None;
    }
    let lines: Vec<Option<Line>> = (0..seen.len())
        .map(|i| {
            wanted[i]
                .then(|| fit(&add(&seen[i], &first[i]), fits.min_var, fits.min_rho))
                .flatten()
        })
        .collect();
    let extra = sampled(&wanted, Some(&lines));
    extra.iter().any(|e| e[0] > 0.0).then(|| {
        (0..seen.len())
            .map(|i| {
                if wanted[i] {
                    add(&seen[i], &extra[i])
                } else {
                    moments[i]
                }
            })
            .collect()
    })
}

/// The background of crop pixel (`x`, `y`) of `plane` as far as it can be told: the pixel
/// itself outside the mask, with the mark taken off where it is known (and not too opaque),
/// else NaN.
fn taken_off(job: &PlaneJob, solved: &Solved, plane: &[u8], x: usize, y: usize) -> f32 {
    let (b, r) = (job.bounds, job.region);
    let value = f32::from(plane[y * r.width() + x]);
    let (px, py) = (x + r.x0, y + r.y0);
    if px < b.x0 || py < b.y0 || px >= b.x1 || py >= b.y1 || !job.masked(px, py) {
        return value;
    }
    let i = (py - b.y0) * b.width() + px - b.x0;
    let alpha = solved.alpha[i];
    if !solved.known(i) || 1.0 - alpha < PEEL_MIN_K {
        f32::NAN
    } else if alpha <= 0.0 {
        value
    } else {
        (value - solved.premul[i]) / (1.0 - alpha)
    }
}

/// Adds to one row of the bounds the peeled samples of its wanted pixels: each pixel against
/// the other frame of every pair at the moved position, where that is under the mark (clear
/// positions gave their samples already) and the mark there is known. With `lines`, only
/// samples near a pixel's line count.
#[allow(clippy::too_many_arguments)]
fn peel_row(
    row: &mut [Moments],
    y: usize,
    job: &PlaneJob,
    crops: &[Crop],
    solved: &Solved,
    pairs: &[(usize, usize, Motion)],
    wanted: &[bool],
    lines: Option<&[Option<Line>]>,
) {
    let b = job.bounds;
    let n = b.width();
    let (rw, rh) = (job.region.width(), job.region.height());
    let cy = y - job.region.y0;
    let columns: Vec<usize> = (0..n).filter(|&j| wanted[(y - b.y0) * n + j]).collect();
    if columns.is_empty() {
        return;
    }
    for &(t, s, d) in pairs {
        let d = if job.index == 0 { d } else { d.halved() };
        for (from, to, d) in [(t, s, d), (s, t, d.neg())] {
            let (background, observed) =
                (&crops[to].planes[job.index], &crops[from].planes[job.index]);
            let at = |x: usize, y: usize| taken_off(job, solved, background, x, y);
            for &j in &columns {
                let cx = b.x0 - job.region.x0 + j;
                let (fx, fy) = job.moved(cx, cy, d);
                if fx < 0.0
                    || fy < 0.0
                    || fx > (rw - 1) as f32
                    || fy > (rh - 1) as f32
                    || job.blocked.clear(fx, fy)
                {
                    continue;
                }
                // The pixel at the sample's top left is in its footprint: where it is unknown,
                // so is the sample (most of the time, under an opaque mark).
                if at(fx as usize, fy as usize).is_nan() {
                    continue;
                }
                let bg = sample_by(rw, rh, fx, fy, at);
                let obs = f32::from(observed[cy * rw + cx]);
                if !bg.is_finite() {
                    continue;
                }
                if let Some(Some(line)) = lines.map(|l| &l[(y - b.y0) * n + j])
                    && !RowLines::fits(line.k, line.c, line.tolerance, obs, bg)
                {
                    continue;
                }
                add_sample(&mut row[j], position_weight(fx, fy), bg, obs);
            }
        }
    }
}

/// What a [`MarkLearner`] measured on its frames that removing the mark from them needs again:
/// the motion search, and the matches between the frames (numbered from 0 in the order added).
/// Motion is measured outside the grown mask, so it is the same before and after un-blending.
pub(crate) struct Measured {
    pub search: MotionSearch,
    /// The match of each frame after the first with the one before: `consecutive[i]` is the
    /// motion from frame `i` to frame `i + 1`, as found.
    pub consecutive: Vec<Option<Match>>,
    /// Pairs measured from their consecutive motions summed, keyed (earlier, later), as found.
    pub pairs: Vec<((usize, usize), Option<Match>)>,
    /// The frames' crops, done with: buffers to crop the same frames into again.
    pub crops: Vec<Crop>,
}

/// Learns a semi-transparent mark from frames as they arrive, in order (see the module docs).
pub(crate) struct MarkLearner {
    width: usize,
    height: usize,
    /// Luma pixels under the mask.
    count: usize,
    max_residual: f32,
    search: MotionSearch,
    jobs: [PlaneJob; 3],
    /// The frames so far, cropped to the working region.
    crops: Vec<Crop>,
    /// The motion from each frame to the next, where it explains the ring around the mark.
    links: Vec<Option<Motion>>,
    /// What each frame's match with the previous one found, before that test.
    consecutive: Vec<Option<Match>>,
    /// Every pair measured (chosen or not), keyed (earlier, later).
    measured: Vec<((usize, usize), Option<Match>)>,
    /// The last consecutive motion found, the first guess for the next.
    last: Option<Motion>,
    /// The pairs chosen so far: `(earlier, later, motion from the earlier to the later)`.
    pairs: Vec<(usize, usize, Motion)>,
    /// The first pass's moments per plane, with every pair so far sampled: the whole-pixel
    /// samples in `first_whole` until the last frame.
    first: [Vec<Moments>; 3],
    first_whole: [WholeSums; 3],
}

impl MarkLearner {
    pub(crate) fn new(mask: &Mask, config: &InpaintConfig) -> Self {
        let search =
            MotionSearch::new(mask, config.max_motion).links_similar_from(config.max_residual);
        let jobs: [PlaneJob; 3] = std::array::from_fn(|p| PlaneJob::new(mask, search.region(), p));
        Self {
            width: mask.width(),
            height: mask.height(),
            count: mask.count(),
            max_residual: config.max_residual,
            first: std::array::from_fn(|p| zeros(jobs[p].bounds.width() * jobs[p].bounds.height())),
            first_whole: std::array::from_fn(|p| WholeSums::new(jobs[p].bounds)),
            search,
            jobs,
            crops: Vec::new(),
            links: Vec::new(),
            consecutive: Vec::new(),
            measured: Vec::new(),
            last: None,
            pairs: Vec::new(),
        }
    }

    /// Takes the next frame: crops it, measures its motion from the previous one, and samples
    /// the pairs it completes.
    pub(crate) fn add(&mut self, frame: &Yuv420Frame) -> Result<(), InpaintError> {
        check_size(
            || format!("sample frame {}", self.crops.len()),
            (self.width, self.height),
            (frame.width(), frame.height()),
        )?;
        let crop = self.search.region().crop(frame);
        if let Some(prev) = self.crops.last() {
            let tolerance = CONFIRM_RESIDUAL * self.max_residual;
            let found =
                self.search
                    .consecutive(&prev.planes[0], &crop.planes[0], self.last, tolerance);
            self.last = found.map(|m| m.motion);
            self.consecutive.push(found);
            self.links.push(
                found
                    .filter(|m| m.residual <= self.max_residual)
                    .map(|m| m.motion),
            );
        }
        self.crops.push(crop);
        // The ranges whose last frame this is.
        let n = self.crops.len();
        let completed: Vec<_> = PAIR_RANGES
            .iter()
            .filter_map(|&(lo, hi)| self.pair_in(n.checked_sub(hi)?, lo, n))
            .collect();
        self.sample(completed);
        Ok(())
    }

    /// Estimates the mark from the frames added; hands over the measurements behind it.
    pub(crate) fn finish(mut self) -> Result<(LogoModel, Measured), InpaintError> {
        let n = self.crops.len();
        if n < 2 {
            return Err(InpaintError::TooFewFrames { got: n, need: 2 });
        }
        self.pair_the_rest();
        for (first, whole) in self.first.iter_mut().zip(&mut self.first_whole) {
            whole.flush_into(first);
        }
        let (jobs, crops, pairs) = (&self.jobs, &self.crops, &self.pairs);
        let (luma, fitted) = estimate_plane(&jobs[0], crops, pairs, &self.first[0], None);
        let (planes, support) = if pairs.is_empty() || fitted.first * 50 < self.count {
            let [(y, measured), (u, _), (v, _)] =
                std::array::from_fn(|p| estimate_still(&jobs[p], crops));
            let support = MarkSupport {
                moving: false,
                masked: self.count,
                own: measured,
                unseen: 0,
            };
            ([y, u, v], support)
        } else {
            let chroma =
                |p: usize| estimate_plane(&jobs[p], crops, pairs, &self.first[p], Some(&luma)).0;
            let (u, v) = rayon::join(|| chroma(1), || chroma(2));
            let support = MarkSupport {
                moving: true,
                masked: self.count,
                own: fitted.own,
                unseen: fitted.unseen,
            };
            ([luma, u, v], support)
        };
        let logo =
            LogoModel::from_planes(self.width, self.height, planes).with_support(Some(support));
        Ok((
            logo,
            Measured {
                search: self.search,
                consecutive: self.consecutive,
                pairs: self.measured,
                crops: self.crops,
            },
        ))
    }

    /// Pairs the ranges that the end of the frames cut short, and puts every pair in a fixed
    /// order for the second pass, whatever the order they were found in.
    fn pair_the_rest(&mut self) {
        let n = self.crops.len();
        let rest: Vec<_> = (0..n)
            .flat_map(|t| PAIR_RANGES.iter().map(move |&range| (t, range)))
            .filter(|&(t, (lo, hi))| t + lo < n && t + hi > n)
            .collect::<Vec<_>>()
            .into_par_iter()
            .filter_map(|(t, (lo, _))| self.pair_in(t, lo, n))
            .collect();
        self.sample(rest);
        self.pairs.sort_by_key(|&(t, s, _)| (t, s));
    }

    /// The pair for frame `t` in the distance range starting at `lo` and ending (exclusive) at
    /// frame `end`: the frame whose predicted motion is closest to whole pixels, measured from
    /// that prediction. `None` when no frame of the range has one.
    fn pair_in(&self, t: usize, lo: usize, end: usize) -> Option<((usize, usize), Option<Match>)> {
        let (s, guess) = (t + lo..end)
            .filter_map(|s| {
                let guess = self.links[t..s]
                    .iter()
                    .try_fold(Motion::default(), |acc, l| l.map(|m| acc.add(m)))?;
                // A still pair reveals nothing.
                (!guess.within_half_pixel()).then_some((s, guess))
            })
            .min_by(|a, b| a.1.off_grid().total_cmp(&b.1.off_grid()))?;
        let luma = |i: usize| &self.crops[i].planes[0];
        let found = self
            .search
            .confirm(
                luma(t),
                luma(s),
                guess,
                CONFIRM_RESIDUAL * self.max_residual,
            )
            .or_else(|| {
                self.search
                    .refine_either(luma(t), luma(s), guess, self.max_residual)
            });
        Some(((t, s), found))
    }

    /// Keeps the `measured` pairs; adds the samples of those whose motion explains the ring
    /// around the mark to the first pass's moments.
    fn sample(&mut self, measured: Vec<((usize, usize), Option<Match>)>) {
        let pairs: Vec<_> = measured
            .iter()
            .filter_map(|&((t, s), found)| {
                let m = found?;
                (m.residual <= self.max_residual && !m.motion.is_still())
                    .then_some((t, s, m.motion))
            })
            .collect();
        self.measured.extend(measured);
        if pairs.is_empty() {
            return;
        }
        let planes = self.first.iter_mut().zip(&mut self.first_whole);
        for ((first, whole), job) in planes.zip(&self.jobs) {
            add_moments(first, whole, job, &self.crops, &pairs, None);
        }
        self.pairs.extend_from_slice(&pairs);
    }
}

/// Estimates the mark under `mask` from `frames` (see the module docs), and again under the
/// mark found where `mask` is loose around it ([`refit`]).
pub(crate) fn estimate(
    frames: &[Yuv420Frame],
    mask: &Mask,
    config: &InpaintConfig,
) -> Result<LogoModel, InpaintError> {
    refit(estimate_under(frames, mask, config)?, frames, mask, config)
}

/// `model`, estimated under `mask` from `frames`, or, where the mark found covers well under
/// the mask (a mask drawn or found loosely around it), the mark estimated again from `frames`
/// under the mark found, a pixel wider: the clean pixels of the mask then serve as background,
/// which the pixels deep inside it needed (revealed only beyond the mask's edge, a slow pan's
/// pairs reached them only by peeling, whose errors came back as a wrong opacity).
pub(crate) fn refit(
    model: LogoModel,
    frames: &[Yuv420Frame],
    mask: &Mask,
    config: &InpaintConfig,
) -> Result<LogoModel, InpaintError> {
    let Some(found) = model
        .mask()
        .and_then(|m| m.grown(FOUND_MARGIN))
        .ok()
        .and_then(|m| m.intersection(mask))
    else {
        return Ok(model);
    };
    if found.count() as f64 >= REFIT_SHARE * mask.count() as f64 {
        return Ok(model);
    }
    estimate_under(frames, &found, config)
}

/// Pixels around the mark found in a loose mask that the estimate on the mark found keeps.
const FOUND_MARGIN: usize = 1;
/// Share of the mask below which the mark found in it (grown by [`FOUND_MARGIN`]) is estimated
/// again on its own: see [`refit`].
const REFIT_SHARE: f64 = 0.9;

/// Estimates the mark under `mask`, taking only what lies outside it for background.
fn estimate_under(
    frames: &[Yuv420Frame],
    mask: &Mask,
    config: &InpaintConfig,
) -> Result<LogoModel, InpaintError> {
    let mut learner = MarkLearner::new(mask, config);
    for frame in frames {
        learner.add(frame)?;
    }
    Ok(learner.finish()?.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Rect;

    /// A texture panning by whole pixels, under a white mark at half opacity.
    fn marked_pan(n: usize, (w, h): (usize, usize), mark: Rect) -> Vec<Yuv420Frame> {
        let texture = |x: i64, y: i64| {
            let v = (x * 7 + y * 13) % 64 + ((x / 5 + y / 3) % 7) * 20 + (x * y) % 11;
            v.clamp(0, 255) as f32
        };
        (0..n)
            .map(|t| {
                let mut f = Yuv420Frame::new(w, h);
                let (dx, dy) = (3 * t as i64, t as i64);
                for y in 0..h {
                    for x in 0..w {
                        let mut v = texture(x as i64 + dx, y as i64 + dy);
                        let inside = (mark.x..mark.x + mark.width as i64).contains(&(x as i64))
                            && (mark.y..mark.y + mark.height as i64).contains(&(y as i64));
                        if inside {
                            v = 0.5 * v + 0.5 * 235.0;
                        }
                        f.data_mut(0)[y * w + x] = v as u8;
                    }
                }
                f
            })
            .collect()
    }

    #[test]
    fn every_frame_is_paired_once_per_distance_range_as_frames_arrive() {
        let (w, h, n) = (160, 96, 20);
        let mark = Rect::new(60, 36, 40, 24);
        let mask = Mask::from_rect(mark, w, h).expect("a valid mask");
        let mut learner = MarkLearner::new(&mask, &InpaintConfig::default());
        let mut found_early = 0;
        for frame in marked_pan(n, (w, h), mark) {
            learner.add(&frame).expect("frames of the mask's size");
            found_early = learner.pairs.len();
        }
        learner.pair_the_rest();
        // Whole-pixel motion that explains the ring: every range with a frame in it pairs.
        let expected: usize = (0..n)
            .map(|t| PAIR_RANGES.iter().filter(|(lo, _)| t + lo < n).count())
            .sum();
        assert_eq!(learner.pairs.len(), expected);
        assert!(
            found_early < expected,
            "the ranges cut short by the end wait for it"
        );
        for t in 0..n {
            for (lo, hi) in PAIR_RANGES {
                let in_range = learner
                    .pairs
                    .iter()
                    .filter(|&&(a, b, _)| a == t && (lo..hi).contains(&(b - a)))
                    .count();
                assert_eq!(
                    in_range,
                    usize::from(t + lo < n),
                    "frame {t}, range {lo}..{hi}"
                );
            }
        }
        // What is at `p` in frame `a` is at `p + motion` in frame `b`.
        for &(a, b, m) in &learner.pairs {
            let d = (b - a) as f32;
            assert_eq!((m.dx, m.dy), (-3.0 * d, -d), "motion from {a} to {b}");
        }
        let (model, _) = learner.finish().expect("a model");
        let alpha = model.alpha(0, 80, 48);
        assert!((alpha - 0.5).abs() < 0.05, "alpha {alpha} under the mark");
        assert_eq!(model.alpha(0, 10, 10), 0.0);
    }

    /// A mark far wider than the camera moves in the clip, with a pattern across it (stripes
    /// of two colours and two opacities, as lettering has): the pixels deep inside it see
    /// their background only under other parts of the mark.
    #[test]
    fn a_mark_wider_than_the_motion_is_peeled_from_the_outside_in() {
        let (w, h, n) = (200, 64, 24);
        let mark = Rect::new(40, 24, 120, 16);
        let mask = Mask::from_rect(mark, w, h).expect("a valid mask");
        let alpha_at = |x: usize| if (x / 6).is_multiple_of(2) { 0.3 } else { 0.6 };
        let colour_at = |x: usize| {
            if (x / 9).is_multiple_of(2) {
                235.0
            } else {
                30.0
            }
        };
        let texture = |x: i64, y: i64| {
            let v = (x * 7 + y * 13) % 64 + ((x / 5 + y / 3) % 7) * 20 + (x * y) % 11;
            v.clamp(0, 255) as f32
        };
        let frames: Vec<Yuv420Frame> = (0..n)
            .map(|t| {
                let mut f = Yuv420Frame::new(w, h);
                for y in 0..h {
                    for x in 0..w {
                        let mut v = texture(x as i64 + t as i64, y as i64);
                        if mask.contains(x, y) {
                            v = (1.0 - alpha_at(x)) * v + alpha_at(x) * colour_at(x);
                        }
                        f.data_mut(0)[y * w + x] = v.round() as u8;
                    }
                }
                f
            })
            .collect();
        let model = estimate(&frames, &mask, &InpaintConfig::default()).expect("a model");
        // The job log's confidence: nearly every pixel has a line of its own, most of them
        // from samples under parts of the mark already found.
        let support = model.support().expect("an estimate says what it rests on");
        assert!(
            support.moving && support.masked == 1920 && support.own * 100 >= 1920 * 95,
            "{support:?}"
        );
        // One pixel a frame over 24 frames: the middle 70 columns are never in plain view.
        // The pixels seen directly are off by 0.03 on average, by over 0.1 at 6% of them.
        let errors: Vec<f32> = (65..135)
            .flat_map(|x| (26..38).map(move |y| (x, y)))
            .map(|(x, y)| (model.alpha(0, x, y) - alpha_at(x)).abs())
            .collect();
        let mean = errors.iter().sum::<f32>() / errors.len() as f32;
        let off = errors.iter().filter(|&&e| e > 0.1).count();
        assert!(
            mean < 0.04 && off * 10 < errors.len(),
            "alpha off by {mean} on average, by over 0.1 at {off} of {} pixels",
            errors.len()
        );
    }

    /// Lettering (stripes of two opacities and two colours) under a mask drawn loosely around
    /// it, on a slow pan: estimated under the mask alone, the pixels deep inside see their
    /// background only past the clean margin, by peeling (twice the tight mask's error here,
    /// and far more on real footage, where the peeled samples are less exact); estimated again
    /// under the mark found, as closely as under a mask drawn tight.
    #[test]
    fn a_mark_under_a_loose_mask_is_estimated_as_under_a_tight_one() {
        let (w, h, n) = (240, 80, 24);
        let mark = Rect::new(80, 30, 80, 12);
        let alpha_at = |x: usize| if (x / 5).is_multiple_of(2) { 0.35 } else { 0.6 };
        let colour_at = |x: usize| {
            if (x / 7).is_multiple_of(2) {
                235.0
            } else {
                40.0
            }
        };
        let tight = Mask::from_rect(mark, w, h).expect("a valid mask");
        let loose = Mask::from_rect(Rect::new(50, 22, 140, 36), w, h).expect("a valid mask");
        // Smooth random texture: hashed values on a 4-pixel lattice, interpolated.
        let hash = |x: i64, y: i64| -> f32 {
            let v = (x.wrapping_mul(374_761_393) ^ y.wrapping_mul(668_265_263))
                .wrapping_mul(1_274_126_177);
            ((v >> 13) & 255) as f32
        };
        let texture = |x: i64, y: i64| {
            let (gx, gy) = (x.div_euclid(4), y.div_euclid(4));
            let (fx, fy) = (x.rem_euclid(4) as f32 / 4.0, y.rem_euclid(4) as f32 / 4.0);
            let top = hash(gx, gy) * (1.0 - fx) + hash(gx + 1, gy) * fx;
            let bottom = hash(gx, gy + 1) * (1.0 - fx) + hash(gx + 1, gy + 1) * fx;
            16.0 + (top * (1.0 - fy) + bottom * fy) * 0.85
        };
        let frames: Vec<Yuv420Frame> = (0..n)
            .map(|t| {
                let mut f = Yuv420Frame::new(w, h);
                for y in 0..h {
                    for x in 0..w {
                        let mut v = texture(x as i64 + 2 * t as i64, y as i64 + t as i64);
                        if tight.contains(x, y) {
                            v = (1.0 - alpha_at(x)) * v + alpha_at(x) * colour_at(x);
                        }
                        f.data_mut(0)[y * w + x] = v.round() as u8;
                    }
                }
                f
            })
            .collect();
        let near = tight.grown(1).expect("a mask");
        let errors = |model: &LogoModel| -> (f32, f32) {
            let marked: Vec<f32> = (mark.x as usize..(mark.x + mark.width as i64) as usize)
                .flat_map(|x| (32..40).map(move |y| (x, y)))
                .map(|(x, y)| (model.alpha(0, x, y) - alpha_at(x)).abs())
                .collect();
            let clean = (50..190)
                .flat_map(|x| (22..58).map(move |y| (x, y)))
                .filter(|&(x, y)| !near.contains(x, y))
                .map(|(x, y)| model.alpha(0, x, y))
                .fold(0.0f32, f32::max);
            (marked.iter().sum::<f32>() / marked.len() as f32, clean)
        };
        let config = InpaintConfig::default();
        let (tight_error, _) = errors(&estimate(&frames, &tight, &config).expect("a model"));
        let (loose_error, clean) = errors(&estimate(&frames, &loose, &config).expect("a model"));
        assert!(
            loose_error < 1.25 * tight_error && clean == 0.0,
            "alpha off by {loose_error} on average under the loose mask ({tight_error} under \
             the tight one); up to {clean} on clean pixels"
        );
    }

    /// Moments of `samples` (background, observed), each of weight 1.
    fn moments_of(samples: impl Iterator<Item = (f32, f32)>) -> Moments {
        let mut m = Moments::default();
        for (bg, obs) in samples {
            add_sample(&mut m, 1.0, bg, obs);
        }
        m
    }

    /// An opaque badge whose pixels are told by their lines, but for two whose background
    /// barely varies in the samples: one on the rim of a disc of another colour, which stays
    /// put, and one semi-transparent over the badge's colour, which follows its background.
    /// The mark's colour around (the badge's) gives the first an opacity its samples deny: it
    /// is left to its neighbours; the second takes its opacity from that colour.
    #[test]
    fn an_opacity_from_the_colour_around_must_match_how_the_pixel_follows_its_background() {
        let (w, h) = (64, 48);
        let mark = Rect::new(20, 16, 24, 16);
        let mask = Mask::from_rect(mark, w, h).expect("a valid mask");
        let region = Region::new(&mask, 8);
        let job = PlaneJob::new(&mask, &region, 0);
        let b = job.bounds;
        let size = b.width() * b.height();
        // A background that varies widely, and one that barely does (a smooth patch).
        let wide = |k: usize| 40.0 + (k * 37 % 160) as f32;
        let smooth = |k: usize| 152.0 + (k % 5) as f32 - 2.0;
        let badge = 54.0;
        let mut moments: Vec<Moments> = (0..size)
            .map(|_| moments_of((0..40).map(|k| (wide(k), badge))))
            .collect();
        let (rim, semi) = (b.width() * 8 + 10, b.width() * 8 + 14);
        moments[rim] = moments_of((0..40).map(|k| (smooth(k), 111.0)));
        moments[semi] = moments_of((0..40).map(|k| (smooth(k), 0.5 * badge + 0.5 * smooth(k))));
        let solved = solve(
            &job,
            &moments,
            Fits {
                min_var: 4.0,
                min_rho: 0.5,
            },
            None,
        );
        assert!(solved.known_count() >= size - 1);
        assert!(
            !solved.known_alpha[rim],
            "the rim pixel took opacity {}",
            solved.alpha[rim]
        );
        assert!(solved.known_alpha[semi]);
        assert!(
            (solved.alpha[semi] - 0.5).abs() < 0.05,
            "opacity {}",
            solved.alpha[semi]
        );
        assert_eq!(solved.alpha[b.width() * 2 + 3], 1.0);
    }
}
