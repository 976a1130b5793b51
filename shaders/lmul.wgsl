// L-Mul (lowbit_kernels::lmul, whose module docs define it): every product of two f32 replaced
// by an integer add of their bit patterns, emulating MBITS-bit mantissas. Operands and
// element-wise results travel as u32 bit patterns, so no float load or store can alter them.
//
// ELEMENTWISE: y[i] = lmul(a[i], b[i]). Otherwise the GEMV y[t, j] = Σ_k lmul(x[t, k], w[j, k])
// with one invocation per output and the CPU's order of f32 adds: eight strided partial sums
// (two vec4), then ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)) — the same bits as
// lowbit_kernels::lmul::lmul_gemv.

struct Params {
    n: u32,        // GEMV: rows of W; ELEMENTWISE: elements
    k: u32,
    m: u32,        // tokens
    mbits: u32,    // emulated mantissa bits, 1..23
    offset: u32,   // (127 << 23) - 2^(23 - l(mbits))
    groups_x: u32,
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<u32>;

fn round_m(bits: u32) -> u32 {
    let mb = params.mbits;
    if (mb >= 23u || (bits & 0x7F800000u) == 0x7F800000u) {
        return bits;
    }
    let drop = 23u - mb;
    let half = (1u << (drop - 1u)) - 1u + ((bits >> drop) & 1u);
    // A carry past the largest finite value lands exactly on infinity's pattern.
    return ((((bits & 0x7FFFFFFFu) + half) >> drop) << drop) | (bits & 0x80000000u);
}

fn lmul_bits(a0: u32, b0: u32) -> u32 {
    let ra = round_m(a0);
    let rb = round_m(b0);
    let sign = (ra ^ rb) & 0x80000000u;
    let ma = ra & 0x7FFFFFFFu;
    let mb = rb & 0x7FFFFFFFu;
    let a_zero = ma < 0x00800000u;
    let b_zero = mb < 0x00800000u;
    let a_inf = ma == 0x7F800000u;
    let b_inf = mb == 0x7F800000u;
    if (ma > 0x7F800000u || mb > 0x7F800000u || (a_inf && b_zero) || (a_zero && b_inf)) {
        return 0x7FC00000u;
    }
    if (a_inf || b_inf) {
        return sign | 0x7F800000u;
    }
    if (a_zero || b_zero) {
        return sign;
    }
    let r = ma + mb;
    let off = params.offset;
    if (r < off + 0x00800000u) {
        return sign;
    }
    if (r - off >= 0x7F800000u) {
        return sign | 0x7F800000u;
    }
    return sign | (r - off);
}

fn prod(i: u32, j: u32) -> f32 {
    return bitcast<f32>(lmul_bits(a[i], b[j]));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let idx = gid.y * params.groups_x * 64u + gid.x;
//#if ELEMENTWISE
    if (idx < params.n) {
        y[idx] = lmul_bits(a[idx], b[idx]);
    }
//#else
    if (idx >= params.m * params.n) {
        return;
    }
    let t = idx / params.n;
    let j = idx % params.n;
    let k = params.k;
    let xa = t * k;
    let wb = j * k;
    // Partial sums s0..s3 in lo, s4..s7 in hi: s_j takes the products k ≡ j (mod 8) in order.
    var lo = vec4<f32>(0.0);
    var hi = vec4<f32>(0.0);
    let k8 = k / 8u * 8u;
    for (var q = 0u; q < k8; q += 8u) {
        lo += vec4<f32>(prod(xa + q, wb + q), prod(xa + q + 1u, wb + q + 1u),
                        prod(xa + q + 2u, wb + q + 2u), prod(xa + q + 3u, wb + q + 3u));
        hi += vec4<f32>(prod(xa + q + 4u, wb + q + 4u), prod(xa + q + 5u, wb + q + 5u),
                        prod(xa + q + 6u, wb + q + 6u), prod(xa + q + 7u, wb + q + 7u));
    }
    // The tail: missing lanes add -0.0, which leaves every partial sum's bits unchanged.
    var tail_lo = vec4<f32>(-0.0);
    var tail_hi = vec4<f32>(-0.0);
    for (var r = 0u; r < k - k8; r++) {
        let p = prod(xa + k8 + r, wb + k8 + r);
        if (r < 4u) {
            tail_lo[r] = p;
        } else {
            tail_hi[r - 4u] = p;
        }
    }
    lo += tail_lo;
    hi += tail_hi;
    y[idx] = bitcast<u32>(((lo.x + lo.y) + (lo.z + lo.w)) + ((hi.x + hi.y) + (hi.z + hi.w)));
//#endif
}
