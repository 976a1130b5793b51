// Tiled GEMM for M > 4: y[m, n] = sum_k x[m, k] * w[n, k].
//
// A WG_X x WG_Y workgroup computes a BM x BN tile of y (BM = WG_Y * TM, BN = WG_X * TN), each
// invocation a TM x TN register block. K advances in steps of BK: both operand tiles are staged
// through workgroup memory as f32 (converted from f16/bf16 on the way in, zero outside the
// matrix, so any M, N, K works), stored k-major so the inner loop reads contiguous runs.
// Neighbouring invocations stage neighbouring k of one row: coalesced global reads.
//
// K may be cut into slices run as separate dispatches (k_begin..k_end, flags bit 0 = add to y):
// llvmpipe stops any invocation after 65535 loop back-edges, silently, so long K is sliced there.
//
// Tile sizes are override constants (WG_X, WG_Y, BK); TM and TN are prelude constants because
// WGSL sizes private arrays with constants only.

// struct Params: shaders/common/params.wgsl

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// The epilogue's bias[N] (flags bit 2, added on the last K slice); another read-only buffer
// stands in when there is none.
@group(0) @binding(4) var<storage, read> bias: array<f32>;

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override BK: u32 = 16u;

var<workgroup> xs: array<f32, BK * WG_Y * TM>;
var<workgroup> ws: array<f32, BK * WG_X * TN>;

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
    var acc: array<f32, TM * TN>;

    for (var k0 = P.k_begin; k0 < P.k_end; k0 += BK) {
        for (var idx = tid; idx < bm * BK; idx += nt) {
            let r = idx / BK;
            let c = idx % BK;
            let gm = m0 + r;
            let gk = k0 + c;
            var v = 0.0;
            if (gm < P.m && gk < P.k_end) { v = x_at(gm * P.k + gk); }
            xs[c * bm + r] = v;
        }
        for (var idx = tid; idx < bn * BK; idx += nt) {
            let r = idx / BK;
            let c = idx % BK;
            let gn = n0 + r;
            let gk = k0 + c;
            var v = 0.0;
            if (gn < P.n && gk < P.k_end) { v = w_at(P.w_off + gn * P.k + gk); }
            ws[c * bn + r] = v;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < BK; kk++) {
            var a: array<f32, TM>;
            var b: array<f32, TN>;
            // Strided ownership (lid.y + i * WG_Y) keeps neighbouring invocations on
            // neighbouring workgroup-memory words.
//#unroll i TM
            a[i] = xs[kk * bm + lid.y + i * WG_Y];
//#end
//#unroll j TN
            b[j] = ws[kk * bn + lid.x + j * WG_X];
//#end
//#unroll i TM
//#unroll j TN
            acc[i * TN + j] = fma(a[i], b[j], acc[i * TN + j]);
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
                var v = acc[i * TN + j];
                if ((P.flags & 1u) != 0u) { v += y[idx]; }
                if ((P.flags & 6u) == 6u) { v += bias[min(col, arrayLength(&bias) - 1u)]; }
                y[idx] = v;
            }
        }
//#end
    }
//#end
}
