// More formats for the int8 route of quant_q8.wgsl (composed after it, under its GEMV's
// bindings `w`, `xq`, `xs` — `wv`, `xq`, `xs2` under WIDE — and helpers): each defines the same
// Unit, UNIT_BLOCKS, load_unit and unit_dot, or under WIDE the `super_dot` of quant_q8.wgsl's
// vec4 unit. IQ4_NL and IQ4_XS codes become their int8 values by a 16-entry byte table held in
// four words (`lut`), MXFP4 and NVFP4 E2M1 codes by bit operations (`e2m1`); 2- and 3-bit
// codes (TQ2_0, Q3_K) by shifts and masks (TQ1_0's base-3 digits by a multiply per 16-bit
// lane), their offsets (−1, −4) meeting x's integer sums; FP8 values, not integers, meet x's
// int8 values in f32. Blocks at any byte offset (MXFP4's 17 bytes, I4G's 19/35/67) are read as
// funnels of two words (`words_at`, `words4`; MXFP4 under WIDE and I4G32 under WINDOW from
// their units' words).

//#if UNIT_EXT
// Bytes r .. r + 3 of the words lo, hi (r = 0..3): two shifts for hi, so r = 0 shifts it out
// (WGSL takes shift counts modulo 32).
fn funnel(lo: u32, hi: u32, r: u32) -> u32 {
    return (lo >> (8u * r)) | ((hi << (31u - 8u * r)) << 1u);
}

//#if !WIDE
//#if !WINDOW
// The word of W from byte b on (any alignment): a funnel of two words, the second read only
// when b is not word-aligned (so no read passes the last byte asked for).
fn words_at(b: u32, i: u32) -> u32 {
    let a = (b >> 2u) + i;
    let r = b & 3u;
    if r == 0u {
        return w[a];
    }
    return funnel(w[a], w[a + 1u], r);
}

// The four words from byte b + 4i of W on: five loads, the fifth only when b is not
// word-aligned.
fn words4(b: u32, i: u32) -> vec4<u32> {
    let a = (b >> 2u) + i;
    let r = b & 3u;
    let w0 = w[a];
    let w1 = w[a + 1u];
    let w2 = w[a + 2u];
    let w3 = w[a + 3u];
    var w4 = 0u;
    if r != 0u {
        w4 = w[a + 4u];
    }
    return vec4<u32>(funnel(w0, w1, r), funnel(w1, w2, r), funnel(w2, w3, r), funnel(w3, w4, r));
}
//#endif
//#endif

// Each byte of n (a 4-bit index) replaced by entry n of the 16-byte table t (four words, entry
// e in byte e % 4 of word e / 4).
fn lut(n: vec4<u32>, t: vec4<u32>) -> vec4<u32> {
    var out = vec4<u32>();
    for (var j = 0u; j < 4u; j++) {
        let idx = (n >> vec4<u32>(8u * j)) & vec4<u32>(15u);
        let hi = (idx & vec4<u32>(8u)) != vec4<u32>(0u);
        let mid = (idx & vec4<u32>(4u)) != vec4<u32>(0u);
        let word = select(select(vec4<u32>(t.x), vec4<u32>(t.y), mid),
                          select(vec4<u32>(t.z), vec4<u32>(t.w), mid), hi);
        let byte = (word >> ((idx & vec4<u32>(3u)) * vec4<u32>(8u))) & vec4<u32>(0xffu);
        out |= byte << vec4<u32>(8u * j);
    }
    return out;
}

// IQ4_NL / IQ4_XS values (−127 … 113) as bytes.
const IQ4_TABLE = vec4<u32>(0xbfad9881u, 0xf6eaddcfu, 0x26190d01u, 0x71594535u);

// 16 bytes of 4-bit codes (element e < 16 the low nibble of byte e, e + 16 the high one)
// against x block xb through table t: Σ value·x in i32.
fn lut_dot(q: vec4<u32>, t: vec4<u32>, xb: u32) -> i32 {
    return dot16(lut(nibbles(q, 0u), t), xq[2u * xb]) + dot16(lut(nibbles(q, 4u), t), xq[2u * xb + 1u]);
}

// −v in every byte of v (each byte below 0x80): no borrow crosses a byte. Of bytes 0 or 1, byte
// masks (a multiply by 255 would be a vpmulld on lavapipe: shaders/README.md).
fn neg_bytes(v: vec4<u32>) -> vec4<u32> {
    let h = vec4<u32>(0x80808080u);
    return (h - v) ^ h;
}

// E2M1 codes (one a byte, 0..15) as their values doubled (0, 1, 2, 3, 4, 6, 8, 12, negated
// by bit 3) in int8, by bit operations on whole words (a quarter of lut's): a magnitude code
// c < 4 is its own value, else (2 + bit 0) << (1 + bit 1).
fn e2m1(n: vec4<u32>) -> vec4<u32> {
    let one = vec4<u32>(0x01010101u);
    let c = n & vec4<u32>(0x07070707u);
    let base2 = ((n & one) | vec4<u32>(0x02020202u)) << vec4<u32>(1u);
    let big = base2 + (base2 & neg_bytes((n >> vec4<u32>(1u)) & one));
    let v = c ^ ((c ^ big) & neg_bytes((n >> vec4<u32>(2u)) & one));
    return v ^ ((v ^ neg_bytes(v)) & neg_bytes((n >> vec4<u32>(3u)) & one));
}

// lut_dot for E2M1 codes (MXFP4, NVFP4).
fn fp4_dot(q: vec4<u32>, xb: u32) -> i32 {
    return dot16(e2m1(nibbles(q, 0u)), xq[2u * xb]) + dot16(e2m1(nibbles(q, 4u)), xq[2u * xb + 1u]);
}
//#endif

//#if FMT_IQ4_NL
// IQ4_NL: d: f16, 16 bytes of indices (Q4_0's layout: quant_q8.wgsl's load18).
fn load_unit(base: u32, c: u32) -> Block18 {
    return load18(base + 18u * c);
}

fn unit_dot(u: Block18, xb: u32) -> f32 {
    return (u.d * xs[xb].d) * f32(lut_dot(u.q, IQ4_TABLE, xb));
}

alias Unit = Block18;
const UNIT_BLOCKS: u32 = 1u;
//#endif

//#if FMT_MXFP4
// MXFP4: an E8M0 exponent byte, 16 bytes of E2M1 codes; 17-byte blocks at any offset.

// 2^(e − 128) for the exponent byte e (the E2M1 values are doubled): subnormal below e = 2.
fn e8m0_half(e: u32) -> f32 {
    return bitcast<f32>(select(0x00200000u << e, (e - 1u) << 23u, e >= 2u));
}

//#if WIDE
// Sixteen blocks (272 bytes, rows a multiple of it: K % 512 == 0) as the 17 vec4 words of
// quant_q8.wgsl's Super. Block j: exponent byte e (the low byte of the shifted word `ew`),
// codes from byte r of w0 on, against x block xb of scale dx.
fn mx_blk(ew: u32, w0: u32, w1: u32, w2: u32, w3: u32, w4: u32, r: u32, xb: u32, dx: f32, xsum: i32) -> f32 {
    let q = vec4<u32>(funnel(w0, w1, r), funnel(w1, w2, r), funnel(w2, w3, r), funnel(w3, w4, r));
    // The values lifted by 128 meet x as unsigned bytes (`dot16u`: CPU-type adapters only
    // take this form), the lift taken back through x's block sum.
    let lift = vec4<u32>(0x80808080u);
    let i = dot16u(e2m1(nibbles(q, 0u)) ^ lift, xq[2u * xb]) + dot16u(e2m1(nibbles(q, 4u)) ^ lift, xq[2u * xb + 1u])
          - 128 * xsum;
    return (e8m0_half(ew & 0xffu) * dx) * f32(i);
}

// Block j at byte 17j: exponent in word 17j / 4 at byte j % 4, codes from byte 17j + 1 on
// (their fifth word needed only when they do not start a word: the last block's stays in the
// unit).
fn mx_at(g: Super, j: u32, xb: u32, dx: f32, xsum: i32) -> f32 {
    let e = 17u * j;
    let w = (e + 1u) >> 2u;
    let w4 = sw(g, min(w + 4u, 4u * SW - 1u));
    let ew = sw(g, e >> 2u) >> (8u * (e & 3u));
    return mx_blk(ew, sw(g, w), sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), w4, (e + 1u) & 3u, xb + j, dx, xsum);
}

// Sixteen blocks against the token's x blocks xb .. xb + 16, a pair (one x scale load) at a
// time.
fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 8
    {
        let s = xs2[xb / 2u + p];
        acc += mx_at(g, 2u * p, xb, bitcast<f32>(s.x), s_all(s.y));
        acc += mx_at(g, 2u * p + 1u, xb, bitcast<f32>(s.z), s_all(s.w));
    }
//#end
    return acc;
}
//#else
struct Mx {
    d: f32,
    q: vec4<u32>,
}

fn load_unit(base: u32, c: u32) -> Mx {
    let b = base + 17u * c;
    return Mx(e8m0_half(words_at(b, 0u) & 0xffu), words4(b + 1u, 0u));
}

fn unit_dot(u: Mx, xb: u32) -> f32 {
    return (u.d * xs[xb].d) * f32(fp4_dot(u.q, xb));
}

alias Unit = Mx;
const UNIT_BLOCKS: u32 = 1u;
//#endif
//#endif

//#if FMT_NVFP4
// NVFP4: four UE4M3 scales (one per 16), then per 16 eight bytes of E2M1 codes, element j the
// low and j + 8 the high nibble of byte j; 36-byte blocks, word-aligned.
struct Nv {
    sc: u32,
    q0: vec4<u32>,
    q1: vec4<u32>,
}

//#if WINDOW
// Rows a multiple of 16 bytes (K % 256 == 0): block c starts at word q = c % 4 of vec4 word
// 2c + c / 4 of its row, and the three from there hold it (3 loads instead of 9).
fn load_unit(base: u32, c: u32) -> Nv {
    let at = window_at(base + 36u * c);
    let a = at.a;
    let q = at.q;
    let v0 = wv[a];
    let v1 = wv[a + 1u];
    let v2 = wv[a + 2u];
    let sc = select(select(v0.x, v0.y, q == 1u), select(v0.z, v0.w, q == 3u), q >= 2u);
    // Block words 1 .. 4 and 5 .. 8: window words q + 1 .. (a whole vec4 when q = 3).
    return Nv(sc, select(window4(v0, v1, q + 1u, false), v1, q == 3u),
              select(window4(v1, v2, q + 1u, false), v2, q == 3u));
}
//#else
fn load_unit(base: u32, c: u32) -> Nv {
    let a = (base + 36u * c) >> 2u;
    return Nv(w[a], vec4<u32>(w[a + 1u], w[a + 2u], w[a + 3u], w[a + 4u]),
              vec4<u32>(w[a + 5u], w[a + 6u], w[a + 7u], w[a + 8u]));
}
//#endif

// UE4M3 byte x as a scale, halved (the E2M1 values are doubled); 0x7f (NaN) reads as 0.
fn ue4m3_half(x: u32) -> f32 {
    let e = (x >> 3u) & 15u;
    let m = x & 7u;
    let normal = bitcast<f32>(((e + 119u) << 23u) | (m << 20u));
    return select(select(normal, f32(m) * (1.0 / 1024.0), e == 0u), 0.0, x == 0x7fu);
}

// Sub-block s of 16 (two words of codes) against half h of x block xb.
fn nv_half(p0: u32, p1: u32, s: u32, xb: u32, h: u32) -> f32 {
    let v = vec4<u32>(p0, p1, p0 >> 4u, p1 >> 4u) & vec4<u32>(0x0f0f0f0fu);
    let xsc = xs[xb];
//#if WINDOW
    // CPU-type adapters: the values lifted by 128 meet x as unsigned bytes (`dot16u`), the
    // lift taken back through the half's sum.
    let i = dot16u(e2m1(v) ^ vec4<u32>(0x80808080u), xq[2u * xb + h]) - 128 * s_half(xsc.s, h);
//#else
    let i = dot16(e2m1(v), xq[2u * xb + h]);
//#endif
    return ue4m3_half((s >> 0u) & 0xffu) * xsc.d * f32(i);
}

fn unit_dot(u: Nv, xb: u32) -> f32 {
    return nv_half(u.q0.x, u.q0.y, u.sc, xb, 0u) + nv_half(u.q0.z, u.q0.w, u.sc >> 8u, xb, 1u)
         + nv_half(u.q1.x, u.q1.y, u.sc >> 16u, xb + 1u, 0u)
         + nv_half(u.q1.z, u.q1.w, u.sc >> 24u, xb + 1u, 1u);
}

alias Unit = Nv;
const UNIT_BLOCKS: u32 = 2u;
//#endif

//#if FMT_IQ4_XS
// IQ4_XS: d: f16, scales_h: u16, scales_l: 4 bytes, 128 bytes of indices (sub-block ib: bytes
// 16ib .. 16ib + 16, IQ4_NL's order); 136-byte super-blocks, word-aligned. (Fields and calls
// are written out: arrays indexed in loops were spilled to memory on lavapipe, 2× slower.)
struct Xs {
    d: f32,
    sh: u32,
    sl: u32,
    q0: vec4<u32>, q1: vec4<u32>, q2: vec4<u32>, q3: vec4<u32>,
    q4: vec4<u32>, q5: vec4<u32>, q6: vec4<u32>, q7: vec4<u32>,
}

//#if WINDOW
// Rows a multiple of 16 bytes (K % 512 == 0), read as vec4 words (CPU-type adapters: a load
// instruction costs a per-lane loop whatever its width, shaders/README.md): super-block c
// starts 8(c % 2) bytes into vec4 word 8c + c / 2 of its row, and the nine from there hold it
// (9 loads instead of 34).
fn xs_quad(a: vec4<u32>, b: vec4<u32>, half: bool) -> vec4<u32> {
    return select(vec4<u32>(a.zw, b.xy), b, half);
}

fn load_unit(base: u32, c: u32) -> Xs {
    let at = window_at(base + 136u * c);
    let a = at.a;
    let half = at.q == 2u;
    let v0 = wv[a];
    let v1 = wv[a + 1u];
    let v2 = wv[a + 2u];
    let v3 = wv[a + 3u];
    let v4 = wv[a + 4u];
    let v5 = wv[a + 5u];
    let v6 = wv[a + 6u];
    let v7 = wv[a + 7u];
    let v8 = wv[a + 8u];
    let h = select(v0.xy, v0.zw, half);
    return Xs(f16_bits(h.x & 0xffffu), h.x >> 16u, h.y,
              xs_quad(v0, v1, half), xs_quad(v1, v2, half), xs_quad(v2, v3, half),
              xs_quad(v3, v4, half), xs_quad(v4, v5, half), xs_quad(v5, v6, half),
              xs_quad(v6, v7, half), xs_quad(v7, v8, half));
}
//#else
fn xs_words(a: u32) -> vec4<u32> {
    return vec4<u32>(w[a], w[a + 1u], w[a + 2u], w[a + 3u]);
}

fn load_unit(base: u32, c: u32) -> Xs {
    let a = (base + 136u * c) >> 2u;
    let w0 = w[a];
    return Xs(f16_bits(w0 & 0xffffu), w0 >> 16u, w[a + 1u],
              xs_words(a + 2u), xs_words(a + 6u), xs_words(a + 10u), xs_words(a + 14u),
              xs_words(a + 18u), xs_words(a + 22u), xs_words(a + 26u), xs_words(a + 30u));
}
//#endif

// Sub-block ib (indices q) against x block xb + ib: scale d·(ls − 32), ls 6 bits.
fn xs_sub(u: Xs, q: vec4<u32>, ib: u32, xb: u32) -> f32 {
    let ls = ((u.sl >> (4u * ib)) & 15u) | (((u.sh >> (2u * ib)) & 3u) << 4u);
    let xsc = xs[xb + ib];
//#if WINDOW
    // CPU-type adapters: the table's values lifted by 128 meet x as unsigned bytes
    // (`dot16u`), the lift taken back through x's block sum.
    let lift = vec4<u32>(0x80808080u);
    let t = IQ4_TABLE ^ lift;
    let i = dot16u(lut(nibbles(q, 0u), t), xq[2u * (xb + ib)]) + dot16u(lut(nibbles(q, 4u), t), xq[2u * (xb + ib) + 1u])
          - 128 * s_all(xsc.s);
//#else
    let i = lut_dot(q, IQ4_TABLE, xb + ib);
//#endif
    return (u.d * f32(i32(ls) - 32)) * xsc.d * f32(i);
}

fn unit_dot(u: Xs, xb: u32) -> f32 {
    return xs_sub(u, u.q0, 0u, xb) + xs_sub(u, u.q1, 1u, xb) + xs_sub(u, u.q2, 2u, xb)
         + xs_sub(u, u.q3, 3u, xb) + xs_sub(u, u.q4, 4u, xb) + xs_sub(u, u.q5, 5u, xb)
         + xs_sub(u, u.q6, 6u, xb) + xs_sub(u, u.q7, 7u, xb);
}

alias Unit = Xs;
const UNIT_BLOCKS: u32 = 8u;
//#endif

//#if FMT_TQ2_0
// TQ2_0: 64 bytes of 2-bit codes (x block 4h + j: bits 2j of bytes 32h .. 32h + 32), d: f16;
// w = d·(code − 1). 66-byte blocks at even offsets.
struct Tq2 {
    q0: vec4<u32>, q1: vec4<u32>, q2: vec4<u32>, q3: vec4<u32>,
    d: f32,
}

fn load_unit(base: u32, c: u32) -> Tq2 {
    let b = base + 66u * c;
    // d is bytes 64..65, in the word holding byte 64 (b is even).
    let wd = w[(b + 64u) >> 2u];
    return Tq2(words4(b, 0u), words4(b, 4u), words4(b, 8u), words4(b, 12u),
               f16_bits(select(wd & 0xffffu, wd >> 16u, (b & 2u) != 0u)));
}

// x block xb against bits `shift` of the 32 code bytes (lo: elements 0..15, hi: 16..31).
fn tq2_block(lo: vec4<u32>, hi: vec4<u32>, shift: u32, xb: u32, d: f32) -> f32 {
    let m2 = vec4<u32>(0x03030303u);
    let s = xs[xb];
    let i = dot16((lo >> vec4<u32>(shift)) & m2, xq[2u * xb])
          + dot16((hi >> vec4<u32>(shift)) & m2, xq[2u * xb + 1u])
          - s_all(s.s);
    return (d * s.d) * f32(i);
}

fn unit_dot(u: Tq2, xb: u32) -> f32 {
    return tq2_block(u.q0, u.q1, 0u, xb, u.d) + tq2_block(u.q0, u.q1, 2u, xb + 1u, u.d)
         + tq2_block(u.q0, u.q1, 4u, xb + 2u, u.d) + tq2_block(u.q0, u.q1, 6u, xb + 3u, u.d)
         + tq2_block(u.q2, u.q3, 0u, xb + 4u, u.d) + tq2_block(u.q2, u.q3, 2u, xb + 5u, u.d)
         + tq2_block(u.q2, u.q3, 4u, xb + 6u, u.d) + tq2_block(u.q2, u.q3, 6u, xb + 7u, u.d);
}

alias Unit = Tq2;
const UNIT_BLOCKS: u32 = 8u;
//#endif

//#if FMT_TQ1_0
// TQ1_0: 48 bytes of five base-3 digits each, 4 bytes of four, d: f16; element 32p + l is digit
// p of byte l < 32, 160 + 16p + l digit p of byte 32 + l, 240 + 4p + l digit p of byte 48 + l;
// w = d·(digit − 1). Digit p of byte v is ((v·3^p mod 256)·3) >> 8. 54-byte blocks at even
// offsets.
struct Tq1 {
    a0: vec4<u32>, a1: vec4<u32>,
    b: vec4<u32>,
    c: u32,
    d: f32,
}

fn load_unit(base: u32, c: u32) -> Tq1 {
    let b = base + 54u * c;
    // d is bytes 52..53, in the word holding byte 52 (b is even).
    let wd = w[(b + 52u) >> 2u];
    return Tq1(words4(b, 0u), words4(b, 4u), words4(b, 8u), words_at(b, 12u),
               f16_bits(select(wd & 0xffffu, wd >> 16u, (b & 2u) != 0u)));
}

// Digit p (multiplier m = 3^p) of each byte of the four words, one a byte: bytes 0 and 2, then
// 1 and 3, in 16-bit lanes (v·m < 2¹⁶, (v·m mod 256)·3 < 2¹⁰: no carry between lanes).
fn trits(v: vec4<u32>, m: u32) -> vec4<u32> {
    let lanes = vec4<u32>(0x00ff00ffu);
    let even = (((v & lanes) * m) & lanes) * 3u;
    let odd = ((((v >> vec4<u32>(8u)) & lanes) * m) & lanes) * 3u;
    let two = vec4<u32>(0x00030003u);
    return ((even >> vec4<u32>(8u)) & two) | (odd & (two << vec4<u32>(8u)));
}

// x block xb against digits lo (elements 0..15) and hi (16..31), all minus 1.
fn tq1_block(lo: vec4<u32>, hi: vec4<u32>, xb: u32, d: f32) -> f32 {
    let s = xs[xb];
    let i = dot16(lo, xq[2u * xb]) + dot16(hi, xq[2u * xb + 1u]) - s_all(s.s);
    return (d * s.d) * f32(i);
}

fn unit_dot(u: Tq1, xb: u32) -> f32 {
    let d = u.d;
    var acc = tq1_block(trits(u.a0, 1u), trits(u.a1, 1u), xb, d)
            + tq1_block(trits(u.a0, 3u), trits(u.a1, 3u), xb + 1u, d)
            + tq1_block(trits(u.a0, 9u), trits(u.a1, 9u), xb + 2u, d)
            + tq1_block(trits(u.a0, 27u), trits(u.a1, 27u), xb + 3u, d)
            + tq1_block(trits(u.a0, 81u), trits(u.a1, 81u), xb + 4u, d);
    // Bytes 32..47: digits 0, 1 (x block 5), 2, 3 (block 6), 4 (first half of block 7).
    acc += tq1_block(trits(u.b, 1u), trits(u.b, 3u), xb + 5u, d)
         + tq1_block(trits(u.b, 9u), trits(u.b, 27u), xb + 6u, d);
    // Block 7's second half: digit p of the last four bytes is its word p.
    let c = vec4<u32>(u.c);
    let last = vec4<u32>(trits(c, 1u).x, trits(c, 3u).x, trits(c, 9u).x, trits(c, 27u).x);
    return acc + tq1_block(trits(u.b, 81u), last, xb + 7u, d);
}

alias Unit = Tq1;
const UNIT_BLOCKS: u32 = 8u;
//#endif

//#if FMT_Q3_K
// Q3_K: hmask[32] (x block g: bit g), qs[64] (as TQ2_0's), 12 bytes of 6-bit scales (offset
// 32, one per 16), d: f16; q = low2 + 4·high − 4. 110-byte blocks at even offsets.
struct Q3 {
    hm0: vec4<u32>, hm1: vec4<u32>,
    q0: vec4<u32>, q1: vec4<u32>, q2: vec4<u32>, q3: vec4<u32>,
    sc: vec4<u32>,
    d: f32,
}

//#if WINDOW
// Rows a multiple of 16 bytes (K % 2048 == 0): block c starts s = 110c mod 16 bytes (even)
// into vec4 word ⌊110c / 16⌋ of its row, and the eight from there hold it (8 loads instead of
// 37). The eighth is needed only when s > 2; it is clamped to the row's last vec4 word (its
// words then unused) so the last block of the last row reads nothing past the row.
fn load_unit(base: u32, c: u32) -> Q3 {
    let at = window_at(base + 110u * c);
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
    let v7 = wv[min(a + 7u, (base + params.row_bytes) / 16u - 1u)];
    // Words 24 .. 27: the scale words, then d in the low half of word 27 (bytes 108, 109).
    let t = window4(v6, v7, q, odd);
    return Q3(window4(v0, v1, q, odd), window4(v1, v2, q, odd),
              window4(v2, v3, q, odd), window4(v3, v4, q, odd), window4(v4, v5, q, odd),
              window4(v5, v6, q, odd), q3_scales(t.x, t.y, t.z), f16_bits(t.w & 0xffffu));
}
//#else
fn load_unit(base: u32, c: u32) -> Q3 {
    let b = base + 110u * c;
    let w0 = words_at(b, 24u);
    let w1 = words_at(b, 25u);
    let w2 = words_at(b, 26u);
    // d is bytes 108..109, in the word holding byte 108 (b is even).
    let wd = w[(b + 108u) >> 2u];
    return Q3(words4(b, 0u), words4(b, 4u),
              words4(b, 8u), words4(b, 12u), words4(b, 16u), words4(b, 20u),
              q3_scales(w0, w1, w2), f16_bits(select(wd & 0xffffu, wd >> 16u, (b & 2u) != 0u)));
}
//#endif

// The 16 scales from the block's words 24 .. 26: scale s takes its low 4 bits from nibble
// s / 8 of byte s % 8, its high 2 bits from bits 2(s / 4) of byte 8 + s % 4.
fn q3_scales(w0: u32, w1: u32, w2: u32) -> vec4<u32> {
    let l4 = 0x0f0f0f0fu;
    let h2 = 0x03030303u;
    return vec4<u32>(
        (w0 & l4) | ((w2 & h2) << 4u),
        (w1 & l4) | (((w2 >> 2u) & h2) << 4u),
        ((w0 >> 4u) & l4) | (((w2 >> 4u) & h2) << 4u),
        ((w1 >> 4u) & l4) | (((w2 >> 6u) & h2) << 4u));
}

// Byte j of word v as a scale: d·(v_j − 32).
fn q3_sc(v: u32, j: u32, d: f32) -> f32 {
    return d * f32(i32((v >> (8u * j)) & 0xffu) - 32);
}

// x block xb + g (g = 4h + j): bits 2j of the code bytes (lo, hi), bit g of hmask, the
// half scales s0, s1.
fn q3_block(u: Q3, lo: vec4<u32>, hi: vec4<u32>, g: u32, xb: u32, s0: f32, s1: f32) -> f32 {
    let shift = vec4<u32>(2u * (g % 4u));
    let m2 = vec4<u32>(0x03030303u);
    let one = vec4<u32>(0x01010101u);
    let hb = vec4<u32>(g);
    let ql = ((lo >> shift) & m2) | (((u.hm0 >> hb) & one) << vec4<u32>(2u));
    let qh = ((hi >> shift) & m2) | (((u.hm1 >> hb) & one) << vec4<u32>(2u));
    let s = xs[xb + g];
    let i0 = dot16(ql, xq[2u * (xb + g)]) - 4 * s_half(s.s, 0u);
    let i1 = dot16(qh, xq[2u * (xb + g) + 1u]) - 4 * s_half(s.s, 1u);
    return s.d * (s0 * f32(i0) + s1 * f32(i1));
}

fn unit_dot(u: Q3, xb: u32) -> f32 {
    let d = u.d;
    return q3_block(u, u.q0, u.q1, 0u, xb, q3_sc(u.sc.x, 0u, d), q3_sc(u.sc.x, 1u, d))
         + q3_block(u, u.q0, u.q1, 1u, xb, q3_sc(u.sc.x, 2u, d), q3_sc(u.sc.x, 3u, d))
         + q3_block(u, u.q0, u.q1, 2u, xb, q3_sc(u.sc.y, 0u, d), q3_sc(u.sc.y, 1u, d))
         + q3_block(u, u.q0, u.q1, 3u, xb, q3_sc(u.sc.y, 2u, d), q3_sc(u.sc.y, 3u, d))
         + q3_block(u, u.q2, u.q3, 4u, xb, q3_sc(u.sc.z, 0u, d), q3_sc(u.sc.z, 1u, d))
         + q3_block(u, u.q2, u.q3, 5u, xb, q3_sc(u.sc.z, 2u, d), q3_sc(u.sc.z, 3u, d))
         + q3_block(u, u.q2, u.q3, 6u, xb, q3_sc(u.sc.w, 0u, d), q3_sc(u.sc.w, 1u, d))
         + q3_block(u, u.q2, u.q3, 7u, xb, q3_sc(u.sc.w, 2u, d), q3_sc(u.sc.w, 3u, d));
}

alias Unit = Q3;
const UNIT_BLOCKS: u32 = 8u;
//#endif

//#if FMT_I4G
// lowbit's I4G layouts: d: f16, z: u8, G/2 bytes of nibbles (Q4_0's order per 32);
// w = d·(q − z). 19/35/67-byte blocks at any offset; a unit is one block (I4G_BLOCKS
// = G/32 x blocks, fields past it unused).
//#if WINDOW
// I4G32 on CPU-type adapters (K % 512 == 0: rows of whole 16-byte words): sixteen blocks (304
// bytes) through 19 vec4 loads instead of six or seven word loads a block. Block j starts at
// byte 19j, so the words holding its fields and the funnels' shifts are constants once the
// unrolled calls are inlined; the twentieth vec4 stays zero (only the last block's last
// funnel meets it, and shifts it out).
struct I4W {
    v: array<vec4<u32>, 20>,
}

fn load_unit(base: u32, c: u32) -> I4W {
    let a = base / 16u + 19u * c;
    var u: I4W;
//#unroll i 19
    u.v[i] = wv[a + i];
//#end
    return u;
}

// The four bytes of the unit from byte o on.
fn i4w_word(u: I4W, o: u32) -> u32 {
    let k = o >> 2u;
    return funnel(u.v[k >> 2u][k & 3u], u.v[(k + 1u) >> 2u][(k + 1u) & 3u], o & 3u);
}

// Block j of the unit against x block xb + j.
fn i4w_block(u: I4W, j: u32, xb: u32) -> f32 {
    let o = 19u * j;
    let head = i4w_word(u, o);
    let q = vec4<u32>(i4w_word(u, o + 3u), i4w_word(u, o + 7u), i4w_word(u, o + 11u), i4w_word(u, o + 15u));
    let b = xb + j;
    let s = xs[b];
    let i = dot16(nibbles(q, 0u), xq[2u * b]) + dot16(nibbles(q, 4u), xq[2u * b + 1u])
          - i32((head >> 16u) & 0xffu) * s_all(s.s);
    return (f16_bits(head & 0xffffu) * s.d) * f32(i);
}

fn unit_dot(u: I4W, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll j 16
    acc += i4w_block(u, j, xb);
//#end
    return acc;
}

alias Unit = I4W;
const UNIT_BLOCKS: u32 = 16u;
//#else
struct I4 {
    d: f32,
    z: i32,
    q0: vec4<u32>, q1: vec4<u32>, q2: vec4<u32>, q3: vec4<u32>,
}

fn load_unit(base: u32, c: u32) -> I4 {
    let b = base + (3u + 16u * I4G_BLOCKS) * c;
    let head = words_at(b, 0u);
    var u = I4(f16_bits(head & 0xffffu), i32((head >> 16u) & 0xffu),
               words4(b + 3u, 0u), vec4<u32>(), vec4<u32>(), vec4<u32>());
    if I4G_BLOCKS > 1u {
        u.q1 = words4(b + 3u, 4u);
    }
    if I4G_BLOCKS > 2u {
        u.q2 = words4(b + 3u, 8u);
        u.q3 = words4(b + 3u, 12u);
    }
    return u;
}

// 16 bytes of nibbles (32 elements, Q4_0's order) against x block xb.
fn i4_block(u: I4, v: vec4<u32>, xb: u32) -> f32 {
    let s = xs[xb];
    let i = dot16(nibbles(v, 0u), xq[2u * xb]) + dot16(nibbles(v, 4u), xq[2u * xb + 1u]) - u.z * s_all(s.s);
    return (u.d * s.d) * f32(i);
}

fn unit_dot(u: I4, xb: u32) -> f32 {
    var acc = i4_block(u, u.q0, xb);
    if I4G_BLOCKS > 1u {
        acc += i4_block(u, u.q1, xb + 1u);
    }
    if I4G_BLOCKS > 2u {
        acc += i4_block(u, u.q2, xb + 2u) + i4_block(u, u.q3, xb + 3u);
    }
    return acc;
}

alias Unit = I4;
const UNIT_BLOCKS: u32 = I4G_BLOCKS;
//#endif
//#endif

//#if FP8
// lowbit's FP8 layouts: the row's f32 scale, then 32 E4M3 or E5M2 codes; 36-byte blocks,
// word-aligned. FP8 values are not integers, so these weights meet x's int8 values in f32:
// four codes of a word decoded at once by integer operations (subnormals exact, where
// unpack2x16float may flush them), w = scale·value as the reference decodes it.
//#if !WIDE
struct F8 {
    scale: f32,
    q0: vec4<u32>,
    q1: vec4<u32>,
}

fn load_unit(base: u32, c: u32) -> F8 {
    let a = (base + 36u * c) >> 2u;
    return F8(bitcast<f32>(w[a]), vec4<u32>(w[a + 1u], w[a + 2u], w[a + 3u], w[a + 4u]),
              vec4<u32>(w[a + 5u], w[a + 6u], w[a + 7u], w[a + 8u]));
}
//#endif

// The values of the four codes of a word.
fn fp8x4(v: u32) -> vec4<f32> {
    let c = (vec4<u32>(v) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(0xffu);
    let mag = c & vec4<u32>(0x7fu);
//#if FMT_F8E4M3
    // Normal codes: exponent and mantissa moved into f32's fields, rebiased by 120; codes below
    // 8 are subnormal, m·2⁻⁹. NaN codes (S.1111.111) read as ±480 here: f8_nan makes their
    // blocks NaN.
    let normal = bitcast<vec4<f32>>((mag << vec4<u32>(20u)) + vec4<u32>(120u << 23u));
    let f = select(normal, vec4<f32>(mag) * 0.001953125, mag < vec4<u32>(8u));
//#else
    // E5M2 has f16's exponent bias: rebiased by 112, its top exponent (infinity, NaN) to 255;
    // codes below 4 are subnormal, m·2⁻¹⁶.
    let normal = bitcast<vec4<f32>>((mag << vec4<u32>(21u)) + vec4<u32>(112u << 23u));
    let top = bitcast<vec4<f32>>((mag << vec4<u32>(21u)) | vec4<u32>(0x7f800000u));
    let f = select(select(normal, top, mag >= vec4<u32>(0x7cu)), vec4<f32>(mag) * (1.0 / 65536.0),
                   mag < vec4<u32>(4u));
//#endif
    // The sign bit into f32's.
    return bitcast<vec4<f32>>(bitcast<vec4<u32>>(f) | ((c & vec4<u32>(0x80u)) << vec4<u32>(24u)));
}

//#if F16CVT
// CPU-type adapters (F16CVT), where unpack2x16float is an F16C conversion that keeps f16
// subnormals (`lowbit validate --probes`): the codes widened to f16 bits, two a word (codes 0
// and 2, then 1 and 3). E5M2 is an f16's high byte; E4M3 the f16 of its value times 2⁻⁸
// (F8_LIFT restores it after the sum, exactly): s.eeee.mmm becomes s.0eeee.mmm0000000 by one
// add (the sign bit, doubled, carries from bit 14 into 15) and one shift. E4M3's NaN codes
// read as ±1.875 there; f8_nan makes their blocks NaN. The same values, in the same order, as
// fp8x4 above: the same sums, a fraction of the operations.
fn f8_values(v: u32) -> vec4<f32> {
//#if FMT_F8E4M3
    let p = v & 0x00ff00ffu;
    let q = (v >> 8u) & 0x00ff00ffu;
    let a = unpack2x16float((p + (p & 0x00800080u)) << 7u);
    let b = unpack2x16float((q + (q & 0x00800080u)) << 7u);
//#else
    let a = unpack2x16float((v & 0x00ff00ffu) << 8u);
    let b = unpack2x16float(v & 0xff00ff00u);
//#endif
    return vec4<f32>(a.x, b.x, a.y, b.y);
}

//#if FMT_F8E4M3
const F8_LIFT: f32 = 256.0;
//#else
const F8_LIFT: f32 = 1.0;
//#endif
//#else
fn f8_values(v: u32) -> vec4<f32> {
    return fp8x4(v);
}

const F8_LIFT: f32 = 1.0;
//#endif

// The four int8 values of x in a word, as f32.
fn x4(v: u32) -> vec4<f32> {
    return vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(v) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u));
}

fn f8_dot(q: vec4<u32>, xv: vec4<u32>) -> f32 {
    return dot(f8_values(q.x), x4(xv.x)) + dot(f8_values(q.y), x4(xv.y))
         + dot(f8_values(q.z), x4(xv.z)) + dot(f8_values(q.w), x4(xv.w));
}

//#if FMT_F8E4M3
// Whether any of the 32 codes is NaN (low seven bits all set: adding one sets bit 7 of that
// byte only, no carry leaves a byte).
fn f8_nan(q0: vec4<u32>, q1: vec4<u32>) -> bool {
    let low = vec4<u32>(0x7f7f7f7fu);
    let one = vec4<u32>(0x01010101u);
    let t = (((q0 & low) + one) | ((q1 & low) + one)) & vec4<u32>(0x80808080u);
    return (t.x | t.y | t.z | t.w) != 0u;
}
//#endif

// One block (scale word, two vec4 of codes) against x block xb of scale dx.
fn f8_block(scale: u32, q0: vec4<u32>, q1: vec4<u32>, xb: u32, dx: f32) -> f32 {
    let s = f8_dot(q0, xq[2u * xb]) + f8_dot(q1, xq[2u * xb + 1u]);
    let r = bitcast<f32>(scale) * dx * (s * F8_LIFT);
//#if FMT_F8E4M3
    return select(r, bitcast<f32>(0x7fc00000u), f8_nan(q0, q1));
//#endif
    return r;
}

//#if WIDE
// Four blocks (144 bytes, rows a multiple of it: K % 128 == 0) as the nine vec4 words of
// quant_q8.wgsl's Super: block j in words 9j .. 9j + 8 (scale, then 32 codes).
fn f8_at(g: Super, j: u32, xb: u32, dx: f32) -> f32 {
    let w = 9u * j;
    let q0 = vec4<u32>(sw(g, w + 1u), sw(g, w + 2u), sw(g, w + 3u), sw(g, w + 4u));
    let q1 = vec4<u32>(sw(g, w + 5u), sw(g, w + 6u), sw(g, w + 7u), sw(g, w + 8u));
    return f8_block(sw(g, w), q0, q1, xb + j, dx);
}

fn super_dot(g: Super, xb: u32) -> f32 {
    var acc = 0.0;
//#unroll p 2
    {
        let s = xs2[xb / 2u + p];
        acc += f8_at(g, 2u * p, xb, bitcast<f32>(s.x));
        acc += f8_at(g, 2u * p + 1u, xb, bitcast<f32>(s.z));
    }
//#end
    return acc;
}
//#else
fn unit_dot(u: F8, xb: u32) -> f32 {
    return f8_block(bitcast<u32>(u.scale), u.q0, u.q1, xb, xs[xb].d);
}

alias Unit = F8;
const UNIT_BLOCKS: u32 = 1u;
//#endif
//#endif
