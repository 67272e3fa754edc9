//! From the job spec's output settings to the media engine's encoder
//! settings, shared by every segment so that they join without re-encoding,
//! and checked against this FFmpeg build before any work.

use framejet_media::{
    Container, EncoderCheckError, EncoderSettings, HwAccel, RateControl, Rational, check_encoder,
};

use super::plan::{OutputFormat, Plan};
use super::spec::{HwSpec, OutputSpec, SpecError, VideoSpec, parse_bitrate};

/// The container segments are written in: MP4 keeps exact timestamps and
/// remuxes cleanly; FFV1 (lossless, for tests and masters) needs Matroska.
pub(crate) fn segment_container(plan: &Plan) -> Container {
    segment_container_for(&plan.spec.output.video)
}

fn segment_container_for(video: &VideoSpec) -> Container {
    if video.codec.eq_ignore_ascii_case("ffv1") {
        Container::Mkv
    } else {
        Container::Mp4
    }
}

/// The output frame rate as the media engine's rational.
pub(crate) fn frame_rate(out: &OutputFormat) -> Rational {
    Rational {
        num: out.frame_rate.0 as i32,
        den: out.frame_rate.1 as i32,
    }
}

/// Encoder settings for every segment of `plan`.
pub(crate) fn encoder_settings(plan: &Plan, threads: usize) -> EncoderSettings {
    let mut settings = settings_for(&plan.spec.output.video, threads);
    // The plan's choice, not the spec's `auto`: see [`Plan::hw`].
    settings.hw = hw_accel(plan.hw);
    settings
}

fn hw_accel(hw: HwSpec) -> HwAccel {
    match hw {
        HwSpec::Auto => HwAccel::Auto,
        HwSpec::Cpu => HwAccel::Cpu,
        HwSpec::Nvenc => HwAccel::Nvenc,
    }
}

fn settings_for(video: &VideoSpec, threads: usize) -> EncoderSettings {
    let kbps = |s: &str| parse_bitrate(s).map(|b| (b / 1000) as u32).unwrap_or(0);
    let rate = match (&video.rate.bitrate, video.rate.crf) {
        (Some(b), _) => RateControl::Bitrate {
            target_kbps: kbps(b),
            max_kbps: video.rate.max_bitrate.as_deref().map(kbps),
        },
        (None, crf) => RateControl::Crf(crf.unwrap_or(23)),
    };
    EncoderSettings {
        codec: video.codec.clone(),
        rate,
        preset: video.preset.clone(),
        gop: None,
        hw: hw_accel(video.hw),
        threads: (threads > 0).then_some(threads as u32),
    }
}

/// Checks the output settings against this FFmpeg build: the encoder
/// exists, the output container (default mp4) and the segments' container
/// can hold its codec, and the preset and CRF are ones it takes. Each error
/// names the spec field and the value.
pub fn check_output_settings(output: &OutputSpec) -> Result<(), SpecError> {
    let container = output
        .container
        .as_deref()
        .and_then(Container::from_name)
        .unwrap_or(Container::Mp4);
    let settings = settings_for(&output.video, 0);
    let segments = segment_container_for(&output.video);
    let invalid = |field: &str, e: EncoderCheckError| SpecError::Invalid {
        field: field.to_string(),
        message: e.to_string(),
    };
    let codec_field = |e: EncoderCheckError| match e {
        EncoderCheckError::UnknownEncoder { .. } | EncoderCheckError::NotVideo { .. } => {
            invalid("output.video.codec", e)
        }
        EncoderCheckError::ContainerCannotHold { .. } => invalid("output.container", e),
        EncoderCheckError::BadPreset { .. } => invalid("output.video.preset", e),
        EncoderCheckError::CrfOutOfRange { .. } => invalid("output.video.rate.crf", e),
        EncoderCheckError::NoNvenc { .. } => invalid("output.video.hw", e),
    };
    check_encoder(&settings, container).map_err(codec_field)?;
    if segments != container {
        check_encoder(&settings, segments).map_err(|e| match e {
            EncoderCheckError::ContainerCannotHold { .. } => SpecError::Invalid {
                field: "output.video.codec".into(),
                message: format!(
                    "{:?}: segments are written as {} before they are joined, and {e}",
                    output.video.codec,
                    segments.extension()
                ),
            },
            other => codec_field(other),
        })?;
    }
    Ok(())
}
