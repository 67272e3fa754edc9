//! The mark under a camera that does not move.
//!
//! No motion reveals the background, but whatever changes in place shows through a
//! semi-transparent mark: a light that flickers, cells that come and go, a shadow that passes.
//! Under the mark a pixel's values over time are `c + k * background_t`, so they rise and fall
//! with those of a clear pixel nearby that sees the same change (the same cell, the same patch
//! of light), scaled by `k = 1 - alpha`. Each masked pixel that changes looks for the clear
//! pixel within [`MATCH_RADIUS`] whose values over time follow its own most closely
//! (correlation at least [`MATCH_MIN_RHO`]), and takes `k` and `c` from the two pixels' means
//! and deviations: the same reduced-major-axis line as a pair's samples give under a moving
//! camera. A correlation does not tell a change from the same change scaled, so the clear
//! pixels that follow as closely must agree on how much they change (a picture that brightens
//! as a whole matches nothing). Pixels taken off this way serve as clear pixels for the next
//! round, so the match reaches into a mark wider than what changes beside it. Sensor noise is
//! independent from pixel to pixel and matches nothing; a still picture under noise keeps the
//! fallback below.
//!
//! Every other pixel falls back to temporal statistics against the surroundings: `k =
//! std_t(observed) / std_t(background)`, with the background's temporal mean and deviation
//! interpolated from the pixels around the mask. This is much less exact; a given logo image is
//! better there.

use multiversion::multiversion;
use rayon::prelude::*;

use super::{Line, PEEL_MIN_K, PlaneJob, is_identity};
use crate::fill;
use crate::logo::LogoPlane;
use crate::mask::Bounds;
use crate::region::Crop;

/// Farthest a masked pixel's clear match is looked for, in luma pixels (half on chroma).
const MATCH_RADIUS: usize = 12;
/// Least correlation over time between a masked pixel and its match. Independent noise in 60
/// frames correlates by about 0.13 (one standard deviation); the best of the few hundred pixels
/// within reach stays well below this.
const MATCH_MIN_RHO: f32 = 0.8;
/// Most the background's deviations over time may differ (as a ratio) between the pixels that
/// match a masked pixel: see [`best_match`].
const MATCH_MAX_SPREAD: f32 = 1.25;
/// Least deviation over time (levels) of a pixel that takes part in a match: below it, the
/// pixel shows its noise rather than a change.
const MATCH_MIN_DEV: f32 = 3.0;
/// Fewest frames the match compares.
const MATCH_MIN_FRAMES: usize = 8;
/// Rounds of matching: each takes the pixels matched by the one before as clear.
const MATCH_ROUNDS: usize = 4;
/// Most values over time the match holds (pixels that change times frames, 4 bytes each,
/// 128 MiB): more than about 550,000 such pixels over 60 frames keep the fallback.
const MATCH_MOST_VALUES: usize = 1 << 25;

/// The fixed-camera estimate of one plane: matched changes where they show through the mark,
/// temporal statistics elsewhere (see the module docs). Returns the plane and how many masked
/// pixels were matched.
pub(super) fn estimate_still(job: &PlaneJob, crops: &[Crop]) -> (LogoPlane, usize) {
    let mut series = Series::new(job, crops, around(job));
    let mut plane = from_statistics(job, &series);
    let matched = match_changes(job, crops, &mut series, &mut plane);
    (plane, matched)
}

/// Farthest a masked pixel's clear match is looked for on `job`'s plane.
fn match_radius(job: &PlaneJob) -> usize {
    if job.index == 0 {
        MATCH_RADIUS
    } else {
        MATCH_RADIUS / 2
    }
}

/// The area the still estimate reads: the mask's bounds grown by the match's reach, inside the
/// working region (whose margin is wider, so it holds the statistics' own margin too).
fn around(job: &PlaneJob) -> Bounds {
    let (b, region, radius) = (job.bounds, job.region, match_radius(job));
    Bounds {
        x0: b.x0.saturating_sub(radius).max(region.x0),
        y0: b.y0.saturating_sub(radius).max(region.y0),
        x1: (b.x1 + radius).min(region.x1),
        y1: (b.y1 + radius).min(region.y1),
    }
}

/// Temporal statistics against interpolated surroundings, for every masked pixel, from the
/// means and deviations of `series`.
fn from_statistics(job: &PlaneJob, series: &Series) -> LogoPlane {
    let b = job.bounds;
    let margin = if job.index == 0 { 8 } else { 4 };
    let region = b.grown(margin, job.w, job.h);
    let (rw, rh) = (region.width(), region.height());
    let (area, aw) = (series.area, series.area.width());
    let at = |r: usize| (region.y0 - area.y0 + r / rw) * aw + region.x0 - area.x0 + r % rw;
    let mean: Vec<f32> = (0..rw * rh).map(|r| series.mean[at(r)]).collect();
    let dev: Vec<f32> = (0..rw * rh).map(|r| series.dev[at(r)]).collect();
    let unknown: Vec<u8> = (0..rw * rh)
        .map(|r| u8::from(job.blocked_at(region.x0 + r % rw, region.y0 + r / rw)))
        .collect();
    let (mut ref_mean, mut ref_dev) = (mean.clone(), dev.clone());
    fill::fill(&mut ref_mean, &unknown, rw, rh);
    fill::fill(&mut ref_dev, &unknown, rw, rh);
    let size = b.width() * b.height();
    let (mut alpha, mut premul) = (vec![0.0f32; size], vec![0.0f32; size]);
    for (i, r) in job.masked_indices(region) {
        let (k, c) = if ref_dev[r] < 2.0 {
            (0.0, mean[r])
        } else {
            let k = (dev[r] / ref_dev[r]).min(1.0);
            (k, mean[r] - k * ref_mean[r])
        };
        if !is_identity_over(k, c, ref_mean[r], ref_dev[r]) {
            alpha[i] = 1.0 - k;
            premul[i] = c.clamp(0.0, 255.0 * alpha[i]);
        }
    }
    LogoPlane {
        bounds: b,
        alpha,
        premul,
    }
}

/// Whether the line `c + k * x` leaves every background value around `mean` (± 2 `dev`)
/// within 0.75 levels: no mark.
fn is_identity_over(k: f32, c: f32, mean: f32, dev: f32) -> bool {
    let line = Line {
        k,
        c,
        tolerance: 0.0,
    };
    let (mean, dev) = (f64::from(mean), f64::from(dev));
    is_identity(&line, &[1.0, mean, 0.0, mean * mean + dev * dev, 0.0, 0.0])
}

/// Row `y` of `area` (plane bounds inside the working region) in a frame's crop.
fn area_row<'a>(job: &PlaneJob, crop: &'a Crop, area: Bounds, y: usize) -> &'a [u8] {
    let cw = job.region.width();
    let start = (area.y0 - job.region.y0 + y) * cw + area.x0 - job.region.x0;
    &crop.planes[job.index][start..start + area.width()]
}

/// Each pixel's mean and deviation over time in an area around the mask, and the values over
/// time, standardised (zero mean, unit deviation), of the pixels that change: those that may
/// take part in a match, one pixel after the other.
struct Series {
    area: Bounds,
    frames: usize,
    mean: Vec<f32>,
    dev: Vec<f32>,
    /// Per pixel of the area, where its values are in `standard` (`u32::MAX`: not held).
    slot: Vec<u32>,
    standard: Vec<f32>,
}

impl Series {
    /// The means and deviations of the area's pixels over `crops`, row by row.
    fn new(job: &PlaneJob, crops: &[Crop], area: Bounds) -> Self {
        let (aw, ah, n) = (area.width(), area.height(), crops.len());
        // Sums of values and of their squares, exact.
        let (mut sums, mut squares) = (vec![0u64; aw * ah], vec![0u64; aw * ah]);
        for crop in crops {
            for (y, (s, s2)) in sums
                .chunks_exact_mut(aw)
                .zip(squares.chunks_exact_mut(aw))
                .enumerate()
            {
                let row = area_row(job, crop, area, y);
                for ((s, s2), &v) in s.iter_mut().zip(s2.iter_mut()).zip(row) {
                    *s += u64::from(v);
                    *s2 += u64::from(v) * u64::from(v);
                }
            }
        }
        let (mean, dev) = sums
            .iter()
            .zip(&squares)
            .map(|(&s, &s2)| {
                let m = s as f64 / n as f64;
                let var = (s2 as f64 / n as f64 - m * m).max(0.0);
                (m as f32, var.sqrt() as f32)
            })
            .unzip();
        Self {
            area,
            frames: n,
            mean,
            dev,
            slot: vec![u32::MAX; aw * ah],
            standard: Vec::new(),
        }
    }

    /// Holds the standardised values over `crops` of the pixels `held` (area indices).
    fn hold(&mut self, job: &PlaneJob, crops: &[Crop], held: &[usize]) {
        let (aw, n) = (self.area.width(), self.frames);
        for (k, &r) in held.iter().enumerate() {
            self.slot[r] = k as u32;
        }
        self.standard = vec![0.0f32; held.len() * n];
        for (t, crop) in crops.iter().enumerate() {
            for &r in held {
                let v = area_row(job, crop, self.area, r / aw)[r % aw];
                let k = self.slot[r] as usize;
                self.standard[k * n + t] = (f32::from(v) - self.mean[r]) / self.dev[r];
            }
        }
    }

    /// The standardised values of pixel `r`, which is held.
    fn at(&self, r: usize) -> &[f32] {
        &self.standard[self.slot[r] as usize * self.frames..][..self.frames]
    }
}

/// Overwrites the masked pixels of `plane` whose changes over time follow a clear pixel's
/// nearby with the line between the two (see the module docs); returns how many.
fn match_changes(
    job: &PlaneJob,
    crops: &[Crop],
    series: &mut Series,
    plane: &mut LogoPlane,
) -> usize {
    let n = crops.len();
    if n < MATCH_MIN_FRAMES {
        return 0;
    }
    let (area, radius) = (series.area, match_radius(job));
    let aw = area.width();
    let clear: Vec<bool> = (0..aw * area.height())
        .map(|r| !job.blocked_at(area.x0 + r % aw, area.y0 + r / aw))
        .collect();
    let changes = |r: usize| series.dev[r] >= MATCH_MIN_DEV;
    // The background's mean and deviation where it is known: clear pixels that change, then
    // the pixels taken off by each round. Its standardised values are the pixel's own.
    let mut fresh: Vec<bool> = (0..clear.len()).map(|r| clear[r] && changes(r)).collect();
    let mut todo: Vec<(usize, usize)> = job
        .masked_indices(area)
        .filter(|&(_, r)| changes(r))
        .collect();
    let held: Vec<usize> = (0..clear.len())
        .filter(|&r| fresh[r])
        .chain(todo.iter().map(|&(_, r)| r))
        .collect();
    if todo.is_empty() || held.len() == todo.len() || held.len() * n > MATCH_MOST_VALUES {
        return 0;
    }
    series.hold(job, crops, &held);
    let (mut bg_mean, mut bg_dev) = (series.mean.clone(), series.dev.clone());
    let mut matched = 0;
    for _ in 0..MATCH_ROUNDS {
        let found: Vec<Option<usize>> = todo
            .par_iter()
            .map(|&(_, r)| best_match(series, &fresh, &bg_dev, r, radius))
            .collect();
        fresh.fill(false);
        let mut left = Vec::with_capacity(todo.len());
        for (&(i, r), q) in todo.iter().zip(found) {
            let Some(q) = q else {
                left.push((i, r));
                continue;
            };
            matched += 1;
            let k = (series.dev[r] / bg_dev[q]).min(1.0);
            let c = series.mean[r] - k * bg_mean[q];
            if is_identity_over(k, c, bg_mean[q], bg_dev[q]) {
                (plane.alpha[i], plane.premul[i]) = (0.0, 0.0);
            } else {
                plane.alpha[i] = 1.0 - k;
                plane.premul[i] = c.clamp(0.0, 255.0 * plane.alpha[i]);
            }
            if k >= PEEL_MIN_K {
                (bg_mean[r], bg_dev[r]) = ((series.mean[r] - c) / k, series.dev[r] / k);
                fresh[r] = true;
            }
        }
        if left.len() == todo.len() {
            break;
        }
        todo = left;
    }
    matched
}

/// The pixel of `area` within `radius` of pixel `r` among the `candidates` whose values over
/// time correlate best with `r`'s, if by at least [`MATCH_MIN_RHO`], and if the pixels that
/// correlate so well agree on how much their background changes (`bg_dev`, within
/// [`MATCH_MAX_SPREAD`]). A correlation does not tell a change from the same change scaled:
/// where the pixels that follow one change by amounts of their own (a picture that brightens
/// as a whole; the blurred edge of a patch), nothing says which amount is the masked pixel's.
fn best_match(
    series: &Series,
    candidates: &[bool],
    bg_dev: &[f32],
    r: usize,
    radius: usize,
) -> Option<usize> {
    let (aw, ah) = (series.area.width(), series.area.height());
    let (x, y) = (r % aw, r / aw);
    let own = series.at(r);
    let least = MATCH_MIN_RHO * series.frames as f32;
    let mut best: Option<(f32, usize)> = None;
    let (mut low, mut high) = (f32::INFINITY, 0.0f32);
    for qy in y.saturating_sub(radius)..(y + radius + 1).min(ah) {
        for qx in x.saturating_sub(radius)..(x + radius + 1).min(aw) {
            let q = qy * aw + qx;
            if !candidates[q] {
                continue;
            }
            let score = dot(own, series.at(q));
            if score < least {
                continue;
            }
            (low, high) = (low.min(bg_dev[q]), high.max(bg_dev[q]));
            if best.is_none_or(|(s, _)| score > s) {
                best = Some((score, q));
            }
        }
    }
    best.filter(|_| high <= MATCH_MAX_SPREAD * low)
        .map(|(_, q)| q)
}

/// The dot product of two equally long series, in eight lanes the compiler vectorises.
/// Compiled twice, for the baseline CPU and for AVX2, and picked at run time.
#[multiversion(targets("x86_64+avx2"))]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            lanes[k] += x[k] * y[k];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::{PlaneJob, Series, around, estimate_still, from_statistics};
    use crate::config::InpaintConfig;
    use crate::estimate::estimate;
    use crate::mask::{Mask, Rect};
    use crate::plane::Yuv420Frame;
    use crate::region::{Crop, Region};

    fn hash(a: u64, b: u64, c: u64) -> u64 {
        let v = a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ b.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
            ^ c.wrapping_mul(0x1656_67B1_9E37_79F9);
        (v ^ (v >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 40
    }

    /// A still camera on cells of 8 pixels that light up and go dark in place (every third
    /// frame each may change), with sensor noise, under lettering: stripes at half opacity
    /// between clear ones, in a band a little lower than two rows of cells.
    #[test]
    fn a_mark_over_a_still_camera_is_estimated_from_what_changes_under_it() {
        let (w, h, n) = (160, 96, 60);
        let band = Rect::new(60, 42, 40, 12);
        let alpha_at = |x: usize| if (x / 3).is_multiple_of(2) { 0.5 } else { 0.0 };
        let lit = |x: usize, y: usize, t: usize| {
            hash(x as u64 / 8, y as u64 / 8, t as u64 / 3).is_multiple_of(3)
        };
        let frames: Vec<Yuv420Frame> = (0..n)
            .map(|t| {
                let mut f = Yuv420Frame::new(w, h);
                for y in 0..h {
                    for x in 0..w {
                        let noise = (hash(x as u64, y as u64, 1000 + t as u64) % 5) as f32 - 2.0;
                        let mut v = if lit(x, y, t) { 170.0 } else { 30.0 } + noise;
                        if (60..100).contains(&x) && (42..54).contains(&y) {
                            v = (1.0 - alpha_at(x)) * v + alpha_at(x) * 235.0;
                        }
                        f.data_mut(0)[y * w + x] = v.round() as u8;
                    }
                }
                f
            })
            .collect();
        let mask = Mask::from_rect(band, w, h).expect("a valid mask");
        let model = estimate(&frames, &mask, &InpaintConfig::default()).expect("a model");
        // Pixels whose cell changed while the frames were taken.
        let changing = |x: usize, y: usize| (1..n).any(|t| lit(x, y, t) != lit(x, y, 0));
        let errors: Vec<f32> = (60..100)
            .flat_map(|x| (42..54).map(move |y| (x, y)))
            .filter(|&(x, y)| changing(x, y))
            .map(|(x, y)| (model.alpha(0, x, y) - alpha_at(x)).abs())
            .collect();
        let off = errors.iter().filter(|&&e| e > 0.05).count();
        assert!(
            errors.len() > 300 && off * 100 < errors.len(),
            "alpha off by over 0.05 at {off} of {} pixels",
            errors.len()
        );
        // The job log's confidence: the pixels matched, of the band's.
        let support = model.support().expect("an estimate says what it rests on");
        assert!(
            !support.moving && support.masked == 480 && support.own >= errors.len(),
            "{support:?}"
        );
    }

    /// A still camera whose picture brightens and darkens as a whole (exposure), under the same
    /// lettering: every pixel follows the change, each by its own amount, so no pixel's amount
    /// can be told from another's and none is matched.
    #[test]
    fn a_change_every_pixel_follows_by_its_own_amount_matches_nothing() {
        let (w, h, n) = (160, 96, 60);
        let alpha_at = |x: usize| if (x / 3).is_multiple_of(2) { 0.5 } else { 0.0 };
        let texture = |x: usize, y: usize| {
            let lattice = |gx: usize, gy: usize| (hash(gx as u64, gy as u64, 7) % 160) as f32;
            let (gx, gy, fx, fy) = (x / 6, y / 6, (x % 6) as f32 / 6.0, (y % 6) as f32 / 6.0);
            let top = lattice(gx, gy) * (1.0 - fx) + lattice(gx + 1, gy) * fx;
            let bottom = lattice(gx, gy + 1) * (1.0 - fx) + lattice(gx + 1, gy + 1) * fx;
            30.0 + top * (1.0 - fy) + bottom * fy
        };
        let frames: Vec<Yuv420Frame> = (0..n)
            .map(|t| {
                let gain = 1.0 + 0.25 * (t as f32 / 4.0).sin();
                let mut f = Yuv420Frame::new(w, h);
                for y in 0..h {
                    for x in 0..w {
                        let noise = (hash(x as u64, y as u64, 1000 + t as u64) % 5) as f32 - 2.0;
                        let mut v = gain * texture(x, y) + noise;
                        if (60..100).contains(&x) && (42..54).contains(&y) {
                            v = (1.0 - alpha_at(x)) * v + alpha_at(x) * 235.0;
                        }
                        f.data_mut(0)[y * w + x] = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
                f
            })
            .collect();
        let mask = Mask::from_rect(Rect::new(60, 42, 40, 12), w, h).expect("a valid mask");
        let region = Region::new(&mask, 24);
        let job = PlaneJob::new(&mask, &region, 0);
        let crops: Vec<Crop> = frames.iter().map(|f| region.crop(f)).collect();
        let series = Series::new(&job, &crops, around(&job));
        assert_eq!(
            estimate_still(&job, &crops),
            (from_statistics(&job, &series), 0)
        );
    }
}
