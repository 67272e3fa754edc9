//! The `framejet` command line: parses arguments, sets up logging and maps
//! errors to one readable line and an exit code.

mod fleet;
mod gateway;
mod gateway_client;
mod gpu;
mod plugin;
mod probe;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// framejet: video jobs with WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(
    name = "framejet",
    version,
    about,
    propagate_version = true,
    after_help = "Examples:
  framejet run job.json -o out.mp4          run a job on this machine
  framejet probe input.mp4                  what framejet sees in a file
  framejet plugin list                      the plugins on the search path
  framejet up --workers 2                   a fleet on this machine (NATS, planner, workers)
  framejet submit job.json -o out.mp4       run a job on a fleet, fetch its output
  framejet completions bash > ~/.local/share/bash-completion/completions/framejet"
)]
struct Cli {
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Directory to search for plugins, before the default search path
    /// (repeatable; `FRAMEJET_PLUGIN_PATH` works too).
    #[arg(long = "plugins", value_name = "DIR", global = true)]
    plugin_dirs: Vec<PathBuf>,

    /// Where the kernels run: `auto` (the first visible GPU, else the CPU), `off`, a GPU
    /// number among the visible ones, or `emulate` (the CUDA kernels run on the CPU, slowly:
    /// to check the GPU path without a GPU).
    #[arg(
        long,
        global = true,
        value_name = "auto|off|ID|emulate",
        env = "FRAMEJET_GPU",
        default_value = "auto"
    )]
    gpu: crate::job::gpu::GpuChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a job on this machine, no server: plan, segments in parallel, finalize.
    #[command(after_help = "Examples:
  framejet run job.json -o out.mp4             the container comes from the file name
  framejet run job.toml -o out.mkv --jobs 4    four segments at once
  framejet run job.json -o out.mp4 -y          replace out.mp4 (and its .log) if they exist
  framejet run job.json -o out.mp4 --json      progress as JSON lines, for programs")]
    Run(run::RunArgs),
    /// Shows what framejet sees in a media file.
    #[command(after_help = "Examples:
  framejet probe input.mp4           streams, frames, keyframes, rotation
  framejet probe input.mp4 --json    the same as JSON")]
    Probe(probe::ProbeArgs),
    /// What GPUs framejet can use here: memory, engines, or why there are none.
    #[command(
        subcommand,
        after_help = "Examples:
  framejet gpu info                  each visible GPU: memory, compute capability, NVDEC, NVENC
  framejet gpu info --json
  framejet gpu info --gpu 1          only GPU 1 (of the visible ones)
  CUDA_VISIBLE_DEVICES=1 framejet gpu info"
    )]
    Gpu(gpu::GpuCommand),
    /// Prints the JSON Schema of job specs (--fleet: of the fleet's messages and records).
    #[command(after_help = "Examples:
  framejet schema > job.schema.json
  framejet schema --fleet > fleet.schema.json")]
    Schema {
        /// The schemas of the fleet's messages and records (docs/subjects.md).
        #[arg(long)]
        fleet: bool,
    },
    /// Work with plugins: check a component, start a new one, list them.
    #[command(
        subcommand,
        after_help = "Examples:
  framejet plugin new overlay my-badge
  framejet plugin check my_badge.wasm
  framejet plugin list"
    )]
    Plugin(plugin::PluginCommand),
    /// Serves a fleet: pulls segment, audio and finalize tasks from NATS JetStream.
    #[command(after_help = "Examples:
  framejet worker --nats nats://10.0.0.5:4222 --queues default,4k --slots auto
  framejet worker --planner --slots 2             also plan submitted jobs
  framejet worker --capabilities gpu,nvenc --queues gpu")]
    Worker(fleet::WorkerArgs),
    /// Plans jobs submitted to a fleet and queues their tasks.
    #[command(after_help = "Example:
  framejet planner --nats nats://10.0.0.5:4222")]
    Planner(fleet::PlannerArgs),
    /// Submits a job to a fleet, uploading its local files; --wait follows it.
    #[command(after_help = "Examples:
  framejet submit job.json                      prints the job's id
  framejet submit job.json -o out.mp4           waits, shows progress, downloads the output
  framejet submit job.json --id clip-42 --wait --json
  framejet submit --gateway http://10.0.0.5:8080 --gateway-token $T job.json -o out.mp4")]
    Submit(fleet::SubmitArgs),
    /// Prints a fleet job's state, progress, segments and their workers, output and error.
    #[command(after_help = "Examples:
  framejet status clip-42
  framejet status clip-42 --json             the whole job record, for scripts")]
    Status(fleet::JobArgs),
    /// Prints a fleet job's log; --follow prints its lines as they come until it ends.
    #[command(after_help = "Examples:
  framejet logs clip-42                      state changes, task starts, plugin and encoder lines
  framejet logs clip-42 --follow --json      every event as a JSON line until the job ends
  framejet logs clip-42 --gateway http://10.0.0.5:8080")]
    Logs(fleet::LogsArgs),
    /// Cancels a fleet job: running segments stop between frames, the rest never run.
    #[command(after_help = "Examples:
  framejet cancel clip-42
  framejet cancel clip-42 --purge     also delete its plan, output, events and record")]
    Cancel(fleet::CancelArgs),
    /// Serves the fleet over HTTP: jobs, events (SSE), outputs, media, workers.
    #[command(after_help = "Examples:
  framejet gateway --nats nats://10.0.0.5:4222 --listen 0.0.0.0:8080 --tokens tokens.toml
  framejet gateway --listen 127.0.0.1:8080       no tokens: every request is admin of `local`
  curl -X PUT --data-binary @clip.mp4 localhost:8080/v1/media/clip.mp4
  curl -d '{\"inputs\":[{\"src\":\"media:clip.mp4\"}]}' localhost:8080/v1/jobs")]
    Gateway(gateway::GatewayArgs),
    /// Makes a new gateway token and prints it with the line for the tokens file.
    #[command(after_help = "Example:
  framejet token --role submit --owner alice >> tokens.toml")]
    Token(gateway::TokenArgs),
    /// Lists your jobs through the gateway.
    #[command(after_help = "Examples:
  framejet jobs --gateway http://10.0.0.5:8080 --state failed
  framejet jobs --json")]
    Jobs(gateway_client::JobsArgs),
    /// Runs a failed or cancelled job again (as ID-retry-N) through the gateway.
    #[command(after_help = "Example:
  framejet retry clip-42 --gateway http://10.0.0.5:8080")]
    Retry(gateway_client::RetryArgs),
    /// Lists the live workers (slots, busy, queues) through the gateway.
    Workers(gateway_client::ListArgs),
    /// Shows each queue's waiting and in-flight tasks through the gateway; --purge empties one.
    #[command(after_help = "Examples:
  framejet queues --gateway http://10.0.0.5:8080
  framejet queues --purge batch        (admin) remove its tasks and fail their jobs")]
    Queues(gateway_client::QueuesArgs),
    /// Starts a fleet on this machine: nats-server, a planner, workers, a gateway; Ctrl-C stops it.
    #[command(after_help = "Examples:
  framejet up                       two workers, slots chosen from the cores
  framejet up --workers 4 --slots 1 --port 4222")]
    Up(fleet::UpArgs),
    /// Prints a shell completion script.
    #[command(after_help = "Examples:
  framejet completions bash > ~/.local/share/bash-completion/completions/framejet
  framejet completions zsh > ~/.zfunc/_framejet
  framejet completions fish > ~/.config/fish/completions/framejet.fish")]
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        shell: clap_complete::Shell,
    },
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    crate::job::gpu::configure(cli.gpu);
    let result = match cli.command {
        Command::Run(args) => run::run(args, &cli.plugin_dirs),
        Command::Probe(args) => probe::run(args),
        Command::Gpu(command) => gpu::run(command, cli.gpu),
        Command::Schema { fleet } => serde_json::to_string_pretty(&if fleet {
            framejet_spec::fleet::json_schemas()
        } else {
            crate::job::spec::json_schema()
        })
        .map(|schema| {
            println!("{schema}");
            ExitCode::SUCCESS
        })
        .map_err(anyhow::Error::from),
        Command::Plugin(cmd) => plugin::run(cmd, &cli.plugin_dirs),
        Command::Worker(args) => fleet::worker(args, &cli.plugin_dirs),
        Command::Planner(args) => fleet::planner(args, &cli.plugin_dirs),
        Command::Submit(args) => fleet::submit(args),
        Command::Status(args) => fleet::status(args),
        Command::Logs(args) => fleet::logs(args),
        Command::Cancel(args) => fleet::cancel(args),
        Command::Jobs(args) => gateway_client::jobs(args),
        Command::Retry(args) => gateway_client::retry(args),
        Command::Workers(args) => gateway_client::workers(args),
        Command::Queues(args) => gateway_client::queues(args),
        Command::Up(args) => fleet::up(args, &cli.plugin_dirs),
        Command::Gateway(args) => gateway::gateway(args, &cli.plugin_dirs),
        Command::Token(args) => gateway::token(args),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "framejet",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each cause once: a message that
/// already quotes its cause does not get it appended again.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn init_logging(verbose: u8) {
    // FFmpeg's own lines (target `ffmpeg`) go to the job log; on the
    // terminal only when asked for with -v.
    let default = match verbose {
        0 => "warn,framejet=info,ffmpeg=off",
        1 => "info,framejet=debug,ffmpeg=warn",
        _ => "debug,framejet=trace,ffmpeg=debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The plugin registry for the command line's search path.
pub(crate) fn plugin_registry(
    extra_dirs: &[PathBuf],
) -> anyhow::Result<crate::plugin::PluginRegistry> {
    use crate::plugin::{PluginRegistry, PluginRuntime, RuntimeConfig};
    let runtime = PluginRuntime::new(RuntimeConfig::default())?;
    let mut dirs = extra_dirs.to_vec();
    dirs.extend(PluginRegistry::default_dirs());
    Ok(PluginRegistry::new(std::sync::Arc::new(runtime), dirs))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
