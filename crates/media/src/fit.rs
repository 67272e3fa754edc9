//! [`Fitter`]: brings frames of any size to the output size, keeping the aspect ratio.
//!
//! - [`FitMode::Pad`] scales the whole picture to fit inside the output and centres it on the
//!   pad colour (letterbox/pillarbox).
//! - [`FitMode::Crop`] fills the output and cuts the overflow equally from both sides.
//! - [`FitMode::Stretch`] scales to the output size, ignoring the aspect ratio.
//!
//! Scaling is swscale's bicubic filter: visibly sharper than bilinear, close to Lanczos at
//! video scale factors, at about half Lanczos's cost (it is also FFmpeg's default for the
//! `scale` filter).
//!
//! yuv420p needs even offsets for the chroma planes, so the scaled picture's size is chosen
//! such that the borders (or the cropped margins) are even on both sides: the picture is
//! exactly centred and its aspect ratio is off by at most 2 pixels. The output size must be
//! even; input sizes may be odd. Frames whose size already matches pass through untouched.

use crate::color::ColorMatrix;
use crate::decode::dst_planes;
use crate::error::MediaError;
use crate::frame::{FramePool, VideoFrame};
use crate::util::{ScaleSide, Scaler};

use ffmpeg_next::ffi;

/// How a picture is brought to the output's aspect ratio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FitMode {
    /// Fit inside, borders in the pad colour.
    #[default]
    Pad,
    /// Fill the frame, cutting the overflow (centred).
    Crop,
    /// Fill the frame, distorting the aspect ratio.
    Stretch,
}

/// Where the source goes in the output: which source rectangle is read and which output
/// rectangle it is scaled into. All offsets are even.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FitGeometry {
    pub src_x: u32,
    pub src_y: u32,
    pub src_w: u32,
    pub src_h: u32,
    pub dst_x: u32,
    pub dst_y: u32,
    pub dst_w: u32,
    pub dst_h: u32,
}

/// Scales frames to a fixed output size; reusable across frames (the scaler is built once
/// per source size).
pub struct Fitter {
    dst_w: u32,
    dst_h: u32,
    mode: FitMode,
    pad_yuv: [u8; 3],
    /// Source size the scaler and geometry were built for.
    src: Option<(u32, u32)>,
    geometry: Option<FitGeometry>,
    scaler: Option<Scaler>,
    /// Buffers of the output frames, recycled once the encoder is done with them.
    pool: FramePool,
}

impl Fitter {
    /// A fitter from `src_w × src_h` to `dst_w × dst_h`. `pad_color` (RGB) fills the borders
    /// in [`FitMode::Pad`] (black: `[0, 0, 0]`), converted with the output height's matrix.
    ///
    /// Fails when the output size is zero or odd (yuv420p needs even sizes) or a size is
    /// zero. Frames of another size than `src_w × src_h` are also accepted (the scaler is
    /// rebuilt), so a mid-stream size change does not break a job.
    pub fn new(
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
        mode: FitMode,
        pad_color: [u8; 3],
    ) -> Result<Fitter, MediaError> {
        if dst_w == 0 || dst_h == 0 || !dst_w.is_multiple_of(2) || !dst_h.is_multiple_of(2) {
            return Err(MediaError::InvalidArgument(format!(
                "output size {dst_w}x{dst_h} must be even and non-zero (yuv420p)"
            )));
        }
        if dst_w > 16384 || dst_h > 16384 {
            return Err(MediaError::InvalidArgument(format!(
                "output size {dst_w}x{dst_h} is larger than 16384"
            )));
        }
        if src_w == 0 || src_h == 0 {
            return Err(MediaError::InvalidArgument(format!(
                "input size {src_w}x{src_h} is empty"
            )));
        }
        let mut fitter = Fitter {
            dst_w,
            dst_h,
            mode,
            pad_yuv: ColorMatrix::for_height(dst_h).rgb_to_yuv(pad_color),
            src: None,
            geometry: None,
            scaler: None,
            pool: FramePool::new(dst_w, dst_h)?,
        };
        fitter.prepare(src_w, src_h)?;
        Ok(fitter)
    }

    /// The output size.
    pub fn output_size(&self) -> (u32, u32) {
        (self.dst_w, self.dst_h)
    }

    /// Where frames of the last source size go in the output (what a GPU twin needs to
    /// scale alike).
    pub fn geometry(&self) -> Option<FitGeometry> {
        self.geometry
    }

    /// Where frames of `src_w × src_h` go in the output (the fitter is made ready for that
    /// size, as [`fit`](Self::fit) does when the size changes).
    pub fn geometry_for(&mut self, src_w: u32, src_h: u32) -> Result<FitGeometry, MediaError> {
        if self.src != Some((src_w, src_h)) {
            self.prepare(src_w, src_h)?;
        }
        self.geometry.ok_or_else(|| {
            MediaError::InvalidArgument(format!(
                "cannot scale {src_w}x{src_h} to {}x{}",
                self.dst_w, self.dst_h
            ))
        })
    }

    /// The pad colour as Y, U, V.
    pub fn pad_yuv(&self) -> [u8; 3] {
        self.pad_yuv
    }

    /// Fits one frame. The result keeps the frame's `index` and `pts_us`. A frame already at
    /// the output size is returned as is (no copy).
    pub fn fit(&mut self, frame: VideoFrame) -> Result<VideoFrame, MediaError> {
        let (w, h) = (frame.width(), frame.height());
        if (w, h) == (self.dst_w, self.dst_h) {
            return Ok(frame);
        }
        if self.src != Some((w, h)) {
            self.prepare(w, h)?;
        }
        let (Some(g), Some(scaler)) = (self.geometry, self.scaler.as_mut()) else {
            return Err(MediaError::InvalidArgument(format!(
                "cannot scale {w}x{h} to {}x{}",
                self.dst_w, self.dst_h
            )));
        };
        let mut out = VideoFrame::from_pool(&self.pool)?;
        out.index = frame.index;
        out.pts_us = frame.pts_us;
        // Source: the (even-aligned) crop rectangle.
        let mut sp = [std::ptr::null::<u8>(); 4];
        let mut ss = [0i32; 4];
        for i in 0..3 {
            let (ox, oy) = if i == 0 {
                (g.src_x, g.src_y)
            } else {
                (g.src_x / 2, g.src_y / 2)
            };
            let off = oy as usize * frame.stride(i) + ox as usize;
            sp[i] = frame.plane(i)[off..].as_ptr();
            ss[i] = frame.stride(i) as i32;
        }
        // Destination: the (even-aligned) target rectangle.
        let (mut dp, ds) = dst_planes(&mut out);
        for i in 0..3 {
            let (ox, oy) = if i == 0 {
                (g.dst_x, g.dst_y)
            } else {
                (g.dst_x / 2, g.dst_y / 2)
            };
            let off = oy as usize * ds[i] as usize + ox as usize;
            // SAFETY: the offset lies inside the plane: the target rectangle is within the
            // output frame by construction of the geometry.
            dp[i] = unsafe { dp[i].add(off) };
        }
        // SAFETY: the scaler was built for `g.src_w × g.src_h` → `g.dst_w × g.dst_h` yuv420p;
        // the source pointers start at an even offset inside `frame` with room for that
        // rectangle, the destination pointers likewise inside `out`.
        unsafe { scaler.run(&sp, &ss, g.src_h, &dp, &ds) };
        // The borders are painted after scaling: swscale's vector code may write a few
        // pixels past the end of each line of its rectangle, into the border.
        if (g.dst_w, g.dst_h) != (self.dst_w, self.dst_h) {
            out.fill_outside(self.pad_yuv, g.dst_x, g.dst_y, g.dst_w, g.dst_h);
        }
        Ok(out)
    }

    fn prepare(&mut self, src_w: u32, src_h: u32) -> Result<(), MediaError> {
        let g = geometry(src_w, src_h, self.dst_w, self.dst_h, self.mode);
        let side = |w, h| ScaleSide {
            format: ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
            width: w,
            height: h,
            full_range: false,
        };
        let scaler =
            Scaler::new(side(g.src_w, g.src_h), side(g.dst_w, g.dst_h)).ok_or_else(|| {
                MediaError::InvalidArgument(format!(
                    "cannot scale {src_w}x{src_h} to {}x{}",
                    self.dst_w, self.dst_h
                ))
            })?;
        self.src = Some((src_w, src_h));
        self.geometry = Some(g);
        self.scaler = Some(scaler);
        Ok(())
    }
}

/// The length `exact` rounded so that `total − length` is a multiple of 4 (even margins on
/// both sides), kept within 2..=total.
fn centred_len(exact: f64, total: u32) -> u32 {
    let margin = ((f64::from(total) - exact) / 4.0).round().max(0.0) as u32 * 4;
    total.saturating_sub(margin).max(2.min(total))
}

fn geometry(sw: u32, sh: u32, dw: u32, dh: u32, mode: FitMode) -> FitGeometry {
    let full_src = (0, 0, sw, sh);
    let full_dst = (0, 0, dw, dh);
    // Compare aspect ratios exactly: src wider than dst when sw/sh > dw/dh.
    let src_wider = u64::from(sw) * u64::from(dh) > u64::from(dw) * u64::from(sh);
    let same = u64::from(sw) * u64::from(dh) == u64::from(dw) * u64::from(sh);
    let ((sx, sy, sw2, sh2), (dx, dy, dw2, dh2)) = match mode {
        FitMode::Stretch => (full_src, full_dst),
        _ if same => (full_src, full_dst),
        FitMode::Pad => {
            if src_wider {
                let h = centred_len(f64::from(sh) * f64::from(dw) / f64::from(sw), dh);
                (full_src, (0, (dh - h) / 2, dw, h))
            } else {
                let w = centred_len(f64::from(sw) * f64::from(dh) / f64::from(sh), dw);
                (full_src, ((dw - w) / 2, 0, w, dh))
            }
        }
        FitMode::Crop => {
            if src_wider {
                let w = centred_len(f64::from(sh) * f64::from(dw) / f64::from(dh), sw);
                (((sw - w) / 2, 0, w, sh), full_dst)
            } else {
                let h = centred_len(f64::from(sw) * f64::from(dh) / f64::from(dw), sh);
                ((0, (sh - h) / 2, sw, h), full_dst)
            }
        }
    };
    FitGeometry {
        src_x: sx,
        src_y: sy,
        src_w: sw2,
        src_h: sh2,
        dst_x: dx,
        dst_y: dy,
        dst_w: dw2,
        dst_h: dh2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_geometry_is_centred_and_even() {
        let g = geometry(720, 1280, 1920, 1080, FitMode::Pad);
        assert_eq!((g.dst_x, g.dst_y, g.dst_w, g.dst_h), (656, 0, 608, 1080));
        let g = geometry(641, 359, 640, 360, FitMode::Pad);
        assert_eq!((g.dst_x % 2, g.dst_y % 2), (0, 0));
        assert_eq!(g.dst_w + 2 * g.dst_x, 640);
        assert_eq!(g.dst_h + 2 * g.dst_y, 360);
        let g = geometry(320, 240, 640, 360, FitMode::Pad);
        assert_eq!((g.dst_x, g.dst_y, g.dst_w, g.dst_h), (80, 0, 480, 360));
    }

    #[test]
    fn crop_geometry_is_centred_and_even() {
        let g = geometry(320, 240, 640, 360, FitMode::Crop);
        assert_eq!((g.src_x, g.src_y, g.src_w, g.src_h), (0, 30, 320, 180));
        let g = geometry(641, 359, 640, 360, FitMode::Crop);
        assert_eq!(g.src_x % 2, 0);
        assert_eq!(g.src_y % 2, 0);
        assert!(g.src_x + g.src_w <= 641 && g.src_y + g.src_h <= 359);
    }
}
