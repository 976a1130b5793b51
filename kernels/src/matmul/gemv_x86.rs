//! x86_64 GEMV kernels (AVX2+FMA+F16C and AVX-512) for f32, f16 and bf16 weights.
//!
//! A register tile of M x rows by R W rows: each x vector is loaded once and used against R
//! weight rows, each weight vector once against M x rows. With M = 4 the x rows (64 KiB at
//! K = 4096) do not fit L1, so re-reading them for every W row made L2 the bottleneck; R = 2
//! halves that traffic. Every function here is reached only after run-time detection
//! (`simd::clamp`), which is what makes the `unsafe` calls sound.

use std::arch::x86_64::*;

use half::{bf16, f16};

use super::gemv::Tile;
use crate::{MatRef, SimdLevel};

/// Dots the `m` rows of x with up to `rows` W rows starting at row `j`, over the K range
/// `l0..l0 + kl` (row stride `k` for both); `level` ≥ Avx2. Writes `out[r][i]` and returns how
/// many W rows it did (the register tile for `m`, or 1 when fewer rows are left).
#[allow(clippy::too_many_arguments)]
pub(super) fn dot_tile(
    level: SimdLevel,
    x: &[f32],
    w: MatRef,
    j: usize,
    rows: usize,
    m: usize,
    k: usize,
    l0: usize,
    kl: usize,
    out: &mut Tile,
) -> usize {
    // (R, U) per M: R W rows, U independent accumulators per (x row, W row); M·R·U accumulators
    // plus R weight vectors and one x vector must fit the 16 ymm (32 zmm) registers.
    macro_rules! go {
        ($f:ident, $d:expr, $($mm:literal => ($r:literal, $u:literal)),*) => {
            match m {
                $($mm => {
                    let r = if rows >= $r { $r } else { 1 };
                    let w = &$d[j * k + l0..(j + r - 1) * k + l0 + kl];
                    let x = &x[l0..(m - 1) * k + l0 + kl];
                    // SAFETY: the caller clamped `level` to the machine's (simd::clamp), so the
                    // target features are present; the kernels read rows of `kl` elements `k`
                    // apart, m of them from x and r from w, which the slicing above bounds.
                    unsafe {
                        if r == $r {
                            $f::<$mm, $r, $u>(x, w, k, kl, out)
                        } else {
                            $f::<$mm, 1, 2>(x, w, k, kl, out)
                        }
                    };
                    r
                })*
                _ => unreachable!("GEMV takes M <= 4"),
            }
        };
    }
    if level >= SimdLevel::Avx512 {
        match w {
            MatRef::F32(d) => {
                go!(dot_f32_avx512, d, 1 => (4, 2), 2 => (4, 1), 3 => (4, 1), 4 => (4, 1))
            }
            MatRef::F16(d) => {
                go!(dot_f16_avx512, d, 1 => (4, 2), 2 => (4, 1), 3 => (4, 1), 4 => (4, 1))
            }
            MatRef::BF16(d) => {
                go!(dot_bf16_avx512, d, 1 => (4, 2), 2 => (4, 1), 3 => (4, 1), 4 => (4, 1))
            }
        }
    } else {
        match w {
            MatRef::F32(d) => {
                go!(dot_f32_avx2, d, 1 => (2, 4), 2 => (2, 2), 3 => (2, 1), 4 => (2, 1))
            }
            MatRef::F16(d) => {
                go!(dot_f16_avx2, d, 1 => (2, 4), 2 => (2, 2), 3 => (2, 1), 4 => (2, 1))
            }
            MatRef::BF16(d) => {
                go!(dot_bf16_avx2, d, 1 => (2, 4), 2 => (2, 2), 3 => (2, 1), 4 => (2, 1))
            }
        }
    }
}

/// How far ahead in a W row to prefetch, in bytes.
const PREFETCH: usize = 4096;

/// Generates a dot kernel `<M, R, U>`: `out[r][i] = Σ_{l<kl} x[i·k + l] · w[r·k + l]`, V lanes
/// at a time with U accumulators per (i, r) pair (hiding the FMA latency), the tail in scalar
/// code.
macro_rules! dot_kernel {
    ($name:ident, $feat:literal, $t:ty, $v:ty, $lanes:literal, $zero:ident, $fma:ident,
     $loadx:ident, $loadw:expr, $hsum:expr, $to_f32:expr) => {
        #[target_feature(enable = $feat)]
        unsafe fn $name<const M: usize, const R: usize, const U: usize>(
            x: &[f32],
            w: &[$t],
            k: usize,
            kl: usize,
            out: &mut Tile,
        ) {
            const V: usize = $lanes;
            // SAFETY: every vector load reads [l + V·u, l + V·u + V) with l + V·U <= kl, inside
            // w's row r (w holds ·k + kl elements) and x's row i ((M-1)·k + kl elements).
            unsafe {
                let loadw = $loadw;
                let hsum = $hsum;
                let to_f32 = $to_f32;
                let mut a: [[[$v; U]; R]; M] = [[[$zero(); U]; R]; M];
                let (wp, xp) = (w.as_ptr(), x.as_ptr());
                let mut l = 0;
                while l + V * U <= kl {
                    // Software prefetch PREFETCH bytes ahead in every W row: the hardware
                    // prefetcher alone left f16 rows ~30% below read_sum's bandwidth. The
                    // address may run past w (prefetches never fault), hence wrapping_add.
                    for r in 0..R {
                        let ahead = (wp.add(r * k + l) as *const i8).wrapping_add(PREFETCH);
                        for line in 0..(V * U * size_of::<$t>()).div_ceil(64) {
                            _mm_prefetch::<_MM_HINT_T0>(ahead.wrapping_add(64 * line));
                        }
                    }
                    for u in 0..U {
                        let mut wv: [$v; R] = [$zero(); R];
                        for r in 0..R {
                            wv[r] = loadw(wp.add(r * k + l + V * u));
                        }
                        for i in 0..M {
                            let xv = $loadx(xp.add(i * k + l + V * u));
                            for r in 0..R {
                                a[i][r][u] = $fma(xv, wv[r], a[i][r][u]);
                            }
                        }
                    }
                    l += V * U;
                }
                for i in 0..M {
                    for r in 0..R {
                        let mut s = 0f32;
                        for u in 0..U {
                            s += hsum(a[i][r][u]);
                        }
                        for t in l..kl {
                            s += x[i * k + t] * to_f32(w[r * k + t]);
                        }
                        out[r][i] = s;
                    }
                }
            }
        }
    };
}

dot_kernel!(
    dot_f32_avx2,
    "avx2,fma,f16c",
    f32,
    __m256,
    8,
    _mm256_setzero_ps,
    _mm256_fmadd_ps,
    _mm256_loadu_ps,
    |p: *const f32| _mm256_loadu_ps(p),
    |v| hsum256(v),
    |v: f32| v
);
dot_kernel!(
    dot_f16_avx2,
    "avx2,fma,f16c",
    f16,
    __m256,
    8,
    _mm256_setzero_ps,
    _mm256_fmadd_ps,
    _mm256_loadu_ps,
    |p: *const f16| _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)),
    |v| hsum256(v),
    |v: f16| v.to_f32()
);
// bf16 is the top half of an f32: zero-extend to 32 bits and shift left 16 (exact).
dot_kernel!(
    dot_bf16_avx2,
    "avx2,fma,f16c",
    bf16,
    __m256,
    8,
    _mm256_setzero_ps,
    _mm256_fmadd_ps,
    _mm256_loadu_ps,
    |p: *const bf16| _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(
        _mm_loadu_si128(p as *const __m128i)
    ))),
    |v| hsum256(v),
    |v: bf16| v.to_f32()
);
dot_kernel!(
    dot_f32_avx512,
    "avx512f,avx512bw,avx512vl,avx2,fma,f16c",
    f32,
    __m512,
    16,
    _mm512_setzero_ps,
    _mm512_fmadd_ps,
    _mm512_loadu_ps,
    |p: *const f32| _mm512_loadu_ps(p),
    |v| _mm512_reduce_add_ps(v),
    |v: f32| v
);
dot_kernel!(
    dot_f16_avx512,
    "avx512f,avx512bw,avx512vl,avx2,fma,f16c",
    f16,
    __m512,
    16,
    _mm512_setzero_ps,
    _mm512_fmadd_ps,
    _mm512_loadu_ps,
    |p: *const f16| _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i)),
    |v| _mm512_reduce_add_ps(v),
    |v: f16| v.to_f32()
);
dot_kernel!(
    dot_bf16_avx512,
    "avx512f,avx512bw,avx512vl,avx2,fma,f16c",
    bf16,
    __m512,
    16,
    _mm512_setzero_ps,
    _mm512_fmadd_ps,
    _mm512_loadu_ps,
    |p: *const bf16| _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(
        _mm256_loadu_si256(p as *const __m256i)
    ))),
    |v| _mm512_reduce_add_ps(v),
    |v: bf16| v.to_f32()
);

/// Horizontal sum of 8 lanes.
#[target_feature(enable = "avx")]
fn hsum256(v: __m256) -> f32 {
    let lo = _mm256_castps256_ps128(v);
    let hi = _mm256_extractf128_ps::<1>(v);
    let s = _mm_add_ps(lo, hi);
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    let s = _mm_add_ss(s, _mm_movehdup_ps(s));
    _mm_cvtss_f32(s)
}
