//! Connecting to a fleet: NATS connection options, the fleet's settings,
//! and the idempotent set-up of its streams, buckets and stores.

use std::path::PathBuf;
use std::time::Duration;

use async_nats::jetstream::{self, kv, object_store, stream};
use framejet_spec::fleet::FleetNames;

use super::FleetError;

/// How to reach the NATS server(s).
#[derive(Debug, Clone, Default)]
pub struct NatsOptions {
    /// Server URLs (`nats://host:4222`, `tls://…`); several for a cluster.
    pub servers: Vec<String>,
    /// A `.creds` file (JWT and nkey seed).
    pub credentials: Option<PathBuf>,
    /// A file holding an nkey seed.
    pub nkey: Option<PathBuf>,
    /// A token.
    pub token: Option<String>,
    /// CA certificate (PEM) to trust for TLS.
    pub tls_ca: Option<PathBuf>,
    /// Client certificate and key (PEM) for mutual TLS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The name this connection shows in the server's monitoring.
    pub name: Option<String>,
}

/// The fleet's settings: its names and how patient it is. Every process
/// of one fleet should use the same ones.
#[derive(Debug, Clone)]
pub struct FleetSettings {
    pub names: FleetNames,
    /// How long a task may go without a sign of life before JetStream
    /// hands it to another worker. Workers send in-progress acks at a
    /// third of it while they work.
    pub ack_wait: Duration,
    /// How many times a task is tried before its job fails.
    pub max_attempts: u32,
    /// How long inputs, plans, outputs and job records are kept.
    pub retention: Duration,
    /// How long events are kept.
    pub events_retention: Duration,
    /// How long a worker's heartbeat stays after its last beat.
    pub heartbeat_ttl: Duration,
}

impl Default for FleetSettings {
    fn default() -> Self {
        Self {
            names: FleetNames::default(),
            ack_wait: Duration::from_secs(30),
            max_attempts: 4,
            retention: Duration::from_secs(7 * 24 * 3600),
            events_retention: Duration::from_secs(24 * 3600),
            heartbeat_ttl: Duration::from_secs(10),
        }
    }
}

/// A connection to one fleet, with its streams, buckets and stores set up.
#[derive(Clone)]
pub struct Fleet {
    pub(crate) client: async_nats::Client,
    pub(crate) js: jetstream::Context,
    pub(crate) settings: FleetSettings,
    pub(crate) jobs: kv::Store,
    pub(crate) workers: kv::Store,
    pub(crate) media: object_store::ObjectStore,
    pub(crate) plugins: object_store::ObjectStore,
}

/// How long a media store's put waits for the server to store each chunk.
const STORE_ACK_WAIT: Duration = Duration::from_secs(60);

impl Fleet {
    /// Connects and makes sure the fleet's streams, buckets and stores
    /// exist (creating what is missing; what exists is left as it is).
    pub async fn connect(nats: &NatsOptions, settings: FleetSettings) -> Result<Fleet, FleetError> {
        let client = connect_client(nats).await?;
        let js = jetstream::new(client.clone());
        let names = &settings.names;
        let retention = settings.retention;
        // Work queues: a message is gone once a consumer acks it.
        let work_queue = |name: String, subject: String| stream::Config {
            name,
            subjects: vec![subject],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            max_age: retention,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        };
        ensure_stream(&js, work_queue(names.jobs_stream(), names.submit_subject())).await?;
        ensure_stream(&js, work_queue(names.work_stream(), names.work_subjects())).await?;
        ensure_stream(
            &js,
            stream::Config {
                name: names.events_stream(),
                subjects: vec![names.events_subjects()],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                max_age: settings.events_retention,
                ..Default::default()
            },
        )
        .await?;
        let jobs = ensure_kv(
            &js,
            kv::Config {
                bucket: names.jobs_bucket(),
                description: "framejet job records".into(),
                history: 1,
                max_age: retention,
                storage: stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        let workers = ensure_kv(
            &js,
            kv::Config {
                bucket: names.workers_bucket(),
                description: "framejet worker heartbeats".into(),
                history: 1,
                max_age: settings.heartbeat_ttl,
                storage: stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        // The media stores wait longer for each chunk's ack than other requests for their
        // answer: a busy server's disk can hold one for seconds in a large upload, and a put
        // that gives up loses all of it.
        let stores = jetstream::ContextBuilder::new()
            .timeout(STORE_ACK_WAIT)
            .build(client.clone());
        let media = ensure_store(
            &stores,
            object_store::Config {
                bucket: names.media_store(),
                description: Some("framejet inputs, plans, segments and outputs".into()),
                max_age: retention,
                storage: stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        let plugins = ensure_store(
            &stores,
            object_store::Config {
                bucket: names.plugins_store(),
                description: Some("framejet plugin components".into()),
                storage: stream::StorageType::File,
                ..Default::default()
            },
        )
        .await?;
        Ok(Fleet {
            client,
            js,
            settings,
            jobs,
            workers,
            media,
            plugins,
        })
    }

    /// The NATS connection, for what this API does not cover.
    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// The JetStream context.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub fn names(&self) -> &FleetNames {
        &self.settings.names
    }

    /// The stream of segment, audio and finalize tasks (`FJ_WORK`).
    pub(crate) async fn work_stream(&self) -> Result<jetstream::stream::Stream, FleetError> {
        self.js
            .get_stream(self.names().work_stream())
            .await
            .map_err(|e| FleetError::nats("open the work stream", e))
    }

    pub fn settings(&self) -> &FleetSettings {
        &self.settings
    }

    /// Publishes on a stream subject and waits for the stream's ack;
    /// `msg_id` makes a repeat within the dedup window a no-op.
    pub(crate) async fn publish(
        &self,
        subject: String,
        msg_id: Option<&str>,
        payload: Vec<u8>,
    ) -> Result<(), FleetError> {
        let mut headers = async_nats::HeaderMap::new();
        if let Some(id) = msg_id {
            headers.insert("Nats-Msg-Id", id);
        }
        let ack = self
            .js
            .publish_with_headers(subject.clone(), headers, payload.into())
            .await
            .map_err(|e| FleetError::nats(format!("publish on {subject}"), e))?;
        ack.await
            .map_err(|e| FleetError::nats(format!("publish on {subject}"), e))?;
        Ok(())
    }

    /// Waits until everything published is on the server.
    pub async fn flush(&self) -> Result<(), FleetError> {
        self.client
            .flush()
            .await
            .map_err(|e| FleetError::nats("flush", e))
    }
}

/// A NATS connection with `nats`'s options; it reconnects on its own.
async fn connect_client(nats: &NatsOptions) -> Result<async_nats::Client, FleetError> {
    let servers = if nats.servers.is_empty() {
        vec!["nats://127.0.0.1:4222".to_string()]
    } else {
        nats.servers.clone()
    };
    let mut options = async_nats::ConnectOptions::new()
        .name(nats.name.clone().unwrap_or_else(|| "framejet".into()))
        .connection_timeout(Duration::from_secs(5))
        .retry_on_initial_connect()
        .max_reconnects(None::<usize>);
    if let Some(path) = &nats.credentials {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| FleetError::io(path, e))?;
    }
    if let Some(path) = &nats.nkey {
        let seed = std::fs::read_to_string(path).map_err(|e| FleetError::io(path, e))?;
        options = options.nkey(seed.trim().to_string());
    }
    if let Some(token) = &nats.token {
        options = options.token(token.clone());
    }
    if let Some(ca) = &nats.tls_ca {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    match (&nats.tls_cert, &nats.tls_key) {
        (Some(cert), Some(key)) => {
            options = options
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
        }
        (None, None) => {}
        _ => {
            return Err(FleetError::Refused(
                "a TLS client certificate needs both --tls-cert and --tls-key".into(),
            ));
        }
    }
    // Fail on a server that is not there at all instead of retrying forever;
    // once connected, the client reconnects on its own.
    let first = servers.join(",");
    let probe = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::net::TcpStream::connect(server_host_port(&servers[0])),
    )
    .await;
    if !matches!(probe, Ok(Ok(_))) && servers.len() == 1 {
        let reason = match probe {
            Ok(Err(e)) => e.to_string(),
            _ => "timed out".into(),
        };
        return Err(FleetError::Refused(format!(
            "cannot connect to NATS at {first}: {reason} (is nats-server running? `framejet up` starts one)"
        )));
    }
    options
        .connect(servers.as_slice())
        .await
        .map_err(|source| FleetError::Connect {
            servers: first,
            source,
        })
}

/// `host:port` of a server URL (`nats://h:p`, `h:p`, `h`).
fn server_host_port(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let rest = rest.trim_end_matches('/');
    if rest
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        rest.to_string()
    } else {
        format!("{rest}:4222")
    }
}

async fn ensure_stream(js: &jetstream::Context, config: stream::Config) -> Result<(), FleetError> {
    let name = config.name.clone();
    js.get_or_create_stream(config)
        .await
        .map(drop)
        .map_err(|e| FleetError::nats(format!("set up stream {name}"), e))
}

async fn ensure_kv(js: &jetstream::Context, config: kv::Config) -> Result<kv::Store, FleetError> {
    if let Ok(store) = js.get_key_value(&config.bucket).await {
        return Ok(store);
    }
    let bucket = config.bucket.clone();
    match js.create_key_value(config).await {
        Ok(store) => Ok(store),
        // Another process made it meanwhile.
        Err(create) => js
            .get_key_value(&bucket)
            .await
            .map_err(|_| FleetError::nats(format!("set up bucket {bucket}"), create)),
    }
}

async fn ensure_store(
    js: &jetstream::Context,
    config: object_store::Config,
) -> Result<object_store::ObjectStore, FleetError> {
    if let Ok(store) = js.get_object_store(&config.bucket).await {
        return Ok(store);
    }
    let bucket = config.bucket.clone();
    match js.create_object_store(config).await {
        Ok(store) => Ok(store),
        Err(create) => js
            .get_object_store(&bucket)
            .await
            .map_err(|_| FleetError::nats(format!("set up object store {bucket}"), create)),
    }
}

#[cfg(test)]
mod tests {
    use super::server_host_port;

    #[test]
    fn host_and_port_of_a_server_url() {
        assert_eq!(server_host_port("nats://127.0.0.1:4333"), "127.0.0.1:4333");
        assert_eq!(
            server_host_port("tls://u:p@nats.example:4222/"),
            "nats.example:4222"
        );
        assert_eq!(server_host_port("localhost"), "localhost:4222");
    }
}
