//! `framejet plugin check | new | list`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::plugin::{PluginKind, PluginRuntime, RuntimeConfig, plugin_name_from_path};

#[derive(Debug, Subcommand)]
pub(crate) enum PluginCommand {
    /// Says which world a component implements and whether its imports are
    /// allowed. Exits non-zero when the component cannot run as a plugin.
    #[command(after_help = "Examples:
  framejet plugin check target/wasm32-wasip2/release/my_badge.wasm
  framejet plugin check my_badge.wasm --json")]
    Check {
        /// The `.wasm` component.
        file: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Writes a new plugin crate from a template that builds and passes its
    /// own test.
    #[command(after_help = "Examples:
  framejet plugin new overlay my-badge       then: cd my-badge && cargo test
  framejet plugin new router my-router --dir plugins/my-router")]
    New {
        /// The world: router, segmenter, overlay or frame-filter.
        kind: String,
        /// The plugin's name, in kebab-case (`my-overlay`).
        name: String,
        /// Where to create the crate (default: `./<name>`).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The framejet SDK the crate depends on (default: the one installed
        /// beside this binary, else the source tree it was built from).
        #[arg(long, value_name = "DIR")]
        sdk: Option<PathBuf>,
    },
    /// Checks a component and stores it in a fleet's plugins store as
    /// name@version; jobs may then name it, or pin `name@version`.
    #[command(after_help = "Examples:
  framejet plugin push my_badge.wasm --version 1.2.0
  framejet plugin push build/x.wasm --name my-badge --version 2.0.0 --nats nats://10.0.0.5:4222")]
    #[command(disable_version_flag = true)]
    Push(Box<super::fleet::PushArgs>),
    /// Lists the plugins on the search path.
    #[command(after_help = "Example:
  FRAMEJET_PLUGIN_PATH=./my-plugins framejet plugin list")]
    List,
}

pub(crate) fn run(cmd: PluginCommand, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    match cmd {
        PluginCommand::Check { file, json } => check(&file, json),
        PluginCommand::New {
            kind,
            name,
            dir,
            sdk,
        } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from(&name));
            let sdk = match sdk {
                Some(sdk) => sdk,
                None => find_sdk()?,
            };
            new_plugin(&kind, &name, &dir, &sdk)?;
            println!("created {} plugin `{name}` in {}", kind, dir.display());
            println!(
                "build it:  cd {} && cargo build --release --target wasm32-wasip2",
                dir.display()
            );
            println!("test it:   cargo test");
            Ok(ExitCode::SUCCESS)
        }
        PluginCommand::Push(args) => super::fleet::push(*args),
        PluginCommand::List => {
            let registry = super::plugin_registry(plugin_dirs)?;
            for name in registry.available() {
                println!("{name}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn check(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let name = plugin_name_from_path(file);
    let wasm = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let runtime = PluginRuntime::new(RuntimeConfig {
        cache_dir: None,
        ..RuntimeConfig::default()
    })?;
    // Loading links the component, which also checks every signature.
    let result = runtime.load(&name, &wasm);
    match (result, json) {
        (Ok(plugin), false) => {
            let summary = plugin.summary();
            println!("{}: ok, implements {}", file.display(), plugin.kind());
            println!("  imports: {}", summary.imports.join(", "));
            println!("  exports: {}", summary.exports.join(", "));
            Ok(ExitCode::SUCCESS)
        }
        (Ok(plugin), true) => {
            let out = serde_json::json!({
                "file": file, "ok": true, "world": plugin.kind().world(),
                "imports": plugin.summary().imports, "exports": plugin.summary().exports,
                "sha256": plugin.digest(),
            });
            println!("{out}");
            Ok(ExitCode::SUCCESS)
        }
        (Err(err), false) => {
            println!("{}: rejected: {err}", file.display());
            Ok(ExitCode::FAILURE)
        }
        (Err(err), true) => {
            println!(
                "{}",
                serde_json::json!({"file": file, "ok": false, "error": err.to_string()})
            );
            Ok(ExitCode::FAILURE)
        }
    }
}

/// One template: the world's files, with `{{name}}`, `{{crate_name}}` and
/// `{{sdk_path}}` to fill in.
struct Template {
    kind: PluginKind,
    files: &'static [(&'static str, &'static str)],
}

macro_rules! template {
    ($kind:expr, $dir:literal) => {
        Template {
            kind: $kind,
            files: &[
                (
                    "Cargo.toml",
                    include_str!(concat!("../../../sdk/templates/", $dir, "/Cargo.toml")),
                ),
                (
                    "src/lib.rs",
                    include_str!(concat!("../../../sdk/templates/", $dir, "/src/lib.rs")),
                ),
                (
                    "README.md",
                    include_str!(concat!("../../../sdk/templates/", $dir, "/README.md")),
                ),
            ],
        }
    };
}

const TEMPLATES: &[Template] = &[
    template!(PluginKind::Router, "router"),
    template!(PluginKind::Segmenter, "segmenter"),
    template!(PluginKind::Overlay, "overlay"),
    template!(PluginKind::FrameFilter, "frame-filter"),
];

/// Writes a plugin crate of `kind` called `name` into `dir`.
pub(crate) fn new_plugin(kind: &str, name: &str, dir: &Path, sdk: &Path) -> anyhow::Result<()> {
    let Some(kind) = PluginKind::from_world(kind) else {
        bail!(
            "unknown plugin kind `{kind}`: expected one of router, segmenter, overlay, frame-filter"
        );
    };
    let valid_name = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid_name {
        bail!(
            "plugin name `{name}`: use lowercase letters, digits and `-`, starting with a letter"
        );
    }
    if dir.exists()
        && std::fs::read_dir(dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!("{} already exists and is not empty", dir.display());
    }
    if !sdk.join("Cargo.toml").is_file() {
        bail!(
            "{} is not the framejet SDK (it has no Cargo.toml); pass --sdk DIR",
            sdk.display()
        );
    }
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("cannot resolve the SDK path {}", sdk.display()))?
        .display()
        .to_string()
        .replace('\\', "/");
    let template = TEMPLATES
        .iter()
        .find(|t| t.kind == kind)
        .context("no template for that kind")?;
    for (file, text) in template.files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let text = text
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &name.replace('-', "_"))
            .replace("{{sdk_path}}", &sdk);
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

/// The SDK a new crate depends on: the copy `scripts/install.sh` puts
/// beside the binary (`<prefix>/share/framejet/sdk`), else the source tree
/// this binary was built from, when it is still there.
fn find_sdk() -> anyhow::Result<PathBuf> {
    let installed = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent()?.parent().map(|p| p.join("share/framejet/sdk")));
    let source_tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk");
    installed
        .into_iter()
        .chain([source_tree])
        .find(|dir| dir.join("Cargo.toml").is_file())
        .context(
            "cannot find the framejet SDK beside this binary (run scripts/install.sh) \
             or in the source tree it was built from; pass --sdk DIR",
        )
}
