//! Atomic output files: everything is written to a temporary file beside the destination and
//! renamed over it at the end, so a failure (or a dropped writer) never leaves a partial
//! output behind.

use std::path::{Path, PathBuf};

use crate::error::MediaError;

/// A temporary file beside `dest`; removed on drop unless [`TempOutput::commit`] renamed it.
pub(crate) struct TempOutput {
    dest: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl TempOutput {
    /// Creates `.<name>.<pid>-<n>.tmp.<ext>` next to `dest`, empty and new (the extension is
    /// kept so that tools looking at the name still see the container). Checks that the
    /// directory exists.
    pub(crate) fn new(dest: &Path) -> Result<TempOutput, MediaError> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = dest
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty())
            .ok_or_else(|| MediaError::output(dest, "the output path has no file name"))?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(MediaError::output(
                dest,
                format!("the directory `{}` does not exist", dir.display()),
            ));
        }
        crate::util::c_path(dest)?;
        let ext = dest.extension().and_then(|e| e.to_str()).unwrap_or("tmp");
        // Created here, exclusively, so the name is never a file of someone else's.
        let temp = loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".{name}.{}-{n}.tmp.{ext}", std::process::id()));
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(_) => break temp,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(MediaError::output(
                        dest,
                        format!("cannot create a file in `{}`: {e}", dir.display()),
                    ));
                }
            }
        };
        Ok(TempOutput {
            dest: dest.to_path_buf(),
            temp,
            committed: false,
        })
    }

    /// The temporary path as an FFmpeg `file:` URL (see [`crate::util::file_url`]); checked to be
    /// valid UTF-8 without NUL bytes when the output was reserved.
    pub(crate) fn url(&self) -> PathBuf {
        PathBuf::from(format!("file:{}", self.temp.display()))
    }

    /// The final path.
    pub(crate) fn dest(&self) -> &Path {
        &self.dest
    }

    /// Renames the temporary file to the destination.
    pub(crate) fn commit(mut self) -> Result<(), MediaError> {
        std::fs::rename(&self.temp, &self.dest).map_err(|e| {
            MediaError::output(
                &self.dest,
                format!("cannot move the finished file into place: {e}"),
            )
        })?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.committed {
            // The file may not exist yet (failure before anything was written).
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
