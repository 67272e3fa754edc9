//! The plugin runtime against real components built from `plugins/`:
//! the shipped plugins give the right answers, the broken ones fail their
//! call in bounded time with an error that names them, and the runtime
//! goes on serving good plugins afterwards.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{plugin, plugin_path};
use framejet::plugin::{
    AssetSource, DrawOp, JobInfo, LogLine, MediaInfo, PluginEnv, PluginError, PluginLimits,
    PluginRuntime, Priority, Rational, RuntimeConfig,
};

fn job(items: u32, width: u32, height: u32) -> JobInfo {
    JobInfo {
        id: "job-1".into(),
        item_count: items,
        output_width: width,
        output_height: height,
        total_frames: 300,
        total_duration_us: 10_000_000,
        step_count: 2,
        priority: Priority::Normal,
    }
}

fn media(frames: u64, keyframes: Vec<u64>) -> MediaInfo {
    MediaInfo {
        width: 1280,
        height: 720,
        frame_rate: Rational { num: 30, den: 1 },
        frame_count: frames,
        duration_us: frames * 1_000_000 / 30,
        keyframes,
        has_audio: true,
    }
}

fn queue(items: u32, w: u32, h: u32) -> String {
    plugin("route-by-size")
        .route(&job(items, w, h), "{}", PluginEnv::default())
        .expect("route")
        .queue
}

#[test]
fn router_sends_big_uhd_jobs_and_very_long_jobs_to_the_4k_queue() {
    assert_eq!(queue(20, 3840, 2160), "default");
    assert_eq!(queue(21, 3840, 2160), "4k");
    assert_eq!(queue(21, 2160, 3840), "4k", "portrait 4K counts as 4K");
    assert_eq!(queue(21, 1920, 1080), "default");
    assert_eq!(queue(40, 1920, 1080), "default");
    assert_eq!(queue(41, 1920, 1080), "4k");
    assert_eq!(queue(41, 3840, 2160), "4k");
    assert_eq!(queue(1, 1280, 720), "default");
}

#[test]
fn router_params_change_thresholds_and_capabilities() {
    let route = plugin("route-by-size")
        .route(
            &job(6, 3840, 2160),
            r#"{"uhd_items": 5, "large_queue": "big", "capabilities": ["gpu"]}"#,
            PluginEnv::default(),
        )
        .expect("route");
    assert_eq!(route.queue, "big");
    assert_eq!(route.capabilities, vec!["gpu".to_string()]);
    assert_eq!(route.priority, Priority::Normal);
}

#[test]
fn router_rejects_bad_params_naming_the_field() {
    let err = plugin("route-by-size")
        .route(
            &job(1, 1280, 720),
            r#"{"uhd_items": "many"}"#,
            PluginEnv::default(),
        )
        .unwrap_err();
    match &err {
        PluginError::Refused { plugin, field, .. } => {
            assert_eq!(plugin, "route-by-size");
            assert_eq!(field.as_deref(), Some("uhd_items"));
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert!(err.to_string().contains("params.uhd_items"), "{err}");
}

/// Checks the plan covers every frame once, in order, starting on keyframes.
fn assert_valid_plan(info: &MediaInfo, params: &str) -> Vec<(u64, u64)> {
    let segments = plugin("segment-keyframes")
        .plan_segments(info, params, PluginEnv::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut next = 0;
    for s in &segments {
        assert_eq!(s.start, next, "segments must be contiguous: {segments:?}");
        assert!(s.end > s.start);
        assert!(
            info.keyframes.contains(&s.start),
            "{} is not a keyframe",
            s.start
        );
        next = s.end;
    }
    assert_eq!(next, info.frame_count);
    segments.iter().map(|s| (s.start, s.end)).collect()
}

#[test]
fn segmenter_covers_every_frame_once_on_keyframes() {
    let regular = |frames: u64, gop: u64| (0..frames).step_by(gop as usize).collect::<Vec<_>>();
    for (frames, keys, params) in [
        (300, regular(300, 30), r#"{"min_segments": 2}"#),
        (300, regular(300, 30), r#"{"min_segments": 7}"#),
        (301, regular(301, 25), r#"{"target_seconds": 2}"#),
        (
            1000,
            regular(1000, 250),
            r#"{"min_segments": 3, "min_frames": 60}"#,
        ),
        (500, vec![0, 17, 90, 91, 250, 433], r#"{"min_segments": 4}"#),
        (90, vec![0], r#"{"min_segments": 3}"#),
        (1, vec![0], "{}"),
    ] {
        let info = media(frames, keys);
        assert_valid_plan(&info, params);
    }
}

#[test]
fn segmenter_honours_min_segments_min_frames_and_short_videos() {
    let keys: Vec<u64> = (0..600).step_by(30).collect();
    let plan = assert_valid_plan(&media(600, keys.clone()), r#"{"min_segments": 7}"#);
    assert!(plan.len() >= 7, "{plan:?}");

    let plan = assert_valid_plan(
        &media(600, keys.clone()),
        r#"{"min_segments": 4, "min_frames": 120}"#,
    );
    assert!(plan.len() >= 4, "{plan:?}");
    assert!(plan.iter().all(|(s, e)| e - s >= 120), "{plan:?}");

    let plan = assert_valid_plan(&media(50, vec![0, 25]), r#"{"min_frames": 60}"#);
    assert_eq!(plan, vec![(0, 50)], "a short video gives one segment");

    let plan = assert_valid_plan(
        &media(600, keys),
        r#"{"min_segments": 2, "max_segments": 3, "target_seconds": 1}"#,
    );
    assert!((2..=3).contains(&plan.len()), "{plan:?}");
}

/// Serves one 200x100 logo.
struct Logo;
impl AssetSource for Logo {
    fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        (name == "logo")
            .then(Vec::new)
            .ok_or_else(|| format!("no asset `{name}`"))
    }
    fn dimensions(&self, name: &str) -> Result<(u32, u32), String> {
        (name == "logo")
            .then_some((200, 100))
            .ok_or_else(|| format!("no asset `{name}`"))
    }
}

fn logo_env() -> PluginEnv {
    PluginEnv {
        assets: Arc::new(Logo),
        ..PluginEnv::default()
    }
}

fn logo_op(params: &str, pts_us: i64) -> Option<(i32, i32, f32)> {
    let mut overlay = plugin("overlay-logo")
        .overlay(&media(300, vec![0]), params, logo_env())
        .unwrap_or_else(|e| panic!("{e}"));
    let ops = overlay
        .frame((pts_us / 33_333) as u64, pts_us)
        .expect("frame");
    match ops.as_slice() {
        [] => None,
        [DrawOp::Asset(a)] => {
            assert_eq!(a.name, "logo");
            Some((a.x, a.y, a.opacity))
        }
        other => panic!("unexpected ops {other:?}"),
    }
}

#[test]
fn overlay_logo_places_the_logo_in_each_corner_and_at_xy() {
    // Frame 1280x720, logo 200x100, margin 24.
    let at = |p: &str| logo_op(p, 0).map(|(x, y, _)| (x, y));
    assert_eq!(
        at(r#"{"asset":"logo","corner":"top-left"}"#),
        Some((24, 24))
    );
    assert_eq!(
        at(r#"{"asset":"logo","corner":"top-right"}"#),
        Some((1280 - 200 - 24, 24))
    );
    assert_eq!(
        at(r#"{"asset":"logo","corner":"bottom-left"}"#),
        Some((24, 720 - 100 - 24))
    );
    assert_eq!(
        at(r#"{"asset":"logo","corner":"bottom-right","margin":10}"#),
        Some((1280 - 210, 720 - 110))
    );
    assert_eq!(
        at(r#"{"asset":"logo","corner":"top-right","scale":0.5}"#),
        Some((1280 - 100 - 24, 24))
    );
    assert_eq!(at(r#"{"asset":"logo","x":100,"y":50}"#), Some((100, 50)));
}

#[test]
fn overlay_logo_fades_and_respects_its_time_window() {
    let params = r#"{"asset":"logo","start_s":1,"end_s":3,"fade_in_s":1,"opacity":0.8}"#;
    assert_eq!(logo_op(params, 500_000), None, "before start");
    let (_, _, half) = logo_op(params, 1_500_000).expect("fading in");
    assert!(
        (half - 0.4).abs() < 0.02,
        "half-way through the fade: {half}"
    );
    let (_, _, full) = logo_op(params, 2_500_000).expect("shown");
    assert!((full - 0.8).abs() < 1e-3, "{full}");
    assert_eq!(logo_op(params, 3_000_000), None, "after end");
}

#[test]
fn overlay_logo_rejects_a_bad_corner_and_a_missing_asset() {
    let err = plugin("overlay-logo")
        .overlay(
            &media(30, vec![0]),
            r#"{"asset":"logo","corner":"middle"}"#,
            logo_env(),
        )
        .err()
        .expect("bad corner refused");
    assert!(
        matches!(&err, PluginError::Refused { field: Some(f), .. } if f == "corner"),
        "{err}"
    );
    assert!(
        err.to_string().contains("top-left"),
        "says what is allowed: {err}"
    );

    let err = plugin("overlay-logo")
        .overlay(&media(30, vec![0]), r#"{"asset":"nope"}"#, logo_env())
        .err()
        .expect("missing asset refused");
    assert!(
        matches!(&err, PluginError::Refused { field: Some(f), .. } if f == "asset"),
        "{err}"
    );
}

/// Sprite placements in a frame of `text-reveal`, as the total width of
/// revealed glyph sprites and their count.
fn revealed(overlay: &mut framejet::plugin::OverlayInstance, pts_us: i64) -> usize {
    let ops = overlay
        .frame((pts_us / 40_000) as u64, pts_us)
        .expect("frame");
    let sprites = overlay.sprites();
    ops.iter()
        .map(|op| match op {
            DrawOp::Sprite(s) => {
                assert!((s.id as usize) < sprites.len());
                1
            }
            other => panic!("text-reveal draws sprites only, got {other:?}"),
        })
        .sum()
}

#[test]
fn text_reveal_shows_the_right_letters_at_chosen_frames() {
    let params = r#"{"words":["WOW","NOW"],"delay_s":1.0,"letter_interval_s":0.1,"size":48}"#;
    let mut overlay = plugin("text-reveal")
        .overlay(&media(300, vec![0]), params, PluginEnv::default())
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !overlay.sprites().is_empty(),
        "sprites are defined once, at create"
    );
    let defined = overlay.sprites().len();
    let letters = |overlay: &mut _, t: f64| -> usize { revealed(overlay, (t * 1e6) as i64) };
    assert_eq!(letters(&mut overlay, 0.5), 0, "nothing before the delay");
    let first = letters(&mut overlay, 1.0);
    let third = letters(&mut overlay, 1.25);
    let all = letters(&mut overlay, 2.0);
    assert!(
        first >= 1 && first < third && third < all,
        "{first} {third} {all}"
    );
    assert_eq!(
        overlay.sprites().len(),
        defined,
        "no sprites defined per frame"
    );
}

fn expect_failure_then_recovery(name: &str, check: impl Fn(&PluginError) -> bool) {
    let limits = PluginLimits {
        deadline_ms: 300,
        memory_mib: 32,
        ..PluginLimits::default()
    };
    let env = PluginEnv {
        limits,
        ..PluginEnv::default()
    };
    let started = Instant::now();
    let err = plugin(name)
        .route(&job(1, 1280, 720), "{}", env)
        .expect_err("the broken plugin must fail");
    assert!(started.elapsed() < Duration::from_secs(10), "bounded time");
    assert_eq!(err.plugin(), Some(name), "{err}");
    assert!(
        err.to_string().contains(name),
        "the message names the plugin: {err}"
    );
    assert!(check(&err), "unexpected error for {name}: {err}");
    // The same runtime still serves a good plugin.
    assert_eq!(queue(1, 1280, 720), "default");
}

#[test]
fn a_trapping_plugin_fails_its_call_with_the_panic_message() {
    expect_failure_then_recovery(
        "broken-trap",
        |e| matches!(e, PluginError::Trap { message, .. } if message.contains("panicked")),
    );
}

#[test]
fn a_looping_plugin_is_stopped_at_its_deadline() {
    expect_failure_then_recovery("broken-loop", |e| matches!(e, PluginError::Deadline { .. }));
}

#[test]
fn a_plugin_that_grows_memory_without_end_is_stopped_at_its_cap() {
    expect_failure_then_recovery("broken-memory", |e| {
        matches!(e, PluginError::Memory { limit_mib: 32, .. })
    });
}

#[test]
fn a_router_returning_garbage_is_rejected() {
    expect_failure_then_recovery(
        "broken-garbage-router",
        |e| matches!(e, PluginError::InvalidOutput { reason, .. } if reason.contains("queue name")),
    );
}

#[test]
fn an_overlay_returning_garbage_is_rejected() {
    let mut overlay = plugin("broken-garbage")
        .overlay(&media(30, vec![0]), "{}", PluginEnv::default())
        .expect("create");
    let far = overlay.frame(0, 0).expect_err("far outside");
    assert!(
        matches!(&far, PluginError::InvalidOutput { reason, .. } if reason.contains("far outside")),
        "{far}"
    );
    let many = overlay.frame(1, 33_333).expect_err("a million ops");
    assert!(
        matches!(&many, PluginError::InvalidOutput { reason, .. } if reason.contains("limit")),
        "{many}"
    );
}

#[test]
fn plugin_logs_reach_the_sink_with_the_plugin_name() {
    let lines: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink_lines = lines.clone();
    let env = PluginEnv {
        log: Arc::new(move |l: &LogLine<'_>| {
            sink_lines
                .lock()
                .unwrap()
                .push(format!("{}: {}", l.source.name(), l.message));
        }),
        ..PluginEnv::default()
    };
    let _ = plugin("broken-trap").route(&job(1, 1280, 720), "{}", env);
    let lines = lines.lock().unwrap();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("broken-trap: ") && l.contains("panicked")),
        "{lines:?}"
    );
}

#[test]
fn the_second_load_reads_compiled_code_from_the_disk_cache() {
    let cache = tempfile::tempdir().unwrap();
    let wasm = std::fs::read(plugin_path("route-by-size")).unwrap();
    let config = RuntimeConfig {
        cache_dir: Some(cache.path().to_path_buf()),
        ..RuntimeConfig::default()
    };
    let first = PluginRuntime::new(config.clone()).unwrap();
    first.load("route-by-size", &wasm).unwrap();
    assert_eq!(
        (first.cache_stats().compiled, first.cache_stats().disk_hits),
        (1, 0)
    );
    drop(first);

    let second = PluginRuntime::new(config).unwrap();
    let plugin = second.load("route-by-size", &wasm).unwrap();
    assert_eq!(
        (
            second.cache_stats().compiled,
            second.cache_stats().disk_hits
        ),
        (0, 1)
    );
    let route = plugin
        .route(&job(41, 1920, 1080), "{}", PluginEnv::default())
        .unwrap();
    assert_eq!(route.queue, "4k", "code from the cache runs");
}

#[test]
fn a_plugin_of_the_wrong_world_is_refused_for_the_call() {
    let err = plugin("overlay-logo")
        .route(&job(1, 1280, 720), "{}", PluginEnv::default())
        .unwrap_err();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
    assert!(err.to_string().contains("`router`"), "{err}");
}

#[test]
fn non_components_are_rejected_at_load() {
    let runtime = PluginRuntime::new(RuntimeConfig {
        cache_dir: None,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let core_module = b"\0asm\x01\0\0\0";
    let err = runtime.load("core", core_module).unwrap_err();
    assert!(matches!(err, PluginError::NotAComponent { .. }), "{err}");
    let err = runtime.load("text", b"hello").unwrap_err();
    assert!(matches!(err, PluginError::NotAComponent { .. }), "{err}");
    let empty_component = b"\0asm\x0d\0\x01\0";
    let err = runtime.load("empty", empty_component).unwrap_err();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
}
