// Ternary matmul (lowbit_kernels::ternary, whose module docs define the packings and the f32
// order): 8 rows per workgroup of 64, 8 lanes per row; lane j is the CPU's partial j — it takes
// units u = j, j + 8, … of each plane, forms each unit's sum, adds the sums of consecutive units
// of one scale group (exactly, in i32, with int8 x) and folds each run in as
// acc = acc + scale·run. Lane 0 of the row then adds the 8 partials as the CPU's tree and
// writes sum·x_scale + bias. No fma: WGSL's may or may not fuse (lavapipe's does not).
// Up to 4 tokens per workgroup (z: the token pass); MT1: one (M = 1, registers only).
//
// Int8 x (the default): a unit's sum is Σ x·t over 32 words of packed x, exact. DOT_NATIVE:
// the trits as signed bytes meet x in dot4I8Packed (codes t + 1 turned into t with
// (q + 0x7F7F7F7F) ^ 0x80808080, no carries); otherwise each byte of x is added, subtracted or
// skipped. F32X: f32 x, each trit adds, subtracts or skips its x into the unit's f32 sum.
// BASE3: TQ1_0's base-3 bytes (13 words a 256-block); trit n of a byte is
// ((b·3^n mod 256)·3) >> 8, formed for 4 bytes at once in two 16-bit lanes per u32.

struct Params {
    n: u32,
    m: u32,
    k: u32,
    units: u32,
    units_per_group: u32,
    groups: u32,
    planes: u32,
    row_words: u32,
    groups_x: u32,
    has_bias: u32,
    _p1: u32,
    _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> codes: array<u32>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
//#if F32X
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
//#else
@group(0) @binding(4) var<storage, read> x: array<u32>;
@group(0) @binding(5) var<storage, read> x_scale: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
//#endif

//#if MT1
const TOK: u32 = 1u;
//#else
const TOK: u32 = 4u;
//#endif
const ROWS: u32 = 8u;
var<workgroup> partial: array<array<f32, 64>, TOK>;

//#if F32X
// The unit's running sum is f32.
alias Run = f32;
//#else
alias Run = i32;
//#endif

// Sum of `run` as f32: f32(i32) may round either way in WGSL when inexact, so the two exact
// halves are added (one rounding, to nearest even) — the CPU's `as f32`.
fn run_f32(run: Run) -> f32 {
//#if F32X
    return run;
//#else
    return f32(run >> 16u) * 65536.0 + f32(run & 0xFFFF);
//#endif
}

//#if !F32X
// Word `wi` of token t's padded row: x bytes 4·wi .. 4·wi + 3 (0 past K; bytes past K within a
// word meet trit 0). Rows are K bytes, so an odd K needs two words and a funnel shift.
fn xword(t: u32, wi: u32) -> u32 {
    let c = 4u * wi;
    if (c >= P.k) {
        return 0u;
    }
    let o = t * P.k + c;
    let last = arrayLength(&x) - 1u;
    let w0 = x[min(o >> 2u, last)];
    let sh = (o & 3u) * 8u;
    if (sh == 0u) {
        return w0;
    }
    let w1 = x[min((o >> 2u) + 1u, last)];
    return (w0 >> sh) | (w1 << (32u - sh));
}

// Σ of the 4 byte products x·t, t = code − 1 for codes q ∈ {0, 1, 2} in each byte of `q`.
fn dot_trits(xw: u32, q: u32) -> i32 {
    let tw = (q + 0x7F7F7F7Fu) ^ 0x80808080u;
//#if DOT_NATIVE
    return dot4I8Packed(xw, tw);
//#else
    var s = 0i;
    for (var b = 0u; b < 32u; b += 8u) {
        let xv = extractBits(bitcast<i32>(xw), b, 8u);
        let tv = extractBits(bitcast<i32>(tw), b, 8u);
        s += select(select(0i, -xv, tv < 0i), xv, tv > 0i);
    }
    return s;
//#endif
}
//#else
// Σ over 4 consecutive positions from `c` of ±x for the codes in the bytes of `q`.
fn dot_trits_f32(t: u32, c: u32, q: u32) -> f32 {
    var s = 0.0;
    for (var b = 0u; b < 4u; b++) {
        let cb = c + b;
        let xv = x[min(t * P.k + min(cb, P.k - 1u), arrayLength(&x) - 1u)];
        let code = (q >> (8u * b)) & 3u;
        let live = cb < P.k;
        s += select(select(0.0, -xv, code == 0u && live), xv, code == 2u && live);
    }
    return s;
}
//#endif

// Code bytes (trit + 1) of trit n of the 4 bytes of `w`.
fn base3_codes(w: u32, n: u32) -> u32 {
    var pow3 = array<u32, 5>(1u, 3u, 9u, 27u, 81u);
    let e = ((w & 0x00FF00FFu) * pow3[n]) & 0x00FF00FFu;
    let o = (((w >> 8u) & 0x00FF00FFu) * pow3[n]) & 0x00FF00FFu;
    return (((e * 3u) >> 8u) & 0x00030003u) | ((((o * 3u) >> 8u) & 0x00030003u) << 8u);
}

// The sum of token t over 4 positions from `c` (a multiple of 4) for code bytes `q`.
fn quad(t: u32, c: u32, q: u32) -> Run {
//#if F32X
    return dot_trits_f32(t, c, q);
//#else
    return dot_trits(xword(t, c >> 2u), q);
//#endif
}

@compute @workgroup_size(64)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let j = lid % 8u;
    let r = (wid.x + wid.y * P.groups_x) * ROWS + lid / 8u;
    let t0 = wid.z * TOK;
    let tn = min(TOK, P.m - t0);
    let row = min(r, P.n - 1u);
    var acc: array<f32, TOK>;
    for (var p = 0u; p < P.planes; p++) {
        let base = (p * P.n + row) * P.row_words;
        let srow = (p * P.n + row) * P.groups;
        var run: array<Run, TOK>;
        var group = j / P.units_per_group;
        for (var u = j; u < P.units; u += 8u) {
            let g = u / P.units_per_group;
            if (g != group) {
                let s = scales[srow + group];
                for (var t = 0u; t < TOK; t++) {
                    acc[t] = acc[t] + s * run_f32(run[t]);
                    run[t] = Run(0);
                }
                group = g;
            }
            var sum: array<Run, TOK>;
            let c0 = u * 128u;
//#if BASE3
            let blk = base + (u >> 1u) * 13u;
            if ((u & 1u) == 0u) {
                // Positions 32n + 4w + b: trits 0..3 of qs words 0..7.
                for (var w = 0u; w < 8u; w++) {
                    let cw = codes[blk + w];
                    for (var n = 0u; n < 4u; n++) {
                        let q = base3_codes(cw, n);
                        for (var t = 0u; t < TOK; t++) {
                            if (t < tn) { sum[t] += quad(t0 + t, c0 + 32u * n + 4u * w, q); }
                        }
                    }
                }
            } else {
                // 128 + 4w: trit 4 of words 0..7; 160 + 16n + 4v: words 8..11; 240 + 4n: word 12.
                for (var w = 0u; w < 8u; w++) {
                    let q = base3_codes(codes[blk + w], 4u);
                    for (var t = 0u; t < TOK; t++) {
                        if (t < tn) { sum[t] += quad(t0 + t, c0 + 4u * w, q); }
                    }
                }
                for (var v = 0u; v < 4u; v++) {
                    let cw = codes[blk + 8u + v];
                    for (var n = 0u; n < 5u; n++) {
                        let q = base3_codes(cw, n);
                        for (var t = 0u; t < TOK; t++) {
                            if (t < tn) { sum[t] += quad(t0 + t, c0 + 32u + 16u * n + 4u * v, q); }
                        }
                    }
                }
                let hw = codes[blk + 12u];
                for (var n = 0u; n < 4u; n++) {
                    let q = base3_codes(hw, n);
                    for (var t = 0u; t < TOK; t++) {
                        if (t < tn) { sum[t] += quad(t0 + t, c0 + 112u + 4u * n, q); }
                    }
                }
            }
//#else
            // Position 32l + 4w + b: bits 2l of byte b of word w.
            for (var w = 0u; w < 8u; w++) {
                let cw = codes[base + u * 8u + w];
                for (var l = 0u; l < 4u; l++) {
                    let q = (cw >> (2u * l)) & 0x03030303u;
                    for (var t = 0u; t < TOK; t++) {
                        if (t < tn) { sum[t] += quad(t0 + t, c0 + 32u * l + 4u * w, q); }
                    }
                }
            }
//#endif
            for (var t = 0u; t < TOK; t++) {
                run[t] += sum[t];
            }
        }
        if (j < P.units) {
            let s = scales[srow + group];
            for (var t = 0u; t < TOK; t++) {
                acc[t] = acc[t] + s * run_f32(run[t]);
            }
        }
    }
    for (var t = 0u; t < TOK; t++) {
        partial[t][lid] = acc[t];
    }
    workgroupBarrier();
    if (j != 0u || r >= P.n) {
        return;
    }
    for (var t = 0u; t < tn; t++) {
        let a = partial[t];
        let l = lid;
        let tree = ((a[l] + a[l + 1u]) + (a[l + 2u] + a[l + 3u]))
                 + ((a[l + 4u] + a[l + 5u]) + (a[l + 6u] + a[l + 7u]));
//#if F32X
        let xs = 1.0;
//#else
        let xs = x_scale[t0 + t];
//#endif
        let b = select(0.0, bias[min(r, arrayLength(&bias) - 1u)], P.has_bias != 0u);
        y[(t0 + t) * P.n + r] = tree * xs + b;
    }
}
