//! `framejet gateway` and `framejet token`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;

use super::fleet::{FleetArgs, runtime};
use crate::gateway::{
    GatewayOptions, Role, Tokens, WebhookSecret, new_token, run_gateway, server_config,
    token_digest,
};

#[derive(Debug, Args)]
pub(crate) struct GatewayArgs {
    #[command(flatten)]
    fleet: FleetArgs,
    /// The address to listen on.
    #[arg(long, env = "FRAMEJET_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// The tokens file (see `framejet token`); without one, every request is
    /// an admin of owner `local`, for a gateway only this machine reaches.
    #[arg(long, env = "FRAMEJET_TOKENS", value_name = "FILE")]
    tokens: Option<PathBuf>,
    /// The largest upload accepted (PUT /v1/media), e.g. `4GiB`.
    #[arg(long, default_value = "16GiB", value_parser = parse_size)]
    max_upload: u64,
    /// The largest spec accepted (POST /v1/jobs).
    #[arg(long, default_value = "1MiB", value_parser = parse_size)]
    max_spec: u64,
    /// A file holding the secret completion webhooks are signed with (at
    /// least 16 bytes; `openssl rand -hex 32`); without it, jobs cannot ask
    /// for a webhook.
    #[arg(long, env = "FRAMEJET_WEBHOOK_SECRET_FILE", value_name = "FILE")]
    webhook_secret: Option<PathBuf>,
    /// Serve HTTPS with this certificate chain (PEM); needs --https-key.
    #[arg(
        long,
        env = "FRAMEJET_HTTPS_CERT",
        value_name = "FILE",
        requires = "https_key"
    )]
    https_cert: Option<PathBuf>,
    /// The private key of --https-cert (PEM).
    #[arg(
        long,
        env = "FRAMEJET_HTTPS_KEY",
        value_name = "FILE",
        requires = "https_cert"
    )]
    https_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct TokenArgs {
    /// What the token may do: `read`, `submit` (and upload, cancel), `admin`.
    #[arg(long, default_value = "submit", value_parser = ["read", "submit", "admin"])]
    role: String,
    /// Whose jobs and media the token sees.
    #[arg(long)]
    owner: String,
}

/// A size: a number of bytes with an optional `KiB`, `MiB`, `GiB` or `TiB`.
fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}`: expected a size such as 512MiB"))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "TiB" => 1 << 40,
        other => return Err(format!("`{other}`: use B, KiB, MiB, GiB or TiB")),
    };
    n.checked_mul(scale)
        .ok_or_else(|| format!("`{s}` is too large"))
}

pub(crate) fn gateway(args: GatewayArgs, plugin_dirs: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let tokens = match &args.tokens {
        Some(path) => Tokens::load(path)?,
        None => {
            if !args.listen.ip().is_loopback() {
                tracing::warn!(
                    "no --tokens: every request to {} is an admin; give a tokens file before exposing it",
                    args.listen
                );
            }
            Tokens::open()
        }
    };
    let plugins = std::sync::Arc::new(super::plugin_registry(plugin_dirs)?);
    let webhook_secret = args
        .webhook_secret
        .as_deref()
        .map(WebhookSecret::load)
        .transpose()?;
    let tls = match (&args.https_cert, &args.https_key) {
        (Some(cert), Some(key)) => Some(server_config(cert, key)?),
        _ => None,
    };
    runtime()?.block_on(async {
        let fleet = args.fleet.connect("gateway").await?;
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            crate::fleet::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        run_gateway(
            fleet,
            GatewayOptions {
                listen: args.listen,
                tokens,
                max_upload: args.max_upload,
                max_spec: args.max_spec,
                plugins,
                webhook_secret,
                tls,
            },
            stop,
        )
        .await
        .context("gateway")?;
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    if !framejet_spec::fleet::is_token(&args.owner) {
        anyhow::bail!("--owner `{}`: use letters, digits, `-` and `_`", args.owner);
    }
    let role = match args.role.as_str() {
        "read" => Role::Read,
        "admin" => Role::Admin,
        _ => Role::Submit,
    };
    let token = new_token().context("cannot read the system's random source")?;
    eprintln!("token (give it to the client; only its digest is kept): {token}");
    println!(
        "[[token]]\nsha256 = \"{}\"\nrole = \"{}\"\nowner = \"{}\"",
        token_digest(&token),
        role.name(),
        args.owner
    );
    Ok(ExitCode::SUCCESS)
}
