//! Why a job failed, said so a user can act on it.

use std::path::PathBuf;

use crate::plugin::PluginError;

use super::output_files::OutputConflict;
use super::plan::PlanError;
use super::spec::SpecError;

/// What stopped a job.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The spec is malformed or asks for something impossible.
    #[error("job spec: {0}")]
    Spec(SpecError),

    /// An input cannot be used.
    #[error("input `{input}`: {message}")]
    Input { input: PathBuf, message: String },

    /// A plugin step failed.
    #[error("{}", describe_plugin_error(field, error))]
    Plugin { field: String, error: PluginError },

    /// The plugin found under a name is not the component the plan was made with.
    #[error(
        "{field}: plugin `{plugin}` here is {found}, but the job was planned with {planned}; deploy that version (framejet plugin push) or plan again"
    )]
    PluginMismatch {
        field: String,
        plugin: String,
        planned: String,
        found: String,
    },

    /// Decoding, processing or encoding failed.
    #[error("{context}: {message}")]
    Media { context: String, message: String },

    /// The job's files could not be read or written.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A plan read from elsewhere cannot be used.
    #[error(transparent)]
    Plan(#[from] PlanError),

    /// A file the job would write is one of its own, or already exists.
    #[error(transparent)]
    Output(#[from] OutputConflict),

    /// The job was cancelled.
    #[error("cancelled")]
    Cancelled,

    /// The job ran past its `timeout_s`.
    #[error("timed out after {0} s (timeout_s)")]
    TimedOut(u64),
}

// Messages carry their cause's text, so no variant exposes a `source()`:
// printing the chain would say everything twice.
impl From<SpecError> for JobError {
    fn from(e: SpecError) -> Self {
        JobError::Spec(e)
    }
}

impl JobError {
    /// A stable name of the kind of failure, for records and APIs.
    pub fn kind(&self) -> &'static str {
        match self {
            JobError::Spec(_) => "spec",
            JobError::Input { .. } => "input",
            JobError::Plugin { .. } | JobError::PluginMismatch { .. } => "plugin",
            JobError::Media { .. } => "media",
            JobError::Io { .. } => "io",
            JobError::Plan(_) => "plan",
            JobError::Output(_) => "output",
            JobError::Cancelled => "cancelled",
            JobError::TimedOut(_) => "timed_out",
        }
    }

    /// Whether running the same work again (elsewhere, later) could help.
    ///
    /// Only file-system trouble is worth a retry: a full disk, a store
    /// that was briefly away. A spec, an input, a plugin that traps or a
    /// plan is as wrong the next time; a cancelled or timed-out job stays so.
    pub fn retryable(&self) -> bool {
        matches!(self, JobError::Io { .. })
    }

    pub(crate) fn media(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        JobError::Media {
            context: context.into(),
            message: err.to_string(),
        }
    }

    pub(crate) fn plugin(field: impl Into<String>, source: PluginError) -> Self {
        // A plugin's refusal names a params field; say where it sits in the spec.
        JobError::Plugin {
            field: field.into(),
            error: source,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        JobError::Io {
            path: path.into(),
            error: source,
        }
    }
}

/// `steps[2].params.corner: expected one of ... (plugin `overlay-logo`)` for
/// a refusal; `steps[2]: plugin `x` trapped ...` for anything else.
fn describe_plugin_error(field: &str, err: &PluginError) -> String {
    match err {
        PluginError::Refused {
            plugin,
            field: Some(param),
            message,
        } => format!("{field}.params.{param}: {message} (plugin `{plugin}`)"),
        PluginError::Refused {
            plugin,
            field: None,
            message,
        } => format!("{field}: {message} (plugin `{plugin}`)"),
        other => format!("{field}: {other}"),
    }
}
