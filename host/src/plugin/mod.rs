//! The plugin runtime: sandboxed WebAssembly components that hold a job's
//! logic (routing, segmenting, overlays, frame filters).
//!
//! One [`PluginRuntime`] per process owns the wasmtime engine and the
//! compiled-code cache. [`PluginRuntime::load`] turns a component into a
//! [`Plugin`]; each call on it (`route`, `plan_segments`, `overlay`,
//! `frame_filter`) runs in a fresh store under the [`PluginLimits`] of the
//! [`PluginEnv`] it is given. A plugin that traps, overruns its deadline or
//! its memory, or returns nonsense fails that call with a [`PluginError`]
//! naming it; the runtime goes on serving other plugins.

mod bindings;
mod calls;
mod error;
mod registry;
mod runtime;
mod state;
mod world;

pub use bindings::types::{ImageSize, MediaInfo, Priority, Rational, Rgba};
pub use calls::{
    AssetPlacement, DrawOp, FilterFrame, FilterInstance, FilterPlane, JobInfo, OverlayInstance,
    PixelFormat, RectFill, Region, Route, Segment, SpritePlacement,
};
pub use error::PluginError;
pub use framejet_spec::PluginLimits;
pub use registry::PluginRegistry;
pub use runtime::{
    CacheStats, Plugin, PluginRuntime, RuntimeConfig, default_cache_dir, plugin_name_from_path,
};
pub use state::{
    AssetSource, Level, LogLine, LogSink, LogSource, NoAssets, PluginEnv, Sprite, tracing_sink,
};
pub use world::{ComponentSummary, PluginKind};
