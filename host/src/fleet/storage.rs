//! The media store as a job's [`Storage`]: keys under `jobs/<id>/` in
//! `fj-media`, staged in a local directory because FFmpeg reads and writes
//! files. Reading a key downloads it once; committing uploads it.
//!
//! Its methods block on the upload or download, so the job functions call
//! them from their own threads (the worker runs them with
//! `spawn_blocking`), never from async code.

use std::path::PathBuf;

use crate::job::storage::{LocalDir, Storage};

use super::media::job_key;
use super::{Fleet, FleetError};

pub(crate) struct ObjectStorage {
    fleet: Fleet,
    job: String,
    staging: LocalDir,
    runtime: tokio::runtime::Handle,
}

impl ObjectStorage {
    /// Job `job`'s keys, staged in `staging`.
    pub(crate) fn new(fleet: Fleet, job: &str, staging: PathBuf) -> Result<Self, FleetError> {
        let staging = LocalDir::new(&staging).map_err(|e| FleetError::io(&staging, e))?;
        Ok(Self {
            fleet,
            job: job.to_string(),
            staging,
            runtime: tokio::runtime::Handle::current(),
        })
    }

    /// The object name of `key`.
    pub(crate) fn object(&self, key: &str) -> String {
        job_key(&self.job, key)
    }
}

fn io_error(e: FleetError) -> std::io::Error {
    match e {
        FleetError::Io { source, .. } => source,
        FleetError::Missing(m) => std::io::Error::new(std::io::ErrorKind::NotFound, m),
        other => std::io::Error::other(other.to_string()),
    }
}

impl Storage for ObjectStorage {
    fn local_path(&self, key: &str) -> std::io::Result<PathBuf> {
        let path = self.staging.local_path(key)?;
        if !path.is_file() {
            let object = self.object(key);
            self.runtime
                .block_on(self.fleet.get_file(&self.fleet.media, &object, &path))
                .map_err(io_error)?;
        }
        Ok(path)
    }

    fn writable_path(&self, key: &str) -> std::io::Result<PathBuf> {
        self.staging.writable_path(key)
    }

    fn commit(&self, key: &str) -> std::io::Result<()> {
        let path = self.staging.local_path(key)?;
        let object = self.object(key);
        self.runtime
            .block_on(self.fleet.put_file(&self.fleet.media, &object, &path))
            .map(drop)
            .map_err(io_error)
    }

    fn delete(&self, key: &str) -> std::io::Result<()> {
        self.staging.delete(key)?;
        let object = self.object(key);
        match self.runtime.block_on(self.fleet.media.delete(&object)) {
            Ok(()) => Ok(()),
            Err(e)
                if e.kind() == async_nats::jetstream::object_store::DeleteErrorKind::NotFound =>
            {
                Ok(())
            }
            Err(e) => Err(std::io::Error::other(e.to_string())),
        }
    }
}
