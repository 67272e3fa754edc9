//! The fleet's commands: `worker`, `planner`, `submit`, `status`,
//! `cancel`, `up`, and `plugin push`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use framejet_spec::fleet::{FleetNames, JobRecord, JobState, TaskState};

use super::gateway_client::GatewayClientArgs;

use crate::fleet::{
    Fleet, FleetSettings, FollowUpdate, NatsOptions, Slots, SubmitOptions, UpOptions, WorkerOptions,
};
use crate::job::JobSpec;

/// Where the fleet is and how patient it is.
#[derive(Debug, Args)]
pub(crate) struct FleetArgs {
    /// NATS server URL(s), comma-separated.
    #[arg(
        long = "nats",
        env = "FRAMEJET_NATS",
        default_value = "nats://127.0.0.1:4222",
        value_delimiter = ','
    )]
    servers: Vec<String>,
    /// A NATS credentials file (`.creds`).
    #[arg(long, env = "FRAMEJET_NATS_CREDS", value_name = "FILE")]
    creds: Option<PathBuf>,
    /// A file holding an nkey seed.
    #[arg(long, env = "FRAMEJET_NATS_NKEY", value_name = "FILE")]
    nkey: Option<PathBuf>,
    /// A NATS token.
    #[arg(long, env = "FRAMEJET_NATS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    /// CA certificate (PEM) to trust for TLS.
    #[arg(long, value_name = "FILE")]
    tls_ca: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Client key (PEM) for mutual TLS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Names the fleet's subjects, streams, buckets and stores; fleets with
    /// different prefixes share a server without seeing each other.
    #[arg(long, env = "FRAMEJET_FLEET_PREFIX", default_value = FleetNames::DEFAULT_PREFIX)]
    prefix: String,
    /// How long a task may go without a sign of life before another worker gets it.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    ack_wait: Duration,
    /// How many times a task is tried before its job fails.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=100))]
    max_attempts: u32,
    /// How long inputs, plans, outputs and job records are kept.
    #[arg(long, default_value = "7days", value_parser = humantime::parse_duration)]
    retention: Duration,
}

impl FleetArgs {
    pub(super) async fn connect(&self, name: &str) -> anyhow::Result<Fleet> {
        let nats = NatsOptions {
            servers: self.servers.clone(),
            credentials: self.creds.clone(),
            nkey: self.nkey.clone(),
            token: self.token.clone(),
            tls_ca: self.tls_ca.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            name: Some(format!("framejet {name}")),
        };
        let settings = FleetSettings {
            names: FleetNames::new(&self.prefix)?,
            ack_wait: self.ack_wait,
            max_attempts: self.max_attempts,
            retention: self.retention,
            ..FleetSettings::default()
        };
        Ok(Fleet::connect(&nats, settings).await?)
    }
}

#[derive(Debug, Args)]
pub(crate) struct WorkerArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// The queues to serve, comma-separated.
    #[arg(long, default_value = "default,4k", value_delimiter = ',')]
    queues: Vec<String>,
    /// Tasks at once: a number, or `auto` (the cores divided by --encoder-threads, and no more
    /// than the GPU in use holds).
    #[arg(long, default_value = "auto", value_parser = parse_slots)]
    slots: Slots,
    /// Threads each segment's encoder gets (plans made here fix it for every worker).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    encoder_threads: u32,
    /// Routed capabilities this worker has (`gpu`, `nvenc`), comma-separated; a GPU in use
    /// adds `gpu`, and `nvenc` where its encoder opens.
    #[arg(long, value_delimiter = ',')]
    capabilities: Vec<String>,
    /// Also plan submitted jobs.
    #[arg(long)]
    planner: bool,
    /// Where inputs are cached and segments made (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
    /// The worker's id (default: host, pid and a random suffix).
    #[arg(long)]
    id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PlannerArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// Threads each segment's encoder gets, fixed in every plan.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=64))]
    encoder_threads: u32,
    /// Where inputs are cached for planning (default: a temporary directory).
    #[arg(long, value_name = "DIR")]
    cache: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    gateway: GatewayClientArgs,
    /// The job spec (`.json` or `.toml`); its local files are uploaded.
    spec: PathBuf,
    /// The job's id (default: the spec's `id`, else a new one).
    #[arg(long)]
    id: Option<String>,
    /// Wait for the job, showing progress; with -o, download the output.
    #[arg(long)]
    wait: bool,
    /// Where to download the output (implies --wait; its extension picks the container).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replace the output file if it exists.
    #[arg(short = 'y', long)]
    overwrite: bool,
    /// Print events as JSON lines.
    #[arg(long)]
    json: bool,
    /// (--gateway) POST the final record to this URL once the job ends,
    /// signed with the gateway's webhook secret.
    #[arg(long, value_name = "URL", requires = "gateway")]
    webhook: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct JobArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    gateway: GatewayClientArgs,
    /// The job's id.
    job: String,
    /// Print the whole job record as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    gateway: GatewayClientArgs,
    /// The job's id.
    job: String,
    /// Print the lines as they come until the job ends.
    #[arg(short, long)]
    follow: bool,
    /// JSON: with --follow, one event per line; else the job's id, state and log.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    gateway: GatewayClientArgs,
    /// The job's id.
    job: String,
    /// Also delete the job's plan, segments, output, events and record.
    #[arg(long)]
    purge: bool,
    /// Print the cancelled job's record as JSON (`{"id", "purged": true}`
    /// after --purge).
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpArgs {
    /// Worker processes to start.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Slots of each worker (default: auto).
    #[arg(long)]
    slots: Option<usize>,
    /// The NATS port (default: a free one).
    #[arg(long)]
    port: Option<u16>,
    /// The HTTP gateway's port on 127.0.0.1 (default: a free one).
    #[arg(long)]
    gateway_port: Option<u16>,
    /// The queues the workers serve, comma-separated.
    #[arg(long, default_value = "default,4k", value_delimiter = ',')]
    queues: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    #[command(flatten)]
    gateway: GatewayClientArgs,
    /// Print what was stored as JSON (`name`, `version`, `digest`).
    #[arg(long)]
    json: bool,
    /// The `.wasm` component.
    file: PathBuf,
    /// The name jobs use (default: the file's name).
    #[arg(long)]
    name: Option<String>,
    /// The version (jobs may pin `name@version`).
    #[arg(long, default_value = "0.0.0")]
    version: String,
}

fn parse_slots(s: &str) -> Result<Slots, String> {
    if s == "auto" {
        return Ok(Slots::Auto);
    }
    match s.parse::<usize>() {
        Ok(n) if (1..=1024).contains(&n) => Ok(Slots::Fixed(n)),
        _ => Err(format!("`{s}`: expected `auto` or a number from 1 to 1024")),
    }
}

pub(super) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub(crate) fn worker(args: WorkerArgs, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let registry = Arc::new(super::plugin_registry(plugin_dirs)?);
    runtime()?.block_on(async {
        let fleet = args.fleet.connect("worker").await?;
        crate::fleet::run_worker(
            fleet,
            WorkerOptions {
                queues: args.queues,
                slots: args.slots,
                encoder_threads: args.encoder_threads as usize,
                capabilities: args.capabilities,
                planner: args.planner,
                cache_dir: args.cache,
                id: args.id,
                registry,
            },
        )
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn planner(args: PlannerArgs, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let registry = Arc::new(super::plugin_registry(plugin_dirs)?);
    runtime()?.block_on(async {
        let fleet = args.fleet.connect("planner").await?;
        crate::fleet::run_planner(fleet, registry, args.encoder_threads as usize, args.cache)
            .await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn submit(args: SubmitArgs) -> anyhow::Result<ExitCode> {
    let mut spec = JobSpec::from_file(&args.spec)?;
    if let Some(output) = &args.output {
        spec.default_container_from(output);
        let taken = crate::job::run_outputs(&spec, output)
            .into_iter()
            .find(|file| file.path.exists());
        if let Some(file) = taken.filter(|_| !args.overwrite) {
            anyhow::bail!(
                "{} exists; pass -y/--overwrite to replace it",
                file.path.display()
            );
        }
    }
    // What can be checked here is checked before anything is uploaded.
    spec.validate()?;
    let wait = args.wait || args.output.is_some();
    let json = args.json;
    if let Some(client) = args.gateway.client()? {
        let record = client.submit(spec, args.id.clone(), args.webhook.as_deref())?;
        let id = record.id.clone();
        if !wait {
            println!("{id}");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("job {id} submitted");
        let record = client.follow(&id, |update| report(&id, &update, json))?;
        succeeded(&record)?;
        match &args.output {
            Some(output) => {
                client.download(&record, output)?;
                eprintln!("job {id} done: {}", output.display());
            }
            None => eprintln!("job {id} done (framejet status {id} shows its output)"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    runtime()?.block_on(async {
        let fleet = args.fleet.connect("submit").await?;
        let record = crate::fleet::submit_job(
            &fleet,
            spec,
            &SubmitOptions {
                id: args.id.clone(),
                ..SubmitOptions::default()
            },
        )
        .await?
        .record;
        let id = record.id.clone();
        if !wait {
            println!("{id}");
            return Ok(ExitCode::SUCCESS);
        }
        eprintln!("job {id} submitted");
        let record = crate::fleet::follow(&fleet, &id, |update| report(&id, &update, json)).await?;
        succeeded(&record)?;
        match &args.output {
            Some(output) => {
                crate::fleet::download_output(&fleet, &record, output, args.overwrite).await?;
                eprintln!("job {id} done: {}", output.display());
            }
            None => eprintln!("job {id} done (framejet status {id} shows its output)"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Ok when the job is done; else an error with its state and reason.
fn succeeded(record: &JobRecord) -> anyhow::Result<()> {
    if record.state == JobState::Done {
        return Ok(());
    }
    let why = record
        .error
        .as_ref()
        .map(|e| match &e.task {
            Some(task) => format!("{task}: {}", e.message),
            None => e.message.clone(),
        })
        .unwrap_or_default();
    anyhow::bail!(
        "job {} {}{}{why}",
        record.id,
        record.state.name(),
        if why.is_empty() { "" } else { ": " }
    )
}

fn report(id: &str, update: &FollowUpdate, json: bool) {
    if json {
        let line = match update {
            FollowUpdate::State(s) => serde_json::json!({"job": id, "state": s}),
            FollowUpdate::Progress { frames, total } => {
                serde_json::json!({"job": id, "frames": frames, "total_frames": total})
            }
            FollowUpdate::Log { level, message } => {
                serde_json::json!({"job": id, "level": level, "log": message})
            }
            FollowUpdate::Refused(reason) => serde_json::json!({"job": id, "refused": reason}),
        };
        println!("{line}");
        return;
    }
    match update {
        FollowUpdate::State(s) => eprintln!("job {id}: {}", s.name()),
        FollowUpdate::Progress { frames, total } if *total > 0 => {
            eprintln!(
                "job {id}: {frames}/{total} frames ({}%)",
                frames * 100 / total
            );
        }
        FollowUpdate::Progress { .. } => {}
        FollowUpdate::Log { level, message } => eprintln!("job {id}: [{level}] {message}"),
        FollowUpdate::Refused(reason) => eprintln!("job {id}: refused: {reason}"),
    }
}

pub(crate) fn status(args: JobArgs) -> anyhow::Result<ExitCode> {
    let record = match args.gateway.client()? {
        Some(client) => client.record(&args.job)?,
        None => runtime()?.block_on(async {
            let fleet = args.fleet.connect("status").await?;
            anyhow::Ok(fleet.job_record(&args.job).await?)
        })?,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&record)?);
    } else {
        print!("{}", describe_record(&record));
    }
    Ok(ExitCode::SUCCESS)
}

/// A job record for people: its state, progress, tasks and outcome.
fn describe_record(record: &JobRecord) -> String {
    use std::fmt::Write;
    let mut out = format!("job {}: {}", record.id, record.state.name());
    if let Some(queue) = &record.queue {
        let _ = write!(out, ", queue {queue}");
    }
    if let Some(owner) = &record.owner {
        let _ = write!(out, ", owner {owner}");
    }
    out.push('\n');
    if record.total_frames > 0 {
        let done = record
            .segments
            .iter()
            .filter(|s| s.state == TaskState::Done)
            .count();
        let _ = writeln!(
            out,
            "  frames {} of {}, segments done {done} of {}",
            record.frames_done(),
            record.total_frames,
            record.segments.len()
        );
    }
    let tasks = record
        .segments
        .iter()
        .enumerate()
        .map(|(i, task)| (format!("segment {i}"), task))
        .chain(record.audio.iter().map(|task| ("audio".to_string(), task)))
        .chain(
            record
                .finalize
                .iter()
                .map(|task| ("finalize".to_string(), task)),
        );
    for (name, task) in tasks {
        let _ = write!(out, "  {name}: {}", task.state.name());
        if let Some(worker) = &task.worker {
            let _ = write!(out, " on {worker}");
        }
        if task.attempts > 1 {
            let _ = write!(out, ", attempt {}", task.attempts);
        }
        if let (Some(start), Some(end)) = (task.started_at_ms, task.finished_at_ms) {
            let _ = write!(out, ", {:.1} s", end.saturating_sub(start) as f64 / 1000.0);
        }
        out.push('\n');
    }
    if let (Some(start), Some(end)) = (record.started_at_ms, record.finished_at_ms) {
        let _ = writeln!(
            out,
            "  took {:.1} s",
            end.saturating_sub(start) as f64 / 1000.0
        );
    }
    if let Some(output) = &record.output {
        let _ = writeln!(
            out,
            "  output {} ({} bytes, {} frames)",
            output.key, output.bytes, output.frames
        );
    }
    if let Some(error) = &record.error {
        let retry = if error.retryable {
            ", a retry may help"
        } else {
            ""
        };
        let _ = writeln!(out, "  error ({}{retry}): {}", error.kind, error.message);
    }
    out
}

/// `framejet logs`: the job's log, or with --follow its lines as they come.
pub(crate) fn logs(args: LogsArgs) -> anyhow::Result<ExitCode> {
    let json = args.json;
    let print = move |event: framejet_spec::fleet::Event| {
        if json {
            if let Ok(line) = serde_json::to_string(&event) {
                println!("{line}");
            }
        } else if let Some(line) = crate::fleet::log_line(&event) {
            println!("{line}");
        }
    };
    let print_log = |record: &JobRecord, text: &str| -> anyhow::Result<()> {
        if json {
            let value = serde_json::json!({"job": record.id, "state": record.state, "log": text});
            println!("{value}");
        } else {
            print!("{text}");
        }
        Ok(())
    };
    if let Some(client) = args.gateway.client()? {
        if args.follow {
            client.events(&args.job, print)?;
        } else {
            let record = client.record(&args.job)?;
            print_log(&record, &client.log(&args.job)?)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    runtime()?.block_on(async {
        let fleet = args.fleet.connect("logs").await?;
        if args.follow {
            crate::fleet::follow_events(&fleet, &args.job, print).await?;
        } else {
            let record = fleet.job_record(&args.job).await?;
            print_log(&record, &crate::fleet::job_log(&fleet, &record).await?)?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn cancel(args: CancelArgs) -> anyhow::Result<ExitCode> {
    let record = match args.gateway.client()? {
        Some(client) => client.cancel(&args.job, args.purge)?,
        None => runtime()?.block_on(async {
            let fleet = args.fleet.connect("cancel").await?;
            if args.purge {
                crate::fleet::purge_job(&fleet, &args.job).await?;
                return anyhow::Ok(None);
            }
            Ok(Some(crate::fleet::cancel_job(&fleet, &args.job).await?))
        })?,
    };
    match (record, args.json) {
        (Some(record), true) => println!("{}", serde_json::to_string_pretty(&record)?),
        (Some(record), false) => println!("job {}: {}", record.id, record.state.name()),
        (None, true) => println!("{}", serde_json::json!({"id": args.job, "purged": true})),
        (None, false) => println!("job {}: purged", args.job),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn up(args: UpArgs, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        crate::fleet::run_up(UpOptions {
            workers: args.workers,
            slots: args.slots,
            port: args.port,
            gateway_port: args.gateway_port,
            queues: args.queues,
            plugin_dirs: plugin_dirs.to_vec(),
        })
        .await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn push(args: PushArgs) -> anyhow::Result<ExitCode> {
    let wasm = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| crate::plugin::plugin_name_from_path(&args.file));
    let digest = match args.gateway.client()? {
        // The gateway checks it as `framejet plugin check` does.
        Some(client) => client.push_plugin(&name, &args.version, wasm)?,
        None => {
            let runtime_plugins =
                crate::plugin::PluginRuntime::new(crate::plugin::RuntimeConfig {
                    cache_dir: None,
                    ..Default::default()
                })?;
            runtime()?.block_on(async {
                let fleet = args.fleet.connect("plugin push").await?;
                anyhow::Ok(
                    crate::fleet::push_plugin(
                        &fleet,
                        &runtime_plugins,
                        &wasm,
                        &name,
                        &args.version,
                    )
                    .await?,
                )
            })?
        }
    };
    if args.json {
        let pushed = serde_json::json!({"name": name, "version": args.version, "digest": digest});
        println!("{pushed}");
    } else {
        println!("pushed {name}@{} ({digest})", args.version);
    }
    Ok(ExitCode::SUCCESS)
}
