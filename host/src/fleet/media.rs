//! Files in the fleet's object stores: uploads, downloads into a local
//! cache keyed by digest (an input is fetched once per worker, however many
//! of its segments the worker runs), and pushed plugins.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::object_store::{ObjectInfo, ObjectMetadata, ObjectStore};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE;
use framejet_spec::fleet::ObjectRef;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use crate::plugin::{Plugin, PluginRuntime};

use super::{Fleet, FleetError};

/// How a spec names an object of the media store: `media:NAME`.
pub const MEDIA_SCHEME: &str = "media:";

/// The object name a spec path refers to, when it is `media:NAME`.
pub(crate) fn media_name(path: &Path) -> Option<&str> {
    path.to_str()?.strip_prefix(MEDIA_SCHEME)
}

/// Whether `name` can name an object: relative, no `..`, no NUL, no
/// backslash, not empty.
pub(crate) fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 512
        && !name.starts_with('/')
        && !name.contains('\0')
        && !name.contains('\\')
        && name
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// A file name fit for an object name and a cache path: letters, digits,
/// `.`, `-` and `_`, anything else as `_` (`input` when there is none).
pub(crate) fn safe_file_name(name: Option<&str>) -> String {
    let name: String = name
        .unwrap_or("input")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    // Never `.` or `..`: those are not names.
    if name.chars().all(|c| c == '.') {
        "input".into()
    } else {
        name
    }
}

/// Keys of a job's objects.
pub(crate) fn job_key(job: &str, rest: &str) -> String {
    format!("jobs/{job}/{rest}")
}

/// The message id of a task: the job, its plan and the task, so that a
/// repeat of the same task is dropped by the stream while the tasks of a
/// new plan under a reused id are not.
pub(crate) fn task_msg_id(
    job: &str,
    plan: Option<&ObjectRef>,
    kind: framejet_spec::fleet::TaskKind,
) -> String {
    let plan: String = plan
        .map(|p| digest_dir(p.digest.trim_start_matches("SHA-256=")))
        .unwrap_or_default()
        .chars()
        .take(16)
        .collect();
    format!("{job}.{plan}.{}", kind.describe().replace(' ', "."))
}

/// A directory part made of a digest (`SHA-256=…` in URL-safe base64).
fn digest_dir(digest: &str) -> String {
    digest
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

impl Fleet {
    /// Uploads a local file as object `key`; returns its reference.
    pub(crate) async fn put_file(
        &self,
        store: &ObjectStore,
        key: &str,
        path: &Path,
    ) -> Result<ObjectRef, FleetError> {
        let mut file = tokio::fs::File::open(path)
            .await
            .map_err(|e| FleetError::io(path, e))?;
        let meta = ObjectMetadata {
            name: key.to_string(),
            ..Default::default()
        };
        let info = store
            .put(meta, &mut file)
            .await
            .map_err(|e| FleetError::nats(format!("upload {key}"), e))?;
        Ok(ObjectRef {
            key: key.to_string(),
            digest: info.digest.unwrap_or_default(),
        })
    }

    /// Uploads bytes as object `key`; returns its reference.
    pub(crate) async fn put_bytes(
        &self,
        store: &ObjectStore,
        key: &str,
        bytes: &[u8],
    ) -> Result<ObjectRef, FleetError> {
        let meta = ObjectMetadata {
            name: key.to_string(),
            ..Default::default()
        };
        let info = store
            .put(meta, &mut &bytes[..])
            .await
            .map_err(|e| FleetError::nats(format!("upload {key}"), e))?;
        Ok(ObjectRef {
            key: key.to_string(),
            digest: info.digest.unwrap_or_default(),
        })
    }

    /// Downloads object `key` into `path` (see [`Fleet::get_object_file`]).
    pub(crate) async fn get_file(
        &self,
        store: &ObjectStore,
        key: &str,
        path: &Path,
    ) -> Result<(), FleetError> {
        let info = store.info(key).await.map_err(|e| {
            if e.kind() == async_nats::jetstream::object_store::InfoErrorKind::NotFound {
                FleetError::Missing(format!("`{key}` is not in the store"))
            } else {
                FleetError::nats(format!("download {key}"), e)
            }
        })?;
        if info.deleted {
            return Err(FleetError::Missing(format!("`{key}` is not in the store")));
        }
        self.get_object_file(&info, path).await
    }

    /// Downloads the object `info` describes into `path` (through a
    /// temporary file beside it, so `path` is whole or absent), a few chunks
    /// at a time (see [`Fleet::object_range`]), checking the bytes against
    /// the object's digest.
    pub(crate) async fn get_object_file(
        &self,
        info: &ObjectInfo,
        path: &Path,
    ) -> Result<(), FleetError> {
        use tokio::io::AsyncWriteExt;
        let key = &info.name;
        let dir = path.parent().unwrap_or(Path::new("."));
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| FleetError::io(dir, e))?;
        let partial = path.with_extension(format!("part-{}", std::process::id()));
        let mut file = tokio::fs::File::create(&partial)
            .await
            .map_err(|e| FleetError::io(&partial, e))?;
        let mut chunks = std::pin::pin!(self.object_range(info, 0, info.size as u64).await?);
        let mut hash = Sha256::new();
        let copied: Result<(), FleetError> = async {
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk.map_err(|e| FleetError::nats(format!("download {key}"), e))?;
                hash.update(&chunk);
                file.write_all(&chunk)
                    .await
                    .map_err(|e| FleetError::io(&partial, e))?;
            }
            file.flush().await.map_err(|e| FleetError::io(&partial, e))
        }
        .await;
        drop(file);
        let digest = format!("SHA-256={}", URL_SAFE.encode(hash.finalize()));
        let checked = copied.and_then(|()| match &info.digest {
            Some(expected) if *expected != digest => Err(FleetError::nats(
                format!("download {key}"),
                std::io::Error::other("the bytes do not match the object's digest"),
            )),
            _ => Ok(()),
        });
        if let Err(e) = checked {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, path)
            .await
            .map_err(|e| FleetError::io(path, e))
    }

    /// Chunks an object's bytes `start..start + len` are read in, at most
    /// [`CHUNKS_AHEAD`] ahead of the reader, so a slow client holds little in
    /// memory. (The object store's own reader lets the server push chunks as
    /// fast as it can, and they pile up while the client reads.)
    pub(crate) async fn object_range(
        &self,
        info: &ObjectInfo,
        start: u64,
        len: u64,
    ) -> Result<
        impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
        FleetError,
    > {
        let stream = self
            .js
            .get_stream(format!("OBJ_{}", info.bucket))
            .await
            .map_err(|e| FleetError::nats("open the media store", e))?;
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: format!("$O.{}.C.{}", info.bucket, info.nuid),
                max_batch: CHUNKS_AHEAD,
                ..Default::default()
            })
            .await
            .map_err(|e| FleetError::nats(format!("read {}", info.name), e))?;
        let chunks = consumer
            .messages()
            .await
            .map_err(|e| FleetError::nats(format!("read {}", info.name), e))?;
        // Where the next chunk starts in the object, and how much is left to send.
        let state = (chunks, 0u64, len);
        Ok(futures_util::stream::unfold(
            state,
            move |(mut chunks, mut at, mut left)| async move {
                while left > 0 {
                    let chunk = match chunks.next().await? {
                        Ok(message) => message.payload.clone(),
                        Err(e) => return Some((Err(std::io::Error::other(e)), (chunks, at, 0))),
                    };
                    let (first, last) = (at, at + chunk.len() as u64);
                    at = last;
                    if last <= start {
                        continue;
                    }
                    let from = start.saturating_sub(first) as usize;
                    let to = (chunk.len() as u64).min(from as u64 + left) as usize;
                    left -= (to - from) as u64;
                    return Some((Ok(chunk.slice(from..to)), (chunks, at, left)));
                }
                None
            },
        ))
    }

    /// Downloads object `key` into memory (plans, plugins).
    pub(crate) async fn get_bytes(
        &self,
        store: &ObjectStore,
        key: &str,
    ) -> Result<Vec<u8>, FleetError> {
        use tokio::io::AsyncReadExt;
        let mut object = open_object(store, key).await?;
        let mut bytes = Vec::new();
        object
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| FleetError::nats(format!("download {key}"), e))?;
        Ok(bytes)
    }
}

/// Chunks (128 KiB each) fetched ahead of the client.
const CHUNKS_AHEAD: i64 = 8;

/// Object `key` of `store`, to read.
async fn open_object(
    store: &ObjectStore,
    key: &str,
) -> Result<async_nats::jetstream::object_store::Object, FleetError> {
    store.get(key).await.map_err(|e| {
        if e.kind() == async_nats::jetstream::object_store::GetErrorKind::NotFound {
            FleetError::Missing(format!("`{key}` is not in the store"))
        } else {
            FleetError::nats(format!("download {key}"), e)
        }
    })
}

/// Objects of the media store copied to this machine, one file per digest.
pub(crate) struct MediaCache {
    dir: PathBuf,
    /// One lock per object name, so two segments of one input download it once.
    locks: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl MediaCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// A local copy of media object `name`, downloaded unless a copy of
    /// the same digest is here already. The file keeps the name's last
    /// part, so its extension still says what it is.
    pub(crate) async fn fetch(&self, fleet: &Fleet, name: &str) -> Result<PathBuf, FleetError> {
        if !is_object_name(name) {
            return Err(FleetError::Refused(format!(
                "`{MEDIA_SCHEME}{name}`: not a media name (relative, no `..`)"
            )));
        }
        let lock = {
            let mut locks = self.locks.lock().await;
            locks.entry(name.to_string()).or_default().clone()
        };
        let _held = lock.lock().await;
        let missing = || {
            FleetError::Missing(format!(
                "input `{MEDIA_SCHEME}{name}` is not in the media store (upload it first, or it expired)"
            ))
        };
        let info = fleet.media.info(name).await.map_err(|e| {
            if e.kind() == async_nats::jetstream::object_store::InfoErrorKind::NotFound {
                missing()
            } else {
                FleetError::nats(format!("look up {name}"), e)
            }
        })?;
        if info.deleted {
            return Err(missing());
        }
        let digest = info.digest.clone().unwrap_or_default();
        let file_name = name.rsplit('/').next().unwrap_or("input");
        let path = self.dir.join(digest_dir(&digest)).join(file_name);
        if tokio::fs::metadata(&path)
            .await
            .is_ok_and(|m| m.len() == info.size as u64)
        {
            return Ok(path);
        }
        fleet.get_object_file(&info, &path).await?;
        Ok(path)
    }
}

/// SHA-256 of `bytes`, hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Keys of a pushed plugin: by name@version, by name (its latest), and by
/// digest (what plans pin).
pub(crate) fn plugin_keys(name: &str, version: &str, digest: &str) -> [String; 3] {
    [
        format!("plugins/{name}@{version}"),
        format!("plugins/{name}"),
        format!("digests/{digest}"),
    ]
}

/// Checks a component as `framejet plugin check` does and stores it in the
/// plugins store as `name@version` (and as `name`, the latest, and by its
/// digest). Returns the digest.
pub async fn push_plugin(
    fleet: &Fleet,
    runtime: &PluginRuntime,
    wasm: &[u8],
    name: &str,
    version: &str,
) -> Result<String, FleetError> {
    let digest = check_plugin(runtime, wasm, name, version)?;
    store_plugin(fleet, wasm, name, version, &digest).await?;
    Ok(digest)
}

/// The checks of [`push_plugin`]: the name and version, and that the
/// component loads (compiling it: run it where blocking is fine). Returns
/// its digest.
pub fn check_plugin(
    runtime: &PluginRuntime,
    wasm: &[u8],
    name: &str,
    version: &str,
) -> Result<String, FleetError> {
    if !framejet_spec::fleet::is_token(name) || name.contains('@') {
        return Err(FleetError::Refused(format!(
            "plugin name `{name}`: use letters, digits, `-` and `_`"
        )));
    }
    let version_ok = !version.is_empty()
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'));
    if !version_ok {
        return Err(FleetError::Refused(format!(
            "plugin version `{version}`: use letters, digits, `.`, `-`, `_` and `+`"
        )));
    }
    let plugin: Plugin = runtime
        .load(name, wasm)
        .map_err(|e| FleetError::Refused(format!("plugin `{name}` is not usable: {e}")))?;
    Ok(plugin.digest().to_string())
}

/// Stores a component [`check_plugin`] passed, under all its keys.
pub async fn store_plugin(
    fleet: &Fleet,
    wasm: &[u8],
    name: &str,
    version: &str,
    digest: &str,
) -> Result<(), FleetError> {
    for key in plugin_keys(name, version, digest) {
        fleet.put_bytes(&fleet.plugins, &key, wasm).await?;
    }
    Ok(())
}

/// The plugin pushed as `key` (`plugins/NAME`, `plugins/NAME@V`,
/// `digests/HEX`), loaded into `runtime`; `None` when there is none.
pub(crate) async fn pushed_plugin(
    fleet: &Fleet,
    runtime: &PluginRuntime,
    name: &str,
    key: &str,
) -> Result<Option<Arc<Plugin>>, FleetError> {
    let bytes = match fleet.get_bytes(&fleet.plugins, key).await {
        Ok(bytes) => bytes,
        Err(FleetError::Missing(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let plugin = runtime
        .load(name, &bytes)
        .map_err(|e| FleetError::Refused(format!("pushed plugin `{key}`: {e}")))?;
    Ok(Some(Arc::new(plugin)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_stay_inside_the_store() {
        assert!(is_object_name("inputs/ab/clip.mp4"));
        for bad in ["", "/etc/passwd", "a/../b", "a//b", "./a", "a\0b", "a\\b"] {
            assert!(!is_object_name(bad), "{bad:?}");
        }
        assert_eq!(media_name(Path::new("media:x/y.mp4")), Some("x/y.mp4"));
        assert_eq!(media_name(Path::new("/x/y.mp4")), None);
    }
}
