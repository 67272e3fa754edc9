//! Small shared pieces over FFmpeg: one-time initialisation, opening inputs with clear errors,
//! option dictionaries that cannot panic, timestamp arithmetic and a `Send` swscale handle.

use std::ffi::CString;
use std::path::Path;
use std::ptr;
use std::sync::Once;

use ffmpeg::ffi;
use ffmpeg::{Dictionary, Rational as FfRational};
use ffmpeg_next as ffmpeg;

use crate::error::MediaError;

/// Initialises FFmpeg once per process and routes its log (warnings and errors) through
/// [`crate::ffmpeg_log`].
pub(crate) fn ensure_init() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        // `init` only registers devices/network on FFmpeg 5; failure there does not affect
        // file-based work, so it is logged rather than propagated.
        if let Err(e) = ffmpeg::init() {
            tracing::warn!("FFmpeg initialisation reported: {e}");
        }
        crate::ffmpeg_log::install();
    });
}

/// The path as a C string for FFmpeg, or a clear error for paths FFmpeg cannot take.
pub(crate) fn c_path(path: &Path) -> Result<CString, MediaError> {
    let text = path.to_str().ok_or_else(|| {
        MediaError::InvalidArgument(format!("path `{}` is not valid UTF-8", path.display()))
    })?;
    CString::new(text).map_err(|_| {
        MediaError::InvalidArgument(format!("path `{}` contains a NUL byte", path.display()))
    })
}

/// Checks that an input exists, is a readable non-empty file.
pub(crate) fn check_input_file(path: &Path) -> Result<(), MediaError> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MediaError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Err(source) => {
            return Err(MediaError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    if meta.is_dir() {
        return Err(MediaError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("it is a directory"),
        });
    }
    if meta.len() == 0 {
        return Err(MediaError::Empty {
            path: path.to_path_buf(),
        });
    }
    // Opening proves readability (permissions) with an OS error message.
    std::fs::File::open(path).map_err(|source| MediaError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(())
}

/// The FFmpeg URL for a local path: `file:` in front, so a name such as `concat:a|b` or
/// `http:x` is always read as a plain file, never as another protocol.
pub(crate) fn file_url(path: &Path) -> Result<CString, MediaError> {
    let text = c_path(path)?;
    let mut bytes = b"file:".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    CString::new(bytes).map_err(|_| {
        MediaError::InvalidArgument(format!("path `{}` contains a NUL byte", path.display()))
    })
}

/// Opens a media input: file checks, then the demuxer and its stream analysis.
///
/// Only the `file` protocol is allowed, also for anything the file refers to (playlists,
/// external references), so an input can never make the worker open network URLs.
pub(crate) fn open_input(path: &Path) -> Result<ffmpeg::format::context::Input, MediaError> {
    open_input_with(path, Analysis::Full)
}

/// [`open_input`] for reading the packets of a file whose streams were analysed before (a
/// segment the join opened once with the analysis, an input the probe read): the stream
/// analysis, which decodes the first frames of each stream (about 80 ms at 1080p), runs only
/// when the container's header leaves a video stream's codec or size unknown. What else the
/// analysis finds where the header does not say, the caller takes from the earlier open: how
/// far the stream reorders frames (a decoder's, carried in the probe's `reorder_depth`), and
/// its pixel format (a muxer copying the stream's parameters).
pub(crate) fn open_input_for_packets(
    path: &Path,
) -> Result<ffmpeg::format::context::Input, MediaError> {
    open_input_with(path, Analysis::WhenHeaderIsIncomplete)
}

/// Whether opening an input runs FFmpeg's stream analysis.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Analysis {
    Full,
    WhenHeaderIsIncomplete,
}

fn open_input_with(
    path: &Path,
    analysis: Analysis,
) -> Result<ffmpeg::format::context::Input, MediaError> {
    ensure_init();
    check_input_file(path)?;
    let c = file_url(path)?;
    let mut options = Dictionary::new();
    options.set("protocol_whitelist", "file");
    // SAFETY: ownership of the dictionary passes to FFmpeg here and comes back below.
    let mut opts = unsafe { options.disown() };
    let mut ps: *mut ffi::AVFormatContext = ptr::null_mut();
    // SAFETY: `ps` is a valid out-pointer; a null format lets FFmpeg probe. On failure FFmpeg
    // frees the context itself and leaves `ps` null. `opts` is a valid (owned) dictionary.
    let r = unsafe { ffi::avformat_open_input(&mut ps, c.as_ptr(), ptr::null(), &mut opts) };
    // SAFETY: `opts` now holds the options FFmpeg did not use (or null); we free them.
    drop(unsafe { Dictionary::own(opts) });
    if r < 0 || ps.is_null() {
        return Err(MediaError::NotMedia {
            path: path.to_path_buf(),
            reason: av_err(r),
        });
    }
    // SAFETY: `ps` is an opened input context; ownership moves into `Input`, which closes it.
    let mut input = unsafe { ffmpeg::format::context::Input::wrap(ps) };
    if analysis == Analysis::WhenHeaderIsIncomplete && header_describes_video(&input) {
        return Ok(input);
    }
    // SAFETY: the context is open; null options are allowed.
    let r = unsafe { ffi::avformat_find_stream_info(input.as_mut_ptr(), ptr::null_mut()) };
    if r < 0 {
        return Err(MediaError::corrupt(
            path,
            format!("cannot read the stream layout ({})", av_err(r)),
        ));
    }
    Ok(input)
}

/// Whether an input just opened lists its streams in its header (not a stream format such as
/// MPEG-TS, whose streams appear as packets are read) and gives each video stream's codec and
/// size: what copying its packets needs.
fn header_describes_video(input: &ffmpeg::format::context::Input) -> bool {
    // SAFETY: reading the flags of an open format context.
    let no_header = unsafe { (*input.as_ptr()).ctx_flags } & ffi::AVFMTCTX_NOHEADER != 0;
    let mut videos = input
        .streams()
        .filter(|s| s.parameters().medium() == ffmpeg::media::Type::Video)
        .peekable();
    if no_header || videos.peek().is_none() {
        return false;
    }
    videos.all(|s| {
        // SAFETY: reading plain fields of the stream's codec parameters.
        let (codec, w, h) = unsafe {
            let p = s.parameters().as_ptr();
            ((*p).codec_id, (*p).width, (*p).height)
        };
        codec != ffi::AVCodecID::AV_CODEC_ID_NONE && w > 0 && h > 0
    })
}

/// FFmpeg's text for an error code.
pub(crate) fn av_err(code: i32) -> String {
    ffmpeg::Error::from(code).to_string()
}

/// Sets a dictionary entry, rejecting text FFmpeg cannot take (NUL bytes) instead of panicking.
pub(crate) fn dict_set(dict: &mut Dictionary, key: &str, value: &str) -> Result<(), MediaError> {
    if key.contains('\0') || value.contains('\0') {
        return Err(MediaError::InvalidArgument(format!(
            "option `{}` contains a NUL byte",
            key.replace('\0', "\\0")
        )));
    }
    dict.set(key, value);
    Ok(())
}

/// Rescales `ts` from one time base to another, rounding to nearest.
pub(crate) fn rescale(ts: i64, from: FfRational, to: FfRational) -> i64 {
    if from.denominator() == 0 || to.denominator() == 0 || to.numerator() == 0 {
        return 0;
    }
    // SAFETY: pure arithmetic on plain values.
    unsafe { ffi::av_rescale_q(ts, from.into(), to.into()) }
}

/// Microseconds, FFmpeg's `AV_TIME_BASE_Q`.
pub(crate) const MICROS: FfRational = FfRational(1, 1_000_000);

/// FFmpeg's form of a [`Rational`](crate::Rational).
pub(crate) fn ff_rational(r: crate::Rational) -> FfRational {
    FfRational(r.num, r.den)
}

/// A [`Rational`](crate::Rational) from FFmpeg's form.
pub(crate) fn rational(r: FfRational) -> crate::Rational {
    crate::Rational::new(r.numerator(), r.denominator())
}

/// An owned swscale context. swscale contexts are not tied to a thread, so moving one between
/// threads is sound; it is not shared (`!Sync`), which is what swscale requires.
pub(crate) struct Scaler {
    ptr: *mut ffi::SwsContext,
}

// SAFETY: see the type's documentation; the context is only ever used through `&mut self`.
unsafe impl Send for Scaler {}

/// One side of a swscale call: pixel format, size and colour range.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ScaleSide {
    pub format: ffi::AVPixelFormat,
    pub width: u32,
    pub height: u32,
    pub full_range: bool,
}

impl Scaler {
    /// Builds a bicubic scaler between two sides. Returns `None` if swscale refuses the
    /// combination (unsupported format, zero size).
    pub(crate) fn new(src: ScaleSide, dst: ScaleSide) -> Option<Scaler> {
        let (sw, sh, dw, dh) = (
            i32::try_from(src.width).ok()?,
            i32::try_from(src.height).ok()?,
            i32::try_from(dst.width).ok()?,
            i32::try_from(dst.height).ok()?,
        );
        if sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 {
            return None;
        }
        // SAFETY: plain constructor call; null filters/params select defaults.
        let ptr = unsafe {
            ffi::sws_getContext(
                sw,
                sh,
                src.format,
                dw,
                dh,
                dst.format,
                ffi::SWS_BICUBIC,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null(),
            )
        };
        if ptr.is_null() {
            return None;
        }
        if src.full_range || dst.full_range {
            // SAFETY: `ptr` is a live context; the coefficient tables are static in swscale.
            unsafe {
                let table = ffi::sws_getCoefficients(ffi::SWS_CS_DEFAULT);
                ffi::sws_setColorspaceDetails(
                    ptr,
                    table,
                    i32::from(src.full_range),
                    table,
                    i32::from(dst.full_range),
                    0,
                    1 << 16,
                    1 << 16,
                );
            }
        }
        Some(Scaler { ptr })
    }

    /// Scales one picture. The caller guarantees that the pointers and strides describe
    /// planes of the sizes and formats this scaler was built for.
    ///
    /// # Safety
    /// `src`/`dst` must point to readable/writable planes large enough for the configured
    /// sizes with the given strides.
    pub(crate) unsafe fn run(
        &mut self,
        src: &[*const u8; 4],
        src_stride: &[i32; 4],
        src_height: u32,
        dst: &[*mut u8; 4],
        dst_stride: &[i32; 4],
    ) -> i32 {
        // SAFETY: forwarded contract of this function.
        unsafe {
            ffi::sws_scale(
                self.ptr,
                src.as_ptr(),
                src_stride.as_ptr(),
                0,
                src_height as i32,
                dst.as_ptr(),
                dst_stride.as_ptr(),
            )
        }
    }
}

impl Drop for Scaler {
    fn drop(&mut self) {
        // SAFETY: the context was created by sws_getContext and is freed once.
        unsafe { ffi::sws_freeContext(self.ptr) }
    }
}

/// A pixel format from its C integer, or `None` when out of FFmpeg's range (never transmutes
/// an invalid value into the enum).
pub(crate) fn pixel_format_from_raw(v: i32) -> Option<ffi::AVPixelFormat> {
    if (0..ffi::AVPixelFormat::AV_PIX_FMT_NB as i32).contains(&v) {
        // SAFETY: the enum's values are contiguous from -1 to AV_PIX_FMT_NB (checked range).
        Some(unsafe { std::mem::transmute::<i32, ffi::AVPixelFormat>(v) })
    } else {
        None
    }
}

/// A sample format from its C integer, or `None` when out of range.
pub(crate) fn sample_format_from_raw(v: i32) -> Option<ffi::AVSampleFormat> {
    if (0..ffi::AVSampleFormat::AV_SAMPLE_FMT_NB as i32).contains(&v) {
        // SAFETY: the enum's values are contiguous from -1 to AV_SAMPLE_FMT_NB (checked range).
        Some(unsafe { std::mem::transmute::<i32, ffi::AVSampleFormat>(v) })
    } else {
        None
    }
}

/// FFmpeg's name for a pixel format.
pub(crate) fn pixel_format_name(v: i32) -> String {
    match pixel_format_from_raw(v) {
        // SAFETY: av_get_pix_fmt_name returns a static string or null.
        Some(f) => unsafe {
            let n = ffi::av_get_pix_fmt_name(f);
            if n.is_null() {
                "unknown".into()
            } else {
                std::ffi::CStr::from_ptr(n).to_string_lossy().into_owned()
            }
        },
        None => "unknown".into(),
    }
}

/// Reads the next packet of `input` into `packet`, releasing what `packet`
/// held first: ffmpeg-next's `Packet::read` does not, so a packet reused
/// across reads would keep every packet of the file allocated.
pub(crate) fn read_packet(
    packet: &mut ffmpeg_next::Packet,
    input: &mut ffmpeg_next::format::context::Input,
) -> Result<(), ffmpeg_next::Error> {
    // SAFETY: the packet is valid; unreferencing leaves it empty and reusable.
    use ffmpeg_next::packet::Mut;
    unsafe { ffmpeg_next::ffi::av_packet_unref(packet.as_mut_ptr()) };
    packet.read(input)
}
