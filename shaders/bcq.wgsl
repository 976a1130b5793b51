// BCQ query-and-add (lowbit_kernels::bcq, whose module docs define the format): 64 rows a
// workgroup, one per invocation, one token per workgroup (z). Per tile of 64 K positions the
// workgroup builds the 8 chunks' 256-entry sign tables in workgroup memory (each entry a sum of
// ±x, 32 entries an invocation); then each row looks its plane bytes up and applies every APoT
// scale term as ldexp (an exponent add, exact) and a signed add. f32 throughout; the result is
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
        // 8 chunks × 256 entries, 32 an invocation: entry i of chunk c is Σ_j ±x[k0 + 8c + j].
        for (var e = lid * 32u; e < lid * 32u + 32u; e++) {
            let c = e >> 8u;
            let i = e & 255u;
            var s = 0.0;
            for (var j = 0u; j < 8u; j++) {
                let xv = x_at(t, k0 + 8u * c + j);
                s += select(-xv, xv, ((i >> j) & 1u) == 1u);
            }
            tab[e] = s;
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
                    let sb = ((kb * P.planes + b) * P.row_groups + row / P.block_n) * P.terms;
                    for (var tt = 0u; tt < P.terms; tt++) {
                        let code = scales[sb + tt];
                        if ((code >> 16u) != 0u) {
                            let p = extractBits(bitcast<i32>(code), 0u, 8u);
                            let sv = ldexp(v, p);
                            acc += select(sv, -sv, ((code >> 8u) & 1u) == 1u);
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
