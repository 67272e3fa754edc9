//! The `frame-filter` world: change a frame's pixels directly.
//!
//! Implement [`FrameFilter`] on a type and export it with
//! [`export_frame_filter!`](crate::export_frame_filter). Every frame crosses the sandbox twice (in and
//! out), so prefer an [`Overlay`](crate::Overlay) when draw ops can say it.

use core::cell::RefCell;
use core::marker::PhantomData;

use crate::bindings::frame_filter::exports::framejet::plugin::filters as world;
use crate::{MediaInfo, PluginError};

pub use world::{Frame, PixelFormat, Plane};

/// A plugin implementing the `frame-filter` world.
///
/// ```
/// use framejet_sdk::prelude::*;
///
/// /// Makes every frame black and white by setting chroma to neutral.
/// struct Grey;
///
/// impl FrameFilter for Grey {
///     fn create(_info: &MediaInfo, _params: &str) -> Result<Self, PluginError> {
///         Ok(Grey)
///     }
///
///     fn apply(&mut self, _index: u64, _pts_us: i64, mut frame: Frame) -> Result<Frame, PluginError> {
///         for plane in frame.planes.iter_mut().skip(1) {
///             plane.data.fill(128);
///         }
///         Ok(frame)
///     }
/// }
///
/// framejet_sdk::export_frame_filter!(Grey);
/// ```
pub trait FrameFilter: Sized + 'static {
    /// Builds the filter from the video and the step's params (JSON text).
    fn create(info: &MediaInfo, params: &str) -> Result<Self, PluginError>;

    /// Returns the new frame for frame `index` shown at `pts_us`. The result
    /// must keep the input's width, height and format; changing `frame` in
    /// place and returning it is the cheapest way.
    fn apply(&mut self, index: u64, pts_us: i64, frame: Frame) -> Result<Frame, PluginError>;
}

/// Adapts a [`FrameFilter`] to the generated bindings. Used by
/// [`export_frame_filter!`](crate::export_frame_filter).
#[doc(hidden)]
pub struct FrameFilterExport<T>(PhantomData<T>);

impl<T: FrameFilter> world::Guest for FrameFilterExport<T> {
    type Filter = FilterResource<T>;
}

/// The resource the host holds: one [`FrameFilter`] behind a `RefCell`, so
/// that [`FrameFilter::apply`] can take `&mut self`.
#[doc(hidden)]
pub struct FilterResource<T>(RefCell<T>);

impl<T: FrameFilter> world::GuestFilter for FilterResource<T> {
    fn create(info: MediaInfo, params: String) -> Result<world::Filter, PluginError> {
        let filter = T::create(&info, &params)?;
        Ok(world::Filter::new(FilterResource(RefCell::new(filter))))
    }

    fn apply(&self, index: u64, pts_us: i64, frame: Frame) -> Result<Frame, PluginError> {
        self.0.borrow_mut().apply(index, pts_us, frame)
    }
}

/// Exports a [`FrameFilter`] implementation as this component's `frame-filter`
/// world.
///
/// Use it once, in the plugin crate: `framejet_sdk::export_frame_filter!(MyFilter);`
#[macro_export]
macro_rules! export_frame_filter {
    ($ty:ty) => {
        const _: () = {
            type FramejetFrameFilterExport = $crate::__private::FrameFilterExport<$ty>;
            $crate::__private::frame_filter::export_frame_filter_world!(
                FramejetFrameFilterExport with_types_in $crate::__private::frame_filter
            );
        };
    };
}
