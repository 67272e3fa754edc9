//! What an input is, as data: the findings of framejet's probe (the media
//! engine scans each input once at plan time) and the frame index a decoder
//! opens a file with. They travel in the plan, so a machine that runs a
//! segment need not scan its input again.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// A rational number (frame rates, time bases), as FFmpeg keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rational {
    /// Numerator.
    pub num: i32,
    /// Denominator.
    pub den: i32,
}

impl Rational {
    /// `num / den`.
    pub const fn new(num: i32, den: i32) -> Rational {
        Rational { num, den }
    }

    /// The value as a float (0 when the denominator is 0).
    pub fn as_f64(self) -> f64 {
        if self.den == 0 {
            0.0
        } else {
            f64::from(self.num) / f64::from(self.den)
        }
    }

    /// Whether both parts are positive (a usable frame rate or time base).
    pub fn is_positive(self) -> bool {
        self.num > 0 && self.den > 0
    }

    /// Start time in µs of frame `index` at this frame rate (rounded to nearest).
    pub fn frame_time_us(self, index: u64) -> i64 {
        if !self.is_positive() {
            return 0;
        }
        let t = i128::from(index) * 1_000_000 * i128::from(self.den);
        let n = i128::from(self.num);
        i64::try_from((t + n / 2) / n).unwrap_or(i64::MAX)
    }

    /// The same number in lowest terms, with a positive denominator
    /// (`0/0` stays as it is).
    pub fn reduced(self) -> Rational {
        if self.den == 0 {
            return self;
        }
        let (mut a, mut b) = (self.num.unsigned_abs(), self.den.unsigned_abs());
        while b != 0 {
            (a, b) = (b, a % b);
        }
        let sign = if self.den < 0 { -1 } else { 1 };
        let g = a.max(1) as i64;
        Rational {
            num: (sign * i64::from(self.num) / g) as i32,
            den: (sign * i64::from(self.den) / g) as i32,
        }
    }
}

impl std::fmt::Display for Rational {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.num, self.den)
    }
}

/// Whether an input is a video or a still image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    /// A video file (it may also have audio).
    Video,
    /// A PNG or JPEG image, shown for a time the job decides.
    Still,
}

/// What the probe found out about an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// The input as given.
    pub path: PathBuf,
    /// Video or still.
    pub kind: MediaKind,
    /// The container as FFmpeg's demuxer names it (`"mov,mp4,m4a,3gp,3g2,mj2"`,
    /// `"matroska,webm"`, …), or `"png"` / `"jpeg"` for stills.
    pub container: String,
    /// Overall duration in µs (the container's, else the video's); 0 for stills.
    pub duration_us: i64,
    /// The video stream (for a still: the image).
    pub video: VideoInfo,
    /// The first audio stream, if any.
    pub audio: Option<AudioInfo>,
}

/// The video stream of an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// Index of the stream in the container.
    pub stream_index: usize,
    /// Codec name (`"h264"`, `"hevc"`, `"png"`, …).
    pub codec: String,
    /// Pixel format as coded (`"yuv420p"`, `"yuv420p10le"`, `"rgba"`, …). Decoded frames are
    /// always converted to yuv420p.
    pub pixel_format: String,
    /// Coded width.
    pub width: u32,
    /// Coded height.
    pub height: u32,
    /// Width after rotation: the width of the frames the decoder yields.
    pub display_width: u32,
    /// Height after rotation: the height of the frames the decoder yields.
    pub display_height: u32,
    /// Counter-clockwise rotation in degrees (0, 90, 180 or 270) that the container's display
    /// matrix asks for (FFmpeg's `rotation`); the decoder applies it so frames come out upright.
    pub rotation: u32,
    /// Frame rate: the stream's average rate (or `r_frame_rate` when that is the same rate
    /// written more exactly). `0/1` for stills.
    pub frame_rate: Rational,
    /// True when the frame durations vary (more than one time-base tick or 0.5 %), or when
    /// the stream's nominal and average rates differ by more than 1 %. The encoder's output
    /// is constant rate whatever the input.
    pub variable_frame_rate: bool,
    /// Time base of the stream's timestamps.
    pub time_base: Rational,
    /// Number of frames, counted from the packets (1 for stills).
    pub frame_count: u64,
    /// Duration of the video in µs, from the first frame's start to the last frame's end.
    pub duration_us: i64,
    /// Display-order indexes of the keyframes, ascending (`[0]` for stills).
    pub keyframes: Vec<u64>,
    /// Frames a decoder holds back to put the stream in display order (FFmpeg's
    /// `video_delay`), as FFmpeg's stream analysis found it: decoders opened later take it
    /// from here and skip the analysis, which decodes frames. `None` in a probe recorded
    /// without it: decoders then run the analysis.
    #[serde(default)]
    pub reorder_depth: Option<u32>,
}

/// The audio stream of an input.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    /// Index of the stream in the container.
    pub stream_index: usize,
    /// Codec name (`"aac"`, `"opus"`, …).
    pub codec: String,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u32,
    /// Channel layout as FFmpeg describes it (`"stereo"`, `"mono"`, `"5.1"`, …).
    pub channel_layout: String,
    /// Duration in µs (the stream's, else the container's).
    pub duration_us: i64,
}

/// Presentation timestamps of every video frame in display order, from the packet scan.
/// Frame `i` has `pts[i]`; the decoder maps decoded timestamps back to indexes with it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FrameIndex {
    /// Sorted presentation timestamps, in the stream time base.
    pub pts: Vec<i64>,
    /// Sorted display-order indexes of keyframes.
    pub keyframes: Vec<u64>,
}

impl FrameIndex {
    /// The display-order index of the frame with this exact pts.
    pub fn index_of(&self, pts: i64) -> Option<u64> {
        self.pts.binary_search(&pts).ok().map(|i| i as u64)
    }

    /// The last keyframe at or before frame `n`, if any.
    pub fn keyframe_at_or_before(&self, n: u64) -> Option<u64> {
        let i = self.keyframes.partition_point(|&k| k <= n);
        if i == 0 {
            None
        } else {
            Some(self.keyframes[i - 1])
        }
    }
}

/// What a probe found: the [`MediaInfo`], plus (for videos) the frame index
/// a decoder needs, so that opening one on the same file again skips the
/// packet scan. Clones share the index.
///
/// A probe serializes with its index, so a decoder on another machine
/// opens the same file, copied there, without scanning it again.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Probe {
    pub info: MediaInfo,
    /// The frame index (videos only), shared by clones.
    pub index: Option<Arc<FrameIndex>>,
}

#[cfg(test)]
mod tests {
    use super::Rational;

    #[test]
    fn rationals_reduce_to_lowest_terms() {
        assert_eq!(
            Rational::new(60000, 2002).reduced(),
            Rational::new(30000, 1001)
        );
        assert_eq!(Rational::new(-50, -2).reduced(), Rational::new(25, 1));
        assert_eq!(Rational::new(3, -6).reduced(), Rational::new(-1, 2));
        assert_eq!(Rational::new(0, 5).reduced(), Rational::new(0, 1));
        assert_eq!(Rational::new(7, 0).reduced(), Rational::new(7, 0));
    }
}
