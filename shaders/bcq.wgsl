// BCQ query-and-add (lowbit_kernels::bcq, whose module docs define the format): 64 rows a
// workgroup, one per invocation, one token per workgroup (z). Per tile of 64 K positions the
// workgroup builds the 8 chunks' 256-entry sign tables in workgroup memory (by adds, 32 entries
// an invocation); then each row looks its plane bytes up and applies every APoT scale term (three
// to a u32, see ApotTerm::packed) as ldexp (an exponent add, exact) and a signed add. f32 throughout; the result is
// within bcq::error_bound of the exact product (the tables' rounding differs from the CPU's).

struct Params {
    n: u32,
    k: u32,
    m: u32,
    planes: u32,
    words: u32,
    terms: u32,
    block_k: u32,
    block_n: u32,
    row_groups: u32,
    k_blocks: u32,
    groups_x: u32,
    has_bias: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> bits: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const TILE: u32 = 64u;
var<workgroup> tab: array<f32, 2048>;

fn x_at(t: u32, c: u32) -> f32 {
    if (c >= P.k) {
        return 0.0;
    }
    return x[min(t * P.k + c, arrayLength(&x) - 1u)];
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r = (wid.x + wid.y * P.groups_x) * 64u + lid;
    let row = min(r, P.n - 1u);
    let t = wid.z;
    let tiles = (P.k + TILE - 1u) / TILE;
    var acc = 0.0;
    for (var tile = 0u; tile < tiles; tile++) {
        let k0 = tile * TILE;
        // 8 chunks × 256 entries: invocation (chunk c, part h) builds entries 32h .. 32h + 31 of
        // chunk c by adds, from T[32h] (its bits 5–7 are h's) with T[i + 2^s] = T[i] + 2·x_s.
        let c = lid >> 3u;
        let h = lid & 7u;
        var xs: array<f32, 8>;
        for (var j = 0u; j < 8u; j++) {
            xs[j] = x_at(t, k0 + 8u * c + j);
        }
        var e: array<f32, 32>;
        var base = 0.0;
        for (var j = 0u; j < 8u; j++) {
            let plus = j >= 5u && ((h >> (j - 5u)) & 1u) == 1u;
            base += select(-xs[j], xs[j], plus);
        }
        e[0] = base;
        for (var s = 0u; s < 5u; s++) {
            let half = 1u << s;
            for (var i = 0u; i < half; i++) {
                e[half + i] = e[i] + 2.0 * xs[s];
            }
        }
        for (var i = 0u; i < 32u; i++) {
            tab[c * 256u + 32u * h + i] = e[i];
        }
        workgroupBarrier();
        for (var b = 0u; b < P.planes; b++) {
            let base = (row * P.planes + b) * P.words + 2u * tile;
            for (var h = 0u; h < 2u; h++) {
                let wi = base + h;
                if (2u * tile + h >= P.words) {
                    break;
                }
                let word = bits[wi];
                for (var q = 0u; q < 4u; q++) {
                    let c = 4u * h + q;
                    let pos = k0 + 8u * c;
                    if (pos >= P.k) {
                        break;
                    }
                    let v = tab[c * 256u + ((word >> (8u * q)) & 255u)];
                    let kb = min(pos / P.block_k, P.k_blocks - 1u);
                    let code = scales[(kb * P.planes + b) * P.row_groups + row / P.block_n];
                    for (var tt = 0u; tt < P.terms; tt++) {
                        let term = code >> (10u * tt);
                        if ((term & 0x200u) != 0u) {
                            let p = extractBits(bitcast<i32>(term), 0u, 8u);
                            let sv = ldexp(v, p);
                            acc += select(sv, -sv, (term & 0x100u) != 0u);
                        }
                    }
                }
            }
        }
        workgroupBarrier();
    }
    if (r < P.n) {
        let b = select(0.0, bias[min(r, arrayLength(&bias) - 1u)], P.has_bias != 0u);
        y[t * P.n + r] = acc + b;
    }
}
