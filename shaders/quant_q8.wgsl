// The int8 route for quantized weights at M ≤ 4 (llama.cpp's q8_1 idea): x is quantised once
// per block of 32 to int8 with an f32 scale and the integer sums of its two halves (QUANTIZE),
// then each weight block's integers meet it through dot4 (dot4I8Packed, or the portable
// extractBits sum; exact in i32) and one f32 multiply-add per block (per 16 for Q2_K, Q6_K)
// and token; offsets and minimums meet x's integer sums. The only approximation is x's
// quantisation: |x − dx·q| ≤ dx/2 per element (plus WGSL's 2.5-ulp division in dx and 1/dx).
//
// Q4_0 (18 bytes), Q5_0 (22), Q8_0 (34) and Q6_K (210) blocks start at even byte offsets, so a
// block's bytes are word-aligned or two bytes off: each of its words is a word of W or a
// funnel of two, a select, never a byte-wise load. Q4_1, Q5_1 and Q2_K blocks (20, 24, 84
// bytes) are always word-aligned; Q4_K and Q5_K super-blocks (144, 176 bytes) are read as
// nine or eleven vec4 words (WIDE). On CPU-type adapters, where K allows, so are eight blocks
// of Q4_0, Q4_1, Q5_0, Q5_1 (9 to 12 words) and Q8_0 (17), MXFP4's sixteen (17) and FP8's
// four (9): SW words a unit, given by the composer; Q3_K, Q6_K, IQ4_XS super-blocks and
// NVFP4 blocks keep their unit and are picked out of the vec4 words around them (WINDOW,
// `window4`). Each
// format defines a unit (one block, or 128 to 512 elements), `load_unit` and `unit_dot`; one
// `row_sums` runs them.
//
// Shapes (by define): ROW_PER_LANE (CPU-type adapters: 8 invocations, one row each, no
// barriers — see shaders/README.md) or one workgroup of WG invocations per row striding over
// its blocks with a workgroup-memory tree. MT1: one token, else up to four per dispatch.

// Params: shaders/common/quant_params.wgsl, prepended by the composer.

// Σ of the four packed dot products of a and b: 16 int8 pairs, exact in i32.
fn dot16(a: vec4<u32>, b: vec4<u32>) -> i32 {
    return dot4(a.x, b.x) + dot4(a.y, b.y) + dot4(a.z, b.z) + dot4(a.w, b.w);
}

// dot16 with a's bytes unsigned (0..255) and b's signed (`dot4u`).
fn dot16u(a: vec4<u32>, b: vec4<u32>) -> i32 {
    return dot4u(a.x, b.x) + dot4u(a.y, b.y) + dot4u(a.z, b.z) + dot4u(a.w, b.w);
}

// The low (`shift` 0) or high (`shift` 4) nibbles of sixteen bytes, one a byte.
fn nibbles(q: vec4<u32>, shift: u32) -> vec4<u32> {
    return (q >> vec4<u32>(shift)) & vec4<u32>(0x0f0f0f0fu);
}


// One block of x: its scale and the sums of its two halves of 16 integers as i16 (low:
// values 0..15, high: 16..31; |sum| ≤ 2032).
struct XScale {
    d: f32,
    s: u32,
}

// The sum of all 32 integers of a block from its packed half sums.
fn s_all(s: u32) -> i32 {
    return (bitcast<i32>(s << 16u) >> 16u) + (bitcast<i32>(s) >> 16u);
}

// The sum of half h (0: values 0..15, 1: 16..31).
fn s_half(s: u32, h: u32) -> i32 {
    return bitcast<i32>(s << (16u - 16u * h)) >> 16u;
}

@group(0) @binding(0) var<uniform> params: Params;

//#if QUANTIZE
//#if X_F16
@group(0) @binding(1) var<storage, read> x: array<u32>;
//#else
@group(0) @binding(1) var<storage, read> x: array<f32>;
//#endif
@group(0) @binding(2) var<storage, read_write> xq: array<u32>;
@group(0) @binding(3) var<storage, read_write> xs: array<XScale>;

fn x_at(i: u32) -> f32 {
//#if X_F16
    let h = unpack2x16float(x[i >> 1u]);
    return select(h.x, h.y, (i & 1u) == 1u);
//#else
    return x[i];
//#endif
}

// One invocation per block of 32 values of x ([M, K] row-major, K a multiple of 32).
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let b = gid.y * params.groups_x * 64u + gid.x;
    if b >= params.m * (params.k / 32u) {
        return;
    }
    var amax = 0.0;
    for (var i = 0u; i < 32u; i++) {
        amax = max(amax, abs(x_at(32u * b + i)));
    }
    let d = amax / 127.0;
    let id = select(0.0, 1.0 / d, d > 0.0);
    var sums = vec2<i32>();
    for (var j = 0u; j < 8u; j++) {
        var word = 0u;
        var sum = 0;
        for (var e = 0u; e < 4u; e++) {
            let q = i32(clamp(round(x_at(32u * b + 4u * j + e) * id), -127.0, 127.0));
            sum += q;
            word |= (bitcast<u32>(q) & 0xffu) << (8u * e);
        }
        if j < 4u {
            sums.x += sum;
        } else {
            sums.y += sum;
        }
        xq[8u * b + j] = word;
    }
    xs[b] = XScale(d, (bitcast<u32>(sums.x) & 0xffffu) | (bitcast<u32>(sums.y) << 16u));
}
//#else
//#if WIDE
@group(0) @binding(1) var<storage, read> wv: array<vec4<u32>>;
// The same XScale pairs as (d, s, d, s) words: two blocks a load.
@group(0) @binding(3) var<storage, read> xs2: array<vec4<u32>>;
//#else
//#if WINDOW
@group(0) @binding(1) var<storage, read> wv: array<vec4<u32>>;
//#else
@group(0) @binding(1) var<storage, read> w: array<u32>;
//#endif
@group(0) @binding(3) var<storage, read> xs: array<XScale>;
//#endif
@group(0) @binding(2) var<storage, read> xq: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
// The epilogue's bias[N] (params.has_bias); another read-only buffer stands in when there is none.
@group(0) @binding(5) var<storage, read> bias: array<f32>;

//#if ROW_PER_LANE
const WG: u32 = 8u;
//#else
const WG: u32 = 64u;
var<workgroup> partial: array<f32, 256>;
//#endif

// f16_bits: shaders/common/f16_bits.wgsl, prepended by the composer.

// Four quant bytes: those starting two bytes into word `lo` (a funnel of `lo` and `hi`), or,
// when the block's quant bytes are word-aligned, word `hi` itself.
fn qword(lo: u32, hi: u32, aligned_next: bool) -> u32 {
    return select((lo >> 16u) | (hi << 16u), hi, aligned_next);
}

//#if !WIDE
//#if !WINDOW
// An 18-byte block at even byte offset b (Q4_0, IQ4_NL): its f16 scale and its 16 quant bytes,
// from exactly the five words it covers (the quant bytes word-aligned when b ≡ 2 mod 4).
struct Block18 {
    d: f32,
    q: vec4<u32>,
}

fn load18(b: u32) -> Block18 {
    let a = b >> 2u;
    let odd = (b & 2u) != 0u;
    let w0 = w[a];
    let w1 = w[a + 1u];
    let w2 = w[a + 2u];
    let w3 = w[a + 3u];
    let w4 = w[a + 4u];
    let d = f16_bits(select(w0 & 0xffffu, w0 >> 16u, odd));
    return Block18(d, vec4<u32>(qword(w0, w1, odd), qword(w1, w2, odd), qword(w2, w3, odd), qword(w3, w4, odd)));
}
//#endif
//#endif

//#if WINDOW
// A block at an even byte offset inside vec4 words (WINDOW: rows a multiple of 16 bytes, read
// as vec4 words on CPU-type adapters, where a load instruction costs a per-lane loop whatever
// its width: shaders/README.md): the four words from word q (0..3) of `a` on, `a` followed
// by `b`, funnelled by two bytes when `odd` — selects on q and the parity instead of loads.
fn window4(a: vec4<u32>, b: vec4<u32>, q: u32, odd: bool) -> vec4<u32> {
    let r1 = vec4<u32>(a.yzw, b.x);
    let r2 = vec4<u32>(a.zw, b.xy);
    let r3 = vec4<u32>(a.w, b.xyz);
    let lo = select(select(a, r1, q == 1u), select(r2, r3, q == 3u), q >= 2u);
    let hi = select(select(r1, r2, q == 1u), select(r3, b, q == 3u), q >= 2u);
    return select(lo, (lo >> vec4<u32>(16u)) | (hi << vec4<u32>(16u)), odd);
}

// Where a block at even byte offset b of the binding starts, in vec4 words (rows a multiple
// of 16 bytes): its first vec4 word a, the word q (0..3) in it, and whether it starts two
// bytes into that word (odd) — what `window4` takes.
struct Window {
    a: u32,
    q: u32,
    odd: bool,
}

fn window_at(b: u32) -> Window {
    return Window(b / 16u, (b / 4u) % 4u, (b & 2u) != 0u);
}
//#endif

//#if WBLOCK
// A weight block decoded to its f16 scale and its quant words, once for all tokens.
struct WBlock {
    d: f32,
    // Q4_0/Q4_1/Q5_x: the four words of nibbles. Q8_0: words 0..3 (the other four are in q2).
    q: vec4<u32>,
    q2: vec4<u32>,
    // Q4_1/Q5_1: the f16 minimum `m` (w = d·q + m).
    m: f32,
    // Q5_x: bit e is the fifth bit of element e.
    qh: u32,
}

// Bits 0..3 of `b` as bit 4 of the four bytes of a word (a nibble's fifth bit).
fn spread4(b: u32) -> u32 {
    return (((b & 15u) * 0x00204081u) & 0x01010101u) << 4u;
}

// Q4_1 from its five words (20 bytes, word-aligned).
fn q41_block(w0: u32, w1: u32, w2: u32, w3: u32, w4: u32) -> WBlock {
    return WBlock(f16_bits(w0 & 0xffffu), vec4<u32>(w1, w2, w3, w4), vec4<u32>(), f16_bits(w0 >> 16u), 0u);
}

// Q5_1 from its six words (24 bytes: d, m, qh, then 16 bytes of nibbles, word-aligned).
fn q51_block(w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32) -> WBlock {
    return WBlock(f16_bits(w0 & 0xffffu), vec4<u32>(w2, w3, w4, w5), vec4<u32>(), f16_bits(w0 >> 16u), w1);
}

// Q5_0 from the six words holding it (22 bytes at an even offset: d, then qh and the nibbles,
// two bytes into a word when the block is word-aligned, word-aligned when it is not, `odd`).
fn q50_block(w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, odd: bool) -> WBlock {
    let d = f16_bits(select(w0 & 0xffffu, w0 >> 16u, odd));
    let q = vec4<u32>(qword(w1, w2, odd), qword(w2, w3, odd), qword(w3, w4, odd), qword(w4, w5, odd));
    return WBlock(d, q, vec4<u32>(), 0.0, qword(w0, w1, odd));
}

// The block's contribution for the token whose x block index is `xb`, of scale and sums s.
fn block_dot(wb: WBlock, xb: u32, s: XScale) -> f32 {
    let xa = xq[2u * xb];
    let xc = xq[2u * xb + 1u];
//#if FMT_Q4_0
    // Nibbles are 0..15 (w = q − 8): low nibbles meet elements 0..15, high ones 16..31.
    let lo = nibbles(wb.q, 0u);
    let hi = nibbles(wb.q, 4u);
    let i = dot16(lo, xa) + dot16(hi, xc)
          - 8 * s_all(s.s);
//#endif
//#if FMT_Q8_0
    let i = dot16(wb.q, xa) + dot16(wb.q2, xc);
//#endif
//#if FMT_Q4_1
    let lo = nibbles(wb.q, 0u);
    let hi = nibbles(wb.q, 4u);
    let i = dot16(lo, xa) + dot16(hi, xc);
    // w = d·q + m: the minimum meets the block's integer sum.
    return (wb.d * s.d) * f32(i) + (wb.m * s.d) * f32(s_all(s.s));
//#endif
//#if Q5
    // Element e's fifth bit is bit e of qh: low nibbles are elements 0..15, high 16..31.
    let h = wb.qh;
    let lo = nibbles(wb.q, 0u) | vec4<u32>(spread4(h), spread4(h >> 4u), spread4(h >> 8u), spread4(h >> 12u));
    let hi = nibbles(wb.q, 4u)
           | vec4<u32>(spread4(h >> 16u), spread4(h >> 20u), spread4(h >> 24u), spread4(h >> 28u));
    let i5 = dot16(lo, xa) + dot16(hi, xc);
//#endif
//#if FMT_Q5_0
    let i = i5 - 16 * s_all(s.s);
//#endif
//#if FMT_Q5_1
    return (wb.d * s.d) * f32(i5) + (wb.m * s.d) * f32(s_all(s.s));
//#endif
//#if !FMT_Q4_1
//#if !FMT_Q5_1
    // |i| < 2²⁴: exact in f32.
    return (wb.d * s.d) * f32(i);
//#endif
//#endif
}

//#endif

//#if WIDE
// A unit of a row as SW vec4 words (rows a multiple of it): nine (144 bytes) for one Q4_K
// super-block, eleven for Q5_K; on CPU-type adapters eight blocks of Q4_0, Q4_1, Q5_0, Q5_1
// (9, 10, 11, 12 words; K % 256 == 0) or Q8_0 (17) and sixteen MXFP4 blocks (17, K % 512 ==
// 0), four FP8 blocks (9, K % 128 == 0). There every load instruction pays a per-lane loop
// whatever its width (shaders/README.md): Q4_0 takes 9 + 16 + 4 vec4 loads per 8 blocks
// instead of 8 loads a block.
// The words are read by constant indices once the unrolled block calls are inlined (the
// composer unrolls them): registers, not memory (arrays indexed in loops were spilled there).
struct Super {
    v: array<vec4<u32>, SW>,
}

// SW (vec4 words per unit, 9 to 17): prepended by the composer.

// Word i (0 .. 4·SW) of the unit.
fn sw(g: Super, i: u32) -> u32 {
    return g.v[i >> 2u][i & 3u];
}

//#if FMT_Q4_0
// One Q4_0 block from the five words holding it: its scale in the low (`odd`: high) half of
// w0, its quant bytes from two bytes into w0 (`odd`: from w1), against x block `xb` whose
// scale and sum are (dx, s).
fn blk(w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, odd: bool, xb: u32, dx: f32, s: i32) -> f32 {
    let d = f16_bits(select(w0 & 0xffffu, w0 >> 16u, odd));
    let q = vec4<u32>(qword(w0, w1, odd), qword(w1, w2, odd), qword(w2, w3, odd), qword(w3, w4, odd));
    let lo = nibbles(q, 0u);
    let hi = nibbles(q, 4u);
    let xa = xq[2u * xb];
    let xc = xq[2u * xb + 1u];
    let i = dot16(lo, xa) + dot16(hi, xc)
          - 8 * s;
    return (d * dx) * f32(i);
}

// Eight blocks against the token's x blocks xb .. xb + 8, a pair (one x scale load) at a
// time: block 2p at byte 36p (word 9p), block 2p + 1 two bytes into word 9p + 4.
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 4
    {
        let s = xs2[xb / 2u + p];
        let w = 9u * p;
        acc += blk(sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u), false, xb + 2u * p, bitcast<f32>(s.x), s_all(s.y));
        acc += blk(sw(g, w + 4u), sw(g, w + 5u), sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u), true, xb + 2u * p + 1u, bitcast<f32>(s.z), s_all(s.w));
    }
//#end
    return acc;
}
//#endif
//#if FMT_Q8_0
// One Q8_0 block from the nine words holding it: its scale in the low (`odd`: high) half of w0,
// its quant bytes from two bytes into w0 (`odd`: from w1), against x block xb of scale dx and
// integer sum xsum.
fn blk34(w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, w5: u32, w6: u32, w7: u32, w8: u32,
         odd: bool, xb: u32, dx: f32, xsum: i32) -> f32 {
    let d = f16_bits(select(w0 & 0xffffu, w0 >> 16u, odd));
    let q = vec4<u32>(qword(w0, w1, odd), qword(w1, w2, odd), qword(w2, w3, odd), qword(w3, w4, odd));
    let q2 = vec4<u32>(qword(w4, w5, odd), qword(w5, w6, odd), qword(w6, w7, odd), qword(w7, w8, odd));
    // The codes lifted to 0..255 (q + 128: the sign bit flipped) meet x as unsigned bytes
    // (`dot16u`), the lift taken back through x's block sum.
    let lift = vec4<u32>(0x80808080u);
    let i = dot16u(q ^ lift, xq[2u * xb]) + dot16u(q2 ^ lift, xq[2u * xb + 1u]) - 128 * xsum;
    return (d * dx) * f32(i);
}

// Eight blocks against the token's x blocks xb .. xb + 8, a pair (one x scale load) at a
// time: block 2p at byte 68p (words 17p .. 17p + 8), block 2p + 1 two bytes into word
// 17p + 8 (to 17p + 16).
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 4
    {
        let s = xs2[xb / 2u + p];
        let w = 17u * p;
        acc += blk34(sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u), sw(g, w + 5u), sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u), false, xb + 2u * p, bitcast<f32>(s.x), s_all(s.y));
        acc += blk34(sw(g, w + 8u), sw(g, w + 9u), sw(g, w + 10u), sw(g, w + 11u), sw(g, w + 12u), sw(g, w + 13u), sw(g, w + 14u), sw(g, w + 15u), sw(g, w + 16u), true, xb + 2u * p + 1u, bitcast<f32>(s.z), s_all(s.w));
    }
//#end
    return acc;
}
//#endif
//#if FMT_Q4_1
// Eight Q4_1 blocks (block j in words 5j .. 5j + 4) against the token's x blocks xb .. xb + 8,
// a pair (one x scale load) at a time.
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 4
    {
        let s = xs2[xb / 2u + p];
        let w = 10u * p;
        acc += block_dot(q41_block(sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u)), xb + 2u * p, XScale(bitcast<f32>(s.x), s.y));
        acc += block_dot(q41_block(sw(g, w + 5u), sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u), sw(g, w + 9u)), xb + 2u * p + 1u, XScale(bitcast<f32>(s.z), s.w));
    }
//#end
    return acc;
}
//#endif
//#if FMT_Q5_0
// Eight Q5_0 blocks against the token's x blocks xb .. xb + 8, a pair (one x scale load) at a
// time: block 2p at byte 44p (words 11p .. 11p + 5), block 2p + 1 two bytes into word 11p + 5
// (to 11p + 10).
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 4
    {
        let s = xs2[xb / 2u + p];
        let w = 11u * p;
        acc += block_dot(q50_block(sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u), sw(g, w + 5u), false), xb + 2u * p, XScale(bitcast<f32>(s.x), s.y));
        acc += block_dot(q50_block(sw(g, w + 5u), sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u), sw(g, w + 9u), sw(g, w + 10u), true), xb + 2u * p + 1u, XScale(bitcast<f32>(s.z), s.w));
    }
//#end
    return acc;
}
//#endif
//#if FMT_Q5_1
// Eight Q5_1 blocks (block j in words 6j .. 6j + 5) against the token's x blocks xb .. xb + 8,
// a pair (one x scale load) at a time.
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 4
    {
        let s = xs2[xb / 2u + p];
        let w = 12u * p;
        acc += block_dot(q51_block(sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u), sw(g, w + 5u)), xb + 2u * p, XScale(bitcast<f32>(s.x), s.y));
        acc += block_dot(q51_block(sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u), sw(g, w + 9u), sw(g, w + 10u), sw(g, w + 11u)), xb + 2u * p + 1u, XScale(bitcast<f32>(s.z), s.w));
    }
//#end
    return acc;
}
//#endif
//#if K_QUANT
// Byte j of a word as u32.
fn byte_of(v: u32, j: u32) -> u32 {
    return (v >> (8u * j)) & 0xffu;
}

// One Q4_K / Q5_K sub-block j: the nibbles of a 32-byte chunk (qa, qb) at shift 4·(j % 2)
// plus, for Q5_K, bit j of each qh byte (ha, hb) as the fifth bit, against x block xb (scale
// dx, packed half sums s); `w = (d·sc)·q − (dmin·m)`.
fn ksub(g: Super, j: u32, dsc: f32, dm: f32, xb: u32, dx: f32, s: u32) -> f32 {
    let shift = 4u * (j & 1u);
    // Chunk j / 2's 32 bytes: words 1 + 2(j / 2) and the next (Q5_K: after its two qh words).
//#if FMT_Q5_K
    let qa = g.v[3u + 2u * (j >> 1u)];
    let qb = g.v[4u + 2u * (j >> 1u)];
    let hbit = vec4<u32>(0x01010101u);
    let la = nibbles(qa, shift) | (((g.v[1] >> vec4<u32>(j)) & hbit) << vec4<u32>(4u));
    let lb = nibbles(qb, shift) | (((g.v[2] >> vec4<u32>(j)) & hbit) << vec4<u32>(4u));
//#else
    let qa = g.v[1u + 2u * (j >> 1u)];
    let qb = g.v[2u + 2u * (j >> 1u)];
    let la = nibbles(qa, shift);
    let lb = nibbles(qb, shift);
//#endif
    let xa = xq[2u * xb];
    let xc = xq[2u * xb + 1u];
    let i = dot16(la, xa) + dot16(lb, xc);
    return dsc * dx * f32(i) - dm * dx * f32(s_all(s));
}

// A Q4_K super-block (d, dmin: f16; 12 bytes of 6-bit scales and minimums; 128 bytes of
// nibbles, chunk c's 32 bytes holding sub-block 2c low and 2c + 1 high) or a Q5_K one (the
// same with 32 qh bytes before the nibbles) against the token's x blocks xb .. xb + 8.
fn super_dot(g: Super, xb: u32) -> f32 {
    let d = f16_bits(g.v[0].x & 0xffffu);
    let dmin = f16_bits(g.v[0].x >> 16u);
    // Scales and minimums 0..3 are the low 6 bits of bytes 0..3 and 4..7; 4..7 take their low
    // nibbles from bytes 8..11 and their top 2 bits from the spare top bits of bytes 0..7.
    let s0 = g.v[0].y;
    let s1 = g.v[0].z;
    let s2 = g.v[0].w;
    let sc_lo = s0 & 0x3f3f3f3fu;
    let sc_hi = (s2 & 0x0f0f0f0fu) | (((s0 >> 6u) & 0x03030303u) << 4u);
    let m_lo = s1 & 0x3f3f3f3fu;
    let m_hi = ((s2 >> 4u) & 0x0f0f0f0fu) | (((s1 >> 6u) & 0x03030303u) << 4u);
    let x0 = xs2[xb / 2u];
    let x1 = xs2[xb / 2u + 1u];
    let x2 = xs2[xb / 2u + 2u];
    let x3 = xs2[xb / 2u + 3u];
    var acc = ksub(g, 0u, d * f32(byte_of(sc_lo, 0u)), dmin * f32(byte_of(m_lo, 0u)), xb, bitcast<f32>(x0.x), x0.y);
    acc += ksub(g, 1u, d * f32(byte_of(sc_lo, 1u)), dmin * f32(byte_of(m_lo, 1u)), xb + 1u, bitcast<f32>(x0.z), x0.w);
    acc += ksub(g, 2u, d * f32(byte_of(sc_lo, 2u)), dmin * f32(byte_of(m_lo, 2u)), xb + 2u, bitcast<f32>(x1.x), x1.y);
    acc += ksub(g, 3u, d * f32(byte_of(sc_lo, 3u)), dmin * f32(byte_of(m_lo, 3u)), xb + 3u, bitcast<f32>(x1.z), x1.w);
    acc += ksub(g, 4u, d * f32(byte_of(sc_hi, 0u)), dmin * f32(byte_of(m_hi, 0u)), xb + 4u, bitcast<f32>(x2.x), x2.y);
    acc += ksub(g, 5u, d * f32(byte_of(sc_hi, 1u)), dmin * f32(byte_of(m_hi, 1u)), xb + 5u, bitcast<f32>(x2.z), x2.w);
    acc += ksub(g, 6u, d * f32(byte_of(sc_hi, 2u)), dmin * f32(byte_of(m_hi, 2u)), xb + 6u, bitcast<f32>(x3.x), x3.y);
    acc += ksub(g, 7u, d * f32(byte_of(sc_hi, 3u)), dmin * f32(byte_of(m_hi, 3u)), xb + 7u, bitcast<f32>(x3.z), x3.w);
    return acc;
}
//#endif

alias Unit = Super;
//#if FMT_MXFP4
const UNIT_BLOCKS: u32 = 16u;
//#else
//#if FP8
const UNIT_BLOCKS: u32 = 4u;
//#else
const UNIT_BLOCKS: u32 = 8u;
//#endif
//#endif

// Unit c of the row at byte base (a multiple of 16·SW: in vec4 words, base / 16).
fn load_unit(base: u32, c: u32) -> Unit {
    let a = base / 16u + SW * c;
    var u: Super;
//#unroll i SW
    u.v[i] = wv[a + i];
//#end
    return u;
}

fn unit_dot(u: Unit, xb: u32) -> f32 {
    return super_dot(u, xb);
}
//#else
//#if FMT_Q2_K
// Q2_K super-blocks (84 bytes: 16 scale bytes — low nibble the scale, high the minimum of a
// sub-block of 16 —, qs[64], d, dmin: f16) sit at word offsets: 21 word loads.
struct Q2 {
    sc: vec4<u32>,
    q0: vec4<u32>, q1: vec4<u32>, q2: vec4<u32>, q3: vec4<u32>,
    dd: u32,
}

fn q2_load(base: u32, c: u32) -> Q2 {
    let a = (base + 84u * c) >> 2u;
    return Q2(
        vec4<u32>(w[a], w[a + 1u], w[a + 2u], w[a + 3u]),
        vec4<u32>(w[a + 4u], w[a + 5u], w[a + 6u], w[a + 7u]),
        vec4<u32>(w[a + 8u], w[a + 9u], w[a + 10u], w[a + 11u]),
        vec4<u32>(w[a + 12u], w[a + 13u], w[a + 14u], w[a + 15u]),
        vec4<u32>(w[a + 16u], w[a + 17u], w[a + 18u], w[a + 19u]),
        w[a + 20u]);
}

// Half hf of x block xb against 16 two-bit values (bits `shift` of each byte of q) with scale
// byte sc: `w = (d·(sc & 15))·q − dmin·(sc >> 4)`.
fn q2_half(q: vec4<u32>, shift: u32, xb: u32, hf: u32, sc: u32, d: f32, dmin: f32) -> f32 {
    let qq = (q >> vec4<u32>(shift)) & vec4<u32>(0x03030303u);
    let xv = xq[2u * xb + hf];
    let s = xs[xb];
    let i = dot16(qq, xv);
    return (d * f32(sc & 15u)) * s.d * f32(i) - (dmin * f32(sc >> 4u)) * s.d * f32(s_half(s.s, hf));
}

// x block 4h + j: bits 2j of the 32 qs bytes of half-block h (words lo, hi: elements 0..15 and
// 16..31), scales in bytes 8h + 2j and 8h + 2j + 1 (byte 2·(j % 2) of scale word sw).
fn q2_block(lo: vec4<u32>, hi: vec4<u32>, j: u32, sw: u32, xb: u32, d: f32, dmin: f32) -> f32 {
    let b = 16u * (j & 1u);
    return q2_half(lo, 2u * j, xb, 0u, (sw >> b) & 0xffu, d, dmin)
         + q2_half(hi, 2u * j, xb, 1u, (sw >> (b + 8u)) & 0xffu, d, dmin);
}

fn q2_dot(u: Q2, xb: u32) -> f32 {
    let d = f16_bits(u.dd & 0xffffu);
    let dmin = f16_bits(u.dd >> 16u);
    return q2_block(u.q0, u.q1, 0u, u.sc.x, xb, d, dmin)
         + q2_block(u.q0, u.q1, 1u, u.sc.x, xb + 1u, d, dmin)
         + q2_block(u.q0, u.q1, 2u, u.sc.y, xb + 2u, d, dmin)
         + q2_block(u.q0, u.q1, 3u, u.sc.y, xb + 3u, d, dmin)
         + q2_block(u.q2, u.q3, 0u, u.sc.z, xb + 4u, d, dmin)
         + q2_block(u.q2, u.q3, 1u, u.sc.z, xb + 5u, d, dmin)
         + q2_block(u.q2, u.q3, 2u, u.sc.w, xb + 6u, d, dmin)
         + q2_block(u.q2, u.q3, 3u, u.sc.w, xb + 7u, d, dmin);
}

alias Unit = Q2;
const UNIT_BLOCKS: u32 = 8u;

fn load_unit(base: u32, c: u32) -> Unit {
    return q2_load(base, c);
}

fn unit_dot(u: Unit, xb: u32) -> f32 {
    return q2_dot(u, xb);
}
//#else
//#if FMT_Q6_K
// Q6_K super-blocks (210 bytes: ql[128], qh[64], 16 i8 scales, d: f16) start at even byte
// offsets: each word of a block is a word of W or a funnel of two.
//#if !WINDOW
fn fun(lo: u32, hi: u32, off2: bool) -> u32 {
    return select(lo, (lo >> 16u) | (hi << 16u), off2);
}

// Words i .. i + 3 of the block whose first byte is word a's (`off2`: third) byte.
fn bw4(a: u32, i: u32, off2: bool) -> vec4<u32> {
    let w0 = w[a + i];
    let w1 = w[a + i + 1u];
    let w2 = w[a + i + 2u];
    let w3 = w[a + i + 3u];
    let w4 = w[a + i + 4u];
    return vec4<u32>(fun(w0, w1, off2), fun(w1, w2, off2), fun(w2, w3, off2), fun(w3, w4, off2));
}
//#endif

// A block's words, once for all tokens: part p = 2n + h covers elements 128n + 32g + 16h ..
// + 16 (g = 0..3) with low nibbles la (g = 0, 2 low/high) and lb (g = 1, 3), two high bits
// per element in qh; sw holds the 16 scales.
struct Q6 {
    la0: vec4<u32>, lb0: vec4<u32>, qh0: vec4<u32>,
    la1: vec4<u32>, lb1: vec4<u32>, qh1: vec4<u32>,
    la2: vec4<u32>, lb2: vec4<u32>, qh2: vec4<u32>,
    la3: vec4<u32>, lb3: vec4<u32>, qh3: vec4<u32>,
    sw: vec4<u32>,
    d: f32,
}

//#if WINDOW
// Rows a multiple of 16 bytes (K % 2048 == 0), read as vec4 words (CPU-type adapters, where a
// load instruction costs a per-lane loop whatever its width: shaders/README.md): super-block c
// starts 2(c % 8) bytes into vec4 word 13c + c / 8 of its row, so the fourteen from there hold
// it. Block words i .. i + 3 are window words i + q .., funnelled by two bytes when c is odd
// (`window4`): 14 loads instead of 65.
fn q6_load(base: u32, c: u32) -> Q6 {
    let at = window_at(base + 210u * c);
    let a = at.a;
    let q = at.q;
    let odd = at.odd;
    let v0 = wv[a];
    let v1 = wv[a + 1u];
    let v2 = wv[a + 2u];
    let v3 = wv[a + 3u];
    let v4 = wv[a + 4u];
    let v5 = wv[a + 5u];
    let v6 = wv[a + 6u];
    let v7 = wv[a + 7u];
    let v8 = wv[a + 8u];
    let v9 = wv[a + 9u];
    let v10 = wv[a + 10u];
    let v11 = wv[a + 11u];
    let v12 = wv[a + 12u];
    let v13 = wv[a + 13u];
    // d: bytes 208, 209 of the block, half `odd` of window word 52 + q.
    let wd = select(select(v13.x, v13.y, q == 1u), select(v13.z, v13.w, q == 3u), q >= 2u);
    return Q6(
        window4(v0, v1, q, odd), window4(v2, v3, q, odd), window4(v8, v9, q, odd),
        window4(v1, v2, q, odd), window4(v3, v4, q, odd), window4(v9, v10, q, odd),
        window4(v4, v5, q, odd), window4(v6, v7, q, odd), window4(v10, v11, q, odd),
        window4(v5, v6, q, odd), window4(v7, v8, q, odd), window4(v11, v12, q, odd),
        window4(v12, v13, q, odd),
        f16_bits(select(wd & 0xffffu, wd >> 16u, odd)));
}
//#else
fn q6_load(base: u32, c: u32) -> Q6 {
    let b = base + 210u * c;
    let a = b >> 2u;
    let off2 = (b & 2u) != 0u;
    let wd = w[a + 52u];
    return Q6(
        bw4(a, 0u, off2), bw4(a, 8u, off2), bw4(a, 32u, off2),
        bw4(a, 4u, off2), bw4(a, 12u, off2), bw4(a, 36u, off2),
        bw4(a, 16u, off2), bw4(a, 24u, off2), bw4(a, 40u, off2),
        bw4(a, 20u, off2), bw4(a, 28u, off2), bw4(a, 44u, off2),
        bw4(a, 48u, off2),
        f16_bits(select(wd & 0xffffu, wd >> 16u, off2)));
}
//#endif

// Scale byte j (i8) of a word.
fn sc8(word: u32, j: u32) -> f32 {
    return f32(extractBits(bitcast<i32>(word), 8u * j, 8u));
}

// Sixteen 6-bit values (0..63, w = d·sc·(q − 32)) against half h of x block xb.
fn q6_group(q: vec4<u32>, xb: u32, h: u32, dsc: f32) -> f32 {
    let xv = xq[2u * xb + h];
    let s = xs[xb];
    let i = dot16(q, xv)
          - 32 * s_half(s.s, h);
    return dsc * s.d * f32(i);
}

// One part: its four groups g meet x blocks xb + g, scales sc[8n + 2g + h] (bytes h and 2 + h
// of the scale words s0 = 2n, s1 = 2n + 1).
fn q6_part(la: vec4<u32>, lb: vec4<u32>, qh: vec4<u32>, s0: u32, s1: u32, h: u32, xb: u32, d: f32) -> f32 {
    let m2 = vec4<u32>(0x03030303u);
    let q1 = nibbles(la, 0u) | ((qh & m2) << vec4<u32>(4u));
    let q2 = nibbles(lb, 0u) | (((qh >> vec4<u32>(2u)) & m2) << vec4<u32>(4u));
    let q3 = nibbles(la, 4u) | (((qh >> vec4<u32>(4u)) & m2) << vec4<u32>(4u));
    let q4 = nibbles(lb, 4u) | (((qh >> vec4<u32>(6u)) & m2) << vec4<u32>(4u));
    return q6_group(q1, xb, h, d * sc8(s0, h)) + q6_group(q2, xb + 1u, h, d * sc8(s0, 2u + h))
         + q6_group(q3, xb + 2u, h, d * sc8(s1, h)) + q6_group(q4, xb + 3u, h, d * sc8(s1, 2u + h));
}

fn q6_dot(b: Q6, xb: u32) -> f32 {
    return q6_part(b.la0, b.lb0, b.qh0, b.sw.x, b.sw.y, 0u, xb, b.d)
         + q6_part(b.la1, b.lb1, b.qh1, b.sw.x, b.sw.y, 1u, xb, b.d)
         + q6_part(b.la2, b.lb2, b.qh2, b.sw.z, b.sw.w, 0u, xb + 4u, b.d)
         + q6_part(b.la3, b.lb3, b.qh3, b.sw.z, b.sw.w, 1u, xb + 4u, b.d);
}

alias Unit = Q6;
const UNIT_BLOCKS: u32 = 8u;

fn load_unit(base: u32, c: u32) -> Unit {
    return q6_load(base, c);
}

fn unit_dot(u: Unit, xb: u32) -> f32 {
    return q6_dot(u, xb);
}
//#else
// The formats of quant_q8_ext.wgsl (UNIT_EXT) define their units there.
//#if !UNIT_EXT
fn load_block(base: u32, c: u32) -> WBlock {
//#if FMT_Q4_0
    let blk = load18(base + 18u * c);
    return WBlock(blk.d, blk.q, vec4<u32>(), 0.0, 0u);
//#endif
//#if FMT_Q4_1
    // 20-byte blocks in rows of whole words: always word-aligned.
    let a = (base + 20u * c) >> 2u;
    return q41_block(w[a], w[a + 1u], w[a + 2u], w[a + 3u], w[a + 4u]);
//#endif
//#if FMT_Q5_1
    let a = (base + 24u * c) >> 2u;
    return q51_block(w[a], w[a + 1u], w[a + 2u], w[a + 3u], w[a + 4u], w[a + 5u]);
//#endif
//#if FMT_Q5_0
    let b = base + 22u * c;
    let a = b >> 2u;
    return q50_block(w[a], w[a + 1u], w[a + 2u], w[a + 3u], w[a + 4u], w[a + 5u], (b & 2u) != 0u);
//#endif
//#if FMT_Q8_0
    let b = base + 34u * c;
    let a = b >> 2u;
    let odd = (b & 2u) != 0u;
    let w0 = w[a];
    let w1 = w[a + 1u];
    let w2 = w[a + 2u];
    let w3 = w[a + 3u];
    let w4 = w[a + 4u];
    let w5 = w[a + 5u];
    let w6 = w[a + 6u];
    let w7 = w[a + 7u];
    let w8 = w[a + 8u];
    let d = f16_bits(select(w0 & 0xffffu, w0 >> 16u, odd));
    let q = vec4<u32>(qword(w0, w1, odd), qword(w1, w2, odd), qword(w2, w3, odd), qword(w3, w4, odd));
    let q2 = vec4<u32>(qword(w4, w5, odd), qword(w5, w6, odd), qword(w6, w7, odd), qword(w7, w8, odd));
    return WBlock(d, q, q2, 0.0, 0u);
//#endif
}

alias Unit = WBlock;
const UNIT_BLOCKS: u32 = 1u;

fn load_unit(base: u32, c: u32) -> Unit {
    return load_block(base, c);
}

fn unit_dot(u: Unit, xb: u32) -> f32 {
    return block_dot(u, xb, xs[xb]);
}
//#endif

//#endif
//#endif
//#endif

// One unit's sums for up to four tokens (tokens past M repeat the last one and are never
// written): x block x0 of the first token, `blocks` x blocks a token.
fn unit_sums(u: Unit, x0: u32, blocks: u32, last: u32) -> vec4<f32> {
//#if MT1
    return vec4<f32>(unit_dot(u, x0), 0.0, 0.0, 0.0);
//#else
    return vec4<f32>(
        unit_dot(u, x0),
        unit_dot(u, x0 + min(1u, last) * blocks),
        unit_dot(u, x0 + min(2u, last) * blocks),
        unit_dot(u, x0 + min(3u, last) * blocks));
//#endif
}

// Sums of the row's units c0, c0 + step, … (a unit: UNIT_BLOCKS blocks of 32, the format's
// load_unit / unit_dot above) for up to four tokens. The weights are loaded once for all tokens.
fn row_sums(base: u32, c0: u32, step: u32) -> vec4<f32> {
    let blocks = params.k / 32u;
    let last = params.m - 1u - params.m0;
    var acc = vec4<f32>();
    for (var c = c0; c < blocks / UNIT_BLOCKS; c += step) {
        acc += unit_sums(load_unit(base, c), params.m0 * blocks + UNIT_BLOCKS * c, blocks, last);
    }
    return acc;
}

fn store(row: u32, sums: vec4<f32>) {
    let mt = min(4u, params.m - params.m0);
    var acc = sums;
    if params.has_bias != 0u {
        acc += vec4<f32>(bias[min(row, arrayLength(&bias) - 1u)]);
    }
    y[params.m0 * params.n + row] = acc.x;
//#if !MT1
    if mt > 1u {
        y[(params.m0 + 1u) * params.n + row] = acc.y;
    }
    if mt > 2u {
        y[(params.m0 + 2u) * params.n + row] = acc.z;
    }
    if mt > 3u {
        y[(params.m0 + 3u) * params.n + row] = acc.w;
    }
//#endif
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) tid: u32,
) {
//#if ROW_PER_LANE
    // LANE_ROWS consecutive rows per invocation, their units met in turn: the unrolled copies
    // read the same x words, which the compiler may load once for all of them.
    let first = ((wid.y * params.groups_x + wid.x) * WG + tid) * LANE_ROWS;
    if first >= params.n {
        return;
    }
    let blocks = params.k / 32u;
    let last = params.m - 1u - params.m0;
    var acc: array<vec4<f32>, LANE_ROWS>;
    for (var c = 0u; c < blocks / UNIT_BLOCKS; c++) {
        let x0 = params.m0 * blocks + UNIT_BLOCKS * c;
//#unroll r LANE_ROWS
        acc[r] += unit_sums(load_unit(min(first + r, params.n - 1u) * params.row_bytes, c), x0, blocks, last);
//#end
    }
//#unroll r LANE_ROWS
    if first + r < params.n {
        store(first + r, acc[r]);
    }
//#end
//#else
    // The row is uniform across the workgroup, so an early return keeps barriers uniform.
    let row = wid.y * params.groups_x + wid.x;
    if row >= params.n {
        return;
    }
    let acc = row_sums(row * params.row_bytes, tid, WG);
    partial[tid] = acc.x;
    partial[WG + tid] = acc.y;
    partial[2u * WG + tid] = acc.z;
    partial[3u * WG + tid] = acc.w;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
        if tid < stride {
            for (var t = 0u; t < 4u; t++) {
                partial[t * WG + tid] += partial[t * WG + tid + stride];
            }
        }
        workgroupBarrier();
    }
    if tid == 0u {
        store(row, vec4<f32>(partial[0], partial[WG], partial[2u * WG], partial[3u * WG]));
    }
//#endif
}
//#endif
