//! `framejet probe <file>`: what framejet sees in a media file.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// A video or a still image.
    file: PathBuf,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let info = framejet_media::probe(&args.file)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(ExitCode::SUCCESS);
    }
    let v = &info.video;
    println!(
        "{}: {:?} ({})",
        args.file.display(),
        info.kind,
        info.container
    );
    println!(
        "  video: {} {}x{} (shown {}x{}, rotation {}°), {}, {} fps{}",
        v.codec,
        v.width,
        v.height,
        v.display_width,
        v.display_height,
        v.rotation,
        v.pixel_format,
        v.frame_rate,
        if v.variable_frame_rate {
            " (variable)"
        } else {
            ""
        }
    );
    println!(
        "  frames: {}, duration {:.3} s, {} keyframes{}",
        v.frame_count,
        v.duration_us as f64 / 1e6,
        v.keyframes.len(),
        keyframe_preview(&v.keyframes)
    );
    match &info.audio {
        Some(a) => println!(
            "  audio: {} {} Hz, {} channels ({}), {:.3} s",
            a.codec,
            a.sample_rate,
            a.channels,
            a.channel_layout,
            a.duration_us as f64 / 1e6
        ),
        None => println!("  audio: none"),
    }
    Ok(ExitCode::SUCCESS)
}

fn keyframe_preview(keys: &[u64]) -> String {
    const SHOWN: usize = 12;
    if keys.is_empty() {
        return String::new();
    }
    let head: Vec<String> = keys.iter().take(SHOWN).map(u64::to_string).collect();
    let more = if keys.len() > SHOWN { ", …" } else { "" };
    format!(" at [{}{more}]", head.join(", "))
}
