//! `framejet gpu info`: the GPUs this machine lends framejet, what each can do (memory,
//! compute capability, NVDEC, NVENC, NVRTC), or why there are none.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::job::gpu::GpuChoice;

#[derive(Debug, Subcommand)]
pub(crate) enum GpuCommand {
    /// Lists the visible GPUs and their engines, or says why there is none.
    Info(InfoArgs),
}

/// `--gpu ID` (global) limits it to that GPU.
#[derive(Debug, Args)]
pub(crate) struct InfoArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// What `gpu info --json` prints.
#[derive(Serialize)]
struct Report {
    /// The visible GPUs (empty when there is none).
    gpus: Vec<framejet_gpu::GpuInfo>,
    /// Why there is no GPU to use, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    none: Option<String>,
    /// Whether each NVENC encoder opens (`Ok`: its name; else why not).
    nvenc: Vec<Nvenc>,
    /// `CUDA_VISIBLE_DEVICES` as set.
    cuda_visible_devices: Option<String>,
}

#[derive(Serialize)]
struct Nvenc {
    codec: &'static str,
    opens: bool,
    detail: String,
}

pub(crate) fn run(command: GpuCommand, choice: GpuChoice) -> anyhow::Result<ExitCode> {
    let GpuCommand::Info(args) = command;
    let one = match choice {
        GpuChoice::Ordinal(id) => Some(id),
        _ => None,
    };
    let found = match one {
        Some(id) => framejet_gpu::select(Some(id)).map(|g| vec![g]),
        None => framejet_gpu::discover(),
    };
    let (gpus, none) = match found {
        Ok(gpus) => (gpus, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    // Opening an encoder only tells anything where a GPU is.
    let nvenc = if gpus.is_empty() {
        Vec::new()
    } else {
        ["h264", "hevc"]
            .into_iter()
            .map(|codec| match framejet_media::nvenc_opens(codec) {
                Ok(name) => Nvenc {
                    codec,
                    opens: true,
                    detail: name,
                },
                Err(e) => Nvenc {
                    codec,
                    opens: false,
                    detail: e.to_string(),
                },
            })
            .collect()
    };
    let report = Report {
        gpus,
        none,
        nvenc,
        cuda_visible_devices: std::env::var("CUDA_VISIBLE_DEVICES").ok(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    // No GPU is a state to report, not a failure; `--gpu ID` naming a missing GPU fails.
    Ok(match (&report.none, one) {
        (Some(_), Some(_)) => ExitCode::FAILURE,
        _ => ExitCode::SUCCESS,
    })
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / f64::from(1u32 << 30))
}

fn print_report(r: &Report) {
    if let Some(why) = &r.none {
        println!("no GPU: {why}");
        println!("framejet runs every step on the CPU.");
        return;
    }
    for g in &r.gpus {
        println!("GPU {}: {} ({})", g.ordinal, g.name, g.uuid);
        println!(
            "  memory: {} total, {} free; compute capability {}.{}, {} multiprocessors; driver CUDA {}.{}",
            gib(g.memory_total),
            gib(g.memory_free),
            g.compute_capability.0,
            g.compute_capability.1,
            g.multiprocessors,
            g.driver_cuda.0,
            g.driver_cuda.1
        );
        let yes_no = |e: &framejet_gpu::Engine| if e.available { "yes" } else { "no" };
        println!("  NVDEC: {} ({})", yes_no(&g.nvdec), g.nvdec.detail);
        println!(
            "  NVENC library: {} ({})",
            yes_no(&g.nvenc_library),
            g.nvenc_library.detail
        );
        println!(
            "  NVRTC (kernels): {} ({})",
            yes_no(&g.nvrtc),
            g.nvrtc.detail
        );
    }
    for n in &r.nvenc {
        let verdict = if n.opens { "opens" } else { "does not open" };
        println!("NVENC {}: {verdict} ({})", n.codec, n.detail);
    }
    if let Some(v) = &r.cuda_visible_devices {
        println!("CUDA_VISIBLE_DEVICES={v}");
    }
}
