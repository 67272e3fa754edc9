//! Finding a mark automatically: [`detect_mask`] looks, over a sample of frames, for the pixels
//! that stay constant while the picture around them changes.
//!
//! Per pixel, over the sampled luma planes:
//! - *still*: the temporal standard deviation is below [`DetectOptions::still_ratio`] times
//!   that of its surroundings (the median of 32-pixel blocks, then the median over the 3×3
//!   blocks around). A semi-transparent mark with opacity `alpha` scales the deviation by
//!   `1 - alpha`; an opaque one removes it.
//! - *static edge*: the Sobel gradient keeps its direction, i.e. `|mean gradient| /
//!   mean |gradient|` is at least [`DetectOptions::edge_coherence`], and the mean gradient is
//!   strong: a mark's outline keeps pointing the same way in every frame while the
//!   background's edges average out (an edge that sweeps past once is coherent but weak).
//!
//! Of the union, only the connected regions with an outline that stays in place are kept (at
//! least [`MIN_OUTLINE`] of their pixels on a static edge whose mean gradient is the same over
//! the first half of the frames as over the second), with the regions within [`NEAR_OUTLINE`]
//! of them and at most half their size (a mark's parts too faint for an edge). A smooth
//! stretch of a slowly moving picture is still, and its broad edges stay coherent for a while,
//! but they move on; a mark's do not.
//!
//! The rest is cleaned up (closing by 2 pixels, enclosed holes filled, opening by 1 pixel,
//! erosion by 1 pixel, as Sobel edges straddle the outline), the largest components are kept
//! (those at least a quarter of the largest, up to [`DetectOptions::max_marks`]) and grown by
//! [`DetectOptions::grow`] pixels.
//!
//! Limits: anything static is found, not only marks: letterbox bars next to the picture, a
//! fixed camera's still background. Feed frames spread over the video, where the picture
//! changes, and give the mask explicitly when the video is mostly still.

use rayon::prelude::*;

use crate::error::InpaintError;
use crate::mask::Mask;
use crate::morph;
use crate::plane::Plane;

/// Settings of [`detect_mask`]; see the module docs for how they are used.
#[derive(Clone, Debug)]
pub struct DetectOptions {
    /// Fewest frames accepted (default 8; 30–60 spread over the video work well).
    pub min_frames: usize,
    /// A pixel whose temporal deviation is below this fraction of its surroundings' is still
    /// (default 0.6: the inside of marks of about 40% opacity or more; fainter marks are found
    /// by their outline).
    pub still_ratio: f32,
    /// Gradient direction consistency from which an edge is static (default 0.7).
    pub edge_coherence: f32,
    /// Pixels the found mark is grown by, to cover its soft edges (default 3).
    pub grow: usize,
    /// Most separate marks kept (default 4).
    pub max_marks: usize,
}

impl Default for DetectOptions {
    fn default() -> Self {
        Self {
            min_frames: 8,
            still_ratio: 0.6,
            edge_coherence: 0.7,
            grow: 3,
            max_marks: 4,
        }
    }
}

/// Block size of the local deviation reference.
const BLOCK: usize = 32;
/// Smallest magnitude of the mean Sobel gradient for a static edge (a step of about 6 levels).
const MIN_GRADIENT: f32 = 24.0;
/// Smallest local deviation (levels) for stillness to mean anything.
const MIN_DEVIATION: f32 = 2.0;
/// Largest change, relative to its size, of a static edge's mean gradient between the first
/// and the second half of the frames.
const SAME_EDGE: f32 = 0.35;
/// Smallest share of a still region's pixels on an edge that stays in place.
const MIN_OUTLINE: f32 = 0.05;
/// Distance (pixels) within which a still region without such an outline, at most half their
/// size, is kept with the regions that have one.
const NEAR_OUTLINE: usize = 16;

/// Per-pixel running sums: Σd, Σd², Σgx, Σgy, Σ|g| (d = luma minus the first frame's), and
/// Σgx, Σgy over the first half of the frames.
type Sums = [f32; 7];

fn accumulate(sums: &mut [Sums], first: &Plane<'_>, frame: &Plane<'_>, first_half: bool) {
    let (w, h) = (frame.width(), frame.height());
    sums.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        let (up, mid, down) = (
            frame.row(y.saturating_sub(1)),
            frame.row(y),
            frame.row((y + 1).min(h - 1)),
        );
        let base = first.row(y);
        for x in 0..w {
            let (l, r) = (x.saturating_sub(1), (x + 1).min(w - 1));
            let v = |row: &[u8], i: usize| f32::from(row[i]);
            let gx =
                v(up, r) + 2.0 * v(mid, r) + v(down, r) - v(up, l) - 2.0 * v(mid, l) - v(down, l);
            let gy =
                v(down, l) + 2.0 * v(down, x) + v(down, r) - v(up, l) - 2.0 * v(up, x) - v(up, r);
            let d = v(mid, x) - v(base, x);
            let s = &mut row[x];
            s[0] += d;
            s[1] += d * d;
            s[2] += gx;
            s[3] += gy;
            s[4] += (gx * gx + gy * gy).sqrt();
            if first_half {
                s[5] += gx;
                s[6] += gy;
            }
        }
    });
}

/// Finds the mask of a static mark from sampled luma planes (all of one size).
pub fn detect_mask<'a>(
    frames: impl IntoIterator<Item = Plane<'a>>,
    options: &DetectOptions,
) -> Result<Mask, InpaintError> {
    let frames: Vec<Plane<'a>> = frames.into_iter().collect();
    let first = *frames.first().ok_or(InpaintError::TooFewFrames {
        got: 0,
        need: options.min_frames.max(2),
    })?;
    let (w, h) = (first.width(), first.height());
    let mut sums = vec![[0.0f32; 7]; w * h];
    let mut n = 0usize;
    let half = frames.len() / 2;
    for frame in frames {
        if (frame.width(), frame.height()) != (w, h) {
            return Err(InpaintError::SizeMismatch {
                what: format!("sample frame {n}"),
                expected_width: w,
                expected_height: h,
                width: frame.width(),
                height: frame.height(),
            });
        }
        accumulate(&mut sums, &first, &frame, n < half);
        n += 1;
    }
    let need = options.min_frames.max(2);
    if n < need {
        return Err(InpaintError::TooFewFrames { got: n, need });
    }
    let nf = n as f32;
    let deviation: Vec<f32> = sums
        .iter()
        .map(|s| (s[1] / nf - (s[0] / nf).powi(2)).max(0.0).sqrt())
        .collect();

    let mut sorted = deviation.clone();
    let mid = sorted.len() / 2;
    let median = *sorted.select_nth_unstable_by(mid, f32::total_cmp).1;
    if median < 1.0 {
        return Err(InpaintError::StaticVideo {
            median_deviation: median,
        });
    }

    // Local reference: median per block, then the median over the 3x3 blocks around, so that
    // neither the mark nor a few busy blocks set it.
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let mut block_median = vec![0.0f32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut v: Vec<f32> = (by * BLOCK..((by + 1) * BLOCK).min(h))
                .flat_map(|y| {
                    deviation[y * w + bx * BLOCK..y * w + ((bx + 1) * BLOCK).min(w)]
                        .iter()
                        .copied()
                })
                .collect();
            let k = v.len() / 2;
            block_median[by * bw + bx] = *v.select_nth_unstable_by(k, f32::total_cmp).1;
        }
    }
    let mut reference_map = vec![0.0f32; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut v: Vec<f32> = (by.saturating_sub(1)..(by + 2).min(bh))
                .flat_map(|ny| (bx.saturating_sub(1)..(bx + 2).min(bw)).map(move |nx| (nx, ny)))
                .map(|(nx, ny)| block_median[ny * bw + nx])
                .collect();
            let k = v.len() / 2;
            reference_map[by * bw + bx] = *v.select_nth_unstable_by(k, f32::total_cmp).1;
        }
    }
    let reference = |x: usize, y: usize| reference_map[(y / BLOCK) * bw + x / BLOCK];

    // Per pixel: 1 where still or on a static edge, 2 where on an edge that also stays in
    // place, the same over the first half of the frames as over the second.
    let candidate: Vec<u8> = (0..w * h)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let r = reference(x, y);
            let still = r >= MIN_DEVIATION && deviation[i] < options.still_ratio * r;
            let s = &sums[i];
            // The mean gradient itself must be strong: an edge that sweeps past once is
            // coherent too, but present in few frames.
            let mean_gradient = (s[2] * s[2] + s[3] * s[3]).sqrt();
            let coherent = mean_gradient >= MIN_GRADIENT * nf
                && mean_gradient >= options.edge_coherence * s[4];
            let (a, b) = (half.max(1) as f32, (n - half).max(1) as f32);
            let (g1, g2) = ((s[5] / a, s[6] / a), ((s[2] - s[5]) / b, (s[3] - s[6]) / b));
            let (m1, m2) = (g1.0.hypot(g1.1), g2.0.hypot(g2.1));
            let stays = m1.min(m2) >= MIN_GRADIENT
                && (g1.0 - g2.0).hypot(g1.1 - g2.1) <= SAME_EDGE * m1.max(m2);
            match (still || coherent, coherent && stays) {
                (_, true) => 2,
                (true, false) => 1,
                _ => 0,
            }
        })
        .collect();
    // A mark has an outline that stays in place; a smooth stretch of a slowly moving picture
    // is still too, but has next to none.
    let (labels, areas) = morph::components(&candidate, w, h);
    let mut outline = vec![0usize; areas.len()];
    for (&l, &c) in labels.iter().zip(&candidate) {
        if c == 2 {
            outline[l as usize - 1] += 1;
        }
    }
    let mut keep: Vec<bool> = outline
        .iter()
        .zip(&areas)
        .map(|(&o, &a)| o as f32 >= MIN_OUTLINE * a as f32)
        .collect();
    // A mark's faint parts (too faint for an edge) go with the parts next to them that have
    // one, where they are smaller than those (a stretch of still picture mostly is not).
    let kept: Vec<u8> = labels
        .iter()
        .map(|&l| u8::from(l > 0 && keep[l as usize - 1]))
        .collect();
    let kept_area: usize = (0..areas.len())
        .filter(|&i| keep[i])
        .map(|i| areas[i])
        .sum();
    let near = morph::dilate(&kept, w, h, NEAR_OUTLINE);
    for (&l, &n) in labels.iter().zip(&near) {
        if l > 0 && n != 0 && 2 * areas[l as usize - 1] <= kept_area {
            keep[l as usize - 1] = true;
        }
    }
    let candidate: Vec<u8> = labels
        .iter()
        .map(|&l| u8::from(l > 0 && keep[l as usize - 1]))
        .collect();

    // Sobel edges straddle the outline, one pixel on each side: the final erosion takes the
    // outer one back.
    let closed = morph::fill_holes(&morph::close(&candidate, w, h, 2), w, h);
    let cleaned = morph::erode(&morph::open(&closed, w, h, 1), w, h, 1);
    let (labels, areas) = morph::components(&cleaned, w, h);
    let mut order: Vec<usize> = (0..areas.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(areas[i]));
    let largest = order.first().map_or(0, |&i| areas[i]);
    let keep: Vec<bool> = {
        let mut keep = vec![false; areas.len()];
        for &i in order.iter().take(options.max_marks.max(1)) {
            keep[i] = areas[i] >= 16 && areas[i] * 4 >= largest;
        }
        keep
    };
    let kept: Vec<u8> = labels
        .iter()
        .map(|&l| u8::from(l > 0 && keep[l as usize - 1]))
        .collect();
    let grown = morph::dilate(&kept, w, h, options.grow);
    Mask::from_bits(w, h, &grown).map_err(|e| match e {
        InpaintError::EmptyMask => InpaintError::NoMarkFound,
        other => other,
    })
}
