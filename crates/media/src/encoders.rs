//! Which FFmpeg encoder a codec name means, one preset vocabulary for all of
//! them, and [`check_encoder`]: settings checked against this FFmpeg build
//! before any file is opened.
//!
//! # Presets
//! x264's names (`ultrafast` … `placebo`, [`PRESETS`]) work on every encoder:
//!
//! | preset | x264 / x265 | NVENC | VP9 `cpu-used` | libaom `cpu-used` | SVT-AV1 `preset` |
//! |---|---|---|---:|---:|---:|
//! | ultrafast | ultrafast | p1 | 8 | 8 | 13 |
//! | superfast | superfast | p1 | 7 | 7 | 12 |
//! | veryfast | veryfast | p2 | 6 | 6 | 11 |
//! | faster | faster | p3 | 5 | 5 | 10 |
//! | fast | fast | p3 | 4 | 4 | 9 |
//! | medium | medium | p4 | 3 | 3 | 8 |
//! | slow | slow | p5 | 2 | 2 | 6 |
//! | slower | slower | p6 | 1 | 1 | 4 |
//! | veryslow | veryslow | p7 | 0 | 0 | 2 |
//! | placebo | placebo | p7 | 0 | 0 | 0 |
//!
//! Each encoder's own values work too: `p1`–`p7` on NVENC, a number in the
//! encoder's range on VP9, libaom and SVT-AV1. FFV1 is lossless and has no
//! speed setting: a named preset is accepted and changes nothing.

use std::ffi::{CStr, CString};
use std::ptr;

use ffmpeg::ffi;
use ffmpeg_next as ffmpeg;

use crate::encode::{Container, EncoderSettings, HwAccel, RateControl};

/// The preset names every encoder takes, fastest first.
pub const PRESETS: [&str; 10] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
];

/// Codec names a job spec may use instead of an encoder's, with the CPU
/// encoder each means and its NVENC twin.
const CODECS: [(&[&str], &str, Option<&str>); 5] = [
    (&["h264", "avc", "x264"], "libx264", Some("h264_nvenc")),
    (&["hevc", "h265", "x265"], "libx265", Some("hevc_nvenc")),
    (&["vp9"], "libvpx-vp9", None),
    (&["av1"], "libsvtav1", None),
    (&["ffv1"], "ffv1", None),
];

/// The short codec names (the first of each entry of [`CODECS`]), as the
/// error for an unknown encoder lists them.
fn codec_names() -> String {
    let names: Vec<&str> = CODECS.iter().map(|(names, _, _)| names[0]).collect();
    names.join(", ")
}

/// Why settings cannot be encoded, found before anything is opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncoderCheckError {
    /// The codec names no encoder of this FFmpeg build.
    #[error(
        "unknown encoder `{name}`: use one of {} or a video encoder of this FFmpeg build ({})",
        codec_names(), available.join(", ")
    )]
    UnknownEncoder {
        name: String,
        /// Every video encoder this build has.
        available: Vec<String>,
    },
    /// The encoder exists but does not make video.
    #[error("`{name}` is not a video encoder")]
    NotVideo { name: String },
    /// The container cannot hold the codec (FFmpeg's `avformat_query_codec`).
    #[error("the {container} container cannot hold {codec} video; {}", suggest(.allowed))]
    ContainerCannotHold {
        container: &'static str,
        codec: String,
        /// The containers that can.
        allowed: Vec<&'static str>,
    },
    /// The preset is not one the encoder takes.
    #[error("preset `{preset}` for {encoder}: expected {expected}")]
    BadPreset {
        encoder: String,
        preset: String,
        expected: String,
    },
    /// The constant-quality value is out of the encoder's range.
    #[error("crf {crf} for {encoder}: expected {min}-{max}")]
    CrfOutOfRange {
        encoder: String,
        crf: u8,
        min: u8,
        max: u8,
    },
    /// `hw: nvenc` with a codec that has no NVENC encoder.
    #[error("codec `{codec}` has no NVENC encoder; use hw `auto` or `cpu`")]
    NoNvenc { codec: String },
}

fn suggest(allowed: &[&str]) -> String {
    if allowed.is_empty() {
        "no container framejet writes can".to_string()
    } else {
        format!("use {}", allowed.join(" or "))
    }
}

/// The encoders to try for `codec`, in order, with whether each is NVENC.
pub(crate) fn candidates(codec: &str, hw: HwAccel) -> Vec<(String, bool)> {
    let lower = codec.to_ascii_lowercase();
    let Some((_, cpu, nv)) = CODECS
        .iter()
        .find(|(names, _, _)| names.contains(&lower.as_str()))
    else {
        // An encoder named directly is used as is.
        return vec![(codec.to_string(), lower.ends_with("_nvenc"))];
    };
    match (hw, nv) {
        (HwAccel::Cpu, _) | (_, None) => vec![(cpu.to_string(), false)],
        (HwAccel::Auto, Some(n)) => vec![(n.to_string(), true), (cpu.to_string(), false)],
        (HwAccel::Nvenc, Some(n)) => vec![(n.to_string(), true)],
    }
}

/// [`PRESETS`] as libvpx's and libaom's `cpu-used`.
const CPU_USED: [i32; 10] = [8, 7, 6, 5, 4, 3, 2, 1, 0, 0];
/// [`PRESETS`] as SVT-AV1's `preset`.
const SVT_PRESET: [i32; 10] = [13, 12, 11, 10, 9, 8, 6, 4, 2, 0];
/// [`PRESETS`] as NVENC's `preset`.
const NVENC_PRESET: [&str; 10] = ["p1", "p1", "p2", "p3", "p3", "p4", "p5", "p6", "p7", "p7"];

/// The private option and value `preset` means for `encoder`, `None` when
/// the encoder has no speed setting and the preset is a name from
/// [`PRESETS`].
pub fn preset_option(
    encoder: &str,
    preset: &str,
) -> Result<Option<(&'static str, String)>, EncoderCheckError> {
    let p = preset.trim().to_ascii_lowercase();
    let named = PRESETS.iter().position(|n| *n == p);
    let bad = |expected: String| EncoderCheckError::BadPreset {
        encoder: encoder.to_string(),
        preset: preset.to_string(),
        expected,
    };
    let names = PRESETS.join(", ");
    // A named preset through a table, or a number in the encoder's range.
    let numeric = |table: [i32; 10], min: i32, max: i32| match named {
        Some(i) => Ok(table[i]),
        None => p
            .parse::<i32>()
            .ok()
            .filter(|v| (min..=max).contains(v))
            .ok_or_else(|| bad(format!("one of {names}, or a number {min}-{max}"))),
    };
    let option = match encoder {
        "libx264" | "libx265" => match named {
            Some(i) => ("preset", PRESETS[i].to_string()),
            None => return Err(bad(format!("one of {names}"))),
        },
        "libvpx-vp9" => ("cpu-used", numeric(CPU_USED, -8, 8)?.to_string()),
        "libaom-av1" => ("cpu-used", numeric(CPU_USED, 0, 8)?.to_string()),
        "libsvtav1" => ("preset", numeric(SVT_PRESET, 0, 13)?.to_string()),
        n if n.ends_with("_nvenc") => match named {
            Some(i) => ("preset", NVENC_PRESET[i].to_string()),
            None if NVENC_PRESET.contains(&p.as_str()) => ("preset", p.clone()),
            None => return Err(bad(format!("one of {names}, or p1-p7"))),
        },
        other => {
            // Another encoder: its own `preset` option takes the text as it is;
            // without one, only a name from the shared vocabulary (ignored) passes.
            if has_private_option(other, "preset") {
                ("preset", preset.to_string())
            } else if named.is_some() {
                return Ok(None);
            } else {
                return Err(bad(format!(
                    "one of {names} (ignored: {other} has no preset)"
                )));
            }
        }
    };
    Ok(Some(option))
}

/// The constant-quality range an encoder takes, `None` when it has none
/// (FFV1 is lossless).
fn crf_range(encoder: &str) -> Option<(u8, u8)> {
    match encoder {
        "ffv1" => None,
        "libx264" | "libx265" => Some((0, 51)),
        n if n.ends_with("_nvenc") => Some((0, 51)),
        // VP9, libaom, SVT-AV1 and the rest.
        _ => Some((0, 63)),
    }
}

/// Checks `settings` against this FFmpeg build for an output in
/// `container`: every encoder that may be used exists and makes video, the
/// container can hold the codec, and the preset and CRF are ones the
/// encoders take.
///
/// Nothing is opened: an NVENC encoder that exists here may still fail to
/// open on a machine without the hardware (`HwAccel::Auto` then falls back).
pub fn check_encoder(
    settings: &EncoderSettings,
    container: Container,
) -> Result<(), EncoderCheckError> {
    crate::util::ensure_init();
    let list = candidates(&settings.codec, settings.hw);
    if settings.hw == HwAccel::Nvenc && !list.iter().any(|(_, nv)| *nv) {
        return Err(EncoderCheckError::NoNvenc {
            codec: settings.codec.clone(),
        });
    }
    // With `auto`, the NVENC twin is optional: the CPU encoder must exist.
    let required: Vec<&(String, bool)> = match settings.hw {
        HwAccel::Auto if list.len() > 1 => list.iter().filter(|(_, nv)| !nv).collect(),
        _ => list.iter().collect(),
    };
    for (name, _) in &required {
        let codec = find_encoder(name)?;
        if !container_holds(container, codec) {
            return Err(EncoderCheckError::ContainerCannotHold {
                container: container.extension(),
                codec: codec_label(&settings.codec, codec),
                allowed: Container::ALL
                    .iter()
                    .filter(|c| container_holds(**c, codec))
                    .map(|c| c.extension())
                    .collect(),
            });
        }
    }
    for (name, _) in &list {
        if let Some(preset) = &settings.preset {
            preset_option(name, preset)?;
        }
        if let (RateControl::Crf(crf), Some((min, max))) = (settings.rate, crf_range(name))
            && !(min..=max).contains(&crf)
        {
            return Err(EncoderCheckError::CrfOutOfRange {
                encoder: name.clone(),
                crf,
                min,
                max,
            });
        }
    }
    Ok(())
}

/// The codec as the user wrote it, with FFmpeg's name when they differ.
fn codec_label(asked: &str, codec: *const ffi::AVCodec) -> String {
    let id = crate::probe::codec_name(
        // SAFETY: `codec` is a static AVCodec from FFmpeg's registry.
        unsafe { (*codec).id },
    );
    if id.eq_ignore_ascii_case(asked) {
        id
    } else {
        format!("{id} (`{asked}`)")
    }
}

/// The encoder called `name`, checked to make video.
fn find_encoder(name: &str) -> Result<*const ffi::AVCodec, EncoderCheckError> {
    let unknown = || EncoderCheckError::UnknownEncoder {
        name: name.to_string(),
        available: video_encoders(),
    };
    let cname = CString::new(name).map_err(|_| unknown())?;
    // SAFETY: looking up an encoder by a NUL-terminated name; null when unknown.
    let codec = unsafe { ffi::avcodec_find_encoder_by_name(cname.as_ptr()) };
    if codec.is_null() {
        return Err(unknown());
    }
    // SAFETY: `codec` is a static AVCodec from FFmpeg's registry.
    if unsafe { (*codec).type_ } != ffi::AVMediaType::AVMEDIA_TYPE_VIDEO {
        return Err(EncoderCheckError::NotVideo {
            name: name.to_string(),
        });
    }
    Ok(codec)
}

/// Whether `container` can hold what `codec` makes: FFmpeg's
/// `avformat_query_codec` says so, and the muxer initialises with such a
/// stream (some refuse only there: MOV takes VP9 and AV1 in MP4 mode alone).
/// Nothing is written: the muxer gets a memory buffer.
fn container_holds(container: Container, codec: *const ffi::AVCodec) -> bool {
    let Ok(muxer) = CString::new(container.muxer()) else {
        return false;
    };
    // SAFETY: looking up a muxer by name; null when unknown.
    let ofmt = unsafe { ffi::av_guess_format(muxer.as_ptr(), ptr::null(), ptr::null()) };
    // SAFETY: `ofmt` is a static muxer description; `codec` a static AVCodec.
    if ofmt.is_null()
        || unsafe { ffi::avformat_query_codec(ofmt, (*codec).id, ffi::FF_COMPLIANCE_NORMAL) } != 1
    {
        return false;
    }
    // SAFETY: a muxer context with one stream, writing into a dynamic memory
    // buffer; everything allocated here is freed before returning, whatever
    // fails. The muxer's refusal is logged on this thread and dropped.
    let (accepted, _refusal) = crate::ffmpeg_log::capture_errors(|| unsafe {
        let mut ctx: *mut ffi::AVFormatContext = ptr::null_mut();
        if ffi::avformat_alloc_output_context2(&mut ctx, ofmt, ptr::null(), ptr::null()) < 0
            || ctx.is_null()
        {
            return false;
        }
        let mut accepted = false;
        let stream = ffi::avformat_new_stream(ctx, ptr::null());
        if !stream.is_null() && ffi::avio_open_dyn_buf(&mut (*ctx).pb) >= 0 {
            let par = (*stream).codecpar;
            (*par).codec_type = ffi::AVMediaType::AVMEDIA_TYPE_VIDEO;
            (*par).codec_id = (*codec).id;
            (*par).width = 64;
            (*par).height = 64;
            (*par).format = ffi::AVPixelFormat::AV_PIX_FMT_YUV420P as i32;
            (*stream).time_base = ffi::AVRational { num: 1, den: 25 };
            accepted = ffi::avformat_init_output(ctx, ptr::null_mut()) >= 0;
            let mut buf: *mut u8 = ptr::null_mut();
            ffi::avio_close_dyn_buf((*ctx).pb, &mut buf);
            (*ctx).pb = ptr::null_mut();
            ffi::av_free(buf.cast());
        }
        ffi::avformat_free_context(ctx);
        accepted
    });
    accepted
}

/// Whether `encoder` has a private option called `option`.
fn has_private_option(encoder: &str, option: &str) -> bool {
    let (Ok(name), Ok(opt)) = (CString::new(encoder), CString::new(option)) else {
        return false;
    };
    // SAFETY: lookups in FFmpeg's static registry; `priv_class` is a static
    // AVClass (or null), which av_opt_find reads through a fake object
    // pointer to it, as AV_OPT_SEARCH_FAKE_OBJ documents.
    unsafe {
        let codec = ffi::avcodec_find_encoder_by_name(name.as_ptr());
        if codec.is_null() || (*codec).priv_class.is_null() {
            return false;
        }
        let class = &(*codec).priv_class as *const *const ffi::AVClass;
        !ffi::av_opt_find(
            class as *mut std::ffi::c_void,
            opt.as_ptr(),
            ptr::null(),
            0,
            ffi::AV_OPT_SEARCH_FAKE_OBJ,
        )
        .is_null()
    }
}

/// The names of every video encoder in this FFmpeg build, sorted.
pub fn video_encoders() -> Vec<String> {
    crate::util::ensure_init();
    let mut names = Vec::new();
    let mut opaque: *mut std::ffi::c_void = ptr::null_mut();
    loop {
        // SAFETY: iterating FFmpeg's static codec list with its own cursor.
        let codec = unsafe { ffi::av_codec_iterate(&mut opaque) };
        if codec.is_null() {
            break;
        }
        // SAFETY: `codec` is a static AVCodec; its name is a static C string.
        unsafe {
            if ffi::av_codec_is_encoder(codec) != 0
                && (*codec).type_ == ffi::AVMediaType::AVMEDIA_TYPE_VIDEO
                && !(*codec).name.is_null()
            {
                names.push(CStr::from_ptr((*codec).name).to_string_lossy().into_owned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_preset_maps_on_every_encoder() {
        const CPU_USED: [&str; 10] = ["8", "7", "6", "5", "4", "3", "2", "1", "0", "0"];
        let expected: [(&str, &str, [&str; 10]); 6] = [
            ("libx264", "preset", PRESETS),
            ("libx265", "preset", PRESETS),
            (
                "h264_nvenc",
                "preset",
                ["p1", "p1", "p2", "p3", "p3", "p4", "p5", "p6", "p7", "p7"],
            ),
            ("libvpx-vp9", "cpu-used", CPU_USED),
            ("libaom-av1", "cpu-used", CPU_USED),
            (
                "libsvtav1",
                "preset",
                ["13", "12", "11", "10", "9", "8", "6", "4", "2", "0"],
            ),
        ];
        for (encoder, key, values) in expected {
            for (preset, value) in PRESETS.iter().zip(values) {
                assert_eq!(
                    preset_option(encoder, preset),
                    Ok(Some((key, value.to_string()))),
                    "{encoder} {preset}"
                );
            }
        }
        for preset in PRESETS {
            assert_eq!(preset_option("ffv1", preset), Ok(None), "ffv1 {preset}");
        }
    }

    #[test]
    fn each_codec_fits_the_containers_that_hold_it() {
        let expected: [(&str, &[Container]); 5] = [
            ("h264", &[Container::Mp4, Container::Mkv, Container::Mov]),
            ("hevc", &[Container::Mp4, Container::Mkv, Container::Mov]),
            ("vp9", &[Container::Mp4, Container::Mkv, Container::Webm]),
            ("av1", &[Container::Mp4, Container::Mkv, Container::Webm]),
            ("ffv1", &[Container::Mkv]),
        ];
        for (codec, holders) in expected {
            let settings = EncoderSettings {
                codec: codec.into(),
                hw: HwAccel::Cpu,
                ..EncoderSettings::default()
            };
            for container in Container::ALL {
                let result = check_encoder(&settings, container);
                if holders.contains(&container) {
                    assert!(result.is_ok(), "{codec} in {container:?}: {result:?}");
                } else {
                    assert!(
                        matches!(result, Err(EncoderCheckError::ContainerCannotHold { .. })),
                        "{codec} in {container:?}: {result:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn an_encoders_own_values_pass_and_others_are_refused() {
        assert_eq!(
            preset_option("libsvtav1", "7"),
            Ok(Some(("preset", "7".into())))
        );
        assert_eq!(
            preset_option("libvpx-vp9", "-3"),
            Ok(Some(("cpu-used", "-3".into())))
        );
        assert_eq!(
            preset_option("hevc_nvenc", "p6"),
            Ok(Some(("preset", "p6".into())))
        );
        for (encoder, preset) in [
            ("libx264", "5"),
            ("libx264", "turbo"),
            ("libsvtav1", "14"),
            ("libaom-av1", "-1"),
            ("h264_nvenc", "p9"),
            ("ffv1", "3"),
        ] {
            let err = preset_option(encoder, preset).expect_err(preset);
            assert!(
                err.to_string().contains(preset) && err.to_string().contains("expected"),
                "{err}"
            );
        }
    }
}
