//! [`VideoFrame`]: one yuv420p picture with its place in the input, the unit that flows from
//! decoder through the steps to the encoder.
//!
//! A frame wraps an FFmpeg `AVFrame`, so a decoded frame reaches the encoder without a pixel
//! copy. Buffers are reference-counted: [`Clone`] shares them (a still shown for 90 frames is
//! one buffer), and the first mutable access to a shared buffer copies it (copy on write), so
//! writing to a frame never changes another frame or the decoder's reference pictures.

use std::fmt;
use std::ptr;
use std::slice;

use ffmpeg::ffi;
use ffmpeg_next as ffmpeg;

use crate::error::MediaError;

/// A yuv420p video frame (8-bit, limited range) with its display-order index and timestamp.
///
/// Planes: 0 = Y (`width × height`), 1 = U and 2 = V (`⌈width/2⌉ × ⌈height/2⌉`). Rows are
/// `stride(i)` bytes apart; bytes past a row's width are padding. Frames are `Send`, so they
/// can move between decode, step and encode threads.
pub struct VideoFrame {
    /// Invariant: format yuv420p, width and height ≥ 1, three non-null planes with positive
    /// strides that do not overlap.
    frame: ffmpeg::frame::Video,
    /// Display-order index of this frame within its input (0-based). Preserved by every step.
    pub index: u64,
    /// Presentation time in microseconds from the input's first frame. Preserved by every
    /// step; the encoder ignores it and times its output by frame count.
    pub pts_us: i64,
}

impl VideoFrame {
    /// A new frame of the given size filled with black (Y 16, U/V 128).
    ///
    /// Odd sizes are allowed (chroma planes round up). Fails on a zero size.
    pub fn black(width: u32, height: u32) -> Result<VideoFrame, MediaError> {
        let mut frame = Self::alloc(width, height)?;
        frame.fill([16, 128, 128]);
        Ok(frame)
    }

    /// A frame built by copying three planes (Y, U, V) with their row strides.
    ///
    /// Each plane must hold at least `stride × (rows − 1) + row width` bytes, with the widths
    /// and row counts of yuv420p at `width × height`. `index` and `pts_us` start at 0.
    pub fn from_planes(
        width: u32,
        height: u32,
        planes: [&[u8]; 3],
        strides: [usize; 3],
    ) -> Result<VideoFrame, MediaError> {
        let mut frame = Self::alloc(width, height)?;
        frame.copy_planes(planes, strides)?;
        Ok(frame)
    }

    /// [`from_planes`](Self::from_planes) into a buffer of `pool` (of the pool's size): a
    /// stream that makes a frame for each frame it reads reuses a few buffers instead of
    /// faulting fresh memory in for every frame.
    pub fn from_planes_in(
        pool: &FramePool,
        planes: [&[u8]; 3],
        strides: [usize; 3],
    ) -> Result<VideoFrame, MediaError> {
        let mut frame = Self::from_pool(pool)?;
        frame.copy_planes(planes, strides)?;
        Ok(frame)
    }

    /// Copies `planes` (rows `strides` apart) into this frame's, checking their sizes.
    fn copy_planes(&mut self, planes: [&[u8]; 3], strides: [usize; 3]) -> Result<(), MediaError> {
        for i in 0..3 {
            let (pw, ph) = (self.plane_width(i), self.plane_height(i));
            let need = strides[i]
                .checked_mul(ph - 1)
                .and_then(|n| n.checked_add(pw))
                .filter(|_| strides[i] >= pw)
                .ok_or_else(|| {
                    MediaError::InvalidArgument(format!(
                        "plane {i}: stride {} is less than its width {pw}",
                        strides[i]
                    ))
                })?;
            if planes[i].len() < need {
                return Err(MediaError::InvalidArgument(format!(
                    "plane {i} of a {}x{} frame needs {need} bytes, got {}",
                    self.width(),
                    self.height(),
                    planes[i].len()
                )));
            }
            let dst_stride = self.stride(i);
            let dst = self.plane_mut(i);
            for row in 0..ph {
                let s = &planes[i][row * strides[i]..row * strides[i] + pw];
                dst[row * dst_stride..row * dst_stride + pw].copy_from_slice(s);
            }
        }
        Ok(())
    }

    /// Allocates an uninitialised (but owned, writable) yuv420p frame.
    pub(crate) fn alloc(width: u32, height: u32) -> Result<VideoFrame, MediaError> {
        if width == 0 || height == 0 || width > 32768 || height > 32768 {
            return Err(MediaError::InvalidArgument(format!(
                "frame size {width}x{height} is out of range"
            )));
        }
        let mut frame = ffmpeg::frame::Video::empty();
        // SAFETY: `frame` owns a freshly allocated AVFrame; we set the fields that
        // av_frame_get_buffer reads, and check its result.
        let r = unsafe {
            let p = frame.as_mut_ptr();
            if p.is_null() {
                return Err(MediaError::InvalidArgument(
                    "out of memory allocating a frame".into(),
                ));
            }
            (*p).format = ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32;
            (*p).width = width as i32;
            (*p).height = height as i32;
            ffi::av_frame_get_buffer(p, 0)
        };
        if r < 0 {
            return Err(MediaError::InvalidArgument(format!(
                "cannot allocate a {width}x{height} frame: {}",
                crate::util::av_err(r)
            )));
        }
        Ok(VideoFrame {
            frame,
            index: 0,
            pts_us: 0,
        })
    }

    /// A frame of the pool's size whose buffer comes from (and goes back to) `pool`.
    /// Uninitialised, owned and writable, like [`alloc`](Self::alloc).
    pub(crate) fn from_pool(pool: &FramePool) -> Result<VideoFrame, MediaError> {
        let mut frame = ffmpeg::frame::Video::empty();
        // SAFETY: `frame` owns a fresh AVFrame; it takes the one reference to a pool buffer,
        // and its plane pointers are the offsets inside that buffer that `FramePool::new` laid
        // out (each plane `stride × rows` bytes, padding after the last).
        unsafe {
            let p = frame.as_mut_ptr();
            if p.is_null() {
                return Err(MediaError::InvalidArgument(
                    "out of memory allocating a frame".into(),
                ));
            }
            let buf = ffi::av_buffer_pool_get(pool.pool);
            if buf.is_null() {
                return Err(MediaError::InvalidArgument(format!(
                    "out of memory allocating a {}x{} frame",
                    pool.width, pool.height
                )));
            }
            (*p).buf[0] = buf;
            (*p).format = ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32;
            (*p).width = pool.width as i32;
            (*p).height = pool.height as i32;
            for i in 0..3 {
                (*p).data[i] = (*buf).data.add(pool.offsets[i]);
                (*p).linesize[i] = pool.strides[i] as i32;
            }
            (*p).extended_data = (*p).data.as_mut_ptr();
        }
        Ok(VideoFrame {
            frame,
            index: 0,
            pts_us: 0,
        })
    }

    /// Wraps a decoded/converted FFmpeg frame. The caller guarantees the type invariant
    /// (yuv420p, positive strides, non-null planes).
    pub(crate) fn from_ffmpeg(frame: ffmpeg::frame::Video, index: u64, pts_us: i64) -> VideoFrame {
        VideoFrame {
            frame,
            index,
            pts_us,
        }
    }

    /// Whether an FFmpeg frame already satisfies the type invariant (so it can be wrapped
    /// without conversion).
    pub(crate) fn is_wrappable(frame: &ffmpeg::frame::Video) -> bool {
        // SAFETY: reading plain fields of a live AVFrame.
        unsafe {
            let p = frame.as_ptr();
            (*p).format == ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32
                && (*p).width > 0
                && (*p).height > 0
                && (0..3).all(|i| !(*p).data[i].is_null() && (*p).linesize[i] > 0)
        }
    }

    /// The underlying FFmpeg frame (for the encoder and scalers).
    pub(crate) fn as_ffmpeg(&self) -> &ffmpeg::frame::Video {
        &self.frame
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        // SAFETY: reading a plain field of a live AVFrame.
        unsafe { (*self.frame.as_ptr()).width as u32 }
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        // SAFETY: reading a plain field of a live AVFrame.
        unsafe { (*self.frame.as_ptr()).height as u32 }
    }

    /// Width of plane `i` in samples: the frame width for Y, `⌈width/2⌉` for U and V.
    ///
    /// # Panics
    /// If `i > 2`.
    pub fn plane_width(&self, i: usize) -> usize {
        assert!(i < 3, "yuv420p has planes 0..=2, asked for {i}");
        let w = self.width() as usize;
        if i == 0 { w } else { w.div_ceil(2) }
    }

    /// Number of rows of plane `i`: the frame height for Y, `⌈height/2⌉` for U and V.
    ///
    /// # Panics
    /// If `i > 2`.
    pub fn plane_height(&self, i: usize) -> usize {
        assert!(i < 3, "yuv420p has planes 0..=2, asked for {i}");
        let h = self.height() as usize;
        if i == 0 { h } else { h.div_ceil(2) }
    }

    /// Bytes from one row of plane `i` to the next (≥ the plane's width).
    ///
    /// # Panics
    /// If `i > 2`.
    pub fn stride(&self, i: usize) -> usize {
        assert!(i < 3, "yuv420p has planes 0..=2, asked for {i}");
        // SAFETY: reading a plain field; positive by the type invariant.
        unsafe { (*self.frame.as_ptr()).linesize[i] as usize }
    }

    fn plane_len(&self, i: usize) -> usize {
        self.stride(i) * (self.plane_height(i) - 1) + self.plane_width(i)
    }

    /// Plane `i` as bytes: row `r` starts at `r * stride(i)`. The slice ends after the last
    /// row's last sample (the padding after it is not included).
    ///
    /// # Panics
    /// If `i > 2`.
    pub fn plane(&self, i: usize) -> &[u8] {
        let len = self.plane_len(i);
        // SAFETY: by the type invariant the plane pointer is valid for `len` bytes (FFmpeg
        // allocates `stride × rows`), and the frame outlives the borrow.
        unsafe { slice::from_raw_parts((*self.frame.as_ptr()).data[i], len) }
    }

    /// Plane `i` as mutable bytes (layout as [`plane`](Self::plane)). If the buffer is shared
    /// with a clone or with the decoder, it is copied first.
    ///
    /// # Panics
    /// If `i > 2`, or when memory runs out while un-sharing the buffer.
    pub fn plane_mut(&mut self, i: usize) -> &mut [u8] {
        // Un-share first: the copy may have other strides than the shared buffer.
        self.make_writable();
        let len = self.plane_len(i);
        // SAFETY: as in `plane`, and the buffer is now exclusively ours (`&mut self`).
        unsafe { slice::from_raw_parts_mut((*self.frame.as_mut_ptr()).data[i], len) }
    }

    /// All three planes as mutable bytes at once (Y, U, V), with their strides, for kernels
    /// that write them together. The strides are those of the writable buffer: a shared
    /// buffer is copied first, and the copy's strides may differ from the original's.
    ///
    /// # Panics
    /// When memory runs out while un-sharing the buffer.
    pub fn planes_mut(&mut self) -> ([&mut [u8]; 3], [usize; 3]) {
        self.make_writable();
        let lens = [self.plane_len(0), self.plane_len(1), self.plane_len(2)];
        let strides = [self.stride(0), self.stride(1), self.stride(2)];
        // SAFETY: the three planes are disjoint regions (type invariant), each valid for its
        // length, and exclusively borrowed through `&mut self`.
        let planes = unsafe {
            let p = self.frame.as_mut_ptr();
            [
                slice::from_raw_parts_mut((*p).data[0], lens[0]),
                slice::from_raw_parts_mut((*p).data[1], lens[1]),
                slice::from_raw_parts_mut((*p).data[2], lens[2]),
            ]
        };
        (planes, strides)
    }

    fn make_writable(&mut self) {
        // SAFETY: the frame is live and refcounted (decoded or allocated by av_frame_get_buffer);
        // av_frame_make_writable copies the data into a new buffer when it is shared.
        let r = unsafe { ffi::av_frame_make_writable(self.frame.as_mut_ptr()) };
        assert!(
            r >= 0,
            "out of memory while copying a shared {}x{} frame",
            self.width(),
            self.height()
        );
    }

    /// Fills the whole frame with one Y, U, V colour.
    pub(crate) fn fill(&mut self, yuv: [u8; 3]) {
        for (i, &value) in yuv.iter().enumerate() {
            let (pw, ph, stride) = (self.plane_width(i), self.plane_height(i), self.stride(i));
            let plane = self.plane_mut(i);
            for row in 0..ph {
                plane[row * stride..row * stride + pw].fill(value);
            }
        }
    }

    /// Sets every pixel outside the rectangle at (`x`, `y`) of `w × h` (even, in luma pixels)
    /// to `yuv`, leaving the rectangle as it is.
    pub(crate) fn fill_outside(&mut self, yuv: [u8; 3], x: u32, y: u32, w: u32, h: u32) {
        for (i, &value) in yuv.iter().enumerate() {
            let shift = u32::from(i > 0);
            let (x0, y0) = ((x >> shift) as usize, (y >> shift) as usize);
            let (x1, y1) = (x0 + (w >> shift) as usize, y0 + (h >> shift) as usize);
            let (pw, ph, stride) = (self.plane_width(i), self.plane_height(i), self.stride(i));
            let plane = self.plane_mut(i);
            for row in 0..ph {
                let line = &mut plane[row * stride..row * stride + pw];
                if row < y0 || row >= y1 {
                    line.fill(value);
                } else {
                    line[..x0.min(pw)].fill(value);
                    line[x1.min(pw)..].fill(value);
                }
            }
        }
    }

    /// A copy rotated counter-clockwise by `degrees` (90, 180 or 270; anything else clones).
    pub(crate) fn rotated_ccw(&self, degrees: u32) -> Result<VideoFrame, MediaError> {
        let (w, h) = (self.width(), self.height());
        let (nw, nh) = match degrees {
            90 | 270 => (h, w),
            180 => (w, h),
            _ => return Ok(self.clone()),
        };
        let mut out = VideoFrame::alloc(nw, nh)?;
        out.index = self.index;
        out.pts_us = self.pts_us;
        for i in 0..3 {
            let (sw, sh, ss) = (self.plane_width(i), self.plane_height(i), self.stride(i));
            let ds = out.stride(i);
            let src = self.plane(i);
            let dst = out.plane_mut(i);
            rotate_plane(src, sw, sh, ss, dst, ds, degrees);
        }
        Ok(out)
    }
}

/// Rotates one plane counter-clockwise. `sw × sh` is the source plane; the destination has
/// the rotated dimensions. Straight pixel moves, one destination row at a time.
fn rotate_plane(
    src: &[u8],
    sw: usize,
    sh: usize,
    ss: usize,
    dst: &mut [u8],
    ds: usize,
    degrees: u32,
) {
    match degrees {
        // Source (x, y) lands at (y, sw-1-x): destination row r reads source column sw-1-r.
        90 => {
            for r in 0..sw {
                let row = &mut dst[r * ds..r * ds + sh];
                let col = sw - 1 - r;
                for (c, d) in row.iter_mut().enumerate() {
                    *d = src[c * ss + col];
                }
            }
        }
        // Source (x, y) lands at (sh-1-y, x): destination row r reads source column r upwards.
        270 => {
            for r in 0..sw {
                let row = &mut dst[r * ds..r * ds + sh];
                for (c, d) in row.iter_mut().enumerate() {
                    *d = src[(sh - 1 - c) * ss + r];
                }
            }
        }
        _ => {
            for r in 0..sh {
                let s = &src[(sh - 1 - r) * ss..(sh - 1 - r) * ss + sw];
                let row = &mut dst[r * ds..r * ds + sw];
                for (d, v) in row.iter_mut().zip(s.iter().rev()) {
                    *d = *v;
                }
            }
        }
    }
}

impl Clone for VideoFrame {
    /// Shares the pixel buffers (no copy); a later [`plane_mut`](VideoFrame::plane_mut) on
    /// either frame copies first.
    fn clone(&self) -> Self {
        let mut frame = ffmpeg::frame::Video::empty();
        // SAFETY: both frames are live; av_frame_ref adds a reference to each buffer and copies
        // the properties.
        let r = unsafe { ffi::av_frame_ref(frame.as_mut_ptr(), self.frame.as_ptr()) };
        assert!(r >= 0, "out of memory while referencing a frame");
        VideoFrame {
            frame,
            index: self.index,
            pts_us: self.pts_us,
        }
    }
}

impl fmt::Debug for VideoFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VideoFrame")
            .field("width", &self.width())
            .field("height", &self.height())
            .field("index", &self.index)
            .field("pts_us", &self.pts_us)
            .finish()
    }
}

/// Pointers and strides of a frame's planes, for swscale.
pub(crate) fn src_planes(frame: &ffmpeg::frame::Video) -> ([*const u8; 4], [i32; 4]) {
    // SAFETY: reading plain fields of a live AVFrame.
    unsafe {
        let p = frame.as_ptr();
        let mut data = [ptr::null(); 4];
        let mut stride = [0; 4];
        for i in 0..4 {
            data[i] = (*p).data[i] as *const u8;
            stride[i] = (*p).linesize[i];
        }
        (data, stride)
    }
}

/// Recycled buffers for frames of one size: a frame made in the pool
/// ([`VideoFrame::from_planes_in`], the [`Fitter`](crate::Fitter)'s frames) returns its buffer
/// here when its last reference drops (after encoding), so a pipeline that makes a new frame
/// per input frame reuses a few buffers instead of mapping and zeroing fresh memory for each
/// frame. Thread-safe (FFmpeg's `AVBufferPool`); dropping the pool frees its buffers once
/// every frame using them is gone.
pub struct FramePool {
    pool: *mut ffi::AVBufferPool,
    width: u32,
    height: u32,
    strides: [usize; 3],
    offsets: [usize; 3],
}

// SAFETY: AVBufferPool is documented thread-safe (its free list is behind a mutex); the other
// fields are plain values.
unsafe impl Send for FramePool {}
unsafe impl Sync for FramePool {}

/// Row alignment of pooled frames (the widest SIMD loads FFmpeg's scalers and x264 use).
const POOL_ALIGN: usize = 64;

impl FramePool {
    /// A pool of yuv420p buffers for `width × height` frames.
    pub fn new(width: u32, height: u32) -> Result<FramePool, MediaError> {
        if width == 0 || height == 0 || width > 32768 || height > 32768 {
            return Err(MediaError::InvalidArgument(format!(
                "frame size {width}x{height} is out of range"
            )));
        }
        let (w, h) = (width as usize, height as usize);
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let strides = [
            w.next_multiple_of(POOL_ALIGN),
            cw.next_multiple_of(POOL_ALIGN),
            cw.next_multiple_of(POOL_ALIGN),
        ];
        let offsets = [0, strides[0] * h, strides[0] * h + strides[1] * ch];
        // Room for readers that load a whole SIMD register past the last pixel.
        let size = offsets[2] + strides[2] * ch + ffi::AV_INPUT_BUFFER_PADDING_SIZE as usize;
        let pool = new_buffer_pool(size);
        if pool.is_null() {
            return Err(MediaError::InvalidArgument(
                "out of memory creating a frame pool".into(),
            ));
        }
        Ok(FramePool {
            pool,
            width,
            height,
            strides,
            offsets,
        })
    }
}

/// An `AVBufferPool` of `size`-byte buffers. On Linux a buffer of a huge page and up is an
/// anonymous mapping of its own, its whole huge pages advised to be backed by transparent huge
/// pages: a pool fills up while an inpaint step looks dozens of frames ahead, and each fresh
/// 1080p buffer then costs about 250 page faults instead of 760 (the last, partly used huge page
/// stays in small pages). Elsewhere, and for smaller buffers, FFmpeg's aligned allocator.
fn new_buffer_pool(size: usize) -> *mut ffi::AVBufferPool {
    #[cfg(target_os = "linux")]
    if size >= huge::PAGE {
        // SAFETY: `huge::alloc` returns a buffer of `size` bytes or null, as
        // av_buffer_pool_init2 asks; the pool needs no opaque state.
        return unsafe {
            ffi::av_buffer_pool_init2(size, ptr::null_mut(), Some(huge::alloc), None)
        };
    }
    // SAFETY: creating a pool of `size`-byte buffers with FFmpeg's aligned allocator.
    unsafe { ffi::av_buffer_pool_init(size, Some(ffi::av_buffer_alloc)) }
}

/// Buffers in mappings of their own, backed by transparent huge pages where the kernel has them.
#[cfg(target_os = "linux")]
mod huge {
    use super::ffi;

    /// The size of a transparent huge page.
    pub(super) const PAGE: usize = 2 << 20;

    /// A zeroed buffer of `size` bytes in a mapping of its whole huge pages (the kernel
    /// aligns such anonymous mappings to a huge page), freed by unmapping; null where
    /// mapping fails.
    pub(super) unsafe extern "C" fn alloc(
        _opaque: *mut libc::c_void,
        size: usize,
    ) -> *mut ffi::AVBufferRef {
        let len = size.next_multiple_of(PAGE);
        // SAFETY: a fresh private anonymous mapping; nothing else refers to its range.
        let data = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if data == libc::MAP_FAILED {
            return std::ptr::null_mut();
        }
        // SAFETY: advice on the mapping just made; where the kernel has no transparent huge
        // pages it fails and small pages serve.
        unsafe { libc::madvise(data, size / PAGE * PAGE, libc::MADV_HUGEPAGE) };
        // SAFETY: `data` is `size` bytes and more, valid until `unmap` runs with its length.
        let buffer = unsafe {
            ffi::av_buffer_create(data.cast(), size, Some(unmap), len as *mut libc::c_void, 0)
        };
        if buffer.is_null() {
            // SAFETY: unmapping the mapping made above, which nothing refers to.
            unsafe { libc::munmap(data, len) };
        }
        buffer
    }

    /// Frees a buffer of [`alloc`]: `opaque` is its mapping's length.
    unsafe extern "C" fn unmap(opaque: *mut libc::c_void, data: *mut u8) {
        // SAFETY: `data` is the start of a mapping of `opaque` bytes made by `alloc`, whose
        // last reference is gone.
        unsafe { libc::munmap(data.cast(), opaque as usize) };
    }
}

impl Drop for FramePool {
    fn drop(&mut self) {
        // SAFETY: `pool` came from av_buffer_pool_init and is released once; buffers still
        // out keep FFmpeg's pool alive until they come back.
        unsafe { ffi::av_buffer_pool_uninit(&mut self.pool) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_made_in_a_pool_copy_the_planes_and_reuse_its_buffers() {
        let pool = FramePool::new(6, 4).unwrap();
        let y: Vec<u8> = (0..7 * 4).collect();
        let (u, v) = ([100u8; 3 * 2], [200u8; 3 * 2]);
        let frame = VideoFrame::from_planes_in(&pool, [&y, &u, &v], [7, 3, 3]).unwrap();
        assert_eq!((frame.width(), frame.height()), (6, 4));
        for row in 0..4 {
            assert_eq!(
                frame.plane(0)[row * frame.stride(0)..][..6],
                y[row * 7..][..6]
            );
        }
        assert_eq!(frame.plane(2)[frame.stride(2)], 200);
        let buffer = frame.plane(0).as_ptr();
        drop(frame);
        let again = VideoFrame::from_planes_in(&pool, [&y, &u, &v], [7, 3, 3]).unwrap();
        assert_eq!(
            again.plane(0).as_ptr(),
            buffer,
            "the buffer given back is used again"
        );
        let short = VideoFrame::from_planes_in(&pool, [&y[..20], &u, &v], [7, 3, 3]);
        assert!(short.is_err());
    }

    #[test]
    fn frames_of_a_huge_page_and_up_come_from_mappings_and_are_reused() {
        let pool = FramePool::new(1920, 1080).unwrap();
        let y: Vec<u8> = (0..1920 * 1080).map(|i| (i % 253) as u8).collect();
        let (u, v) = (vec![60u8; 960 * 540], vec![190u8; 960 * 540]);
        let frames: Vec<VideoFrame> = (0..3)
            .map(|_| VideoFrame::from_planes_in(&pool, [&y, &u, &v], [1920, 960, 960]).unwrap())
            .collect();
        for frame in &frames {
            let stride = frame.stride(0);
            assert_eq!(stride % POOL_ALIGN, 0);
            assert_eq!(frame.plane(0)[1079 * stride + 1919], y[1079 * 1920 + 1919]);
            assert_eq!(frame.plane(2)[539 * frame.stride(2) + 959], 190);
        }
        let buffers: Vec<*const u8> = frames.iter().map(|f| f.plane(0).as_ptr()).collect();
        drop(frames);
        let again = VideoFrame::from_planes_in(&pool, [&y, &u, &v], [1920, 960, 960]).unwrap();
        assert!(buffers.contains(&again.plane(0).as_ptr()));
        assert_eq!(again.plane(1)[0], 60);
    }
}
