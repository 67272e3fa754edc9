//! Media over HTTP: uploads into the caller's namespace of the media store
//! and downloads (a job's output, or uploaded media), streamed both ways
//! with `Range` and `ETag`, never a whole file in memory.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_nats::jetstream::object_store::ObjectMetadata;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::io::StreamReader;

use super::auth::Role;
use super::{ApiError, Gateway};
use crate::fleet::FleetError;

pub(super) use crate::fleet::MEDIA_SCHEME;

/// The object a caller's media name is stored under (`users/OWNER/NAME`),
/// if the name is one: relative, no `..`, no NUL.
pub(super) fn owned_media_key(owner: &str, name: &str) -> Option<String> {
    crate::fleet::is_object_name(name).then(|| format!("users/{owner}/{name}"))
}

/// What an upload stored.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Uploaded {
    /// The name to use in a spec, as `media:NAME`.
    pub name: String,
    pub size: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
}

/// `PUT /v1/media/{name}`: stores the request body as the caller's media
/// `name`, streamed to the media store.
pub(super) async fn upload(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
    body: Body,
) -> Result<Json<Uploaded>, ApiError> {
    let caller = gw.caller(&headers)?;
    caller.require(Role::Submit, "upload media")?;
    let key = owned_media_key(&caller.owner, &name).ok_or_else(|| bad_name(&name))?;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > gw.max_upload) {
        return Err(ApiError::TooLarge {
            limit: gw.max_upload,
        });
    }
    let stream = body.into_data_stream().map_err(io::Error::other);
    let (size, sha256) = store_stream(&gw, &key, stream, gw.max_upload).await?;
    Ok(Json(Uploaded { name, size, sha256 }))
}

/// Streams `stream` into the media store as `key`; answers its size and
/// SHA-256 (hex). Past `limit` bytes, or when the store fails, nothing of it
/// is left behind.
pub(super) async fn store_stream(
    gw: &Gateway,
    key: &str,
    stream: impl futures_util::Stream<Item = io::Result<bytes::Bytes>> + Unpin,
    limit: u64,
) -> Result<(u64, String), ApiError> {
    let mut reader = Hashing {
        inner: StreamReader::new(stream),
        hash: Sha256::new(),
        size: 0,
        limit,
    };
    let stored = gw
        .fleet
        .media
        .put(
            ObjectMetadata {
                name: key.to_string(),
                ..Default::default()
            },
            &mut reader,
        )
        .await;
    if let Err(e) = stored {
        // A part may be stored: it goes, whatever went wrong.
        let _ = gw.fleet.media.delete(key).await;
        if reader.size > limit {
            return Err(ApiError::TooLarge { limit });
        }
        return Err(FleetError::nats(format!("store media {key}"), e).into());
    }
    let sha256 = reader
        .hash
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((reader.size, sha256))
}

/// `GET /v1/media/{name}`: the caller's media `name`.
pub(super) async fn download(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let key = owned_media_key(&caller.owner, &name).ok_or_else(|| bad_name(&name))?;
    send_object(&gw, &key, &headers).await
}

/// `GET /v1/jobs/{id}/output`: a finished job's output.
pub(super) async fn output(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let record = super::jobs::visible_record(&gw, &caller, &id).await?;
    let Some(output) = &record.output else {
        return Err(ApiError::NotFound(format!(
            "job `{id}` has no output (it is {})",
            record.state.name()
        )));
    };
    send_object(&gw, &output.key, &headers).await
}

/// `GET /v1/jobs/{id}/masks/{step}/{item}`: the mask PNG inpaint step
/// `step` (with `write_mask`) wrote for input `item`.
pub(super) async fn mask(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path((id, step, item)): Path<(String, usize, usize)>,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let record = super::jobs::visible_record(&gw, &caller, &id).await?;
    let mask = record
        .output
        .iter()
        .flat_map(|o| &o.masks)
        .find(|m| (m.step, m.item) == (step, item))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "job `{id}` has no mask of steps[{step}] on input {item}"
            ))
        })?;
    send_object(&gw, &mask.key, &headers).await
}

#[derive(Debug, serde::Deserialize)]
pub(super) struct PluginQuery {
    /// The version to store it as (default `0.0.0`).
    version: Option<String>,
}

/// What a plugin push stored.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Pushed {
    pub name: String,
    pub version: String,
    /// SHA-256 of the component, hex: jobs and workers pin it by this.
    pub digest: String,
}

/// `PUT /v1/plugins/{name}?version=V` (admin): checks the component in the
/// body as `framejet plugin check` does, then stores it in the plugins
/// store, as `framejet plugin push` does.
pub(super) async fn push_plugin(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::extract::Query(query): axum::extract::Query<PluginQuery>,
    body: Body,
) -> Result<Json<Pushed>, ApiError> {
    let caller = gw.caller(&headers)?;
    let wasm = axum::body::to_bytes(body, MAX_PLUGIN as usize)
        .await
        .map_err(|_| ApiError::TooLarge { limit: MAX_PLUGIN })?;
    caller.require(Role::Admin, "push plugins")?;
    let version = query.version.unwrap_or_else(|| "0.0.0".to_string());
    // Compiling a component takes a while: off the async threads.
    let runtime = gw.step_check.runtime().clone();
    let (n, v, w) = (name.clone(), version.clone(), wasm.clone());
    let digest =
        tokio::task::spawn_blocking(move || crate::fleet::check_plugin(&runtime, &w, &n, &v))
            .await
            .map_err(|e| ApiError::BadRequest(format!("the check of plugin `{name}` failed: {e}")))?
            .map_err(|e| match e {
                FleetError::Refused(why) => ApiError::InvalidSpec(why),
                other => ApiError::Fleet(other),
            })?;
    crate::fleet::store_plugin(&gw.fleet, &wasm, &name, &version, &digest).await?;
    Ok(Json(Pushed {
        name,
        version,
        digest,
    }))
}

/// The largest component a plugin push takes.
const MAX_PLUGIN: u64 = 64 << 20;

fn bad_name(name: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "media name `{name}`: use a relative name without `..`, empty parts or NUL"
    ))
}

/// Streams object `key`: whole, or the one byte range asked for (206).
async fn send_object(gw: &Gateway, key: &str, headers: &HeaderMap) -> Result<Response, ApiError> {
    let missing = || ApiError::NotFound(format!("no media `{key}`"));
    let info = gw.fleet.media.info(key).await.map_err(|_| missing())?;
    if info.deleted {
        return Err(missing());
    }
    let size = info.size as u64;
    let etag = info
        .digest
        .as_deref()
        .map(|d| format!("\"{d}\""))
        .and_then(|e| HeaderValue::from_str(&e).ok());
    if let (Some(etag), Some(wanted)) = (&etag, headers.get(header::IF_NONE_MATCH))
        && wanted == etag
    {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag.clone())]).into_response());
    }
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(asked) => byte_range(asked, size)?,
        None => None,
    };
    let (start, len) = range.map_or((0, size), |(a, b)| (a, b - a + 1));
    let body = if len == 0 {
        Body::empty()
    } else {
        Body::from_stream(gw.fleet.object_range(&info, start, len).await?)
    };
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(key)),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    if let Some((a, b)) = range {
        *response.status_mut() = StatusCode::PARTIAL_CONTENT;
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {a}-{b}/{size}")) {
            response.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    Ok(response)
}

/// The one range of `bytes=A-B`, `bytes=A-` or `bytes=-N` within `size`
/// bytes, as first and last byte. Several ranges are answered whole (HTTP
/// allows a server to ignore `Range`).
fn byte_range(asked: &str, size: u64) -> Result<Option<(u64, u64)>, ApiError> {
    let Some(spec) = asked.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let unsatisfiable = || ApiError::RangeNotSatisfiable { size };
    let (a, b) = spec.split_once('-').ok_or_else(unsatisfiable)?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| unsatisfiable())?;
        if n == 0 || size == 0 {
            return Err(unsatisfiable());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let first: u64 = a.parse().map_err(|_| unsatisfiable())?;
        let last = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            b.parse::<u64>()
                .map_err(|_| unsatisfiable())?
                .min(size.saturating_sub(1))
        };
        if first >= size || last < first {
            return Err(unsatisfiable());
        }
        (first, last)
    };
    Ok(Some(range))
}

/// The media type of an object, by its name's extension.
fn content_type(key: &str) -> &'static str {
    match key
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("mkv") => "video/x-matroska",
        Some("webm") => "video/webm",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("json") => "application/json",
        Some("log" | "txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A reader that hashes and counts what passes, and fails past `limit`.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    size: u64,
    limit: u64,
}

impl<R: AsyncRead + Unpin> AsyncRead for Hashing<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let new = &buf.filled()[before..];
                this.hash.update(new);
                this.size += new.len() as u64;
                if this.size > this.limit {
                    return Poll::Ready(Err(io::Error::other("the upload is over the limit")));
                }
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_are_read_as_http_says() {
        assert_eq!(byte_range("bytes=0-9", 100).unwrap(), Some((0, 9)));
        assert_eq!(byte_range("bytes=90-", 100).unwrap(), Some((90, 99)));
        assert_eq!(byte_range("bytes=-10", 100).unwrap(), Some((90, 99)));
        assert_eq!(byte_range("bytes=95-200", 100).unwrap(), Some((95, 99)));
        assert_eq!(byte_range("bytes=0-1,5-6", 100).unwrap(), None);
        assert_eq!(byte_range("items=0-1", 100).unwrap(), None);
        for bad in ["bytes=100-", "bytes=5-2", "bytes=x-", "bytes=-0"] {
            assert!(
                matches!(
                    byte_range(bad, 100),
                    Err(ApiError::RangeNotSatisfiable { size: 100 })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn media_names_stay_in_their_owners_namespace() {
        assert_eq!(
            owned_media_key("alice", "clips/a.mp4").as_deref(),
            Some("users/alice/clips/a.mp4")
        );
        for bad in [
            "../bob/a.mp4",
            "/etc/passwd",
            "a/../../b",
            "a\0b",
            "",
            "a//b",
        ] {
            assert_eq!(owned_media_key("alice", bad), None, "{bad:?}");
        }
    }
}
