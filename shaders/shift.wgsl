// Power-of-two weights (lowbit_kernels::shift, whose module docs define the codes and modes):
// one invocation per output y[t, j], codes read as bytes out of u32 words (rows are K bytes,
// not word-aligned in general), the CPU kernels' order of operations, so the same bits.
// FIXED: x and y are i32, `±(x >> min(e, 31))` in a wrapping sum. Otherwise x and y are f32,
// `x · 2^(−e)` (one multiply by an exact power of two) summed in K order per group, then
// `s_g · sum` (the first group) or `y + s_g · sum`.

struct Params {
    n: u32,
    k: u32,
    m: u32,
    bits: u32,
    zero_code: u32,
    group: u32,
    groups_x: u32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
//#if FIXED
// No scales in this mode (the caller's, one per channel).
@group(0) @binding(2) var<storage, read> x: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
//#else
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> x: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
//#endif

fn code_at(i: u32) -> u32 {
    return (codes[i >> 2u] >> ((i & 3u) << 3u)) & 0xFFu;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let idx = gid.y * params.groups_x * 64u + gid.x;
    if (idx >= params.m * params.n) {
        return;
    }
    let t = idx / params.n;
    let r = idx % params.n;
    let k = params.k;
    let emask = (1u << (params.bits - 1u)) - 1u;
    let has_zero = params.zero_code != 0u;
//#if FIXED
    var acc = 0i;
    for (var c = 0u; c < k; c++) {
        let code = code_at(r * k + c);
        let e = code & emask;
        if (!(has_zero && e == emask)) {
            let v = x[t * k + c] >> min(e, 31u);
            // Wrapping i32 arithmetic, as the CPU's wrapping_add/sub.
            acc = select(acc + v, acc - v, ((code >> (params.bits - 1u)) & 1u) == 1u);
        }
    }
    y[idx] = acc;
//#else
    let groups = k / params.group;
    var acc_y = 0.0;
    for (var g = 0u; g < groups; g++) {
        var sum = 0.0;
        for (var c = g * params.group; c < (g + 1u) * params.group; c++) {
            let code = code_at(r * k + c);
            let e = code & emask;
            if (!(has_zero && e == emask)) {
                let v = x[t * k + c] * bitcast<f32>((127u - e) << 23u);
                sum += select(v, -v, ((code >> (params.bits - 1u)) & 1u) == 1u);
            }
        }
        let p = scales[r * groups + g] * sum;
        acc_y = select(acc_y + p, p, g == 0u);
    }
    y[idx] = acc_y;
//#endif
}
