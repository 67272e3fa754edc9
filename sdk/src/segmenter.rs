//! The `segmenter` world: cut a video into frame ranges that workers encode
//! independently.
//!
//! Implement [`Segmenter`] on a type and export it with [`export_segmenter!`](crate::export_segmenter).

use core::marker::PhantomData;

use crate::bindings::segmenter as world;
use crate::{MediaInfo, PluginError};

pub use world::Segment;

/// A plugin implementing the `segmenter` world.
///
/// ```
/// use framejet_sdk::prelude::*;
///
/// /// One segment for the whole video.
/// struct Whole;
///
/// impl Segmenter for Whole {
///     fn plan(info: &MediaInfo, _params: &str) -> Result<Vec<Segment>, PluginError> {
///         Ok(vec![Segment { start: 0, end: info.frame_count }])
///     }
/// }
///
/// framejet_sdk::export_segmenter!(Whole);
/// ```
pub trait Segmenter {
    /// Plans the segments of one video. `params` is the segment step's params
    /// as JSON text.
    ///
    /// The segments must cover every frame exactly once, in order, and each
    /// must start on one of `info.keyframes`.
    fn plan(info: &MediaInfo, params: &str) -> Result<Vec<Segment>, PluginError>;
}

impl Segment {
    /// The number of frames in the segment.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the segment holds no frame.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Adapts a [`Segmenter`] to the generated bindings. Used by [`export_segmenter!`](crate::export_segmenter).
#[doc(hidden)]
pub struct SegmenterExport<T>(PhantomData<T>);

impl<T: Segmenter> world::Guest for SegmenterExport<T> {
    fn plan(info: MediaInfo, params: String) -> Result<Vec<Segment>, PluginError> {
        T::plan(&info, &params)
    }
}

/// Exports a [`Segmenter`] implementation as this component's `segmenter` world.
///
/// Use it once, in the plugin crate: `framejet_sdk::export_segmenter!(MySegmenter);`
#[macro_export]
macro_rules! export_segmenter {
    ($ty:ty) => {
        const _: () = {
            type FramejetSegmenterExport = $crate::__private::SegmenterExport<$ty>;
            $crate::__private::segmenter::export_segmenter_world!(
                FramejetSegmenterExport with_types_in $crate::__private::segmenter
            );
        };
    };
}
