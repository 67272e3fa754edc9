//! Write framejet plugins in Rust.
//!
//! A framejet plugin is a WebAssembly component implementing one world of the
//! contract in `wit/plugin.wit` (`framejet:plugin@0.1.0`). With this crate a
//! plugin is a plain Rust type, an `impl` of one trait, and one macro line:
//!
//! | world          | trait           | export macro              |
//! |----------------|-----------------|---------------------------|
//! | `router`       | [`Router`]      | [`export_router!`]        |
//! | `segmenter`    | [`Segmenter`]   | [`export_segmenter!`]     |
//! | `overlay`      | [`Overlay`]     | [`export_overlay!`]       |
//! | `frame-filter` | [`FrameFilter`] | [`export_frame_filter!`]  |
//!
//! ```
//! use framejet_sdk::prelude::*;
//!
//! struct EverythingToDefault;
//!
//! impl Router for EverythingToDefault {
//!     fn route(job: &JobInfo, _params: &str) -> Result<Route, PluginError> {
//!         Ok(Route::to_queue("default", job.priority))
//!     }
//! }
//!
//! framejet_sdk::export_router!(EverythingToDefault);
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` file
//! cargo writes is the component the host loads.
//!
//! Besides the bindings, the crate offers what most plugins need:
//! [`params::parse`] (typed params with errors that name the offending field),
//! the [`host`] calls and [`log`] shortcuts, colours ([`Rgba::from_hex`]) and,
//! with the default `text` feature, [`text`] for rasterizing strings into
//! sprites.
//!
//! Plugin logic is ordinary Rust, so it is unit-tested with a plain
//! `cargo test` on the build machine. There the host calls go to an in-process
//! stand-in that tests can fill and inspect: see `testing` (only compiled on
//! non-wasm targets).
//!
//! The crate must be a dependency under its own name, `framejet_sdk`: the
//! export macros refer to it by that name.
#![warn(missing_docs)]

// The generated bindings refer to the runtime as `framejet_sdk::…` so that the
// same paths work inside this crate and in the plugin crates that expand the
// export macros.
extern crate self as framejet_sdk;

mod bindings;
mod color;
mod error;
mod frame_filter;
pub mod host;
pub mod log;
mod overlay;
pub mod params;
mod router;
mod segmenter;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
#[cfg(feature = "text")]
pub mod text;

pub use bindings::host::LogLevel;
pub use bindings::types::{ImageSize, MediaInfo, PluginError, Priority, Rational, Rgba};
pub use frame_filter::{Frame, FrameFilter, PixelFormat, Plane};
pub use overlay::{AssetPlacement, DrawOp, Overlay, RectFill, Region, SpritePlacement};
pub use router::{JobInfo, Route, Router};
pub use segmenter::{Segment, Segmenter};

/// The traits and types a plugin usually needs: `use framejet_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        AssetPlacement, DrawOp, Frame, FrameFilter, ImageSize, JobInfo, LogLevel, MediaInfo,
        Overlay, PixelFormat, Plane, PluginError, Priority, Rational, RectFill, Region, Rgba,
        Route, Router, Segment, Segmenter, SpritePlacement,
    };
}

/// Compiles and runs the README's example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Items the export macros expand to. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::bindings::{frame_filter, overlay, router, segmenter};
    pub use crate::frame_filter::{FilterResource, FrameFilterExport};
    pub use crate::overlay::{OverlayExport, OverlayResource};
    pub use crate::router::RouterExport;
    pub use crate::segmenter::SegmenterExport;
    pub use wit_bindgen;
}
