//! Compiles the CUDA kernel sources for the CPU (kernels/host.cpp), so that tests and
//! benchmarks run them where no GPU is. The GPU build of the same sources happens at run time,
//! through NVRTC (src/device.rs).

fn main() {
    let kernels = [
        "prelude.cuh",
        "inpaint.cu",
        "composite.cu",
        "fit.cu",
        "host.cpp",
    ];
    for k in kernels {
        println!("cargo:rerun-if-changed=kernels/{k}");
    }
    cc::Build::new()
        .cpp(true)
        .file("kernels/host.cpp")
        .std("c++17")
        // No fused multiply-adds: each float operation rounds on its own, as in Rust and in
        // NVRTC with --fmad=false.
        .flag_if_supported("-ffp-contract=off")
        .opt_level(2)
        .warnings(false)
        .compile("framejet_gpu_kernels_host");
}
