//! Pixel buffers: borrowed 8-bit planes with a stride ([`Plane`], [`PlaneMut`]), as the host's
//! media crate hands them out, and an owned yuv420p frame ([`Yuv420Frame`]) for the frames the
//! inpainter holds in its window.
//!
//! Owned frames store their planes tightly (stride = width); the kernels work on those.

use crate::error::InpaintError;
use crate::mask::{Bounds, Rect};
use crate::pixels::PixelBuffer;

/// `v` as a pixel value: rounded half away from zero and clamped, exactly
/// `v.round().clamp(0.0, 255.0) as u8` (NaN gives 0), without the library call that `round`
/// takes on baseline x86-64. The kernels write every computed pixel through it.
#[inline]
pub(crate) fn to_pixel(v: f32) -> u8 {
    let v = v.clamp(0.0, 255.0);
    let whole = v as u8;
    // The fraction `v - whole` is exact.
    whole + u8::from(v - f32::from(whole) >= 0.5)
}

/// `Ok` when a plane of size `got` has the `expected` size, else the error naming it (`what`).
pub(crate) fn check_size(
    what: impl FnOnce() -> String,
    (expected_width, expected_height): (usize, usize),
    (width, height): (usize, usize),
) -> Result<(), InpaintError> {
    if (width, height) == (expected_width, expected_height) {
        return Ok(());
    }
    Err(InpaintError::SizeMismatch {
        what: what(),
        expected_width,
        expected_height,
        width,
        height,
    })
}

/// Bytes of a tightly packed `width`x`height` yuv420p frame, all three planes.
fn frame_len(width: usize, height: usize) -> usize {
    let (cw, ch) = chroma_size(width, height);
    width * height + 2 * cw * ch
}

/// Size of the chroma planes of a `width`x`height` yuv420p frame (rounded up for odd sizes).
pub fn chroma_size(width: usize, height: usize) -> (usize, usize) {
    (width.div_ceil(2), height.div_ceil(2))
}

fn check_plane(
    what: &'static str,
    len: usize,
    width: usize,
    height: usize,
    stride: usize,
) -> Result<(), InpaintError> {
    let need = if height == 0 {
        0
    } else {
        stride * (height - 1) + width
    };
    if stride < width || len < need {
        return Err(InpaintError::BadPlane {
            what,
            len,
            width,
            height,
            stride,
        });
    }
    Ok(())
}

/// A read-only 8-bit plane: `height` rows of `width` pixels, rows `stride` bytes apart.
#[derive(Clone, Copy, Debug)]
pub struct Plane<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    stride: usize,
}

impl<'a> Plane<'a> {
    /// Wraps `data`; fails when it is too short for `height` rows of `stride` bytes.
    pub fn new(
        data: &'a [u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Self, InpaintError> {
        check_plane("plane", data.len(), width, height, stride)?;
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Bytes from one row to the next.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// The `width` pixels of row `y` (panics when `y >= height`).
    pub fn row(&self, y: usize) -> &'a [u8] {
        &self.data[y * self.stride..y * self.stride + self.width]
    }
}

/// A writable 8-bit plane: `height` rows of `width` pixels, rows `stride` bytes apart.
#[derive(Debug)]
pub struct PlaneMut<'a> {
    data: &'a mut [u8],
    width: usize,
    height: usize,
    stride: usize,
}

impl<'a> PlaneMut<'a> {
    /// Wraps `data`; fails when it is too short for `height` rows of `stride` bytes.
    pub fn new(
        data: &'a mut [u8],
        width: usize,
        height: usize,
        stride: usize,
    ) -> Result<Self, InpaintError> {
        check_plane("plane", data.len(), width, height, stride)?;
        Ok(Self {
            data,
            width,
            height,
            stride,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The `width` pixels of row `y` (panics when `y >= height`).
    pub fn row_mut(&mut self, y: usize) -> &mut [u8] {
        &mut self.data[y * self.stride..y * self.stride + self.width]
    }

    /// A read-only view of the same pixels.
    pub fn as_plane(&self) -> Plane<'_> {
        Plane {
            data: self.data,
            width: self.width,
            height: self.height,
            stride: self.stride,
        }
    }
}

/// An owned 8-bit yuv420p frame with tightly packed planes (Y, then U/Cb, then V/Cr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Yuv420Frame {
    width: usize,
    height: usize,
    /// Y, U and V one after the other.
    pixels: PixelBuffer,
}

impl Yuv420Frame {
    /// A black frame (Y = 16, U = V = 128, BT.709 limited range).
    pub fn new(width: usize, height: usize) -> Self {
        let mut frame = Self::zeroed(width, height);
        let [y, u, v] = frame.data_mut_all();
        y.fill(16);
        u.fill(128);
        v.fill(128);
        frame
    }

    /// A frame of this size with every byte 0: for a caller about to overwrite all of it
    /// (reading a frame into it), which spares writing it twice.
    pub fn zeroed(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: PixelBuffer::zeroed(frame_len(width, height)),
        }
    }

    /// [`Yuv420Frame::zeroed`], with its memory faulted in now rather than as it is filled.
    pub(crate) fn zeroed_resident(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: PixelBuffer::zeroed_resident(frame_len(width, height)),
        }
    }

    /// A frame whose pixels are the tightly packed I420 bytes at `offset` in `file` (as in a
    /// yuv4mpeg file), mapped copy-on-write rather than read: a page is read from the file
    /// when first touched, and only the pages written to are copied. Fails if the file ends
    /// before the frame does.
    ///
    /// # Safety
    /// The file must not be truncated or changed while the frame lives: touching a page cut
    /// off raises `SIGBUS`, and a change shows through the pages not yet written.
    pub unsafe fn map_file(
        file: &std::fs::File,
        offset: u64,
        width: usize,
        height: usize,
    ) -> std::io::Result<Self> {
        let len = frame_len(width, height);
        let file_len = file.metadata()?.len();
        if offset.saturating_add(len as u64) > file_len {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!(
                    "the file ends {} bytes into a {len}-byte frame",
                    file_len.saturating_sub(offset)
                ),
            ));
        }
        Ok(Self {
            width,
            height,
            // SAFETY: the caller keeps the file unchanged while the frame lives.
            pixels: unsafe { PixelBuffer::map_file(file, offset, len)? },
        })
    }

    /// Says that rows `rows` of plane `index` are about to be written (see
    /// [`PixelBuffer::will_write`]); nothing to do for a frame of owned memory.
    pub(crate) fn will_write(&mut self, index: usize, rows: std::ops::Range<usize>) {
        let plane = self.plane_range(index);
        let width = self.plane_size(index).0;
        let start = plane.start + rows.start * width;
        let end = (plane.start + rows.end * width).min(plane.end);
        if start < end {
            self.pixels.will_write(start..end);
        }
    }

    /// Whether the frame's pixels are memory of the process's own (not a mapped file): worth
    /// filling again rather than dropping.
    pub(crate) fn is_owned(&self) -> bool {
        self.pixels.is_owned()
    }

    /// Copies three planes (any strides) into a new frame; the chroma planes must be
    /// [`chroma_size`] of the luma size.
    pub fn from_planes(y: Plane<'_>, u: Plane<'_>, v: Plane<'_>) -> Result<Self, InpaintError> {
        let whole = Rect::new(0, 0, y.width as u64, y.height as u64);
        Self::from_planes_within(y, u, v, whole)
    }

    /// A frame of the planes' size holding only their pixels inside `rect` (luma
    /// coordinates, clipped to the frame; on the chroma planes the same area, halved and
    /// rounded outward), 0 elsewhere. Memory that is never written costs nothing, so a frame
    /// for an inpainter that reads only its [`reach`](crate::InpaintConfig::reach) costs the
    /// (small) pages of that part alone.
    pub fn from_planes_within(
        y: Plane<'_>,
        u: Plane<'_>,
        v: Plane<'_>,
        rect: Rect,
    ) -> Result<Self, InpaintError> {
        let (width, height) = (y.width, y.height);
        let part = Self::bounds_within(width, height, rect);
        let mut frame = if (part.width(), part.height()) == (width, height) {
            Self::zeroed(width, height)
        } else {
            Self::zeroed_within(width, height)
        };
        frame.copy_from_within([y, u, v], rect)?;
        Ok(frame)
    }

    /// A zeroed frame of which only a part will be written ([`Yuv420Frame::copy_from_within`]):
    /// in small pages, as a huge page is zeroed whole for the few rows of it written.
    pub(crate) fn zeroed_within(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            pixels: PixelBuffer::zeroed_in_small_pages(frame_len(width, height)),
        }
    }

    /// [`Yuv420Frame::zeroed_within`] with the pages of its part within `rect` faulted in now.
    pub(crate) fn zeroed_resident_within(width: usize, height: usize, rect: Rect) -> Self {
        let mut frame = Self::zeroed_within(width, height);
        for (index, b) in frame.plane_bounds_within(rect).into_iter().enumerate() {
            let w = frame.plane_size(index).0;
            let plane: &mut [u8] = std::hint::black_box(frame.data_mut(index));
            if b.x0 < b.x1 {
                // A write to each page the part's rows lie on (see
                // `PixelBuffer::zeroed_resident`).
                for r in b.y0..b.y1 {
                    let (first, last) = (r * w + b.x0, r * w + b.x1 - 1);
                    for at in (first..last).step_by(crate::pixels::PAGE) {
                        plane[at] = 0;
                    }
                    plane[last] = 0;
                }
            }
        }
        frame
    }

    /// `rect` clipped to a `width`x`height` frame, as luma bounds.
    fn bounds_within(width: usize, height: usize, rect: Rect) -> Bounds {
        let clip = |at: i64, len: u64, size: usize| {
            let start = usize::try_from(at.max(0)).unwrap_or(usize::MAX).min(size);
            let end = usize::try_from(at.saturating_add_unsigned(len).max(0))
                .unwrap_or(usize::MAX)
                .min(size);
            (start, end.max(start))
        };
        let ((x0, x1), (y0, y1)) = (
            clip(rect.x, rect.width, width),
            clip(rect.y, rect.height, height),
        );
        Bounds { x0, y0, x1, y1 }
    }

    /// The bounds of each plane's part within `rect` (see [`Yuv420Frame::from_planes_within`]).
    fn plane_bounds_within(&self, rect: Rect) -> [Bounds; 3] {
        let luma = Self::bounds_within(self.width, self.height, rect);
        let (cw, ch) = chroma_size(self.width, self.height);
        [luma, luma.halved(cw, ch), luma.halved(cw, ch)]
    }

    /// Overwrites this frame's part within `rect` (as [`Yuv420Frame::from_planes_within`]
    /// takes it) with the same part of three planes (any strides) of its own size; the rest
    /// is left as it is.
    pub fn copy_from_within(
        &mut self,
        planes: [Plane<'_>; 3],
        rect: Rect,
    ) -> Result<(), InpaintError> {
        for (index, p) in planes.iter().enumerate() {
            check_size(
                || format!("plane {index}"),
                self.plane_size(index),
                (p.width, p.height),
            )?;
        }
        for (index, (p, b)) in planes
            .iter()
            .zip(self.plane_bounds_within(rect))
            .enumerate()
        {
            let w = self.plane_size(index).0;
            let plane = self.data_mut(index);
            for r in b.y0..b.y1 {
                plane[r * w + b.x0..r * w + b.x1].copy_from_slice(&p.row(r)[b.x0..b.x1]);
            }
        }
        Ok(())
    }

    /// Overwrites this frame with three planes (any strides) of its own size: how a caller
    /// that recycles frames refills one without allocating.
    pub fn copy_from(&mut self, planes: [Plane<'_>; 3]) -> Result<(), InpaintError> {
        self.copy_from_within(planes, self.whole())
    }

    /// Builds a frame from tightly packed I420 bytes (Y, U, V one after the other), as in a
    /// yuv4mpeg frame.
    pub fn from_i420(width: usize, height: usize, bytes: &[u8]) -> Result<Self, InpaintError> {
        if bytes.len() != frame_len(width, height) {
            return Err(InpaintError::BadPlane {
                what: "I420 frame",
                len: bytes.len(),
                width,
                height,
                stride: width,
            });
        }
        let mut frame = Self::zeroed(width, height);
        frame.pixels.copy_from_slice(bytes);
        Ok(frame)
    }

    /// Frame width (luma pixels).
    pub fn width(&self) -> usize {
        self.width
    }

    /// Frame height (luma pixels).
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width and height of plane `index` (0 = Y, 1 = U, 2 = V).
    pub fn plane_size(&self, index: usize) -> (usize, usize) {
        if index == 0 {
            (self.width, self.height)
        } else {
            chroma_size(self.width, self.height)
        }
    }

    /// Plane `index` (0 = Y, 1 = U, 2 = V); panics for another index.
    pub fn plane(&self, index: usize) -> Plane<'_> {
        let (w, h) = self.plane_size(index);
        Plane {
            data: self.data(index),
            width: w,
            height: h,
            stride: w,
        }
    }

    /// Plane `index` (0 = Y, 1 = U, 2 = V), writable; panics for another index.
    pub fn plane_mut(&mut self, index: usize) -> PlaneMut<'_> {
        let (w, h) = self.plane_size(index);
        PlaneMut {
            data: self.data_mut(index),
            width: w,
            height: h,
            stride: w,
        }
    }

    /// The pixels of plane `index`, row after row.
    pub fn data(&self, index: usize) -> &[u8] {
        &self.pixels[self.plane_range(index)]
    }

    /// The pixels of plane `index`, row after row, writable.
    pub fn data_mut(&mut self, index: usize) -> &mut [u8] {
        let range = self.plane_range(index);
        &mut self.pixels[range]
    }

    /// The pixels of all three planes, writable at once.
    pub(crate) fn data_mut_all(&mut self) -> [&mut [u8]; 3] {
        let luma = self.width * self.height;
        let (y, chroma) = self.pixels.split_at_mut(luma);
        let (u, v) = chroma.split_at_mut(chroma.len() / 2);
        [y, u, v]
    }

    /// Where plane `index` lies in `pixels`; panics for an index other than 0, 1 or 2.
    fn plane_range(&self, index: usize) -> std::ops::Range<usize> {
        let luma = self.width * self.height;
        let (cw, ch) = chroma_size(self.width, self.height);
        let chroma = cw * ch;
        match index {
            0 => 0..luma,
            1 => luma..luma + chroma,
            2 => luma + chroma..luma + 2 * chroma,
            _ => panic!("a yuv420p frame has planes 0, 1 and 2, not {index}"),
        }
    }

    /// Copies this frame's part within `rect` (as [`Yuv420Frame::from_planes_within`] takes
    /// it) into the same part of three planes of the same sizes (any strides); the rest of
    /// them is left as it is.
    pub fn copy_to_within(
        &self,
        mut planes: [PlaneMut<'_>; 3],
        rect: Rect,
    ) -> Result<(), InpaintError> {
        for (i, dst) in planes.iter().enumerate() {
            check_size(
                || format!("destination plane {i}"),
                self.plane_size(i),
                (dst.width, dst.height),
            )?;
        }
        for (i, (dst, b)) in planes
            .iter_mut()
            .zip(self.plane_bounds_within(rect))
            .enumerate()
        {
            let w = self.plane_size(i).0;
            for r in b.y0..b.y1 {
                dst.row_mut(r)[b.x0..b.x1]
                    .copy_from_slice(&self.data(i)[r * w + b.x0..r * w + b.x1]);
            }
        }
        Ok(())
    }

    /// Copies this frame into three planes of the same sizes (any strides).
    pub fn copy_to(&self, planes: [PlaneMut<'_>; 3]) -> Result<(), InpaintError> {
        self.copy_to_within(planes, self.whole())
    }

    /// All of the frame, as a rectangle.
    fn whole(&self) -> Rect {
        Rect::new(0, 0, self.width as u64, self.height as u64)
    }

    /// The frame as tightly packed I420 bytes (Y, U, V).
    pub fn to_i420(&self) -> Vec<u8> {
        self.pixels.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_round_half_away_from_zero_and_clamp_as_round_does() {
        let mut values = vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, -0.0, 1e9, -1e9];
        // Every quarter and its neighbours in f32, across and beyond the pixel range.
        for q in -8..=1032 {
            let v = q as f32 / 4.0;
            values.extend([v, v.next_down(), v.next_up()]);
        }
        for v in values {
            assert_eq!(to_pixel(v), v.round().clamp(0.0, 255.0) as u8, "{v}");
        }
    }

    #[test]
    fn short_buffers_are_refused() {
        let data = [0u8; 10];
        assert!(Plane::new(&data, 4, 3, 4).is_err());
        assert!(Plane::new(&data, 4, 3, 3).is_err());
        assert!(Plane::new(&data, 4, 2, 6).is_ok());
    }

    #[test]
    fn planes_round_trip_with_strides() {
        let (w, h) = (5, 3);
        let (cw, ch) = chroma_size(w, h);
        let y: Vec<u8> = (0..8 * h).map(|i| i as u8).collect();
        let u: Vec<u8> = (0..4 * ch).map(|i| 100 + i as u8).collect();
        let frame = Yuv420Frame::from_planes(
            Plane::new(&y, w, h, 8).unwrap(),
            Plane::new(&u, cw, ch, 4).unwrap(),
            Plane::new(&u, cw, ch, 4).unwrap(),
        )
        .unwrap();
        assert_eq!(frame.plane(0).row(1), &y[8..13]);
        let mut out_y = vec![0u8; 8 * h];
        let mut out_u = vec![0u8; 4 * ch];
        let mut out_v = vec![0u8; 4 * ch];
        frame
            .copy_to([
                PlaneMut::new(&mut out_y, w, h, 8).unwrap(),
                PlaneMut::new(&mut out_u, cw, ch, 4).unwrap(),
                PlaneMut::new(&mut out_v, cw, ch, 4).unwrap(),
            ])
            .unwrap();
        assert_eq!(&out_y[8..13], &y[8..13]);
        assert_eq!(
            Yuv420Frame::from_i420(w, h, &frame.to_i420()).unwrap(),
            frame
        );
    }

    #[test]
    fn a_part_is_copied_in_and_written_back_alone() {
        // 1080p, so that a part-filled frame is a mapping in small pages.
        let (w, h) = (1920, 1080);
        let (cw, ch) = chroma_size(w, h);
        let y: Vec<u8> = (0..w * h).map(|i| (i % 251) as u8).collect();
        let u: Vec<u8> = (0..cw * ch).map(|i| (i % 241) as u8).collect();
        let plane = |data, pw, ph| Plane::new(data, pw, ph, pw).unwrap();
        let rect = Rect::new(101, 51, 40, 31);
        let planes = || [plane(&y, w, h), plane(&u, cw, ch), plane(&u, cw, ch)];
        let frame =
            Yuv420Frame::from_planes_within(planes()[0], planes()[1], planes()[2], rect).unwrap();
        // Inside the part (odd edges: chroma rounded outward) the planes' pixels, else 0.
        assert_eq!(frame.data(0)[51 * w + 101], y[51 * w + 101]);
        assert_eq!(frame.data(0)[81 * w + 140], y[81 * w + 140]);
        assert_eq!(frame.data(0)[81 * w + 141], 0);
        assert_eq!(frame.data(0)[50 * w + 101], 0);
        assert_eq!(frame.data(1)[25 * cw + 50], u[25 * cw + 50]);
        assert_eq!(frame.data(2)[40 * cw + 70], u[40 * cw + 70]);
        assert_eq!(frame.data(1)[41 * cw + 70], 0);
        // A recycled frame refilled within the part keeps the rest as it was.
        let mut again = frame.clone();
        again.data_mut(0).fill(9);
        again.copy_from_within(planes(), rect).unwrap();
        assert_eq!(again.data(0)[51 * w + 101], y[51 * w + 101]);
        assert_eq!(again.data(0)[0], 9);
        // Written back, the part alone lands; the rest of the destination is untouched.
        let mut out_y = vec![7u8; w * h];
        let mut out_u = vec![7u8; cw * ch];
        let mut out_v = vec![7u8; cw * ch];
        again
            .copy_to_within(
                [
                    PlaneMut::new(&mut out_y, w, h, w).unwrap(),
                    PlaneMut::new(&mut out_u, cw, ch, cw).unwrap(),
                    PlaneMut::new(&mut out_v, cw, ch, cw).unwrap(),
                ],
                rect,
            )
            .unwrap();
        let inside = |x: usize, y0: usize| (101..141).contains(&x) && (51..82).contains(&y0);
        for (i, &b) in out_y.iter().enumerate() {
            let want = if inside(i % w, i / w) { y[i] } else { 7 };
            assert_eq!(b, want, "luma pixel {i}");
        }
        assert_eq!(out_v[25 * cw + 50], u[25 * cw + 50]);
        assert_eq!(out_v[24 * cw + 50], 7);
        // Frames a pool makes for the part are zero and of the frame's size.
        let pool = crate::FramePool::within(w, h, rect);
        let fresh = pool.take();
        assert_eq!((fresh.width(), fresh.height()), (w, h));
        assert!((0..3).all(|p| fresh.data(p).iter().all(|&b| b == 0)));
        let resident = Yuv420Frame::zeroed_resident_within(w, h, rect);
        assert!((0..3).all(|p| resident.data(p).iter().all(|&b| b == 0)));
    }
}
