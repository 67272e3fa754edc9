//! Plugin runtime benchmark: cold load (compile), warm load (compiled-code
//! cache), instantiation from `InstancePre`, and the latency of `route`,
//! `plan` and an overlay's per-frame call, on the shipped plugins.
//!
//! Run with `cargo bench -p framejet --bench plugin_runtime` after
//! `scripts/build-plugins.sh` (or via `bench/plugins.sh`).

#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use framejet::plugin::{
    AssetSource, JobInfo, MediaInfo, PluginEnv, PluginRegistry, PluginRuntime, Priority, Rational,
    RuntimeConfig,
};

fn plugin_file(name: &str) -> PathBuf {
    let file = format!("{}.wasm", name.replace('-', "_"));
    PluginRegistry::default_dirs()
        .into_iter()
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{file} not found: run scripts/build-plugins.sh"))
}

/// Median of `rounds` timings of `iters` calls each, per call.
fn time_per_call(rounds: usize, iters: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iters.min(1000) {
        f();
    }
    let mut samples: Vec<Duration> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed() / iters
        })
        .collect();
    samples.sort();
    samples[samples.len() / 2]
}

struct Logo;
impl AssetSource for Logo {
    fn bytes(&self, _: &str) -> Result<Vec<u8>, String> {
        Ok(Vec::new())
    }
    fn dimensions(&self, _: &str) -> Result<(u32, u32), String> {
        Ok((200, 100))
    }
}

fn row(what: &str, d: Duration) {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        println!("| {what} | {:.1} ms |", us / 1000.0);
    } else {
        println!("| {what} | {us:.2} µs |");
    }
}

/// The floor: the same component instantiated by plain wasmtime with the
/// same engine settings and a default WASI context, nothing else.
fn bare_instantiate(wasm: &std::path::Path) -> Duration {
    use wasmtime::component::{Component, Linker, ResourceTable};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    struct Bare {
        ctx: WasiCtx,
        table: ResourceTable,
    }
    impl WasiView for Bare {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.ctx,
                table: &mut self.table,
            }
        }
    }
    let mut pool = wasmtime::PoolingAllocationConfig::default();
    pool.total_component_instances(512)
        .total_core_instances(2048)
        .total_memories(1024)
        .total_tables(2048)
        .max_memory_size(1 << 30);
    let mut config = wasmtime::Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    let engine = wasmtime::Engine::new(&config).unwrap();
    let component = Component::from_file(&engine, wasm).unwrap();
    let mut linker = Linker::<Bare>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
    let pre = linker.instantiate_pre(&component).unwrap();
    time_per_call(15, 2000, || {
        let mut store = wasmtime::Store::new(
            &engine,
            Bare {
                ctx: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        );
        store.set_epoch_deadline(1_000_000);
        black_box(pre.instantiate(&mut store).unwrap());
    })
}

fn main() {
    let cache = std::env::temp_dir().join(format!("framejet-bench-cache-{}", std::process::id()));
    let config = RuntimeConfig {
        cache_dir: Some(cache.clone()),
        ..RuntimeConfig::default()
    };
    let wasm = std::fs::read(plugin_file("overlay-logo")).expect("read overlay-logo");

    println!("| measurement | median |");
    println!("| --- | --- |");

    // Cold: compile from .wasm (fresh runtime each time, no cache).
    let cold = time_per_call(3, 1, || {
        let rt = PluginRuntime::new(RuntimeConfig {
            cache_dir: None,
            ..config.clone()
        })
        .unwrap();
        black_box(rt.load("overlay-logo", &wasm).unwrap());
    });
    row("cold load: compile overlay-logo.wasm", cold);

    // Warm: read the compiled code back from the disk cache.
    PluginRuntime::new(config.clone())
        .unwrap()
        .load("overlay-logo", &wasm)
        .unwrap();
    let warm = time_per_call(5, 5, || {
        let rt = PluginRuntime::new(config.clone()).unwrap();
        black_box(rt.load("overlay-logo", &wasm).unwrap());
    });
    row("warm load: from the compiled-code cache", warm);

    let runtime = Arc::new(PluginRuntime::new(config.clone()).unwrap());
    let registry = PluginRegistry::new(runtime, PluginRegistry::default_dirs());
    let router = registry.get("route-by-size").unwrap();
    let segmenter = registry.get("segment-keyframes").unwrap();
    let overlay = registry.get("overlay-logo").unwrap();
    let env = PluginEnv::default();

    let bare = bare_instantiate(&plugin_file("route-by-size"));
    row(
        "bare wasmtime: instantiate route-by-size from InstancePre",
        bare,
    );
    let inst = time_per_call(15, 2000, || {
        router.instantiate(env.clone()).unwrap();
    });
    row(
        "framejet: instantiate route-by-size (store, sandbox, limits)",
        inst,
    );
    println!(
        "| framejet / bare instantiation | {:.2}x |",
        inst.as_secs_f64() / bare.as_secs_f64()
    );

    let job = JobInfo {
        id: "bench".into(),
        item_count: 21,
        output_width: 3840,
        output_height: 2160,
        total_frames: 9000,
        total_duration_us: 300_000_000,
        step_count: 3,
        priority: Priority::Normal,
    };
    let route = time_per_call(15, 2000, || {
        black_box(router.route(&job, "{}", env.clone()).unwrap());
    });
    row("route (instantiate + call)", route);

    let info = MediaInfo {
        width: 1920,
        height: 1080,
        frame_rate: Rational { num: 30, den: 1 },
        frame_count: 9000,
        duration_us: 300_000_000,
        keyframes: (0..9000).step_by(60).collect(),
        has_audio: true,
    };
    let plan = time_per_call(15, 500, || {
        black_box(
            segmenter
                .plan_segments(&info, r#"{"min_segments": 8}"#, env.clone())
                .unwrap(),
        );
    });
    row("plan, 150 keyframes (instantiate + call)", plan);

    let logo_env = PluginEnv {
        assets: Arc::new(Logo),
        ..PluginEnv::default()
    };
    let mut instance = overlay
        .overlay(
            &info,
            r#"{"asset":"logo","corner":"top-right","fade_in_s":1}"#,
            logo_env,
        )
        .unwrap();
    let mut frame = 0u64;
    let per_frame = time_per_call(21, 20_000, || {
        frame += 1;
        black_box(
            instance
                .frame(frame % 9000, (frame % 9000) as i64 * 33_333)
                .unwrap(),
        );
    });
    row("overlay-logo per-frame call", per_frame);

    let text = registry.get("text-reveal").unwrap();
    let mut instance = text
        .overlay(
            &info,
            r#"{"words":["HELLO","WORLD"],"delay_s":0,"letter_interval_s":0.01}"#,
            PluginEnv::default(),
        )
        .unwrap();
    let per_frame = time_per_call(21, 20_000, || {
        frame += 1;
        black_box(instance.frame(300, 3_000_000).unwrap());
    });
    row("text-reveal per-frame call, 10 letters shown", per_frame);

    let _ = std::fs::remove_dir_all(cache);
}
