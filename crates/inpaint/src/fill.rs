//! Spatial fill: the pixels no frame can supply are filled with the smooth (harmonic) surface
//! that meets the known pixels around them, solved coarse to fine.
//!
//! 1. *Pull*: halve the region repeatedly; a coarse pixel is the mean of its known fine pixels
//!    and is known when any of them is. The hole shrinks by half at each level, so a few levels
//!    fill it completely.
//! 2. *Push*: back down, each unknown fine pixel starts from the bilinear value of the level
//!    below, then red-black Gauss-Seidel sweeps relax it towards the mean of its four
//!    neighbours (Laplace's equation with the known pixels as boundary).
//!
//! The mean can weigh a pixel's neighbours along its row and along its column differently
//! ([`Anisotropy`]): a mask much wider than tall over straight structure that crosses it (a
//! test card's bar edges, a slide's lines) is filled mostly from above and below, so the
//! structure carries through instead of blurring sideways. Which weighting suits the
//! picture around a mask is told by filling copies of the mask beside it
//! ([`choose_fill_shape`](crate::choose_fill_shape)).
//!
//! Every step is per-pixel work over arrays with a fixed number of passes, which is what the
//! CUDA twin runs. [`fill_reference`] is the scalar definition; [`fill`] is the CPU path
//! (sweeps over precomputed runs of unknown pixels, the level split by colour) and gives
//! identical results: both evaluate the same sums in the same order.

use multiversion::multiversion;

/// Red-black sweeps at each level; the coarse start leaves only local error to remove.
pub(crate) const SWEEPS: usize = 24;

/// How a filled pixel weighs its neighbours: those along its row by the length of the hole
/// along the row through it (the run of unknown pixels it lies in, plus one, averaged with the
/// runs of the hole pixels up to four rows away) to the power `-exponent`, those along its
/// column likewise. 0 is the plain harmonic fill; above it, the
/// fill leads across a hole's short side, so straight structure that crosses a long hole
/// carries through it instead of blurring along it. A small hole, as long as it is wide,
/// stays harmonic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anisotropy {
    exponent: f32,
}

impl Anisotropy {
    /// All four neighbours alike: the harmonic fill.
    pub const ISOTROPIC: Self = Self { exponent: 0.0 };

    /// Neighbours weighed by the hole's length along their axis to the power `-exponent`
    /// (clamped to 0..=4).
    pub fn exponent(exponent: f32) -> Self {
        let exponent = if exponent.is_finite() { exponent } else { 0.0 };
        Self {
            exponent: exponent.clamp(0.0, 4.0),
        }
    }

    /// The exponent (0: harmonic).
    pub fn power(self) -> f32 {
        self.exponent
    }

    /// Whether all four neighbours weigh alike.
    pub fn is_isotropic(self) -> bool {
        self.exponent == 0.0
    }
}

impl Default for Anisotropy {
    fn default() -> Self {
        Self::ISOTROPIC
    }
}

/// Pixels either side across a run whose runs a pixel's weight averages (see [`weights`]).
const RUN_SPREAD: usize = 4;

/// `lengths` (0 outside the holes) averaged over each hole pixel's hole pixels up to
/// [`RUN_SPREAD`] away along (`dx`, `dy`), in order from the farthest before to the farthest
/// after.
fn spread(lengths: &[f32], w: usize, h: usize, dx: usize, dy: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            if lengths[y * w + x] == 0.0 {
                continue;
            }
            let (mut sum, mut n) = (0.0f32, 0.0f32);
            for k in 0..=2 * RUN_SPREAD {
                let (Some(xx), Some(yy)) = (
                    (x + k * dx).checked_sub(RUN_SPREAD * dx),
                    (y + k * dy).checked_sub(RUN_SPREAD * dy),
                ) else {
                    continue;
                };
                if xx < w && yy < h && lengths[yy * w + xx] != 0.0 {
                    sum += lengths[yy * w + xx];
                    n += 1.0;
                }
            }
            out[y * w + x] = sum / n;
        }
    }
    out
}

/// The weights of each pixel's neighbours along its row and along its column (`wx`, `wy`,
/// each pair summing to about one) for a `w`x`h` level with the unknown pixels `unknown`;
/// known pixels get 0. The CUDA twin is given these.
pub(crate) fn weights(unknown: &[u8], w: usize, h: usize, shape: Anisotropy) -> [Vec<f32>; 2] {
    let mut rows = vec![0.0f32; w * h];
    let mut columns = vec![0.0f32; w * h];
    // Each unknown pixel of the lines `at(j, 0..n)`, `j < m`, gets the length of its run plus
    // one.
    let mark_runs =
        |lengths: &mut [f32], at: &dyn Fn(usize, usize) -> usize, n: usize, m: usize| {
            for j in 0..m {
                let mut i = 0;
                while i < n {
                    if unknown[at(j, i)] == 0 {
                        i += 1;
                        continue;
                    }
                    let start = i;
                    while i < n && unknown[at(j, i)] != 0 {
                        i += 1;
                    }
                    for k in start..i {
                        lengths[at(j, k)] = (i - start + 1) as f32;
                    }
                }
            }
        };
    mark_runs(&mut rows, &|y, x| y * w + x, w, h);
    mark_runs(&mut columns, &|x, y| y * w + x, h, w);
    // A hole's edge is ragged where the mark's estimate is (a pixel more or less marked here
    // and there): each pixel's runs are averaged with those of the hole pixels up to
    // RUN_SPREAD away across them, so neighbouring rows and columns weigh alike.
    let mut along = spread(&rows, w, h, 0, 1);
    let mut down = spread(&columns, w, h, 1, 0);
    for (a, d) in along.iter_mut().zip(down.iter_mut()) {
        if *a == 0.0 {
            continue;
        }
        let (wx, wy) = (a.powf(-shape.exponent), d.powf(-shape.exponent));
        let total = wx + wy;
        (*a, *d) = (wx / total, wy / total);
    }
    [along, down]
}

/// One level of the pyramid: values and which of them are unknown (1) or known (0).
struct Level {
    w: usize,
    h: usize,
    values: Vec<f32>,
    unknown: Vec<u8>,
}

/// Halves `fine`: each coarse pixel is the mean of the known pixels among its (up to) four.
fn pull(fine: &Level) -> Level {
    let (w, h) = (fine.w.div_ceil(2), fine.h.div_ceil(2));
    let mut values = vec![0.0; w * h];
    let mut unknown = vec![1u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let (mut sum, mut n) = (0.0f32, 0u32);
            for fy in 2 * y..(2 * y + 2).min(fine.h) {
                for fx in 2 * x..(2 * x + 2).min(fine.w) {
                    let i = fy * fine.w + fx;
                    if fine.unknown[i] == 0 {
                        sum += fine.values[i];
                        n += 1;
                    }
                }
            }
            if n > 0 {
                values[y * w + x] = sum / n as f32;
                unknown[y * w + x] = 0;
            }
        }
    }
    Level {
        w,
        h,
        values,
        unknown,
    }
}

/// Bilinear value of `coarse` at the centre of fine pixel (`x`, `y`).
fn upsample_at(coarse: &Level, x: usize, y: usize) -> f32 {
    let cx = ((x as f32 + 0.5) * 0.5 - 0.5).clamp(0.0, (coarse.w - 1) as f32);
    let cy = ((y as f32 + 0.5) * 0.5 - 0.5).clamp(0.0, (coarse.h - 1) as f32);
    let (x0, y0) = (cx as usize, cy as usize);
    let (x1, y1) = ((x0 + 1).min(coarse.w - 1), (y0 + 1).min(coarse.h - 1));
    let (fx, fy) = (cx - x0 as f32, cy - y0 as f32);
    let v = |x: usize, y: usize| coarse.values[y * coarse.w + x];
    let top = v(x0, y0) + fx * (v(x1, y0) - v(x0, y0));
    let bottom = v(x0, y1) + fx * (v(x1, y1) - v(x0, y1));
    top + fy * (bottom - top)
}

/// Mean of the (up to four) in-bounds 4-neighbours of pixel `i` = (`x`, `y`).
#[inline]
fn neighbour_mean(values: &[f32], w: usize, h: usize, x: usize, y: usize) -> f32 {
    let i = y * w + x;
    let (mut sum, mut n) = (0.0f32, 0.0f32);
    if x > 0 {
        sum += values[i - 1];
        n += 1.0;
    }
    if x + 1 < w {
        sum += values[i + 1];
        n += 1.0;
    }
    if y > 0 {
        sum += values[i - w];
        n += 1.0;
    }
    if y + 1 < h {
        sum += values[i + w];
        n += 1.0;
    }
    sum / n
}

/// [`neighbour_mean`] with the neighbours along the row and along the column weighed apart
/// (`wx`, `wy`, see [`weights`]): `(wx * (left + right) + wy * (up + down)) / (wx * nx + wy *
/// ny)` over those in bounds, in this order (the CUDA twin and the optimised path evaluate
/// the same expression).
#[inline]
fn weighted_mean(
    values: &[f32],
    w: usize,
    h: usize,
    x: usize,
    y: usize,
    (wx, wy): (f32, f32),
) -> f32 {
    let i = y * w + x;
    let (mut along, mut nx) = (0.0f32, 0.0f32);
    if x > 0 {
        along += values[i - 1];
        nx += 1.0;
    }
    if x + 1 < w {
        along += values[i + 1];
        nx += 1.0;
    }
    let (mut across, mut ny) = (0.0f32, 0.0f32);
    if y > 0 {
        across += values[i - w];
        ny += 1.0;
    }
    if y + 1 < h {
        across += values[i + w];
        ny += 1.0;
    }
    (wx * along + wy * across) / (wx * nx + wy * ny)
}

/// Builds the pyramid down to a level with no unknown pixel (or a single pixel, set to the mean
/// of what is known, or mid-grey when nothing is).
fn pyramid(values: &[f32], unknown: &[u8], w: usize, h: usize) -> Vec<Level> {
    let mut levels = vec![Level {
        w,
        h,
        values: values.to_vec(),
        unknown: unknown.to_vec(),
    }];
    loop {
        let last = levels.last().expect("pyramid has a level");
        if !last.unknown.contains(&1) {
            break;
        }
        if last.w == 1 && last.h == 1 {
            let last = levels.last_mut().expect("pyramid has a level");
            last.values[0] = 128.0;
            last.unknown[0] = 0;
            break;
        }
        let next = pull(last);
        levels.push(next);
    }
    levels
}

/// Scalar reference: fills the unknown pixels (`unknown[i] != 0`) of a `w`x`h` region in place,
/// each relaxed towards its neighbours as `shape` weighs them.
pub(crate) fn fill_reference(
    values: &mut [f32],
    unknown: &[u8],
    w: usize,
    h: usize,
    shape: Anisotropy,
) {
    let mut levels = pyramid(values, unknown, w, h);
    for l in (0..levels.len() - 1).rev() {
        let (fine, coarse) = levels.split_at_mut(l + 1);
        let (fine, coarse) = (&mut fine[l], &coarse[0]);
        for y in 0..fine.h {
            for x in 0..fine.w {
                if fine.unknown[y * fine.w + x] != 0 {
                    fine.values[y * fine.w + x] = upsample_at(coarse, x, y);
                }
            }
        }
        relax_reference(
            &mut fine.values,
            &fine.unknown,
            fine.w,
            fine.h,
            SWEEPS,
            shape,
        );
    }
    values.copy_from_slice(&levels[0].values);
}

/// `sweeps` red-black Gauss-Seidel sweeps over one level, from the unknown pixels' current
/// values (scalar reference). Alone, at full resolution, it is a warm start: a frame whose
/// camera is still starts from the previous frame's fill, which differs from the new solution
/// only by the noise along the boundary: a few sweeps at one level take it there, where a cold
/// start needs the whole pyramid.
pub(crate) fn relax_reference(
    values: &mut [f32],
    unknown: &[u8],
    w: usize,
    h: usize,
    sweeps: usize,
    shape: Anisotropy,
) {
    let [wx, wy] = if shape.is_isotropic() {
        [Vec::new(), Vec::new()]
    } else {
        weights(unknown, w, h, shape)
    };
    for _ in 0..sweeps {
        for colour in 0..2 {
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    if (x + y) % 2 == colour && unknown[i] != 0 {
                        values[i] = if shape.is_isotropic() {
                            neighbour_mean(values, w, h, x, y)
                        } else {
                            weighted_mean(values, w, h, x, y, (wx[i], wy[i]))
                        };
                    }
                }
            }
        }
    }
}

/// The unknown pixels of a level: what a sweep of the optimised path walks. It depends only on
/// which pixels are unknown, so frames with the same holes (a still camera's) share one.
///
/// A sweep updates one colour from the other, so the level is swept split by colour: pixel
/// (`x`, `y`) has colour `(x + y) % 2` and sits at `y * half + x / 2` of its colour's array.
/// Its left and right neighbours are then entries `k + o - 1` and `k + o` of the same row of
/// the other colour's array (`k = x / 2`, `o = (x + y) % 2` offset of the row), the ones above
/// and below entry `k` of the rows next to it: every unknown pixel with four neighbours is a
/// sum of four contiguous streams, and a half-sweep computes only its own colour.
///
/// Such pixels are swept in spans along a row: runs of them with short gaps of known pixels
/// between, which are computed too and not kept. A mark's holes are many short runs, and a
/// vector loop pays for each run's ragged end.
pub(crate) struct Stencils {
    /// Level width and height.
    w: usize,
    h: usize,
    /// Entries per row of a colour's array: room for the longer row of either colour.
    half: usize,
    /// Spans of each colour's array to sweep.
    spans: [Vec<Span>; 2],
    /// Per entry of each colour's array, all ones where a span's pixel is unknown (kept) and
    /// zero elsewhere.
    keep: [Vec<u32>; 2],
    /// Unknown pixels on the level's border, by colour, with the neighbours they have.
    border: [Vec<Stencil>; 2],
    /// Where the fill is not harmonic, per entry of each colour's array, the weights of the
    /// neighbours along the row and along the column ([`weights`]; 0 outside the holes).
    weights: Option<[[Vec<f32>; 2]; 2]>,
}

/// Entries `start..end` of row `row` of a colour's array.
#[derive(Clone, Copy)]
struct Span {
    row: u32,
    start: u32,
    end: u32,
}

/// Known pixels a span steps over rather than end and start again.
const SPAN_GAP: u32 = 24;

impl Stencils {
    /// The stencils of the unknown pixels (`unknown[i] != 0`) of a `w`x`h` level, each
    /// relaxed towards its neighbours as `shape` weighs them.
    pub(crate) fn new(unknown: &[u8], w: usize, h: usize, shape: Anisotropy) -> Self {
        let half = w / 2 + 1;
        let mut stencils = Self {
            w,
            h,
            half,
            spans: [Vec::new(), Vec::new()],
            keep: [vec![0; half * h], vec![0; half * h]],
            border: [Vec::new(), Vec::new()],
            weights: None,
        };
        let level_weights = (!shape.is_isotropic()).then(|| weights(unknown, w, h, shape));
        if let Some([wx, wy]) = &level_weights {
            let mut split = [
                [vec![0.0; half * h], vec![0.0; half * h]],
                [vec![0.0; half * h], vec![0.0; half * h]],
            ];
            for y in 0..h {
                for x in 0..w {
                    let (colour, at) = ((x + y) % 2, y * half + x / 2);
                    split[colour][0][at] = wx[y * w + x];
                    split[colour][1][at] = wy[y * w + x];
                }
            }
            stencils.weights = Some(split);
        }
        for y in 0..h {
            for colour in 0..2 {
                let mut span: Option<Span> = None;
                for x in ((y + colour) % 2..w).step_by(2) {
                    let (i, k) = (y * w + x, (x / 2) as u32);
                    if unknown[i] == 0 {
                        continue;
                    }
                    if x > 0 && x + 1 < w && y > 0 && y + 1 < h {
                        stencils.keep[colour][y * half + k as usize] = u32::MAX;
                        match &mut span {
                            Some(s) if k - s.end <= SPAN_GAP => s.end = k + 1,
                            _ => {
                                stencils.spans[colour].extend(span.replace(Span {
                                    row: y as u32,
                                    start: k,
                                    end: k + 1,
                                }));
                            }
                        }
                        continue;
                    }
                    // Neighbours in the order `neighbour_mean` adds them, as entries of the
                    // other colour's array.
                    let at = |x: usize, y: usize| (y * half + x / 2) as u32;
                    let mut s = Stencil {
                        at: at(x, y),
                        neighbours: [0; 4],
                        count: 0,
                        along: u8::from(x > 0) + u8::from(x + 1 < w),
                        weights: level_weights.as_ref().map(|[wx, wy]| (wx[i], wy[i])),
                    };
                    for (ok, n) in [
                        (x > 0, (x.wrapping_sub(1), y)),
                        (x + 1 < w, (x + 1, y)),
                        (y > 0, (x, y.wrapping_sub(1))),
                        (y + 1 < h, (x, y + 1)),
                    ] {
                        if ok {
                            s.neighbours[s.count as usize] = at(n.0, n.1);
                            s.count += 1;
                        }
                    }
                    stencils.border[colour].push(s);
                }
                stencils.spans[colour].extend(span);
            }
        }
        stencils
    }

    /// Optimised path of [`relax_reference`] over the level these stencils were built for,
    /// bit for bit the same: a pixel's neighbours all have the other colour, so the order
    /// within a colour does not matter, and each sum adds the neighbours in the reference's
    /// order. The level is split by colour, swept, and put back together.
    pub(crate) fn relax(&self, v: &mut [f32], sweeps: usize) {
        relax_split(self, v, sweeps);
    }

    /// The level index of entry `at` of a colour's array.
    fn pixel(&self, colour: usize, at: usize) -> usize {
        let (y, k) = (at / self.half, at % self.half);
        y * self.w + 2 * k + (y + colour) % 2
    }

    /// The level indices of the unknown pixels.
    fn unknown(&self) -> impl Iterator<Item = usize> + '_ {
        (0..2).flat_map(move |colour| {
            let runs = self.spans[colour].iter().flat_map(move |s| {
                let row = s.row as usize * self.half;
                (row + s.start as usize..row + s.end as usize)
                    .filter(move |&at| self.keep[colour][at] != 0)
                    .map(move |at| self.pixel(colour, at))
            });
            let border = self.border[colour]
                .iter()
                .map(move |s| self.pixel(colour, s.at as usize));
            runs.chain(border)
        })
    }
}

/// [`Stencils::relax`]: the level split by colour, swept, and put back together. Compiled for
/// the baseline CPU and for AVX2, picked at run time; both give the same values, bit for bit.
#[multiversion(targets("x86_64+avx2"))]
fn relax_split(stencils: &Stencils, v: &mut [f32], sweeps: usize) {
    let (w, half) = (stencils.w, stencils.half);
    let pairs = w / 2;
    let mut split = [
        vec![0.0f32; half * stencils.h],
        vec![0.0f32; half * stencils.h],
    ];
    // Row `y`'s pixels in pairs: the first of each has the row's colour, `y % 2`.
    for (y, row) in v.chunks_exact(w).enumerate() {
        let [red, black] = &mut split;
        let (first, second) = if y % 2 == 0 {
            (&mut red[y * half..][..half], &mut black[y * half..][..half])
        } else {
            (&mut black[y * half..][..half], &mut red[y * half..][..half])
        };
        let (row_pairs, last) = row.as_chunks::<2>();
        for ((&[a, b], first), second) in row_pairs.iter().zip(first.iter_mut()).zip(&mut *second) {
            (*first, *second) = (a, b);
        }
        if let &[last] = last {
            first[pairs] = last;
        }
    }
    relax_sweeps(half, stencils, &mut split, sweeps);
    // Known pixels are never written, so whole rows go back.
    for (y, row) in v.chunks_exact_mut(w).enumerate() {
        let first = &split[y % 2][y * half..][..half];
        let second = &split[1 - y % 2][y * half..][..half];
        let (row_pairs, last) = row.as_chunks_mut::<2>();
        for ((pair, &a), &b) in row_pairs.iter_mut().zip(first).zip(second) {
            *pair = [a, b];
        }
        if let [last] = last {
            *last = first[pairs];
        }
    }
}

/// The sweeps of [`relax_split`].
#[inline(always)]
fn relax_sweeps(half: usize, stencils: &Stencils, split: &mut [Vec<f32>; 2], sweeps: usize) {
    let [red, black] = split;
    for _ in 0..sweeps {
        half_sweep(half, 0, stencils, red, black);
        half_sweep(half, 1, stencils, black, red);
    }
}

/// Relaxes the unknown pixels of one colour (`this`) towards the mean of their neighbours,
/// all of the other colour (`other`).
#[inline(always)]
fn half_sweep(half: usize, colour: usize, stencils: &Stencils, this: &mut [f32], other: &[f32]) {
    for &Span { row, start, end } in &stencils.spans[colour] {
        let (y, start, end) = (row as usize, start as usize, end as usize);
        let len = end - start;
        // Interior pixels: `start + offset >= 1`, and the rows above and below exist.
        let base = y * half + start + (y + colour) % 2;
        let (left, right) = (&other[base - 1..][..len], &other[base..][..len]);
        let (up, down) = (
            &other[(y - 1) * half + start..][..len],
            &other[(y + 1) * half + start..][..len],
        );
        let keep = &stencils.keep[colour][y * half + start..][..len];
        let out = &mut this[y * half + start..][..len];
        // A select on the bits, which the compiler vectorises (a branch it does not).
        let select = |mean: f32, out: f32, keep: u32| {
            f32::from_bits((mean.to_bits() & keep) | (out.to_bits() & !keep))
        };
        match &stencils.weights {
            None => {
                for k in 0..len {
                    let mean = (0.0 + left[k] + right[k] + up[k] + down[k]) / 4.0;
                    out[k] = select(mean, out[k], keep[k]);
                }
            }
            Some(weights) => {
                // `weighted_mean` with both neighbours on either axis (the gaps' weights are
                // 0, and their mean is not kept).
                let wx = &weights[colour][0][y * half + start..][..len];
                let wy = &weights[colour][1][y * half + start..][..len];
                for k in 0..len {
                    let along = 0.0 + left[k] + right[k];
                    let across = 0.0 + up[k] + down[k];
                    let mean = (wx[k] * along + wy[k] * across) / (wx[k] * 2.0 + wy[k] * 2.0);
                    out[k] = select(mean, out[k], keep[k]);
                }
            }
        }
    }
    for s in &stencils.border[colour] {
        let neighbours = s.neighbours[..s.count as usize]
            .iter()
            .map(|&n| other[n as usize]);
        this[s.at as usize] = match s.weights {
            None => {
                let mut sum = 0.0f32;
                for v in neighbours {
                    sum += v;
                }
                sum / f32::from(s.count)
            }
            Some((wx, wy)) => {
                let (mut along, mut across) = (0.0f32, 0.0f32);
                for (k, v) in neighbours.enumerate() {
                    if k < usize::from(s.along) {
                        along += v;
                    } else {
                        across += v;
                    }
                }
                let (nx, ny) = (f32::from(s.along), f32::from(s.count - s.along));
                (wx * along + wy * across) / (wx * nx + wy * ny)
            }
        };
    }
}

/// An unknown pixel on a level's border and its neighbours, in the order [`neighbour_mean`]
/// adds them, as entries of its colour's array and of the other's.
#[derive(Clone, Copy)]
struct Stencil {
    at: u32,
    neighbours: [u32; 4],
    count: u8,
    /// How many of the neighbours (the first ones) lie along the row.
    along: u8,
    /// The weights of the neighbours along the row and along the column, where the fill is
    /// not harmonic.
    weights: Option<(f32, f32)>,
}

/// Optimised CPU path of [`fill_reference`]: each level's unknown pixels are listed once per
/// colour ([`Stencils`]), so a sweep is a tight loop with no bounds logic. Same sums in the
/// same order: the same result, bit for bit.
pub(crate) fn fill(values: &mut [f32], unknown: &[u8], w: usize, h: usize, shape: Anisotropy) {
    let mut levels = pyramid(values, unknown, w, h);
    for l in (0..levels.len() - 1).rev() {
        let (fine, coarse) = levels.split_at_mut(l + 1);
        let (fine, coarse) = (&mut fine[l], &coarse[0]);
        let stencils = Stencils::new(&fine.unknown, fine.w, fine.h, shape);
        for i in stencils.unknown() {
            fine.values[i] = upsample_at(coarse, i % fine.w, i / fine.w);
        }
        stencils.relax(&mut fine.values, SWEEPS);
    }
    values.copy_from_slice(&levels[0].values);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp_with_hole(w: usize, h: usize) -> (Vec<f32>, Vec<u8>, Vec<f32>) {
        let truth: Vec<f32> = (0..w * h)
            .map(|i| (i % w) as f32 * 3.0 + (i / w) as f32)
            .collect();
        let mut unknown = vec![0u8; w * h];
        for y in 5..20 {
            for x in 8..30 {
                unknown[y * w + x] = 1;
            }
        }
        let values = truth
            .iter()
            .zip(&unknown)
            .map(|(&t, &u)| if u != 0 { 0.0 } else { t })
            .collect();
        (values, unknown, truth)
    }

    fn worst_error(values: &[f32], truth: &[f32]) -> f32 {
        values
            .iter()
            .zip(truth)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn a_linear_ramp_is_restored() {
        let (w, h) = (40, 26);
        let (mut values, unknown, truth) = ramp_with_hole(w, h);
        fill_reference(&mut values, &unknown, w, h, Anisotropy::ISOTROPIC);
        let worst = worst_error(&values, &truth);
        assert!(worst < 1.0, "worst error {worst}");
    }

    #[test]
    fn a_warm_start_stays_on_the_solution_and_paths_agree() {
        let (w, h) = (40, 26);
        let (mut solved, unknown, truth) = ramp_with_hole(w, h);
        fill(&mut solved, &unknown, w, h, Anisotropy::ISOTROPIC);
        // The boundary moves by a little noise; the warm start follows it from the old fill.
        let mut moved: Vec<f32> = solved
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                v + if unknown[i] == 0 {
                    ((i * 31) % 5) as f32 * 0.2
                } else {
                    0.0
                }
            })
            .collect();
        let mut reference = moved.clone();
        Stencils::new(&unknown, w, h, Anisotropy::ISOTROPIC).relax(&mut moved, 8);
        relax_reference(&mut reference, &unknown, w, h, 8, Anisotropy::ISOTROPIC);
        assert_eq!(moved, reference);
        let worst = worst_error(&moved, &truth);
        assert!(worst < 2.0, "worst error {worst}");
    }

    #[test]
    fn optimised_matches_reference_exactly() {
        for shape in [Anisotropy::ISOTROPIC, Anisotropy::exponent(1.5)] {
            let (w, h) = (37, 29);
            let (mut a, mut unknown, _) = ramp_with_hole(w, h);
            for (i, v) in a.iter_mut().enumerate() {
                *v += ((i * 7919) % 31) as f32;
            }
            unknown[0] = 1;
            unknown[w * 7] = 1;
            let mut b = a.clone();
            fill_reference(&mut a, &unknown, w, h, shape);
            fill(&mut b, &unknown, w, h, shape);
            assert_eq!(a, b, "{shape:?}");
            let mut c = a.clone();
            relax_reference(&mut a, &unknown, w, h, 5, shape);
            Stencils::new(&unknown, w, h, shape).relax(&mut c, 5);
            assert_eq!(a, c, "{shape:?}");
        }
    }

    #[test]
    fn a_fill_led_across_rows_carries_a_vertical_edge_through_a_wide_hole() {
        // A step from 50 to 200 at x = 20 crossing a hole 30 wide and 8 tall.
        let (w, h) = (40, 20);
        let truth: Vec<f32> = (0..w * h)
            .map(|i| if i % w < 20 { 50.0 } else { 200.0 })
            .collect();
        let unknown: Vec<u8> = (0..w * h)
            .map(|i| u8::from((5..35).contains(&(i % w)) && (6..14).contains(&(i / w))))
            .collect();
        let error = |shape: Anisotropy| {
            let mut values = truth.clone();
            fill(&mut values, &unknown, w, h, shape);
            values
                .iter()
                .zip(&truth)
                .map(|(a, b)| (a - b).powi(2))
                .sum::<f32>()
        };
        let (harmonic, across) = (
            error(Anisotropy::ISOTROPIC),
            error(Anisotropy::exponent(2.0)),
        );
        assert!(
            across * 4.0 < harmonic,
            "led across rows {across}, harmonic {harmonic}"
        );
    }
}
