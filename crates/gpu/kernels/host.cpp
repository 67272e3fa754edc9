// The kernel sources compiled for the CPU, for tests and benchmarks on machines without a GPU:
// CUDA's qualifiers and thread indices are defined away, and each kernel gets a launcher that
// runs its grid in a loop, taking its arguments as CUDA's launch does (an array of pointers to
// the values). The kernels are race-free (prelude.cuh), so any order gives the GPU's result.

#include <cstddef>
#include <type_traits>
#include <utility>

#define __global__
#define __device__ static
#define __forceinline__ inline

struct fj_dim3 {
    unsigned x, y, z;
};

static thread_local fj_dim3 threadIdx, blockIdx, blockDim;

#include "prelude.cuh"
#include "inpaint.cu"
#include "composite.cu"
#include "fit.cu"

template <typename... T, std::size_t... I>
static void fj_call(void (*kernel)(T...), void** args, std::index_sequence<I...>) {
    kernel(*static_cast<std::remove_reference_t<T>*>(args[I])...);
}

template <typename... T>
static void fj_run(void (*kernel)(T...), fj_dim3 grid, fj_dim3 block, void** args) {
    blockDim = block;
    for (unsigned bz = 0; bz < grid.z; bz++)
        for (unsigned by = 0; by < grid.y; by++)
            for (unsigned bx = 0; bx < grid.x; bx++)
                for (unsigned tz = 0; tz < block.z; tz++)
                    for (unsigned ty = 0; ty < block.y; ty++)
                        for (unsigned tx = 0; tx < block.x; tx++) {
                            blockIdx = fj_dim3{bx, by, bz};
                            threadIdx = fj_dim3{tx, ty, tz};
                            fj_call(kernel, args, std::index_sequence_for<T...>{});
                        }
}

#define FJ_EMULATE(name)                                                                 \
    extern "C" void name##_emulated(fj_dim3 grid, fj_dim3 block, void** args) {          \
        fj_run(name, grid, block, args);                                                 \
    }

FJ_EMULATE(fj_invert)
FJ_EMULATE(fj_temporal_fill)
FJ_EMULATE(fj_fill_pull)
FJ_EMULATE(fj_fill_upsample)
FJ_EMULATE(fj_fill_relax)
FJ_EMULATE(fj_blend_luma)
FJ_EMULATE(fj_blend_chroma_block)
FJ_EMULATE(fj_fill_rect_luma)
FJ_EMULATE(fj_fill_rect_chroma)
FJ_EMULATE(fj_scale_rows)
FJ_EMULATE(fj_scale_columns)
FJ_EMULATE(fj_fill_outside)
FJ_EMULATE(fj_average_rows)
FJ_EMULATE(fj_average_columns)
FJ_EMULATE(fj_average_sampled)
