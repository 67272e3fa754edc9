//! `framejet gateway`: the fleet over HTTP (axum on hyper). A thin front
//! to the fleet's subjects, buckets and stores: it never touches pixels,
//! streams uploads and downloads between the socket and the object store
//! (its memory does not grow with a file's size), and answers `/healthz`
//! without touching anything.
//!
//! Routes (all JSON unless said; errors are `application/problem+json`):
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz` | the process is alive |
//! | `GET /readyz` | NATS reachable, the fleet's streams present |
//! | `POST /v1/jobs` | submit a spec (JSON, or TOML with `Content-Type: application/toml`, or multipart: the spec, then its files); `?webhook=URL` |
//! | `GET /v1/jobs` | the caller's jobs, paged (`state`, `queue`, `limit`, `cursor`) |
//! | `GET /v1/jobs/{id}` | a job's record |
//! | `DELETE /v1/jobs/{id}` | cancel (`?purge=true`: also delete its data) |
//! | `GET /v1/jobs/{id}/events` | Server-Sent Events, resumable with `Last-Event-ID` |
//! | `GET /v1/jobs/{id}/log` | the job's log (text), kept with the output |
//! | `GET /v1/jobs/{id}/output` | the output, streamed, with `Range` and `ETag` |
//! | `GET /v1/jobs/{id}/masks/{step}/{item}` | a mask PNG an inpaint step wrote (`write_mask`) |
//! | `PUT /v1/media/{name}` | upload (streamed); answers size and sha256 |
//! | `GET /v1/media/{name}` | download (streamed, `Range`) |
//! | `POST /v1/jobs/{id}/retry` | a failed or cancelled job again, as `ID-retry-N` |
//! | `GET /v1/queues` | per queue: waiting, in flight, oldest waiting, workers |
//! | `POST /v1/queues/{name}/purge` | (admin) remove a queue's tasks, fail their jobs |
//! | `GET /v1/workers` | the workers' last heartbeats |
//! | `PUT /v1/plugins/{name}` | (admin) check and push a plugin component |
//! | `GET /openapi.json` | the OpenAPI 3.1 document, built from the route table (`api.rs`) |

mod api;
mod auth;
mod jobs;
mod media;
mod problem;
mod step_check;
mod submit;
mod tls;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::HeaderMap;
use tokio::sync::watch;

use crate::fleet::Fleet;
use crate::plugin::PluginRegistry;

pub use api::openapi;
pub use auth::{Role, Tokens, TokensError, new_token, token_digest};
pub use problem::{ApiError, Problem};
pub use tls::{TlsError, server_config};
pub use webhooks::{SIGNATURE_HEADER, WebhookSecret, WebhookSecretError};

/// A gateway's settings.
pub struct GatewayOptions {
    pub listen: SocketAddr,
    pub tokens: Tokens,
    /// The largest upload (`PUT /v1/media`) accepted, in bytes.
    pub max_upload: u64,
    /// The largest spec (`POST /v1/jobs`) accepted, in bytes.
    pub max_spec: u64,
    /// The plugins installed here; its runtime checks pushed plugins, and
    /// submitted specs' plugin steps are tried with them (`step_check`).
    pub plugins: Arc<PluginRegistry>,
    /// Signs completion webhooks; without it, none are sent.
    pub webhook_secret: Option<WebhookSecret>,
    /// Serve HTTPS with this certificate (see [`server_config`]); plain HTTP
    /// without it.
    pub tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
}

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct Gateway(Arc<Inner>);

pub(crate) struct Inner {
    fleet: Fleet,
    tokens: Tokens,
    max_upload: u64,
    max_spec: u64,
    step_check: step_check::StepCheck,
    webhook_secret: Option<WebhookSecret>,
}

impl std::ops::Deref for Gateway {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl Inner {
    fn caller(&self, headers: &HeaderMap) -> Result<auth::Caller, ApiError> {
        self.tokens.caller(headers)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("the HTTP server stopped: {0}")]
    Serve(std::io::Error),
}

/// Serves until `stop` turns true; requests under way get a few seconds to finish.
pub async fn run_gateway(
    fleet: Fleet,
    options: GatewayOptions,
    mut stop: watch::Receiver<bool>,
) -> Result<(), GatewayError> {
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .map_err(|source| GatewayError::Listen {
            addr: options.listen,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(options.listen);
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!("gateway: listening on {scheme}://{addr}");
    let gateway = Gateway(Arc::new(Inner {
        fleet,
        tokens: options.tokens,
        max_upload: options.max_upload,
        max_spec: options.max_spec,
        step_check: step_check::StepCheck::new(options.plugins),
        webhook_secret: options.webhook_secret.clone(),
    }));
    if let Some(secret) = options.webhook_secret {
        tokio::spawn(webhooks::deliver(
            gateway.fleet.clone(),
            secret,
            stop.clone(),
        ));
    }
    let mut grace = stop.clone();
    let router = api::router(gateway);
    let stopped = async move { crate::fleet::stopped(&mut stop).await };
    let serve = async move {
        match options.tls {
            Some(config) => {
                let listener = tls::TlsListener::new(listener, config)?;
                axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
            }
            None => {
                axum::serve(listener, router)
                    .with_graceful_shutdown(stopped)
                    .await
            }
        }
    };
    tokio::select! {
        served = serve => served.map_err(GatewayError::Serve),
        // Followers of a long job would hold a graceful stop open: they get
        // a few seconds, then their streams end (they resume with Last-Event-ID).
        _ = async {
            crate::fleet::stopped(&mut grace).await;
            tokio::time::sleep(STOP_GRACE).await;
        } => Ok(()),
    }
}

/// How long a stopping gateway lets open requests finish.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
