// GEMV for the decode case: y[m, n] = sum_k x[m, k] * w[n, k] for M <= 4 activation rows.
//
// One workgroup owns ROWS consecutive rows of W; its WG invocations split K, so neighbouring
// invocations read neighbouring vec4s of a row (coalesced), and each keeps ROWS * MR partial sums
// in registers. The partial sums are then reduced across the workgroup: by subgroupAdd plus one
// slot per subgroup where the adapter has subgroups (correct for any subgroup size, as the slot
// is indexed by subgroup_id and the count is num_subgroups), else by a tree in workgroup memory.
// The grid is folded into 2D so N may exceed 65535 * ROWS.
//
// Prelude constants: MR (activation rows, 1..4), ROWS (W rows per workgroup), NACC = MR·ROWS.
// Defines: VEC8 (K % 8 == 0: eight elements a load) or VEC4 (K % 4 == 0), else scalar loads;
// SUBGROUP.

// struct Params: shaders/common/params.wgsl

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// The epilogue's bias[N] (flags bit 2); another read-only buffer stands in when there is none.
@group(0) @binding(4) var<storage, read> bias: array<f32>;

override WG: u32 = 256u;
var<workgroup> red: array<f32, NACC * WG>;

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
    // loop counter in stack memory, read and written lane by lane (shaders/README.md).
    var acc: array<f32, NACC>;

    // Rows past the end re-read the last row (always in bounds) and are not written.
    var rows: array<u32, ROWS>;
//#unroll r ROWS
    rows[r] = min(row0 + r, P.n - 1u);
//#end

//#if VEC8
    let k8 = P.k >> 3u;
    let w8 = P.w_off >> 3u;
    for (var i = tid; i < k8; i += WG) {
        var xv: array<mat2x4<f32>, MR>;
//#unroll m MR
        xv[m] = x_vec8(m * k8 + i);
//#end
//#unroll r ROWS
        {
            let wv = w_vec8(w8 + rows[r] * k8 + i);
//#unroll m MR
            acc[r * MR + m] += dot(xv[m][0], wv[0]) + dot(xv[m][1], wv[1]);
//#end
        }
//#end
    }
//#else
//#if VEC4
    let k4 = P.k >> 2u;
    let w4 = P.w_off >> 2u;
    for (var i = tid; i < k4; i += WG) {
        var xv: array<vec4<f32>, MR>;
//#unroll m MR
        xv[m] = x_vec4(m * k4 + i);
//#end
//#unroll r ROWS
        {
            let wv = w_vec4(w4 + rows[r] * k4 + i);
//#unroll m MR
            acc[r * MR + m] += dot(xv[m], wv);
//#end
        }
//#end
    }
//#else
    for (var e = tid; e < P.k; e += WG) {
        var xv: array<f32, MR>;
//#unroll m MR
        xv[m] = x_at(m * P.k + e);
//#end
//#unroll r ROWS
        {
            let wv = w_at(P.w_off + rows[r] * P.k + e);
//#unroll m MR
            acc[r * MR + m] = fma(xv[m], wv, acc[r * MR + m]);
//#end
        }
//#end
    }
//#endif
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
        var t = 0.0;
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
            var v = red[j * WG];
            if ((P.flags & 4u) != 0u) { v += bias[min(col, arrayLength(&bias) - 1u)]; }
            y[m * P.ldy + col] = v;
        }
    }
}
