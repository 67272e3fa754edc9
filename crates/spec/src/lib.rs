//! framejet's job spec: what a user asks for, as JSON or TOML, its
//! validation with errors that name the field, and its JSON Schema.
//!
//! A light crate (serde, no FFmpeg, no wasmtime), so that clients which only
//! write or check specs (`framejet submit`, programs of the user's own) do
//! not link the media engine or the plugin runtime. What needs those — the
//! check of output settings against an FFmpeg build, planning — lives in the
//! `framejet` crate.

pub mod fleet;
mod limits;
pub mod plan;
pub mod probe;
mod spec;

pub use limits::PluginLimits;
pub use spec::*;
