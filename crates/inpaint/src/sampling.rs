//! Reading a plane between pixels: Catmull-Rom interpolation ([`sample`]) and the check that
//! what it reads is background ([`Blocked::clear`]).
//!
//! A sample at a whole-pixel position is the pixel itself; elsewhere it mixes the 4×4 pixels
//! around it, so it is background only when all sixteen are.

/// Largest integer not above `v` (for the in-range values used here; avoids a libm call).
#[inline]
pub(crate) fn floor(v: f32) -> i32 {
    let i = v as i32;
    i - i32::from(v < i as f32)
}

/// Fractional positions are read at this resolution (1/64 pixel).
const PHASES: usize = 64;
/// Taps of the interpolation filter along each axis.
const TAPS: usize = 4;
/// Taps before the sample position (the footprint is `-BEFORE..TAPS-BEFORE`).
const BEFORE: usize = TAPS / 2 - 1;

/// Catmull-Rom weights for the fractional offsets `0, 1/64, … 1`. (A sharper Lanczos-3 was
/// tried: its wider footprint finds fewer clear reads near marks and frame edges, and it did
/// worse overall on the yardstick.)
fn weights() -> &'static [[f32; TAPS]; PHASES + 1] {
    static TABLE: std::sync::OnceLock<[[f32; TAPS]; PHASES + 1]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        std::array::from_fn(|phase| {
            let t = phase as f32 / PHASES as f32;
            let (t2, t3) = (t * t, t * t * t);
            [
                0.5 * (-t3 + 2.0 * t2 - t),
                0.5 * (3.0 * t3 - 5.0 * t2 + 2.0),
                0.5 * (-3.0 * t3 + 4.0 * t2 + t),
                0.5 * (t3 - t2),
            ]
        })
    })
}

/// The Catmull-Rom weights of the taps around a read at fraction `t` (0 to 1) past a pixel,
/// at the nearest 1/64: what [`sample`] weighs its footprint by, along either axis.
#[inline]
pub(crate) fn taps_at(t: f32) -> &'static [f32; TAPS] {
    &weights()[(t * PHASES as f32 + 0.5) as usize]
}

/// Value of a `w`x`h` plane at (`x`, `y`): the pixel itself at whole-pixel positions,
/// Catmull-Rom interpolation (4×4 pixels, 1/64-pixel phases) between them, edges clamped.
/// Not rounded.
#[inline]
pub(crate) fn sample(plane: &[u8], w: usize, h: usize, x: f32, y: f32) -> f32 {
    sample_by(w, h, x, y, |x, y| f32::from(plane[y * w + x]))
}

/// [`sample`] of a `w`x`h` plane whose pixels `at(x, y)` gives, for planes that are computed
/// rather than stored. A NaN anywhere in the footprint gives NaN.
#[inline]
pub(crate) fn sample_by(
    w: usize,
    h: usize,
    x: f32,
    y: f32,
    at: impl Fn(usize, usize) -> f32,
) -> f32 {
    let (ix, iy) = (floor(x), floor(y));
    let (tx, ty) = (x - ix as f32, y - iy as f32);
    let clamp_x = |v: i32| v.clamp(0, w as i32 - 1) as usize;
    let clamp_y = |v: i32| v.clamp(0, h as i32 - 1) as usize;
    if tx == 0.0 && ty == 0.0 {
        return at(clamp_x(ix), clamp_y(iy));
    }
    let columns: [usize; TAPS] = std::array::from_fn(|k| clamp_x(ix - BEFORE as i32 + k as i32));
    let rows: [usize; TAPS] = std::array::from_fn(|j| clamp_y(iy - BEFORE as i32 + j as i32));
    interpolate(tx, ty, |j, k| at(columns[k], rows[j]))
}

/// The Catmull-Rom mix of a read's 4×4 footprint at fraction (`tx`, `ty`) past its pixel, where
/// `at(j, k)` is the footprint's pixel in row `j`, column `k`: rows first, then the column.
#[inline(always)]
fn interpolate(tx: f32, ty: f32, at: impl Fn(usize, usize) -> f32) -> f32 {
    weighted(taps_at(tx), taps_at(ty), at)
}

/// The 4×4 footprint `at(row, column)` weighed by `wx` along rows and `wy` down columns.
#[inline(always)]
fn weighted(wx: &[f32; TAPS], wy: &[f32; TAPS], at: impl Fn(usize, usize) -> f32) -> f32 {
    let mut acc = 0.0;
    for (j, wyj) in wy.iter().enumerate() {
        let mut r = 0.0;
        for (k, wxk) in wx.iter().enumerate() {
            r += wxk * at(j, k);
        }
        acc += wyj * r;
    }
    acc
}

/// The pixels of a plane (or crop) that are not background, with the same map widened to
/// the 4×4 footprint of an interpolated read, so that either check is one lookup.
pub(crate) struct Blocked {
    w: usize,
    h: usize,
    /// 1 where the pixel is not background.
    exact: Vec<u8>,
    /// 1 where an interpolated read at (x + fraction, y + fraction) would touch such a pixel
    /// or leave the plane.
    wide: Vec<u8>,
    /// Per row, the runs `[start, end)` of clear pixels of `exact`.
    exact_runs: Vec<Vec<(u32, u32)>>,
    /// The clear pixels of `exact` and of `wide`, one bit each.
    exact_bits: ClearBits,
    wide_bits: ClearBits,
}

/// The clear pixels of a map, one bit each (bit `x % 64` of word `x / 64` of a row), so that a
/// row's worth of reads is tested a word at a time.
pub(crate) struct ClearBits {
    /// Words per row.
    words: usize,
    bits: Vec<u64>,
}

impl ClearBits {
    /// From a `w`-pixel-wide map, 0 = clear.
    fn new(map: &[u8], w: usize) -> Self {
        let words = w.div_ceil(64);
        let mut bits = Vec::with_capacity(words * (map.len() / w.max(1)));
        for row in map.chunks_exact(w.max(1)) {
            for chunk in row.chunks(64) {
                let clear = chunk.iter().enumerate();
                bits.push(clear.fold(0, |word, (k, &v)| word | (u64::from(v == 0) << k)));
            }
        }
        Self { words, bits }
    }

    /// Row `y`'s words; empty outside the map.
    #[inline]
    pub fn row(&self, y: i32) -> &[u64] {
        usize::try_from(y)
            .ok()
            .and_then(|y| self.bits.get(y * self.words..(y + 1) * self.words))
            .unwrap_or_default()
    }
}

/// The 64 bits of a row of bits (bit `x % 64` of word `x / 64` for column `x`) from column
/// `64 * word + shift` on (`shift` < 64); columns outside the row read as 0.
#[inline]
pub(crate) fn word_at(row: &[u64], word: isize, shift: u32) -> u64 {
    let get = |i: isize| usize::try_from(i).ok().and_then(|i| row.get(i)).copied();
    let low = get(word).unwrap_or(0);
    if shift == 0 {
        low
    } else {
        (low >> shift) | (get(word + 1).unwrap_or(0) << (64 - shift))
    }
}

/// The runs `[start, end)` of bytes of one row that are set (non-zero) when `set`, zero
/// otherwise.
pub(crate) fn runs_of(row: &[u8], set: bool) -> Vec<(u32, u32)> {
    let mut runs = Vec::new();
    let mut start = None;
    for (x, &b) in row
        .iter()
        .chain(std::iter::once(&u8::from(!set)))
        .enumerate()
    {
        match ((b != 0) == set, start) {
            (true, None) => start = Some(x as u32),
            (false, Some(s)) => {
                runs.push((s, x as u32));
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// The runs of zeros in each `w`-pixel row of a bitmap.
fn clear_runs(bits: &[u8], w: usize) -> Vec<Vec<(u32, u32)>> {
    bits.chunks(w.max(1))
        .map(|row| runs_of(row, false))
        .collect()
}

impl Blocked {
    /// From a `w`x`h` bitmap (1 = not background).
    pub fn new(exact: Vec<u8>, w: usize, h: usize) -> Self {
        // Separably: any blocked pixel in the footprint's columns, then in its rows, each an OR
        // of shifted rows. A footprint that leaves the plane is blocked too.
        let interior = |len: usize| BEFORE..(len + BEFORE + 1).saturating_sub(TAPS).max(BEFORE);
        let mut across = vec![1u8; w * h];
        let rows = across
            .chunks_exact_mut(w.max(1))
            .zip(exact.chunks_exact(w.max(1)));
        for (out, row) in rows.filter(|_| w >= TAPS) {
            let out = &mut out[interior(w)];
            out.fill(0);
            for k in 0..TAPS {
                out.iter_mut().zip(&row[k..]).for_each(|(o, &b)| *o |= b);
            }
            out.iter_mut().for_each(|o| *o = u8::from(*o != 0));
        }
        let mut wide = vec![1u8; w * h];
        for y in interior(h) {
            let out = &mut wide[y * w..][..w];
            out.fill(0);
            for row in across[(y - BEFORE) * w..][..TAPS * w].chunks_exact(w.max(1)) {
                out.iter_mut().zip(row).for_each(|(o, &a)| *o |= a);
            }
        }
        Self {
            w,
            h,
            exact_runs: clear_runs(&exact, w),
            exact_bits: ClearBits::new(&exact, w),
            wide_bits: ClearBits::new(&wide, w),
            exact,
            wide,
        }
    }

    /// Runs of columns `[start, end)` in row `y` where a whole-pixel read is background only.
    /// Empty outside the plane.
    pub fn clear_runs(&self, y: i32) -> &[(u32, u32)] {
        usize::try_from(y)
            .ok()
            .and_then(|y| self.exact_runs.get(y))
            .map_or(&[], Vec::as_slice)
    }

    /// The columns where a read is background only, one bit each: whole-pixel reads
    /// (`whole`), or interpolated ones whose top-left support pixel is in that column.
    pub fn clear_bits(&self, whole: bool) -> &ClearBits {
        if whole {
            &self.exact_bits
        } else {
            &self.wide_bits
        }
    }

    /// The map (1 = not background) and the same widened to a read's 4x4 footprint.
    pub fn maps(&self) -> (&[u8], &[u8]) {
        (&self.exact, &self.wide)
    }

    /// Whether pixel (`x`, `y`) is not background.
    pub fn at(&self, x: usize, y: usize) -> bool {
        self.at_index(y * self.w + x)
    }

    /// Whether the pixel at index `i` (`y * w + x`) is not background.
    #[inline]
    pub fn at_index(&self, i: usize) -> bool {
        self.exact[i] != 0
    }

    /// Whether whole pixel (`x`, `y`) is inside and background: [`clear`](Self::clear) at
    /// whole-pixel positions.
    #[inline]
    pub fn clear_pixel(&self, x: isize, y: isize) -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < self.w
            && (y as usize) < self.h
            && self.exact[y as usize * self.w + x as usize] == 0
    }

    /// Whether [`sample`] at (`x`, `y`) reads background only.
    #[inline]
    pub fn clear(&self, x: f32, y: f32) -> bool {
        match (axis_position(x, self.w), axis_position(y, self.h)) {
            (Some((ux, tx)), Some((uy, ty))) => {
                self.clear_at(uy * self.w + ux, tx == 0.0 && ty == 0.0)
            }
            _ => false,
        }
    }

    /// Whether a read at pixel `i`, exactly there (`whole`) or between it and the next ones,
    /// reads background only.
    #[inline(always)]
    fn clear_at(&self, i: usize, whole: bool) -> bool {
        let map = if whole { &self.exact } else { &self.wide };
        map[i] == 0
    }

    /// [`sample`] of `plane` (of this map's size) at (`x`, `y`) where the read is
    /// [`clear`](Self::clear), `None` where it is not. A clear read's footprint lies inside the
    /// plane, so no edge is clamped: the value `sample` gives, for less work.
    #[inline]
    pub fn sample_clear(&self, plane: &[u8], x: f32, y: f32) -> Option<f32> {
        let column = AxisRead::new(x, self.w)?;
        let row = AxisRead::new(y, self.h)?;
        self.read_clear(plane, column, row)
    }

    /// [`sample_clear`](Self::sample_clear) at the read along each axis that `column` and
    /// `row` say: where reads share their columns and rows (a translation), those are worked
    /// out once.
    #[inline(always)]
    pub fn read_clear(&self, plane: &[u8], column: AxisRead, row: AxisRead) -> Option<f32> {
        let w = self.w;
        let i = row.at * w + column.at;
        let whole = column.whole && row.whole;
        if !self.clear_at(i, whole) {
            return None;
        }
        if whole {
            return Some(f32::from(plane[i]));
        }
        // Clear means the footprint, BEFORE pixels up and left of the read, is in the plane.
        let first = i - BEFORE * w - BEFORE;
        Some(weighted(column.taps, row.taps, |j, k| {
            f32::from(plane[first + j * w + k])
        }))
    }

    /// The map's width and height.
    pub fn size(&self) -> (usize, usize) {
        (self.w, self.h)
    }
}

/// Where a read falls along one axis of a plane: the pixel at or before it, whether it is
/// that pixel exactly, and the interpolation taps past it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AxisRead {
    at: usize,
    whole: bool,
    taps: &'static [f32; TAPS],
}

impl AxisRead {
    /// The read at `v` along an axis `len` pixels long; `None` off it.
    #[inline(always)]
    pub fn new(v: f32, len: usize) -> Option<Self> {
        let (at, t) = axis_position(v, len)?;
        Some(Self {
            at,
            whole: t == 0.0,
            taps: taps_at(t),
        })
    }
}

/// The pixel at or before `v` along an axis `len` pixels long, and the fraction past it;
/// `None` off the axis.
#[inline(always)]
fn axis_position(v: f32, len: usize) -> Option<(usize, f32)> {
    let i = floor(v);
    (i >= 0 && i < len as i32).then_some((i as usize, v - i as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clear_sample_is_the_clamped_sample_where_the_read_is_clear() {
        let (w, h) = (23, 17);
        let plane: Vec<u8> = (0..w * h).map(|i| (i * 97 % 251) as u8).collect();
        let mut bits = vec![0u8; w * h];
        for (x, y) in [(7, 6), (8, 6), (15, 11)] {
            bits[y * w + x] = 1;
        }
        let b = Blocked::new(bits, w, h);
        let mut reads = 0;
        for sy in -8..(h as i32 + 2) * 4 {
            for sx in -8..(w as i32 + 2) * 4 {
                // Quarter pixels, whole pixels, and positions off the 1/64 grid.
                let (x, y) = (sx as f32 * 0.25 + 0.003 * (sx % 3) as f32, sy as f32 * 0.25);
                let clamped = b.clear(x, y).then(|| sample(&plane, w, h, x, y).to_bits());
                assert_eq!(
                    b.sample_clear(&plane, x, y).map(f32::to_bits),
                    clamped,
                    "({x}, {y})"
                );
                reads += usize::from(clamped.is_some());
            }
        }
        assert!(reads > 1000, "{reads} clear reads");
    }

    #[test]
    fn whole_pixels_are_read_exactly_and_blocking_covers_the_footprint() {
        let p: Vec<u8> = (0..200).map(|i| (i * 37 % 256) as u8).collect();
        assert_eq!(sample(&p, 20, 10, 3.0, 4.0), f32::from(p[4 * 20 + 3]));
        let linear: Vec<u8> = (0..200).map(|i| (i % 20 * 10) as u8).collect();
        assert!((sample(&linear, 20, 10, 5.25, 3.5) - 52.5).abs() < 1e-3);
        assert_eq!(floor(-0.5), -1);
        assert_eq!(floor(2.0), 2);

        let mut bits = vec![0u8; 200];
        bits[5 * 20 + 10] = 1;
        let b = Blocked::new(bits, 20, 10);
        assert!(!b.clear(10.0, 5.0) && b.clear(11.0, 5.0));
        assert!(
            !b.clear(8.5, 5.0) && !b.clear(11.5, 5.0) && b.clear(12.5, 5.0) && b.clear(7.5, 5.0)
        );
        assert!(!b.clear(0.5, 2.0) && b.clear(0.0, 2.0) && !b.clear(-1.0, 2.0));
        assert_eq!(b.clear_runs(5), &[(0, 10), (11, 20)]);
        let bits = |ranges: &[(u32, u32)]| {
            ranges
                .iter()
                .fold(0, |w, &(a, z)| w | ((1 << z) - (1 << a)))
        };
        assert_eq!(b.clear_bits(true).row(5), &[bits(&[(0, 10), (11, 20)])]);
        assert_eq!(b.clear_bits(false).row(5), &[bits(&[(1, 8), (12, 18)])]);
        assert_eq!(b.clear_bits(false).row(0), &[0]);
        assert_eq!(b.clear_bits(false).row(-1), &[] as &[u64]);
        assert_eq!(b.clear_bits(true).row(10), &[] as &[u64]);
        // A word read across words and outside the row.
        let row = [u64::MAX, 0b1011];
        assert_eq!(word_at(&row, 1, 0), 0b1011);
        assert_eq!(word_at(&row, 0, 62), 0b101111);
        assert_eq!(word_at(&row, -1, 63), !0 << 1);
        assert_eq!(word_at(&row, -1, 1), 1 << 63);
        assert_eq!(word_at(&row, 2, 0), 0);
    }

    #[test]
    fn the_wide_map_is_the_footprint_of_every_blocked_pixel() {
        // Planes too small for any footprint are blocked everywhere.
        for (w, h) in [(0, 0), (1, 1), (2, 5), (5, 2), (3, 3)] {
            let b = Blocked::new(vec![0; w * h], w, h);
            let wide = b.clear_bits(false);
            assert!((0..h).all(|y| wide.row(y as i32).iter().all(|&word| word == 0)));
        }
        let (w, h) = (23, 17);
        let bits: Vec<u8> = (0..w * h).map(|i| u8::from(i * 7919 % 31 == 0)).collect();
        let b = Blocked::new(bits.clone(), w, h);
        for y in 0..h {
            for x in 0..w {
                // A read at (x + ½, y + ½) mixes columns x - 1 ..= x + 2 and rows y - 1 ..= y + 2.
                let inside = x >= 1 && y >= 1 && x + 2 < w && y + 2 < h;
                let clear = inside
                    && (y - 1..=y + 2).all(|yy| (x - 1..=x + 2).all(|xx| bits[yy * w + xx] == 0));
                assert_eq!(b.clear(x as f32 + 0.5, y as f32 + 0.5), clear, "({x}, {y})");
            }
        }
    }
}
