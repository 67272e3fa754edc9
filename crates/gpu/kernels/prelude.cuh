// Shared by every kernel source. NVRTC compiles these files for the GPU with --fmad=false, so
// each float operation rounds on its own, as in the Rust twins; for machines without a GPU the
// same files compile as C++ on the host (host.cpp), which the tests run against the twins.
//
// Kernels are per-element and race-free (no shared memory, no atomics, no block
// synchronisation): a launch gives the same result whatever order its threads run in, which is
// what lets the host emulation stand in for the GPU.

typedef unsigned char u8;
typedef unsigned int u32;

// The element a 2-D launch gives this thread.
#define FJ_X ((int)(blockIdx.x * blockDim.x + threadIdx.x))
#define FJ_Y ((int)(blockIdx.y * blockDim.y + threadIdx.y))

// framejet_inpaint's `to_pixel`: clamp to 0..=255 (NaN to 0), round half up.
__device__ __forceinline__ u8 fj_to_pixel(float v) {
    if (!(v > 0.0f)) v = 0.0f;
    if (v > 255.0f) v = 255.0f;
    u8 whole = (u8)v;
    return (u8)(whole + (v - (float)whole >= 0.5f ? 1 : 0));
}

// Largest integer not above `v` (in-range values; no libm call).
__device__ __forceinline__ int fj_floor(float v) {
    int i = (int)v;
    return i - (v < (float)i ? 1 : 0);
}

__device__ __forceinline__ int fj_clamp(int v, int lo, int hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}
