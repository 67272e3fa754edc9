//! The `framejet` command line: parses arguments, sets up logging and maps
//! errors to one readable line and an exit code.

mod plugin;
mod probe;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// framejet: video jobs with WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "framejet", version, about, propagate_version = true)]
struct Cli {
    /// More log output (-v: debug, -vv: trace). `RUST_LOG` overrides it.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Directory to search for plugins, before the default search path
    /// (repeatable; `FRAMEJET_PLUGIN_PATH` works too).
    #[arg(long = "plugins", value_name = "DIR", global = true)]
    plugin_dirs: Vec<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs a job on this machine, no server: plan, segments in parallel, finalize.
    Run(run::RunArgs),
    /// Shows what framejet sees in a media file.
    Probe(probe::ProbeArgs),
    /// Prints the JSON Schema of job specs.
    Schema,
    /// Work with plugins: check a component, start a new one, list them.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Run(args) => run::run(args, &cli.plugin_dirs),
        Command::Probe(args) => probe::run(args),
        Command::Schema => serde_json::to_string_pretty(&crate::job::spec::json_schema())
            .map(|schema| {
                println!("{schema}");
                ExitCode::SUCCESS
            })
            .map_err(anyhow::Error::from),
        Command::Plugin(cmd) => plugin::run(cmd, &cli.plugin_dirs),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn,framejet=info",
        1 => "info,framejet=debug",
        _ => "debug,framejet=trace",
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
