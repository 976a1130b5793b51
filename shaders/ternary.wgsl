// Ternary matmul (lowbit_kernels::ternary, whose module docs define the packings and the f32
// order): 8 rows per workgroup of 64, 8 lanes per row; lane j is the CPU's partial j — it takes
// units u = j, j + 8, … of each plane, forms each unit's sum, adds the sums of consecutive units
// of one scale group (exactly, in i32, with int8 x) and folds each run in as
// acc = acc + scale·run. Lane 0 of the row then adds the 8 partials as the CPU's tree and
// writes sum·x_scale + bias. No fma: WGSL's may or may not fuse (lavapipe's does not).
// Up to 4 tokens per workgroup (z: the token pass); MT1: one (M = 1, registers only).
// ROWLANE (CPU-type adapters): LR rows per invocation, every lane on the same unit at once,
// every x load shared by the LR rows, the partials taken one after the other.
//
// Int8 x (the default): a unit's sum is Σ x·t over 32 words of packed x, exact. DOT_NATIVE:
// the trits as signed bytes meet x in dot4I8Packed (codes t + 1 turned into t with
// (q + 0x7F7F7F7F) ^ 0x80808080, no carries); otherwise (MASKS) x is added, complemented or
// skipped by byte masks and summed in 16-bit lanes (see masks_of). XV4: x read 16 bytes at a
// time (int8 x: K % 16 == 0; f32: K % 4; f16: K % 8). F32X: f32 (F16X: f16) x, each trit
// adds, subtracts or skips its x into the unit's f32 sum.
// BASE3: TQ1_0's base-3 bytes (qs then qh, see TritPacking::Base3); trit n of a byte is
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
// 16 bytes a load: lavapipe runs each load as a per-lane gather, so fewer, wider loads. Rows
// start on 16 bytes in both packings.
@group(0) @binding(1) var<storage, read> codes: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> scales: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
//#if F32X
//#if F16X
//#if XV4
// f16 x, K % 8 == 0: rows start on 16 bytes, eight halves a load (read without shader-f16).
@group(0) @binding(4) var<storage, read> x: array<vec4<u32>>;
//#else
// f16 x, two to a word (read without shader-f16).
@group(0) @binding(4) var<storage, read> x: array<u32>;
//#endif
//#else
//#if XV4
// f32 x, K % 4 == 0: rows start on 16 bytes, four values a load.
@group(0) @binding(4) var<storage, read> x: array<vec4<f32>>;
//#else
@group(0) @binding(4) var<storage, read> x: array<f32>;
//#endif
//#endif
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
//#else
//#if XV4
// K % 16 == 0: x rows start on 16 bytes, read a vec4 (16 values) at a time.
@group(0) @binding(4) var<storage, read> x: array<vec4<u32>>;
//#else
@group(0) @binding(4) var<storage, read> x: array<u32>;
//#endif
@group(0) @binding(5) var<storage, read> x_scale: array<f32>;
@group(0) @binding(6) var<storage, read_write> y: array<f32>;
//#endif

//#if MT1
const TOK: u32 = 1u;
//#else
const TOK: u32 = 4u;
//#endif
const ROWS: u32 = 8u;
//#if !ROWLANE
var<workgroup> partial: array<array<f32, 64>, TOK>;
//#endif

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
//#if XV4
// The 16 x bytes of token t from position c (a multiple of 16; zeros past K).
fn xvec(t: u32, c: u32) -> vec4<u32> {
    if (c >= P.k) {
        return vec4<u32>(0u);
    }
    return x[min((t * P.k + c) >> 4u, arrayLength(&x) - 1u)];
}
//#else
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
//#endif

// The 16 x bytes of token t from position c (a multiple of 16; zeros past K).
fn xquad(t: u32, c: u32) -> vec4<u32> {
//#if XV4
    return xvec(t, c);
//#else
    let w = c >> 2u;
    return vec4<u32>(xword(t, w), xword(t, w + 1u), xword(t, w + 2u), xword(t, w + 3u));
//#endif
}

//#if DOT_NATIVE
// Σ of the 4 byte products x·t, t = code − 1 for codes q ∈ {0, 1, 2} in each byte of `q`.
fn dot_trits(xw: u32, q: u32) -> i32 {
    return dot4I8Packed(xw, (q + 0x7F7F7F7Fu) ^ 0x80808080u);
}
//#endif

//#if MASKS
// Int8 x without dot4I8Packed: no per-byte work. A code word becomes two byte masks, shared by
// the tokens: z (0xFF where the trit is 0) and p (0xFF where it is +1). Each x word then meets
// them in three bitwise operations, v = ((x ^ p) | z) ^ 0x7F7F7F7F, whose unsigned bytes are
// x + 128 (trit +1), 127 − x (trit −1) and 128 (trit 0), so over a unit of 128 positions
// Σ x·t = Σ v − 128·128 + n₋ (n₋: the trits −1). The bytes of v are summed in two 16-bit
// lanes (≤ 510 a word, ≤ 16320 a unit: no carry between lanes); n₋ in four byte counters
// (≤ 32 each a unit: no carries either). Every step is exact, so the unit sum is the CPU's i32.
struct Masks {
    z: vec4<u32>,
    p: vec4<u32>,
}

fn masks_of(q: vec4<u32>, negs: ptr<function, u32>) -> Masks {
    let one = vec4<u32>(0x01010101u);
    // (0x80 − b) ^ 0x80 per byte: 0xFF where bit b is set, no borrow out of the byte (not
    // (b << 8) − b, which LLVM turns into a multiply by 255).
    let h = vec4<u32>(0x80808080u);
    let z = (h - (q & one)) ^ h;
    let p = (h - ((q >> vec4<u32>(1u)) & one)) ^ h;
    let n = ~(z | p) & one;
    *negs += n.x + n.y + n.z + n.w;
    return Masks(z, p);
}

// The bytes of v over 16 positions, in two 16-bit lanes.
fn masked_sum(t: u32, c: u32, m: Masks) -> u32 {
    let v = ((xquad(t, c) ^ m.p) | m.z) ^ vec4<u32>(0x7F7F7F7Fu);
    let lo = vec4<u32>(0x00FF00FFu);
    let s = (v & lo) + ((v >> vec4<u32>(8u)) & lo);
    return s.x + s.y + s.z + s.w;
}

// A unit's Σ x·t from its lanes and its byte counters of −1 trits.
fn masked_total(lanes: u32, negs: u32) -> i32 {
    let n2 = negs + (negs >> 16u);
    let n = (n2 & 0xFFu) + ((n2 >> 8u) & 0xFFu);
    return i32((lanes & 0xFFFFu) + (lanes >> 16u)) - 16384i + i32(n);
}
//#endif
//#else
//#if !XV4
// Float x's element i (clamped to the buffer), for x read a value at a time.
fn x_at(i: u32) -> f32 {
//#if F16X
    let w = x[min(i >> 1u, arrayLength(&x) - 1u)];
    return unpack2x16float(w)[i & 1u];
//#else
    return x[min(i, arrayLength(&x) - 1u)];
//#endif
}
//#endif

// Token t's float x at positions c .. c + 3 (c a multiple of 4), zeros past K. XV4: one load
// of four f32, or half of one of eight f16 (K a multiple of the load, so a load is all in K
// or all past it).
fn x_four(t: u32, c: u32) -> vec4<f32> {
//#if XV4
    if (c >= P.k) {
        return vec4<f32>(0.0);
    }
    let i = t * P.k + c;
//#if F16X
    let v = x[min(i >> 3u, arrayLength(&x) - 1u)];
    let h = select(v.xy, v.zw, (i & 4u) != 0u);
    return vec4<f32>(unpack2x16float(h.x), unpack2x16float(h.y));
//#else
    return x[min(i >> 2u, arrayLength(&x) - 1u)];
//#endif
//#else
    var v = vec4<f32>(0.0);
    for (var b = 0u; b < 4u; b++) {
        if (c + b < P.k) {
            v[b] = x_at(t * P.k + c + b);
        }
    }
    return v;
//#endif
}

// Σ x·t over 4 positions: t = code − 1 for the code bytes of `q`; a trit adds, subtracts or
// skips its x (selects, no multiply).
fn trits4_f32(xv: vec4<f32>, q: u32) -> f32 {
    let c = (vec4<u32>(q) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(3u);
    let v = select(select(vec4<f32>(0.0), -xv, c == vec4<u32>(0u)), xv, c == vec4<u32>(2u));
    return (v.x + v.y) + (v.z + v.w);
}

// Σ over 4 consecutive positions from `c` (a multiple of 4) of ±x for the codes in the bytes
// of `q`.
fn dot_trits_f32(t: u32, c: u32, q: u32) -> f32 {
    return trits4_f32(x_four(t, c), q);
}

// Token t's 16 float x from position c (a multiple of 16), zeros past K: column i holds
// positions c + 4i .. c + 4i + 3.
fn xquad(t: u32, c: u32) -> mat4x4<f32> {
    return mat4x4<f32>(x_four(t, c), x_four(t, c + 4u), x_four(t, c + 8u), x_four(t, c + 12u));
}
//#endif

// Base 3, four bytes a u32 in two 16-bit lanes: `trits_of(w, 3^n)` splits the even and odd
// bytes (times 3^n);
// `next` gives the codes (trit + 1) of the leading trit of each byte, in the bytes' places, and
// moves every byte on by one trit (b·3 mod 256).
struct Trits {
    e: vec4<u32>,
    o: vec4<u32>,
}

fn trits_of(w: vec4<u32>, pow: vec4<u32>) -> Trits {
    let m = vec4<u32>(0x00FF00FFu);
    return Trits((w & m) * pow & m, ((w >> vec4<u32>(8u)) & m) * pow & m);
}

// The products b·3 of the lanes (the leading trits in bits 8–9 and 24–25), stepping `s` on.
fn trits_next(s: ptr<function, Trits>) -> Trits {
    let m = vec4<u32>(0x00FF00FFu);
    let p = Trits((*s).e * 3u, (*s).o * 3u);
    (*s).e = p.e & m;
    (*s).o = p.o & m;
    return p;
}

// Code bytes (trit + 1) of products from trits_next, in the bytes' places.
fn trit_codes(p: Trits) -> vec4<u32> {
    let t = vec4<u32>(0x00030003u);
    return ((p.e >> vec4<u32>(8u)) & t) | (((p.o >> vec4<u32>(8u)) & t) << vec4<u32>(8u));
}

//#if !MASKS
//#if !F32X
//#if !XV4
// The sum of token t over 4 positions from `c` (a multiple of 4) for code bytes `q`.
fn quad(t: u32, c: u32, q: u32) -> Run {
    return dot_trits(xword(t, c >> 2u), q);
}
//#endif
//#endif

// The sum of token t over 16 positions from `c` (a multiple of 16): code word i of `q` holds
// positions c + 4i .. c + 4i + 3, one code (trit + 1) a byte.
fn quad4(t: u32, c: u32, q: vec4<u32>) -> Run {
    var s = Run(0);
//#if F32X
    for (var i = 0u; i < 4u; i++) {
        s += dot_trits_f32(t, c + 4u * i, q[i]);
    }
//#else
//#if XV4
    let xv = xvec(t, c);
    for (var i = 0u; i < 4u; i++) {
        s += dot_trits(xv[i], q[i]);
    }
//#else
    for (var i = 0u; i < 4u; i++) {
        s += quad(t, c + 4u * i, q[i]);
    }
//#endif
//#endif
    return s;
}
//#endif

// 16 positions' codes made ready to meet x once for all tokens (`quad_of`: MASKS' byte masks,
// else the code words), a token's part of a unit (`quad_sum`: MASKS' 16-bit lanes, else the
// exact sum) and the unit's sum from the parts (`unit_total`).
//#if MASKS
alias Quad = Masks;
alias Part = u32;
//#else
alias Quad = vec4<u32>;
alias Part = Run;
//#endif

fn quad_of(q: vec4<u32>, negs: ptr<function, u32>) -> Quad {
//#if MASKS
    return masks_of(q, negs);
//#else
    return q;
//#endif
}

fn quad_sum(t: u32, c: u32, k: Quad) -> Part {
//#if MASKS
    return masked_sum(t, c, k);
//#else
    return quad4(t, c, k);
//#endif
}

fn unit_total(part: Part, negs: u32) -> Run {
//#if MASKS
    return masked_total(part, negs);
//#else
    return part;
//#endif
}

//#if BASE3
// The sums of the even unit of a base-3 block (qs words w0, w1; positions from c0 =
// 32n + 16h + 4i + b: trits 0..3 of qs words 4h + i) for tokens t0 .. t0 + tn.
fn even_unit(w0: vec4<u32>, w1: vec4<u32>, c0: u32, t0: u32, tn: u32) -> array<Run, TOK> {
    var part: array<Part, TOK>;
    var negs = 0u;
    var s0 = trits_of(w0, vec4<u32>(1u));
    var s1 = trits_of(w1, vec4<u32>(1u));
    for (var n = 0u; n < 4u; n++) {
        let k0 = quad_of(trit_codes(trits_next(&s0)), &negs);
        let k1 = quad_of(trit_codes(trits_next(&s1)), &negs);
        for (var t = 0u; t < TOK; t++) {
            if (t < tn) {
                part[t] += quad_sum(t0 + t, c0 + 32u * n, k0)
                         + quad_sum(t0 + t, c0 + 32u * n + 16u, k1);
            }
        }
    }
    return unit_totals(part, negs);
}

// The same for the odd unit (qs words w0..w2 and the block's qh word hw). From the unit's
// start: 4w: trit 4 of words 0..7; 32 + 16n + 4v: words 8..11; 112 + 4n: the qh word.
fn odd_unit(
    w0: vec4<u32>, w1: vec4<u32>, w2: vec4<u32>, hw: u32, c0: u32, t0: u32, tn: u32,
) -> array<Run, TOK> {
    var part: array<Part, TOK>;
    var negs = 0u;
    // qh: trit n of the word in lane n.
    var sh = trits_of(vec4<u32>(hw), vec4<u32>(1u, 3u, 9u, 27u));
    let kh = quad_of(trit_codes(trits_next(&sh)), &negs);
    var s0 = trits_of(w0, vec4<u32>(81u));
    var s1 = trits_of(w1, vec4<u32>(81u));
    let k0 = quad_of(trit_codes(trits_next(&s0)), &negs);
    let k1 = quad_of(trit_codes(trits_next(&s1)), &negs);
    for (var t = 0u; t < TOK; t++) {
        if (t < tn) {
            part[t] += quad_sum(t0 + t, c0, k0) + quad_sum(t0 + t, c0 + 16u, k1)
                    + quad_sum(t0 + t, c0 + 112u, kh);
        }
    }
    var s2 = trits_of(w2, vec4<u32>(1u));
    for (var n = 0u; n < 5u; n++) {
        let k = quad_of(trit_codes(trits_next(&s2)), &negs);
        for (var t = 0u; t < TOK; t++) {
            if (t < tn) { part[t] += quad_sum(t0 + t, c0 + 32u + 16u * n, k); }
        }
    }
    return unit_totals(part, negs);
}

// Word index of the qh words (one per block, after every block's 48 qs bytes).
fn qh_word(base: u32) -> u32 {
    return base + 12u * (P.units >> 1u);
}
//#endif

fn unit_totals(part: array<Part, TOK>, negs: u32) -> array<Run, TOK> {
    var sum: array<Run, TOK>;
    for (var t = 0u; t < TOK; t++) {
        sum[t] = unit_total(part[t], negs);
    }
    return sum;
}

// The sums of unit u of the plane row at word `base` for tokens t0 .. t0 + tn.
fn unit_sums(base: u32, u: u32, t0: u32, tn: u32) -> array<Run, TOK> {
    let c0 = u * 128u;
//#if BASE3
    // A row: every block's 48 qs bytes (3 vec4), then every block's 4 qh bytes.
    let blk = u >> 1u;
    let qv = (base >> 2u) + blk * 3u;
    if ((u & 1u) == 0u) {
        return even_unit(codes[qv], codes[qv + 1u], c0, t0, tn);
    }
    let hq = qh_word(base) + blk;
    let hw = codes[hq >> 2u][hq & 3u];
    return odd_unit(codes[qv], codes[qv + 1u], codes[qv + 2u], hw, c0, t0, tn);
//#else
    var part: array<Part, TOK>;
    var negs = 0u;
    // Position 32l + 16h + 4i + b: bits 2l of byte b of word i of vec4 h.
    for (var h = 0u; h < 2u; h++) {
        let cv = codes[(base >> 2u) + u * 2u + h];
        for (var l = 0u; l < 4u; l++) {
            let k = quad_of((cv >> vec4<u32>(2u * l)) & vec4<u32>(0x03030303u), &negs);
            for (var t = 0u; t < TOK; t++) {
                if (t < tn) { part[t] += quad_sum(t0 + t, c0 + 32u * l + 16u * h, k); }
            }
        }
    }
    return unit_totals(part, negs);
//#endif
}

// The rows' last step: the 8 partials as the CPU's tree, times x's scale, plus the bias.
fn finish(a: array<f32, 8>, t: u32, r: u32) -> f32 {
    let tree = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
//#if F32X
    let xs = 1.0;
//#else
    let xs = x_scale[t];
//#endif
    let b = select(0.0, bias[min(r, arrayLength(&bias) - 1u)], P.has_bias != 0u);
    return tree * xs + b;
}

//#if ROWLANE
// The 16 x values at position c (`xquad`) meeting a quad's codes (`quad_of`) for one row.
//#if F32X
fn part_of(xv: mat4x4<f32>, k: Quad) -> Part {
    return (trits4_f32(xv[0], k.x) + trits4_f32(xv[1], k.y))
        + (trits4_f32(xv[2], k.z) + trits4_f32(xv[3], k.w));
}
//#else
fn part_of(xv: vec4<u32>, k: Quad) -> Part {
//#if MASKS
    let v = ((xv ^ k.p) | k.z) ^ vec4<u32>(0x7F7F7F7Fu);
    let lo = vec4<u32>(0x00FF00FFu);
    let s = (v & lo) + ((v >> vec4<u32>(8u)) & lo);
    return s.x + s.y + s.z + s.w;
//#else
    return dot_trits(xv.x, k.x) + dot_trits(xv.y, k.y) + dot_trits(xv.z, k.z)
        + dot_trits(xv.w, k.w);
//#endif
}
//#endif

// LR rows per invocation, 64 rows a workgroup: each x load serves the LR rows (on
// llvmpipe every storage load is a per-lane loop, and x's loads outnumbered the codes' four to
// one with a row an invocation). The partials are taken one after the other (partial j: units
// j, j + 8, …, folded per scale group as the CPU does), so a row's state is a handful of
// registers; the eight partials wait in `fin` for the CPU's tree.
@compute @workgroup_size(64u / LR)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    let r0 = (wid.x + wid.y * P.groups_x) * 64u + lid * LR;
    let t0 = wid.z * TOK;
    let tn = min(TOK, P.m - t0);
    var rows: array<u32, LR>;
//#unroll r LR
    rows[r] = min(r0 + r, P.n - 1u);
//#end
    var fin: array<array<array<f32, 8>, TOK>, LR>;
    for (var p = 0u; p < P.planes; p++) {
        // Each row's first word and its first scale.
        var base: array<u32, LR>;
        var srow: array<u32, LR>;
//#unroll r LR
        base[r] = (p * P.n + rows[r]) * P.row_words;
        srow[r] = (p * P.n + rows[r]) * P.groups;
//#end
        for (var j = 0u; j < min(8u, P.units); j++) {
            var acc: array<array<f32, TOK>, LR>;
            var run: array<array<Run, TOK>, LR>;
//#unroll r LR
            for (var t = 0u; t < TOK; t++) {
                acc[r][t] = fin[r][t][j];
            }
//#end
            var group = j / P.units_per_group;
            for (var u = j; u < P.units; u += 8u) {
                let g = u / P.units_per_group;
                if (g != group) {
//#unroll r LR
                    {
                        let s = scales[srow[r] + group];
                        for (var t = 0u; t < TOK; t++) {
                            acc[r][t] = acc[r][t] + s * run_f32(run[r][t]);
                            run[r][t] = Run(0);
                        }
                    }
//#end
                    group = g;
                }
                var part: array<array<Part, TOK>, LR>;
                var negs: array<u32, LR>;
                let c0 = u * 128u;
//#if BASE3
                // The positions of even_unit and odd_unit (a block's two units; units are
                // whole blocks, K padded to 256), the trits of each row stepped as there.
                let blk = u >> 1u;
                if ((u & 1u) == 0u) {
                    var s0: array<Trits, LR>;
                    var s1: array<Trits, LR>;
//#unroll r LR
                    {
                        let qv = (base[r] >> 2u) + blk * 3u;
                        s0[r] = trits_of(codes[qv], vec4<u32>(1u));
                        s1[r] = trits_of(codes[qv + 1u], vec4<u32>(1u));
                    }
//#end
                    for (var n = 0u; n < 4u; n++) {
                        var k0: array<Quad, LR>;
                        var k1: array<Quad, LR>;
//#unroll r LR
                        {
                            var nr = 0u;
                            var a0 = s0[r];
                            var a1 = s1[r];
                            k0[r] = quad_of(trit_codes(trits_next(&a0)), &nr);
                            k1[r] = quad_of(trit_codes(trits_next(&a1)), &nr);
                            s0[r] = a0;
                            s1[r] = a1;
                            negs[r] += nr;
                        }
//#end
                        for (var t = 0u; t < TOK; t++) {
                            if (t < tn) {
                                let xa = xquad(t0 + t, c0 + 32u * n);
                                let xb = xquad(t0 + t, c0 + 32u * n + 16u);
//#unroll r LR
                                part[r][t] += part_of(xa, k0[r]) + part_of(xb, k1[r]);
//#end
                            }
                        }
                    }
                } else {
                    var s2: array<Trits, LR>;
                    var kh: array<Quad, LR>;
                    var k0: array<Quad, LR>;
                    var k1: array<Quad, LR>;
//#unroll r LR
                    {
                        let qv = (base[r] >> 2u) + blk * 3u;
                        let hq = qh_word(base[r]) + blk;
                        var nr = 0u;
                        var sh = trits_of(vec4<u32>(codes[hq >> 2u][hq & 3u]), vec4<u32>(1u, 3u, 9u, 27u));
                        kh[r] = quad_of(trit_codes(trits_next(&sh)), &nr);
                        var a0 = trits_of(codes[qv], vec4<u32>(81u));
                        var a1 = trits_of(codes[qv + 1u], vec4<u32>(81u));
                        k0[r] = quad_of(trit_codes(trits_next(&a0)), &nr);
                        k1[r] = quad_of(trit_codes(trits_next(&a1)), &nr);
                        s2[r] = trits_of(codes[qv + 2u], vec4<u32>(1u));
                        negs[r] += nr;
                    }
//#end
                    for (var t = 0u; t < TOK; t++) {
                        if (t < tn) {
                            let xa = xquad(t0 + t, c0);
                            let xb = xquad(t0 + t, c0 + 16u);
                            let xh = xquad(t0 + t, c0 + 112u);
//#unroll r LR
                            part[r][t] += part_of(xa, k0[r]) + part_of(xb, k1[r]) + part_of(xh, kh[r]);
//#end
                        }
                    }
                    for (var n = 0u; n < 5u; n++) {
                        var k: array<Quad, LR>;
//#unroll r LR
                        {
                            var nr = 0u;
                            var a = s2[r];
                            k[r] = quad_of(trit_codes(trits_next(&a)), &nr);
                            s2[r] = a;
                            negs[r] += nr;
                        }
//#end
                        for (var t = 0u; t < TOK; t++) {
                            if (t < tn) {
                                let xv = xquad(t0 + t, c0 + 32u + 16u * n);
//#unroll r LR
                                part[r][t] += part_of(xv, k[r]);
//#end
                            }
                        }
                    }
                }
//#else
                // Position 32l + 16h + 4i + b of the unit: bits 2l of byte b of word i of
                // vec4 h.
                for (var h = 0u; h < 2u; h++) {
                    var cv: array<vec4<u32>, LR>;
//#unroll r LR
                    cv[r] = codes[(base[r] >> 2u) + u * 2u + h];
//#end
                    for (var l = 0u; l < 4u; l++) {
                        var k: array<Quad, LR>;
//#unroll r LR
                        {
                            var nr = 0u;
                            k[r] = quad_of((cv[r] >> vec4<u32>(2u * l)) & vec4<u32>(0x03030303u), &nr);
                            negs[r] += nr;
                        }
//#end
                        for (var t = 0u; t < TOK; t++) {
                            if (t < tn) {
                                let xv = xquad(t0 + t, c0 + 32u * l + 16u * h);
//#unroll r LR
                                part[r][t] += part_of(xv, k[r]);
//#end
                            }
                        }
                    }
                }
//#endif
//#unroll r LR
                for (var t = 0u; t < TOK; t++) {
                    run[r][t] += unit_total(part[r][t], negs[r]);
                }
//#end
            }
//#unroll r LR
            {
                let s = scales[srow[r] + group];
                for (var t = 0u; t < TOK; t++) {
                    fin[r][t][j] = acc[r][t] + s * run_f32(run[r][t]);
                }
            }
//#end
        }
    }
//#unroll r LR
    if (r0 + r < P.n) {
        for (var t = 0u; t < tn; t++) {
            y[(t0 + t) * P.n + r0 + r] = finish(fin[r][t], t0 + t, r0 + r);
        }
    }
//#end
}
//#else
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
            let sum = unit_sums(base, u, t0, tn);
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
        var a: array<f32, 8>;
        for (var i = 0u; i < 8u; i++) {
            a[i] = partial[t][lid + i];
        }
        y[(t0 + t) * P.n + r] = finish(a, t0 + t, r);
    }
}
//#endif
