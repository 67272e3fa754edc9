//! Averaging un-blended pixels along the motion. Un-blending divides by `1 - alpha`, so what a
//! lossy input's coding added to a marked pixel comes out amplified, and it is new in every
//! frame, while the background under the mark moves on as the camera does. Each un-blended
//! pixel is mixed with the mean of what the frames around show at its motion-compensated
//! place, in proportion to how much further off its own value is likely to be than that mean:
//! - the mean's error is measured on a ring of pixels around the mark, where nothing was
//!   un-blended: how far the same mean is from the frame there (`ring`);
//! - the pixel's own error is the excess of its distance from the mean over the ring's, fitted
//!   per frame as `s / (1 - alpha)^2 + m`: the input's noise amplified by un-blending, and what
//!   does not scale with it (an estimated model's error, coding ringing at the mark's edges).
//!
//! The weight of the mean is `e / (e + ring + e / n)` (`e` the pixel's fitted error, `n` the
//! frames averaged). On a lossless input un-blended pixels are as close to the mean as the
//! ring's are and the weight is about zero: the frame's own value, exact, is kept.
//!
//! A source frame is read by shifting the whole working rectangle at once (when its motion is a
//! translation): `sampling::sample`'s Catmull-Rom weights (`taps_at`) along rows, then along
//! columns; where the pixels used are a small part of the rectangle (an opaque mark's
//! soft edge), or the motion is a zoom or a rotation, each is read on its own.

use crate::blend::{Inversion, PixelKind};
use crate::mask::Bounds;
use crate::plane::to_pixel;
use crate::sampling::{AxisRead, Blocked, floor, taps_at};
use crate::temporal::Source;
use multiversion::multiversion;

/// Pixels of known background around the mark whose distance from the mean calibrates it
/// (luma; half on chroma).
const RING: usize = 4;
/// Fewest ring and un-blended pixels, each, for a frame's fit to mean anything.
const MIN_PIXELS: usize = 32;
/// Fewest frames a pixel's mean is taken over.
const MIN_SOURCES: u16 = 2;

/// One plane's averaging: where it reads and writes.
pub(crate) struct AveragePlane {
    /// The mark's bounds grown by the ring, in plane coordinates.
    rect: Bounds,
    /// Un-blended pixels: index in `rect`, index in the plane and `1 / (1 - alpha)^2`.
    unblended: Vec<(u32, u32, f32)>,
    /// Ring pixels: index in `rect` and in the plane.
    ring: Vec<(u32, u32)>,
    /// The un-blended and ring pixels together, in order, when they are few enough in `rect`
    /// that reading each is cheaper than shifting the whole rectangle (an opaque mark's soft
    /// edge); `None` to shift the rectangle.
    sparse: Option<Vec<u32>>,
}

/// Share of the rectangle's pixels below which they are read one by one.
const SPARSE: usize = 4;

/// What averaging one plane of one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Averaged {
    /// Un-blended pixels moved towards the mean by at least a tenth of the way.
    pub pixels: u64,
    /// Un-blended pixels that had a mean.
    pub weighed: u64,
    /// The expected drop of their squared error from averaging away the input's noise as
    /// un-blending amplified it (the `s / (1 - alpha)^2` part alone), summed: at the best
    /// weight `w = e / (e + ring + e / n)`, mixing takes `w * e` off a pixel's error `e`.
    pub gain_sum: f64,
}

impl Averaged {
    /// Both planes' (or frames') together.
    pub fn add(self, other: Self) -> Self {
        Self {
            pixels: self.pixels + other.pixels,
            weighed: self.weighed + other.weighed,
            gain_sum: self.gain_sum + other.gain_sum,
        }
    }
}

impl AveragePlane {
    /// The averaging of a plane `w`x`h` whose marked region `inversion` describes, reading
    /// source crops of `region`; `None` without un-blended pixels.
    pub fn new(
        inversion: &Inversion,
        w: usize,
        h: usize,
        region: Bounds,
        luma: bool,
    ) -> Option<Self> {
        let ring = if luma { RING } else { RING / 2 };
        let b = inversion.bounds;
        let grown = b.grown(ring, w, h);
        let rect = Bounds {
            x0: grown.x0.max(region.x0),
            y0: grown.y0.max(region.y0),
            x1: grown.x1.min(region.x1),
            y1: grown.y1.min(region.y1),
        };
        let rw = rect.width();
        let mut unblended = Vec::new();
        let mut ring_pixels = Vec::new();
        for y in rect.y0..rect.y1 {
            for x in rect.x0..rect.x1 {
                let at = ((y - rect.y0) * rw + x - rect.x0) as u32;
                let pixel = (y * w + x) as u32;
                let inside = x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;
                let kind = if inside {
                    let i = (y - b.y0) * b.width() + x - b.x0;
                    (inversion.kind[i], inversion.alpha(i))
                } else {
                    (PixelKind::Keep, 0.0)
                };
                match kind {
                    (PixelKind::Invert, alpha) => {
                        unblended.push((at, pixel, 1.0 / ((1.0 - alpha) * (1.0 - alpha))));
                    }
                    (PixelKind::Keep, _) => ring_pixels.push((at, pixel)),
                    (PixelKind::Hole, _) => {}
                }
            }
        }
        // Only pixels near the mark calibrate: the rest of the bounds' corners are far.
        let near = crate::morph::dilate(
            &{
                let mut marked = vec![0u8; rw * rect.height()];
                for &(i, _, _) in &unblended {
                    marked[i as usize] = 1;
                }
                marked
            },
            rw,
            rect.height(),
            ring,
        );
        ring_pixels.retain(|&(i, _)| near[i as usize] != 0);
        let used = unblended.len() + ring_pixels.len();
        let sparse = (used * SPARSE < rw * rect.height()).then(|| {
            let mut all: Vec<u32> = unblended.iter().map(|&(i, _, _)| i).collect();
            all.extend(ring_pixels.iter().map(|&(i, _)| i));
            all.sort_unstable();
            all
        });
        (!unblended.is_empty()).then_some(Self {
            rect,
            unblended,
            ring: ring_pixels,
            sparse,
        })
    }

    /// What `sources` show at each pixel of the rectangle, summed, and how many showed it;
    /// `holes`: whether the sources' own holes must be avoided.
    pub fn sums(&self, sources: &[Source<'_>], holes: bool) -> (Vec<f32>, Vec<u16>) {
        let (rw, rh) = (self.rect.width(), self.rect.height());
        let mut sum = vec![0.0f32; rw * rh];
        let mut count = vec![0u16; rw * rh];
        sums_reference(
            self.rect,
            self.sparse.as_deref(),
            holes,
            sources,
            &mut sum,
            &mut count,
        );
        (sum, count)
    }

    /// [`sums`](Self::sums) on a device.
    pub fn sums_on(
        &self,
        device: &dyn crate::KernelDevice,
        sources: &[crate::reference::TemporalSource<'_>],
        holes: bool,
    ) -> Result<(Vec<f32>, Vec<u16>), String> {
        let r = self.rect;
        let (rw, rh) = (r.width(), r.height());
        let mut sum = vec![0.0f32; rw * rh];
        let mut count = vec![0u16; rw * rh];
        device.average_sums(
            [r.x0, r.y0, r.x1, r.y1],
            self.sparse.as_deref(),
            holes,
            sources,
            &mut sum,
            &mut count,
        )?;
        Ok((sum, count))
    }

    /// Averages the un-blended pixels of `plane` (the plane this averaging was made for,
    /// un-blended already) with the mean of what the sources showed ([`sums`](Self::sums)).
    /// Unless `confirmed` (the input is known to be lossy), only the amplified noise counts in
    /// a pixel's error: the rest of the fit may be the ring's and the mark's backgrounds
    /// differing, which on a lossless input averaging would only blur.
    pub fn apply(
        &self,
        plane: &mut [u8],
        (sum, count): (Vec<f32>, Vec<u16>),
        confirmed: bool,
    ) -> Averaged {
        let mean = |i: u32| {
            let n = count[i as usize];
            (n >= MIN_SOURCES).then(|| (sum[i as usize] / f32::from(n), f32::from(n)))
        };

        // The mean's error, on the ring.
        let (mut ring_sq, mut ring_n) = (0.0f64, 0usize);
        for &(i, pixel) in &self.ring {
            if let Some((m, _)) = mean(i) {
                let d = f32::from(plane[pixel as usize]) - m;
                ring_sq += f64::from(d * d);
                ring_n += 1;
            }
        }
        if ring_n < MIN_PIXELS {
            return Averaged::default();
        }
        let ring = (ring_sq / ring_n as f64) as f32;

        // The un-blended pixels' excess error, fitted as s * x + m with x = 1 / (1 - alpha)^2:
        // least squares on e / (1 + 1/n) = s * x + m.
        let mut samples = Vec::with_capacity(self.unblended.len());
        for &(i, pixel, x) in &self.unblended {
            if let Some((m, n)) = mean(i) {
                let d = f32::from(plane[pixel as usize]) - m;
                samples.push((x, (d * d - ring) / (1.0 + 1.0 / n)));
            }
        }
        if samples.len() < MIN_PIXELS {
            return Averaged::default();
        }
        let (s, m) = fit(&samples);
        let m = if confirmed { m } else { 0.0 };

        let mut done = Averaged::default();
        for &(i, pixel, x) in &self.unblended {
            let Some((mean, n)) = mean(i) else { continue };
            let e = s * x + m;
            let weight = e / (e + ring + e / n).max(f32::MIN_POSITIVE);
            let px = &mut plane[pixel as usize];
            let own = f32::from(*px);
            *px = to_pixel(own + weight * (mean - own));
            done.pixels += u64::from(weight >= 0.1);
            // What averaging would take off the amplified noise alone: the part of the error
            // that tells a lossy input from a lossless one.
            let amplified = s * x;
            done.gain_sum += f64::from(
                amplified * amplified / (amplified + ring + amplified / n).max(f32::MIN_POSITIVE),
            );
            done.weighed += 1;
        }
        done
    }
}

/// Least squares of `e = s * x + m` over `(x, e)`, with `s` and `m` at least zero.
fn fit(samples: &[(f32, f32)]) -> (f32, f32) {
    let n = samples.len() as f64;
    let (mut sx, mut se, mut sxx, mut sxe) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for &(x, e) in samples {
        let (x, e) = (f64::from(x), f64::from(e));
        sx += x;
        se += e;
        sxx += x * x;
        sxe += x * e;
    }
    let det = n * sxx - sx * sx;
    let (s, m) = if det.abs() > 1e-9 * n * sxx.max(1.0) {
        ((n * sxe - sx * se) / det, (sxx * se - sx * sxe) / det)
    } else {
        (0.0, se / n)
    };
    // A negative part is none: refit the other alone.
    if s < 0.0 {
        (0.0, (se / n).max(0.0) as f32)
    } else if m < 0.0 {
        ((sxe / sxx.max(f64::MIN_POSITIVE)).max(0.0) as f32, 0.0)
    } else {
        (s as f32, m as f32)
    }
}

/// Adds what `source` shows at each pixel of `rect` (plane coordinates, moved by the source's
/// motion) to `sum` and counts it in `count`, where the read lies inside the source's crop
/// (and, with `holes`, clear of its holes). `rows` is scratch. Compiled for the baseline CPU
/// and for AVX2 (twice as wide; no fused multiply-add, so both give the same sums, bit for
/// bit), picked at run time.
#[multiversion(targets("x86_64+avx2"))]
fn add_shifted(
    source: &Source<'_>,
    rect: Bounds,
    holes: bool,
    sum: &mut [f32],
    count: &mut [u16],
    rows: &mut Vec<f32>,
) {
    let Some(ShiftedBox {
        x0,
        y0,
        nx,
        ny,
        first_row: first,
        first_col: c0,
        wx,
        wy,
    }) = shifted_box(
        rect,
        (source.w, source.h),
        (source.x0, source.y0),
        (source.motion.dx, source.motion.dy),
    )
    else {
        return;
    };
    let rw = rect.width();
    rows.clear();
    rows.resize((ny + 3) * nx, 0.0);
    for r in 0..ny + 3 {
        let src = &source.plane[(first + r) * source.w + c0..][..nx + 3];
        let out = &mut rows[r * nx..(r + 1) * nx];
        for (o, s) in out.iter_mut().zip(src.windows(4)) {
            *o = wx[0] * f32::from(s[0])
                + wx[1] * f32::from(s[1])
                + wx[2] * f32::from(s[2])
                + wx[3] * f32::from(s[3]);
        }
    }
    // Then along columns, into the sums.
    for r in 0..ny {
        let y = y0 + r;
        let base = (y - rect.y0) * rw + x0 - rect.x0;
        let (a, b, c, d) = (
            &rows[r * nx..][..nx],
            &rows[(r + 1) * nx..][..nx],
            &rows[(r + 2) * nx..][..nx],
            &rows[(r + 3) * nx..][..nx],
        );
        let sums = &mut sum[base..base + nx];
        let counts = &mut count[base..base + nx];
        let tapped = |k: usize| wy[0] * a[k] + wy[1] * b[k] + wy[2] * c[k] + wy[3] * d[k];
        if holes {
            for k in 0..nx {
                if clear(source.blocked, source, x0 + k, y) {
                    sums[k] += tapped(k);
                    counts[k] += 1;
                }
            }
        } else {
            // No check per pixel: a loop the compiler vectorises.
            for (k, (s, n)) in sums.iter_mut().zip(counts.iter_mut()).enumerate() {
                *s += tapped(k);
                *n += 1;
            }
        }
    }
}

/// The sums of [`AveragePlane::sums`] for a rectangle `rect` and its `sparse` pixels, if any:
/// the definition a device's `average_sums` gives.
pub(crate) fn sums_reference(
    rect: Bounds,
    sparse: Option<&[u32]>,
    holes: bool,
    sources: &[Source<'_>],
    sum: &mut [f32],
    count: &mut [u16],
) {
    let mut rows = Vec::new();
    let every = || 0..(rect.width() * rect.height()) as u32;
    for source in sources {
        match sparse {
            Some(pixels) => add_sampled(source, rect, pixels.iter().copied(), sum, count),
            // A zoom or a rotation moves no rectangle as a whole: each pixel is read on its
            // own, clear of the source's holes.
            None if !source.motion.is_translation() => {
                add_sampled(source, rect, every(), sum, count)
            }
            None => add_shifted(source, rect, holes, sum, count, &mut rows),
        }
    }
}

/// The rect pixels whose four taps each way lie inside a source's crop (`w` x `h` at plane
/// (`x0`, `y0`)) moved by (`dx`, `dy`), and the taps: what [`add_shifted`] reads (`None`
/// when no pixel does).
pub(crate) fn shifted_box(
    rect: Bounds,
    (w, h): (usize, usize),
    (x0, y0): (usize, usize),
    (dx, dy): (f32, f32),
) -> Option<ShiftedBox> {
    let (ix, iy) = (floor(dx), floor(dy));
    // Crop coordinates of the first tap for rect pixel (x, y): x - x0 + ix - 1.
    let col = |x: usize| x as i64 - x0 as i64 + i64::from(ix) - 1;
    let row = |y: usize| y as i64 - y0 as i64 + i64::from(iy) - 1;
    let (cw, ch) = (w as i64, h as i64);
    let x0 = (rect.x0..rect.x1).find(|&x| col(x) >= 0)?;
    let x1 = (rect.x0..rect.x1).rev().find(|&x| col(x) + 3 < cw)?;
    let y0 = (rect.y0..rect.y1).find(|&y| row(y) >= 0)?;
    let y1 = (rect.y0..rect.y1).rev().find(|&y| row(y) + 3 < ch)?;
    (x0 <= x1 && y0 <= y1).then(|| ShiftedBox {
        x0,
        y0,
        nx: x1 - x0 + 1,
        ny: y1 - y0 + 1,
        first_row: row(y0) as usize,
        first_col: col(x0) as usize,
        wx: *taps_at(dx - ix as f32),
        wy: *taps_at(dy - iy as f32),
    })
}

/// What a source shows of a shifted rectangle (see `shifted_box`).
#[derive(Clone, Copy, Debug)]
pub struct ShiftedBox {
    /// First rect pixel read (plane coordinates) and how many along each axis.
    pub x0: usize,
    pub y0: usize,
    pub nx: usize,
    pub ny: usize,
    /// Crop row and column of the first tap of the first pixel.
    pub first_row: usize,
    pub first_col: usize,
    /// The taps along rows and columns.
    pub wx: [f32; 4],
    pub wy: [f32; 4],
}

/// [`add_shifted`] for the rect's `pixels` alone (indices in `rect`), read one by one (and
/// always clear of the source's holes).
fn add_sampled(
    source: &Source<'_>,
    rect: Bounds,
    pixels: impl IntoIterator<Item = u32>,
    sum: &mut [f32],
    count: &mut [u16],
) {
    let rw = rect.width() as u32;
    if source.motion.is_translation() {
        // A translated read's column depends on the pixel's column alone, its row on the
        // row: each is worked out once, for the same reads.
        let (bw, bh) = source.blocked.size();
        let (x0, y0) = (rect.x0 as u32, rect.y0 as u32);
        let columns: Vec<Option<AxisRead>> = (x0..rect.x1 as u32)
            .map(|x| AxisRead::new(moved(source, x, y0).0, bw))
            .collect();
        let rows: Vec<Option<AxisRead>> = (y0..rect.y1 as u32)
            .map(|y| AxisRead::new(moved(source, x0, y).1, bh))
            .collect();
        for i in pixels {
            let (Some(column), Some(row)) = (columns[(i % rw) as usize], rows[(i / rw) as usize])
            else {
                continue;
            };
            if let Some(v) = source.blocked.read_clear(source.plane, column, row) {
                sum[i as usize] += v;
                count[i as usize] += 1;
            }
        }
        return;
    }
    for i in pixels {
        let (x, y) = (i % rw + rect.x0 as u32, i / rw + rect.y0 as u32);
        let (sx, sy) = moved(source, x, y);
        if let Some(v) = source.blocked.sample_clear(source.plane, sx, sy) {
            sum[i as usize] += v;
            count[i as usize] += 1;
        }
    }
}

/// Whether `source`'s read for plane pixel (`x`, `y`) is clear of its holes.
#[inline]
fn clear(blocked: &Blocked, source: &Source<'_>, x: usize, y: usize) -> bool {
    let (sx, sy) = moved(source, x as u32, y as u32);
    blocked.clear(sx, sy)
}

/// Where plane pixel (`x`, `y`) is read in `source`'s crop (the device kernels' arithmetic).
#[inline(always)]
fn moved(source: &Source<'_>, x: u32, y: u32) -> (f32, f32) {
    let (dx, dy) = source.motion.at(x as f32, y as f32);
    (
        x as f32 + dx - source.x0 as f32,
        y as f32 + dy - source.y0 as f32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::motion::Motion;

    #[test]
    fn the_fit_splits_amplified_noise_from_the_rest() {
        let line = |s: f32, m: f32| -> Vec<(f32, f32)> {
            (1..=40)
                .map(|i| (1.0 + i as f32 * 0.1, s * (1.0 + i as f32 * 0.1) + m))
                .collect()
        };
        let (s, m) = fit(&line(3.0, 2.0));
        assert!((s - 3.0).abs() < 1e-3 && (m - 2.0).abs() < 1e-3, "{s} {m}");
        // A negative part is none, and the other is fitted alone.
        let (s, m) = fit(&line(2.0, -1.0));
        assert!(m == 0.0 && s > 0.0, "{s} {m}");
        assert_eq!(fit(&line(-1.0, 0.5)).0, 0.0);
    }

    #[test]
    fn shifting_the_box_reads_what_sampling_each_pixel_reads() {
        let (w, h) = (48usize, 32usize);
        let plane: Vec<u8> = (0..w * h)
            .map(|i| ((i * 73 + i / w * 29) % 251) as u8)
            .collect();
        let blocked = Blocked::new(vec![0; w * h], w, h);
        let rect = Bounds {
            x0: 10,
            y0: 8,
            x1: 38,
            y1: 26,
        };
        for motion in [
            Motion::new(1.3, -0.6),
            Motion::new(-2.0, 3.0),
            Motion::new(0.5, 0.25),
        ] {
            let source = Source {
                plane: &plane,
                blocked: &blocked,
                w,
                h,
                x0: 0,
                y0: 0,
                motion,
            };
            let size = rect.width() * rect.height();
            let (mut shifted, mut count_shifted) = (vec![0.0; size], vec![0u16; size]);
            add_shifted(
                &source,
                rect,
                false,
                &mut shifted,
                &mut count_shifted,
                &mut Vec::new(),
            );
            let all: Vec<u32> = (0..size as u32).collect();
            let (mut sampled, mut count_sampled) = (vec![0.0; size], vec![0u16; size]);
            add_sampled(
                &source,
                rect,
                all.iter().copied(),
                &mut sampled,
                &mut count_sampled,
            );
            for i in 0..size {
                if count_shifted[i] == 1 && count_sampled[i] == 1 {
                    // Sampling reads fractions to 1/64 of a pixel.
                    assert!(
                        (shifted[i] - sampled[i]).abs() < 2.0,
                        "{motion:?} pixel {i}"
                    );
                }
            }
            let both = (0..size).filter(|&i| count_shifted[i] == 1 && count_sampled[i] == 1);
            assert!(
                both.count() > size / 2,
                "{motion:?}: too few pixels read both ways"
            );
        }
    }

    #[test]
    fn a_translated_source_is_sampled_as_pixel_by_pixel() {
        // A crop at (5, 3) of a plane, with holes, read by translations that reach past its
        // edges, at whole pixels and between them.
        let (w, h) = (40usize, 30usize);
        let plane: Vec<u8> = (0..w * h)
            .map(|i| ((i * 89 + i / w * 41) % 253) as u8)
            .collect();
        let mut holes = vec![0u8; w * h];
        for (x, y) in [(20, 12), (21, 12), (8, 25), (33, 4)] {
            holes[y * w + x] = 1;
        }
        let blocked = Blocked::new(holes, w, h);
        let rect = Bounds {
            x0: 2,
            y0: 1,
            x1: 46,
            y1: 34,
        };
        let pixels: Vec<u32> = (0..(rect.width() * rect.height()) as u32)
            .filter(|i| i % 3 != 1)
            .collect();
        for motion in [
            Motion::new(3.0, -2.0),
            Motion::new(1.3, -0.6),
            Motion::new(-7.75, 4.5),
            Motion::new(0.0, 0.4),
        ] {
            let source = Source {
                plane: &plane,
                blocked: &blocked,
                w,
                h,
                x0: 5,
                y0: 3,
                motion,
            };
            let size = rect.width() * rect.height();
            let (mut sum, mut count) = (vec![0.0f32; size], vec![0u16; size]);
            add_sampled(&source, rect, pixels.iter().copied(), &mut sum, &mut count);
            let rw = rect.width() as u32;
            let mut read = 0;
            for &i in &pixels {
                let (x, y) = (i % rw + rect.x0 as u32, i / rw + rect.y0 as u32);
                let (sx, sy) = moved(&source, x, y);
                let expected = blocked.sample_clear(&plane, sx, sy);
                let got = (count[i as usize] == 1).then_some(sum[i as usize]);
                assert_eq!(
                    got.map(f32::to_bits),
                    expected.map(f32::to_bits),
                    "{motion:?} pixel ({x}, {y})"
                );
                read += usize::from(expected.is_some());
            }
            assert!(read > pixels.len() / 3, "{motion:?}: {read} reads");
        }
    }
}
