//! framejet: a WebAssembly plugin host for video jobs.
//!
//! The host owns the heavy, trusted work (decode, encode, scaling,
//! compositing, watermark removal) and runs the logic that differs from one
//! user to the next as sandboxed components: see [`plugin`]. Jobs go
//! spec → plan → segments → finalize in [`job`], which knows no transport.

pub mod cli;
pub mod fleet;
pub mod gateway;
pub mod job;
pub mod plugin;
