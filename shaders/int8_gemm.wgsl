// Tiled int8 GEMM for M > 4 (same tiling as gemm.wgsl). Tiles are staged as packed words, four
// consecutive k per word, zero-padded past K, so the inner loop is dot4 on words for any K.
//
// K may be cut into slices run as separate dispatches (see gemm.wgsl); flags bit 0 adds to the
// partial in y, bit 1 marks the last slice.
//
// Defines: ALIGNED (K % 4 == 0: a staged word is one global word), DOT_NATIVE, OUT_F32.

// struct Params: shaders/common/params.wgsl

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> xq: array<u32>;
@group(0) @binding(2) var<storage, read> wq: array<u32>;
//#if OUT_F32
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<storage, read> x_scale: array<f32>;
@group(0) @binding(5) var<storage, read> w_scale: array<f32>;
// W8A8's bias[N] (flags bit 2), added after the scales; x_scale stands in when there is none.
@group(0) @binding(6) var<storage, read> bias: array<f32>;
//#else
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
//#endif

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BKW: u32 = 4u;   // K step in words (4 * BKW values of k)

var<workgroup> xs: array<u32, BKW * WG_Y * TM>;
var<workgroup> ws: array<u32, BKW * WG_X * TN>;

// Word idx of x or w (a branch, not select: select would load from both arrays).
fn load_word(is_x: bool, idx: u32) -> u32 {
    if (is_x) { return xq[idx]; }
    return wq[idx];
}

// Word `c` (k = 4c .. 4c+3) of row `row` of a [rows, K] int8 matrix starting at element `base`,
// zero past K; `valid` is false for rows past the matrix.
fn stage_word(is_x: bool, base: u32, row: u32, c: u32, valid: bool) -> u32 {
    let k = 4u * c;
    if (!valid || k >= P.k_end) { return 0u; }
//#if ALIGNED
    let idx = (base + row * P.k + k) >> 2u;
    return load_word(is_x, idx);
//#else
    var word = 0u;
    for (var b = 0u; b < 4u; b++) {
        if (k + b < P.k_end) {
            let e = base + row * P.k + k + b;
            let src = load_word(is_x, e >> 2u);
            word |= ((src >> ((e & 3u) * 8u)) & 0xffu) << (8u * b);
        }
    }
    return word;
//#endif
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let bm = WG_Y * TM;
    let bn = WG_X * TN;
    let nt = WG_X * WG_Y;
    let m0 = wid.y * bm;
    let n0 = wid.x * bn;
    // Every array below is indexed by constants (//#unroll): llvmpipe kept arrays indexed by a
    // loop counter in stack memory (shaders/README.md). Zero-initialised.
    var acc: array<i32, TM * TN>;
    // Slices start on whole words (k_begin is a multiple of 4).
    let kwords = (P.k_end + 3u) >> 2u;

    for (var c0 = P.k_begin >> 2u; c0 < kwords; c0 += BKW) {
        for (var idx = tid; idx < bm * BKW; idx += nt) {
            let r = idx / BKW;
            let c = idx % BKW;
            xs[c * bm + r] = stage_word(true, 0u, m0 + r, c0 + c, m0 + r < P.m);
        }
        for (var idx = tid; idx < bn * BKW; idx += nt) {
            let r = idx / BKW;
            let c = idx % BKW;
            ws[c * bn + r] = stage_word(false, P.w_off, n0 + r, c0 + c, n0 + r < P.n);
        }
        workgroupBarrier();
        for (var c = 0u; c < BKW; c++) {
            var a: array<u32, TM>;
            var b: array<u32, TN>;
//#unroll i TM
            a[i] = xs[c * bm + lid.y + i * WG_Y];
//#end
//#unroll j TN
            b[j] = ws[c * bn + lid.x + j * WG_X];
//#end
//#unroll i TM
//#unroll j TN
            acc[i * TN + j] += dot4(a[i], b[j]);
//#end
//#end
        }
        workgroupBarrier();
    }

//#unroll i TM
    {
        let gm = m0 + lid.y + i * WG_Y;
//#unroll j TN
        {
            let gn = n0 + lid.x + j * WG_X;
            if (gm < P.m && gn < P.n) {
                let col = P.n_base + gn;
                let idx = gm * P.ldy + col;
//#if OUT_F32
                // Earlier K slices leave the exact i32 partial in y's bits; the last applies scales.
                var total = acc[i * TN + j];
                if ((P.flags & 1u) != 0u) { total += bitcast<i32>(y[idx]); }
                if ((P.flags & 2u) != 0u) {
                    var v = f32(total) * (x_scale[gm] * w_scale[col]);
                    if ((P.flags & 4u) != 0u) { v += bias[min(col, arrayLength(&bias) - 1u)]; }
                    y[idx] = v;
                } else {
                    y[idx] = bitcast<f32>(total);
                }
//#else
                if ((P.flags & 1u) != 0u) { y[idx] += acc[i * TN + j]; } else { y[idx] = acc[i * TN + j]; }
//#endif
            }
        }
//#end
    }
//#end
}
