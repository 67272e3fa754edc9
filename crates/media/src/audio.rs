//! The output's audio track, as a stream of packets for the muxer in
//! [`concat_segments`](crate::concat_segments).
//!
//! Two ways to get there:
//! - [`AudioEncode`]: for each item of a compilation, decode that item's audio from its file
//!   (or make silence), resample to 48 kHz stereo, trim or pad it to exactly the item's
//!   duration, and encode the whole timeline (AAC, or Opus for WebM). Item boundaries are
//!   computed from the running total of durations, so rounding never accumulates: the track
//!   is within one sample of the sum of the items.
//! - [`AudioCopy`]: copy the packets of one source untouched, trimmed at the packet nearest the
//!   end (used when one source covers the whole output and its codec fits the container).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::ptr;

use ffmpeg::ffi;
use ffmpeg::{Rational as FfRational, media};
use ffmpeg_next as ffmpeg;

use crate::error::MediaError;
use crate::util::{self, MICROS};

/// Output sample rate of encoded audio.
pub(crate) const SAMPLE_RATE: i32 = 48_000;
const CHANNELS: usize = 2;

/// One item of the audio timeline: audio from `path` starting at `start_us` (from the file's
/// first video frame), or silence when `path` is `None`, for `samples` output samples.
#[derive(Clone, Debug)]
pub(crate) struct AudioItem {
    pub path: Option<PathBuf>,
    pub start_us: i64,
    pub samples: u64,
}

/// Where a file's timeline starts: its video stream's first timestamp, in µs (0 without
/// video). Audio offsets are measured from there, like [`VideoFrame::pts_us`](crate::VideoFrame).
fn origin_us(input: &ffmpeg::format::context::Input) -> i64 {
    crate::probe::video_stream_index(input)
        .and_then(|vi| input.stream(vi))
        .map(|s| {
            let st = s.start_time();
            if st == ffi::AV_NOPTS_VALUE {
                0
            } else {
                util::rescale(st, s.time_base(), MICROS)
            }
        })
        .unwrap_or(0)
}

/// An owned libswresample context.
struct Resampler {
    ptr: *mut ffi::SwrContext,
}

// SAFETY: a SwrContext is not tied to a thread; it is only used through `&mut self`.
unsafe impl Send for Resampler {}

impl Drop for Resampler {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from swr_alloc_set_opts2 and is freed once (swr_free nulls it).
        unsafe { ffi::swr_free(&mut self.ptr) }
    }
}

impl Resampler {
    /// Any input layout/format/rate → 48 kHz stereo interleaved f32.
    fn new(frame: &ffmpeg::frame::Audio) -> Option<Resampler> {
        // SAFETY: reading a decoded frame's fields and building channel layouts with FFmpeg's
        // own functions; the layouts are uninitialised on purpose (FFmpeg fills them) and
        // released with av_channel_layout_uninit.
        unsafe {
            let f = frame.as_ptr();
            let format = util::sample_format_from_raw((*f).format)?;
            let rate = (*f).sample_rate;
            if rate <= 0 {
                return None;
            }
            let mut in_layout: ffi::AVChannelLayout = std::mem::zeroed();
            if (*f).ch_layout.nb_channels > 0
                && (*f).ch_layout.order != ffi::AVChannelOrder::AV_CHANNEL_ORDER_UNSPEC
            {
                if ffi::av_channel_layout_copy(&mut in_layout, &(*f).ch_layout) < 0 {
                    return None;
                }
            } else {
                let n = (*f).ch_layout.nb_channels.max(1);
                ffi::av_channel_layout_default(&mut in_layout, n);
            }
            let mut out_layout: ffi::AVChannelLayout = std::mem::zeroed();
            ffi::av_channel_layout_default(&mut out_layout, CHANNELS as i32);
            let mut ptr = ptr::null_mut();
            let r = ffi::swr_alloc_set_opts2(
                &mut ptr,
                &mut out_layout,
                ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT,
                SAMPLE_RATE,
                &mut in_layout,
                format,
                rate,
                0,
                ptr::null_mut(),
            );
            ffi::av_channel_layout_uninit(&mut in_layout);
            ffi::av_channel_layout_uninit(&mut out_layout);
            if r < 0 || ptr.is_null() {
                return None;
            }
            let res = Resampler { ptr };
            if ffi::swr_init(res.ptr) < 0 {
                return None;
            }
            Some(res)
        }
    }

    /// Converts a frame (or flushes with `None`), appending interleaved stereo to `out`.
    fn convert(
        &mut self,
        frame: Option<&ffmpeg::frame::Audio>,
        out: &mut Vec<f32>,
    ) -> Result<(), String> {
        // SAFETY: the output buffer is sized from swr_get_out_samples for this input; the
        // input pointers are the decoded frame's `extended_data` and sample count.
        unsafe {
            let (data, count) = match frame {
                Some(f) => (
                    (*f.as_ptr()).extended_data as *mut *const u8,
                    (*f.as_ptr()).nb_samples,
                ),
                None => (ptr::null_mut(), 0),
            };
            let room = ffi::swr_get_out_samples(self.ptr, count).max(0) as usize + 16;
            let start = out.len();
            out.resize(start + room * CHANNELS, 0.0);
            let mut dst = out[start..].as_mut_ptr() as *mut u8;
            let n = ffi::swr_convert(self.ptr, &mut dst, room as i32, data, count);
            if n < 0 {
                out.truncate(start);
                return Err(util::av_err(n));
            }
            out.truncate(start + n as usize * CHANNELS);
            Ok(())
        }
    }
}

/// Decodes one item's audio and hands out resampled samples.
struct ItemReader {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    stream_index: usize,
    decoder: ffmpeg::decoder::Audio,
    time_base: FfRational,
    resampler: Option<Resampler>,
    /// Item start in the file's stream time, µs.
    start_abs_us: i64,
    started: bool,
    /// Samples to drop at the start (the decoded audio began before the item).
    drop: u64,
    eof_sent: bool,
    done: bool,
}

impl ItemReader {
    /// Opens `path`'s audio at `start_us`; `Ok(None)` when the file has no audio stream.
    fn open(path: &Path, start_us: i64) -> Result<Option<ItemReader>, MediaError> {
        let mut input = util::open_input(path)?;
        let Some(stream_index) = input.streams().best(media::Type::Audio).map(|s| s.index()) else {
            return Ok(None);
        };
        let origin = origin_us(&input);
        let (decoder, time_base) = {
            let Some(stream) = input.stream(stream_index) else {
                return Ok(None);
            };
            let tb = stream.time_base();
            let mut ctx = ffmpeg::codec::context::Context::from_parameters(stream.parameters())
                .map_err(|e| {
                    MediaError::unsupported(path, format!("cannot set up the audio decoder ({e})"))
                })?;
            // SAFETY: setting the packet time base on an unopened decoder context.
            unsafe { (*ctx.as_mut_ptr()).pkt_timebase = tb.into() };
            let dec = ctx.decoder().audio().map_err(|e| {
                MediaError::unsupported(
                    path,
                    format!("no decoder for this audio codec in this FFmpeg build ({e})"),
                )
            })?;
            (dec, tb)
        };
        for mut s in input.streams_mut() {
            if s.index() != stream_index {
                // SAFETY: setting a stream's discard level on an open input.
                unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
            }
        }
        let start_abs_us = origin.saturating_add(start_us.max(0));
        if start_us > 0 {
            let ts = util::rescale(start_abs_us, MICROS, time_base);
            // SAFETY: seeking an open input on its audio stream. A failed seek just means
            // decoding from the start; the samples before the item are then dropped.
            unsafe {
                ffi::av_seek_frame(
                    input.as_mut_ptr(),
                    stream_index as i32,
                    ts,
                    ffi::AVSEEK_FLAG_BACKWARD,
                );
            }
        }
        Ok(Some(ItemReader {
            path: path.to_path_buf(),
            input,
            stream_index,
            decoder,
            time_base,
            resampler: None,
            start_abs_us,
            started: false,
            drop: 0,
            eof_sent: false,
            done: false,
        }))
    }

    /// Appends the next chunk of samples to `out` (interleaved stereo). Returns the number
    /// of leading silent samples to insert first (audio starting after the item start) and
    /// whether the source is exhausted.
    fn read(&mut self, out: &mut Vec<f32>) -> Result<(u64, bool), MediaError> {
        loop {
            if self.done {
                return Ok((0, true));
            }
            let mut frame = ffmpeg::frame::Audio::empty();
            match self.decoder.receive_frame(&mut frame) {
                Ok(()) => {
                    let mut pad = 0;
                    if !self.started {
                        self.started = true;
                        if let Some(ts) = frame.timestamp().or(frame.pts()) {
                            let t = util::rescale(ts, self.time_base, MICROS);
                            let offset = (i128::from(t) - i128::from(self.start_abs_us))
                                * i128::from(SAMPLE_RATE);
                            let offset = (offset / 1_000_000)
                                .clamp(i128::from(i64::MIN), i128::from(i64::MAX))
                                as i64;
                            if offset > 0 {
                                pad = offset as u64;
                            } else {
                                self.drop = offset.unsigned_abs();
                            }
                        }
                    }
                    if self.resampler.is_none() {
                        self.resampler = Some(Resampler::new(&frame).ok_or_else(|| {
                            MediaError::unsupported(
                                &self.path,
                                "cannot resample its audio to 48 kHz stereo",
                            )
                        })?);
                    }
                    let start = out.len();
                    if let Some(r) = self.resampler.as_mut() {
                        r.convert(Some(&frame), out).map_err(|e| {
                            MediaError::corrupt(&self.path, format!("cannot resample audio ({e})"))
                        })?;
                    }
                    self.apply_drop(out, start);
                    return Ok((pad, false));
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    if self.eof_sent {
                        self.done = true;
                        continue;
                    }
                    self.feed()?;
                }
                Err(ffmpeg::Error::Eof) => {
                    // Flush the resampler's delay line.
                    let start = out.len();
                    if let Some(r) = self.resampler.as_mut() {
                        r.convert(None, out).map_err(|e| {
                            MediaError::corrupt(&self.path, format!("cannot resample audio ({e})"))
                        })?;
                    }
                    self.apply_drop(out, start);
                    self.done = true;
                    return Ok((0, true));
                }
                Err(e) => {
                    return Err(MediaError::corrupt(
                        &self.path,
                        format!("cannot decode audio ({e})"),
                    ));
                }
            }
        }
    }

    fn apply_drop(&mut self, out: &mut Vec<f32>, start: usize) {
        if self.drop == 0 {
            return;
        }
        let got = ((out.len() - start) / CHANNELS) as u64;
        let d = self.drop.min(got);
        out.drain(start..start + d as usize * CHANNELS);
        self.drop -= d;
    }

    fn feed(&mut self) -> Result<(), MediaError> {
        let mut packet = ffmpeg::Packet::empty();
        loop {
            match crate::util::read_packet(&mut packet, &mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    return match self.decoder.send_packet(&packet) {
                        Ok(()) => Ok(()),
                        // A damaged audio packet is skipped (the track is padded to length).
                        Err(ffmpeg::Error::InvalidData) => {
                            tracing::warn!(
                                "input `{}`: skipping a damaged audio packet",
                                self.path.display()
                            );
                            Ok(())
                        }
                        Err(e) => Err(MediaError::corrupt(
                            &self.path,
                            format!("cannot decode audio ({e})"),
                        )),
                    };
                }
                Err(ffmpeg::Error::Eof) => {
                    self.eof_sent = true;
                    let _ = self.decoder.send_eof();
                    return Ok(());
                }
                Err(e) => {
                    return Err(MediaError::corrupt(
                        &self.path,
                        format!("cannot read audio ({e})"),
                    ));
                }
            }
        }
    }
}

/// Which audio codec the output gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AudioCodec {
    Aac,
    Opus,
}

impl AudioCodec {
    /// Opus for WebM, which takes no AAC; AAC everywhere else.
    pub(crate) fn for_container(container: crate::encode::Container) -> AudioCodec {
        if container == crate::encode::Container::Webm {
            AudioCodec::Opus
        } else {
            AudioCodec::Aac
        }
    }
}

/// Encodes the audio timeline (decode → resample → trim/pad → encode), one packet at a time.
pub(crate) struct AudioEncode {
    items: VecDeque<AudioItem>,
    /// The item being read: its reader (None for silence / no audio) and samples still owed.
    current: Option<(Option<ItemReader>, u64)>,
    /// Interleaved stereo samples waiting for the encoder.
    fifo: Vec<f32>,
    fifo_pos: usize,
    /// Samples decoded for the current item, waiting behind `pad_left` samples of silence.
    held: Vec<f32>,
    pad_left: u64,
    encoder: ffmpeg::encoder::audio::Encoder,
    frame_size: usize,
    sample_format: ffi::AVSampleFormat,
    small_last_frame: bool,
    samples_sent: i64,
    total_samples: u64,
    eof_sent: bool,
    finished: bool,
}

impl AudioEncode {
    /// Sets up the encoder. `global_header` comes from the muxer's flags.
    pub(crate) fn new(
        items: Vec<AudioItem>,
        codec: AudioCodec,
        bitrate: u32,
        global_header: bool,
    ) -> Result<AudioEncode, String> {
        let name = match codec {
            AudioCodec::Aac => "aac",
            AudioCodec::Opus => "libopus",
        };
        let cname = std::ffi::CString::new(name).map_err(|e| e.to_string())?;
        // SAFETY: looking up an encoder by name; null when missing.
        let codec_ptr = unsafe { ffi::avcodec_find_encoder_by_name(cname.as_ptr()) };
        if codec_ptr.is_null() {
            return Err(format!("audio encoder {name} is not in this FFmpeg build"));
        }
        // SAFETY: `codec_ptr` is a static AVCodec; its `sample_fmts` list ends with NONE.
        let (sample_format, small_last_frame) = unsafe {
            let mut chosen = None;
            let mut p = (*codec_ptr).sample_fmts;
            while !p.is_null() && *p != ffi::AVSampleFormat::AV_SAMPLE_FMT_NONE {
                if matches!(
                    *p,
                    ffi::AVSampleFormat::AV_SAMPLE_FMT_FLTP
                        | ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT
                        | ffi::AVSampleFormat::AV_SAMPLE_FMT_S16
                ) {
                    chosen = Some(*p);
                    break;
                }
                p = p.add(1);
            }
            let caps = (*codec_ptr).capabilities as u32;
            (
                chosen.ok_or_else(|| {
                    format!("audio encoder {name} takes no sample format this crate produces")
                })?,
                caps & (ffi::AV_CODEC_CAP_SMALL_LAST_FRAME | ffi::AV_CODEC_CAP_VARIABLE_FRAME_SIZE)
                    != 0,
            )
        };
        // SAFETY: `codec_ptr` is a static AVCodec.
        let codec = unsafe { ffmpeg::Codec::wrap(codec_ptr) };
        let mut ctx = ffmpeg::codec::context::Context::new_with_codec(codec);
        // SAFETY: configuring an unopened encoder context, then opening it with its codec.
        let r = unsafe {
            let c = ctx.as_mut_ptr();
            (*c).sample_rate = SAMPLE_RATE;
            (*c).sample_fmt = sample_format;
            ffi::av_channel_layout_default(&mut (*c).ch_layout, CHANNELS as i32);
            (*c).bit_rate = i64::from(bitrate);
            (*c).time_base = ffi::AVRational {
                num: 1,
                den: SAMPLE_RATE,
            };
            if global_header {
                (*c).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            ffi::avcodec_open2(c, codec_ptr, ptr::null_mut())
        };
        if r < 0 {
            return Err(format!(
                "cannot open audio encoder {name}: {}",
                util::av_err(r)
            ));
        }
        // SAFETY: reading the frame size the opened encoder chose.
        let frame_size = unsafe { (*ctx.as_ptr()).frame_size }.max(0) as usize;
        let frame_size = if frame_size == 0 { 1024 } else { frame_size };
        let total_samples = items.iter().map(|i| i.samples).sum();
        Ok(AudioEncode {
            items: items.into(),
            current: None,
            fifo: Vec::new(),
            fifo_pos: 0,
            held: Vec::new(),
            pad_left: 0,
            encoder: ffmpeg::encoder::audio::Encoder(ffmpeg::encoder::audio::Audio(
                ffmpeg::encoder::Encoder(ctx),
            )),
            frame_size,
            sample_format,
            small_last_frame,
            samples_sent: 0,
            total_samples,
            eof_sent: false,
            finished: false,
        })
    }

    /// The opened encoder, for the output stream's parameters.
    pub(crate) fn encoder(&self) -> &ffmpeg::encoder::audio::Encoder {
        &self.encoder
    }

    /// Samples in the whole track.
    pub(crate) fn total_samples(&self) -> u64 {
        self.total_samples
    }

    fn buffered(&self) -> usize {
        (self.fifo.len() - self.fifo_pos) / CHANNELS
    }

    /// Fills the FIFO until it holds a whole encoder frame or the timeline is exhausted.
    /// Returns false when no more samples will come.
    fn fill(&mut self) -> Result<bool, MediaError> {
        while self.buffered() < self.frame_size {
            if self.current.is_none() {
                let Some(item) = self.items.pop_front() else {
                    return Ok(false);
                };
                let reader = match &item.path {
                    Some(p) => ItemReader::open(p, item.start_us)?,
                    None => None,
                };
                self.current = Some((reader, item.samples));
            }
            let Some((reader, owed)) = self.current.as_mut() else {
                continue;
            };
            if *owed == 0 {
                self.current = None;
                self.pad_left = 0;
                self.held.clear();
                continue;
            }
            // Compact the FIFO now and then so it does not grow without bound.
            if self.fifo_pos > 0 && self.fifo_pos * 2 > self.fifo.len() {
                self.fifo.drain(..self.fifo_pos);
                self.fifo_pos = 0;
            }
            let chunk = self.frame_size as u64 * 4;
            match reader {
                Some(r) if !r.done || !self.held.is_empty() || self.pad_left > 0 => {
                    if self.pad_left > 0 {
                        // The item's audio starts late: silence first, a chunk at a time.
                        let n = self.pad_left.min(*owed).min(chunk);
                        self.fifo
                            .resize(self.fifo.len() + n as usize * CHANNELS, 0.0);
                        self.pad_left -= n;
                        *owed -= n;
                    } else if self.held.is_empty() {
                        let (pad, _exhausted) = r.read(&mut self.held)?;
                        self.pad_left = pad;
                    } else {
                        let take = ((self.held.len() / CHANNELS) as u64).min(*owed);
                        self.fifo
                            .extend_from_slice(&self.held[..take as usize * CHANNELS]);
                        self.held.clear();
                        *owed -= take;
                    }
                    if *owed == 0 {
                        self.pad_left = 0;
                        self.held.clear();
                    }
                }
                _ => {
                    // Silence: the item has no audio, or its audio ended early.
                    let n = (*owed).min(chunk);
                    self.fifo
                        .resize(self.fifo.len() + n as usize * CHANNELS, 0.0);
                    *owed -= n;
                }
            }
        }
        Ok(true)
    }

    /// Builds an encoder frame of `n` samples from the FIFO.
    fn take_frame(&mut self, n: usize, padded: usize) -> Result<ffmpeg::frame::Audio, String> {
        let mut frame = ffmpeg::frame::Audio::empty();
        // SAFETY: allocating the frame's buffers for `padded` samples of the encoder's format
        // and stereo layout, then writing exactly that many samples per channel into them.
        unsafe {
            let f = frame.as_mut_ptr();
            (*f).nb_samples = padded as i32;
            (*f).format = self.sample_format as i32;
            (*f).sample_rate = SAMPLE_RATE;
            ffi::av_channel_layout_default(&mut (*f).ch_layout, CHANNELS as i32);
            let r = ffi::av_frame_get_buffer(f, 0);
            if r < 0 {
                return Err(util::av_err(r));
            }
            let src = &self.fifo[self.fifo_pos..self.fifo_pos + n * CHANNELS];
            match self.sample_format {
                ffi::AVSampleFormat::AV_SAMPLE_FMT_FLTP => {
                    for ch in 0..CHANNELS {
                        let dst = std::slice::from_raw_parts_mut((*f).data[ch] as *mut f32, padded);
                        for (i, d) in dst.iter_mut().enumerate() {
                            *d = if i < n { src[i * CHANNELS + ch] } else { 0.0 };
                        }
                    }
                }
                ffi::AVSampleFormat::AV_SAMPLE_FMT_FLT => {
                    let dst =
                        std::slice::from_raw_parts_mut((*f).data[0] as *mut f32, padded * CHANNELS);
                    dst[..src.len()].copy_from_slice(src);
                    dst[src.len()..].fill(0.0);
                }
                _ => {
                    let dst =
                        std::slice::from_raw_parts_mut((*f).data[0] as *mut i16, padded * CHANNELS);
                    for (i, d) in dst.iter_mut().enumerate() {
                        let v = src.get(i).copied().unwrap_or(0.0);
                        *d = (v * 32767.0).round().clamp(-32768.0, 32767.0) as i16;
                    }
                }
            }
            (*f).pts = self.samples_sent;
        }
        self.fifo_pos += n * CHANNELS;
        self.samples_sent += n as i64;
        Ok(frame)
    }

    /// The next encoded packet (time base 1/48000), or `None` at the end.
    pub(crate) fn next_packet(&mut self) -> Result<Option<ffmpeg::Packet>, MediaError> {
        let err = |e: String| MediaError::InvalidArgument(format!("audio encoding failed: {e}"));
        loop {
            let mut packet = ffmpeg::Packet::empty();
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => return Ok(Some(packet)),
                Err(ffmpeg::Error::Eof) => return Ok(None),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {}
                Err(e) => return Err(err(e.to_string())),
            }
            if self.finished {
                return Ok(None);
            }
            if self.eof_sent {
                self.finished = true;
                continue;
            }
            let more = self.fill()?;
            let n = self.buffered().min(self.frame_size);
            if n == self.frame_size || (n > 0 && !more) {
                let padded = if n < self.frame_size && !self.small_last_frame {
                    self.frame_size
                } else {
                    n
                };
                let frame = self.take_frame(n, padded).map_err(err)?;
                self.encoder
                    .send_frame(&frame)
                    .map_err(|e| err(e.to_string()))?;
            } else {
                self.encoder.send_eof().map_err(|e| err(e.to_string()))?;
                self.eof_sent = true;
            }
        }
    }
}

/// Copies one source's audio packets from its start up to `end_us`.
pub(crate) struct AudioCopy {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    stream_index: usize,
    time_base: FfRational,
    /// The file's timeline origin in the audio time base.
    origin: i64,
    end: i64,
    done: bool,
}

impl AudioCopy {
    /// Opens `path`'s audio for copying `duration_us` from its start (`None`: all of it).
    /// `Ok(None)` when the file has no audio.
    pub(crate) fn open(
        path: &Path,
        duration_us: Option<i64>,
    ) -> Result<Option<AudioCopy>, MediaError> {
        let mut input = util::open_input(path)?;
        let Some(stream_index) = input.streams().best(media::Type::Audio).map(|s| s.index()) else {
            return Ok(None);
        };
        let origin_us = origin_us(&input);
        let Some(time_base) = input.stream(stream_index).map(|s| s.time_base()) else {
            return Ok(None);
        };
        for mut s in input.streams_mut() {
            if s.index() != stream_index {
                // SAFETY: setting a stream's discard level on an open input.
                unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
            }
        }
        let origin = util::rescale(origin_us, MICROS, time_base);
        let end = duration_us.map_or(i64::MAX, |d| util::rescale(d, MICROS, time_base));
        Ok(Some(AudioCopy {
            path: path.to_path_buf(),
            input,
            stream_index,
            time_base,
            origin,
            end,
            done: false,
        }))
    }

    /// The source stream's codec parameters.
    pub(crate) fn parameters(&self) -> Option<ffmpeg::codec::Parameters> {
        self.input.stream(self.stream_index).map(|s| s.parameters())
    }

    /// The source stream's time base.
    pub(crate) fn time_base(&self) -> FfRational {
        self.time_base
    }

    /// The next packet, timestamps relative to the file's origin, in the source time base.
    /// Packets whose middle lies past the end are left out, so the track ends within half a
    /// packet of `end`.
    pub(crate) fn next_packet(&mut self) -> Result<Option<ffmpeg::Packet>, MediaError> {
        if self.done {
            return Ok(None);
        }
        let mut packet = ffmpeg::Packet::empty();
        loop {
            match crate::util::read_packet(&mut packet, &mut self.input) {
                Ok(()) => {
                    if packet.stream() != self.stream_index {
                        continue;
                    }
                    let Some(pts) = packet.pts().or(packet.dts()) else {
                        continue;
                    };
                    let rel = pts.saturating_sub(self.origin);
                    if rel.saturating_add(packet.duration() / 2) >= self.end {
                        self.done = true;
                        return Ok(None);
                    }
                    packet.set_pts(Some(rel));
                    packet.set_dts(packet.dts().map(|d| d.saturating_sub(self.origin)));
                    packet.set_position(-1);
                    return Ok(Some(packet));
                }
                Err(ffmpeg::Error::Eof) => {
                    self.done = true;
                    return Ok(None);
                }
                Err(e) => {
                    return Err(MediaError::corrupt(
                        &self.path,
                        format!("cannot read audio ({e})"),
                    ));
                }
            }
        }
    }
}
