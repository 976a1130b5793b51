//! x86_64 kernels: GEMV row dots (AVX2+FMA+F16C and AVX-512) for f32, f16 and bf16 weights,
//! and the AVX2 6×16 GEMM micro-kernel. Every function here is reached only after run-time
//! detection (`simd::clamp`), which is what makes the `unsafe` calls sound.

use std::arch::x86_64::*;

use half::{bf16, f16};

use crate::{MatRef, SimdLevel};

/// Dots the `m` rows of x with W's row starting at `w0`; `level` is at least Avx2.
pub(super) fn dot_rows(
    level: SimdLevel,
    x: &[f32],
    w: MatRef,
    w0: usize,
    m: usize,
    k: usize,
    acc: &mut [f32; 4],
) {
    macro_rules! by_m {
        ($f:ident, $w:expr) => {
            match m {
                // SAFETY: the caller checked the level against the machine (simd::clamp), the
                // slices hold m*k and k elements (check_dims), and the kernels read only those.
                1 => unsafe { $f::<1, 4>(x, $w, k, acc) },
                2 => unsafe { $f::<2, 2>(x, $w, k, acc) },
                3 => unsafe { $f::<3, 2>(x, $w, k, acc) },
                _ => unsafe { $f::<4, 2>(x, $w, k, acc) },
            }
        };
    }
    let avx512 = level >= SimdLevel::Avx512;
    match w {
        MatRef::F32(d) if avx512 => by_m!(dot_f32_avx512, &d[w0..w0 + k]),
        MatRef::F16(d) if avx512 => by_m!(dot_f16_avx512, &d[w0..w0 + k]),
        MatRef::BF16(d) if avx512 => by_m!(dot_bf16_avx512, &d[w0..w0 + k]),
        MatRef::F32(d) => by_m!(dot_f32_avx2, &d[w0..w0 + k]),
        MatRef::F16(d) => by_m!(dot_f16_avx2, &d[w0..w0 + k]),
        MatRef::BF16(d) => by_m!(dot_bf16_avx2, &d[w0..w0 + k]),
    }
}

/// Generates an AVX2 dot kernel: U independent accumulators per x row (U = 4 for one row hides
/// the FMA latency; 2 for more rows keeps M·U + U within the 16 ymm registers), 8·U elements a
/// step, the K tail in scalar code. `$load` widens 8 weights at a pointer to an `__m256`.
macro_rules! dot_avx2 {
    ($name:ident, $t:ty, $load:expr, $to_f32:expr) => {
        #[target_feature(enable = "avx2,fma,f16c")]
        unsafe fn $name<const M: usize, const U: usize>(
            x: &[f32],
            w: &[$t],
            k: usize,
            acc: &mut [f32; 4],
        ) {
            let load = $load;
            let to_f32 = $to_f32;
            // SAFETY: loads read [l, l+8U) with l + 8U <= k, inside w (len k) and each x row.
            unsafe {
                let mut a = [[_mm256_setzero_ps(); U]; M];
                let wp = w.as_ptr();
                let xp = x.as_ptr();
                let mut l = 0;
                while l + 8 * U <= k {
                    for u in 0..U {
                        let wv = load(wp.add(l + 8 * u));
                        for i in 0..M {
                            a[i][u] = _mm256_fmadd_ps(
                                _mm256_loadu_ps(xp.add(i * k + l + 8 * u)),
                                wv,
                                a[i][u],
                            );
                        }
                    }
                    l += 8 * U;
                }
                for i in 0..M {
                    let mut v = a[i][0];
                    for u in 1..U {
                        v = _mm256_add_ps(v, a[i][u]);
                    }
                    let mut s = hsum256(v);
                    for t in l..k {
                        s += x[i * k + t] * to_f32(w[t]);
                    }
                    acc[i] = s;
                }
            }
        }
    };
}

/// The same with 512-bit vectors, 16·U elements a step.
macro_rules! dot_avx512 {
    ($name:ident, $t:ty, $load:expr, $to_f32:expr) => {
        #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2,fma,f16c")]
        unsafe fn $name<const M: usize, const U: usize>(
            x: &[f32],
            w: &[$t],
            k: usize,
            acc: &mut [f32; 4],
        ) {
            let load = $load;
            let to_f32 = $to_f32;
            // SAFETY: loads read [l, l+16U) with l + 16U <= k, inside w (len k) and each x row.
            unsafe {
                let mut a = [[_mm512_setzero_ps(); U]; M];
                let wp = w.as_ptr();
                let xp = x.as_ptr();
                let mut l = 0;
                while l + 16 * U <= k {
                    for u in 0..U {
                        let wv = load(wp.add(l + 16 * u));
                        for i in 0..M {
                            a[i][u] = _mm512_fmadd_ps(
                                _mm512_loadu_ps(xp.add(i * k + l + 16 * u)),
                                wv,
                                a[i][u],
                            );
                        }
                    }
                    l += 16 * U;
                }
                for i in 0..M {
                    let mut v = a[i][0];
                    for u in 1..U {
                        v = _mm512_add_ps(v, a[i][u]);
                    }
                    let mut s = _mm512_reduce_add_ps(v);
                    for t in l..k {
                        s += x[i * k + t] * to_f32(w[t]);
                    }
                    acc[i] = s;
                }
            }
        }
    };
}

dot_avx2!(
    dot_f32_avx2,
    f32,
    |p: *const f32| _mm256_loadu_ps(p),
    |v: f32| v
);
dot_avx2!(
    dot_f16_avx2,
    f16,
    |p: *const f16| _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)),
    |v: f16| v.to_f32()
);
dot_avx2!(
    dot_bf16_avx2,
    bf16,
    |p: *const bf16| _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(
        _mm_loadu_si128(p as *const __m128i)
    ))),
    |v: bf16| v.to_f32()
);
dot_avx512!(
    dot_f32_avx512,
    f32,
    |p: *const f32| _mm512_loadu_ps(p),
    |v: f32| v
);
dot_avx512!(
    dot_f16_avx512,
    f16,
    |p: *const f16| _mm512_cvtph_ps(_mm256_loadu_si256(p as *const __m256i)),
    |v: f16| v.to_f32()
);
dot_avx512!(
    dot_bf16_avx512,
    bf16,
    |p: *const bf16| _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(
        _mm256_loadu_si256(p as *const __m256i)
    ))),
    |v: bf16| v.to_f32()
);

#[target_feature(enable = "avx")]
unsafe fn hsum256(v: __m256) -> f32 {
    let mut lanes = [0f32; 8];
    // SAFETY: stores 8 floats into an 8-float array.
    unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), v) };
    lanes.iter().sum()
}

/// The 6×16 AVX2 micro-kernel: `C[r][c] (+)= Σ_kk a[kk·6 + r] · b[kk·16 + c]` for the 6×16
/// tile at `c` with row stride `ldc` (added to C when `add`, else stored). Twelve named
/// accumulators (an array may be kept in memory), two B vectors and one broadcast A value: 15 of
/// the 16 ymm registers.
///
/// # Safety
/// AVX2 and FMA present; `a` and `b` hold kc·6 and kc·16 floats; `c` points at 6 rows of 16
/// writable floats `ldc` apart that no other thread touches.
#[target_feature(enable = "avx2,fma")]
pub(super) unsafe fn kernel_6x16(
    kc: usize,
    a: &[f32],
    b: &[f32],
    c: *mut f32,
    ldc: usize,
    add: bool,
) {
    debug_assert!(a.len() >= kc * 6 && b.len() >= kc * 16);
    // SAFETY: the caller's contract above.
    unsafe {
        let (ap, bp) = (a.as_ptr(), b.as_ptr());
        let z = _mm256_setzero_ps();
        let (mut c00, mut c01, mut c10, mut c11, mut c20, mut c21) = (z, z, z, z, z, z);
        let (mut c30, mut c31, mut c40, mut c41, mut c50, mut c51) = (z, z, z, z, z, z);
        // One K step: two B vectors, six broadcasts, twelve FMAs.
        macro_rules! step {
            ($kk:expr) => {
                let b0 = _mm256_loadu_ps(bp.add($kk * 16));
                let b1 = _mm256_loadu_ps(bp.add($kk * 16 + 8));
                macro_rules! row {
                    ($r:expr, $x0:ident, $x1:ident) => {
                        let av = _mm256_broadcast_ss(&*ap.add($kk * 6 + $r));
                        $x0 = _mm256_fmadd_ps(av, b0, $x0);
                        $x1 = _mm256_fmadd_ps(av, b1, $x1);
                    };
                }
                row!(0, c00, c01);
                row!(1, c10, c11);
                row!(2, c20, c21);
                row!(3, c30, c31);
                row!(4, c40, c41);
                row!(5, c50, c51);
            };
        }
        // Unrolled by two: less loop overhead per FMA.
        let mut kk = 0;
        while kk + 2 <= kc {
            step!(kk);
            step!(kk + 1);
            kk += 2;
        }
        if kk < kc {
            step!(kk);
        }
        for (r, (mut v0, mut v1)) in [
            (c00, c01),
            (c10, c11),
            (c20, c21),
            (c30, c31),
            (c40, c41),
            (c50, c51),
        ]
        .into_iter()
        .enumerate()
        {
            let row = c.add(r * ldc);
            if add {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row.add(8)));
            }
            _mm256_storeu_ps(row, v0);
            _mm256_storeu_ps(row.add(8), v1);
        }
    }
}
