//! The command-line client of the HTTP gateway (`--gateway URL`): `submit`,
//! `status` and `cancel` instead of NATS, and `jobs`, `retry`, `workers` and
//! `queues`, which only the gateway answers. Blocking (ureq).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Args;
use framejet_spec::fleet::{Event, EventBody, JobRecord};
use sha2::{Digest, Sha256};

use crate::fleet::{FollowProgress, FollowUpdate};
use crate::job::JobSpec;

/// Where the gateway is, for clients.
#[derive(Debug, Args)]
pub(crate) struct GatewayClientArgs {
    /// Talk to the fleet through this HTTP gateway instead of NATS.
    #[arg(
        long,
        env = "FRAMEJET_GATEWAY",
        value_name = "URL",
        conflicts_with = "servers"
    )]
    pub(crate) gateway: Option<String>,
    /// The gateway's bearer token (see `framejet token`).
    #[arg(
        long,
        env = "FRAMEJET_TOKEN",
        hide_env_values = true,
        requires = "gateway"
    )]
    pub(crate) gateway_token: Option<String>,
    /// Trust the certificates in this PEM file, and only them, for an
    /// `https://` gateway whose certificate no public authority signed.
    #[arg(
        long,
        env = "FRAMEJET_GATEWAY_CA",
        value_name = "FILE",
        requires = "gateway"
    )]
    pub(crate) gateway_ca: Option<PathBuf>,
}

impl GatewayClientArgs {
    /// A client when `--gateway` is given.
    pub(crate) fn client(&self) -> anyhow::Result<Option<GatewayClient>> {
        let Some(url) = &self.gateway else {
            return Ok(None);
        };
        GatewayClient::new(url, self.gateway_token.clone(), self.gateway_ca.as_deref()).map(Some)
    }
}

pub(crate) struct GatewayClient {
    agent: ureq::Agent,
    url: String,
    token: Option<String>,
}

impl GatewayClient {
    fn new(url: &str, token: Option<String>, ca: Option<&Path>) -> anyhow::Result<Self> {
        let mut config = ureq::Agent::config_builder().http_status_as_error(false);
        if let Some(ca) = ca {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(trusted_roots(ca)?)
                    .build(),
            );
        }
        Ok(GatewayClient {
            agent: config.build().into(),
            url: url.trim_end_matches('/').to_string(),
            token,
        })
    }

    fn request(&self, method: &str, path: &str) -> ureq::http::request::Builder {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request
    }

    /// Sends a request; an answer of 400 or more is an error with the
    /// gateway's `detail`.
    fn send(
        &self,
        request: ureq::http::Request<impl ureq::AsSendBody>,
    ) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        let what = format!("{} {}", request.method(), request.uri());
        let mut response = self
            .agent
            .run(request)
            .with_context(|| format!("{what}: the gateway did not answer"))?;
        let status = response.status();
        if status.as_u16() >= 400 {
            let body = response.body_mut().read_to_string().unwrap_or_default();
            let detail = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|p| p["detail"].as_str().map(str::to_string))
                .unwrap_or(body);
            bail!("{what}: {status}: {detail}");
        }
        Ok(response)
    }

    fn json<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<Option<T>> {
        let request = self.request(method, path);
        let mut response = match body {
            Some(body) => self.send(
                request
                    .header("Content-Type", "application/json")
                    .body(body)?,
            )?,
            None => self.send(request.body(())?)?,
        };
        if response.status().as_u16() == 204 {
            return Ok(None);
        }
        let text = response.body_mut().read_to_string()?;
        Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!("{method} {path}: an answer that is not the expected JSON")
        })?))
    }

    /// Uploads the spec's local files (as `inputs/<sha256>/<file name>` in
    /// the caller's media) and submits it. Returns the job's record.
    pub(crate) fn submit(
        &self,
        mut spec: JobSpec,
        id: Option<String>,
        webhook: Option<&str>,
    ) -> anyhow::Result<JobRecord> {
        let mut local = Vec::new();
        spec.for_each_path(|p| {
            if !framejet_spec::is_remote(p) && !local.contains(p) {
                local.push(p.clone());
            }
        });
        let mut names = Vec::new();
        for path in &local {
            names.push((path.clone(), self.upload(path)?));
        }
        spec.for_each_path(|p| {
            if let Some((_, name)) = names.iter().find(|(local, _)| local == p) {
                *p = PathBuf::from(format!("media:{name}"));
            }
        });
        if id.is_some() {
            spec.id = id;
        }
        let body = serde_json::to_vec(&spec)?;
        let path = match webhook {
            Some(url) => format!(
                "/v1/jobs?{}",
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("webhook", url)
                    .finish()
            ),
            None => "/v1/jobs".to_string(),
        };
        self.json("POST", &path, Some(body))?
            .context("the gateway answered a submit with no record")
    }

    /// Pushes a plugin component (admin); returns its digest.
    pub(crate) fn push_plugin(
        &self,
        name: &str,
        version: &str,
        wasm: Vec<u8>,
    ) -> anyhow::Result<String> {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("version", version)
            .finish();
        let request = self
            .request("PUT", &format!("/v1/plugins/{name}?{query}"))
            .header("Content-Type", "application/wasm")
            .body(wasm)?;
        let text = self.send(request)?.body_mut().read_to_string()?;
        let pushed: serde_json::Value = serde_json::from_str(&text)
            .context("the gateway answered a plugin push with no JSON")?;
        pushed["digest"]
            .as_str()
            .map(str::to_string)
            .context("the gateway answered a plugin push without a digest")
    }

    fn upload(&self, path: &Path) -> anyhow::Result<String> {
        let mut file =
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let mut hash = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
        }
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        let file_name = crate::fleet::safe_file_name(path.file_name().and_then(|n| n.to_str()));
        let name = format!("inputs/{hex}/{file_name}");
        let file = std::fs::File::open(path)?;
        let request = self
            .request("PUT", &format!("/v1/media/{name}"))
            .body(ureq::SendBody::from_owned_reader(file))?;
        self.send(request)?;
        Ok(name)
    }

    pub(crate) fn record(&self, id: &str) -> anyhow::Result<JobRecord> {
        self.json("GET", &format!("/v1/jobs/{id}"), None)?
            .context("the gateway answered with no record")
    }

    /// `GET path` as JSON.
    pub(crate) fn get(&self, path: &str) -> anyhow::Result<serde_json::Value> {
        self.json("GET", path, None)?
            .context("the gateway answered with no body")
    }

    /// Job `id` again, as a new job; returns the new job's record.
    pub(crate) fn retry(&self, id: &str) -> anyhow::Result<JobRecord> {
        self.json("POST", &format!("/v1/jobs/{id}/retry"), Some(Vec::new()))?
            .context("the gateway answered a retry with no record")
    }

    /// Cancels job `id` (and deletes its data with `purge`); returns its
    /// record unless purged.
    pub(crate) fn cancel(&self, id: &str, purge: bool) -> anyhow::Result<Option<JobRecord>> {
        let path = if purge {
            format!("/v1/jobs/{id}?purge=true")
        } else {
            format!("/v1/jobs/{id}")
        };
        self.json("DELETE", &path, None)
    }

    /// Follows job `id`'s events until it ends; returns its final record.
    pub(crate) fn follow(
        &self,
        id: &str,
        mut on_update: impl FnMut(FollowUpdate),
    ) -> anyhow::Result<JobRecord> {
        let mut progress = FollowProgress::default();
        self.events(id, |event| {
            if let Some(update) = progress.update(event.body) {
                on_update(update);
            }
        })
    }

    /// Job `id`'s events from its start until it ends, as they come;
    /// returns its final record.
    pub(crate) fn events(
        &self,
        id: &str,
        mut on_event: impl FnMut(Event),
    ) -> anyhow::Result<JobRecord> {
        let request = self
            .request("GET", &format!("/v1/jobs/{id}/events"))
            .body(())?;
        let response = self.send(request)?;
        let reader = BufReader::new(response.into_body().into_reader());
        for line in reader.lines() {
            let line = line.context("the event stream broke off")?;
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let Ok(event) = serde_json::from_str::<Event>(data.trim_start()) else {
                continue;
            };
            let ended = matches!(event.body, EventBody::State { state, .. } if state.is_final());
            on_event(event);
            if ended {
                break;
            }
        }
        self.record(id)
    }

    /// Job `id`'s log (text).
    pub(crate) fn log(&self, id: &str) -> anyhow::Result<String> {
        let request = self
            .request("GET", &format!("/v1/jobs/{id}/log"))
            .body(())?;
        let mut response = self.send(request)?;
        Ok(response.body_mut().read_to_string()?)
    }

    /// Downloads job `record`'s output to `path`, and the mask PNGs its
    /// inpaint steps wrote beside it, named as `framejet run` names them.
    pub(crate) fn download(&self, record: &JobRecord, path: &Path) -> anyhow::Result<()> {
        let id = &record.id;
        let mut files = vec![(format!("/v1/jobs/{id}/output"), path.to_path_buf())];
        for (mask, local) in crate::fleet::mask_destinations(record, path)? {
            let route = format!("/v1/jobs/{id}/masks/{}/{}", mask.step, mask.item);
            files.push((route, local));
        }
        for (route, local) in &files {
            self.fetch(route, local)?;
        }
        Ok(())
    }

    /// GETs `route` into `path` (through a temporary file beside it, so
    /// `path` is whole or untouched).
    fn fetch(&self, route: &str, path: &Path) -> anyhow::Result<()> {
        let response = self.send(self.request("GET", route).body(())?)?;
        let partial = path.with_extension(format!("part-{}", std::process::id()));
        let copied = std::fs::File::create(&partial)
            .and_then(|mut file| std::io::copy(&mut response.into_body().into_reader(), &mut file));
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(e).with_context(|| format!("cannot write {}", path.display()));
        }
        std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
    }
}

/// What `jobs`, `retry`, `workers` and `queues` take.
#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// The HTTP gateway to ask.
    #[arg(long, env = "FRAMEJET_GATEWAY", value_name = "URL")]
    gateway: String,
    /// The gateway's bearer token (see `framejet token`).
    #[arg(long, env = "FRAMEJET_TOKEN", hide_env_values = true)]
    gateway_token: Option<String>,
    /// Trust the certificates in this PEM file, and only them, for an
    /// `https://` gateway whose certificate no public authority signed.
    #[arg(long, env = "FRAMEJET_GATEWAY_CA", value_name = "FILE")]
    gateway_ca: Option<PathBuf>,
    /// Print the gateway's JSON as it is.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    #[command(flatten)]
    list: ListArgs,
    /// Only jobs in this state (`queued`, `running`, `done`, `failed`, …).
    #[arg(long)]
    state: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Debug, Args)]
pub(crate) struct QueuesArgs {
    #[command(flatten)]
    list: ListArgs,
    /// (admin) Remove every task of this queue and fail their jobs.
    #[arg(long, value_name = "QUEUE")]
    purge: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    #[command(flatten)]
    list: ListArgs,
    /// The failed or cancelled job.
    job: String,
}

fn client(args: &ListArgs) -> anyhow::Result<GatewayClient> {
    GatewayClient::new(
        &args.gateway,
        args.gateway_token.clone(),
        args.gateway_ca.as_deref(),
    )
}

/// The certificates of a PEM file, as the only roots trusted (as curl's
/// `--cacert`).
fn trusted_roots(pem: &Path) -> anyhow::Result<ureq::tls::RootCerts> {
    let bytes = std::fs::read(pem).with_context(|| format!("cannot read {}", pem.display()))?;
    let mut roots = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        if let ureq::tls::PemItem::Certificate(cert) =
            item.with_context(|| format!("{}: not PEM", pem.display()))?
        {
            roots.push(cert);
        }
    }
    if roots.is_empty() {
        bail!(
            "{} holds no certificate (PEM `BEGIN CERTIFICATE`)",
            pem.display()
        );
    }
    Ok(roots.into())
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<std::process::ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(std::process::ExitCode::SUCCESS)
}

/// `framejet jobs`: the caller's jobs, one line each (`--json`: the page).
pub(crate) fn jobs(args: JobsArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = client(&args.list)?;
    let mut path = format!("/v1/jobs?limit={}", args.limit.clamp(1, 500));
    if let Some(state) = &args.state {
        path.push_str(&format!("&state={state}"));
    }
    let page = client.get(&path)?;
    if args.list.json {
        return print_json(&page);
    }
    for job in page["jobs"].as_array().into_iter().flatten() {
        println!(
            "{}\t{}\t{}/{} frames",
            job["id"].as_str().unwrap_or("?"),
            job["state"].as_str().unwrap_or("?"),
            job["segments"].as_array().map_or(0, |s| s
                .iter()
                .filter_map(|s| s["frames"].as_u64())
                .sum::<u64>()),
            job["total_frames"].as_u64().unwrap_or(0),
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `framejet retry ID`: a failed or cancelled job again; prints the new id.
pub(crate) fn retry(args: RetryArgs) -> anyhow::Result<std::process::ExitCode> {
    let record = client(&args.list)?.retry(&args.job)?;
    if args.list.json {
        return print_json(&record);
    }
    println!("{}", record.id);
    Ok(std::process::ExitCode::SUCCESS)
}

/// `framejet workers`: the live workers, one line each.
pub(crate) fn workers(args: ListArgs) -> anyhow::Result<std::process::ExitCode> {
    let workers = client(&args)?.get("/v1/workers")?;
    if args.json {
        return print_json(&workers);
    }
    for w in workers.as_array().into_iter().flatten() {
        println!(
            "{}\t{}/{} slots busy\tqueues {}",
            w["id"].as_str().unwrap_or("?"),
            w["busy"],
            w["slots"],
            w["queues"]
                .as_array()
                .map(|q| q
                    .iter()
                    .filter_map(|q| q.as_str())
                    .collect::<Vec<_>>()
                    .join(","))
                .unwrap_or_default(),
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `framejet queues`: each queue's waiting and in-flight tasks; `--purge`
/// empties one.
pub(crate) fn queues(args: QueuesArgs) -> anyhow::Result<std::process::ExitCode> {
    let client = client(&args.list)?;
    if let Some(queue) = &args.purge {
        let purged: serde_json::Value = client
            .json("POST", &format!("/v1/queues/{queue}/purge"), None)?
            .context("the gateway answered a purge with no body")?;
        if args.list.json {
            return print_json(&purged);
        }
        let jobs: Vec<&str> = purged["failed_jobs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|j| j.as_str())
            .collect();
        println!(
            "queue {queue}: {} tasks removed; failed jobs: {}",
            purged["tasks"],
            if jobs.is_empty() {
                "none".to_string()
            } else {
                jobs.join(", ")
            }
        );
        return Ok(std::process::ExitCode::SUCCESS);
    }
    let queues = client.get("/v1/queues")?;
    if args.list.json {
        return print_json(&queues);
    }
    for q in queues.as_array().into_iter().flatten() {
        let waiting: u64 = q["waiting"]
            .as_object()
            .map_or(0, |w| w.values().filter_map(|n| n.as_u64()).sum());
        println!(
            "{}\t{waiting} waiting\t{} in flight\t{} workers",
            q["queue"].as_str().unwrap_or("?"),
            q["in_flight"],
            q["workers"],
        );
    }
    Ok(std::process::ExitCode::SUCCESS)
}
