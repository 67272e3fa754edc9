// The inpaint step's per-pixel kernels, twins of crates/inpaint: blend inversion (blend.rs),
// temporal fill (temporal.rs, sampling.rs) and spatial fill (fill.rs). Each names the Rust
// function it mirrors; the arithmetic is the same, operation for operation.

// invert_reference: un-blends the pixels of kind 1 in a `bw`x`bh` box at (`x0`, `y0`).
extern "C" __global__ void fj_invert(u8* plane, int pitch, int x0, int y0, int bw, int bh,
                                     const u8* kind, const float* alpha, const float* premul) {
    int x = FJ_X, y = FJ_Y;
    if (x >= bw || y >= bh) return;
    int i = y * bw + x;
    if (kind[i] != 1) return;
    u8* p = plane + (y0 + y) * pitch + x0 + x;
    float background = ((float)*p - premul[i]) / (1.0f - alpha[i]);
    *p = fj_to_pixel(background);
}

// sampling::sample: Catmull-Rom at 1/64-pixel phases (`taps`: 65 rows of 4 weights), edges
// clamped; whole-pixel positions read the pixel itself.
__device__ float fj_sample(const u8* plane, int w, int h, float x, float y, const float* taps) {
    int ix = fj_floor(x), iy = fj_floor(y);
    float tx = x - (float)ix, ty = y - (float)iy;
    if (tx == 0.0f && ty == 0.0f) {
        return (float)plane[fj_clamp(iy, 0, h - 1) * w + fj_clamp(ix, 0, w - 1)];
    }
    const float* wx = taps + 4 * (int)(tx * 64.0f + 0.5f);
    const float* wy = taps + 4 * (int)(ty * 64.0f + 0.5f);
    int columns[4];
    for (int k = 0; k < 4; k++) columns[k] = fj_clamp(ix - 1 + k, 0, w - 1);
    float acc = 0.0f;
    for (int j = 0; j < 4; j++) {
        int row = fj_clamp(iy - 1 + j, 0, h - 1);
        float r = 0.0f;
        for (int k = 0; k < 4; k++) r += wx[k] * (float)plane[row * w + columns[k]];
        acc += wy[j] * r;
    }
    return acc;
}

// Blocked::clear: whether a read at (`x`, `y`) touches only background. `exact` marks the
// pixels that are not background, `wide` the same widened to a read's 4x4 footprint.
__device__ bool fj_clear(const u8* exact, const u8* wide, int w, int h, float x, float y) {
    int ix = fj_floor(x), iy = fj_floor(y);
    if (ix < 0 || iy < 0 || ix >= w || iy >= h) return false;
    int i = iy * w + ix;
    if (x == (float)ix && y == (float)iy) return exact[i] == 0;
    return wide[i] == 0;
}

// motion.rs `Motion::at`: the displacement at plane pixel (`x`, `y`) of a motion that is
// (`dx`, `dy`) at (`cx`, `cy`) with the linear part [`a` -`b`; `b` `a`].
__device__ void fj_displacement(float x, float y, float dx, float dy, float a, float b, float cx,
                                float cy, float* ox, float* oy) {
    float qx = x - cx, qy = y - cy;
    *ox = dx + a * qx - b * qy;
    *oy = dy + b * qx + a * qy;
}

// temporal::fill_reference, one source: each hole `k` (plane coordinates `holes[2k]`,
// `holes[2k+1]`) not yet `filled` takes what the source shows at its moved position, if that
// read is clear. `target` holds the plane from (`tx0`, `ty0`) on. Launched once per source,
// nearest in time first. The source's motion is (`dx`, `dy`), with the linear part `la`, `lb`
// about (`lcx`, `lcy`) (zero for a translation: temporal.rs `Source::at`).
extern "C" __global__ void fj_temporal_fill(u8* target, int pitch, int tx0, int ty0,
                                            const u32* holes, int n,
                                            u8* filled, const u8* source, int sw, int sh,
                                            int sx0, int sy0, float dx, float dy, float la,
                                            float lb, float lcx, float lcy,
                                            const u8* exact, const u8* wide, const float* taps) {
    int k = FJ_X;
    if (k >= n || filled[k]) return;
    u32 x = holes[2 * k], y = holes[2 * k + 1];
    float sx, sy;
    if (la == 0.0f && lb == 0.0f) {
        sx = (float)x + (dx - (float)sx0);
        sy = (float)y + (dy - (float)sy0);
    } else {
        float mx, my;
        fj_displacement((float)x, (float)y, dx, dy, la, lb, lcx, lcy, &mx, &my);
        sx = (float)x + mx - (float)sx0;
        sy = (float)y + my - (float)sy0;
    }
    if (!fj_clear(exact, wide, sw, sh, sx, sy)) return;
    target[((int)y - ty0) * pitch + (int)x - tx0] = fj_to_pixel(fj_sample(source, sw, sh, sx, sy, taps));
    filled[k] = 1;
}

// fill.rs `pull`: a coarse pixel is the mean of the known pixels among its (up to) four.
extern "C" __global__ void fj_fill_pull(const float* fine, const u8* fine_unknown, int fw,
                                        int fh, float* coarse, int cw, int ch) {
    int x = FJ_X, y = FJ_Y;
    if (x >= cw || y >= ch) return;
    float sum = 0.0f;
    u32 n = 0;
    for (int fy = 2 * y; fy < 2 * y + 2 && fy < fh; fy++) {
        for (int fx = 2 * x; fx < 2 * x + 2 && fx < fw; fx++) {
            int i = fy * fw + fx;
            if (fine_unknown[i] == 0) {
                sum += fine[i];
                n += 1;
            }
        }
    }
    coarse[y * cw + x] = n > 0 ? sum / (float)n : 0.0f;
}

// fill.rs `upsample_at` for every unknown fine pixel: the bilinear value of the level below.
extern "C" __global__ void fj_fill_upsample(float* fine, const u8* fine_unknown, int fw, int fh,
                                            const float* coarse, int cw, int ch) {
    int x = FJ_X, y = FJ_Y;
    if (x >= fw || y >= fh || fine_unknown[y * fw + x] == 0) return;
    float cx = ((float)x + 0.5f) * 0.5f - 0.5f;
    float cy = ((float)y + 0.5f) * 0.5f - 0.5f;
    cx = cx < 0.0f ? 0.0f : (cx > (float)(cw - 1) ? (float)(cw - 1) : cx);
    cy = cy < 0.0f ? 0.0f : (cy > (float)(ch - 1) ? (float)(ch - 1) : cy);
    int x0 = (int)cx, y0 = (int)cy;
    int x1 = x0 + 1 < cw ? x0 + 1 : cw - 1;
    int y1 = y0 + 1 < ch ? y0 + 1 : ch - 1;
    float fx = cx - (float)x0, fy = cy - (float)y0;
    float v00 = coarse[y0 * cw + x0], v10 = coarse[y0 * cw + x1];
    float v01 = coarse[y1 * cw + x0], v11 = coarse[y1 * cw + x1];
    float top = v00 + fx * (v10 - v00);
    float bottom = v01 + fx * (v11 - v01);
    fine[y * fw + x] = top + fy * (bottom - top);
}

// One half of a red-black Gauss-Seidel sweep (fill.rs `relax_reference`): the unknown pixels of
// `colour` ((x + y) % 2) take the mean of their in-bounds 4-neighbours, all of the other colour.
extern "C" __global__ void fj_fill_relax(float* values, const u8* unknown, int w, int h,
                                         int colour, int isotropic, const float* wxs,
                                         const float* wys) {
    int x = FJ_X, y = FJ_Y;
    if (x >= w || y >= h || (x + y) % 2 != colour) return;
    int i = y * w + x;
    if (unknown[i] == 0) return;
    if (isotropic) {
        float sum = 0.0f, n = 0.0f;
        if (x > 0) { sum += values[i - 1]; n += 1.0f; }
        if (x + 1 < w) { sum += values[i + 1]; n += 1.0f; }
        if (y > 0) { sum += values[i - w]; n += 1.0f; }
        if (y + 1 < h) { sum += values[i + w]; n += 1.0f; }
        values[i] = sum / n;
        return;
    }
    // fill.rs `weighted_mean`: the neighbours along the row weigh `wx` each, along the column
    // `wy` (fill.rs `weights`).
    float wx = wxs[i], wy = wys[i];
    float along = 0.0f, nx = 0.0f, across = 0.0f, ny = 0.0f;
    if (x > 0) { along += values[i - 1]; nx += 1.0f; }
    if (x + 1 < w) { along += values[i + 1]; nx += 1.0f; }
    if (y > 0) { across += values[i - w]; ny += 1.0f; }
    if (y + 1 < h) { across += values[i + w]; ny += 1.0f; }
    values[i] = (wx * along + wy * across) / (wx * nx + wy * ny);
}

// average.rs `add_shifted`, first pass: source rows `first`.. (`rows` of them), columns
// `c0`..`c0 + nx + 3`, filtered along the row with the four taps `w0`..`w3` into `out`
// (`rows` x `nx`).
extern "C" __global__ void fj_average_rows(const u8* source, int sw, int first, int c0, int nx,
                                           int rows, float w0, float w1, float w2, float w3,
                                           float* out) {
    int k = FJ_X, r = FJ_Y;
    if (k >= nx || r >= rows) return;
    const u8* src = source + (first + r) * sw + c0 + k;
    out[r * nx + k] = w0 * (float)src[0] + w1 * (float)src[1] + w2 * (float)src[2] +
                      w3 * (float)src[3];
}

// average.rs `add_shifted`, second pass: the rect pixels (`x0`.., `y0`..; `nx` x `ny`) take
// the column filter of the rows pass and count it, where (with `holes`) the read at their
// moved place (`x + dx - sx0`, `y + dy - sy0`) is clear. `sum` and `count` are the rect's
// (`rw` wide, from (`rx0`, `ry0`)).
extern "C" __global__ void fj_average_columns(const float* rows, int nx, int ny, float w0,
                                              float w1, float w2, float w3, int x0, int y0,
                                              int rx0, int ry0, int rw, float* sum,
                                              unsigned short* count, int holes,
                                              const u8* exact, const u8* wide, int sw, int sh,
                                              int sx0, int sy0, float dx, float dy) {
    int k = FJ_X, r = FJ_Y;
    if (k >= nx || r >= ny) return;
    int x = x0 + k, y = y0 + r;
    if (holes) {
        float sx = (float)x + dx - (float)sx0;
        float sy = (float)y + dy - (float)sy0;
        if (!fj_clear(exact, wide, sw, sh, sx, sy)) return;
    }
    int i = (y - ry0) * rw + x - rx0;
    sum[i] += w0 * rows[r * nx + k] + w1 * rows[(r + 1) * nx + k] + w2 * rows[(r + 2) * nx + k] +
              w3 * rows[(r + 3) * nx + k];
    count[i] += 1;
}

// average.rs `add_sampled`: the listed rect pixels (indices in a rect `rw` wide from (`rx0`,
// `ry0`)) read one by one where clear of the source's holes. The source's motion as in
// `fj_temporal_fill`.
extern "C" __global__ void fj_average_sampled(const u32* pixels, int n, int rx0, int ry0,
                                              int rw, float* sum, unsigned short* count,
                                              const u8* source, int sw, int sh, int sx0,
                                              int sy0, float dx, float dy, float la, float lb,
                                              float lcx, float lcy, const u8* exact,
                                              const u8* wide, const float* taps) {
    int k = FJ_X;
    if (k >= n) return;
    u32 i = pixels[k];
    int x = (int)(i % (u32)rw) + rx0, y = (int)(i / (u32)rw) + ry0;
    float mx, my;
    fj_displacement((float)x, (float)y, dx, dy, la, lb, lcx, lcy, &mx, &my);
    float sx = (float)x + mx - (float)sx0;
    float sy = (float)y + my - (float)sy0;
    if (!fj_clear(exact, wide, sw, sh, sx, sy)) return;
    sum[i] += fj_sample(source, sw, sh, sx, sy, taps);
    count[i] += 1;
}
