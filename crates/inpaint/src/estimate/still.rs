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
//! Every other pixel falls back to temporal statistics against the surroundings. The mark
//! scales the sensor noise under it by `k` as well: where the clear pixels around the mask
//! change alike, as a camera's noise does, `k` is the ratio of a pixel's deviation over time to
//! the surroundings' (averaged over the clear pixels nearby, interpolated into the mask),
//! pooled over the pixels nearby whose ratio is alike (one pixel's ratio over 60 frames is off
//! by a fifth), as told by the ratios fitted to the frames' mean image around each pixel: the
//! mark's edges are edges of that image too, so the pooling keeps them, even in strokes two
//! pixels wide. Where `k` is alike at two neighbours, their means over time differ by `k` times
//! the background's difference, so the background under the mark follows the mean image's
//! detail scaled by `1 / k` and meets the clear pixels around the mask (a Poisson equation);
//! across the mark's own edges it is as smooth as it can be. Where things come and go around
//! the mask instead, each pixel keeps its own ratio against the surroundings interpolated, a
//! rough guess that the match above replaces wherever it can. A lossy input keeps too little
//! noise to tell (the mark is then taken as opaque and filled); a given logo image is exact.

use multiversion::multiversion;
use rayon::prelude::*;

use super::{Line, PEEL_MIN_K, PlaneJob, is_identity};
use crate::fill::{self, Anisotropy};
use crate::logo::LogoPlane;
use crate::mask::Bounds;
use crate::morph;
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
/// pixels had an opacity measured on their own: matched, or told by the noise under them.
pub(super) fn estimate_still(job: &PlaneJob, crops: &[Crop]) -> (LogoPlane, usize) {
    let mut series = Series::new(job, crops, around(job));
    let (mut plane, mut measured) = from_statistics(job, &series);
    match_changes(job, crops, &mut series, &mut plane, &mut measured);
    (plane, measured.iter().filter(|&&m| m).count())
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

/// Temporal statistics against the surroundings, for every masked pixel, from the means and
/// deviations of `series` (see the module docs); and, per pixel of the mask's bounds, whether
/// the noise under it told its opacity.
fn from_statistics(job: &PlaneJob, series: &Series) -> (LogoPlane, Vec<bool>) {
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
    // Under a camera's noise alone, each masked pixel's opacity pooled with its alike
    // neighbours'; where things come and go around the mask, each pixel's own (below).
    let (k, ref_dev) = if changes_like_noise(&dev, &unknown) {
        let ref_dev = surroundings_deviation(&dev, &unknown, rw, rh);
        let k = opacity_from_deviations(&dev, &ref_dev, &mean, &unknown, (rw, rh));
        (opaque_beside_opaque(k, rw, rh), ref_dev)
    } else {
        let mut ref_dev = dev.clone();
        fill::fill(&mut ref_dev, &unknown, rw, rh, Anisotropy::ISOTROPIC);
        (vec![None; rw * rh], ref_dev)
    };
    let background = background_under(&mean, &k, &unknown, rw, rh);
    let size = b.width() * b.height();
    let (mut alpha, mut premul) = (vec![0.0f32; size], vec![0.0f32; size]);
    let mut measured = vec![false; size];
    for (i, r) in job.masked_indices(region) {
        measured[i] = k[r].is_some();
        let (k, c) = match k[r] {
            Some(k) => (k, mean[r] - k * background[r]),
            // Where things come and go around the mask (cells of a game of life), how much a
            // pixel changes says as much about what changes there as about the mark: its own
            // ratio, against the smooth surface through the surroundings, where they change by
            // more than noise (the match takes over where a clear pixel changes alike).
            None if ref_dev[r] >= CHANGES_MIN_DEV => {
                let k = (dev[r] / ref_dev[r]).min(1.0);
                (k, mean[r] - k * background[r])
            }
            None => (0.0, mean[r]),
        };
        if !is_identity_over(k, c, background[r], ref_dev[r]) {
            alpha[i] = 1.0 - k;
            premul[i] = c.clamp(0.0, 255.0 * alpha[i]);
        }
    }
    let plane = LogoPlane {
        bounds: b,
        alpha,
        premul,
    };
    (plane, measured)
}

/// Reach (pixels either side) over which the known pixels' variances are averaged for the
/// surroundings' deviation: one pixel's variance over 60 frames is off by 18%.
const REFERENCE_REACH: usize = 8;

/// The deviation over time of the background at each pixel, from the known pixels around:
/// their variances averaged over [`REFERENCE_REACH`], then interpolated into the unknown ones.
fn surroundings_deviation(dev: &[f32], unknown: &[u8], w: usize, h: usize) -> Vec<f32> {
    let known = |r: usize| unknown[r] == 0;
    // Sums of the known pixels' variances, and their counts, along each row's window, then
    // those sums along each column's.
    let (mut sum, mut count) = (vec![0.0f32; w * h], vec![0.0f32; w * h]);
    for y in 0..h {
        for x in 0..w {
            let r = y * w + x;
            for qx in x.saturating_sub(REFERENCE_REACH)..(x + REFERENCE_REACH + 1).min(w) {
                let q = y * w + qx;
                if known(q) {
                    sum[r] += dev[q] * dev[q];
                    count[r] += 1.0;
                }
            }
        }
    }
    let mut var = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let r = y * w + x;
            if !known(r) {
                continue;
            }
            let (mut s, mut n) = (0.0, 0.0);
            for qy in y.saturating_sub(REFERENCE_REACH)..(y + REFERENCE_REACH + 1).min(h) {
                s += sum[qy * w + x];
                n += count[qy * w + x];
            }
            var[r] = s / n;
        }
    }
    fill::fill(&mut var, unknown, w, h, Anisotropy::ISOTROPIC);
    var.iter().map(|v| v.max(0.0).sqrt()).collect()
}

/// Least deviation over time (levels) of the pixels around the mask for the ratio of a masked
/// pixel's deviation to theirs to tell its opacity. Sensor noise of a camera is about 2 levels;
/// a lossy input leaves less, and the quantisation alone 0.3.
const STATISTICS_MIN_DEV: f32 = 1.0;
/// Least deviation over time (levels) of the pixels around the mask, where things come and go
/// around it, for a masked pixel's own ratio to be taken.
const CHANGES_MIN_DEV: f32 = 2.0;
/// The variance of rounding to whole levels.
const ROUNDING_VARIANCE: f32 = 1.0 / 12.0;
/// The least `k` a pooled ratio gives a pixel; below it, the pixel is opaque.
const OPAQUE_K: f32 = 0.25;
/// Reach (pixels either side) and spatial and ratio scales of the filter that pools the ratios
/// of deviations: the ratio of squared deviations over 60 frames is off by 18% (one standard
/// deviation) per pixel, so it is pooled over the pixels nearby whose ratio is alike (a
/// bilateral filter on its logarithm, which keeps the mark's edges).
const POOL_REACH: usize = 3;
const POOL_SPACE: f32 = 3.0;
const POOL_RATIO: f32 = 0.3;

/// Least share of the known pixels whose deviation over time is within [`NOISE_SPREAD`] of
/// their median for what changes around the mask to be taken as a camera's noise.
const NOISE_MIN_SHARE: f32 = 0.8;
const NOISE_SPREAD: f32 = 1.5;

/// Whether the known pixels change over time as a camera's sensor noise does, each by about as
/// much as the others: over 60 frames one pixel's deviation is off by a tenth. Things that come
/// and go (cells of a game of life, a passing shadow), and the coding noise of a lossy input,
/// change some pixels far more than others.
fn changes_like_noise(dev: &[f32], unknown: &[u8]) -> bool {
    let mut known: Vec<f32> = dev
        .iter()
        .zip(unknown)
        .filter(|&(_, &u)| u == 0)
        .map(|(&d, _)| d)
        .collect();
    if known.is_empty() {
        return false;
    }
    let middle = known.len() / 2;
    let median = *known.select_nth_unstable_by(middle, f32::total_cmp).1;
    let alike = known
        .iter()
        .filter(|&&d| d * NOISE_SPREAD >= median && d <= median * NOISE_SPREAD)
        .count();
    alike as f32 >= NOISE_MIN_SHARE * known.len() as f32
}

/// Each unknown pixel's `k = 1 - alpha`, from the ratio of its deviation over time (`dev`) to
/// the surroundings' (`ref_dev`, interpolated): the mark scales whatever changes under it,
/// sensor noise too, by `k`. Pooled with the pixels nearby that are alike, as told by a copy
/// that follows the mark's edges in the frames' `mean` (see [`follow_edges`]); 1 at known
/// pixels, `None` where the surroundings change too little to tell.
fn opacity_from_deviations(
    dev: &[f32],
    ref_dev: &[f32],
    mean: &[f32],
    unknown: &[u8],
    (w, h): (usize, usize),
) -> Vec<Option<f32>> {
    // Each pixel's ratio of squared deviations (1 at known pixels).
    let ratio: Vec<Option<f32>> = (0..w * h)
        .map(|r| {
            if unknown[r] == 0 {
                Some(1.0)
            } else if ref_dev[r] < STATISTICS_MIN_DEV {
                None
            } else {
                // Rounding to whole levels adds its own variance, unscaled, to both.
                let ratio = (dev[r].powi(2) - ROUNDING_VARIANCE).max(0.0)
                    / (ref_dev[r].powi(2) - ROUNDING_VARIANCE);
                Some(ratio.clamp(0.0, 1.5))
            }
        })
        .collect();
    let log_ratio: Vec<Option<f32>> = ratio.iter().map(|v| v.map(|v| v.max(0.005).ln())).collect();
    // The range weights compare a copy that follows the mark's edges (a cross bilateral
    // filter): each pixel's own ratio is too noisy to tell alike neighbours by, and a copy
    // merely smoothed blurs the mark's edges, which at 360p are most of a lettering's pixels.
    let own_k: Vec<Option<f32>> = ratio.iter().map(|v| v.map(f32::sqrt)).collect();
    let guide: Vec<Option<f32>> = follow_edges(&own_k, mean, (w, h))
        .into_iter()
        .zip(unknown)
        .map(|(k, &u)| match u {
            0 => Some(0.0),
            _ => k.map(|k| 2.0 * k.clamp(GUIDE_LEAST_K, 1.0).ln()),
        })
        .collect();
    let pooled = pool(&log_ratio, &guide, unknown, (w, h));
    (0..w * h)
        .map(|r| {
            if unknown[r] == 0 {
                return Some(1.0);
            }
            let k = (0.5 * pooled[r]?).exp().min(1.0);
            // Below it, what changes under the mark is its own rounding: opaque.
            Some(if k < OPAQUE_K { 0.0 } else { k })
        })
        .collect()
}

/// Least `k` the pooling's guide tells apart (its logarithm grows without bound below).
const GUIDE_LEAST_K: f32 = 0.07;
/// Reach (pixels either side) of the windows over which [`follow_edges`] fits `k` to the mean.
const EDGES_REACH: usize = 1;
/// Variance of the mean image (levels²) over a window below which it does not steer `k` there:
/// a window with less detail takes the plain average of its `k`.
const EDGES_LEAST_VARIANCE: f32 = 6.5;

/// `k` smoothed along the frames' `mean` (a guided filter, He et al. 2010): over each 3x3
/// window `k` is fitted as a linear function of the mean, and each pixel takes the average of
/// the fits of the windows it is in. The mark's edges are edges of the mean image too (it
/// lightens or darkens what it covers), so the fit keeps them sharp where the plain average
/// would spread them, while over texture under an even part of the mark `k` does not follow
/// the mean and the fit is a plain average. Undefined pixels take no part and stay undefined.
fn follow_edges(k: &[Option<f32>], mean: &[f32], (w, h): (usize, usize)) -> Vec<Option<f32>> {
    // Window means over the defined pixels of the guide, `k`, their product and the guide's
    // square.
    let moments = window_means(k, (w, h), |r| {
        let (i, p) = (mean[r], k[r].unwrap_or(0.0));
        [i, p, i * p, i * i]
    });
    // Each window's line `k = a * mean + b`.
    let lines: Vec<Option<[f32; 2]>> = moments
        .iter()
        .map(|&[mi, mp, mip, mii]| {
            if !mi.is_finite() {
                return None;
            }
            let a = (mip - mi * mp) / (mii - mi * mi + EDGES_LEAST_VARIANCE);
            Some([a, mp - a * mi])
        })
        .collect();
    let fits = window_means(k, (w, h), |r| {
        let [a, b] = lines[r].unwrap_or([0.0, 0.0]);
        [a, b, 0.0, 0.0]
    });
    (0..w * h)
        .map(|r| {
            k[r]?;
            let [a, b, ..] = fits[r];
            Some((a * mean[r] + b).clamp(0.0, 1.0))
        })
        .collect()
}

/// Means over each pixel's window (reach [`EDGES_REACH`]) of `value` at the pixels where
/// `defined` is; NaN where none is.
fn window_means(
    defined: &[Option<f32>],
    (w, h): (usize, usize),
    value: impl Fn(usize) -> [f32; 4],
) -> Vec<[f32; 4]> {
    (0..w * h)
        .map(|r| {
            let (x, y) = (r % w, r / w);
            let (mut sum, mut n) = ([0.0f32; 4], 0.0f32);
            for qy in y.saturating_sub(EDGES_REACH)..(y + EDGES_REACH + 1).min(h) {
                for qx in x.saturating_sub(EDGES_REACH)..(x + EDGES_REACH + 1).min(w) {
                    let q = qy * w + qx;
                    if defined[q].is_some() {
                        for (s, v) in sum.iter_mut().zip(value(q)) {
                            *s += v;
                        }
                        n += 1.0;
                    }
                }
            }
            sum.map(|s| s / n)
        })
        .collect()
}

/// Gaussian-weighted means (spatial scale [`POOL_SPACE`]) of the defined `values` within
/// [`POOL_REACH`] of each defined unknown one, weighted also by how alike the `guide` is at the
/// two pixels (scale [`POOL_RATIO`]). Known pixels keep their value.
fn pool(
    values: &[Option<f32>],
    guide: &[Option<f32>],
    unknown: &[u8],
    (w, h): (usize, usize),
) -> Vec<Option<f32>> {
    let reach = POOL_REACH as isize;
    let offsets: Vec<(isize, isize, f32)> = (-reach..=reach)
        .flat_map(|dy| (-reach..=reach).map(move |dx| (dx, dy)))
        .map(|(dx, dy)| {
            let d2 = (dx * dx + dy * dy) as f32;
            (dx, dy, (-d2 / (2.0 * POOL_SPACE * POOL_SPACE)).exp())
        })
        .collect();
    (0..w * h)
        .into_par_iter()
        .map(|r| {
            if unknown[r] == 0 {
                return values[r];
            }
            values[r]?;
            let own = guide[r];
            let (x, y) = ((r % w) as isize, (r / w) as isize);
            let (mut sum, mut weight) = (0.0f32, 0.0f32);
            for &(dx, dy, s) in &offsets {
                let (qx, qy) = (x + dx, y + dy);
                if qx < 0 || qy < 0 || qx >= w as isize || qy >= h as isize {
                    continue;
                }
                let q = qy as usize * w + qx as usize;
                let Some(v) = values[q] else {
                    continue;
                };
                let alike = match (own, guide[q]) {
                    (Some(a), Some(b)) => {
                        let d = (b - a) / POOL_RATIO;
                        (-0.5 * d * d).exp()
                    }
                    _ => 1.0,
                };
                sum += s * alike * v;
                weight += s * alike;
            }
            Some(sum / weight)
        })
        .collect()
}

/// `k` with the pixels next to an opaque one (`k` 0) opaque too: the pooled ratio of the
/// soft edge of an opaque mark mixes its sides, and un-blending it by so little leaves an
/// outline that the fill inside then takes up.
fn opaque_beside_opaque(k: Vec<Option<f32>>, w: usize, h: usize) -> Vec<Option<f32>> {
    let opaque: Vec<u8> = k.iter().map(|&k| u8::from(k == Some(0.0))).collect();
    let beside = morph::dilate(&opaque, w, h, 1);
    k.into_iter()
        .zip(beside)
        .map(|(k, beside)| match k {
            Some(v) if beside != 0 && v != 1.0 => Some(0.0),
            k => k,
        })
        .collect()
}

/// Pixel `r` of a `w`x`h` area and its neighbours, diagonal ones too.
fn around_3x3(r: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (r % w, r / w);
    (y.saturating_sub(1)..(y + 2).min(h))
        .flat_map(move |qy| (x.saturating_sub(1)..(x + 2).min(w)).map(move |qx| qy * w + qx))
}

/// How far apart (in `k`) two neighbours' opacities, and those of the pixels around them, may
/// be for the difference of their means to be taken as the background's: a pair across the
/// mark's edge differs by the mark itself. The difference counts in full between alike pixels,
/// less the more they differ: the pooled `k` crosses a mark's edge in steps of a quarter or
/// more from pixel to pixel, each of which counts for less than 7%, while the smaller ripples
/// of `k` over an even part of the mark (a tenth) still count for two thirds.
const GUIDE_K_SCALE: f32 = 0.15;
/// Conjugate-gradient iterations at most, and the residual they stop at (root mean square,
/// levels: the equations' imbalance at a pixel).
const SOLVE_MOST_ITERATIONS: usize = 1000;
const SOLVE_TOLERANCE: f64 = 0.01;
/// Weight of each solved pixel's pull towards the smooth surface it starts from.
const SOLVE_PULL: f64 = 1e-3;

/// The background's mean over time under the unknown pixels: where the mark's opacity is the
/// same at two neighbours, their means differ by `k` times the background's difference, so
/// the background follows the mean image's detail scaled by `1 / k` (its texture shows through
/// the mark), and meets the known pixels around it (a Poisson equation, solved by conjugate
/// gradients). Across the mark's edges (where `k` changes within a pixel's 3x3) it is as smooth
/// as it can be; under opaque parts, and where no `k` is known, it is the smooth surface
/// through the known pixels. Known pixels keep their mean.
fn background_under(
    mean: &[f32],
    k: &[Option<f32>],
    unknown: &[u8],
    w: usize,
    h: usize,
) -> Vec<f32> {
    // Start from the smooth surface through the known pixels; where the mark is opaque, or its
    // opacity unknown, nothing under it shows, and the background stays that.
    let mut start = mean.to_vec();
    fill::fill(&mut start, unknown, w, h, Anisotropy::ISOTROPIC);
    let solved = |r: usize| unknown[r] != 0 && k[r].is_some_and(|k| k > 0.0);
    let cells: Vec<usize> = (0..w * h).filter(|&r| solved(r)).collect();
    if cells.is_empty() {
        return start;
    }
    // How far `k` spreads around each pixel: the pooled `k` crosses the mark's edges over a
    // few pixels, each step alike to the next.
    let spread: Vec<f32> = (0..w * h)
        .map(|r| {
            let around = around_3x3(r, w, h).filter_map(|q| k[q]);
            let (lo, hi) = around.fold((f32::INFINITY, 0.0f32), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
            (hi - lo).max(0.0)
        })
        .collect();
    let mut slot = vec![usize::MAX; w * h];
    for (n, &r) in cells.iter().enumerate() {
        slot[r] = n;
    }
    // A pixel's neighbours that take part: known ones and those solved for.
    let neighbours = |r: usize| {
        let (x, y) = (r % w, r / w);
        [
            (x > 0).then(|| r - 1),
            (x + 1 < w).then(|| r + 1),
            (y > 0).then(|| r - w),
            (y + 1 < h).then(|| r + w),
        ]
        .into_iter()
        .flatten()
        .filter(move |&q| unknown[q] == 0 || solved(q))
    };
    // The normal equations of the pairs' least squares, with a faint pull towards the start (a
    // part of the mark that opaque parts enclose meets no known pixel): for each pixel solved
    // for, its weight times its value less its solved neighbours' equals the known neighbours'
    // values plus the pairs' guided differences.
    let weight: Vec<f64> = cells
        .iter()
        .map(|&r| neighbours(r).count() as f64 + SOLVE_PULL)
        .collect();
    let rhs: Vec<f64> = cells
        .iter()
        .map(|&r| {
            let pairs: f64 = neighbours(r)
                .map(|q| {
                    let guided = match (k[r], k[q]) {
                        (Some(kr), Some(kq)) => {
                            let d = spread[r].max(spread[q]).max((kr - kq).abs()) / GUIDE_K_SCALE;
                            f64::from((mean[r] - mean[q]) / (0.5 * (kr + kq)) * (-d * d).exp())
                        }
                        _ => 0.0,
                    };
                    let known = if unknown[q] == 0 {
                        f64::from(mean[q])
                    } else {
                        0.0
                    };
                    guided + known
                })
                .sum();
            pairs + SOLVE_PULL * f64::from(start[r])
        })
        .collect();
    // Each solved pixel's solved neighbours, by their place among them.
    let linked: Vec<[usize; 4]> = cells
        .iter()
        .map(|&r| {
            let mut links = [usize::MAX; 4];
            for (link, q) in links
                .iter_mut()
                .zip(neighbours(r).filter(|&q| unknown[q] != 0))
            {
                *link = slot[q];
            }
            links
        })
        .collect();
    let apply = |x: &[f64], out: &mut [f64]| {
        for (n, (o, links)) in out.iter_mut().zip(&linked).enumerate() {
            let others: f64 = links
                .iter()
                .filter(|&&q| q != usize::MAX)
                .map(|&q| x[q])
                .sum();
            *o = weight[n] * x[n] - others;
        }
    };
    let mut x: Vec<f64> = cells.iter().map(|&r| f64::from(start[r])).collect();
    conjugate_gradients(&apply, &rhs, &mut x);
    for (&r, v) in cells.iter().zip(&x) {
        start[r] = *v as f32;
    }
    start
}

/// Solves `A x = b` for the symmetric positive definite `A` that `apply` multiplies by,
/// starting from `x`.
fn conjugate_gradients(apply: &impl Fn(&[f64], &mut [f64]), b: &[f64], x: &mut [f64]) {
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut ax = vec![0.0; x.len()];
    apply(x, &mut ax);
    let mut r: Vec<f64> = b.iter().zip(&ax).map(|(b, a)| b - a).collect();
    let mut p = r.clone();
    let mut rr = dot(&r, &r);
    let stop = SOLVE_TOLERANCE * SOLVE_TOLERANCE * b.len() as f64;
    for _ in 0..SOLVE_MOST_ITERATIONS {
        if rr <= stop {
            break;
        }
        apply(&p, &mut ax);
        let step = rr / dot(&p, &ax);
        for ((x, r), (p, a)) in x.iter_mut().zip(&mut r).zip(p.iter().zip(&ax)) {
            *x += step * p;
            *r -= step * a;
        }
        let next = dot(&r, &r);
        let keep = next / rr;
        for (p, r) in p.iter_mut().zip(&r) {
            *p = r + keep * *p;
        }
        rr = next;
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
/// nearby with the line between the two (see the module docs), and marks them `measured`
/// (per pixel of the mask's bounds).
fn match_changes(
    job: &PlaneJob,
    crops: &[Crop],
    series: &mut Series,
    plane: &mut LogoPlane,
    measured: &mut [bool],
) {
    let n = crops.len();
    if n < MATCH_MIN_FRAMES {
        return;
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
        return;
    }
    series.hold(job, crops, &held);
    let (mut bg_mean, mut bg_dev) = (series.mean.clone(), series.dev.clone());
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
            measured[i] = true;
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
    use super::{PlaneJob, Series, around, changes_like_noise, estimate_still, from_statistics};
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

    /// A smooth random texture: values on a lattice 6 pixels apart, interpolated.
    fn texture(x: usize, y: usize) -> f32 {
        let lattice = |gx: usize, gy: usize| (hash(gx as u64, gy as u64, 7) % 160) as f32;
        let (gx, gy, fx, fy) = (x / 6, y / 6, (x % 6) as f32 / 6.0, (y % 6) as f32 / 6.0);
        let top = lattice(gx, gy) * (1.0 - fx) + lattice(gx + 1, gy) * fx;
        let bottom = lattice(gx, gy + 1) * (1.0 - fx) + lattice(gx + 1, gy + 1) * fx;
        30.0 + top * (1.0 - fy) + bottom * fy
    }

    /// `n` frames of `w`x`h` whose luma at (`x`, `y`) in frame `t` is `picture(x, y, t)` with
    /// sensor noise of up to 2 levels, under a white mark of opacity `alpha(x, y)`.
    fn marked_frames(
        (w, h, n): (usize, usize, usize),
        picture: impl Fn(usize, usize, usize) -> f32,
        alpha: impl Fn(usize, usize) -> f32,
    ) -> Vec<Yuv420Frame> {
        (0..n)
            .map(|t| {
                let mut f = Yuv420Frame::new(w, h);
                for y in 0..h {
                    for x in 0..w {
                        let noise = (hash(x as u64, y as u64, 1000 + t as u64) % 5) as f32 - 2.0;
                        let (a, v) = (alpha(x, y), picture(x, y, t) + noise);
                        let v = (1.0 - a) * v + a * 235.0;
                        f.data_mut(0)[y * w + x] = v.round().clamp(0.0, 255.0) as u8;
                    }
                }
                f
            })
            .collect()
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
        let frames = marked_frames(
            (w, h, n),
            |x, y, t| if lit(x, y, t) { 170.0 } else { 30.0 },
            |x, y| {
                if (60..100).contains(&x) && (42..54).contains(&y) {
                    alpha_at(x)
                } else {
                    0.0
                }
            },
        );
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
        let gain = |t: usize| 1.0 + 0.25 * (t as f32 / 4.0).sin();
        let frames = marked_frames(
            (w, h, n),
            |x, y, t| gain(t) * texture(x, y),
            |x, y| {
                if (60..100).contains(&x) && (42..54).contains(&y) {
                    alpha_at(x)
                } else {
                    0.0
                }
            },
        );
        let mask = Mask::from_rect(Rect::new(60, 42, 40, 12), w, h).expect("a valid mask");
        let region = Region::new(&mask, 24);
        let job = PlaneJob::new(&mask, &region, 0);
        let crops: Vec<Crop> = frames.iter().map(|f| region.crop(f)).collect();
        let series = Series::new(&job, &crops, around(&job));
        let (plane, measured) = from_statistics(&job, &series);
        let measured = measured.iter().filter(|&&m| m).count();
        assert_eq!(estimate_still(&job, &crops), (plane, measured));
    }

    /// A still camera on texture under sensor noise, where nothing changes in place: the mark
    /// scales the noise under it by `1 - alpha`, which tells its opacity, and the texture shows
    /// through it in the mean of the frames, which tells the background under it. A white mark
    /// at half opacity beside one at 0.3.
    #[test]
    fn a_mark_over_a_still_noisy_texture_is_estimated_from_the_noise_under_it() {
        let (w, h, n) = (192, 112, 60);
        // Texture as a photograph has it: a few levels from one pixel to the next.
        let gentle = |x: usize, y: usize| 60.0 + 0.5 * texture(x / 2, y / 2);
        let alpha_at = |x: usize, y: usize| match (x, y) {
            (62..94, 44..68) => 0.5,
            (94..126, 44..68) => 0.3,
            _ => 0.0,
        };
        let frames = marked_frames((w, h, n), |x, y, _| gentle(x, y), alpha_at);
        let mask = Mask::from_rect(Rect::new(60, 42, 68, 28), w, h).expect("a valid mask");
        let model = estimate(&frames, &mask, &InpaintConfig::default()).expect("a model");
        let plane = model.plane(0);
        let b = plane.bounds;
        let mark: Vec<(usize, usize)> = (62..126)
            .flat_map(|x| (44..68).map(move |y| (x, y)))
            .collect();
        let wrong_alpha = mark
            .iter()
            .filter(|&&(x, y)| (plane.alpha_at(x, y) - alpha_at(x, y)).abs() > 0.05)
            .count();
        // The background un-blended from the frames' mean, against the texture; and the
        // smooth surface through the texture around the mask (a fill's), against it too.
        let rms = |errors: &mut dyn Iterator<Item = f32>| {
            (errors.map(|e| e * e).sum::<f32>() / mark.len() as f32).sqrt()
        };
        let background = rms(&mut mark.iter().map(|&(x, y)| {
            let i = (y - b.y0) * b.width() + x - b.x0;
            let mean = frames
                .iter()
                .map(|f| f32::from(f.data(0)[y * w + x]))
                .sum::<f32>()
                / n as f32;
            (mean - plane.premul[i]) / (1.0 - plane.alpha[i]) - gentle(x, y)
        }));
        let mut smooth: Vec<f32> = (0..w * h).map(|r| gentle(r % w, r / w)).collect();
        let unknown: Vec<u8> = (0..w * h)
            .map(|r| u8::from(mask.contains(r % w, r / w)))
            .collect();
        crate::fill::fill(
            &mut smooth,
            &unknown,
            w,
            h,
            crate::fill::Anisotropy::ISOTROPIC,
        );
        let fill = rms(&mut mark.iter().map(|&(x, y)| smooth[y * w + x] - gentle(x, y)));
        // The job log's confidence: the mask's pixels, measured from the noise under them.
        let support = model.support().expect("an estimate says what it rests on");
        assert!(
            !support.moving && support.own * 10 >= support.masked * 9,
            "{support:?}"
        );
        assert!(
            wrong_alpha * 5 < mark.len() && background < fill,
            "of {} pixels of the mark, alpha off by over 0.05 at {wrong_alpha}; the background \
             off by {background:.2} levels (RMS), a fill by {fill:.2}",
            mark.len()
        );
    }

    /// Lettering as a small frame has it: strokes two pixels wide at half opacity, two pixels
    /// apart, over gentle texture under sensor noise. Each pixel's own ratio of deviations is
    /// off by a fifth, and pooling over alike neighbours blurs strokes this thin unless it
    /// follows their edges, which the frames' mean shows.
    #[test]
    fn thin_strokes_of_a_mark_over_a_still_noisy_texture_keep_their_edges() {
        let (w, h, n) = (192, 112, 60);
        let gentle = |x: usize, y: usize| 60.0 + 0.5 * texture(x / 2, y / 2);
        let stroke = |x: usize, y: usize| (62..126).contains(&x) && (44..68).contains(&y);
        let alpha_at = |x: usize, y: usize| {
            if stroke(x, y) && (x / 2).is_multiple_of(2) {
                0.5
            } else {
                0.0
            }
        };
        let frames = marked_frames((w, h, n), |x, y, _| gentle(x, y), alpha_at);
        let mask = Mask::from_rect(Rect::new(60, 42, 68, 28), w, h).expect("a valid mask");
        let model = estimate(&frames, &mask, &InpaintConfig::default()).expect("a model");
        let plane = model.plane(0);
        let mark: Vec<(usize, usize)> = (62..126)
            .flat_map(|x| (44..68).map(move |y| (x, y)))
            .collect();
        let errors: Vec<f32> = mark
            .iter()
            .map(|&(x, y)| (plane.alpha_at(x, y) - alpha_at(x, y)).abs())
            .collect();
        let off = errors.iter().filter(|&&e| e > 0.1).count();
        let mean = errors.iter().sum::<f32>() / errors.len() as f32;
        assert!(
            off * 10 < mark.len() && mean < 0.05,
            "of {} pixels of the strokes and their gaps, alpha off by over 0.1 at {off}; \
             by {mean:.3} on average",
            mark.len()
        );
    }

    /// A camera's noise changes every pixel by about as much as the others; cells that come
    /// and go change some pixels far more than the rest.
    #[test]
    fn changes_alike_everywhere_are_noise_and_cells_that_come_and_go_are_not() {
        let known = vec![0u8; 400];
        // Deviations over 60 frames of noise of 1.4 levels: each off by up to a tenth.
        let noise: Vec<f32> = (0..400u64)
            .map(|i| 1.4 * (0.9 + 0.01 * (hash(i, 0, 0) % 21) as f32))
            .collect();
        assert!(changes_like_noise(&noise, &known));
        // A third of the pixels under cells that light up and go dark.
        let cells: Vec<f32> = noise
            .iter()
            .zip(0..400u64)
            .map(|(&d, i)| {
                if hash(i, 1, 0).is_multiple_of(3) {
                    60.0
                } else {
                    d
                }
            })
            .collect();
        assert!(!changes_like_noise(&cells, &known));
        // Unknown pixels do not count.
        let masked: Vec<u8> = (0..400u64)
            .map(|i| u8::from(hash(i, 1, 0).is_multiple_of(3)))
            .collect();
        assert!(changes_like_noise(&cells, &masked));
    }
}
