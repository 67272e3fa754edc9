//! `finalize`: joins the encoded segments in order, without re-encoding,
//! and adds the audio built from every item of the job.
//!
//! When the audio has to be encoded (a compilation, silence, a codec the
//! container does not take), [`encode_audio`] does it as a task of its own
//! that runs beside the segments; `finalize` then only copies its packets.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use framejet_media::{
    AudioSource, ConcatOptions, Container, Metadata, can_copy_audio, concat_segments,
};
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

/// The job's audio track, encoded ahead of [`finalize`] by [`encode_audio`].
#[derive(Debug, Clone, Serialize)]
pub struct AudioOutput {
    /// Storage key of the track.
    pub key: String,
    pub duration_us: i64,
    pub bytes: u64,
    /// How long encoding took.
    pub encode_ms: u64,
}

/// Storage key of the pre-encoded audio track (AAC in MP4, or Opus in WebM
/// for a WebM output).
fn audio_key(container: Container) -> &'static str {
    if container == Container::Webm {
        "audio.webm"
    } else {
        "audio.m4a"
    }
}

/// The output's container: the spec's, else the one `output`'s extension names.
fn output_container(plan: &Plan, output: &Path) -> Option<Container> {
    plan.spec
        .output
        .container
        .as_deref()
        .and_then(Container::from_name)
        .or_else(|| Container::from_path(output))
}

fn audio_bitrate(plan: &Plan) -> u32 {
    parse_bitrate(&plan.spec.output.audio.bitrate)
        .map(|b| b.min(u32::MAX as u64) as u32)
        .unwrap_or(192_000)
}

/// The output's audio timeline, item by item; empty for no audio track.
fn audio_sources(plan: &Plan) -> Vec<AudioSource> {
    if plan.spec.output.audio.codec == "none" {
        return Vec::new();
    }
    let out = &plan.output;
    plan.items
        .iter()
        .map(|item| {
            let duration =
                out.pts_us(item.output_start + item.output_frames) - out.pts_us(item.output_start);
            if item.has_audio && !item.still {
                AudioSource::file(&item.src, 0, duration)
            } else {
                AudioSource::silence(duration)
            }
        })
        .collect()
}

/// Encodes the job's audio track into storage when `finalize` could not
/// simply copy it, so that the work can run while the segments encode.
/// `None` when the output has no audio or its packets will be copied.
/// Stops early (with [`JobError::Cancelled`]) when `cancel` is set.
pub fn encode_audio(
    plan: &Plan,
    storage: &dyn Storage,
    output: &Path,
    cancel: &AtomicBool,
) -> Result<Option<AudioOutput>, JobError> {
    let started = Instant::now();
    let sources = audio_sources(plan);
    // An output whose container is unknown fails in `finalize`, with the reason.
    let Some(container) = output_container(plan, output) else {
        return Ok(None);
    };
    let frame_us = plan.output.pts_us(1).max(1);
    if sources.is_empty() || can_copy_audio(&sources, container, frame_us) {
        return Ok(None);
    }
    let key = audio_key(container);
    let path = storage
        .writable_path(key)
        .map_err(|e| JobError::io(key, e))?;
    let track =
        framejet_media::encode_audio(&sources, &path, container, audio_bitrate(plan), &|| {
            cancel.load(Ordering::Relaxed)
        })
        .map_err(|e| match e {
            framejet_media::MediaError::Cancelled => JobError::Cancelled,
            e => JobError::media("audio", e),
        })?;
    storage.commit(key).map_err(|e| JobError::io(key, e))?;
    Ok(Some(AudioOutput {
        key: key.into(),
        duration_us: track.duration_us,
        bytes: track.bytes,
        encode_ms: started.elapsed().as_millis() as u64,
    }))
}

/// Joins `segments` into `output` with the job's audio and metadata: the
/// track [`encode_audio`] made when given, else the audio of the items.
///
/// The output is written to a temporary file and renamed at the end, so a
/// failure leaves no partial output.
pub fn finalize(
    plan: &Plan,
    segments: &[SegmentOutput],
    audio: Option<&AudioOutput>,
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

    let (sources, audio_track) = match audio {
        Some(track) => {
            let path = storage
                .local_path(&track.key)
                .map_err(|e| JobError::io(&track.key, e))?;
            (Vec::new(), Some(path))
        }
        None => (audio_sources(plan), None),
    };
    let options = ConcatOptions {
        container: output_container(plan, output),
        audio: sources,
        audio_track,
        audio_bitrate: audio_bitrate(plan),
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
        // Copied from the source, not from the track encoded for it.
        audio_copied: stats.audio_copied && audio.is_none(),
        bytes: stats.bytes,
    })
}
