// `fit`: scaling a plane's rectangle into another's with separable filters, the twin of
// crates/media/src/fit.rs (swscale's bicubic). The filters (per output column and row: the
// source indices, edge-clamped, and weights summing to 1) are built on the host
// (crates/gpu/src/fit.rs); the kernels apply them.

// Horizontal pass: `rows` source rows (from `sy0`) into `tmp` (`rows` x `dw` floats).
extern "C" __global__ void fj_scale_rows(const u8* src, int pitch, int sy0, int rows, int dw,
                                         const int* index, const float* weight, int taps,
                                         float* tmp) {
    int x = FJ_X, y = FJ_Y;
    if (x >= dw || y >= rows) return;
    const u8* row = src + (sy0 + y) * pitch;
    float acc = 0.0f;
    for (int t = 0; t < taps; t++) acc += weight[x * taps + t] * (float)row[index[x * taps + t]];
    tmp[y * dw + x] = acc;
}

// Vertical pass: the `dw` x `dh` rectangle at (`dx0`, `dy0`) of `dst` from `tmp`'s rows.
extern "C" __global__ void fj_scale_columns(const float* tmp, int dw, int dh, const int* index,
                                            const float* weight, int taps, u8* dst, int pitch,
                                            int dx0, int dy0) {
    int x = FJ_X, y = FJ_Y;
    if (x >= dw || y >= dh) return;
    float acc = 0.0f;
    for (int t = 0; t < taps; t++) acc += weight[y * taps + t] * tmp[index[y * taps + t] * dw + x];
    dst[(dy0 + y) * pitch + dx0 + x] = fj_to_pixel(acc);
}

// The border: every pixel of a `w` x `h` plane outside the rectangle [`x0`, `x1`) x [`y0`, `y1`).
extern "C" __global__ void fj_fill_outside(u8* plane, int pitch, int w, int h, int x0, int y0,
                                           int x1, int y1, u32 value) {
    int x = FJ_X, y = FJ_Y;
    if (x >= w || y >= h) return;
    if (x >= x0 && x < x1 && y >= y0 && y < y1) return;
    plane[y * pitch + x] = (u8)value;
}
