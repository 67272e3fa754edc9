//! [`Encoder`]: yuv420p frames in, one encoded video file out (a segment, usually).
//!
//! Timing is constant frame rate and exact: the encoder's time base is `1 / frame_rate` and
//! frame *k* pushed gets pts *k*, whatever the input timestamps were. Every output starts
//! with a keyframe (an IDR for H.264/HEVC) and GOPs are closed (x264's default; `open-gop=0`
//! for x265), so each segment decodes on its own and segments can be joined by remuxing.
//!
//! # Segment container: mp4
//! Segments are best written as **mp4**: it stores each packet's exact timestamps (decode
//! time plus composition offset) in the stream's own time base (a multiple of the frame rate),
//! so [`concat_segments`](crate::concat_segments) can shift them by whole frame durations with
//! no rounding. Matroska rounds every timestamp to 1 ms (so 29.97 fps segments come back with
//! 33/34 ms jitter) and leaves dts to be guessed for B-frames. Use mkv only for codecs mp4
//! cannot hold (FFV1).
//!
//! # Hardware
//! [`HwAccel::Auto`] tries NVENC (`h264_nvenc`, `hevc_nvenc`) and falls back to the CPU
//! encoder when it cannot be opened ([`Encoder::fallback`] says why; a process tries each NVENC
//! encoder once); [`HwAccel::Nvenc`] fails instead.
//!
//! # Lossless
//! `libx264` with `Crf(0)` (encoded as qp 0, High 4:4:4 Predictive profile on yuv420p) and
//! `ffv1` are lossless; the tests use both.

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::ptr;

use ffmpeg::ffi;
use ffmpeg::{Dictionary, Rational as FfRational};
use ffmpeg_next as ffmpeg;

use crate::color::ColorMatrix;
use crate::error::MediaError;
use crate::frame::VideoFrame;
use crate::output::TempOutput;
use crate::probe::Rational;
use crate::util::{self, dict_set};

/// Output container.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// MPEG-4 part 14 (`.mp4`). The recommended segment container.
    Mp4,
    /// Matroska (`.mkv`).
    Mkv,
    /// WebM (`.webm`): VP9/AV1 video, Opus audio.
    Webm,
    /// QuickTime (`.mov`).
    Mov,
}

impl Container {
    /// Every container framejet writes.
    pub const ALL: [Container; 4] = [
        Container::Mp4,
        Container::Mkv,
        Container::Webm,
        Container::Mov,
    ];

    /// The container named by a path's extension (`mp4`, `m4v`, `mkv`, `webm`, `mov`).
    pub fn from_path(path: impl AsRef<Path>) -> Option<Container> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        Container::from_name(&ext)
    }

    /// The container for a name as used in job specs (`"mp4"`, `"mkv"`/`"matroska"`,
    /// `"webm"`, `"mov"`).
    pub fn from_name(name: &str) -> Option<Container> {
        match name.to_ascii_lowercase().as_str() {
            "mp4" | "m4v" => Some(Container::Mp4),
            "mkv" | "matroska" => Some(Container::Mkv),
            "webm" => Some(Container::Webm),
            "mov" | "qt" => Some(Container::Mov),
            _ => None,
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mkv => "mkv",
            Container::Webm => "webm",
            Container::Mov => "mov",
        }
    }

    /// FFmpeg's muxer name.
    pub fn muxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::Mkv => "matroska",
            Container::Webm => "webm",
            Container::Mov => "mov",
        }
    }

    /// Picks the explicit container, else the one the path's extension names.
    pub(crate) fn resolve(
        explicit: Option<Container>,
        path: &Path,
    ) -> Result<Container, MediaError> {
        explicit
            .or_else(|| Container::from_path(path))
            .ok_or_else(|| {
                MediaError::output(
                    path,
                    "cannot tell the container from the file name; use .mp4, .mkv, .webm or .mov",
                )
            })
    }
}

/// Rate control.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RateControl {
    /// Constant quality (`crf` for x264/x265/VP9/AV1, `cq` for NVENC). 0 is lossless with
    /// libx264.
    Crf(u8),
    /// Variable bitrate around `target_kbps`, capped at `max_kbps` when given (VBV buffer of
    /// two seconds at the cap).
    Bitrate {
        /// Average bitrate in kbit/s.
        target_kbps: u32,
        /// Peak bitrate in kbit/s.
        max_kbps: Option<u32>,
    },
}

/// Whether to use a hardware encoder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HwAccel {
    /// NVENC when it can be opened, else the CPU encoder (with a warning).
    #[default]
    Auto,
    /// CPU encoders only.
    Cpu,
    /// NVENC or fail.
    Nvenc,
}

/// How to encode video.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EncoderSettings {
    /// `"h264"`, `"hevc"`, `"vp9"`, `"av1"` (SVT-AV1), `"ffv1"`, or an FFmpeg encoder name
    /// (`"libx264"`, `"libaom-av1"`, `"h264_nvenc"`, …).
    pub codec: String,
    /// Rate control.
    pub rate: RateControl,
    /// Encoder preset: one of x264's names ([`PRESETS`](crate::PRESETS), mapped to each
    /// encoder's own setting), or the encoder's own value (`p1`–`p7` for NVENC, a number for
    /// VP9/libaom `cpu-used` and SVT-AV1 `preset`). See [`preset_option`](crate::preset_option).
    pub preset: Option<String>,
    /// Maximum keyframe interval in frames (encoder default when `None`).
    pub gop: Option<u32>,
    /// Hardware encoder choice.
    pub hw: HwAccel,
    /// Encoder threads; `None` lets FFmpeg/the encoder decide (all cores). Set it when several
    /// segments encode at once.
    pub threads: Option<u32>,
}

impl Default for EncoderSettings {
    /// H.264, CRF 23, encoder's default preset and GOP, NVENC when available, automatic threads.
    fn default() -> Self {
        EncoderSettings {
            codec: "h264".into(),
            rate: RateControl::Crf(23),
            preset: None,
            gop: None,
            hw: HwAccel::Auto,
            threads: None,
        }
    }
}

/// What [`Encoder::finish`] reports.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EncodeStats {
    /// Frames encoded.
    pub frames: u64,
    /// Size of the finished file in bytes.
    pub bytes: u64,
    /// The FFmpeg encoder that was used (`"libx264"`, `"h264_nvenc"`, …).
    pub encoder: String,
}

/// Encodes frames into a file. Written to a temporary file beside the destination and renamed
/// by [`finish`](Encoder::finish); dropping an unfinished encoder removes it.
///
/// - Output timing is constant frame rate: time base `1 / frame_rate`, frame *k* gets pts *k*.
/// - The first frame is a keyframe (IDR) and GOPs are closed, so a segment decodes on its own.
/// - **Segments should be mp4**: exact timestamps in a frame-rate time base, which
///   [`concat_segments`](crate::concat_segments) shifts without rounding. Matroska rounds to
///   1 ms (29.97 fps comes back with 33/34 ms jitter). Use mkv only for FFV1.
/// - The output is tagged yuv420p limited range, BT.709 from 720 lines, BT.601 (SMPTE 170M)
///   below ([`ColorMatrix::for_height`]).
/// - [`HwAccel::Auto`] tries NVENC first and falls back to the CPU encoder with a warning.
/// - Lossless: `libx264` with `Crf(0)` (sent as qp 0) and `ffv1`.
pub struct Encoder {
    // Field order matters: the muxer (and its file handle) is dropped before the temporary
    // file is removed.
    octx: ffmpeg::format::context::Output,
    encoder: ffmpeg::encoder::video::Encoder,
    temp: TempOutput,
    name: String,
    stream_index: usize,
    encoder_tb: FfRational,
    stream_tb: FfRational,
    width: u32,
    height: u32,
    frames: u64,
    /// Why `hw: auto` encodes on the CPU: the NVENC encoder that did not open, and why.
    fallback: Option<String>,
}

impl Encoder {
    /// Opens `path` for a `width × height` video at `frame_rate`, in `container` (or the one
    /// the extension names).
    ///
    /// Fails with [`MediaError::Output`] when the size is odd, the frame rate is not positive,
    /// the encoder does not exist or refuses the settings, the container cannot hold the
    /// codec, or the file cannot be created.
    pub fn create(
        path: impl AsRef<Path>,
        container: Option<Container>,
        width: u32,
        height: u32,
        frame_rate: Rational,
        settings: &EncoderSettings,
    ) -> Result<Encoder, MediaError> {
        let path = path.as_ref();
        util::ensure_init();
        util::c_path(path)?;
        if width == 0 || height == 0 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(MediaError::output(
                path,
                format!("video size {width}x{height} must be even and non-zero"),
            ));
        }
        if !frame_rate.is_positive() {
            return Err(MediaError::output(
                path,
                format!("frame rate {frame_rate} must be positive"),
            ));
        }
        let container = Container::resolve(container, path)?;
        // The encoders exist, the container holds their codec, the preset fits.
        crate::encoders::check_encoder(settings, container)
            .map_err(|e| MediaError::output(path, e.to_string()))?;
        let temp = TempOutput::new(path)?;

        let list = crate::encoders::candidates(&settings.codec, settings.hw);
        let mut last_err = String::new();
        let mut fallback = None;
        for (i, (name, nvenc)) in list.iter().enumerate() {
            let more = i + 1 < list.len();
            if *nvenc
                && more
                && let Some(why) = nvenc_known_unavailable(name)
            {
                fallback = Some(format!("{name} did not open ({why})"));
                continue;
            }
            match Encoder::open_with(&temp, container, name, width, height, frame_rate, settings) {
                Ok((octx, encoder, stream_index, encoder_tb, stream_tb)) => {
                    return Ok(Encoder {
                        octx,
                        encoder,
                        temp,
                        name: name.clone(),
                        stream_index,
                        encoder_tb,
                        stream_tb,
                        width,
                        height,
                        frames: 0,
                        fallback: fallback.map(|f| format!("{f}; encoding with {name}")),
                    });
                }
                Err(e) => {
                    if *nvenc && more {
                        remember_nvenc_unavailable(name, &e);
                        let next = &list[i + 1].0;
                        tracing::debug!("nvenc unavailable: {e}; using {next}");
                        fallback = Some(format!("{name} did not open ({e})"));
                    }
                    last_err = e;
                }
            }
        }
        Err(MediaError::output(path, last_err))
    }

    /// Opens one encoder and the muxer around it. Errors are plain text (the caller adds the
    /// path and may fall back to another encoder).
    #[allow(clippy::type_complexity)]
    fn open_with(
        temp: &TempOutput,
        container: Container,
        name: &str,
        width: u32,
        height: u32,
        frame_rate: Rational,
        settings: &EncoderSettings,
    ) -> Result<
        (
            ffmpeg::format::context::Output,
            ffmpeg::encoder::video::Encoder,
            usize,
            FfRational,
            FfRational,
        ),
        String,
    > {
        let cname =
            CString::new(name).map_err(|_| format!("encoder name `{name}` contains a NUL byte"))?;
        // SAFETY: looking up an encoder by a NUL-terminated name; returns null when unknown.
        let codec_ptr = unsafe { ffi::avcodec_find_encoder_by_name(cname.as_ptr()) };
        if codec_ptr.is_null() {
            return Err(format!("encoder `{name}` is not in this FFmpeg build"));
        }
        // SAFETY: `codec_ptr` is a static AVCodec from FFmpeg's registry.
        let codec = unsafe { ffmpeg::Codec::wrap(codec_ptr) };
        if codec.medium() != ffmpeg::media::Type::Video {
            return Err(format!("`{name}` is not a video encoder"));
        }
        // The container was checked to hold the codec (`check_encoder`); its
        // muxer says whether the stream wants a global header.
        let muxer = CString::new(container.muxer()).map_err(|e| e.to_string())?;
        // SAFETY: looking up a muxer by name; returns null when unknown.
        let ofmt = unsafe { ffi::av_guess_format(muxer.as_ptr(), ptr::null(), ptr::null()) };
        if ofmt.is_null() {
            return Err(format!(
                "muxer `{}` is not in this FFmpeg build",
                container.muxer()
            ));
        }
        // SAFETY: reading the flags of a static muxer description.
        let global_header = unsafe { (*ofmt).flags } & ffi::AVFMT_GLOBALHEADER != 0;

        let encoder_tb = FfRational(frame_rate.den, frame_rate.num);
        let mut ctx = ffmpeg::codec::context::Context::new_with_codec(codec);
        let matrix = ColorMatrix::for_height(height);
        // SAFETY: configuring an unopened encoder context with plain field writes.
        unsafe {
            let c = ctx.as_mut_ptr();
            (*c).width = width as i32;
            (*c).height = height as i32;
            (*c).pix_fmt = ffi::AVPixelFormat::AV_PIX_FMT_YUV420P;
            (*c).time_base = encoder_tb.into();
            (*c).framerate = crate::util::ff_rational(frame_rate).into();
            (*c).sample_aspect_ratio = FfRational(1, 1).into();
            (*c).thread_count = settings.threads.map_or(0, |t| t.min(64) as i32);
            (*c).color_range = ffi::AVColorRange::AVCOL_RANGE_MPEG;
            match matrix {
                ColorMatrix::Bt709 => {
                    (*c).colorspace = ffi::AVColorSpace::AVCOL_SPC_BT709;
                    (*c).color_primaries = ffi::AVColorPrimaries::AVCOL_PRI_BT709;
                    (*c).color_trc = ffi::AVColorTransferCharacteristic::AVCOL_TRC_BT709;
                }
                ColorMatrix::Bt601 => {
                    (*c).colorspace = ffi::AVColorSpace::AVCOL_SPC_SMPTE170M;
                    (*c).color_primaries = ffi::AVColorPrimaries::AVCOL_PRI_SMPTE170M;
                    (*c).color_trc = ffi::AVColorTransferCharacteristic::AVCOL_TRC_SMPTE170M;
                }
            }
            if let Some(g) = settings.gop {
                (*c).gop_size = g.clamp(1, i32::MAX as u32) as i32;
            }
            if global_header {
                (*c).flags |= ffi::AV_CODEC_FLAG_GLOBAL_HEADER as i32;
            }
            if let RateControl::Bitrate {
                target_kbps,
                max_kbps,
            } = settings.rate
            {
                (*c).bit_rate = i64::from(target_kbps) * 1000;
                if let Some(max) = max_kbps {
                    (*c).rc_max_rate = i64::from(max) * 1000;
                    (*c).rc_buffer_size = (i64::from(max) * 2000).min(i64::from(i32::MAX)) as i32;
                }
            }
        }
        let options = encoder_options(name, settings).map_err(|e| e.to_string())?;
        // SAFETY: the dictionary's ownership passes to `opts` and comes back below.
        let mut opts = unsafe { options.disown() };
        // SAFETY: opening the configured context with its codec; FFmpeg consumes the options it
        // knows and leaves the rest in `opts`, which we take back and free.
        let (r, refusal) = crate::ffmpeg_log::capture_errors(|| unsafe {
            ffi::avcodec_open2(ctx.as_mut_ptr(), codec_ptr, &mut opts)
        });
        // SAFETY: `opts` is the (possibly null) dictionary FFmpeg handed back.
        let leftover = unsafe { Dictionary::own(opts) };
        if r < 0 {
            // The encoder's own words say why; FFmpeg's code alone is "Invalid argument".
            let because = if refusal.is_empty() {
                String::new()
            } else {
                format!(" ({})", refusal.join("; "))
            };
            return Err(format!(
                "cannot open encoder {name}: {}{because}",
                util::av_err(r)
            ));
        }
        for (k, v) in leftover.iter() {
            tracing::warn!("encoder {name} ignored option {k}={v}");
        }
        let encoder = ffmpeg::encoder::video::Encoder(ffmpeg::encoder::video::Video(
            ffmpeg::encoder::Encoder(ctx),
        ));

        let mut octx = ffmpeg::format::output_as(&temp.url(), container.muxer())
            .map_err(|e| format!("cannot create the file: {e}"))?;
        let stream_index = {
            let mut stream = octx
                .add_stream(codec)
                .map_err(|e| format!("cannot add a video stream: {e}"))?;
            stream.set_parameters(&encoder);
            stream.set_time_base(encoder_tb);
            stream.set_avg_frame_rate(crate::util::ff_rational(frame_rate));
            stream.set_rate(crate::util::ff_rational(frame_rate));
            stream.index()
        };
        octx.write_header()
            .map_err(|e| format!("cannot write the {} header: {e}", container.extension()))?;
        let stream_tb = octx
            .stream(stream_index)
            .map(|s| s.time_base())
            .unwrap_or(encoder_tb);
        Ok((octx, encoder, stream_index, encoder_tb, stream_tb))
    }

    /// With `hw: auto`, why the CPU encodes: the NVENC encoder that did not open, and why
    /// (`None` when NVENC opened or was not asked for).
    pub fn fallback(&self) -> Option<&str> {
        self.fallback.as_deref()
    }

    /// The FFmpeg encoder in use (`"libx264"`, `"h264_nvenc"`, …).
    pub fn encoder_name(&self) -> &str {
        &self.name
    }

    /// Frames pushed so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Encodes one frame as the next output frame (pts = frames pushed so far). The frame
    /// must have the encoder's size; its own `index`/`pts_us` are not used.
    pub fn push(&mut self, frame: &VideoFrame) -> Result<(), MediaError> {
        if (frame.width(), frame.height()) != (self.width, self.height) {
            return Err(MediaError::output(
                self.temp.dest(),
                format!(
                    "frame {} is {}x{} but the encoder was opened for {}x{}",
                    frame.index,
                    frame.width(),
                    frame.height(),
                    self.width,
                    self.height
                ),
            ));
        }
        let mut f = ffmpeg::frame::Video::empty();
        // SAFETY: `f` is a fresh AVFrame; av_frame_ref shares `frame`'s buffers (no copy). We
        // then set the output timestamp and clear the decoder's picture type so the encoder
        // makes its own keyframe decisions.
        unsafe {
            let p = f.as_mut_ptr();
            let r = ffi::av_frame_ref(p, frame.as_ffmpeg().as_ptr());
            if r < 0 {
                return Err(MediaError::output(
                    self.temp.dest(),
                    format!("cannot reference a frame: {}", util::av_err(r)),
                ));
            }
            (*p).pts = self.frames as i64;
            (*p).pict_type = ffi::AVPictureType::AV_PICTURE_TYPE_NONE;
        }
        self.encoder.send_frame(&f).map_err(|e| {
            MediaError::output(
                self.temp.dest(),
                format!("encoder {} failed: {e}", self.name),
            )
        })?;
        self.frames += 1;
        self.drain()
    }

    /// Writes every packet the encoder has ready.
    fn drain(&mut self) -> Result<(), MediaError> {
        let mut packet = ffmpeg::Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {
                    packet.set_stream(self.stream_index);
                    if packet.duration() <= 0 {
                        packet.set_duration(1);
                    }
                    packet.rescale_ts(self.encoder_tb, self.stream_tb);
                    packet.set_position(-1);
                    packet.write_interleaved(&mut self.octx).map_err(|e| {
                        MediaError::output(self.temp.dest(), format!("cannot write video: {e}"))
                    })?;
                }
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::error::EAGAIN => {
                    return Ok(());
                }
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(e) => {
                    return Err(MediaError::output(
                        self.temp.dest(),
                        format!("encoder {} failed: {e}", self.name),
                    ));
                }
            }
        }
    }

    /// Flushes the encoder, writes the trailer, closes the file and moves it into place.
    pub fn finish(mut self) -> Result<EncodeStats, MediaError> {
        if self.frames == 0 {
            return Err(MediaError::output(
                self.temp.dest(),
                "no frames were encoded",
            ));
        }
        self.encoder.send_eof().map_err(|e| {
            MediaError::output(
                self.temp.dest(),
                format!("encoder {} failed: {e}", self.name),
            )
        })?;
        self.drain()?;
        self.octx.write_trailer().map_err(|e| {
            MediaError::output(self.temp.dest(), format!("cannot finish the file: {e}"))
        })?;
        let Encoder {
            octx,
            encoder,
            temp,
            name,
            frames,
            ..
        } = self;
        drop(octx);
        drop(encoder);
        let dest: PathBuf = temp.dest().to_path_buf();
        temp.commit()?;
        let bytes = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        Ok(EncodeStats {
            frames,
            bytes,
            encoder: name,
        })
    }
}

/// Private options for an encoder, from the settings.
fn encoder_options(name: &str, s: &EncoderSettings) -> Result<Dictionary<'static>, MediaError> {
    let mut d = Dictionary::new();
    if let Some(preset) = &s.preset
        && let Some((key, value)) = crate::encoders::preset_option(name, preset)
            .map_err(|e| MediaError::InvalidArgument(e.to_string()))?
    {
        dict_set(&mut d, key, &value)?;
    }
    match name {
        "libx264" | "libx265" => {
            if let RateControl::Crf(q) = s.rate {
                if q == 0 && name == "libx264" {
                    dict_set(&mut d, "qp", "0")?;
                } else {
                    dict_set(&mut d, "crf", &q.to_string())?;
                }
            }
            if name == "libx265" {
                dict_set(&mut d, "x265-params", "open-gop=0:log-level=error")?;
            }
        }
        "libvpx-vp9" | "libaom-av1" => {
            if let RateControl::Crf(q) = s.rate {
                dict_set(&mut d, "crf", &q.to_string())?;
                dict_set(&mut d, "b", "0")?;
            }
            dict_set(&mut d, "row-mt", "1")?;
        }
        "libsvtav1" => {
            if let RateControl::Crf(q) = s.rate {
                dict_set(&mut d, "crf", &q.to_string())?;
            }
        }
        n if n.ends_with("_nvenc") => {
            dict_set(&mut d, "rc", "vbr")?;
            if let RateControl::Crf(q) = s.rate {
                dict_set(&mut d, "cq", &q.to_string())?;
                dict_set(&mut d, "b", "0")?;
            }
        }
        _ => {
            if let RateControl::Crf(q) = s.rate
                && name != "ffv1"
            {
                dict_set(&mut d, "crf", &q.to_string())?;
            }
        }
    }
    Ok(d)
}

/// NVENC encoders that failed to open in this process. With `HwAccel::Auto`
/// they are not tried again, so a machine without the hardware says so once
/// rather than for every segment.
/// The NVENC encoders that did not open in this process, with why.
static NVENC_UNAVAILABLE: std::sync::Mutex<Vec<(String, String)>> =
    std::sync::Mutex::new(Vec::new());

/// Whether an NVENC encoder for `codec` (`h264`, `hevc`) opens on this machine, by opening
/// one on a small picture (nothing is written): `Ok` with the encoder's name, or why not.
/// Data-centre GPUs have the NVENC library but no encoder: only opening one tells.
pub fn nvenc_opens(codec: &str) -> Result<String, MediaError> {
    let settings = EncoderSettings {
        codec: codec.into(),
        hw: HwAccel::Nvenc,
        ..EncoderSettings::default()
    };
    let path =
        std::env::temp_dir().join(format!("framejet-nvenc-probe-{}.mp4", std::process::id()));
    // Dropped unfinished: the temporary output is removed and `path` never appears.
    Encoder::create(&path, None, 256, 144, Rational::new(25, 1), &settings).map(|e| e.name)
}

/// Why NVENC encoder `name` did not open earlier in this process, if it did not.
fn nvenc_known_unavailable(name: &str) -> Option<String> {
    NVENC_UNAVAILABLE.lock().ok().and_then(|names| {
        names
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, why)| why.clone())
    })
}

fn remember_nvenc_unavailable(name: &str, why: &str) {
    if let Ok(mut names) = NVENC_UNAVAILABLE.lock() {
        names.push((name.to_string(), why.to_string()));
    }
}
