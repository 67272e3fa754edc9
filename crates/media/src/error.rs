//! The one error type of the media crate.
//!
//! Each variant names the file it is about (an input, an image, a segment or the output) and
//! says what is wrong in words a user can act on. The host maps these once to CLI output and
//! once to HTTP problem documents; it never needs to look inside FFmpeg error codes.

use std::path::{Path, PathBuf};

/// What went wrong, and with which file.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The input path does not exist.
    #[error("input `{}`: file not found", .path.display())]
    NotFound {
        /// The input as given.
        path: PathBuf,
    },

    /// The input exists but could not be read (permissions, a directory, I/O error).
    #[error("input `{}`: cannot read the file: {source}", .path.display())]
    Io {
        /// The input as given.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },

    /// The input is an empty file.
    #[error("input `{}`: the file is empty", .path.display())]
    Empty {
        /// The input as given.
        path: PathBuf,
    },

    /// FFmpeg does not recognise the file as media at all.
    #[error("input `{}`: not a video, audio or image file that FFmpeg can read ({reason})", .path.display())]
    NotMedia {
        /// The input as given.
        path: PathBuf,
        /// FFmpeg's explanation.
        reason: String,
    },

    /// The input is media but has no video stream (audio-only files, for example).
    #[error("input `{}`: no video stream", .path.display())]
    NoVideo {
        /// The input as given.
        path: PathBuf,
    },

    /// The input uses something this build cannot handle (a codec with no decoder, …).
    #[error("input `{}`: unsupported: {reason}", .path.display())]
    Unsupported {
        /// The input as given.
        path: PathBuf,
        /// What is not supported.
        reason: String,
    },

    /// The input is damaged: truncated, or packets/frames that cannot be read or decoded.
    #[error("input `{}`: corrupt or truncated: {reason}", .path.display())]
    Corrupt {
        /// The input as given.
        path: PathBuf,
        /// Where and how it is damaged.
        reason: String,
    },

    /// A still image (or an overlay asset) could not be read or decoded.
    #[error("image `{}`: {reason}", .path.display())]
    Image {
        /// The image as given (or the asset name, for images decoded from bytes).
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A segment given to [`concat_segments`](crate::concat_segments) cannot be joined.
    #[error("segment `{}`: {reason}", .path.display())]
    Segment {
        /// The segment file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// Writing an output file failed (opening the encoder or muxer, writing, renaming).
    #[error("output `{}`: {reason}", .path.display())]
    Output {
        /// The output file as requested (not its temporary name).
        path: PathBuf,
        /// What failed.
        reason: String,
    },

    /// A caller passed a value this crate cannot work with (odd output size, bad bitrate text,
    /// a frame beyond the end of the input, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// The caller asked a long operation to stop (see [`encode_audio`](crate::encode_audio)).
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> Self {
        MediaError::Corrupt {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn output(path: &Path, reason: impl Into<String>) -> Self {
        MediaError::Output {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn segment(path: &Path, reason: impl Into<String>) -> Self {
        MediaError::Segment {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn image(path: &Path, reason: impl Into<String>) -> Self {
        MediaError::Image {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(path: &Path, reason: impl Into<String>) -> Self {
        MediaError::Unsupported {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }
}
