//! Where a job's media lives while it runs: segment outputs, the audio
//! track and the final output, addressed by keys scoped to the job. The
//! local directory is the embedded default; the fleet's object store
//! implements the same trait (`fleet::ObjectStorage`).

use std::path::{Path, PathBuf};

/// A place to put a job's intermediate and final files.
///
/// FFmpeg reads and writes files, so the trait hands out local paths: a
/// remote store downloads before [`Storage::local_path`] returns and uploads
/// in [`Storage::commit`].
pub trait Storage: Send + Sync {
    /// A local path to read `key` from.
    fn local_path(&self, key: &str) -> std::io::Result<PathBuf>;
    /// A local path to write `key` to; call [`Storage::commit`] when done.
    fn writable_path(&self, key: &str) -> std::io::Result<PathBuf>;
    /// Publishes what was written to `key`'s writable path.
    fn commit(&self, key: &str) -> std::io::Result<()>;
    /// Removes `key` (no error when it is not there).
    fn delete(&self, key: &str) -> std::io::Result<()>;
}

/// Keys of a job's files.
pub fn segment_key(index: usize, extension: &str) -> String {
    format!("segments/{index:05}.{extension}")
}

/// A directory on this machine.
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    /// Uses (and creates) `root`.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(&root)?;
        Ok(Self { root })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

impl Storage for LocalDir {
    fn local_path(&self, key: &str) -> std::io::Result<PathBuf> {
        Ok(self.root.join(key))
    }

    fn writable_path(&self, key: &str) -> std::io::Result<PathBuf> {
        let path = self.root.join(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        Ok(path)
    }

    fn commit(&self, _key: &str) -> std::io::Result<()> {
        Ok(())
    }

    fn delete(&self, key: &str) -> std::io::Result<()> {
        match std::fs::remove_file(self.root.join(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}
