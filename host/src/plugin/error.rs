//! The one error type of the plugin runtime.
//!
//! Every variant that comes from running a plugin names the plugin, so a
//! failed job step reads "plugin `overlay-logo` ..." in the job's log and in
//! the CLI, whatever call failed.

use std::path::PathBuf;
use std::time::Duration;

/// What went wrong loading, checking or calling a plugin.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The plugin file could not be read.
    #[error("plugin `{plugin}`: cannot read {path}: {error}")]
    Read {
        plugin: String,
        path: PathBuf,
        error: std::io::Error,
    },

    /// No plugin of that name is installed or given.
    #[error("unknown plugin `{name}`; known plugins: {known}")]
    Unknown { name: String, known: String },

    /// The bytes are not a WebAssembly component (a core module, or not wasm at all).
    #[error("plugin `{plugin}` is not a WebAssembly component: {reason}")]
    NotAComponent { plugin: String, reason: String },

    /// The component is valid but implements none of framejet's worlds, or
    /// not the one the job step needs.
    #[error("plugin `{plugin}` implements {found}, but {expected} was expected")]
    WrongWorld {
        plugin: String,
        expected: String,
        found: String,
    },

    /// The component imports something the sandbox does not offer.
    #[error(
        "plugin `{plugin}` imports `{import}`, which plugins may not use (allowed: framejet:plugin/host, wasi:cli, wasi:clocks, wasi:random, wasi:io, wasi:filesystem without any directory)"
    )]
    ForbiddenImport { plugin: String, import: String },

    /// Compiling or instantiating failed for a reason that is not the plugin's behaviour.
    #[error("plugin `{plugin}`: {reason}")]
    Setup { plugin: String, reason: String },

    /// The plugin trapped (a panic, an out-of-bounds access, `unreachable`).
    #[error("plugin `{plugin}` trapped in `{call}`: {message}")]
    Trap {
        plugin: String,
        call: &'static str,
        message: String,
    },

    /// The plugin ran past its deadline and was interrupted.
    #[error("plugin `{plugin}` ran past its deadline of {limit:?} in `{call}` and was stopped")]
    Deadline {
        plugin: String,
        call: &'static str,
        limit: Duration,
    },

    /// The plugin tried to grow its memory past the cap.
    #[error(
        "plugin `{plugin}` tried to use more than its memory limit of {limit_mib} MiB in `{call}` and was stopped"
    )]
    Memory {
        plugin: String,
        call: &'static str,
        limit_mib: u64,
    },

    /// The plugin returned something the host will not use.
    #[error("plugin `{plugin}` returned invalid output from `{call}`: {reason}")]
    InvalidOutput {
        plugin: String,
        call: &'static str,
        reason: String,
    },

    /// The plugin refused the call, usually because of its params.
    #[error("plugin `{plugin}`: {}{message}", field.as_deref().map(|f| format!("params.{f}: ")).unwrap_or_default())]
    Refused {
        plugin: String,
        field: Option<String>,
        message: String,
    },

    /// The on-disk compiled-code cache could not be used.
    #[error("compiled-code cache at {path}: {error}")]
    Cache {
        path: PathBuf,
        error: std::io::Error,
    },

    /// The plugin engine could not be configured.
    #[error("cannot start the plugin engine: {0}")]
    Engine(String),
}

impl PluginError {
    /// The plugin the error is about, when there is one.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            Self::Read { plugin, .. }
            | Self::NotAComponent { plugin, .. }
            | Self::WrongWorld { plugin, .. }
            | Self::ForbiddenImport { plugin, .. }
            | Self::Setup { plugin, .. }
            | Self::Trap { plugin, .. }
            | Self::Deadline { plugin, .. }
            | Self::Memory { plugin, .. }
            | Self::InvalidOutput { plugin, .. }
            | Self::Refused { plugin, .. } => Some(plugin),
            Self::Unknown { name, .. } => Some(name),
            Self::Cache { .. } | Self::Engine(_) => None,
        }
    }
}
