//! The `overlay` world: say what to draw on each frame.
//!
//! Implement [`Overlay`] on a type and export it with [`export_overlay!`](crate::export_overlay). The
//! host builds one value per video (and segment) with [`Overlay::create`], then
//! asks it for each frame's [`DrawOp`]s.

use core::cell::RefCell;
use core::marker::PhantomData;

use crate::bindings::overlay::exports::framejet::plugin::overlays as world;
use crate::{MediaInfo, PluginError};

pub use world::{AssetPlacement, DrawOp, RectFill, Region, SpritePlacement};

/// A plugin implementing the `overlay` world.
///
/// ```
/// use framejet_sdk::prelude::*;
///
/// /// A red square in the top-left corner for the first second.
/// struct Flash;
///
/// impl Overlay for Flash {
///     fn create(_info: &MediaInfo, _params: &str) -> Result<Self, PluginError> {
///         Ok(Flash)
///     }
///
///     fn frame(&mut self, _index: u64, pts_us: i64) -> Vec<DrawOp> {
///         if pts_us >= 1_000_000 {
///             return Vec::new();
///         }
///         let color = Rgba::opaque(255, 0, 0);
///         vec![DrawOp::Rect(RectFill { x: 0, y: 0, width: 64, height: 64, color })]
///     }
/// }
///
/// framejet_sdk::export_overlay!(Flash);
/// ```
pub trait Overlay: Sized + 'static {
    /// Builds the overlay from the video it will draw on and the step's params
    /// (JSON text). Validate params, read assets and define sprites here.
    fn create(info: &MediaInfo, params: &str) -> Result<Self, PluginError>;

    /// The draw ops for frame `index` (0-based, display order) shown at
    /// `pts_us` microseconds. Called once per frame, in order within a
    /// segment, so keep it cheap. Later ops cover earlier ones.
    fn frame(&mut self, index: u64, pts_us: i64) -> Vec<DrawOp>;
}

/// Adapts an [`Overlay`] to the generated bindings. Used by [`export_overlay!`](crate::export_overlay).
#[doc(hidden)]
pub struct OverlayExport<T>(PhantomData<T>);

impl<T: Overlay> world::Guest for OverlayExport<T> {
    type Overlay = OverlayResource<T>;
}

/// The resource the host holds: one [`Overlay`] behind a `RefCell`, so that
/// [`Overlay::frame`] can take `&mut self`.
#[doc(hidden)]
pub struct OverlayResource<T>(RefCell<T>);

impl<T: Overlay> world::GuestOverlay for OverlayResource<T> {
    fn create(info: MediaInfo, params: String) -> Result<world::Overlay, PluginError> {
        let overlay = T::create(&info, &params)?;
        Ok(world::Overlay::new(OverlayResource(RefCell::new(overlay))))
    }

    fn frame(&self, index: u64, pts_us: i64) -> Vec<DrawOp> {
        self.0.borrow_mut().frame(index, pts_us)
    }
}

/// Exports an [`Overlay`] implementation as this component's `overlay` world.
///
/// Use it once, in the plugin crate: `framejet_sdk::export_overlay!(MyOverlay);`
#[macro_export]
macro_rules! export_overlay {
    ($ty:ty) => {
        const _: () = {
            type FramejetOverlayExport = $crate::__private::OverlayExport<$ty>;
            $crate::__private::overlay::export_overlay_world!(
                FramejetOverlayExport with_types_in $crate::__private::overlay
            );
        };
    };
}
