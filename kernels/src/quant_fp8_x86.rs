//! FP8 (E4M3, E5M2) rows on AVX-512 BW: a block's 32 codes widened to f16 bits in one 512-bit
//! vector by the AVX2 kernel's shifts (E5M2: the code is the f16's top byte; E4M3: one bit
//! lower, a value times 2⁻⁸; see `quant_matmul_x86::fp8x8_to_f16`), then two F16C conversions
//! of 16 — about 14 operations a block where the 256-bit kernel needs about 32 (2.1× faster
//! on a 2-vCPU Xeon, `quant_speed 4096 4096 f8e4m3`). The weights are the reference
//! decoder's (`scale·v`, one rounding; E4M3 NaN codes made f16 NaN by a masked blend),
//! summed in f32 accumulators, so results stay within the f32 matmul bound.

use std::arch::x86_64::*;

use crate::quant_matmul_x86::fp8_block_scale;

/// One row of FP8 blocks (36 bytes: the f32 scale, 32 codes) against up to four tokens:
/// `out[t] = Σ_i W[i]·x_t[i]`.
///
/// # Safety
/// The CPU has AVX2, FMA, F16C and AVX-512 F, BW and VL; `row` holds `k / 32` blocks; every
/// `x[t]` has `k` elements; `1 ≤ x.len() ≤ 4 ≤ out.len()`.
#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl")]
pub(crate) unsafe fn fp8_row_avx512(
    e4m3: bool,
    row: &[u8],
    x: &[&[f32]],
    k: usize,
    out: &mut [f32],
) {
    // SAFETY (all four): this function's contract, with exactly T token rows.
    unsafe {
        match x.len() {
            1 => fp8_row_t::<1>(e4m3, row, &[x[0]], k, out),
            2 => fp8_row_t::<2>(e4m3, row, &[x[0], x[1]], k, out),
            3 => fp8_row_t::<3>(e4m3, row, &[x[0], x[1], x[2]], k, out),
            _ => fp8_row_t::<4>(e4m3, row, &[x[0], x[1], x[2], x[3]], k, out),
        }
    }
}

#[target_feature(enable = "avx2,fma,f16c,avx512f,avx512bw,avx512vl")]
unsafe fn fp8_row_t<const T: usize>(
    e4m3: bool,
    row: &[u8],
    x: &[&[f32]; T],
    k: usize,
    out: &mut [f32],
) {
    let seven_f = _mm512_set1_epi16(0x7f);
    let f16_nan = _mm512_set1_epi16(0x7e00);
    // Two accumulators per token, indexed by constants only: a block-dependent index put
    // them on the stack (a store-to-load chain per FMA, half the speed).
    let mut acc = [[_mm512_setzero_ps(); 2]; T];
    for b in 0..k / 32 {
        let at = b * 36;
        let (raw, lift, one_step) = fp8_block_scale(&row[at..], e4m3);
        // SAFETY: the block's 32 codes lie at 36b + 4 .. 36b + 36 ≤ row.len().
        let codes = unsafe { _mm256_loadu_si256(row.as_ptr().add(at + 4) as *const __m256i) };
        let words = _mm512_cvtepu8_epi16(codes);
        let mut h = _mm512_slli_epi16::<8>(words);
        if e4m3 {
            // Arithmetic shift: the sign stays in bit 15 and is copied into bit 14, cleared.
            h = _mm512_and_si512(_mm512_srai_epi16::<1>(h), _mm512_set1_epi16(!0x4000));
            // Branch-free: a test per block mispredicts wherever NaN codes come at random.
            let nan = _mm512_cmpeq_epi16_mask(_mm512_and_si512(words, seven_f), seven_f);
            h = _mm512_mask_blend_epi16(nan, h, f16_nan);
        }
        // No closures here: one is compiled without this function's target features, and its
        // intrinsics become calls.
        let (lo, hi) = (
            _mm512_cvtph_ps(_mm512_castsi512_si256(h)),
            _mm512_cvtph_ps(_mm512_extracti64x4_epi64::<1>(h)),
        );
        let w = match one_step {
            Some(s) => {
                let s = _mm512_set1_ps(s);
                [_mm512_mul_ps(lo, s), _mm512_mul_ps(hi, s)]
            }
            None => {
                let (l, r) = (_mm512_set1_ps(lift), _mm512_set1_ps(raw));
                [
                    _mm512_mul_ps(_mm512_mul_ps(lo, l), r),
                    _mm512_mul_ps(_mm512_mul_ps(hi, l), r),
                ]
            }
        };
        for t in 0..T {
            for (i, &wv) in w.iter().enumerate() {
                // SAFETY: elements 32b + 16i .. + 16 < k = x[t].len().
                let xv = unsafe { _mm512_loadu_ps(x[t].as_ptr().add(32 * b + 16 * i)) };
                acc[t][i] = _mm512_fmadd_ps(wv, xv, acc[t][i]);
            }
        }
    }
    for (o, a) in out.iter_mut().zip(acc.iter()) {
        *o = _mm512_reduce_add_ps(_mm512_add_ps(a[0], a[1]));
    }
}
