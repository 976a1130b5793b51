// y = x · Wᵀ with W in a GGUF block format, decoded in registers 32 elements at a time (never a
// dequantised copy of W). One workgroup per row of W; its invocations stride over the row's
// 32-element chunks, dot each with up to MT tokens of x, and reduce through workgroup memory.
// A dispatch covers tokens m0 .. m0 + MT (MT = 1 with the MT1 define, else 4); larger M
// takes several dispatches.
//
// W is bound as raw bytes in `array<u32>`: most formats' rows and blocks are not 4-byte
// aligned (Q4_0 blocks are 18 bytes, MXFP4 17), so every field is assembled from bytes. f16
// scales are decoded by hand, subnormals included (unpack2x16float may flush them).
// One FMT_<TYPE> define selects the decoder; X_F16 reads x as packed f16; DEQUANT replaces the
// matmul by a kernel writing the decoded matrix.

// Params: shaders/common/quant_params.wgsl, prepended by the composer.

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> w: array<u32>;
//#if DEQUANT
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
//#else
//#if X_F16
@group(0) @binding(2) var<storage, read> x: array<u32>;
//#else
@group(0) @binding(2) var<storage, read> x: array<f32>;
//#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
// The epilogue's bias[N] (params.has_bias); another read-only buffer stands in when there is none.
@group(0) @binding(4) var<storage, read> bias: array<f32>;

fn biased(v: f32, n: u32) -> f32 {
    if params.has_bias != 0u {
        return v + bias[min(n, arrayLength(&bias) - 1u)];
    }
    return v;
}
//#endif

const WG: u32 = 64u;
//#if MT1
const MT: u32 = 1u;
//#else
const MT: u32 = 4u;
//#endif

var<workgroup> partial: array<f32, 256>;

fn byte_at(i: u32) -> u32 {
    return (w[i >> 2u] >> ((i & 3u) << 3u)) & 0xffu;
}

fn u16_at(i: u32) -> u32 {
    return byte_at(i) | (byte_at(i + 1u) << 8u);
}

fn u32_at(i: u32) -> u32 {
    return u16_at(i) | (u16_at(i + 2u) << 16u);
}

// f16_bits: shaders/common/f16_bits.wgsl, prepended by the composer.

fn f16_at(i: u32) -> f32 {
    return f16_bits(u16_at(i));
}

fn i8_of(b: u32) -> i32 {
    return bitcast<i32>(b << 24u) >> 24u;
}

//#if FMT_I4G32
const I4G: u32 = 32u;
//#endif
//#if FMT_I4G64
const I4G: u32 = 64u;
//#endif
//#if FMT_I4G128
const I4G: u32 = 128u;
//#endif

var<private> KV_IQ4: array<f32, 16> = array<f32, 16>(
    -127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0,
    1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);
var<private> KV_FP4: array<f32, 16> = array<f32, 16>(
    0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 0.0, -1.0, -2.0, -3.0, -4.0, -6.0, -8.0, -12.0);
var<private> POW3: array<u32, 5> = array<u32, 5>(1u, 3u, 9u, 27u, 81u);

// The 6-bit (scale, min) pair j of Q4_K / Q5_K from the 12 scale bytes at s.
fn k_scale_min(s: u32, j: u32) -> vec2<f32> {
    if j < 4u {
        return vec2<f32>(f32(byte_at(s + j) & 63u), f32(byte_at(s + j + 4u) & 63u));
    }
    let sc = (byte_at(s + j + 4u) & 15u) | ((byte_at(s + j - 4u) >> 6u) << 4u);
    let mn = (byte_at(s + j + 4u) >> 4u) | ((byte_at(s + j) >> 6u) << 4u);
    return vec2<f32>(f32(sc), f32(mn));
}

// Decodes elements 32c .. 32c + 31 of the row whose bytes start at `base`, handing each to
// `put` (no array of 32 in between: dynamically indexed private arrays become per-lane memory
// on llvmpipe and register pressure elsewhere).
fn decode_chunk(base: u32, c: u32) {
//#if FMT_Q8_0
    let b = base + c * 34u;
    let d = f16_at(b);
    for (var e = 0u; e < 32u; e++) {
        put(e, d * f32(i8_of(byte_at(b + 2u + e))));
    }
//#endif
//#if FMT_Q4_0
    let b = base + c * 18u;
    let d = f16_at(b);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 2u + j);
        put(j, d * f32(i32(q & 15u) - 8));
        put(j + 16u, d * f32(i32(q >> 4u) - 8));
    }
//#endif
//#if FMT_Q4_1
    let b = base + c * 20u;
    let d = f16_at(b);
    let m = f16_at(b + 2u);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 4u + j);
        put(j, d * f32(q & 15u) + m);
        put(j + 16u, d * f32(q >> 4u) + m);
    }
//#endif
//#if FMT_Q5_0
    let b = base + c * 22u;
    let d = f16_at(b);
    let qh = u32_at(b + 2u);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 6u + j);
        let lo = (q & 15u) | (((qh >> j) & 1u) << 4u);
        let hi = (q >> 4u) | (((qh >> (j + 16u)) & 1u) << 4u);
        put(j, d * f32(i32(lo) - 16));
        put(j + 16u, d * f32(i32(hi) - 16));
    }
//#endif
//#if FMT_Q5_1
    let b = base + c * 24u;
    let d = f16_at(b);
    let m = f16_at(b + 2u);
    let qh = u32_at(b + 4u);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 8u + j);
        let lo = (q & 15u) | (((qh >> j) & 1u) << 4u);
        let hi = (q >> 4u) | (((qh >> (j + 16u)) & 1u) << 4u);
        put(j, d * f32(lo) + m);
        put(j + 16u, d * f32(hi) + m);
    }
//#endif
//#if FMT_IQ4_NL
    let b = base + c * 18u;
    let d = f16_at(b);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 2u + j);
        put(j, d * KV_IQ4[q & 15u]);
        put(j + 16u, d * KV_IQ4[q >> 4u]);
    }
//#endif
//#if FMT_MXFP4
    let b = base + c * 17u;
    let e8 = byte_at(b);
    let d = bitcast<f32>(select((e8 - 1u) << 23u, 0x00200000u << e8, e8 < 2u));
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 1u + j);
        put(j, d * KV_FP4[q & 15u]);
        put(j + 16u, d * KV_FP4[q >> 4u]);
    }
//#endif
//#if FMT_NVFP4
    let b = base + (c >> 1u) * 36u;
    for (var h = 0u; h < 2u; h++) {
        let s = 2u * (c & 1u) + h;
        let x8 = byte_at(b + s);
        let ex = (x8 >> 3u) & 15u;
        let mn = x8 & 7u;
        var d = select(bitcast<f32>(((ex + 120u) << 23u) | (mn << 20u)), f32(mn) * 0.001953125, ex == 0u);
        d = select(d * 0.5, 0.0, x8 == 0u || x8 == 0x7fu);
        for (var j = 0u; j < 8u; j++) {
            let q = byte_at(b + 4u + 8u * s + j);
            put(16u * h + j, d * KV_FP4[q & 15u]);
            put(16u * h + j + 8u, d * KV_FP4[q >> 4u]);
        }
    }
//#endif
//#if FMT_Q2_K
    let b = base + (c >> 3u) * 84u;
    let j = c & 7u;
    let d = f16_at(b + 80u);
    let dmin = f16_at(b + 82u);
    for (var l = 0u; l < 32u; l++) {
        let s = byte_at(b + 2u * j + (l >> 4u));
        let q = (byte_at(b + 16u + 32u * (j >> 2u) + l) >> (2u * (j & 3u))) & 3u;
        put(l, (d * f32(s & 15u)) * f32(q) - dmin * f32(s >> 4u));
    }
//#endif
//#if FMT_Q3_K
    let b = base + (c >> 3u) * 110u;
    let j = c & 7u;
    let d = f16_at(b + 108u);
    for (var l = 0u; l < 32u; l++) {
        let ql = (byte_at(b + 32u + 32u * (j >> 2u) + l) >> (2u * (j & 3u))) & 3u;
        let hb = (byte_at(b + l) >> j) & 1u;
        let q = i32(ql) - select(4, 0, hb != 0u);
        let s = 2u * j + (l >> 4u);
        var low4: u32;
        if s < 8u {
            low4 = byte_at(b + 96u + s) & 15u;
        } else {
            low4 = byte_at(b + 96u + s - 8u) >> 4u;
        }
        let high2 = (byte_at(b + 104u + (s & 3u)) >> (2u * (s >> 2u))) & 3u;
        let sc = i32(low4 | (high2 << 4u)) - 32;
        put(l, (d * f32(sc)) * f32(q));
    }
//#endif
//#if FMT_Q4_K
    let b = base + (c >> 3u) * 144u;
    let j = c & 7u;
    let d = f16_at(b);
    let dmin = f16_at(b + 2u);
    let sm = k_scale_min(b + 4u, j);
    let ds = d * sm.x;
    let dm = dmin * sm.y;
    for (var l = 0u; l < 32u; l++) {
        let q = (byte_at(b + 16u + 32u * (j >> 1u) + l) >> (4u * (j & 1u))) & 15u;
        put(l, ds * f32(q) - dm);
    }
//#endif
//#if FMT_Q5_K
    let b = base + (c >> 3u) * 176u;
    let j = c & 7u;
    let d = f16_at(b);
    let dmin = f16_at(b + 2u);
    let sm = k_scale_min(b + 4u, j);
    let ds = d * sm.x;
    let dm = dmin * sm.y;
    for (var l = 0u; l < 32u; l++) {
        let lo = (byte_at(b + 48u + 32u * (j >> 1u) + l) >> (4u * (j & 1u))) & 15u;
        let q = lo | (((byte_at(b + 16u + l) >> j) & 1u) << 4u);
        put(l, ds * f32(q) - dm);
    }
//#endif
//#if FMT_Q6_K
    let b = base + (c >> 3u) * 210u;
    let j = c & 7u;
    let d = f16_at(b + 208u);
    let h = j >> 2u;
    for (var l = 0u; l < 32u; l++) {
        let l64 = 32u * (j & 1u) + l;
        let low4 = (byte_at(b + 64u * h + l64) >> (4u * ((j >> 1u) & 1u))) & 15u;
        let high2 = (byte_at(b + 128u + 32u * h + l) >> (2u * (j & 3u))) & 3u;
        let q = i32(low4 | (high2 << 4u)) - 32;
        let sc = i8_of(byte_at(b + 192u + 2u * j + (l >> 4u)));
        put(l, (d * f32(sc)) * f32(q));
    }
//#endif
//#if FMT_IQ4_XS
    let b = base + (c >> 3u) * 136u;
    let s = c & 7u;
    let d = f16_at(b);
    let sh = u16_at(b + 2u);
    let low = (byte_at(b + 4u + (s >> 1u)) >> (4u * (s & 1u))) & 15u;
    let high = (sh >> (2u * s)) & 3u;
    let dl = d * f32(i32(low | (high << 4u)) - 32);
    for (var j = 0u; j < 16u; j++) {
        let q = byte_at(b + 8u + 16u * s + j);
        put(j, dl * KV_IQ4[q & 15u]);
        put(j + 16u, dl * KV_IQ4[q >> 4u]);
    }
//#endif
//#if FMT_TQ1_0
    let b = base + (c >> 3u) * 54u;
    let j = c & 7u;
    let d = f16_at(b + 52u);
    for (var l = 0u; l < 32u; l++) {
        let e = 32u * j + l;
        var byte_index: u32;
        var p: u32;
        if e < 160u {
            byte_index = e & 31u;
            p = e >> 5u;
        } else if e < 240u {
            byte_index = 32u + ((e - 160u) & 15u);
            p = (e - 160u) >> 4u;
        } else {
            byte_index = 48u + ((e - 240u) & 3u);
            p = (e - 240u) >> 2u;
        }
        let v = (byte_at(b + byte_index) * POW3[p]) & 255u;
        let t = (v * 3u) >> 8u;
        put(l, d * f32(i32(t) - 1));
    }
//#endif
//#if FMT_I4G
    // lowbit's AWQ/GPTQ layout: per group of I4G elements d: f16, z: u8, nibbles in Q4_0's
    // order per 32 (chunk `sub`'s 16 bytes: element l < 16 low, l + 16 high nibble of byte l).
    let per = I4G / 32u;
    let b = base + (c / per) * (I4G / 2u + 3u);
    let sub = c % per;
    let d = f16_at(b);
    let z = i32(byte_at(b + 2u));
    for (var l = 0u; l < 32u; l++) {
        let q = (byte_at(b + 3u + 16u * sub + (l & 15u)) >> (4u * (l >> 4u))) & 15u;
        put(l, d * f32(i32(q) - z));
    }
//#endif
//#if FMT_F8E4M3
    // lowbit's FP8 layout: f32 scale, then 32 E4M3 codes; w = fl(scale · value).
    let b = base + c * 36u;
    let scale = bitcast<f32>(u32_at(b));
    for (var l = 0u; l < 32u; l++) {
        let code = byte_at(b + 4u + l);
        let e = (code >> 3u) & 15u;
        let m = code & 7u;
        var v = select(bitcast<f32>(((e + 120u) << 23u) | (m << 20u)), f32(m) * 0.001953125, e == 0u);
        v = select(v, -v, (code & 0x80u) != 0u);
        v = select(v, bitcast<f32>(0x7fc00000u), (code & 0x7fu) == 0x7fu);
        put(l, scale * v);
    }
//#endif
//#if FMT_F8E5M2
    // E5M2 has f16's exponent width and bias: its code is the top byte of an f16.
    let b = base + c * 36u;
    let scale = bitcast<f32>(u32_at(b));
    for (var l = 0u; l < 32u; l++) {
        put(l, scale * f16_bits(byte_at(b + 4u + l) << 8u));
    }
//#endif
//#if FMT_TQ2_0
    let b = base + (c >> 3u) * 66u;
    let j = c & 7u;
    let d = f16_at(b + 64u);
    for (var l = 0u; l < 32u; l++) {
        let q = (byte_at(b + 32u * (j >> 2u) + l) >> (2u * (j & 3u))) & 3u;
        put(l, d * f32(i32(q) - 1));
    }
//#endif
}

//#if DEQUANT
var<private> out_base: u32;

fn put(e: u32, v: f32) {
    y[out_base + e] = v;
}

// The decoded matrix [N, K], one invocation per 32-element chunk (for validation and for the
// "dequantise, then dense" baseline; the matmul never makes this copy).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let chunks = params.k / 32u;
    let i = gid.y * params.groups_x * 64u + gid.x;
    if i >= params.n * chunks {
        return;
    }
    let row = i / chunks;
    let c = i % chunks;
    out_base = row * params.k + 32u * c;
    decode_chunk(row * params.row_bytes, c);
}
//#else
fn x_at(i: u32) -> f32 {
//#if X_F16
    let pair = unpack2x16float(x[i >> 1u]);
    return select(pair.x, pair.y, (i & 1u) == 1u);
//#else
    return x[i];
//#endif
}

//#if GEMM
// Tiled GEMM for M > 4: each step stages a [64 tokens × 32] tile of x and the [64 rows × 32]
// tile of W decoded by 64 of the 256 invocations into workgroup memory; every invocation then
// accumulates a 4×4 block of y.
const BM: u32 = 64u;
const BN: u32 = 64u;
var<workgroup> xs: array<f32, 2048>;
var<workgroup> ws: array<f32, 2048>;
var<private> wrow: u32;

fn put(e: u32, v: f32) {
    ws[wrow * 32u + e] = v;
}

@compute @workgroup_size(256)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let n0 = wid.x * BN;
    let m0 = wid.y * BM;
    let tx = tid % 16u;
    let ty = tid / 16u;
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let chunks = params.k / 32u;
    for (var c = 0u; c < chunks; c++) {
        for (var r = 0u; r < 8u; r++) {
            let idx = tid * 8u + r;
            let gm = m0 + idx / 32u;
            // Rows past M read row M−1 (in bounds) and are zeroed.
            let v = x_at(min(gm, params.m - 1u) * params.k + 32u * c + idx % 32u);
            xs[idx] = select(0.0, v, gm < params.m);
        }
        if tid < BN {
            wrow = tid;
            if n0 + tid < params.n {
                decode_chunk((n0 + tid) * params.row_bytes, c);
            } else {
                for (var e = 0u; e < 32u; e++) {
                    ws[tid * 32u + e] = 0.0;
                }
            }
        }
        workgroupBarrier();
        for (var e = 0u; e < 32u; e++) {
            let xv = vec4<f32>(
                xs[(4u * ty) * 32u + e],
                xs[(4u * ty + 1u) * 32u + e],
                xs[(4u * ty + 2u) * 32u + e],
                xs[(4u * ty + 3u) * 32u + e]);
            let wv = vec4<f32>(
                ws[(4u * tx) * 32u + e],
                ws[(4u * tx + 1u) * 32u + e],
                ws[(4u * tx + 2u) * 32u + e],
                ws[(4u * tx + 3u) * 32u + e]);
            acc0 += xv.x * wv;
            acc1 += xv.y * wv;
            acc2 += xv.z * wv;
            acc3 += xv.w * wv;
        }
        workgroupBarrier();
    }
    let accs = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let m = m0 + 4u * ty + i;
        for (var j = 0u; j < 4u; j++) {
            let n = n0 + 4u * tx + j;
            if m < params.m && n < params.n {
                y[m * params.n + n] = biased(accs[i][j], n);
            }
        }
    }
}
//#else
// Per-invocation dot products with up to MT tokens, fed element by element by `put`.
var<private> acc4: vec4<f32>;
var<private> xrow: u32;

fn put(e: u32, v: f32) {
    let i = xrow + e;
//#if MT1
    acc4.x += v * x_at(i);
//#else
    // Tokens past M read token M−1 again (in bounds) and their sums are never written.
    let kk = params.k;
    let last = params.m - 1u - params.m0;
    acc4 += v * vec4<f32>(
        x_at(i),
        x_at(i + min(1u, last) * kk),
        x_at(i + min(2u, last) * kk),
        x_at(i + min(3u, last) * kk));
//#endif
}

//#if ROW_PER_LANE
// CPU-type adapters: 8 invocations (one llvmpipe SIMD vector), a whole row each, no barriers
// (see shaders/README.md: barriers split the shader into per-vector coroutines there).
@compute @workgroup_size(8)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    let row = (wid.y * params.groups_x + wid.x) * 8u + tid;
    if row >= params.n {
        return;
    }
    let base = row * params.row_bytes;
    for (var c = 0u; c < params.k / 32u; c++) {
        xrow = params.m0 * params.k + 32u * c;
        decode_chunk(base, c);
    }
    let acc = array<f32, 4>(acc4.x, acc4.y, acc4.z, acc4.w);
    for (var t = 0u; t < min(MT, params.m - params.m0); t++) {
        y[(params.m0 + t) * params.n + row] = biased(acc[t], row);
    }
}
//#else
@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
    // The row is uniform across the workgroup, so an early return keeps barriers uniform.
    let row = wid.y * params.groups_x + wid.x;
    if row >= params.n {
        return;
    }
    let base = row * params.row_bytes;
    let chunks = params.k / 32u;
    let mt = min(MT, params.m - params.m0);
    for (var c = tid; c < chunks; c += WG) {
        xrow = params.m0 * params.k + 32u * c;
        decode_chunk(base, c);
    }
    let acc = array<f32, 4>(acc4.x, acc4.y, acc4.z, acc4.w);
    for (var t = 0u; t < MT; t++) {
        partial[t * WG + tid] = acc[t];
    }
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
        if tid < stride {
            for (var t = 0u; t < MT; t++) {
                partial[t * WG + tid] += partial[t * WG + tid + stride];
            }
        }
        workgroupBarrier();
    }
    if tid == 0u {
        for (var t = 0u; t < mt; t++) {
            y[(params.m0 + t) * params.n + row] = biased(partial[t * WG], row);
        }
    }
}
//#endif
//#endif
//#endif
