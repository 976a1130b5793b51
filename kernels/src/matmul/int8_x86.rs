//! x86_64 int8 dots with exact i32 accumulation: i8 is sign-extended to i16 (exact), then
//! `vpmaddwd` multiplies i16 pairs and adds each pair into an i32 lane. Exact because
//! |x·w| ≤ 2¹⁴, a pair sum ≤ 2¹⁵, and the total stays below 2³¹ for K ≤ `I8_MAX_K`; lanes
//! may wrap in between, but two's complement addition is associative, so the final sum is
//! still exact. With AVX-512 VNNI, `vpdpwssd` fuses the multiply-add and the accumulate.
//!
//! A tile is up to 4 x rows against one W row: each widened W vector is reused M times.

use std::arch::x86_64::*;

use crate::SimdLevel;

/// `out[i] = Σ_l x[i·k + l] · w[l]` for the `m` (1..=4) rows of x; `level` ≥ Avx2 and
/// clamped to the machine's.
pub(super) fn dot_tile(level: SimdLevel, x: &[i8], w: &[i8], m: usize, k: usize) -> [i32; 4] {
    let mut out = [0i32; 4];
    macro_rules! by_m {
        ($f:ident) => {
            // SAFETY: `level` was clamped to the machine's (and VNNI checked), so the target
            // features are present; x holds m·k and w k elements, and the kernels read only
            // those.
            unsafe {
                match m {
                    1 => $f::<1>(x, w, k, &mut out),
                    2 => $f::<2>(x, w, k, &mut out),
                    3 => $f::<3>(x, w, k, &mut out),
                    _ => $f::<4>(x, w, k, &mut out),
                }
            }
        };
    }
    if level >= SimdLevel::Avx512 {
        if is_x86_feature_detected!("avx512vnni") {
            by_m!(dot_vnni)
        } else {
            by_m!(dot_avx512)
        }
    } else {
        by_m!(dot_avx2)
    }
    out
}

/// Generates a kernel `<M>`: `$lanes` i8 at a time widened to i16, multiply-added by `$madd`
/// into one i32 vector per x row, reduced by `$reduce`; the K tail in scalar code.
macro_rules! dot_i8_kernel {
    ($name:ident, $feat:literal, $v:ty, $lanes:literal, $zero:ident, $widen:expr, $madd:expr,
     $reduce:expr) => {
        #[target_feature(enable = $feat)]
        unsafe fn $name<const M: usize>(x: &[i8], w: &[i8], k: usize, out: &mut [i32; 4]) {
            const V: usize = $lanes;
            // SAFETY: every load reads [l, l + V) with l + V <= k, inside w (k elements) and
            // x's row i (x holds M·k elements).
            unsafe {
                let widen = $widen;
                let madd = $madd;
                let reduce = $reduce;
                let mut acc: [$v; M] = [$zero(); M];
                let (xp, wp) = (x.as_ptr(), w.as_ptr());
                let mut l = 0;
                while l + V <= k {
                    let wv = widen(wp.add(l));
                    for i in 0..M {
                        acc[i] = madd(acc[i], widen(xp.add(i * k + l)), wv);
                    }
                    l += V;
                }
                for i in 0..M {
                    let mut s: i32 = reduce(acc[i]);
                    for t in l..k {
                        s = s.wrapping_add(x[i * k + t] as i32 * w[t] as i32);
                    }
                    out[i] = s;
                }
            }
        }
    };
}

dot_i8_kernel!(
    dot_avx2,
    "avx2",
    __m256i,
    16,
    _mm256_setzero_si256,
    |p: *const i8| _mm256_cvtepi8_epi16(_mm_loadu_si128(p as *const __m128i)),
    |acc, a, b| _mm256_add_epi32(acc, _mm256_madd_epi16(a, b)),
    |v: __m256i| {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b10_11_00_01>(s));
        _mm_cvtsi128_si32(s)
    }
);
dot_i8_kernel!(
    dot_avx512,
    "avx512f,avx512bw,avx512vl,avx2",
    __m512i,
    32,
    _mm512_setzero_si512,
    |p: *const i8| _mm512_cvtepi8_epi16(_mm256_loadu_si256(p as *const __m256i)),
    |acc, a, b| _mm512_add_epi32(acc, _mm512_madd_epi16(a, b)),
    |v: __m512i| _mm512_reduce_add_epi32(v)
);
dot_i8_kernel!(
    dot_vnni,
    "avx512f,avx512bw,avx512vl,avx512vnni,avx2",
    __m512i,
    32,
    _mm512_setzero_si512,
    |p: *const i8| _mm512_cvtepi8_epi16(_mm256_loadu_si256(p as *const __m256i)),
    |acc, a, b| _mm512_dpwssd_epi32(acc, a, b),
    |v: __m512i| _mm512_reduce_add_epi32(v)
);
