//! Per-call limits for plugins, with defaults that suit the shipped plugins.
//!
//! Limits are set per job (the `plugin_limits` table of a job spec) and per
//! runtime (the defaults). Every call into a plugin runs under all of them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How much a plugin may use on one call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PluginLimits {
    /// Wall-clock budget of one call (`create`, `route`, `plan`, one
    /// `frame`), in milliseconds. Default 2000.
    pub deadline_ms: u64,
    /// Linear memory a plugin instance may grow to, in MiB. Default 64.
    pub memory_mib: u64,
    /// Most draw ops one `frame` call may return. Default 4096.
    pub max_draw_ops: usize,
    /// Most segments a segmenter may return. Default 10000.
    pub max_segments: usize,
    /// Most pixels of all sprites one plugin instance may define together.
    /// Default 16 Mi pixels (64 MiB of RGBA).
    pub max_sprite_pixels: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            deadline_ms: 2000,
            memory_mib: 64,
            max_draw_ops: 4096,
            max_segments: 10_000,
            max_sprite_pixels: 16 << 20,
        }
    }
}

impl PluginLimits {
    /// The call deadline as a [`Duration`].
    pub fn deadline(&self) -> Duration {
        Duration::from_millis(self.deadline_ms)
    }

    /// The memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(self.memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX)
    }
}
