//! The gateway's routes as one table: the router and the OpenAPI 3.1
//! document (`GET /openapi.json`) are both built from it, with the JSON
//! Schemas of the very types the handlers take and return, so the document
//! cannot drift from what is served.

use axum::Router;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post, put};
use schemars::{SchemaGenerator, generate::SchemaSettings};
use serde_json::{Value, json};

use framejet_spec::JobSpec;
use framejet_spec::fleet::{JobRecord, WorkerStatus};

use super::auth::Role;
use super::jobs::{self, JobList, QueueState, Ready};
use super::media::{self, Pushed, Uploaded};
use super::submit;
use super::{Gateway, Problem};

/// What a response carries.
enum Body {
    /// JSON of this schema (a `$ref` or an inline schema).
    Json(Value),
    /// Bytes of this media type.
    Bytes(&'static str),
    /// `text/event-stream`.
    Events,
    /// No body.
    Empty,
}

/// One operation: a method on a path, what it needs and what it answers.
struct Operation {
    method: Method,
    path: &'static str,
    summary: &'static str,
    /// The role a token needs (`None`: no token).
    role: Option<Role>,
    /// The request body: each media type with its schema.
    request: Vec<(&'static str, Value)>,
    /// Query and header parameters: (in, name, description).
    parameters: &'static [(&'static str, &'static str, &'static str)],
    /// The answers other than errors (those are `default`: a problem).
    responses: Vec<(u16, &'static str, Body)>,
    handler: MethodRouter<Gateway>,
}

/// Every operation, with the schemas it names collected in `schemas`.
fn operations(schemas: &mut SchemaGenerator) -> Vec<Operation> {
    let record = schemas.subschema_for::<JobRecord>().to_value();
    let spec = schemas.subschema_for::<JobSpec>().to_value();
    let list = schemas.subschema_for::<JobList>().to_value();
    let workers = schemas.subschema_for::<Vec<WorkerStatus>>().to_value();
    let queues = schemas.subschema_for::<Vec<QueueState>>().to_value();
    let uploaded = schemas.subschema_for::<Uploaded>().to_value();
    let pushed = schemas.subschema_for::<Pushed>().to_value();
    let ready = schemas.subschema_for::<Ready>().to_value();
    let purged = schemas
        .subschema_for::<crate::fleet::PurgedQueue>()
        .to_value();
    // Errors (`default`) refer to it.
    schemas.subschema_for::<Problem>();
    let range = &[
        (
            "header",
            "Range",
            "one byte range, `bytes=A-B`, `bytes=A-` or `bytes=-N`",
        ),
        ("header", "If-None-Match", "an ETag from an earlier answer"),
    ];
    vec![
        Operation {
            method: Method::GET,
            path: "/healthz",
            summary: "The process is alive (touches nothing).",
            role: None,
            request: vec![],
            parameters: &[],
            responses: vec![(200, "alive", Body::Bytes("text/plain; charset=utf-8"))],
            handler: get(|| async { "ok\n" }),
        },
        Operation {
            method: Method::GET,
            path: "/readyz",
            summary: "NATS answers and the fleet's streams exist.",
            role: None,
            request: vec![],
            parameters: &[],
            responses: vec![(200, "ready", Body::Json(ready))],
            handler: get(jobs::ready),
        },
        Operation {
            method: Method::GET,
            path: "/openapi.json",
            summary: "This document.",
            role: None,
            request: vec![],
            parameters: &[],
            responses: vec![(
                200,
                "the OpenAPI document",
                Body::Json(json!({"type": "object"})),
            )],
            handler: get(openapi_json),
        },
        Operation {
            method: Method::POST,
            path: "/v1/jobs",
            summary: "Submits a job. Its files are `media:NAME` (uploaded with PUT /v1/media/NAME), http(s):// URLs, or parts of a multipart request; a spec that fails the checks of `framejet run` answers 422 naming the field.",
            role: Some(Role::Submit),
            request: vec![
                ("application/json", spec.clone()),
                ("application/toml", spec),
                (
                    "multipart/form-data",
                    json!({
                        "type": "object",
                        "description": "the spec first (part `spec`, JSON or TOML), then one part per file it names: a part named (or with the file name) as a spec path stands for that file",
                        "properties": {"spec": {"type": "string"}},
                        "required": ["spec"],
                        "additionalProperties": {"type": "string", "contentMediaType": "application/octet-stream"}
                    }),
                ),
            ],
            parameters: &[(
                "query",
                "webhook",
                "an http(s) URL the final record is POSTed to once the job ends, signed in `Framejet-Signature: t=UNIX_SECONDS,v1=HEX` (HMAC-SHA256 of `{t}.{body}` under the gateway's --webhook-secret)",
            )],
            responses: vec![
                (
                    201,
                    "queued: the new job's record",
                    Body::Json(record.clone()),
                ),
                (
                    200,
                    "this id with this spec exists: its record",
                    Body::Json(record.clone()),
                ),
            ],
            handler: post(submit::submit),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs",
            summary: "The caller's jobs (every owner's for an admin), by id, a page at a time.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[
                ("query", "state", "only jobs in this state"),
                ("query", "queue", "only jobs routed to this queue"),
                ("query", "limit", "jobs per page (default 50, at most 500)"),
                ("query", "cursor", "the `next` of the previous page"),
            ],
            responses: vec![(200, "a page of job records", Body::Json(list))],
            handler: get(jobs::list),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs/{id}",
            summary: "A job's record: state, progress, segments and their workers, timings, output, error.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[],
            responses: vec![(200, "the record", Body::Json(record.clone()))],
            handler: get(jobs::record),
        },
        Operation {
            method: Method::DELETE,
            path: "/v1/jobs/{id}",
            summary: "Cancels a job; with `purge=true` also deletes its objects, events and record.",
            role: Some(Role::Submit),
            request: vec![],
            parameters: &[("query", "purge", "`true`: delete the job's data too")],
            responses: vec![
                (200, "cancelled: the record", Body::Json(record.clone())),
                (204, "purged", Body::Empty),
            ],
            handler: axum::routing::delete(jobs::cancel),
        },
        Operation {
            method: Method::POST,
            path: "/v1/jobs/{id}/retry",
            summary: "A failed or cancelled job again: its spec as a new job `ID-retry-N`.",
            role: Some(Role::Submit),
            request: vec![],
            parameters: &[],
            responses: vec![(201, "the new job's record", Body::Json(record))],
            handler: post(jobs::retry),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs/{id}/events",
            summary: "The job's events as Server-Sent Events (`state`, `progress`, `task`, `log`, `refused`), each with its id; ends after the job's end.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[("header", "Last-Event-ID", "resume after this event's id")],
            responses: vec![(200, "the event stream", Body::Events)],
            handler: get(jobs::events),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs/{id}/log",
            summary: "The job's log: state changes, task starts, plugin and encoder lines, one per line after the time. Stored with the output once the job ends; made from its events while it runs.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[],
            responses: vec![(200, "the log", Body::Bytes("text/plain; charset=utf-8"))],
            handler: get(jobs::log),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs/{id}/output",
            summary: "A finished job's output, streamed.",
            role: Some(Role::Read),
            request: vec![],
            parameters: range,
            responses: vec![
                (200, "the output", Body::Bytes("application/octet-stream")),
                (
                    206,
                    "the byte range asked for",
                    Body::Bytes("application/octet-stream"),
                ),
                (304, "unchanged since the ETag given", Body::Empty),
            ],
            handler: get(media::output),
        },
        Operation {
            method: Method::GET,
            path: "/v1/jobs/{id}/masks/{step}/{item}",
            summary: "The mask PNG an inpaint step with `write_mask` wrote for an input (the record's `output.masks`), streamed.",
            role: Some(Role::Read),
            request: vec![],
            parameters: range,
            responses: vec![
                (200, "the mask", Body::Bytes("image/png")),
                (206, "the byte range asked for", Body::Bytes("image/png")),
                (304, "unchanged since the ETag given", Body::Empty),
            ],
            handler: get(media::mask),
        },
        Operation {
            method: Method::PUT,
            path: "/v1/media/{name}",
            summary: "Uploads media under the caller's `name` (slashes allowed, no `..`), streamed.",
            role: Some(Role::Submit),
            request: vec![("application/octet-stream", json!({}))],
            parameters: &[],
            responses: vec![(200, "stored", Body::Json(uploaded))],
            handler: put(media::upload),
        },
        Operation {
            method: Method::GET,
            path: "/v1/media/{name}",
            summary: "The caller's media `name`, streamed.",
            role: Some(Role::Read),
            request: vec![],
            parameters: range,
            responses: vec![
                (200, "the bytes", Body::Bytes("application/octet-stream")),
                (
                    206,
                    "the byte range asked for",
                    Body::Bytes("application/octet-stream"),
                ),
            ],
            handler: get(media::download),
        },
        Operation {
            method: Method::GET,
            path: "/v1/workers",
            summary: "Each live worker's last heartbeat.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[],
            responses: vec![(200, "the workers", Body::Json(workers))],
            handler: get(jobs::workers),
        },
        Operation {
            method: Method::GET,
            path: "/v1/queues",
            summary: "Per queue: waiting tasks by priority, in flight, the oldest waiting's age, workers.",
            role: Some(Role::Read),
            request: vec![],
            parameters: &[],
            responses: vec![(200, "the queues", Body::Json(queues))],
            handler: get(jobs::queues),
        },
        Operation {
            method: Method::POST,
            path: "/v1/queues/{name}/purge",
            summary: "(admin) Removes every task of the queue, waiting or in flight, and fails their jobs (`error.kind`: `purged`).",
            role: Some(Role::Admin),
            request: vec![],
            parameters: &[],
            responses: vec![(200, "purged", Body::Json(purged))],
            handler: post(jobs::purge_queue),
        },
        Operation {
            method: Method::PUT,
            path: "/v1/plugins/{name}",
            summary: "Checks a plugin component as `framejet plugin check` does and pushes it to the fleet.",
            role: Some(Role::Admin),
            request: vec![("application/wasm", json!({}))],
            parameters: &[(
                "query",
                "version",
                "the version to store it as (default 0.0.0)",
            )],
            responses: vec![(200, "pushed", Body::Json(pushed))],
            handler: put(media::push_plugin),
        },
    ]
}

/// The generator whose definitions become `components/schemas`.
fn generator() -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.into_generator()
}

/// The router of every operation.
pub(super) fn router(gateway: Gateway) -> Router {
    let mut router = Router::new();
    for op in operations(&mut generator()) {
        // axum names a wildcard `{*name}`; the document, `{name}`.
        let path = op.path.replace("/v1/media/{name}", "/v1/media/{*name}");
        router = router.route(&path, op.handler);
    }
    router
        .layer(axum::middleware::from_fn(close_after_refusing_a_body))
        .with_state(gateway)
}

/// An error answered to a request with a body: the body may be unread (a
/// refusal comes before reading it), so the connection closes after the
/// answer and a client does not send its next request on it.
async fn close_after_refusing_a_body(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::header;
    let has_body = request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|v| v != "0");
    let mut response = next.run(request).await;
    if has_body && response.status().as_u16() >= 400 {
        response.headers_mut().insert(
            header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// The OpenAPI 3.1 document.
pub fn openapi() -> Value {
    let mut schemas = generator();
    let ops = operations(&mut schemas);
    let mut paths = serde_json::Map::new();
    for op in ops {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|p| p.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
            .map(|name| json!({"in": "path", "name": name, "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(op.parameters.iter().map(|(place, name, what)| {
            json!({"in": place, "name": name, "description": what, "schema": {"type": "string"}})
        }));
        let mut responses = serde_json::Map::new();
        for (status, what, body) in op.responses {
            let content = match body {
                Body::Json(schema) => json!({"application/json": {"schema": schema}}),
                Body::Bytes(kind) => {
                    json!({kind: {"schema": {"type": "string", "format": "binary"}}})
                }
                Body::Events => json!({"text/event-stream": {"schema": {"type": "string"}}}),
                Body::Empty => Value::Null,
            };
            let mut response = json!({"description": what});
            if !content.is_null() {
                response["content"] = content;
            }
            responses.insert(status.to_string(), response);
        }
        responses.insert(
            "default".into(),
            json!({"description": "an error", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}),
        );
        let mut operation = json!({
            "summary": op.summary,
            "parameters": parameters,
            "responses": responses,
        });
        match op.role {
            None => operation["security"] = json!([]),
            Some(role) => operation["x-framejet-role"] = json!(role.name()),
        }
        if !op.request.is_empty() {
            let content: serde_json::Map<String, Value> = op
                .request
                .into_iter()
                .map(|(kind, schema)| (kind.to_string(), json!({"schema": schema})))
                .collect();
            operation["requestBody"] = json!({"required": true, "content": content});
        }
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method.as_str().to_ascii_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "framejet gateway",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The fleet over HTTP: submit jobs, follow their events, fetch outputs, upload media. Errors are application/problem+json.",
        },
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.take_definitions(true),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    })
}

async fn openapi_json() -> axum::Json<Value> {
    axum::Json(openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_documented_with_resolvable_schemas() {
        let doc = openapi();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(
            paths
                .values()
                .map(|p| p.as_object().unwrap().len())
                .sum::<usize>(),
            operations(&mut generator()).len()
        );
        let text = doc.to_string();
        // Every reference names a schema the document holds.
        let schemas = doc["components"]["schemas"].as_object().unwrap();
        for (at, _) in text.match_indices("#/components/schemas/") {
            let name: String = text[at + 21..].chars().take_while(|c| *c != '"').collect();
            assert!(
                schemas.contains_key(&name),
                "{name} is referenced, not defined"
            );
        }
        assert!(schemas.contains_key("JobRecord") && schemas.contains_key("Problem"));
    }
}
