//! Calls into the host: the job's log, the job's assets, and sprites.
//!
//! These are the `host` interface of the contract with Rust signatures. In a
//! plugin built for `wasm32` they call the framejet host. Built for any other
//! target (a plugin's own unit tests), they call an in-process stand-in, which
//! tests fill and inspect through `framejet_sdk::testing`.
//!
//! Errors from the host are plain messages; a plugin usually turns them into a
//! [`PluginError`](crate::PluginError) naming the parameter that led to the call.

use crate::{ImageSize, LogLevel};

#[cfg(target_arch = "wasm32")]
use crate::bindings::host as imp;
#[cfg(not(target_arch = "wasm32"))]
use crate::testing::host as imp;

/// Writes `message` to the job's log at `level`, tagged with the plugin's name.
///
/// [`log`](crate::log) has one shortcut per level.
pub fn log(level: LogLevel, message: &str) {
    imp::log(level, message);
}

/// The raw bytes of the job's asset called `name` (a PNG logo, say).
///
/// Only the current job's assets can be read; an unknown name is an error.
pub fn asset(name: &str) -> Result<Vec<u8>, String> {
    imp::asset(name)
}

/// The pixel size of the job's image asset called `name`, without copying its
/// bytes into the plugin.
pub fn asset_info(name: &str) -> Result<ImageSize, String> {
    imp::asset_info(name)
}

/// Hands the host an image to draw later with [`DrawOp::Sprite`](crate::DrawOp),
/// and returns its id.
///
/// `rgba` holds `width * height` pixels, row by row, 4 bytes each (straight,
/// not premultiplied, alpha). Define sprites once, when the plugin is created;
/// per frame, only place them by id. [`text`](crate::text) renders strings
/// into such buffers.
pub fn define_sprite(width: u32, height: u32, rgba: &[u8]) -> Result<u32, String> {
    imp::define_sprite(width, height, rgba)
}
