//! [`probe`]: what an input is, without decoding it.
//!
//! A video input is opened with FFmpeg's demuxer and its video packets are scanned once
//! (`av_read_frame` with every other stream discarded, no decoding). The scan gives the exact
//! frame count, each frame's presentation timestamp and the keyframes. Display-order frame
//! indexes come from ranking the timestamps: frame *i* is the packet with the *i*-th smallest
//! pts, which is right for B-frames (decode order ≠ display order) without decoding anything.
//!
//! PNG and JPEG files are recognised by their signature and probed as stills
//! ([`MediaKind::Still`]) through the image decoder's header (EXIF orientation applied).
//!
//! A file whose packets cannot all be read (truncated, or fewer packets than its index lists)
//! fails here with [`MediaError::Corrupt`], so a bad input is caught at plan time.

use std::ffi::CStr;
use std::io::Read;
use std::path::Path;

use ffmpeg::ffi;
use ffmpeg::{Rational as FfRational, media};
use ffmpeg_next as ffmpeg;
pub use framejet_spec::probe::{
    AudioInfo, FrameIndex, MediaInfo, MediaKind, Probe, Rational, VideoInfo,
};

use crate::error::MediaError;
use crate::util::{self, MICROS};

/// Probes an input: a video file (any container FFmpeg reads) or a PNG/JPEG still.
///
/// Reads every video packet once (no decoding) to count frames and find keyframes; other
/// streams are skipped by the demuxer. The cost is one read of the file (I/O bound: about a
/// second per GB from a local disk); [`Decoder::open`](crate::Decoder::open) does the same scan
/// for its frame index ([`probe_input`] keeps it for
/// [`Decoder::open_probed`](crate::Decoder::open_probed)). Fails with a [`MediaError`] naming the file when it is missing, empty, not media, has no
/// video stream, or is truncated/corrupt.
pub fn probe(path: impl AsRef<Path>) -> Result<MediaInfo, MediaError> {
    probe_with_index(path.as_ref()).map(|(info, _)| info)
}

/// Like [`probe`], keeping the frame index for decoders opened later on the same file.
pub fn probe_input(path: impl AsRef<Path>) -> Result<Probe, MediaError> {
    let (info, index) = probe_with_index(path.as_ref())?;
    Ok(Probe {
        info,
        index: index.map(std::sync::Arc::new),
    })
}

/// What the first bytes of a file say it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Signature {
    Png,
    Jpeg,
    Other,
}

pub(crate) fn sniff(path: &Path) -> Result<Signature, MediaError> {
    let mut head = [0u8; 8];
    let mut file = std::fs::File::open(path).map_err(|source| MediaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut got = 0;
    while got < head.len() {
        match file.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(source) => {
                return Err(MediaError::Io {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    Ok(if got >= 8 && head == *b"\x89PNG\r\n\x1a\n" {
        Signature::Png
    } else if got >= 3 && head[..3] == [0xFF, 0xD8, 0xFF] {
        Signature::Jpeg
    } else {
        Signature::Other
    })
}

/// Probe plus the frame index the decoder needs (`None` for stills).
pub(crate) fn probe_with_index(path: &Path) -> Result<(MediaInfo, Option<FrameIndex>), MediaError> {
    util::check_input_file(path)?;
    match sniff(path)? {
        Signature::Png | Signature::Jpeg => Ok((probe_still(path)?, None)),
        Signature::Other => probe_video(path).map(|(i, x)| (i, Some(x))),
    }
}

fn probe_still(path: &Path) -> Result<MediaInfo, MediaError> {
    use image::ImageDecoder;
    let reader = image::ImageReader::open(path)
        .and_then(|r| r.with_guessed_format())
        .map_err(|e| MediaError::image(path, format!("cannot read the file: {e}")))?;
    let format = reader.format();
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| MediaError::image(path, format!("not a readable PNG/JPEG image: {e}")))?;
    let (w, h) = decoder.dimensions();
    let color = decoder.color_type();
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    use image::metadata::Orientation as O;
    let swapped = matches!(
        orientation,
        O::Rotate90 | O::Rotate270 | O::Rotate90FlipH | O::Rotate270FlipH
    );
    let (dw, dh) = if swapped { (h, w) } else { (w, h) };
    let (container, codec) = match format {
        Some(image::ImageFormat::Png) => ("png", "png"),
        _ => ("jpeg", "mjpeg"),
    };
    let pixel_format = match color {
        image::ColorType::L8 => "gray",
        image::ColorType::La8 => "ya8",
        image::ColorType::Rgb8 => "rgb24",
        image::ColorType::Rgba8 => "rgba",
        image::ColorType::L16 => "gray16be",
        image::ColorType::La16 => "ya16be",
        image::ColorType::Rgb16 => "rgb48be",
        image::ColorType::Rgba16 => "rgba64be",
        _ => "rgba",
    };
    if w == 0 || h == 0 {
        return Err(MediaError::image(path, "the image has no pixels"));
    }
    Ok(MediaInfo {
        path: path.to_path_buf(),
        kind: MediaKind::Still,
        container: container.to_string(),
        duration_us: 0,
        video: VideoInfo {
            stream_index: 0,
            codec: codec.to_string(),
            pixel_format: pixel_format.to_string(),
            width: w,
            height: h,
            display_width: dw,
            display_height: dh,
            rotation: 0,
            frame_rate: Rational::new(0, 1),
            variable_frame_rate: false,
            time_base: Rational::new(1, 1),
            frame_count: 1,
            duration_us: 0,
            keyframes: vec![0],
            reorder_depth: Some(0),
        },
        audio: None,
    })
}

/// Name of a codec id, from FFmpeg's table.
pub(crate) fn codec_name(id: ffi::AVCodecID) -> String {
    // SAFETY: avcodec_get_name always returns a static NUL-terminated string.
    unsafe {
        CStr::from_ptr(ffi::avcodec_get_name(id))
            .to_string_lossy()
            .into_owned()
    }
}

/// The index of the input's main video stream (not cover art), if any.
pub(crate) fn video_stream_index(input: &ffmpeg::format::context::Input) -> Option<usize> {
    let is_picture = |s: &ffmpeg::format::stream::Stream| {
        s.disposition()
            .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
    };
    if let Some(best) = input.streams().best(media::Type::Video)
        && !is_picture(&best)
    {
        return Some(best.index());
    }
    input
        .streams()
        .find(|s| s.parameters().medium() == media::Type::Video && !is_picture(s))
        .map(|s| s.index())
}

/// Counter-clockwise rotation (0/90/180/270) from a stream's display matrix side data.
fn stream_rotation(stream: &ffmpeg::format::stream::Stream) -> u32 {
    for sd in stream.side_data() {
        if sd.kind() == ffmpeg::codec::packet::side_data::Type::DisplayMatrix
            && sd.data().len() >= 36
        {
            // The matrix is nine native-endian i32 values; copy them out so alignment does
            // not matter.
            let mut m = [0i32; 9];
            for (i, v) in m.iter_mut().enumerate() {
                let b = &sd.data()[i * 4..i * 4 + 4];
                *v = i32::from_ne_bytes([b[0], b[1], b[2], b[3]]);
            }
            // SAFETY: `m` is a 3×3 display matrix as av_display_rotation_get expects.
            let deg = unsafe { ffi::av_display_rotation_get(m.as_ptr()) };
            if !deg.is_finite() {
                return 0;
            }
            let r = (deg.round() as i64).rem_euclid(360);
            return match r {
                r if r % 90 == 0 => r as u32,
                other => {
                    tracing::warn!(
                        "display matrix rotation of {other}° is not a multiple of 90°; ignoring it"
                    );
                    0
                }
            };
        }
    }
    0
}

fn probe_video(path: &Path) -> Result<(MediaInfo, FrameIndex), MediaError> {
    let mut input = util::open_input(path)?;
    // SAFETY: the input is open; `iformat` is set by avformat_open_input and its name is a
    // static string.
    let container = unsafe {
        let f = (*input.as_ptr()).iformat;
        if f.is_null() {
            String::new()
        } else {
            CStr::from_ptr((*f).name).to_string_lossy().into_owned()
        }
    };
    let Some(vi) = video_stream_index(&input) else {
        return Err(MediaError::NoVideo {
            path: path.to_path_buf(),
        });
    };
    let audio_index = input.streams().best(media::Type::Audio).map(|s| s.index());
    let container_duration_us = {
        let d = input.duration();
        if d > 0 { d } else { 0 }
    };

    let (video_stream_meta, audio) = {
        let stream = input.stream(vi).ok_or_else(|| MediaError::NoVideo {
            path: path.to_path_buf(),
        })?;
        let par = stream.parameters();
        // SAFETY: reading plain fields of the stream's codec parameters.
        let (codec_id, width, height, format, video_delay) = unsafe {
            let p = par.as_ptr();
            (
                (*p).codec_id,
                (*p).width,
                (*p).height,
                (*p).format,
                (*p).video_delay,
            )
        };
        let pixel_format = util::pixel_format_name(format);
        if width <= 0 || height <= 0 {
            return Err(MediaError::corrupt(
                path,
                "the video stream has no frame size",
            ));
        }
        let meta = (
            codec_name(codec_id),
            pixel_format,
            width as u32,
            height as u32,
            stream_rotation(&stream),
            util::rational(stream.avg_frame_rate()),
            util::rational(stream.rate()),
            util::rational(stream.time_base()),
            stream.frames(),
            u32::try_from(video_delay).ok(),
        );
        let audio = audio_index
            .and_then(|ai| input.stream(ai))
            .map(|s| audio_info(&s, container_duration_us));
        (meta, audio)
    };
    let (
        codec,
        pixel_format,
        width,
        height,
        rotation,
        avg_rate,
        r_rate,
        time_base,
        listed_frames,
        reorder_depth,
    ) = video_stream_meta;
    if !time_base.is_positive() {
        return Err(MediaError::corrupt(
            path,
            "the video stream has no time base",
        ));
    }

    // Packet scan: video only.
    for mut s in input.streams_mut() {
        if s.index() != vi {
            // SAFETY: setting the discard level on a stream of an open input is how FFmpeg
            // is told to skip its packets.
            unsafe { (*s.as_mut_ptr()).discard = ffi::AVDiscard::AVDISCARD_ALL };
        }
    }
    struct Entry {
        ts: i64,
        key: bool,
        duration: i64,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut packet = ffmpeg::Packet::empty();
    let mut last_ts: Option<i64> = None;
    loop {
        match crate::util::read_packet(&mut packet, &mut input) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            Err(e) => {
                return Err(MediaError::corrupt(
                    path,
                    format!(
                        "cannot read the packet after video frame {} ({e})",
                        entries.len()
                    ),
                ));
            }
        }
        if packet.stream() != vi || packet.size() == 0 {
            continue;
        }
        let flags = packet.flags().bits();
        if flags & ffi::AV_PKT_FLAG_DISCARD != 0 {
            continue;
        }
        if flags & ffi::AV_PKT_FLAG_CORRUPT != 0 {
            return Err(MediaError::corrupt(
                path,
                format!(
                    "video packet {} is incomplete (the file is cut short)",
                    entries.len()
                ),
            ));
        }
        let ts = match packet.pts().or(packet.dts()) {
            Some(t) => t,
            None => last_ts.map_or(0, |t| t.saturating_add(packet.duration().max(1))),
        };
        last_ts = Some(ts);
        entries.push(Entry {
            ts,
            key: packet.is_key(),
            duration: packet.duration(),
        });
    }
    if entries.is_empty() {
        return Err(MediaError::corrupt(path, "the video stream has no frames"));
    }
    if listed_frames > 0 && (entries.len() as i64) < listed_frames {
        return Err(MediaError::corrupt(
            path,
            format!(
                "the container lists {listed_frames} video frames but only {} can be read",
                entries.len()
            ),
        ));
    }

    let mut pts: Vec<i64> = entries.iter().map(|e| e.ts).collect();
    pts.sort_unstable();
    let mut keyframes: Vec<u64> = entries
        .iter()
        .filter(|e| e.key)
        .filter_map(|e| pts.binary_search(&e.ts).ok().map(|i| i as u64))
        .collect();
    keyframes.sort_unstable();
    keyframes.dedup();

    // Frame durations in ticks, from consecutive display-order timestamps.
    let mut deltas: Vec<i64> = pts
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|d| *d > 0)
        .collect();
    deltas.sort_unstable();
    let median = deltas.get(deltas.len() / 2).copied();
    let deltas_vary = match (deltas.first(), deltas.last(), median) {
        (Some(&lo), Some(&hi), Some(m)) => hi.saturating_sub(lo) > 1.max(m / 200),
        _ => false,
    };
    let rates_differ = avg_rate.is_positive()
        && r_rate.is_positive()
        && (avg_rate.as_f64() / r_rate.as_f64() - 1.0).abs() > 0.01;
    let variable_frame_rate = deltas_vary || rates_differ;

    let frame_rate = if !variable_frame_rate
        && r_rate.is_positive()
        && (!avg_rate.is_positive() || (avg_rate.as_f64() / r_rate.as_f64() - 1.0).abs() < 0.01)
    {
        r_rate.reduced()
    } else if avg_rate.is_positive() {
        avg_rate.reduced()
    } else if let Some(m) = median {
        // From the typical frame duration: fps = 1 / (m × time base).
        let num = i64::from(time_base.den);
        let den = m.saturating_mul(i64::from(time_base.num));
        match (i32::try_from(num), i32::try_from(den)) {
            (Ok(n), Ok(d)) if d > 0 => Rational::new(n, d).reduced(),
            _ => Rational::new(25, 1),
        }
    } else {
        tracing::warn!(
            "input `{}`: no frame rate found; assuming 25 fps",
            path.display()
        );
        Rational::new(25, 1)
    };

    let first = pts[0];
    let last = pts[pts.len() - 1];
    let last_duration = entries
        .iter()
        .find(|e| e.ts == last)
        .map(|e| e.duration)
        .filter(|d| *d > 0)
        .or(median)
        .unwrap_or_else(|| {
            util::rescale(
                1,
                FfRational(frame_rate.den, frame_rate.num.max(1)),
                util::ff_rational(time_base),
            )
        });
    let video_duration_us = util::rescale(
        last.saturating_sub(first).saturating_add(last_duration),
        util::ff_rational(time_base),
        MICROS,
    );

    let (display_width, display_height) = if rotation % 180 == 90 {
        (height, width)
    } else {
        (width, height)
    };
    let frame_count = pts.len() as u64;
    let info = MediaInfo {
        path: path.to_path_buf(),
        kind: MediaKind::Video,
        container,
        duration_us: if container_duration_us > 0 {
            container_duration_us
        } else {
            video_duration_us
        },
        video: VideoInfo {
            stream_index: vi,
            codec,
            pixel_format,
            width,
            height,
            display_width,
            display_height,
            rotation,
            frame_rate,
            variable_frame_rate,
            time_base,
            frame_count,
            duration_us: video_duration_us,
            keyframes: keyframes.clone(),
            reorder_depth,
        },
        audio,
    };
    Ok((info, FrameIndex { pts, keyframes }))
}

pub(crate) fn audio_info(
    stream: &ffmpeg::format::stream::Stream,
    container_duration_us: i64,
) -> AudioInfo {
    let par = stream.parameters();
    // SAFETY: reading plain fields of the codec parameters; av_channel_layout_describe writes
    // at most `buf.len()` bytes including the terminating NUL.
    let (codec_id, sample_rate, channels, layout) = unsafe {
        let p = par.as_ptr();
        let mut buf = [0 as std::ffi::c_char; 128];
        let n = ffi::av_channel_layout_describe(&(*p).ch_layout, buf.as_mut_ptr(), buf.len());
        let layout = if n > 0 {
            CStr::from_ptr(buf.as_ptr()).to_string_lossy().into_owned()
        } else {
            String::new()
        };
        (
            (*p).codec_id,
            (*p).sample_rate,
            (*p).ch_layout.nb_channels,
            layout,
        )
    };
    let d = stream.duration();
    let duration_us = if d > 0 {
        util::rescale(d, stream.time_base(), MICROS)
    } else {
        container_duration_us
    };
    AudioInfo {
        stream_index: stream.index(),
        codec: codec_name(codec_id),
        sample_rate: sample_rate.max(0) as u32,
        channels: channels.max(0) as u32,
        channel_layout: layout,
        duration_us,
    }
}
