//! The crate's one error type: everything that can go wrong between a job's `inpaint` step and
//! the pixels, worded so that the person who wrote the job can fix it.

use std::path::PathBuf;

use crate::mask::Rect;

/// Why a mask, a logo, a frame or a detection was refused.
///
/// Mask and logo errors are raised when the [`Mask`](crate::Mask) or
/// [`LogoModel`](crate::LogoModel) is built, before any frame is processed.
#[derive(Debug, thiserror::Error)]
pub enum InpaintError {
    /// The mask covers no pixel (a rectangle of zero width or height, or an all-black PNG).
    #[error(
        "the mask covers no pixel: give a rectangle with a width and height, or a PNG with white (or opaque) pixels where the mark is"
    )]
    EmptyMask,

    /// The rectangle does not overlap the frame at all.
    #[error("mask rectangle [{}, {}, {}, {}] lies outside the {width}x{height} frame", rect.x, rect.y, rect.width, rect.height)]
    RectOutsideFrame {
        /// The rectangle as given.
        rect: Rect,
        /// Frame width in pixels.
        width: usize,
        /// Frame height in pixels.
        height: usize,
    },

    /// The mask covers more of the frame than inpainting can sensibly restore.
    #[error("the mask covers {masked} of {total} pixels ({:.0}%), more than the {:.0}% limit: mark only the watermark", 100.0 * *masked as f64 / *total as f64, 100.0 * crate::Mask::MAX_FRACTION)]
    MaskTooLarge {
        /// Masked pixels.
        masked: usize,
        /// Pixels in the frame.
        total: usize,
    },

    /// A mask PNG whose size differs from the video's.
    #[error(
        "mask PNG is {png_width}x{png_height} but the video is {frame_width}x{frame_height}: the mask must have the frame's size"
    )]
    MaskSizeMismatch {
        /// Width of the PNG.
        png_width: usize,
        /// Height of the PNG.
        png_height: usize,
        /// Width of the video frames.
        frame_width: usize,
        /// Height of the video frames.
        frame_height: usize,
    },

    /// A mask or logo was built for frames of another size than the ones being processed.
    #[error(
        "{what} is for {expected_width}x{expected_height} frames but the video is {width}x{height}"
    )]
    SizeMismatch {
        /// What does not fit ("the mask", "the logo", "frame 12").
        what: String,
        /// Size it was built for.
        expected_width: usize,
        /// Size it was built for.
        expected_height: usize,
        /// Size of the video.
        width: usize,
        /// Size of the video.
        height: usize,
    },

    /// A PNG (mask or logo) could not be read or written.
    #[error("PNG {}: {source}", path.as_ref().map_or("(in memory)".to_string(), |p| format!("`{}`", p.display())))]
    Png {
        /// The file, when it came from one.
        path: Option<PathBuf>,
        /// What the PNG decoder or encoder said.
        #[source]
        source: image::ImageError,
    },

    /// A logo image that does not lie on the frame where it is placed.
    #[error(
        "logo of {logo_width}x{logo_height} at ({x}, {y}) lies outside the {width}x{height} frame"
    )]
    LogoOutsideFrame {
        /// Logo width.
        logo_width: usize,
        /// Logo height.
        logo_height: usize,
        /// Where its top-left corner is placed.
        x: i64,
        /// Where its top-left corner is placed.
        y: i64,
        /// Frame width.
        width: usize,
        /// Frame height.
        height: usize,
    },

    /// A logo image with no visible pixel (alpha 0 everywhere).
    #[error("the logo image is fully transparent: nothing to remove")]
    TransparentLogo,

    /// Pixel data shorter than its declared size and stride.
    #[error("{what}: {len} bytes cannot hold {width}x{height} pixels with stride {stride}")]
    BadPlane {
        /// Which buffer.
        what: &'static str,
        /// Bytes given.
        len: usize,
        /// Declared width.
        width: usize,
        /// Declared height.
        height: usize,
        /// Declared stride.
        stride: usize,
    },

    /// Mark detection was given too few frames.
    #[error("mark detection needs at least {need} frames, got {got}: sample more of the video")]
    TooFewFrames {
        /// Frames given.
        got: usize,
        /// Frames needed.
        need: usize,
    },

    /// The sampled frames barely change, so a static mark cannot be told from the picture.
    #[error(
        "the sampled frames barely change (median temporal deviation {median_deviation:.2} levels): a still video hides its watermark; give the mask as a rectangle or PNG"
    )]
    StaticVideo {
        /// Median over the frame of each pixel's temporal standard deviation.
        median_deviation: f32,
    },

    /// Detection found nothing that stays constant while the picture changes.
    #[error(
        "no watermark found: nothing stays constant while the picture changes; give the mask as a rectangle or PNG"
    )]
    NoMarkFound,

    /// A frame pushed after [`Inpainter::finish`](crate::Inpainter::finish).
    #[error("the inpainter was already finished")]
    Finished,

    /// A mask or mark model carried by a plan that does not fit its frame.
    #[error("the plan's {what} is malformed: {reason}")]
    Carried {
        /// Which of the two.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}
