//! framejet's media engine: everything that touches pixels or packets, over the system FFmpeg
//! libraries (through `ffmpeg-next`).
//!
//! The host's job module drives transport-free functions; this crate gives each of them its
//! tools and knows nothing about plugins, jobs or queues:
//!
//! - **plan** probes the inputs: [`probe()`] returns a [`MediaInfo`] (sizes, rotation, frame rate,
//!   frame count and keyframe indexes from a packet scan, audio); [`probe_input`] keeps the
//!   frame index too, for [`Decoder::open_probed`].
//! - **run_segment** decodes a frame range ([`Decoder::seek_to_frame`], then iterate), fits each
//!   frame to the output size ([`Fitter`]), draws on it ([`blend`], [`fill_rect`] with a
//!   [`YuvaImage`]) and encodes it ([`Encoder`]) as one closed-GOP segment file. Encoder
//!   settings are checked against this FFmpeg build up front ([`check_encoder`]), with one
//!   preset vocabulary for every encoder ([`PRESETS`], [`preset_option`]). Stills come
//!   from a [`StillSource`].
//! - **encode_audio** builds the audio track beside the segments ([`encode_audio`]).
//! - **finalize** joins the segments without re-encoding and adds the audio
//!   ([`concat_segments`]).
//!
//! Frames stay yuv420p ([`VideoFrame`]) from decoder to encoder: no RGBA round trip. Overlays
//! are converted to YUV once and blended on the planes with integer arithmetic.
//!
//! # Colour
//! Frames are 8-bit yuv420p, limited range. Which RGB↔YUV matrix a frame uses is decided by its
//! height, as players do for untagged video: BT.709 from 720 lines up, BT.601 below
//! ([`ColorMatrix::for_height`]). The encoder tags its output accordingly, and the colours this
//! crate converts (pad colours, overlays, stills) use the same rule, so what is drawn is what is
//! seen. Sources are not converted between matrices (an SD BT.601 source fitted into an HD
//! output keeps its coefficients); full-range sources are converted to limited range on decode.
//!
//! # Errors
//! Every fallible function returns [`MediaError`], whose messages name the file and say what is
//! wrong (`` input `ep1.m4a`: no video stream ``). Nothing reachable from file contents panics.
//!
//! # FFmpeg logging
//! FFmpeg's own log (warnings and errors) never reaches stderr raw: the first time this crate
//! touches FFmpeg it routes every line to the handler set with [`set_ffmpeg_log_handler`] (a
//! job log), else to `tracing` at debug level under the `ffmpeg` target. An encoder's own
//! refusal is quoted in the error that opening it returns.

mod audio;
mod color;
mod composite;
mod concat;
mod decode;
mod encode;
mod encoders;
mod error;
mod ffmpeg_log;
mod fit;
mod frame;
mod output;
mod probe;
mod util;

pub use color::ColorMatrix;
pub use composite::{RgbaImage, YuvaImage, blend, decode_image, fill_rect, load_image};
pub use concat::{
    AudioSource, AudioTrackStats, ConcatOptions, ConcatStats, Metadata, can_copy_audio,
    concat_segments, encode_audio, parse_bitrate,
};
pub use decode::{Decoder, HwDecode, StillSource};
pub use encode::{
    Container, EncodeStats, Encoder, EncoderSettings, HwAccel, RateControl, nvenc_opens,
};
pub use encoders::{EncoderCheckError, PRESETS, check_encoder, preset_option, video_encoders};
pub use error::MediaError;
pub use ffmpeg_log::{FfmpegLogHandler, FfmpegLogLine, set_ffmpeg_log_handler};
pub use fit::{FitGeometry, FitMode, Fitter};
pub use frame::{FramePool, VideoFrame};
pub use probe::{AudioInfo, MediaInfo, MediaKind, Probe, Rational, VideoInfo, probe, probe_input};
