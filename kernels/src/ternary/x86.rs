//! AVX2 and AVX-512 VNNI unit sums for int8 activations (module docs): the codes `t + 1 ∈ {0,1,2}`
//! meet x in `vpmaddubsw` (or `vpdpbusd`) and the unit's `Σ x` is subtracted once —
//! `Σ x·t = Σ x·(t + 1) − Σ x`, exact in i32; no weight is multiplied as a number. Base-3
//! codes come out of the bytes by `×3` steps and two compares (AVX2), or, with VNNI, not at
//! all: two dot products of the raw `×3` bytes give `256·Σ x·(t + 1)` (`Vnni::base3_block`).

use std::arch::x86_64::*;

use super::layout::{base3_offset, TernaryWeights, TritPacking, PARTIALS, UNIT};
use super::reference::tree;

/// How the code bytes meet x.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dot {
    /// `vpmaddubsw` into i16 pairs, `vpmaddwd` into i32.
    Avx2,
    /// `vpdpbusd` (AVX-512 VNNI, BW and VL) straight into i32.
    Vnni,
}

/// The form the machine allows at `level`, if any.
pub(crate) fn dot_for(level: crate::SimdLevel) -> Option<Dot> {
    let level = crate::simd::clamp(level);
    if level >= crate::SimdLevel::Avx512 && is_x86_feature_detected!("avx512vnni") {
        Some(Dot::Vnni)
    } else if level >= crate::SimdLevel::Avx2 {
        Some(Dot::Avx2)
    } else {
        None
    }
}

trait UnitDot {
    /// Σ over 4 × 32 bytes of `code·x` as eight i32 lanes.
    unsafe fn dot4(c: [__m256i; 4], x: *const i8) -> __m256i;

    /// The lane sums of `code·x` over the two units of one base-3 block of `R` rows (`qs[ri]`:
    /// the row's 48 `qs` bytes, `qh[ri]` its 4 `qh` bytes; `x`: the block's 256 inputs).
    #[inline(always)]
    unsafe fn base3_block<const R: usize>(
        qs: [*const u8; R],
        qh: [*const u8; R],
        x: *const i8,
    ) -> ([__m256i; R], [__m256i; R]) {
        // SAFETY: the caller's contract (48 + 4 readable code bytes a row, 256 of x).
        unsafe {
            let (mut u0, mut u1) = ([_mm256_setzero_si256(); R], [_mm256_setzero_si256(); R]);
            for ri in 0..R {
                let (lo, hi) = base3_codes(qs[ri], qh[ri]);
                u0[ri] = Self::dot4(lo, x);
                u1[ri] = Self::dot4(hi, x.add(UNIT));
            }
            (u0, u1)
        }
    }
}

struct Avx2;
struct Vnni;

impl UnitDot for Avx2 {
    #[inline(always)]
    unsafe fn dot4(c: [__m256i; 4], x: *const i8) -> __m256i {
        // SAFETY: the caller's x has 128 readable bytes; AVX2 is enabled by the caller.
        unsafe {
            let xv = |i: usize| _mm256_loadu_si256(x.add(32 * i).cast());
            // Each i16 pair sum is at most 2·2·128 = 512, four of them 2048: no saturation.
            let s = _mm256_add_epi16(
                _mm256_add_epi16(
                    _mm256_maddubs_epi16(c[0], xv(0)),
                    _mm256_maddubs_epi16(c[1], xv(1)),
                ),
                _mm256_add_epi16(
                    _mm256_maddubs_epi16(c[2], xv(2)),
                    _mm256_maddubs_epi16(c[3], xv(3)),
                ),
            );
            _mm256_madd_epi16(s, _mm256_set1_epi16(1))
        }
    }
}

impl UnitDot for Vnni {
    #[inline(always)]
    unsafe fn dot4(c: [__m256i; 4], x: *const i8) -> __m256i {
        // SAFETY: as for Avx2; AVX-512 VNNI and VL are enabled by the caller.
        unsafe {
            let xv = |i: usize| _mm256_loadu_si256(x.add(32 * i).cast());
            let mut acc = _mm256_dpbusd_epi32(_mm256_setzero_si256(), c[0], xv(0));
            acc = _mm256_dpbusd_epi32(acc, c[1], xv(1));
            acc = _mm256_dpbusd_epi32(acc, c[2], xv(2));
            _mm256_dpbusd_epi32(acc, c[3], xv(3))
        }
    }

    /// No compares: with `q_{i+1} = 3·q_i mod 256` (the byte times 3^i) the code of trit i is
    /// `⌊3·q_i/256⌋ = (3·q_i − q_{i+1})/256`, so `Σ x·code = (3·Σ x·q_i − Σ x·q_{i+1})/256` —
    /// two `vpdpbusd` of the raw bytes (unsigned, up to 255: fine here, where `vpmaddubsw`
    /// would saturate) per trit. Both dots of a byte land in the same i32 lane, so every lane
    /// of `3A − B` is a multiple of 256 and the shift is exact. One zmm holds a row's whole
    /// block: `qs[0..48]`, its 4 `qh` bytes, 12 zeros.
    #[inline(always)]
    unsafe fn base3_block<const R: usize>(
        qs: [*const u8; R],
        qh: [*const u8; R],
        x: *const i8,
    ) -> ([__m256i; R], [__m256i; R]) {
        // SAFETY: the caller's contract; AVX-512 F, BW and VNNI are enabled by the caller.
        unsafe {
            let dword = |p: *const i8| p.cast::<i32>().read_unaligned();
            // Byte l of the zmm, trit i: qs[0..32] is position 32i + l (unit 0 for i < 4, unit 1
            // for i = 4), qs[32..48] position 160 + 16i + (l − 32), qh 240 + 4i + (l − 48)
            // (qh has no fifth trit: its x is 0).
            // A loop, not a closure: a closure is compiled without this function's target
            // features, so its intrinsics would become calls.
            let mut xz = [_mm512_setzero_si512(); 5];
            for (i, xi) in xz.iter_mut().enumerate() {
                let lo = _mm512_castsi256_si512(_mm256_loadu_si256(x.add(32 * i).cast()));
                let tail = _mm512_inserti32x4::<2>(lo, _mm_loadu_si128(x.add(160 + 16 * i).cast()));
                let h = if i < 4 { dword(x.add(240 + 4 * i)) } else { 0 };
                *xi = _mm512_mask_set1_epi32(tail, 1 << 12, h);
            }
            let zero = _mm512_setzero_si512();
            let (mut u0, mut u1) = ([_mm256_setzero_si256(); R], [_mm256_setzero_si256(); R]);
            for ri in 0..R {
                let q = _mm512_maskz_loadu_epi8(0xFFFF_FFFF_FFFF, qs[ri].cast());
                let mut q = _mm512_mask_set1_epi32(q, 1 << 12, dword(qh[ri].cast()));
                // Lanes 0–7 of (a, b) are unit 0, 8–15 unit 1; all of (a4, b4) is unit 1.
                let (mut a, mut b) = (zero, zero);
                for &xi in &xz[..4] {
                    let q3 = times3_512(q);
                    a = _mm512_dpbusd_epi32(a, q, xi);
                    b = _mm512_dpbusd_epi32(b, q3, xi);
                    q = q3;
                }
                let a4 = _mm512_dpbusd_epi32(zero, q, xz[4]);
                let b4 = _mm512_dpbusd_epi32(zero, times3_512(q), xz[4]);
                let codes = |a, b| {
                    let s = _mm512_sub_epi32(_mm512_add_epi32(a, _mm512_add_epi32(a, a)), b);
                    _mm512_srai_epi32::<8>(s)
                };
                let (c, c4) = (codes(a, b), codes(a4, b4));
                let half =
                    |v: __m512i| (_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v));
                let ((c_lo, c_hi), (c4_lo, c4_hi)) = (half(c), half(c4));
                u0[ri] = c_lo;
                u1[ri] = _mm256_add_epi32(c_hi, _mm256_add_epi32(c4_lo, c4_hi));
            }
            (u0, u1)
        }
    }
}

/// Bytes `b·3 mod 256` (as [`times3`]).
#[inline(always)]
unsafe fn times3_512(b: __m512i) -> __m512i {
    // SAFETY: AVX-512 BW is enabled by the caller.
    unsafe {
        let twice = _mm512_and_si512(_mm512_slli_epi16::<1>(b), _mm512_set1_epi8(-2));
        _mm512_add_epi8(b, twice)
    }
}

#[inline(always)]
unsafe fn hsum(v: __m256i) -> i32 {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s)
    }
}

/// Bytes `b·3 mod 256`, as `b + 2b` with `2b` from a 16-bit shift: written as `b + b + b`,
/// LLVM folds it into a byte multiply by 3 and lowers that to `vpmullw`s and masks (3× slower).
#[inline(always)]
unsafe fn times3(b: __m256i) -> __m256i {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let twice = _mm256_and_si256(_mm256_slli_epi16(b, 1), _mm256_set1_epi8(-2));
        _mm256_add_epi8(b, twice)
    }
}

/// Codes `⌊3·b/256⌋ = (b ≥ 86) + (b ≥ 171)` (the leading trit of each byte) from `s = b ^ 0x80`,
/// where unsigned compares are signed ones. Multiplying by 3 keeps that form:
/// `3·(b + 128) ≡ 3·b + 128 (mod 256)`, so one xor serves all of a byte's trits.
#[inline(always)]
unsafe fn lead_trit(s: __m256i) -> __m256i {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let ge86 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8((85u8 ^ 0x80) as i8));
        let ge171 = _mm256_cmpgt_epi8(s, _mm256_set1_epi8((170u8 ^ 0x80) as i8));
        _mm256_sub_epi8(_mm256_sub_epi8(_mm256_setzero_si256(), ge86), ge171)
    }
}

/// Bits2: the code vectors of one unit (32 bytes: position `32j + l` in bits `2j` of byte `l`).
#[inline(always)]
unsafe fn bits2_codes(p: *const u8) -> [__m256i; 4] {
    // SAFETY: `p` has 32 readable bytes; AVX2 is enabled by the caller.
    unsafe {
        let m3 = _mm256_set1_epi8(3);
        let v = _mm256_loadu_si256(p.cast());
        [
            _mm256_and_si256(v, m3),
            _mm256_and_si256(_mm256_srli_epi16(v, 2), m3),
            _mm256_and_si256(_mm256_srli_epi16(v, 4), m3),
            _mm256_and_si256(_mm256_srli_epi16(v, 6), m3),
        ]
    }
}

/// Base3: the code vectors of the two units of one block, from its 48 `qs` bytes at `b` and its
/// 4 `qh` bytes at `h` (layout in `TritPacking::Base3`).
#[inline(always)]
unsafe fn base3_codes(b: *const u8, h: *const u8) -> ([__m256i; 4], [__m256i; 4]) {
    // SAFETY: `b` has 48 readable bytes and `h` 4; AVX2 is enabled by the caller.
    unsafe {
        // qs[0..32]: trit p of byte l is position 32p + l. Bytes are kept xor 0x80.
        let flip = _mm256_set1_epi8(-128);
        let b0 = _mm256_xor_si256(_mm256_loadu_si256(b.cast()), flip);
        let b1 = times3(b0);
        let b2 = times3(b1);
        let b3 = times3(b2);
        let b4 = times3(b3);
        let lo = [lead_trit(b0), lead_trit(b1), lead_trit(b2), lead_trit(b3)];
        // qs[32..48] (positions 160 + 16p + l) as [trit 0 | trit 1], [2 | 3], [4 | qh].
        let w = _mm_xor_si128(
            _mm_loadu_si128(b.add(32).cast()),
            _mm256_castsi256_si128(flip),
        );
        let w3 = _mm_add_epi8(w, _mm_add_epi8(w, w));
        let w01 = _mm256_set_m128i(w3, w);
        let w23 = times3(times3(w01));
        let w4 = _mm256_castsi256_si128(times3(times3(w23)));
        // qh: the 4 bytes in every dword, then dword p times 3^p (positions 240 + 4p + l).
        let h0 = _mm_xor_si128(
            _mm_set1_epi32(h.cast::<i32>().read_unaligned()),
            _mm256_castsi256_si128(flip),
        );
        let h1 = _mm_add_epi8(h0, _mm_add_epi8(h0, h0));
        let h2 = _mm_add_epi8(h1, _mm_add_epi8(h1, h1));
        let h3 = _mm_add_epi8(h2, _mm_add_epi8(h2, h2));
        let h = _mm_blend_epi32(
            _mm_blend_epi32(_mm_blend_epi32(h0, h1, 0b0010), h2, 0b0100),
            h3,
            0b1000,
        );
        let hi = [
            lead_trit(b4),
            lead_trit(w01),
            lead_trit(w23),
            lead_trit(_mm256_set_m128i(h, w4)),
        ];
        (lo, hi)
    }
}

/// The four rows' sums of one unit: `[Σa, Σb, Σc, Σd]`.
#[inline(always)]
unsafe fn hsum4(a: [__m256i; 4]) -> __m128i {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let h = _mm256_hadd_epi32(_mm256_hadd_epi32(a[0], a[1]), _mm256_hadd_epi32(a[2], a[3]));
        _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1))
    }
}

/// Stores unit `u`'s sums of `R` rows, less `xsum`, at `out[ri·stride + u]`.
#[inline(always)]
unsafe fn store<const R: usize>(
    acc: [__m256i; R],
    xsum: i32,
    out: &mut [i32],
    stride: usize,
    u: usize,
) {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        if R == 4 {
            let s = _mm_sub_epi32(
                hsum4([acc[0], acc[1], acc[2], acc[3]]),
                _mm_set1_epi32(xsum),
            );
            let mut v = [0i32; 4];
            _mm_storeu_si128(v.as_mut_ptr().cast(), s);
            for (ri, &v) in v.iter().enumerate() {
                out[ri * stride + u] = v;
            }
        } else {
            for (ri, &a) in acc.iter().enumerate() {
                out[ri * stride + u] = hsum(a) - xsum;
            }
        }
    }
}

/// Unit sums of `R` rows (`rows`: each row's bytes of one plane) against one token into
/// `out[ri·stride + u]`.
#[inline(always)]
unsafe fn unit_sums<D: UnitDot, const R: usize>(
    base3_packing: bool,
    rows: [*const u8; R],
    x: &[i8],
    xsum: &[i32],
    out: &mut [i32],
    stride: usize,
) {
    // SAFETY: each row holds its packing's bytes for `xsum.len()` units, `x` 128 bytes a unit
    // (checked by the caller).
    unsafe {
        let zero = _mm256_setzero_si256();
        if base3_packing {
            let nb = xsum.len() / 2;
            for blk in 0..nb {
                let xb = x.as_ptr().add(2 * UNIT * blk);
                let qs = rows.map(|r| r.add(base3_offset(nb, blk, 0)));
                let qh = rows.map(|r| r.add(base3_offset(nb, blk, 48)));
                let (a0, a1) = D::base3_block(qs, qh, xb);
                store(a0, xsum[2 * blk], out, stride, 2 * blk);
                store(a1, xsum[2 * blk + 1], out, stride, 2 * blk + 1);
            }
        } else {
            for (u, &xs) in xsum.iter().enumerate() {
                let xu = x.as_ptr().add(UNIT * u);
                let mut a = [zero; R];
                for ri in 0..R {
                    a[ri] = D::dot4(bits2_codes(rows[ri].add(32 * u)), xu);
                }
                store(a, xs, out, stride, u);
            }
        }
    }
}

/// Lanes `j < n` (of 8) as an all-ones mask.
#[inline(always)]
unsafe fn first_lanes(n: usize) -> __m256i {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        let lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n.min(PARTIALS) as i32), lane)
    }
}

/// `reference::combine` for i32 unit sums with the 8 partials in the lanes of one vector: per
/// partial the same operations in the same order (`acc + scale·run`, the product and the sum
/// each rounded, never fused; a new run where the unit's scale group changes), so the same
/// bits. The scalar form chained a multiply and an add per unit through one register and took
/// a third of the TQ2_0 GEMV, whose every unit starts a new group in its partial.
#[inline(always)]
unsafe fn combine_lanes(
    w: &TernaryWeights,
    r: usize,
    sums: &[i32],
    x_scale: f32,
    bias: f32,
) -> f32 {
    // SAFETY: AVX2 is enabled by the caller; every load is masked to the lanes that exist, and
    // every gathered index is a group of the row (`unit_groups` < `groups`).
    unsafe {
        let (units, groups) = (w.units(), w.groups());
        let unit_group = w.unit_groups();
        // Not closures: a closure is compiled without the caller's target features, so its
        // intrinsics would become calls.
        let all = first_lanes(units);
        let mut acc = _mm256_setzero_ps();
        for (p, sums) in sums.chunks_exact(units).enumerate() {
            let scales = w.scales()[(p * w.n() + r) * groups..][..groups].as_ptr();
            let mut run = _mm256_setzero_si256();
            let mut group = _mm256_maskload_epi32(unit_group.as_ptr().cast(), all);
            for u0 in (0..units).step_by(PARTIALS) {
                let live = first_lanes(units - u0);
                let g = _mm256_maskload_epi32(unit_group[u0..].as_ptr().cast(), live);
                let changed = _mm256_andnot_si256(_mm256_cmpeq_epi32(g, group), live);
                if _mm256_testz_si256(changed, changed) == 0 {
                    let s = _mm256_i32gather_ps::<4>(scales, group);
                    let folded = _mm256_add_ps(acc, _mm256_mul_ps(s, _mm256_cvtepi32_ps(run)));
                    let c = _mm256_castsi256_ps(changed);
                    acc = _mm256_blendv_ps(acc, folded, c);
                    run = _mm256_andnot_si256(changed, run);
                    group = _mm256_blendv_epi8(group, g, changed);
                }
                run = _mm256_add_epi32(run, _mm256_maskload_epi32(sums[u0..].as_ptr(), live));
            }
            let s = _mm256_i32gather_ps::<4>(scales, group);
            let folded = _mm256_add_ps(acc, _mm256_mul_ps(s, _mm256_cvtepi32_ps(run)));
            acc = _mm256_blendv_ps(acc, folded, _mm256_castsi256_ps(all));
        }
        let mut a = [0f32; PARTIALS];
        _mm256_storeu_ps(a.as_mut_ptr(), acc);
        tree(a) * x_scale + bias
    }
}

/// The padded int8 tokens, their unit sums, scales and the bias, as [`rows`] takes them.
pub(crate) struct Tokens<'a> {
    /// x `[m, padded_k]`, zero past K.
    pub(crate) x: &'a [i8],
    /// `Σ x` per token and unit, `[m, units]`.
    pub(crate) xsum: &'a [i32],
    /// The dequantisation scale of each token.
    pub(crate) scales: &'a [f32],
    /// `bias[n]`, if any.
    pub(crate) bias: Option<&'a [f32]>,
}

/// Rows handled together: their unit sums of one unit are reduced by one `hsum4`.
pub(crate) const BLOCK: usize = 4;

/// Outputs `out[i]` = row `r0 + i / m`, token `i % m`: unit sums four rows at a time, then
/// `combine` (inlined) per row; `sums` holds `BLOCK` rows of `planes·units`.
#[inline(always)]
unsafe fn rows_of<D: UnitDot>(
    w: &TernaryWeights,
    x: &Tokens,
    r0: usize,
    out: &mut [f32],
    sums: &mut [i32],
) {
    let (m, kp, units) = (x.scales.len(), w.padded_k(), w.units());
    let len = w.planes() * units;
    let base3_packing = w.packing() == TritPacking::Base3;
    let rows = out.len() / m;
    let mut rb = 0;
    while rb < rows {
        let r = r0 + rb;
        let block = if rows - rb >= BLOCK { BLOCK } else { 1 };
        for t in 0..m {
            let (xt, xs) = (&x.x[t * kp..][..kp], &x.xsum[t * units..][..units]);
            for p in 0..w.planes() {
                let s = &mut sums[p * units..];
                // SAFETY: `Tokens` were padded for `w`: 128 bytes and one sum per unit; each
                // row has its packing's bytes for every unit (an even count for base 3); `s`
                // has `block` rows of `len` from the plane's offset.
                unsafe {
                    if block == BLOCK {
                        let rp = [0, 1, 2, 3].map(|i| w.row(p, r + i).as_ptr());
                        unit_sums::<D, BLOCK>(base3_packing, rp, xt, xs, s, len);
                    } else {
                        let rp = [w.row(p, r).as_ptr()];
                        unit_sums::<D, 1>(base3_packing, rp, xt, xs, s, len);
                    }
                }
            }
            for i in 0..block {
                let b = x.bias.map_or(0.0, |b| b[r + i]);
                // SAFETY: AVX2 is enabled by the callers of `rows_of`.
                out[(rb + i) * m + t] =
                    unsafe { combine_lanes(w, r + i, &sums[i * len..][..len], x.scales[t], b) };
            }
        }
        rb += block;
    }
}

macro_rules! entry {
    ($name:ident, $dot:ty, $feat:literal) => {
        #[target_feature(enable = $feat)]
        unsafe fn $name(
            w: &TernaryWeights,
            x: &Tokens,
            r0: usize,
            out: &mut [f32],
            sums: &mut [i32],
        ) {
            // SAFETY: the features are enabled here; the rest is `rows`' contract.
            unsafe { rows_of::<$dot>(w, x, r0, out, sums) }
        }
    };
}

entry!(rows_avx2, Avx2, "avx2");
entry!(rows_vnni, Vnni, "avx2,avx512f,avx512bw,avx512vl,avx512vnni");

/// Outputs `out[i]` for row `r0 + i / m`, token `i % m` (`m` tokens), `sums` scratch of
/// `planes·units`.
///
/// # Safety
/// `dot` came from [`dot_for`]; `x` was padded for `w` (`padded_k` bytes and `units` sums per
/// token); the rows exist.
pub(crate) unsafe fn rows(
    dot: Dot,
    w: &TernaryWeights,
    x: &Tokens,
    r0: usize,
    out: &mut [f32],
    sums: &mut [i32],
) {
    // SAFETY: this function's contract; `dot` names the features the callee enables.
    unsafe {
        match dot {
            Dot::Avx2 => rows_avx2(w, x, r0, out, sums),
            Dot::Vnni => rows_vnni(w, x, r0, out, sums),
        }
    }
}
