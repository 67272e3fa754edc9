//! From the job spec's output settings to the media engine's encoder
//! settings, shared by every segment so that they join without re-encoding.

use framejet_media::{Container, EncoderSettings, HwAccel, RateControl, Rational};

use super::plan::{OutputFormat, Plan};
use super::spec::{HwSpec, parse_bitrate};

/// The container segments are written in: MP4 keeps exact timestamps and
/// remuxes cleanly; FFV1 (lossless, for tests and masters) needs Matroska.
pub(crate) fn segment_container(plan: &Plan) -> Container {
    if plan.spec.output.video.codec.eq_ignore_ascii_case("ffv1") {
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
    let video = &plan.spec.output.video;
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
        hw: match video.hw {
            HwSpec::Auto => HwAccel::Auto,
            HwSpec::Cpu => HwAccel::Cpu,
            HwSpec::Nvenc => HwAccel::Nvenc,
        },
        threads: (threads > 0).then_some(threads as u32),
    }
}
