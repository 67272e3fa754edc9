//! `fit` on the device: a source rectangle scaled into a destination rectangle, the rest of
//! the output painted the pad colour. The twin of `framejet_media::Fitter`, which runs
//! swscale's bicubic: the same filter (Mitchell–Netravali with B = 0, C = 0.6, widened by the
//! scale factor when shrinking, taps past the edges clamped to it, weights normalised to 1)
//! and the same sample positions (pixel centres aligned, chroma sited as swscale's default),
//! applied in floating point where swscale uses 14-bit fixed point: outputs agree within a
//! level or two (the tests state the bound).

use crate::backend::{Args, Backend, Grid, Kernel, bytes_of};
use crate::error::GpuError;
use crate::frame::DeviceFrame;

/// Where the source goes in the output (luma pixels, offsets even): what
/// `framejet_media::Fitter::geometry` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FitPlacement {
    pub src_x: u32,
    pub src_y: u32,
    pub src_w: u32,
    pub src_h: u32,
    pub dst_x: u32,
    pub dst_y: u32,
    pub dst_w: u32,
    pub dst_h: u32,
}

/// swscale's bicubic kernel (B = 0, C = 0.6) at distance `d`.
fn bicubic(d: f64) -> f64 {
    const B: f64 = 0.0;
    const C: f64 = 0.6;
    let d = d.abs();
    if d < 1.0 {
        ((12.0 - 9.0 * B - 6.0 * C) * d * d * d
            + (-18.0 + 12.0 * B + 6.0 * C) * d * d
            + (6.0 - 2.0 * B))
            / 6.0
    } else if d < 2.0 {
        ((-B - 6.0 * C) * d * d * d
            + (6.0 * B + 30.0 * C) * d * d
            + (-12.0 * B - 48.0 * C) * d
            + (8.0 * B + 24.0 * C))
            / 6.0
    } else {
        0.0
    }
}

/// A separable filter from `src_len` samples to `dst_len`: per output sample, `taps` source
/// indices (plus `offset`, edge-clamped) and their weights.
#[derive(Debug)]
pub(crate) struct Filter {
    pub taps: usize,
    pub index: Vec<i32>,
    pub weight: Vec<f32>,
}

pub(crate) fn bicubic_filter(src_len: usize, dst_len: usize, offset: usize) -> Filter {
    let scale = src_len as f64 / dst_len as f64;
    let stretch = scale.max(1.0);
    let radius = 2.0 * stretch;
    let taps = (2.0 * radius).ceil() as usize + 1;
    let mut index = Vec::with_capacity(dst_len * taps);
    let mut weight = Vec::with_capacity(dst_len * taps);
    for i in 0..dst_len {
        let centre = (i as f64 + 0.5) * scale - 0.5;
        let first = (centre - radius).ceil() as i64;
        let raw: Vec<f64> = (0..taps)
            .map(|t| bicubic(((first + t as i64) as f64 - centre) / stretch))
            .collect();
        let sum: f64 = raw.iter().sum();
        for (t, w) in raw.iter().enumerate() {
            let j = (first + t as i64).clamp(0, src_len as i64 - 1) as usize;
            index.push((j + offset) as i32);
            weight.push((w / sum) as f32);
        }
    }
    Filter {
        taps,
        index,
        weight,
    }
}

/// One plane's scaling: filters on the device and the intermediate rows.
struct PlaneFit<B: Backend> {
    rows: Filter,
    columns: Filter,
    row_index: B::Buffer,
    row_weight: B::Buffer,
    column_index: B::Buffer,
    column_weight: B::Buffer,
    tmp: B::Buffer,
    /// Source rows start, count; destination rectangle.
    src_y: usize,
    src_h: usize,
    dst: [usize; 4],
    pad: u8,
}

/// Scales frames of one size to another, as placed, on a backend.
pub struct DeviceFit<B: Backend> {
    planes: Vec<PlaneFit<B>>,
    out: (usize, usize),
}

impl<B: Backend> DeviceFit<B> {
    /// Builds the filters for `placement` in an output of `out_w` x `out_h`, borders `pad_yuv`.
    pub fn new(
        b: &B,
        placement: FitPlacement,
        out_w: usize,
        out_h: usize,
        pad_yuv: [u8; 3],
    ) -> Result<Self, GpuError> {
        let p = placement;
        if p.src_w == 0 || p.src_h == 0 || p.dst_w == 0 || p.dst_h == 0 {
            return Err(GpuError::Invalid(format!("an empty fit placement: {p:?}")));
        }
        let mut planes = Vec::with_capacity(3);
        for (plane, pad) in pad_yuv.iter().enumerate() {
            // Chroma: the rectangle on the half-resolution grid (odd source sizes round up).
            let (sx, sy, sw, sh, dx, dy, dw, dh) = if plane == 0 {
                (
                    p.src_x, p.src_y, p.src_w, p.src_h, p.dst_x, p.dst_y, p.dst_w, p.dst_h,
                )
            } else {
                (
                    p.src_x / 2,
                    p.src_y / 2,
                    p.src_w.div_ceil(2),
                    p.src_h.div_ceil(2),
                    p.dst_x / 2,
                    p.dst_y / 2,
                    p.dst_w / 2,
                    p.dst_h / 2,
                )
            };
            let [sx, sy, sw, sh, dx, dy, dw, dh] =
                [sx, sy, sw, sh, dx, dy, dw, dh].map(|v| v as usize);
            let rows = bicubic_filter(sw, dw, sx);
            let columns = bicubic_filter(sh, dh, 0);
            planes.push(PlaneFit {
                row_index: b.upload_new(bytes_of(&rows.index))?,
                row_weight: b.upload_new(bytes_of(&rows.weight))?,
                column_index: b.upload_new(bytes_of(&columns.index))?,
                column_weight: b.upload_new(bytes_of(&columns.weight))?,
                tmp: b.alloc(sh * dw * 4)?,
                rows,
                columns,
                src_y: sy,
                src_h: sh,
                dst: [dx, dy, dw, dh],
                pad: *pad,
            });
        }
        Ok(Self {
            planes,
            out: (out_w, out_h),
        })
    }

    /// Fits `src` into `dst` (a frame of the output size).
    pub fn run(
        &self,
        b: &B,
        src: &DeviceFrame<B>,
        dst: &mut DeviceFrame<B>,
    ) -> Result<(), GpuError> {
        if (dst.width(), dst.height()) != self.out {
            return Err(GpuError::Invalid(format!(
                "fit output is {}x{}, the frame {}x{}",
                self.out.0,
                self.out.1,
                dst.width(),
                dst.height()
            )));
        }
        for ((pf, s), d) in self.planes.iter().zip(&src.planes).zip(&dst.planes) {
            let [dx, dy, dw, dh] = pf.dst;
            let args = Args::new()
                .ptr(b.addr(&s.buf))
                .i32(s.width as i32)
                .i32(pf.src_y as i32)
                .i32(pf.src_h as i32)
                .i32(dw as i32)
                .ptr(b.addr(&pf.row_index))
                .ptr(b.addr(&pf.row_weight))
                .i32(pf.rows.taps as i32)
                .ptr(b.addr(&pf.tmp));
            b.launch(Kernel::ScaleRows, Grid::cover(dw, pf.src_h), args)?;
            let args = Args::new()
                .ptr(b.addr(&pf.tmp))
                .i32(dw as i32)
                .i32(dh as i32)
                .ptr(b.addr(&pf.column_index))
                .ptr(b.addr(&pf.column_weight))
                .i32(pf.columns.taps as i32)
                .ptr(b.addr(&d.buf))
                .i32(d.width as i32)
                .i32(dx as i32)
                .i32(dy as i32);
            b.launch(Kernel::ScaleColumns, Grid::cover(dw, dh), args)?;
            if (dw, dh) != (d.width, d.height) {
                let args = Args::new()
                    .ptr(b.addr(&d.buf))
                    .i32(d.width as i32)
                    .i32(d.width as i32)
                    .i32(d.height as i32)
                    .i32(dx as i32)
                    .i32(dy as i32)
                    .i32((dx + dw) as i32)
                    .i32((dy + dh) as i32)
                    .u32(u32::from(pf.pad));
                b.launch(Kernel::FillOutside, Grid::cover(d.width, d.height), args)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_sum_to_one_and_stay_inside() {
        for (src, dst) in [(1920, 1280), (640, 1920), (7, 3), (3, 7)] {
            let f = bicubic_filter(src, dst, 10);
            for i in 0..dst {
                let w: f32 = f.weight[i * f.taps..(i + 1) * f.taps].iter().sum();
                assert!((w - 1.0).abs() < 1e-5, "{src}->{dst} sample {i}: {w}");
            }
            assert!(f.index.iter().all(|&j| (10..10 + src as i32).contains(&j)));
        }
    }

    #[test]
    fn same_size_is_the_identity() {
        let f = bicubic_filter(16, 16, 0);
        for i in 0..16 {
            let row = &f.weight[i * f.taps..(i + 1) * f.taps];
            let at = f.index[i * f.taps..(i + 1) * f.taps]
                .iter()
                .zip(row)
                .filter(|(j, _)| **j == i as i32)
                .map(|(_, w)| *w)
                .sum::<f32>();
            assert!((at - 1.0).abs() < 1e-6, "sample {i}: {row:?}");
        }
    }
}
