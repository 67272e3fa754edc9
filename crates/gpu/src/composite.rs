//! Compositing on the device: overlays and solid rectangles on yuv420p, the twins of
//! `framejet_media::composite::{blend, fill_rect}` (the same integer arithmetic, so the same
//! bytes). The clipping mirrors the CPU code: luma over the overlay's rectangle clipped to the
//! frame, chroma over every sample whose 2x2 block meets it.

use crate::backend::{Args, Backend, Grid, Kernel};
use crate::error::GpuError;
use crate::frame::DeviceFrame;

/// An overlay's Y, U, V and alpha planes at full resolution (straight alpha), as
/// `framejet_media::YuvaImage` holds them.
pub struct DeviceImage<B: Backend> {
    y: B::Buffer,
    u: B::Buffer,
    v: B::Buffer,
    a: B::Buffer,
    width: usize,
    height: usize,
}

impl<B: Backend> DeviceImage<B> {
    /// Uploads the four `width` x `height` planes.
    pub fn upload(
        b: &B,
        width: usize,
        height: usize,
        [y, u, v, a]: [&[u8]; 4],
    ) -> Result<Self, GpuError> {
        let n = width * height;
        if [y, u, v, a].iter().any(|p| p.len() < n) {
            return Err(GpuError::Invalid(format!(
                "an overlay plane is smaller than {width}x{height}"
            )));
        }
        Ok(Self {
            y: b.upload_new(&y[..n])?,
            u: b.upload_new(&u[..n])?,
            v: b.upload_new(&v[..n])?,
            a: b.upload_new(&a[..n])?,
            width,
            height,
        })
    }
}

/// `framejet_media`'s opacity as fixed point 0..=256 (NaN and negatives 0, above 1 is 1).
fn opacity_fixed(opacity: f32) -> u32 {
    if opacity.is_nan() {
        return 0;
    }
    (opacity.clamp(0.0, 1.0) * 256.0).round() as u32
}

/// The part of a frame an overlay or rectangle covers: luma pixels `[x0, x1) x [y0, y1)`.
struct Clipped([i64; 4]);

impl Clipped {
    /// The frame rectangle that a `w` x `h` box at (`x`, `y`) covers, if any.
    fn new<B: Backend>(frame: &DeviceFrame<B>, x: i64, y: i64, w: i64, h: i64) -> Option<Self> {
        let (fw, fh) = (frame.width() as i64, frame.height() as i64);
        let (x0, x1) = (x.max(0), (x + w).min(fw));
        let (y0, y1) = (y.max(0), (y + h).min(fh));
        (x0 < x1 && y0 < y1).then_some(Self([x0, y0, x1, y1]))
    }

    /// A luma kernel's first arguments (plane, pitch, origin, size) and its grid.
    fn luma<B: Backend>(&self, b: &B, frame: &DeviceFrame<B>) -> (Args, Grid) {
        let [x0, y0, x1, y1] = self.0;
        let (rw, rh) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let py = &frame.planes[0];
        let args = Args::new()
            .ptr(b.addr(&py.buf))
            .i32(py.width as i32)
            .i32(x0 as i32)
            .i32(y0 as i32)
            .i32(rw as i32)
            .i32(rh as i32);
        (args, Grid::cover(rw, rh))
    }

    /// A chroma kernel's first arguments (U and V with their pitches, then the chroma samples
    /// whose 2x2 luma block meets the rectangle: origin and size) and its grid.
    fn chroma<B: Backend>(&self, b: &B, frame: &DeviceFrame<B>) -> (Args, Grid) {
        let [x0, y0, x1, y1] = self.0;
        let (cx0, cy0) = (x0 / 2, y0 / 2);
        let (cw, ch) = (
            ((x1 - 1) / 2 - cx0 + 1) as usize,
            ((y1 - 1) / 2 - cy0 + 1) as usize,
        );
        let [_, pu, pv] = &frame.planes;
        let args = Args::new()
            .ptr(b.addr(&pu.buf))
            .i32(pu.width as i32)
            .ptr(b.addr(&pv.buf))
            .i32(pv.width as i32)
            .i32(cx0 as i32)
            .i32(cy0 as i32)
            .i32(cw as i32)
            .i32(ch as i32);
        (args, Grid::cover(cw, ch))
    }
}

/// Blends `image` onto `frame` with its top-left at (`x`, `y`) at `opacity` (0.0–1.0).
pub fn blend<B: Backend>(
    b: &B,
    frame: &mut DeviceFrame<B>,
    image: &DeviceImage<B>,
    x: i32,
    y: i32,
    opacity: f32,
) -> Result<(), GpuError> {
    let op = opacity_fixed(opacity);
    let (iw, ih) = (image.width as i64, image.height as i64);
    let (x, y) = (i64::from(x), i64::from(y));
    let Some(clipped) = Clipped::new(frame, x, y, iw, ih).filter(|_| op > 0) else {
        return Ok(());
    };
    let (args, grid) = clipped.luma(b, frame);
    let args = args
        .ptr(b.addr(&image.y))
        .ptr(b.addr(&image.a))
        .i32(iw as i32)
        .i32(x as i32)
        .i32(y as i32)
        .u32(op);
    b.launch(Kernel::BlendLuma, grid, args)?;
    let (args, grid) = clipped.chroma(b, frame);
    let args = args
        .ptr(b.addr(&image.a))
        .ptr(b.addr(&image.u))
        .ptr(b.addr(&image.v))
        .i32(iw as i32)
        .i32(ih as i32)
        .i32(x as i32)
        .i32(y as i32)
        .u32(op);
    b.launch(Kernel::BlendChromaBlock, grid, args)
}

/// Fills the `w` x `h` rectangle at (`x`, `y`) with the colour `yuv` at `alpha` (255 opaque),
/// clipped to the frame. The caller converts RGB with the frame height's matrix, as the CPU
/// path does.
#[allow(clippy::too_many_arguments)]
pub fn fill_rect<B: Backend>(
    b: &B,
    frame: &mut DeviceFrame<B>,
    x: i32,
    y: i32,
    w: u32,
    h: u32,
    yuv: [u8; 3],
    alpha: u8,
) -> Result<(), GpuError> {
    let alpha = u32::from(alpha);
    if alpha == 0 || w == 0 || h == 0 {
        return Ok(());
    }
    let (x, y) = (i64::from(x), i64::from(y));
    let Some(clipped) = Clipped::new(frame, x, y, i64::from(w), i64::from(h)) else {
        return Ok(());
    };
    let (args, grid) = clipped.luma(b, frame);
    let args = args.u32(u32::from(yuv[0]) * alpha).u32(255 - alpha);
    b.launch(Kernel::FillRectLuma, grid, args)?;
    let (args, grid) = clipped.chroma(b, frame);
    let args = args
        .i32(x as i32)
        .i32(y as i32)
        .i32((x + i64::from(w)).min(i64::from(i32::MAX)) as i32)
        .i32((y + i64::from(h)).min(i64::from(i32::MAX)) as i32)
        .u32(alpha)
        .u32(u32::from(yuv[1]))
        .u32(u32::from(yuv[2]));
    b.launch(Kernel::FillRectChroma, grid, args)
}
