//! `POST /v1/jobs`: a spec in JSON or TOML whose files are uploaded media
//! (`media:NAME`) or URLs, or a multipart request that carries the spec and
//! the files together. Either way the spec passes the checks of
//! `framejet run`, and its plugin steps are tried (`step_check`), before
//! anything is stored.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use framejet_spec::fleet::is_token;
use framejet_spec::{JobSpec, is_remote};
use futures_util::TryStreamExt;
use serde::Deserialize;

use super::auth::{Caller, Role};
use super::media::{MEDIA_SCHEME, owned_media_key, store_stream};
use super::webhooks::is_webhook_url;
use super::{ApiError, Gateway};
use crate::fleet::{SubmitOptions, Submitted, submit_job};

#[derive(Debug, Deserialize)]
pub(super) struct SubmitQuery {
    /// Where to POST the final record (see `webhooks`).
    webhook: Option<String>,
}

/// The multipart part that holds the spec; it comes first.
const SPEC_PART: &str = "spec";

/// Answers 201 with the new job's record (200 with the record when the same
/// id with the same spec exists already).
pub(super) async fn submit(
    State(gw): State<Gateway>,
    headers: HeaderMap,
    Query(query): Query<SubmitQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = gw.caller(&headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (spec, uploaded) = if content_type.starts_with("multipart/form-data") {
        caller.require(Role::Submit, "submit jobs")?;
        check_webhook(&gw, query.webhook.as_deref())?;
        multipart_spec(&gw, &caller, &content_type, body).await?
    } else {
        // The spec is read before a refusal, so that a client still sending
        // it gets the answer rather than a closed connection.
        let bytes = axum::body::to_bytes(body, gw.max_spec as usize)
            .await
            .map_err(|_| ApiError::TooLarge { limit: gw.max_spec })?;
        caller.require(Role::Submit, "submit jobs")?;
        check_webhook(&gw, query.webhook.as_deref())?;
        let mut spec = parse_spec(&bytes, content_type.contains("toml"))?;
        name_owned_media(&mut spec, &caller, &BTreeMap::new())?;
        check_spec(&gw, &spec).await?;
        (spec, Vec::new())
    };
    let id = spec.id.clone();
    let submitted = submit_job(
        &gw.fleet,
        spec,
        &SubmitOptions {
            id,
            owner: Some(caller.owner.clone()),
            webhook: query.webhook,
        },
    )
    .await;
    let Submitted { record, created } = match submitted {
        Ok(submitted) => submitted,
        Err(e) => {
            forget(&gw, &uploaded).await;
            return Err(e.into());
        }
    };
    if !created {
        // Another request made this job first: its files are its own.
        forget(&gw, &uploaded).await;
    }
    if record.owner.as_deref() != Some(caller.owner.as_str()) {
        return Err(ApiError::Conflict(format!(
            "job id `{}` is in use; choose another id",
            record.id
        )));
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = format!("/v1/jobs/{}", record.id);
    Ok((status, [(header::LOCATION, location)], Json(record)).into_response())
}

fn check_webhook(gw: &Gateway, webhook: Option<&str>) -> Result<(), ApiError> {
    let Some(url) = webhook else {
        return Ok(());
    };
    if !is_webhook_url(url) {
        return Err(ApiError::BadRequest(format!(
            "webhook `{url}`: expected an absolute http(s) URL"
        )));
    }
    if gw.webhook_secret.is_none() {
        return Err(ApiError::BadRequest(
            "this gateway sends no webhooks: it was started without --webhook-secret".into(),
        ));
    }
    Ok(())
}

/// The spec in `bytes`.
fn parse_spec(bytes: &[u8], toml: bool) -> Result<JobSpec, ApiError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest("the spec is not UTF-8 text".into()))?;
    if toml {
        JobSpec::from_toml(text)
    } else {
        JobSpec::from_json(text)
    }
    .map_err(|e| ApiError::InvalidSpec(e.to_string()))
}

/// The checks `framejet run` makes before it starts, and a try of the
/// plugin steps (`step_check`), on a spec whose files are media or URLs.
async fn check_spec(gw: &Gateway, spec: &JobSpec) -> Result<(), ApiError> {
    spec.validate()
        .and_then(|()| crate::job::check_output_settings(&spec.output))
        .map_err(|e| ApiError::InvalidSpec(e.to_string()))?;
    gw.step_check.check(&gw.fleet, spec).await
}

/// Points the spec's `media:NAME` files at the caller's media and the files
/// named in `parts` at their stored keys. Anything else but a URL is
/// refused: a path would name a file on the gateway's own machine.
fn name_owned_media(
    spec: &mut JobSpec,
    caller: &Caller,
    parts: &BTreeMap<String, String>,
) -> Result<(), ApiError> {
    let mut bad = None;
    spec.for_each_path(|p| {
        let text = p.to_str().unwrap_or_default();
        if let Some(key) = parts.get(text) {
            *p = PathBuf::from(format!("{MEDIA_SCHEME}{key}"));
        } else if let Some(name) = text.strip_prefix(MEDIA_SCHEME) {
            match owned_media_key(&caller.owner, name) {
                Some(key) => *p = PathBuf::from(format!("{MEDIA_SCHEME}{key}")),
                None => bad = bad.take().or_else(|| Some(text.to_string())),
            }
        } else if !is_remote(p) {
            bad = bad.take().or_else(|| Some(p.display().to_string()));
        }
    });
    match bad {
        Some(path) => Err(ApiError::InvalidSpec(format!(
            "`{path}`: a job sent over HTTP names its files as `media:NAME` (uploaded with PUT /v1/media/NAME), as http(s):// URLs, or as parts of a multipart request"
        ))),
        None => Ok(()),
    }
}

/// A multipart request: the spec (part `spec`, checked before any file is
/// read), then one part per local file it names, streamed into the media
/// store under the job (`jobs/ID/inputs/NAME`), so purging the job removes
/// them. A part stands for the spec path equal to its name or, failing
/// that, its file name. Returns the spec pointing at the stored files, and
/// their keys.
async fn multipart_spec(
    gw: &Gateway,
    caller: &Caller,
    content_type: &str,
    body: Body,
) -> Result<(JobSpec, Vec<String>), ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| {
        ApiError::BadRequest(format!("a multipart request without a boundary: {e}"))
    })?;
    let mut multipart = multer::Multipart::new(body.into_data_stream(), boundary);
    let malformed = |e: multer::Error| ApiError::BadRequest(format!("malformed multipart: {e}"));
    let Some(first) = multipart.next_field().await.map_err(malformed)? else {
        return Err(ApiError::BadRequest(
            "an empty multipart request: the first part is the spec".into(),
        ));
    };
    if first.name() != Some(SPEC_PART) {
        return Err(ApiError::BadRequest(format!(
            "the first part of a multipart job is `{SPEC_PART}`, not `{}`",
            first.name().unwrap_or_default()
        )));
    }
    let toml = first
        .content_type()
        .is_some_and(|t| t.essence_str().contains("toml"))
        || first.file_name().is_some_and(|n| n.ends_with(".toml"));
    let bytes = read_bounded(first, gw.max_spec).await?;
    let mut spec = parse_spec(&bytes, toml)?;
    // The files go under the job's id, so it must be new.
    let id = spec.id.clone().unwrap_or_else(crate::job::new_job_id);
    if !is_token(&id) {
        return Err(ApiError::InvalidSpec(format!(
            "id: `{id}`: use letters, digits, `-` and `_` only"
        )));
    }
    if gw.fleet.record(&id).await?.is_some() {
        return Err(ApiError::Conflict(format!(
            "job id `{id}` is in use; a multipart job needs a new id"
        )));
    }
    spec.id = Some(id.clone());
    // Where each local file the spec names will be stored: under a name of
    // this request's own, so a request racing it for the id never touches
    // its files, and numbered (`a/clip.mp4` and `b/clip.mp4` are two files).
    let nonce = request_nonce();
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    spec.for_each_path(|p| {
        let text = p.to_str().unwrap_or_default();
        if !is_remote(p) && !keys.contains_key(text) {
            let name = crate::fleet::safe_file_name(p.file_name().and_then(|n| n.to_str()));
            let key = crate::fleet::job_key(&id, &format!("inputs/{nonce}-{}/{name}", keys.len()));
            keys.insert(text.to_string(), key);
        }
    });
    name_owned_media(&mut spec, caller, &keys)?;
    check_spec(gw, &spec).await?;
    let mut stored: Vec<String> = Vec::new();
    let mut used = 0u64;
    let result = async {
        while let Some(field) = multipart.next_field().await.map_err(malformed)? {
            let named = [field.name(), field.file_name()]
                .into_iter()
                .flatten()
                .find_map(|n| keys.get_key_value(n));
            let Some((name, key)) = named else {
                return Err(ApiError::BadRequest(format!(
                    "part `{}`: the spec names no such file",
                    field.name().unwrap_or_default()
                )));
            };
            if stored.contains(key) {
                return Err(ApiError::BadRequest(format!("file `{name}` is sent twice")));
            }
            let key = key.clone();
            let stream = field.map_err(std::io::Error::other);
            // Past the limit `store_stream` leaves nothing, so `stored`
            // holds only whole files.
            let (size, _) = store_stream(gw, &key, stream, gw.max_upload - used).await?;
            used += size;
            stored.push(key);
        }
        if let Some((missing, _)) = keys.iter().find(|(_, key)| !stored.contains(key)) {
            return Err(ApiError::InvalidSpec(format!(
                "`{missing}`: no part of the request holds this file"
            )));
        }
        Ok(())
    }
    .await;
    if let Err(e) = result {
        forget(gw, &stored).await;
        return Err(e);
    }
    Ok((spec, stored))
}

/// A part's bytes, refused past `limit`.
async fn read_bounded(mut field: multer::Field<'_>, limit: u64) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| ApiError::BadRequest(format!("malformed multipart: {e}")))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            return Err(ApiError::TooLarge { limit });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A name no other request of any gateway uses: the clock, the process and
/// a count.
fn request_nonce() -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format!(
        "{:x}-{:x}-{:x}",
        now.as_nanos(),
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Deletes the files a refused request stored.
async fn forget(gw: &Gateway, keys: &[String]) {
    for key in keys {
        if let Err(e) = gw.fleet.media.delete(key).await {
            tracing::warn!("gateway: cannot delete {key} of a refused job: {e}");
        }
    }
}
