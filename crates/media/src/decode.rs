//! Frame sources: [`Decoder`] for video files and [`StillSource`] for PNG/JPEG stills.
//!
//! The decoder yields upright yuv420p [`VideoFrame`]s in display order, each with its
//! display-order index in the input and its timestamp:
//!
//! - **Indexes** come from the probe's packet scan: a decoded frame's timestamp is looked up in
//!   the sorted list of all packet timestamps, so indexes are exact whatever the B-frame
//!   structure, and stay exact after a seek.
//! - **Seeking** ([`Decoder::seek_to_frame`]) goes to the keyframe at or before the wanted
//!   frame (timestamp seek with `AVSEEK_FLAG_BACKWARD`), then decodes and drops frames until
//!   the wanted index. If the demuxer lands after the wanted frame, it retries from an earlier
//!   keyframe, and finally from the start.
//! - **Conversion**: anything that is not 8-bit limited-range yuv420p (10-bit, 4:4:4, RGB,
//!   full-range "yuvj") is converted with swscale; yuv420p frames pass through without a copy.
//! - **Rotation**: a display-matrix rotation is applied to the pixels, so phone videos come
//!   out upright and frames have [`VideoInfo::display_width`](crate::VideoInfo::display_width)
//!   × `display_height`.
//! - **Threads**: FFmpeg picks the thread count (frame and slice threading).
//! - **NVDEC** ([`HwDecode::Cuda`], [`Decoder::open_with`]): FFmpeg's CUDA hwaccel decodes on
//!   the GPU where the codec has it, and each frame is copied to memory (NV12, then converted
//!   like any other layout). Where no CUDA device opens, the decoder runs on the CPU and
//!   [`Decoder::hw_fallback`] says why; a codec without NVDEC support decodes on the CPU.
//! - **Damage**: like the ffmpeg tool, a damaged packet is skipped with a warning (up to 25, or
//!   1 % of the frames); a frame the decoder could not produce is replaced by the next good
//!   one, so indexes and frame counts stay exact. An input that ends before its last frame,
//!   unreadable data or too much damage is a [`MediaError::Corrupt`] naming the file, never a
//!   panic or a silently short segment.
//! - **Buffers**: a decoded frame may still be one of the decoder's reference pictures, so the
//!   first write to it ([`VideoFrame::plane_mut`]) copies it (copy on write). Frames that go
//!   through a scaling [`Fitter`](crate::Fitter) are new buffers and are written in place.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ffmpeg::Rational as FfRational;
use ffmpeg::ffi;
use ffmpeg_next as ffmpeg;

use crate::color::ColorMatrix;
use crate::composite::{RgbaImage, YuvaImage, blend, load_image};
use crate::error::MediaError;
use crate::frame::{VideoFrame, src_planes};
use crate::probe::{FrameIndex, MediaInfo, MediaKind, Probe, Rational, probe_with_index};
use crate::util::{self, MICROS, ScaleSide, Scaler};

/// Decodes one input's video stream into upright yuv420p frames in display order.
///
/// ```no_run
/// # fn main() -> Result<(), framejet_media::MediaError> {
/// let mut decoder = framejet_media::Decoder::open("ep1.mp4")?;
/// decoder.seek_to_frame(250)?;
/// while let Some(frame) = decoder.next_frame()? {
///     if frame.index >= 500 { break; }
///     // … steps, encode …
/// }
/// # Ok(()) }
/// ```
pub struct Decoder {
    path: PathBuf,
    info: MediaInfo,
    index: Arc<FrameIndex>,
    input: ffmpeg::format::context::Input,
    stream_index: usize,
    decoder: ffmpeg::decoder::Video,
    time_base: FfRational,
    /// Converter to yuv420p for the last source layout that needed one.
    converter: Option<(ScaleSide, Scaler)>,
    /// Frames with a smaller index are decoded and dropped (after a seek).
    skip_until: u64,
    /// Index after the last frame handed out.
    next_expected: u64,
    /// After a seek: the target frame and the keyframe used, to check where the demuxer landed.
    seek_check: Option<(u64, Option<u64>)>,
    /// Frames ready to hand out (stand-ins for frames the decoder could not produce).
    pending: VecDeque<VideoFrame>,
    /// Packets the decoder rejected as damaged.
    damaged_packets: u64,
    eof_sent: bool,
    finished: bool,
    /// Why NVDEC was asked for and is not used.
    hw_fallback: Option<String>,
    /// Frames NVDEC decoded.
    hw_frames: u64,
}

/// Where a [`Decoder`] decodes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HwDecode {
    /// On the CPU.
    #[default]
    Cpu,
    /// On NVDEC of CUDA device `n` (an ordinal among the visible ones), through FFmpeg's CUDA
    /// hwaccel, where it opens (else on the CPU).
    Cuda(usize),
}

/// FFmpeg's context for CUDA device `ordinal`, created on first use and kept for the
/// process, or why there is none.
fn cuda_device(ordinal: usize) -> Result<CudaDevice, String> {
    static DEVICES: std::sync::Mutex<Vec<(usize, Result<CudaDevice, String>)>> =
        std::sync::Mutex::new(Vec::new());
    let mut devices = DEVICES
        .lock()
        .map_err(|_| "the CUDA device list's lock is poisoned".to_string())?;
    if let Some((_, made)) = devices.iter().find(|(n, _)| *n == ordinal) {
        return made.clone();
    }
    util::ensure_init();
    let name = std::ffi::CString::new(ordinal.to_string())
        .map_err(|_| "a device number holds a NUL byte".to_string())?;
    let mut device: *mut ffi::AVBufferRef = std::ptr::null_mut();
    // SAFETY: creates a device context into `device` for the device named by its ordinal
    // (CUDA_VISIBLE_DEVICES applies); no options.
    let ret = unsafe {
        ffi::av_hwdevice_ctx_create(
            &mut device,
            ffi::AVHWDeviceType::AV_HWDEVICE_TYPE_CUDA,
            name.as_ptr(),
            std::ptr::null_mut(),
            0,
        )
    };
    let made = if ret < 0 || device.is_null() {
        Err(format!(
            "no CUDA device {ordinal} for NVDEC (FFmpeg: {})",
            ffmpeg::Error::from(ret)
        ))
    } else {
        Ok(CudaDevice(device))
    };
    devices.push((ordinal, made.clone()));
    made
}

/// FFmpeg's CUDA device context, kept for the whole process (each decoder takes a reference).
#[derive(Clone, Copy)]
struct CudaDevice(*mut ffi::AVBufferRef);

// SAFETY: an AVBufferRef to a device context is only read (referenced) after creation, and
// FFmpeg's reference counting is atomic.
unsafe impl Send for CudaDevice {}
unsafe impl Sync for CudaDevice {}

/// More rejected packets than this (and more than 1 % of the frames) fail the decode.
const MAX_DAMAGED_PACKETS: u64 = 25;

impl Decoder {
    /// Opens a video input: probes it (packet scan for the frame index), then opens its
    /// decoder with automatic threading.
    ///
    /// Stills are refused with [`MediaError::InvalidArgument`]; use [`StillSource`].
    pub fn open(path: impl AsRef<Path>) -> Result<Decoder, MediaError> {
        let path = path.as_ref();
        let (info, index) = probe_with_index(path)?;
        Self::open_indexed(path, info, index.map(Arc::new), HwDecode::Cpu)
    }

    /// Opens a video input probed before with [`probe_input`](crate::probe_input), without
    /// scanning its packets again. The file must not have changed since.
    pub fn open_probed(path: impl AsRef<Path>, probe: &Probe) -> Result<Decoder, MediaError> {
        Self::open_indexed(
            path.as_ref(),
            probe.info.clone(),
            probe.index.clone(),
            HwDecode::Cpu,
        )
    }

    /// [`open_probed`](Self::open_probed) (or [`open`](Self::open) without a probe),
    /// decoding where `hw` says.
    pub fn open_with(
        path: impl AsRef<Path>,
        probe: Option<&Probe>,
        hw: HwDecode,
    ) -> Result<Decoder, MediaError> {
        let path = path.as_ref();
        match probe {
            Some(p) => Self::open_indexed(path, p.info.clone(), p.index.clone(), hw),
            None => {
                let (info, index) = probe_with_index(path)?;
                Self::open_indexed(path, info, index.map(Arc::new), hw)
            }
        }
    }

    /// Why NVDEC was asked for and is not used (no CUDA device); `None` otherwise.
    pub fn hw_fallback(&self) -> Option<&str> {
        self.hw_fallback.as_deref()
    }

    /// Frames decoded on NVDEC so far (0 where the codec has no NVDEC support).
    pub fn hw_frames(&self) -> u64 {
        self.hw_frames
    }

    fn open_indexed(
        path: &Path,
        info: MediaInfo,
        index: Option<Arc<FrameIndex>>,
        hw: HwDecode,
    ) -> Result<Decoder, MediaError> {
        let index = match (info.kind, index) {
            (MediaKind::Video, Some(index)) => index,
            _ => {
                return Err(MediaError::InvalidArgument(format!(
                    "input `{}` is a still image: read it with StillSource",
                    path.display()
                )));
            }
        };
        // Where the probe kept what a decoder needs of FFmpeg's stream analysis (the reorder
        // depth, which a header may not say), the input is opened without it.
        let reorder_depth = info.video.reorder_depth;
        let mut input = match reorder_depth {
            Some(_) => util::open_input_for_packets(path)?,
            None => util::open_input(path)?,
        };
        let stream_index = info.video.stream_index;
        let mut hw_fallback = None;
        let (decoder, time_base) = {
            let stream = input
                .stream(stream_index)
                .ok_or_else(|| MediaError::NoVideo {
                    path: path.to_path_buf(),
                })?;
            let time_base = stream.time_base();
            let mut ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
                .map_err(|e| {
                    MediaError::unsupported(path, format!("cannot set up the video decoder ({e})"))
                })?;
            // SAFETY: configuring an unopened codec context: automatic thread count, frame and
            // slice threading, the packet time base for timestamp bookkeeping, and the reorder
            // depth the probe found (a header read without the analysis may leave it at 0).
            unsafe {
                let c = ctx.as_mut_ptr();
                (*c).thread_count = 0;
                (*c).thread_type = ffi::FF_THREAD_FRAME | ffi::FF_THREAD_SLICE;
                (*c).pkt_timebase = time_base.into();
                if let Some(depth) = reorder_depth {
                    let depth = i32::try_from(depth).unwrap_or(i32::MAX);
                    (*c).has_b_frames = (*c).has_b_frames.max(depth);
                }
            }
            if let HwDecode::Cuda(ordinal) = hw {
                match cuda_device(ordinal) {
                    // SAFETY: the codec context is not opened yet; it takes a reference of
                    // its own to the device, which the default format negotiation then uses
                    // wherever the codec has a CUDA hwaccel.
                    Ok(device) => unsafe {
                        let c = ctx.as_mut_ptr();
                        (*c).hw_device_ctx = ffi::av_buffer_ref(device.0);
                        // The hardware decodes; one thread feeds it.
                        (*c).thread_count = 1;
                    },
                    Err(why) => hw_fallback = Some(why),
                }
            }
            let decoder = ctx.decoder().video().map_err(|e| {
                MediaError::unsupported(
                    path,
                    format!(
                        "no decoder for video codec `{}` in this FFmpeg build ({e})",
                        info.video.codec
                    ),
                )
            })?;
            (decoder, time_base)
        };
        // Only the video stream is read.
        for mut s in input.streams_mut() {
            if s.index() != stream_index {
                // SAFETY: setting a stream's discard level on an open input.
                unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
            }
        }
        Ok(Decoder {
            path: path.to_path_buf(),
            info,
            index,
            input,
            stream_index,
            decoder,
            time_base,
            converter: None,
            skip_until: 0,
            next_expected: 0,
            seek_check: None,
            pending: VecDeque::new(),
            damaged_packets: 0,
            eof_sent: false,
            finished: false,
            hw_fallback,
            hw_frames: 0,
        })
    }

    /// What the probe found (frame count, keyframes, rotation, …).
    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Positions the decoder so that the next frame returned is frame `n` (display order).
    ///
    /// Seeks to the keyframe at or before `n` unless `n` is ahead of the current position
    /// with no keyframe in between (then it decodes forward), and drops the frames before
    /// `n`. Fails with [`MediaError::InvalidArgument`] when `n` is past the last frame.
    pub fn seek_to_frame(&mut self, n: u64) -> Result<(), MediaError> {
        let count = self.info.video.frame_count;
        if n >= count {
            return Err(MediaError::InvalidArgument(format!(
                "frame {n} is past the end of `{}` ({count} frames)",
                self.path.display()
            )));
        }
        let key = self.index.keyframe_at_or_before(n);
        if !self.finished && n >= self.next_expected && key.is_none_or(|k| k <= self.next_expected)
        {
            self.skip_until = n;
            return Ok(());
        }
        self.seek_to(key, n)
    }

    /// Seeks the demuxer to keyframe `key` (or the start) and resets the decoder for `target`.
    fn seek_to(&mut self, key: Option<u64>, target: u64) -> Result<(), MediaError> {
        let ts = key.map_or(self.index.pts[0], |k| self.index.pts[k as usize]);
        // SAFETY: seeking an open input on its video stream, with a timestamp in that stream's
        // time base.
        let mut r = unsafe {
            ffi::av_seek_frame(
                self.input.as_mut_ptr(),
                self.stream_index as i32,
                ts,
                ffi::AVSEEK_FLAG_BACKWARD,
            )
        };
        if r < 0 && key.is_some() {
            // SAFETY: as above, seeking to the start.
            r = unsafe {
                ffi::av_seek_frame(
                    self.input.as_mut_ptr(),
                    self.stream_index as i32,
                    self.index.pts[0],
                    ffi::AVSEEK_FLAG_BACKWARD,
                )
            };
        }
        if r < 0 {
            // Unseekable input: reopen and decode from the start.
            let fresh = Decoder::open(&self.path)?;
            *self = fresh;
            self.skip_until = target;
            self.next_expected = 0;
            return Ok(());
        }
        self.decoder.flush();
        self.pending.clear();
        self.skip_until = target;
        self.next_expected = target;
        self.seek_check = Some((target, key));
        self.eof_sent = false;
        self.finished = false;
        Ok(())
    }

    /// The next frame in display order, or `None` after the last one.
    pub fn next_frame(&mut self) -> Result<Option<VideoFrame>, MediaError> {
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Ok(Some(f));
            }
            if self.finished {
                return Ok(None);
            }
            let mut raw = ffmpeg::frame::Video::empty();
            match self.decoder.receive_frame(&mut raw) {
                Ok(()) => {
                    let Some(idx) = self.index_for(&raw) else {
                        continue;
                    };
                    if let Some((target, key)) = self.seek_check.take()
                        && idx > target
                    {
                        // The demuxer landed after the wanted frame: go back one keyframe.
                        if let Some(k) = key {
                            let earlier = if k == 0 {
                                None
                            } else {
                                self.index.keyframe_at_or_before(k - 1)
                            };
                            tracing::debug!(
                                "input `{}`: seek for frame {target} landed at {idx}; retrying from {earlier:?}",
                                self.path.display()
                            );
                            self.seek_to(earlier, target)?;
                            continue;
                        }
                        tracing::warn!(
                            "input `{}`: frames {target}..{idx} cannot be decoded; continuing at {idx}",
                            self.path.display()
                        );
                    }
                    if idx < self.skip_until || idx < self.next_expected {
                        continue;
                    }
                    let frame = self.finish_frame(raw, idx)?;
                    let missing_from = self.next_expected.max(self.skip_until);
                    self.next_expected = idx + 1;
                    if idx > missing_from {
                        // The decoder dropped frames (damaged data): stand in with this frame
                        // so that indexes and frame counts stay exact.
                        tracing::warn!(
                            "input `{}`: frames {missing_from}..{idx} could not be decoded; repeating frame {idx} in their place",
                            self.path.display()
                        );
                        for i in missing_from..idx {
                            let mut stand_in = frame.clone();
                            stand_in.index = i;
                            stand_in.pts_us = self.pts_us_of(i);
                            self.pending.push_back(stand_in);
                        }
                        self.pending.push_back(frame);
                        continue;
                    }
                    return Ok(Some(frame));
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    self.feed()?
                }
                Err(ffmpeg::Error::Eof) => {
                    self.finished = true;
                    let count = self.info.video.frame_count;
                    if self.next_expected < count && self.skip_until < count {
                        return Err(MediaError::corrupt(
                            &self.path,
                            format!(
                                "decoding stopped after frame {} of {count}",
                                self.next_expected
                            ),
                        ));
                    }
                    return Ok(None);
                }
                Err(e) => {
                    return Err(MediaError::corrupt(
                        &self.path,
                        format!(
                            "cannot decode video near frame {} ({e})",
                            self.next_expected
                        ),
                    ));
                }
            }
        }
    }

    /// Sends the next video packet (or end of stream) to the decoder.
    fn feed(&mut self) -> Result<(), MediaError> {
        if self.eof_sent {
            // Nothing more to send and the decoder asked for more: treat as drained.
            self.finished = true;
            return Ok(());
        }
        let mut packet = ffmpeg::Packet::empty();
        loop {
            match crate::util::read_packet(&mut packet, &mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream_index || packet.size() == 0 {
                        continue;
                    }
                    self.skip_unreferenced_before_target(&packet);
                    return match self.decoder.send_packet(&packet) {
                        Ok(()) => Ok(()),
                        Err(ffmpeg::Error::InvalidData) => {
                            // Like the ffmpeg tool: skip a damaged packet, up to a limit.
                            self.damaged_packets += 1;
                            let limit = MAX_DAMAGED_PACKETS.max(self.info.video.frame_count / 100);
                            if self.damaged_packets > limit {
                                return Err(MediaError::corrupt(
                                    &self.path,
                                    format!(
                                        "{} damaged video packets (the last near frame {})",
                                        self.damaged_packets, self.next_expected
                                    ),
                                ));
                            }
                            tracing::warn!(
                                "input `{}`: skipping a damaged video packet near frame {}",
                                self.path.display(),
                                self.next_expected
                            );
                            Ok(())
                        }
                        Err(e) => Err(MediaError::corrupt(
                            &self.path,
                            format!(
                                "cannot decode video near frame {} ({e})",
                                self.next_expected
                            ),
                        )),
                    };
                }
                Err(ffmpeg::Error::Eof) => {
                    self.eof_sent = true;
                    // Sending EOF twice is harmless; an error here means nothing more comes.
                    let _ = self.decoder.send_eof();
                    return Ok(());
                }
                Err(e) => {
                    return Err(MediaError::corrupt(
                        &self.path,
                        format!("cannot read video near frame {} ({e})", self.next_expected),
                    ));
                }
            }
        }
    }

    /// Lets the decoder skip `packet` when its frame comes before the one wanted (a seek, or a
    /// run of frames dropped on the way forward) and no other frame refers to it: such a frame
    /// would be dropped once decoded, and skipping it changes no frame that is kept (in an
    /// H.264 stream with B-frames, about half the frames on the way to a target). A packet
    /// without a timestamp the index knows is decoded.
    fn skip_unreferenced_before_target(&mut self, packet: &ffmpeg::Packet) {
        let before_target = packet
            .pts()
            .and_then(|pts| self.index.index_of(pts))
            .is_some_and(|i| i < self.skip_until);
        let discard = if before_target {
            ffi::AVDiscard::AVDISCARD_NONREF
        } else {
            ffi::AVDiscard::AVDISCARD_DEFAULT
        };
        // SAFETY: setting the open decoder's skip level between packets, as the ffmpeg tool's
        // `-skip_frame` does; frame threads take it with each packet they are handed.
        unsafe { (*self.decoder.as_mut_ptr()).skip_frame = discard };
    }

    /// Display-order index of a decoded frame, or `None` to drop it (a timestamp before the
    /// first frame: leading pictures of an open GOP, discarded edit-list frames).
    fn index_for(&self, raw: &ffmpeg::frame::Video) -> Option<u64> {
        let ts = raw.timestamp().or(raw.pts());
        let Some(ts) = ts else {
            return Some(self.next_expected);
        };
        if let Some(i) = self.index.index_of(ts) {
            return Some(i);
        }
        if ts < self.index.pts[0] {
            return None;
        }
        // Not an exact packet timestamp (a decoder that re-times frames): nearest frame.
        let i = self.index.pts.partition_point(|&p| p < ts);
        let i = if i > 0
            && i < self.index.pts.len()
            && ts.saturating_sub(self.index.pts[i - 1]) < self.index.pts[i].saturating_sub(ts)
        {
            i - 1
        } else {
            i.min(self.index.pts.len() - 1)
        };
        Some(i as u64)
    }

    /// Timestamp of frame `i` in µs from the first frame.
    fn pts_us_of(&self, i: u64) -> i64 {
        let p = self
            .index
            .pts
            .get(i as usize)
            .copied()
            .unwrap_or(self.index.pts[0]);
        util::rescale(p.saturating_sub(self.index.pts[0]), self.time_base, MICROS)
    }

    /// Converts (if needed), rotates (if needed) and wraps a decoded frame.
    fn finish_frame(
        &mut self,
        raw: ffmpeg::frame::Video,
        idx: u64,
    ) -> Result<VideoFrame, MediaError> {
        let pts_us = self.pts_us_of(idx);
        // SAFETY: reading the format of a live decoded frame.
        let on_gpu =
            unsafe { (*raw.as_ptr()).format } == ffi::AVPixelFormat::AV_PIX_FMT_CUDA as i32;
        let raw = if on_gpu {
            let mut host = ffmpeg::frame::Video::empty();
            // SAFETY: copies a CUDA frame into a fresh frame in memory (its software format,
            // NV12 for 8-bit 4:2:0), then carries the colour properties over.
            let ret = unsafe {
                let ret = ffi::av_hwframe_transfer_data(host.as_mut_ptr(), raw.as_ptr(), 0);
                if ret >= 0 {
                    ffi::av_frame_copy_props(host.as_mut_ptr(), raw.as_ptr())
                } else {
                    ret
                }
            };
            if ret < 0 {
                return Err(MediaError::unsupported(
                    &self.path,
                    format!(
                        "frame {idx}: copying an NVDEC frame to memory failed ({})",
                        ffmpeg::Error::from(ret)
                    ),
                ));
            }
            self.hw_frames += 1;
            host
        } else {
            raw
        };
        // SAFETY: reading plain fields of a live decoded frame.
        let (format, width, height, range) = unsafe {
            let p = raw.as_ptr();
            ((*p).format, (*p).width, (*p).height, (*p).color_range)
        };
        let full_range = range == ffi::AVColorRange::AVCOL_RANGE_JPEG
            || [
                ffi::AVPixelFormat::AV_PIX_FMT_YUVJ420P,
                ffi::AVPixelFormat::AV_PIX_FMT_YUVJ422P,
                ffi::AVPixelFormat::AV_PIX_FMT_YUVJ444P,
                ffi::AVPixelFormat::AV_PIX_FMT_YUVJ440P,
                ffi::AVPixelFormat::AV_PIX_FMT_YUVJ411P,
            ]
            .iter()
            .any(|f| *f as i32 == format);
        let frame = if VideoFrame::is_wrappable(&raw) && !full_range {
            VideoFrame::from_ffmpeg(raw, idx, pts_us)
        } else {
            let src_format = util::pixel_format_from_raw(format).ok_or_else(|| {
                MediaError::unsupported(
                    &self.path,
                    format!("decoded frames have an unknown pixel format ({format})"),
                )
            })?;
            if width <= 0 || height <= 0 {
                return Err(MediaError::corrupt(
                    &self.path,
                    format!("frame {idx} has no size"),
                ));
            }
            let src = ScaleSide {
                format: src_format,
                width: width as u32,
                height: height as u32,
                full_range,
            };
            let dst = ScaleSide {
                format: ffi::AVPixelFormat::AV_PIX_FMT_YUV420P,
                width: src.width,
                height: src.height,
                full_range: false,
            };
            if self.converter.as_ref().is_none_or(|(side, _)| *side != src) {
                let scaler = Scaler::new(src, dst).ok_or_else(|| {
                    MediaError::unsupported(
                        &self.path,
                        format!(
                            "cannot convert {} frames to yuv420p",
                            util::pixel_format_name(format)
                        ),
                    )
                })?;
                self.converter = Some((src, scaler));
            }
            let mut out = VideoFrame::alloc(src.width, src.height)?;
            out.index = idx;
            out.pts_us = pts_us;
            let (sp, ss) = src_planes(&raw);
            let (dp, ds) = dst_planes(&mut out);
            if let Some((_, scaler)) = self.converter.as_mut() {
                // SAFETY: `raw` is a decoded frame of the converter's source layout and `out`
                // a freshly allocated yuv420p frame of the same size.
                unsafe { scaler.run(&sp, &ss, src.height, &dp, &ds) };
            }
            out
        };
        match self.info.video.rotation {
            0 => Ok(frame),
            r => frame.rotated_ccw(r),
        }
    }
}

impl Iterator for Decoder {
    type Item = Result<VideoFrame, MediaError>;

    /// Same as [`Decoder::next_frame`]; ends after the last frame or the first error.
    fn next(&mut self) -> Option<Self::Item> {
        match self.next_frame() {
            Ok(Some(f)) => Some(Ok(f)),
            Ok(None) => None,
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }
}

/// Writable plane pointers and strides of a frame, for swscale output.
pub(crate) fn dst_planes(frame: &mut VideoFrame) -> ([*mut u8; 4], [i32; 4]) {
    let ([y, u, v], s) = frame.planes_mut();
    let strides = [s[0] as i32, s[1] as i32, s[2] as i32, 0];
    (
        [
            y.as_mut_ptr(),
            u.as_mut_ptr(),
            v.as_mut_ptr(),
            std::ptr::null_mut(),
        ],
        strides,
    )
}

/// A still image as a frame source: decoded and converted to yuv420p once, then handed out
/// as many times as needed, every copy sharing one buffer.
///
/// Transparent areas are composited over black. EXIF orientation is applied.
#[derive(Clone, Debug)]
pub struct StillSource {
    frame: VideoFrame,
}

impl StillSource {
    /// Loads a PNG or JPEG. `matrix` is the output's matrix
    /// (`ColorMatrix::for_height(output_height)`), since the still will be fitted into it.
    pub fn open(path: impl AsRef<Path>, matrix: ColorMatrix) -> Result<StillSource, MediaError> {
        let image = load_image(path.as_ref())?;
        StillSource::from_image(&image, matrix)
    }

    /// A still from decoded RGBA pixels.
    pub fn from_image(image: &RgbaImage, matrix: ColorMatrix) -> Result<StillSource, MediaError> {
        let yuva = YuvaImage::from_rgba(image.width, image.height, &image.pixels, matrix)?;
        let mut frame = VideoFrame::black(image.width, image.height)?;
        blend(&mut frame, &yuva, 0, 0, 1.0);
        Ok(StillSource { frame })
    }

    /// Width of the image.
    pub fn width(&self) -> u32 {
        self.frame.width()
    }

    /// Height of the image.
    pub fn height(&self) -> u32 {
        self.frame.height()
    }

    /// The still as frame `index` of a stream at `frame_rate` (pts = index / rate). Shares the
    /// pixel buffer; writing to the result copies it first.
    pub fn frame(&self, index: u64, frame_rate: Rational) -> VideoFrame {
        let mut f = self.frame.clone();
        f.index = index;
        f.pts_us = frame_rate.frame_time_us(index);
        f
    }

    /// Frames `0..count` at `frame_rate`.
    pub fn frames(
        &self,
        count: u64,
        frame_rate: Rational,
    ) -> impl Iterator<Item = VideoFrame> + '_ {
        (0..count).map(move |i| self.frame(i, frame_rate))
    }
}
