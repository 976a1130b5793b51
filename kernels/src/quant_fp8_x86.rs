//! FP8 (E4M3, E5M2) rows on AVX-512 BW: a block's 32 codes widened to f16 bits in one 512-bit
//! vector by the AVX2 kernel's shifts (E5M2: the code is the f16's top byte; E4M3: one bit
//! lower, a value times 2⁻⁸; see `quant_matmul_x86::fp8x8_to_f16`), then two F16C conversions
//! of 16 — about 14 operations a block where the 256-bit kernel needs about 32 (2.1× faster
//! on a 2-vCPU Xeon, `quant_speed 4096 4096 f8e4m3`).
//!
//! Several tokens share one decode: each block's weights are the reference decoder's
//! (`scale·v`, one rounding), met by every token in f32 FMAs. One token (the decode GEMV)
//! takes the cheaper order `(Σ v·x)·scale` per block (one multiply and two FMAs instead of two
//! multiplies, two FMAs and a broadcast), which stays within the f32 matmul bound and still
//! gives `scale·value` bit for bit where x is one-hot; a block whose scale could make a weight
//! overflow takes the reference weights there too, so infinities meet x as the reference's do.
//! E4M3's NaN codes (`S.1111.111`) become f16 NaN by a masked blend (a scan of each row for
//! them, to skip the blend, cost more than the blend: it met W's stream before the prefetch
//! did); weights known to hold none (`WeightFacts`, found once where they are kept) skip it. Where the CPU has GFNI and AVX-512 VBMI, E4M3's shifts become one affine bit
//! transform of both bytes of each f16 and one byte permute (E5M2's widening a zero-masked
//! permute). W is prefetched 2 KiB ahead: the strided 36-byte blocks left the stream waiting
//! on memory (E5M2 single-threaded 2.7–3.4 → 1.8 ms at 4096²).

use std::arch::x86_64::*;

use crate::quant_matmul_x86::fp8_one_step_scale;

/// One row of FP8 blocks (36 bytes: the f32 scale, 32 codes) against up to four tokens:
/// `out[t] = Σ_i W[i]·x_t[i]`.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C and AVX-512 F, BW and VL; `row` holds `k / 32` blocks; every
/// `x[t]` has `k` elements; `1 ≤ x.len() ≤ 4 ≤ out.len()`. `nan_free`: no E4M3 code of the
/// row is NaN (from `WeightFacts`).
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl")]
pub(crate) unsafe fn fp8_row_avx512(
    e4m3: bool,
    nan_free: bool,
    row: &[u8],
    x: &[&[f32]],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY (all): this function's contract, with exactly T token rows; the GFNI kernel
    // only where the CPU has GFNI and AVX-512 VBMI.
    unsafe {
        if nan_free && e4m3 && has_gfni_vbmi() {
            // E4M3 weights without NaN codes (`WeightFacts`): no blend.
            match x.len() {
                1 => fp8_row_gfni_nan_free::<1>(row, &[x[0]], k, out),
                2 => fp8_row_gfni_nan_free::<2>(row, &[x[0], x[1]], k, out),
                3 => fp8_row_gfni_nan_free::<3>(row, &[x[0], x[1], x[2]], k, out),
                _ => fp8_row_gfni_nan_free::<4>(row, &[x[0], x[1], x[2], x[3]], k, out),
            }
        } else if has_gfni_vbmi() {
            match x.len() {
                1 => fp8_row_gfni::<1>(e4m3, row, &[x[0]], k, out),
                2 => fp8_row_gfni::<2>(e4m3, row, &[x[0], x[1]], k, out),
                3 => fp8_row_gfni::<3>(e4m3, row, &[x[0], x[1], x[2]], k, out),
                _ => fp8_row_gfni::<4>(e4m3, row, &[x[0], x[1], x[2], x[3]], k, out),
            }
        } else {
            match x.len() {
                1 => fp8_row_shifts::<1>(e4m3, row, &[x[0]], k, out),
                2 => fp8_row_shifts::<2>(e4m3, row, &[x[0], x[1]], k, out),
                3 => fp8_row_shifts::<3>(e4m3, row, &[x[0], x[1], x[2]], k, out),
                _ => fp8_row_shifts::<4>(e4m3, row, &[x[0], x[1], x[2], x[3]], k, out),
            }
        }
    }
}

/// Whether this CPU has GFNI and AVX-512 VBMI (checked once).
fn has_gfni_vbmi() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| is_x86_feature_detected!("gfni") && is_x86_feature_detected!("avx512vbmi"))
}

/// A block's 32 codes at `p` as the f16 bits of their values (E5M2: the values; E4M3: the
/// values times 2⁻⁸, NaN codes f16 NaN), in code order.
trait Decode {
    /// # Safety
    /// 32 readable bytes at `p`; the CPU features of the kernel that inlines it.
    unsafe fn f16_bits(e4m3: bool, p: *const u8) -> __m512i;
}

/// Widening and shifts (AVX-512 BW).
struct Shifts;
/// An affine bit transform and a byte permute (GFNI, AVX-512 VBMI).
struct Gfni;
/// [`Gfni`] for E4M3 codes known to hold no NaN: the same bits without the NaN blend.
struct GfniNanFree;

impl Decode for Shifts {
    #[inline(always)]
    unsafe fn f16_bits(e4m3: bool, p: *const u8) -> __m512i {
        // SAFETY: 32 readable bytes at p (the trait's contract).
        let words = _mm512_cvtepu8_epi16(unsafe { _mm256_loadu_si256(p as *const __m256i) });
        let h = _mm512_slli_epi16::<8>(words);
        if !e4m3 {
            return h;
        }
        // Arithmetic shift: the sign stays in bit 15 and is copied into bit 14, cleared.
        let h = _mm512_and_si512(_mm512_srai_epi16::<1>(h), _mm512_set1_epi16(!0x4000));
        // Branch-free: a test per block mispredicts wherever NaN codes come at random.
        let seven_f = _mm512_set1_epi16(0x7f);
        let nan = _mm512_cmpeq_epi16_mask(_mm512_and_si512(words, seven_f), seven_f);
        _mm512_mask_blend_epi16(nan, h, _mm512_set1_epi16(0x7e00))
    }
}

/// Byte indices that put byte 32 + i of a vector in the high byte of word i and byte i in its
/// low byte.
const INTERLEAVE: [u8; 64] = {
    let mut t = [0u8; 64];
    let mut i = 0;
    while i < 32 {
        t[2 * i] = i as u8;
        t[2 * i + 1] = 32 + i as u8;
        i += 1;
    }
    t
};

/// GF2P8AFFINEQB matrices (row byte 7 − j selects the input bits of output bit j). The f16
/// of E4M3 code `s eeee mmm` is `s 0 eeee mm | m 0000000`: `HIGH` moves the sign and the six
/// bits below it one place down, `LOW` moves the last mantissa bit to the top.
const HIGH: i64 = 0x0204_0810_2040_0080;
const LOW: i64 = 0x0000_0000_0000_0001;

impl Decode for Gfni {
    #[inline(always)]
    unsafe fn f16_bits(e4m3: bool, p: *const u8) -> __m512i {
        // SAFETY: 32 readable bytes at p (the trait's contract). Both halves hold the codes
        // (a broadcast load: no shuffle).
        let both = _mm512_broadcast_i64x4(unsafe { _mm256_loadu_si256(p as *const __m256i) });
        let idx = _mm512_loadu_si512(INTERLEAVE.as_ptr() as *const _);
        if !e4m3 {
            // The code as the high byte, a zero low byte.
            return _mm512_maskz_permutexvar_epi8(0xAAAA_AAAA_AAAA_AAAA, idx, both);
        }
        // The low half becomes the f16s' low bytes, the high half their high bytes, and the
        // permute interleaves them.
        let h = e4m3_gfni(both, idx);
        // NaN codes (`S.1111.111`): one mask bit per code is one per f16.
        let nan = _mm256_cmpeq_epi8_mask(
            _mm256_or_si256(_mm512_castsi512_si256(both), _mm256_set1_epi8(0x80u8 as i8)),
            _mm256_set1_epi8(-1),
        );
        _mm512_mask_blend_epi16(nan, h, _mm512_set1_epi16(0x7e00))
    }
}

/// E4M3 codes (both halves of `both`) as f16 bits, NaN codes not mapped.
#[inline(always)]
unsafe fn e4m3_gfni(both: __m512i, idx: __m512i) -> __m512i {
    // SAFETY: GFNI and AVX-512 VBMI are enabled by the caller.
    unsafe {
        let mats = _mm512_set_epi64(HIGH, HIGH, HIGH, HIGH, LOW, LOW, LOW, LOW);
        let bytes = _mm512_gf2p8affine_epi64_epi8::<0>(both, mats);
        _mm512_permutexvar_epi8(idx, bytes)
    }
}

impl Decode for GfniNanFree {
    #[inline(always)]
    unsafe fn f16_bits(e4m3: bool, p: *const u8) -> __m512i {
        debug_assert!(e4m3, "E4M3 only");
        // SAFETY: 32 readable bytes at p (the trait's contract).
        unsafe {
            let both = _mm512_broadcast_i64x4(_mm256_loadu_si256(p as *const __m256i));
            e4m3_gfni(both, _mm512_loadu_si512(INTERLEAVE.as_ptr() as *const _))
        }
    }
}

/// How far ahead of its block W is prefetched, in bytes.
const PREFETCH: usize = 2048;

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl")]
unsafe fn fp8_row_shifts<const T: usize>(
    e4m3: bool,
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY: this function's contract and target features.
    unsafe { fp8_row_t::<T, Shifts>(e4m3, row, x, k, out) }
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vbmi,gfni")]
unsafe fn fp8_row_gfni<const T: usize>(
    e4m3: bool,
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY: this function's contract and target features.
    unsafe { fp8_row_t::<T, Gfni>(e4m3, row, x, k, out) }
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vbmi,gfni")]
unsafe fn fp8_row_gfni_nan_free<const T: usize>(
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY: this function's contract and target features.
    unsafe { fp8_row_t::<T, GfniNanFree>(true, row, x, k, out) }
}

/// The row loop, inlined into a caller with the features `D` needs.
#[inline(always)]
unsafe fn fp8_row_t<const T: usize, D: Decode>(
    e4m3: bool,
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    let lift = if e4m3 { 256.0f32 } else { 1.0 };
    // Two accumulators per token, indexed by constants only: a block-dependent index put
    // them on the stack (a store-to-load chain per FMA, half the speed).
    let mut acc = [[_mm512_setzero_ps(); 2]; T];
    let base = row.as_ptr();
    for b in 0..k / 32 {
        // SAFETY: the block's 36 bytes lie at 36b .. 36b + 36 ≤ row.len().
        let (scale, h) = unsafe {
            let p = base.add(b * 36);
            _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(PREFETCH) as *const i8);
            (
                (p as *const f32).read_unaligned(),
                D::f16_bits(e4m3, p.add(4)),
            )
        };
        let lo = _mm512_cvtph_ps(_mm512_castsi512_si256(h));
        let hi = _mm512_cvtph_ps(_mm512_extracti64x4_epi64::<1>(h));
        let lifted = scale * lift;
        // Only where no weight of the block overflows (|v| ≤ 65504): an infinite weight meets
        // a zero x as NaN in the reference, while `(Σ v·x)·scale` would not.
        if T == 1 && lifted.abs() <= f32::MAX / 65536.0 {
            // SAFETY: elements 32b .. 32b + 32 ≤ k = x[0].len().
            let (x0, x1) = unsafe {
                let p = x[0].as_ptr().add(32 * b);
                (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)))
            };
            let part = _mm512_fmadd_ps(hi, x1, _mm512_mul_ps(lo, x0));
            acc[0][0] = _mm512_fmadd_ps(part, _mm512_set1_ps(lifted), acc[0][0]);
            continue;
        }
        // `v·(scale·lift)` where that rounds once as the reference does, else `(v·lift)·scale`.
        let (lo, hi) = if let Some(lifted) = fp8_one_step_scale(scale, lift) {
            let s = _mm512_set1_ps(lifted);
            (_mm512_mul_ps(lo, s), _mm512_mul_ps(hi, s))
        } else {
            let (l, r) = (_mm512_set1_ps(lift), _mm512_set1_ps(scale));
            (
                _mm512_mul_ps(_mm512_mul_ps(lo, l), r),
                _mm512_mul_ps(_mm512_mul_ps(hi, l), r),
            )
        };
        for t in 0..T {
            // SAFETY: elements 32b .. 32b + 32 ≤ k = x[t].len().
            let (x0, x1) = unsafe {
                let p = x[t].as_ptr().add(32 * b);
                (_mm512_loadu_ps(p), _mm512_loadu_ps(p.add(16)))
            };
            acc[t][0] = _mm512_fmadd_ps(lo, x0, acc[t][0]);
            acc[t][1] = _mm512_fmadd_ps(hi, x1, acc[t][1]);
        }
    }
    for (o, a) in out.iter_mut().zip(acc.iter()) {
        *o = _mm512_reduce_add_ps(_mm512_add_ps(a[0], a[1]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vbmi,gfni")]
    fn both_decoders(e4m3: bool, codes: &[u8; 32]) -> ([u16; 32], [u16; 32]) {
        let (mut a, mut b) = ([0u16; 32], [0u16; 32]);
        // SAFETY: 32 bytes at codes, 64 writable at a and b; the features are enabled here.
        unsafe {
            _mm512_storeu_si512(
                a.as_mut_ptr() as *mut _,
                Shifts::f16_bits(e4m3, codes.as_ptr()),
            );
            _mm512_storeu_si512(
                b.as_mut_ptr() as *mut _,
                Gfni::f16_bits(e4m3, codes.as_ptr()),
            );
        }
        (a, b)
    }

    /// The GFNI decoder gives the shift decoder's f16 bits for every code in every position
    /// (the row kernels' tests run only the one this machine takes).
    #[test]
    fn gfni_decoder_matches_the_shifts() {
        if !(is_x86_feature_detected!("avx512bw") && has_gfni_vbmi()) {
            eprintln!("skipped: no GFNI/AVX-512 VBMI on this CPU (the shift decoder is used)");
            return;
        }
        for e4m3 in [false, true] {
            for start in (0..256).step_by(32) {
                for rot in [0, 7, 31] {
                    let mut codes = [0u8; 32];
                    for (i, c) in codes.iter_mut().enumerate() {
                        *c = (start + (i + rot) % 32) as u8;
                    }
                    // SAFETY: the features were detected above.
                    let (a, b) = unsafe { both_decoders(e4m3, &codes) };
                    assert_eq!(a, b, "e4m3 {e4m3} codes {codes:?}");
                }
            }
        }
    }
}
