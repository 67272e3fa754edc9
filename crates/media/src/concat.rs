//! [`concat_segments`]: the finalize step. Joins encoded segments into the output file by
//! remuxing (no re-encode), adds the audio track, writes metadata.
//!
//! **Video.** Each segment's packets are copied with their timestamps shifted by the total
//! duration of the segments before it (each segment's own span: first pts to last pts + its
//! duration, in the segment's time base). The output has exactly the sum of the segments'
//! frames, in order, and decodes to the same pictures. Segments must share codec and size
//! (what one [`Encoder`](crate::Encoder) configuration produces); mp4 segments keep the
//! timestamps exact (see [`Encoder`](crate::Encoder)).
//!
//! **Audio.** [`AudioSource`]s describe the timeline item by item (see there). The packets of
//! a single source are copied when it covers the whole output from its start, its codec fits
//! the container and its packets are no longer than a video frame; otherwise the timeline is
//! decoded, resampled to 48 kHz stereo, trimmed/padded per item and encoded (AAC; Opus for
//! WebM). Either way the audio ends within one video frame of the video.
//!
//! **Atomicity.** The output is written to a temporary file beside it and renamed at the end;
//! on any error the temporary file is removed and no output appears.

use std::path::{Path, PathBuf};

use ffmpeg::ffi;
use ffmpeg::{Dictionary, Rational as FfRational};
use ffmpeg_next as ffmpeg;

use crate::audio::{AudioCodec, AudioCopy, AudioEncode, AudioItem, SAMPLE_RATE};
use crate::encode::Container;
use crate::error::MediaError;
use crate::output::TempOutput;
use crate::util::{self, MICROS, dict_set};

/// One item of the output's audio timeline, in output order.
///
/// For each input of a compilation: take `duration_us` of audio from `path` starting at
/// `start_us` (measured from that file's first video frame, like
/// [`VideoFrame::pts_us`](crate::VideoFrame::pts_us)), or silence when `path` is `None` (a
/// still, or an input without audio). Audio that ends early is padded with silence; longer
/// audio is cut. `duration_us` should be the item's video duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AudioSource {
    /// The file to take audio from; `None` for silence.
    pub path: Option<PathBuf>,
    /// Where in the file the item starts, µs from its first video frame.
    pub start_us: i64,
    /// How long the item is, µs.
    pub duration_us: i64,
}

impl AudioSource {
    /// Audio from `path`, `duration_us` long, from `start_us`.
    pub fn file(path: impl Into<PathBuf>, start_us: i64, duration_us: i64) -> AudioSource {
        AudioSource {
            path: Some(path.into()),
            start_us,
            duration_us,
        }
    }

    /// `duration_us` of silence.
    pub fn silence(duration_us: i64) -> AudioSource {
        AudioSource {
            path: None,
            start_us: 0,
            duration_us,
        }
    }
}

/// Output metadata. The encoder is always given as `framejet` (the `encoder` tag of mp4/mov,
/// the writing application of Matroska, whose `ENCODER` tag FFmpeg 5.1 still fills itself).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// The `title` tag.
    pub title: Option<String>,
}

/// What to produce in [`concat_segments`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcatOptions {
    /// Output container; `None` takes it from the output's extension.
    pub container: Option<Container>,
    /// The audio timeline; empty for no audio track.
    pub audio: Vec<AudioSource>,
    /// The audio track already encoded for this output by [`encode_audio`]: its packets are
    /// copied whole and `audio` is not read.
    pub audio_track: Option<PathBuf>,
    /// Audio bitrate in bit/s when encoding ([`parse_bitrate`] reads `"320k"`). Default 192000.
    pub audio_bitrate: u32,
    /// Tags to write.
    pub metadata: Metadata,
}

impl Default for ConcatOptions {
    fn default() -> Self {
        ConcatOptions {
            container: None,
            audio: Vec::new(),
            audio_track: None,
            audio_bitrate: 192_000,
            metadata: Metadata::default(),
        }
    }
}

/// What [`concat_segments`] produced.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConcatStats {
    /// Video frames in the output (the sum over the segments).
    pub frames: u64,
    /// Video duration, µs.
    pub video_duration_us: i64,
    /// Audio duration, µs (`None` without audio).
    pub audio_duration_us: Option<i64>,
    /// Whether the audio packets were copied rather than encoded.
    pub audio_copied: bool,
    /// Size of the output in bytes.
    pub bytes: u64,
}

/// Parses a bitrate: `"192k"`, `"320K"`, `"1.5M"`, `"128000"` → bit/s.
pub fn parse_bitrate(text: &str) -> Result<u32, MediaError> {
    let t = text.trim();
    let bad = || {
        MediaError::InvalidArgument(format!(
            "bitrate `{text}` is not a number like 192k or 1.5M"
        ))
    };
    let (num, mult) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1_000.0),
        Some((i, 'm' | 'M')) => (&t[..i], 1_000_000.0),
        Some(_) => (t, 1.0),
        None => return Err(bad()),
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    let bps = v * mult;
    if !(bps.is_finite() && (1_000.0..=10_000_000.0).contains(&bps)) {
        return Err(MediaError::InvalidArgument(format!(
            "bitrate `{text}` must be between 1k and 10M"
        )));
    }
    Ok(bps.round() as u32)
}

/// One open segment.
struct SegmentReader {
    path: PathBuf,
    input: ffmpeg::format::context::Input,
    stream_index: usize,
    time_base: FfRational,
    start: Option<i64>,
    end: i64,
}

/// Video parameters every segment must share.
#[derive(Clone, Debug, PartialEq, Eq)]
struct VideoShape {
    codec: ffi::AVCodecID,
    width: i32,
    height: i32,
    extradata: Vec<u8>,
}

/// Opens a segment: with FFmpeg's stream analysis when `analyse` (the first segment's first
/// open, whose codec parameters the output takes: some muxers need what only the analysis
/// finds, such as VP9's pixel format for MP4's `vpcC`), else reading its header alone (about
/// 80 ms less per open at 1080p, as the analysis decodes frames).
fn open_segment(
    path: &Path,
    analyse: bool,
) -> Result<
    (
        SegmentReader,
        VideoShape,
        ffmpeg::codec::Parameters,
        FfRational,
    ),
    MediaError,
> {
    let input = if analyse {
        util::open_input(path)
    } else {
        util::open_input_for_packets(path)
    };
    let mut input = input.map_err(|e| MediaError::segment(path, e.to_string()))?;
    let Some(stream_index) = crate::probe::video_stream_index(&input) else {
        return Err(MediaError::segment(path, "no video stream"));
    };
    let (shape, params, time_base, rate, start) = {
        let Some(stream) = input.stream(stream_index) else {
            return Err(MediaError::segment(path, "no video stream"));
        };
        let params = stream.parameters();
        // SAFETY: reading plain fields (and the extradata buffer of `extradata_size` bytes) of
        // the stream's codec parameters.
        let shape = unsafe {
            let p = params.as_ptr();
            let extradata = if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
            };
            VideoShape {
                codec: (*p).codec_id,
                width: (*p).width,
                height: (*p).height,
                extradata,
            }
        };
        let st = stream.start_time();
        (
            shape,
            params,
            stream.time_base(),
            stream.avg_frame_rate(),
            (st != ffi::AV_NOPTS_VALUE).then_some(st),
        )
    };
    for mut s in input.streams_mut() {
        if s.index() != stream_index {
            // SAFETY: setting a stream's discard level on an open input.
            unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
        }
    }
    let reader = SegmentReader {
        path: path.to_path_buf(),
        input,
        stream_index,
        time_base,
        start,
        end: 0,
    };
    Ok((reader, shape, params, rate))
}

/// Reads the segments in order as one packet stream in the first segment's time base.
struct VideoJoin {
    paths: Vec<PathBuf>,
    next: usize,
    current: Option<SegmentReader>,
    shape: VideoShape,
    time_base: FfRational,
    /// Start of the current segment on the output timeline, in `time_base`.
    offset: i64,
    frames: u64,
    last_dts: Option<i64>,
    /// Per segment, how far its decode timestamps run ahead of its first presentation
    /// timestamp (the B-frame delay), in `time_base`; and the largest of them.
    delays: Vec<i64>,
    max_delay: i64,
}

/// How far a segment's first decode timestamp lies before its first presentation timestamp
/// (0 without B-frames), in `time_base`. Reads one packet.
fn segment_delay(path: &Path, time_base: FfRational) -> Result<i64, MediaError> {
    let (mut seg, ..) = open_segment(path, false)?;
    let mut packet = ffmpeg::Packet::empty();
    loop {
        match crate::util::read_packet(&mut packet, &mut seg.input) {
            Ok(()) if packet.stream() == seg.stream_index && packet.size() > 0 => {
                let pts = packet.pts().or(packet.dts()).unwrap_or(0);
                let start = seg.start.unwrap_or(pts);
                let dts = packet.dts().unwrap_or(pts);
                return Ok(util::rescale(
                    start.saturating_sub(dts).max(0),
                    seg.time_base,
                    time_base,
                ));
            }
            Ok(()) => continue,
            Err(ffmpeg::Error::Eof) => {
                return Err(MediaError::segment(path, "has no video frames"));
            }
            Err(e) => {
                return Err(MediaError::segment(
                    path,
                    format!("cannot read a packet ({e})"),
                ));
            }
        }
    }
}

impl VideoJoin {
    fn next_packet(&mut self) -> Result<Option<ffmpeg::Packet>, MediaError> {
        loop {
            if self.current.is_none() {
                let Some(path) = self.paths.get(self.next).cloned() else {
                    return Ok(None);
                };
                self.next += 1;
                let (reader, shape, _, _) = open_segment(&path, false)?;
                if (shape.codec, shape.width, shape.height)
                    != (self.shape.codec, self.shape.width, self.shape.height)
                {
                    return Err(MediaError::segment(
                        &path,
                        format!(
                            "is {} {}x{} but the first segment is {} {}x{}",
                            crate::probe::codec_name(shape.codec),
                            shape.width,
                            shape.height,
                            crate::probe::codec_name(self.shape.codec),
                            self.shape.width,
                            self.shape.height
                        ),
                    ));
                }
                if shape.extradata != self.shape.extradata {
                    tracing::warn!(
                        "segment `{}`: codec headers differ from the first segment's (encoder settings changed?)",
                        path.display()
                    );
                }
                self.current = Some(reader);
            }
            let Some(seg) = self.current.as_mut() else {
                continue;
            };
            let mut packet = ffmpeg::Packet::empty();
            match crate::util::read_packet(&mut packet, &mut seg.input) {
                Ok(()) => {
                    if packet.stream() != seg.stream_index || packet.size() == 0 {
                        continue;
                    }
                    let Some(pts) = packet.pts().or(packet.dts()) else {
                        return Err(MediaError::segment(
                            &seg.path,
                            "a video packet has no timestamp",
                        ));
                    };
                    let start = *seg.start.get_or_insert(pts);
                    let duration = packet.duration().max(0);
                    seg.end = seg
                        .end
                        .max(pts.saturating_sub(start).saturating_add(duration));
                    let shift = |t: i64| {
                        util::rescale(t.saturating_sub(start), seg.time_base, self.time_base)
                            .saturating_add(self.offset)
                    };
                    let new_pts = shift(pts);
                    // Segments with less B-frame delay than others get their decode times moved
                    // earlier by the difference, so decode times keep increasing across joins
                    // (earlier is always valid: dts ≤ pts still holds).
                    let lag = self.max_delay.saturating_sub(
                        self.delays
                            .get(self.next - 1)
                            .copied()
                            .unwrap_or(self.max_delay),
                    );
                    let new_dts = packet
                        .dts()
                        .map(shift)
                        .unwrap_or(new_pts)
                        .saturating_sub(lag);
                    if let Some(last) = self.last_dts
                        && new_dts <= last
                    {
                        return Err(MediaError::segment(
                            &seg.path,
                            "its timestamps overlap the previous segment's (segments must start with a keyframe and use the same encoder settings)",
                        ));
                    }
                    self.last_dts = Some(new_dts);
                    packet.set_pts(Some(new_pts));
                    packet.set_dts(Some(new_dts));
                    packet.set_duration(util::rescale(duration, seg.time_base, self.time_base));
                    packet.set_position(-1);
                    self.frames += 1;
                    return Ok(Some(packet));
                }
                Err(ffmpeg::Error::Eof) => {
                    self.offset = self.offset.saturating_add(util::rescale(
                        seg.end,
                        seg.time_base,
                        self.time_base,
                    ));
                    if seg.start.is_none() {
                        return Err(MediaError::segment(&seg.path, "has no video frames"));
                    }
                    self.current = None;
                }
                Err(e) => {
                    return Err(MediaError::segment(
                        &seg.path,
                        format!("cannot read a packet ({e})"),
                    ));
                }
            }
        }
    }
}

/// The audio side of the merge.
enum AudioTrack {
    Copy(AudioCopy),
    Encode(Box<AudioEncode>),
}

impl AudioTrack {
    fn next_packet(&mut self) -> Result<Option<ffmpeg::Packet>, MediaError> {
        match self {
            AudioTrack::Copy(c) => c.next_packet(),
            AudioTrack::Encode(e) => e.next_packet(),
        }
    }

    fn time_base(&self) -> FfRational {
        match self {
            AudioTrack::Copy(c) => c.time_base(),
            AudioTrack::Encode(_) => FfRational(1, SAMPLE_RATE),
        }
    }
}

fn check_durations(sources: &[AudioSource]) -> Result<(), MediaError> {
    match sources.iter().find(|a| a.duration_us < 0) {
        Some(a) => Err(MediaError::InvalidArgument(format!(
            "audio item duration {} µs is negative",
            a.duration_us
        ))),
        None => Ok(()),
    }
}

/// The timeline as items of whole samples. Boundaries come from the running total, so
/// rounding never accumulates.
fn audio_items(sources: &[AudioSource]) -> Vec<AudioItem> {
    let samples_at = |us: i64| (i128::from(us) * i128::from(SAMPLE_RATE) + 500_000) / 1_000_000;
    let mut elapsed_us: i64 = 0;
    sources
        .iter()
        .map(|a| {
            let from = samples_at(elapsed_us);
            elapsed_us += a.duration_us;
            AudioItem {
                path: a.path.clone(),
                start_us: a.start_us,
                samples: (samples_at(elapsed_us) - from).max(0) as u64,
            }
        })
        .collect()
}

/// What [`encode_audio`] wrote.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AudioTrackStats {
    /// Length of the track, µs.
    pub duration_us: i64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Encodes an audio timeline into a file of its own: AAC in MP4, or Opus in WebM when the final
/// output is WebM (`container`), at `bitrate` bit/s, whatever `output`'s extension. (Both keep
/// the sample-exact timestamps and the encoder's priming that [`concat_segments`] copies;
/// Matroska would round them to milliseconds.)
///
/// This is the audio half of [`concat_segments`]' work, split off so that it can run while the
/// video segments are still encoding: given it as [`ConcatOptions::audio_track`],
/// `concat_segments` copies its packets instead of encoding. Errors name
/// the input or output at fault; on error, or when `cancelled` turns true (it is asked between
/// packets), no file is left.
pub fn encode_audio(
    sources: &[AudioSource],
    output: impl AsRef<Path>,
    container: Container,
    bitrate: u32,
    cancelled: &dyn Fn() -> bool,
) -> Result<AudioTrackStats, MediaError> {
    let output = output.as_ref();
    util::ensure_init();
    util::c_path(output)?;
    if sources.is_empty() {
        return Err(MediaError::InvalidArgument("no audio to encode".into()));
    }
    check_durations(sources)?;
    let codec = AudioCodec::for_container(container);
    let muxer = match codec {
        AudioCodec::Aac => "mp4",
        AudioCodec::Opus => "webm",
    };
    let temp = TempOutput::new(output)?;
    let mut octx = ffmpeg::format::output_as(&temp.url(), muxer)
        .map_err(|e| MediaError::output(output, format!("cannot create the file: {e}")))?;
    let mut enc = AudioEncode::new(audio_items(sources), codec, bitrate, true)
        .map_err(|e| MediaError::output(output, e))?;
    {
        let mut stream = octx
            .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
            .map_err(|e| MediaError::output(output, format!("cannot add the audio stream: {e}")))?;
        stream.set_parameters(enc.encoder());
        stream.set_time_base(FfRational(1, SAMPLE_RATE));
    }
    octx.write_header()
        .map_err(|e| MediaError::output(output, format!("cannot write the header: {e}")))?;
    let out_tb = octx
        .stream(0)
        .map_or(FfRational(1, SAMPLE_RATE), |s| s.time_base());
    while let Some(mut p) = enc.next_packet()? {
        if cancelled() {
            return Err(MediaError::Cancelled);
        }
        p.set_stream(0);
        p.rescale_ts(FfRational(1, SAMPLE_RATE), out_tb);
        p.write_interleaved(&mut octx)
            .map_err(|e| MediaError::output(output, format!("cannot write audio: {e}")))?;
    }
    octx.write_trailer()
        .map_err(|e| MediaError::output(output, format!("cannot finish the file: {e}")))?;
    drop(octx);
    let duration_us =
        (i128::from(enc.total_samples()) * 1_000_000 / i128::from(SAMPLE_RATE)) as i64;
    drop(enc);
    temp.commit()?;
    Ok(AudioTrackStats {
        duration_us,
        bytes: std::fs::metadata(output).map(|m| m.len()).unwrap_or(0),
    })
}

/// Whether [`concat_segments`] would copy this audio timeline's packets rather than encode
/// them: a single source whose codec fits `container` and that covers the whole output from
/// its start (`frame_us`: one video frame, the tolerance).
pub fn can_copy_audio(sources: &[AudioSource], container: Container, frame_us: i64) -> bool {
    match sources {
        [only] => only
            .path
            .as_deref()
            .is_some_and(|p| copyable(p, only, container, frame_us)),
        _ => false,
    }
}

/// Whether a single source's audio can be copied into `container` as is.
fn copyable(path: &Path, source: &AudioSource, container: Container, frame_us: i64) -> bool {
    if source.start_us != 0 {
        return false;
    }
    let Ok(input) = util::open_input(path) else {
        return false;
    };
    let Some(audio) = input
        .streams()
        .best(ffmpeg::media::Type::Audio)
        .map(|s| crate::probe::audio_info(&s, input.duration().max(0)))
    else {
        return false;
    };
    let fits = matches!(
        (audio.codec.as_str(), container),
        ("aac", Container::Mp4 | Container::Mov | Container::Mkv)
            | ("opus" | "vorbis", Container::Webm | Container::Mkv)
    );
    // Packets no longer than a video frame, so cutting at a packet stays within one frame.
    let packet_us = match audio.codec.as_str() {
        "aac" => 1024 * 1_000_000 / i64::from(audio.sample_rate.max(1)),
        "opus" => 20_000,
        _ => i64::MAX,
    };
    fits && packet_us <= frame_us && audio.duration_us + frame_us / 2 >= source.duration_us
}

/// Joins `segments` (in order) into `output`, adding the audio timeline and metadata. See the
/// module documentation; returns what was written.
///
/// Errors name the segment, input or output at fault. On error no output file is left.
pub fn concat_segments(
    segments: &[impl AsRef<Path>],
    output: impl AsRef<Path>,
    options: &ConcatOptions,
) -> Result<ConcatStats, MediaError> {
    let output = output.as_ref();
    util::ensure_init();
    util::c_path(output)?;
    let paths: Vec<PathBuf> = segments.iter().map(|p| p.as_ref().to_path_buf()).collect();
    let Some(first) = paths.first() else {
        return Err(MediaError::InvalidArgument("no segments to join".into()));
    };
    let container = Container::resolve(options.container, output)?;
    check_durations(&options.audio)?;
    // The joined timeline uses the first segment's stream time base.
    let (first_reader, shape, params, rate) = open_segment(first, true)?;
    let time_base = first_reader.time_base;
    drop(first_reader);
    // Every segment is checked (and its B-frame delay read) before the output is created.
    let delays: Vec<i64> = paths
        .iter()
        .map(|p| segment_delay(p, time_base))
        .collect::<Result<_, _>>()?;
    let frame_us = if rate.numerator() > 0 && rate.denominator() > 0 {
        util::rescale(1, FfRational(rate.denominator(), rate.numerator()), MICROS).max(1)
    } else {
        40_000
    };

    let temp = TempOutput::new(output)?;
    let mut octx = ffmpeg::format::output_as(&temp.url(), container.muxer())
        .map_err(|e| MediaError::output(output, format!("cannot create the file: {e}")))?;
    // SAFETY: reading the flags of the muxer this context was created with.
    let global_header = unsafe { (*(*octx.as_ptr()).oformat).flags } & ffi::AVFMT_GLOBALHEADER != 0;
    // SAFETY: as above; `oformat` is a static description.
    let fits = unsafe {
        ffi::avformat_query_codec(
            (*octx.as_ptr()).oformat,
            shape.codec,
            ffi::FF_COMPLIANCE_NORMAL,
        )
    };
    if fits == 0 {
        return Err(MediaError::output(
            output,
            format!(
                "the {} container cannot hold {} video",
                container.extension(),
                crate::probe::codec_name(shape.codec)
            ),
        ));
    }

    // Video stream: the first segment's parameters.
    {
        let mut stream = octx
            .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
            .map_err(|e| MediaError::output(output, format!("cannot add the video stream: {e}")))?;
        stream.set_parameters(params);
        // SAFETY: clearing the codec tag lets the muxer pick its own for this container.
        unsafe { (*stream.parameters().as_mut_ptr()).codec_tag = 0 };
        stream.set_time_base(time_base);
        if rate.numerator() > 0 {
            stream.set_avg_frame_rate(rate);
            stream.set_rate(rate);
        }
    }

    // Audio stream.
    let total_audio_us: i64 = options.audio.iter().map(|a| a.duration_us).sum();
    let mut audio: Option<AudioTrack> = None;
    let mut audio_copied = false;
    if !options.audio.is_empty() || options.audio_track.is_some() {
        let copy_from = match (&options.audio_track, options.audio.as_slice()) {
            (Some(track), _) => Some((track.clone(), None)),
            (None, [only]) => only
                .path
                .as_ref()
                .filter(|p| copyable(p, only, container, frame_us))
                .map(|p| (p.clone(), Some(only.duration_us))),
            _ => None,
        };
        if let Some((p, duration)) = copy_from {
            let Some(copy) = AudioCopy::open(&p, duration)? else {
                return Err(MediaError::output(
                    output,
                    format!("`{}` has no audio to copy", p.display()),
                ));
            };
            let Some(params) = copy.parameters() else {
                return Err(MediaError::output(
                    output,
                    "cannot read the audio source's parameters",
                ));
            };
            let mut stream = octx
                .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
                .map_err(|e| {
                    MediaError::output(output, format!("cannot add the audio stream: {e}"))
                })?;
            stream.set_parameters(params);
            // SAFETY: as for the video stream.
            unsafe { (*stream.parameters().as_mut_ptr()).codec_tag = 0 };
            stream.set_time_base(copy.time_base());
            audio = Some(AudioTrack::Copy(copy));
            audio_copied = true;
        }
        if audio.is_none() {
            let enc = AudioEncode::new(
                audio_items(&options.audio),
                AudioCodec::for_container(container),
                options.audio_bitrate,
                global_header,
            )
            .map_err(|e| MediaError::output(output, e))?;
            let mut stream = octx
                .add_stream(ffmpeg::encoder::find(ffmpeg::codec::Id::None))
                .map_err(|e| {
                    MediaError::output(output, format!("cannot add the audio stream: {e}"))
                })?;
            stream.set_parameters(enc.encoder());
            stream.set_time_base(FfRational(1, SAMPLE_RATE));
            audio = Some(AudioTrack::Encode(Box::new(enc)));
        }
    }

    // Metadata and header.
    let mut meta = Dictionary::new();
    if let Some(title) = &options.metadata.title {
        dict_set(&mut meta, "title", title)?;
    }
    // mp4/mov write this as the encoder tag (©too); Matroska as its writing application.
    dict_set(&mut meta, "encoding_tool", "framejet")?;
    octx.set_metadata(meta);
    let mut header_opts = Dictionary::new();
    if matches!(container, Container::Mp4 | Container::Mov) {
        // The index up front, so the output can be streamed (the gateway serves Range requests).
        dict_set(&mut header_opts, "movflags", "+faststart")?;
    }
    octx.write_header_with(header_opts).map_err(|e| {
        MediaError::output(
            output,
            format!("cannot write the {} header: {e}", container.extension()),
        )
    })?;
    let out_tbs: Vec<FfRational> = octx.streams().map(|s| s.time_base()).collect();
    let (video_out_tb, audio_out_tb) = (out_tbs[0], out_tbs.get(1).copied());

    // Merge video and audio packets by timestamp.
    let mut video = VideoJoin {
        delays: delays.clone(),
        max_delay: delays.iter().copied().max().unwrap_or(0),
        paths: paths.clone(),
        next: 0,
        current: None,
        shape,
        time_base,
        offset: 0,
        frames: 0,
        last_dts: None,
    };
    let audio_tb = audio
        .as_ref()
        .map(|a| a.time_base())
        .unwrap_or(FfRational(1, SAMPLE_RATE));
    let mut next_v = video.next_packet()?;
    let mut next_a = match audio.as_mut() {
        Some(a) => a.next_packet()?,
        None => None,
    };
    let mut audio_end: i64 = 0;
    let us = |p: &ffmpeg::Packet, tb: FfRational| {
        util::rescale(p.dts().or(p.pts()).unwrap_or(0), tb, MICROS)
    };
    loop {
        let take_video = match (&next_v, &next_a) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(v), Some(a)) => us(v, time_base) <= us(a, audio_tb),
        };
        if take_video {
            let Some(mut p) = next_v.take() else { break };
            p.set_stream(0);
            p.rescale_ts(time_base, video_out_tb);
            p.write_interleaved(&mut octx)
                .map_err(|e| MediaError::output(output, format!("cannot write video: {e}")))?;
            next_v = video.next_packet()?;
        } else {
            let Some(mut p) = next_a.take() else { break };
            audio_end = audio_end.max(p.pts().unwrap_or(0).saturating_add(p.duration()));
            p.set_stream(1);
            p.rescale_ts(audio_tb, audio_out_tb.unwrap_or(audio_tb));
            p.write_interleaved(&mut octx)
                .map_err(|e| MediaError::output(output, format!("cannot write audio: {e}")))?;
            next_a = match audio.as_mut() {
                Some(a) => a.next_packet()?,
                None => None,
            };
        }
    }
    octx.write_trailer()
        .map_err(|e| MediaError::output(output, format!("cannot finish the file: {e}")))?;
    drop(octx);

    let video_duration_us = util::rescale(video.offset, time_base, MICROS);
    let audio_duration_us = audio.as_ref().map(|a| match a {
        AudioTrack::Encode(e) => {
            (i128::from(e.total_samples()) * 1_000_000 / i128::from(SAMPLE_RATE)) as i64
        }
        AudioTrack::Copy(_) => util::rescale(audio_end, audio_tb, MICROS),
    });
    if let Some(a) = audio_duration_us
        && (a - video_duration_us).abs() > frame_us
    {
        tracing::warn!(
            "output `{}`: audio lasts {a} µs but video {video_duration_us} µs (audio items sum to {total_audio_us} µs)",
            output.display()
        );
    }
    let frames = video.frames;
    drop(video);
    drop(audio);
    temp.commit()?;
    let bytes = std::fs::metadata(output).map(|m| m.len()).unwrap_or(0);
    Ok(ConcatStats {
        frames,
        video_duration_us,
        audio_duration_us,
        audio_copied,
        bytes,
    })
}
