//! `finalize`: joins the encoded segments in order, without re-encoding,
//! and adds the audio built from every item of the job.

use std::path::{Path, PathBuf};

use framejet_media::{AudioSource, ConcatOptions, Container, Metadata, concat_segments};
use serde::Serialize;

use super::JobError;
use super::plan::Plan;
use super::segment::SegmentOutput;
use super::spec::parse_bitrate;
use super::storage::Storage;

/// The file a job produced.
#[derive(Debug, Clone, Serialize)]
pub struct FinalOutput {
    pub path: PathBuf,
    pub frames: u64,
    pub duration_us: i64,
    pub audio_duration_us: Option<i64>,
    pub audio_copied: bool,
    pub bytes: u64,
}

/// Joins `segments` into `output` with the job's audio and metadata.
///
/// The output is written to a temporary file and renamed at the end, so a
/// failure leaves no partial output.
pub fn finalize(
    plan: &Plan,
    segments: &[SegmentOutput],
    storage: &dyn Storage,
    output: &Path,
) -> Result<FinalOutput, JobError> {
    if segments.len() != plan.segments.len() {
        return Err(JobError::media(
            "finalize",
            format!(
                "{} of {} segments are done",
                segments.len(),
                plan.segments.len()
            ),
        ));
    }
    let paths = segments
        .iter()
        .map(|s| {
            storage
                .local_path(&s.key)
                .map_err(|e| JobError::io(&s.key, e))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let out = &plan.output;
    let audio = if plan.spec.output.audio.codec == "none" {
        Vec::new()
    } else {
        plan.items
            .iter()
            .map(|item| {
                let duration = out.pts_us(item.output_start + item.output_frames)
                    - out.pts_us(item.output_start);
                if item.has_audio && !item.still {
                    AudioSource::file(&item.src, 0, duration)
                } else {
                    AudioSource::silence(duration)
                }
            })
            .collect()
    };
    let options = ConcatOptions {
        container: plan
            .spec
            .output
            .container
            .as_deref()
            .and_then(Container::from_name),
        audio,
        audio_bitrate: parse_bitrate(&plan.spec.output.audio.bitrate)
            .map(|b| b.min(u32::MAX as u64) as u32)
            .unwrap_or(192_000),
        metadata: Metadata {
            title: plan.spec.output.title.clone(),
        },
    };
    let stats = concat_segments(&paths, output, &options)
        .map_err(|e| JobError::media(format!("output `{}`", output.display()), e))?;
    Ok(FinalOutput {
        path: output.to_path_buf(),
        frames: stats.frames,
        duration_us: stats.video_duration_us,
        audio_duration_us: stats.audio_duration_us,
        audio_copied: stats.audio_copied,
        bytes: stats.bytes,
    })
}
