//! Why a fleet operation failed, and whether trying again can help.

use std::path::PathBuf;

use crate::job::JobError;

/// What stopped a fleet operation.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    /// The NATS server could not be reached or refused the connection.
    #[error("cannot connect to NATS at {servers}: {source}")]
    Connect {
        servers: String,
        #[source]
        source: async_nats::ConnectError,
    },

    /// A NATS or JetStream request failed.
    #[error("NATS: {what}: {source}")]
    Nats {
        what: String,
        #[source]
        source: async_nats::Error,
    },

    /// A message or record is not what the fleet's wire format says.
    #[error("malformed {what}: {source}")]
    Malformed {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A message of a wire version this framejet does not read.
    #[error(
        "{what} has wire version {found}; this framejet reads version {}",
        framejet_spec::fleet::WIRE_VERSION
    )]
    Version { what: String, found: u32 },

    /// Something the job names is not in the fleet's stores.
    #[error("{0}")]
    Missing(String),

    /// A request the fleet refuses (an id in use, a bad name).
    #[error("{0}")]
    Refused(String),

    /// The job itself failed.
    #[error(transparent)]
    Job(#[from] JobError),

    /// A local file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl FleetError {
    pub(crate) fn nats(what: impl Into<String>, source: impl Into<async_nats::Error>) -> Self {
        FleetError::Nats {
            what: what.into(),
            source: source.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FleetError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn malformed(what: impl Into<String>, source: serde_json::Error) -> Self {
        FleetError::Malformed {
            what: what.into(),
            source,
        }
    }

    /// Whether the same work can succeed later or elsewhere: a dropped
    /// connection, a server that was away, a full disk, yes; a malformed
    /// message, a missing input, a job that failed on its own terms, no.
    pub fn retryable(&self) -> bool {
        match self {
            FleetError::Connect { .. } | FleetError::Nats { .. } | FleetError::Io { .. } => true,
            FleetError::Job(e) => e.retryable(),
            FleetError::Malformed { .. }
            | FleetError::Version { .. }
            | FleetError::Missing(_)
            | FleetError::Refused(_) => false,
        }
    }

    /// A stable name of the kind of failure, for job records.
    pub fn kind(&self) -> &'static str {
        match self {
            FleetError::Connect { .. } | FleetError::Nats { .. } => "nats",
            FleetError::Malformed { .. } | FleetError::Version { .. } => "malformed_task",
            FleetError::Missing(_) => "missing",
            FleetError::Refused(_) => "refused",
            FleetError::Job(e) => e.kind(),
            FleetError::Io { .. } => "io",
        }
    }
}
