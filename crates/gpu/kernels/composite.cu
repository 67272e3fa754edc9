// Compositing draw ops on yuv420p, twins of crates/media/src/composite.rs (`blend`,
// `fill_rect`): integer arithmetic, so the results are exactly the CPU's.

// `(c·(1020 − sa) + s + 510) / 1020`: one chroma sample under a 2x2 block of summed alpha `sa`.
__device__ __forceinline__ u8 fj_blend_chroma(u8 c, u32 sa, u32 s) {
    return (u8)(((u32)c * (1020u - sa) + s + 510u) / 1020u);
}

// Luma of an overlay: pixels (`x0`..`x0+rw`, `y0`..`y0+rh`) of the frame (the overlay clipped),
// the overlay's top-left at (`ox`, `oy`), opacity `op` in 0..=256.
extern "C" __global__ void fj_blend_luma(u8* plane, int pitch, int x0, int y0, int rw, int rh,
                                         const u8* image_y, const u8* image_a, int iw, int ox,
                                         int oy, u32 op) {
    int x = FJ_X, y = FJ_Y;
    if (x >= rw || y >= rh) return;
    x += x0;
    y += y0;
    int i = (y - oy) * iw + (x - ox);
    u32 a = ((u32)image_a[i] * op + 128u) >> 8;
    u8* d = plane + y * pitch + x;
    u32 t = (u32)*d * (255u - a) + (u32)image_y[i] * a + 127u;
    *d = (u8)((t + 1u + (t >> 8)) >> 8);
}

// Chroma of an overlay: samples (`cx0`.., `cy0`..) of U and V, each from the alpha-weighted
// 2x2 overlay pixels it covers (pixels outside the overlay count as transparent).
extern "C" __global__ void fj_blend_chroma_block(u8* u, int pitch_u, u8* v, int pitch_v, int cx0,
                                                 int cy0, int cw, int ch, const u8* image_a,
                                                 const u8* image_u, const u8* image_v, int iw,
                                                 int ih, int ox, int oy, u32 op) {
    int cx = FJ_X, cy = FJ_Y;
    if (cx >= cw || cy >= ch) return;
    cx += cx0;
    cy += cy0;
    int ix = 2 * cx - ox, iy = 2 * cy - oy;
    u32 sa = 0, su = 0, sv = 0;
    for (int k = 0; k < 4; k++) {
        int px = ix + (k & 1), py = iy + (k >> 1);
        if (px >= 0 && px < iw && py >= 0 && py < ih) {
            int i = py * iw + px;
            u32 a = ((u32)image_a[i] * op + 128u) >> 8;
            sa += a;
            su += a * (u32)image_u[i];
            sv += a * (u32)image_v[i];
        }
    }
    if (sa == 0) return;
    u8* pu = u + cy * pitch_u + cx;
    u8* pv = v + cy * pitch_v + cx;
    *pu = fj_blend_chroma(*pu, sa, su);
    *pv = fj_blend_chroma(*pv, sa, sv);
}

// Luma of a solid rectangle (clipped to `x0`.., `y0`..): `yv` is Y·alpha, `keep` 255 − alpha.
extern "C" __global__ void fj_fill_rect_luma(u8* plane, int pitch, int x0, int y0, int rw,
                                             int rh, u32 yv, u32 keep) {
    int x = FJ_X, y = FJ_Y;
    if (x >= rw || y >= rh) return;
    u8* d = plane + (y0 + y) * pitch + x0 + x;
    u32 t = (u32)*d * keep + yv + 127u;
    *d = (u8)((t + 1u + (t >> 8)) >> 8);
}

// Chroma of a solid rectangle: each sample weighted by how many of its 2x2 luma pixels lie in
// the rectangle [`rx0`, `rx1`) x [`ry0`, `ry1`).
extern "C" __global__ void fj_fill_rect_chroma(u8* u, int pitch_u, u8* v, int pitch_v, int cx0,
                                               int cy0, int cw, int ch, int rx0, int ry0,
                                               int rx1, int ry1, u32 alpha, u32 cu, u32 cv) {
    int cx = FJ_X, cy = FJ_Y;
    if (cx >= cw || cy >= ch) return;
    cx += cx0;
    cy += cy0;
    u32 covered = 0;
    for (int k = 0; k < 4; k++) {
        int lx = 2 * cx + (k & 1), ly = 2 * cy + (k >> 1);
        covered += (lx >= rx0 && lx < rx1 && ly >= ry0 && ly < ry1) ? 1u : 0u;
    }
    u32 sa = alpha * covered;
    u8* pu = u + cy * pitch_u + cx;
    u8* pv = v + cy * pitch_v + cx;
    *pu = fj_blend_chroma(*pu, sa, sa * cu);
    *pv = fj_blend_chroma(*pv, sa, sa * cv);
}
