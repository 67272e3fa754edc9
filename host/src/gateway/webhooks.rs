//! Completion webhooks: a job submitted with `?webhook=URL` has its final
//! record POSTed there once it ends, signed with the gateway's secret.
//!
//! Every gateway of a fleet pulls the jobs' state events from one durable
//! consumer, so each end is delivered by one gateway, and survives a
//! gateway's restart. A delivery is acked once the receiver answers 2xx;
//! otherwise it is tried again with a growing delay, [`ATTEMPTS`] times.
//!
//! The request: `Content-Type: application/json`, the body
//! `{"event": "job.done", "delivery": N, "job": {record}}`, and the header
//! `Framejet-Signature: t=UNIX_SECONDS,v1=HEX`, where `HEX` is the
//! HMAC-SHA256 of `"{t}.{body}"` under the secret. `delivery` (also the
//! `Framejet-Delivery` header) is the same on every attempt, for receivers
//! that drop repeats.

use std::time::Duration;

use async_nats::jetstream::AckKind;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use framejet_spec::fleet::{Event, EventBody, JobRecord};
use futures_util::StreamExt;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::watch;

use crate::fleet::{Fleet, FleetError};

/// Deliveries of one job's end before it is given up (and logged).
pub const ATTEMPTS: i64 = 8;

/// How long a receiver has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The durable consumer every gateway shares.
const CONSUMER: &str = "gateway-webhooks";

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Framejet-Signature";

/// The key webhooks are signed with.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookSecretError {
    #[error("cannot read the webhook secret {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the webhook secret {path} is shorter than 16 bytes; make one with `openssl rand -hex 32`"
    )]
    Short { path: String },
}

impl WebhookSecret {
    /// The secret in `path`, without a trailing newline.
    pub fn load(path: &std::path::Path) -> Result<Self, WebhookSecretError> {
        let text = std::fs::read(path).map_err(|source| WebhookSecretError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let trimmed = text.trim_ascii_end().to_vec();
        if trimmed.len() < 16 {
            return Err(WebhookSecretError::Short {
                path: path.display().to_string(),
            });
        }
        Ok(Self(trimmed))
    }

    /// The `Framejet-Signature` value of `body` sent at `unix_seconds`.
    pub fn sign(&self, unix_seconds: u64, body: &[u8]) -> String {
        // An HMAC takes a key of any length.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(unix_seconds.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("t={unix_seconds},v1={hex}")
    }
}

/// Whether `url` may be a webhook: an absolute http(s) URL.
pub fn is_webhook_url(url: &str) -> bool {
    (url.starts_with("http://") || url.starts_with("https://"))
        && url
            .parse::<axum::http::Uri>()
            .is_ok_and(|u| u.host().is_some())
}

/// Delivers the webhooks of ended jobs until `stop` turns true.
pub(super) async fn deliver(fleet: Fleet, secret: WebhookSecret, mut stop: watch::Receiver<bool>) {
    loop {
        let served = tokio::select! {
            served = serve(&fleet, &secret) => served,
            _ = crate::fleet::stopped(&mut stop) => return,
        };
        if let Err(e) = served {
            tracing::warn!("webhooks: {e}; starting again in a second");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = crate::fleet::stopped(&mut stop) => return,
        }
    }
}

async fn serve(fleet: &Fleet, secret: &WebhookSecret) -> Result<(), FleetError> {
    let names = fleet.names();
    let stream = fleet
        .jetstream()
        .get_stream(names.events_stream())
        .await
        .map_err(|e| FleetError::nats("open the events stream", e))?;
    let consumer = stream
        .get_or_create_consumer(
            CONSUMER,
            pull::Config {
                durable_name: Some(CONSUMER.into()),
                filter_subject: names.event_subject("*", "state"),
                // From when the first gateway starts; later ones share its place.
                deliver_policy: DeliverPolicy::New,
                ack_policy: AckPolicy::Explicit,
                ack_wait: TIMEOUT * 3,
                max_deliver: ATTEMPTS,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| FleetError::nats("open the webhooks consumer", e))?;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| FleetError::nats("read the webhooks consumer", e))?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| FleetError::nats("read the webhooks consumer", e))?;
        let ack = match handle(fleet, secret, &message).await {
            Delivery::Done => AckKind::Ack,
            Delivery::Again(delay) => AckKind::Nak(Some(delay)),
        };
        if let Err(e) = message.ack_with(ack).await {
            tracing::debug!("webhooks: ack: {e}");
        }
    }
    Ok(())
}

enum Delivery {
    /// Delivered, not needed, or given up.
    Done,
    /// Try again after this long.
    Again(Duration),
}

async fn handle(
    fleet: &Fleet,
    secret: &WebhookSecret,
    message: &async_nats::jetstream::Message,
) -> Delivery {
    let Ok(event) = serde_json::from_slice::<Event>(&message.payload) else {
        return Delivery::Done;
    };
    let EventBody::State { state, .. } = event.body else {
        return Delivery::Done;
    };
    if !state.is_final() {
        return Delivery::Done;
    }
    let (seq, attempt) = message
        .info()
        .map_or((0, 1), |i| (i.stream_sequence, i.delivered));
    let record = match fleet.job_record(&event.job_id).await {
        Ok(record) => record,
        // Purged since: nobody to tell.
        Err(FleetError::Missing(_)) => return Delivery::Done,
        Err(e) => {
            tracing::warn!("webhooks: job {}: {e}", event.job_id);
            return Delivery::Again(backoff(attempt));
        }
    };
    let Some(url) = record.webhook.clone() else {
        return Delivery::Done;
    };
    let body = payload(&record, seq);
    let signature = secret.sign(crate::fleet::now_ms() / 1000, &body);
    let sent = tokio::task::spawn_blocking({
        let url = url.clone();
        move || post(&url, &body, &signature, seq)
    })
    .await
    .unwrap_or_else(|e| Err(e.to_string()));
    match sent {
        Ok(()) => Delivery::Done,
        Err(why) if attempt >= ATTEMPTS => {
            tracing::error!(
                "webhooks: job {}: {url} refused its last delivery ({why}); giving up after {ATTEMPTS}",
                record.id
            );
            Delivery::Done
        }
        Err(why) => {
            tracing::warn!(
                "webhooks: job {}: {url}: {why}; attempt {attempt} of {ATTEMPTS}",
                record.id
            );
            Delivery::Again(backoff(attempt))
        }
    }
}

/// The body of a delivery.
fn payload(record: &JobRecord, delivery: u64) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "event": format!("job.{}", record.state.name()),
        "delivery": delivery,
        "job": record,
    }))
    .unwrap_or_default()
}

/// 1 s, 2 s, 4 s … up to a minute.
fn backoff(attempt: i64) -> Duration {
    Duration::from_secs(1 << attempt.clamp(1, 7).saturating_sub(1)).min(Duration::from_secs(60))
}

/// POSTs one delivery; an answer other than 2xx is an error.
fn post(url: &str, body: &[u8], signature: &str, delivery: u64) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .post(url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, signature)
        .header("Framejet-Delivery", delivery.to_string())
        .send(body)
        .map_err(|e| e.to_string())?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", response.status()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_the_hmac_of_the_time_and_the_body() {
        // Python's hmac.new(b"Jefe", b"0.what do ya want for nothing?", sha256).
        let secret = WebhookSecret(b"Jefe".to_vec());
        assert_eq!(
            secret.sign(0, b"what do ya want for nothing?"),
            "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc"
        );
    }

    #[test]
    fn webhook_urls_are_absolute_http() {
        assert!(is_webhook_url("https://example.com/hook"));
        assert!(is_webhook_url("http://127.0.0.1:9000/h?x=1"));
        assert!(!is_webhook_url("ftp://example.com/"));
        assert!(!is_webhook_url("/relative"));
        assert!(!is_webhook_url("http://"));
    }
}
