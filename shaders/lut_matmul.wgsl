// y = x · Wᵀ with W as b bit planes of 4-bit indices (lowbit_kernels::lut layout): the T-MAC
// table kernel, and (DEQ) a dequantise-in-register kernel of the same bytes, the baseline
// the tables are measured against.
//
// One workgroup per tile of 32 rows; 64 invocations = 8 lanes × 8 slices. Lane l owns rows
// 4l..4l+4 — one u32 of each 32-byte plane vector, so a slice's 8 lanes read 32 contiguous
// bytes — and slice s the 16-position steps s, s + 8, … of every chunk of K (512 positions for
// one token, 128 for four). Per chunk the workgroup first builds, for every token, the table
// of each of the chunk's index groups in workgroup memory (8 signed sums each, mirrored:
// T[15 − e] = −T[e]), shared by all 32 rows and all planes; INT8 then rounds them to integers with one scale per span (the largest
// |x|-sum of the span's index groups / 127) and sums look-ups in i32. A step lies inside one
// scale group and one span (both are multiples of 16 positions, or K itself), so each step
// ends with `y += s·(½·Σ_i 2^i·Σ T) + s·(c − z)·Σx` (int8: `½·ls·Σ_i 2^i·Σ Q`), c = (2^b − 1)/2.
// The slices' partial sums meet in workgroup memory at the end.
//
// DEQ: the chunk of x sits in workgroup memory instead; each weight's code is assembled from
// its b plane bits and `y += s·Σ u·x − s·z·Σx`.
// MT1: one token per dispatch (else 4); tokens m0 .. m0 + MT per dispatch.

struct Params {
    n: u32,
    k: u32,
    m: u32,
    m0: u32,
    bits: u32,
    groups: u32,   // scale groups per row
    group: u32,    // positions per scale group (K for one per row)
    span: u32,     // positions per int8 table scale
    pairs: u32,    // ceil(K / 8)
    groups_x: u32, // workgroups per row of the folded grid
    _p0: u32,
    _p1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> planes: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> zeros: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// A chunk is ROUNDS rounds of the 8 slices' 16-position steps: 512 positions for one token
// (4× fewer barriers), 128 for four (the tables of four tokens fill the 8 KiB).
//#if MT1
const MT: u32 = 1u;
const ROUNDS: u32 = 4u;
//#else
const MT: u32 = 4u;
const ROUNDS: u32 = 1u;
//#endif
const CHUNK: u32 = 128u * ROUNDS;  // positions of K per chunk
const CG: u32 = 32u * ROUNDS;      // index groups per chunk
const SLICES: u32 = 8u;

// Tables [token][index group][16] (DEQ: x [token][128]); reused for the final reduction
// [slice][token][32 rows].
var<workgroup> tab: array<f32, 2048>;
// Per token and index group: Σx (the zero-point term), Σ|x| and (INT8) its span's scale.
var<workgroup> xsum: array<f32, 128>;
var<workgroup> asum: array<f32, 128>;
var<workgroup> lsv: array<f32, 128>;

fn sign_of(e: u32, b: u32, v: f32) -> f32 {
    return select(-v, v, ((e >> b) & 1u) == 1u);
}

// Builds chunk c's tables (DEQ: copies x) and sums for tokens m0 .. m0 + mt, one item per
// token and index group.
fn build(c: u32, lid: u32, mt: u32) {
    let k = params.k;
//#if DEQ
    for (var item = lid; item < CHUNK * MT; item += 64u) {
        let t = item / CHUNK;
        let pos = c * CHUNK + item % CHUNK;
        var v = 0.0;
        if (t < mt && pos < k) {
            v = x[(params.m0 + t) * k + pos];
        }
        tab[item] = v;
    }
//#endif
    for (var item = lid; item < CG * MT; item += 64u) {
        let t = item / CG;
        let j = c * CG + item % CG;
        var x0 = 0.0;
        var x1 = 0.0;
        var x2 = 0.0;
        var x3 = 0.0;
        if (t < mt && j < k / 4u) {
            let base = (params.m0 + t) * k + 4u * j;
            x0 = x[base];
            x1 = x[base + 1u];
            x2 = x[base + 2u];
            x3 = x[base + 3u];
        }
        xsum[item] = ((x0 + x1) + x2) + x3;
//#if !DEQ
        asum[item] = ((abs(x0) + abs(x1)) + abs(x2)) + abs(x3);
        for (var e = 0u; e < 8u; e++) {
            let v = ((sign_of(e, 0u, x0) + sign_of(e, 1u, x1)) + sign_of(e, 2u, x2)) - x3;
            tab[item * 16u + e] = v;
            tab[item * 16u + 15u - e] = -v;
        }
//#endif
    }
//#if INT8
    workgroupBarrier();
    // Each index group's entries divided by its span's scale and rounded, in place.
    let sg = params.span / 4u;
    for (var item = lid; item < CG * MT; item += 64u) {
        let t = item / CG;
        let first = ((item % CG) / sg) * sg;
        var mx = 0.0;
        for (var q = first; q < min(first + sg, CG); q++) {
            mx = max(mx, asum[t * CG + q]);
        }
        let ls = mx / 127.0;
        let inv = select(0.0, 1.0 / ls, ls > 0.0);
        for (var e = 0u; e < 16u; e++) {
            tab[item * 16u + e] = clamp(round(tab[item * 16u + e] * inv), -127.0, 127.0);
        }
        lsv[item] = ls;
    }
//#endif
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
    let tile = wid.y * params.groups_x + wid.x;
    let tiles = (params.n + 31u) / 32u;
    if (tile >= tiles) {
        return;
    }
    let lane = lid % 8u;
    let slice = lid / 8u;
    let mt = min(MT, params.m - params.m0);
    let bits = params.bits;
    let half_c = f32((1u << bits) - 1u) * 0.5;
    var acc = array<vec4<f32>, MT>();
    let chunks = (params.k + CHUNK - 1u) / CHUNK;
    for (var c = 0u; c < chunks; c++) {
        workgroupBarrier();
        build(c, lid, mt);
        workgroupBarrier();
        for (var r = 0u; r < ROUNDS; r++) {
            let sl = r * SLICES + slice;
            let pos = c * CHUNK + sl * 16u;
            if (pos < params.k) {
                let g = pos / params.group;
                let sv = scales[(tile * params.groups + g) * 8u + lane];
                let zv = zeros[(tile * params.groups + g) * 8u + lane];
//#if DEQ
                var ux = array<vec4<f32>, MT>();
//#else
//#if INT8
                var iq = array<vec4<i32>, MT>();
//#else
                var ta = array<vec4<f32>, MT>();
//#endif
//#endif
                for (var pp = 0u; pp < 2u; pp++) {
                    let p = c * (CHUNK / 8u) + sl * 2u + pp;
                    if (p >= params.pairs) {
                        break;
                    }
                    let jl = 2u * (sl * 2u + pp);
                    for (var i = 0u; i < bits; i++) {
                        let word = planes[((tile * params.pairs + p) * bits + i) * 8u + lane];
//#if DEQ
                        // Bit k' of a row's byte is position 8p + k'.
                        let wf = f32(1u << i);
                        for (var t = 0u; t < MT; t++) {
                            let xb = t * CHUNK + 4u * jl;
                            let xl = vec4<f32>(tab[xb], tab[xb + 1u], tab[xb + 2u], tab[xb + 3u]);
                            let xh = vec4<f32>(tab[xb + 4u], tab[xb + 5u], tab[xb + 6u], tab[xb + 7u]);
                            let b = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u);
                            let d = vec4<f32>(
                                dot(vec4<f32>((vec4<u32>(b.x) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)), xl)
                                    + dot(vec4<f32>((vec4<u32>(b.x) >> vec4<u32>(4u, 5u, 6u, 7u)) & vec4<u32>(1u)), xh),
                                dot(vec4<f32>((vec4<u32>(b.y) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)), xl)
                                    + dot(vec4<f32>((vec4<u32>(b.y) >> vec4<u32>(4u, 5u, 6u, 7u)) & vec4<u32>(1u)), xh),
                                dot(vec4<f32>((vec4<u32>(b.z) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)), xl)
                                    + dot(vec4<f32>((vec4<u32>(b.z) >> vec4<u32>(4u, 5u, 6u, 7u)) & vec4<u32>(1u)), xh),
                                dot(vec4<f32>((vec4<u32>(b.w) >> vec4<u32>(0u, 1u, 2u, 3u)) & vec4<u32>(1u)), xl)
                                    + dot(vec4<f32>((vec4<u32>(b.w) >> vec4<u32>(4u, 5u, 6u, 7u)) & vec4<u32>(1u)), xh));
                            ux[t] += wf * d;
                        }
//#else
                        let lo = vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) & vec4<u32>(15u);
                        let hi = (vec4<u32>(word, word >> 8u, word >> 16u, word >> 24u) >> vec4<u32>(4u)) & vec4<u32>(15u);
                        for (var t = 0u; t < MT; t++) {
                            let a = (t * CG + jl) * 16u;
                            let v = vec4<f32>(
                                tab[a + lo.x] + tab[a + 16u + hi.x],
                                tab[a + lo.y] + tab[a + 16u + hi.y],
                                tab[a + lo.z] + tab[a + 16u + hi.z],
                                tab[a + lo.w] + tab[a + 16u + hi.w]);
//#if INT8
                            iq[t] += vec4<i32>(v) << vec4<u32>(i);
//#else
                            ta[t] += (0.5 * f32(1u << i)) * v;
//#endif
                        }
//#endif
                    }
                }
                let beta = sv * (half_c - zv);
                for (var t = 0u; t < MT; t++) {
                    let xb = t * CG + sl * 4u;
                    let sx = ((xsum[xb] + xsum[xb + 1u]) + xsum[xb + 2u]) + xsum[xb + 3u];
//#if DEQ
                    acc[t] += sv * ux[t] - (sv * zv) * sx;
//#else
//#if INT8
                    acc[t] += (sv * (0.5 * lsv[t * CG + sl * 4u])) * vec4<f32>(iq[t]) + beta * sx;
//#else
                    acc[t] += sv * ta[t] + beta * sx;
//#endif
//#endif
                }
            }
        }
    }
    workgroupBarrier();
    for (var t = 0u; t < MT; t++) {
        let at = (slice * MT + t) * 32u + 4u * lane;
        tab[at] = acc[t].x;
        tab[at + 1u] = acc[t].y;
        tab[at + 2u] = acc[t].z;
        tab[at + 3u] = acc[t].w;
    }
    workgroupBarrier();
    for (var item = lid; item < 32u * MT; item += 64u) {
        let t = item / 32u;
        let r = item % 32u;
        var s = 0.0;
        for (var sl = 0u; sl < SLICES; sl++) {
            s += tab[(sl * MT + t) * 32u + r];
        }
        let row = tile * 32u + r;
        if (t < mt && row < params.n) {
            y[(params.m0 + t) * params.n + row] = s;
        }
    }
}
