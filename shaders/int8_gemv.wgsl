// int8 GEMV for M <= 4: acc[m, n] = sum_k x[m, k] * w[n, k] in i32 (exact), then either the
// i32 accumulator itself or the W8A8 output f32(acc) * (x_scale[m] * w_scale[n]).
// Same workgroup organisation as gemv.wgsl: ROWS rows per workgroup, K split over WG
// invocations, subgroup or workgroup-memory reduction (integer sums: exact in any order).
//
// Prelude constants: MR, ROWS, NACC = MR·ROWS.
// Defines: ALIGNED (K % 4 == 0: whole words, dot4), SUBGROUP, DOT_NATIVE, OUT_F32.

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

override WG: u32 = 256u;
var<workgroup> red: array<i32, NACC * WG>;

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
//#if SUBGROUP
    @builtin(subgroup_invocation_id) lane: u32,
    @builtin(subgroup_id) sg: u32,
    @builtin(num_subgroups) nsg: u32,
//#endif
) {
    let row0 = (wid.x + wid.y * P.groups_x) * ROWS;
    // The arrays are indexed by constants only (//#unroll): llvmpipe kept arrays indexed by a
    // loop counter in stack memory (shaders/README.md). Zero-initialised.
    var acc: array<i32, NACC>;
    var rows: array<u32, ROWS>;
//#unroll r ROWS
    rows[r] = min(row0 + r, P.n - 1u);
//#end

//#if ALIGNED
    let kw = P.k >> 2u;
    let woff = P.w_off >> 2u;
    for (var i = tid; i < kw; i += WG) {
        var xv: array<u32, MR>;
//#unroll m MR
        xv[m] = xq[m * kw + i];
//#end
//#unroll r ROWS
        {
            let wv = wq[woff + rows[r] * kw + i];
//#unroll m MR
            acc[r * MR + m] += dot4(xv[m], wv);
//#end
        }
//#end
    }
//#else
    for (var e = tid; e < P.k; e += WG) {
        var xv: array<i32, MR>;
//#unroll m MR
        {
            let xe = m * P.k + e;
            xv[m] = i8_of(xq[xe >> 2u], xe);
        }
//#end
//#unroll r ROWS
        {
            let we = P.w_off + rows[r] * P.k + e;
            let wv = i8_of(wq[we >> 2u], we);
//#unroll m MR
            acc[r * MR + m] += xv[m] * wv;
//#end
        }
//#end
    }
//#endif

//#if SUBGROUP
//#unroll j NACC
    {
        let s = subgroupAdd(acc[j]);
        if (lane == 0u) { red[j * WG + sg] = s; }
    }
//#end
    workgroupBarrier();
    // NACC may exceed WG (the narrow shape): each invocation owns accumulators tid, tid + WG, ...
    for (var j = tid; j < NACC; j += WG) {
        var t = 0;
        for (var s = 0u; s < nsg; s++) { t += red[j * WG + s]; }
        red[j * WG] = t;
    }
//#else
//#unroll j NACC
    red[j * WG + tid] = acc[j];
//#end
    workgroupBarrier();
    for (var s = WG >> 1u; s > 0u; s >>= 1u) {
        if (tid < s) {
            for (var j = 0u; j < NACC; j++) { red[j * WG + tid] += red[j * WG + tid + s]; }
        }
        workgroupBarrier();
    }
//#endif
    for (var j = tid; j < NACC; j += WG) {
        let r = j / MR;
        let m = j % MR;
        let row = row0 + r;
        if (row < P.n) {
            let col = P.n_base + row;
//#if OUT_F32
            var v = f32(red[j * WG]) * (x_scale[m] * w_scale[col]);
            if ((P.flags & 4u) != 0u) { v += bias[min(col, arrayLength(&bias) - 1u)]; }
            y[m * P.ldy + col] = v;
//#else
            y[m * P.ldy + col] = red[j * WG];
//#endif
        }
    }
}
