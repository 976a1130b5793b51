//! AVX2 integer row kernels (the speed path): x is quantised to int8 per 32-element block
//! ([`quantize_x`]), each weight block's integers are dotted with it by `vpmaddubsw` /
//! `vpmaddwd` (exact in i32), and the block's scales applied once in f32 — as llama.cpp's CPU
//! backend does. The x quantisation is the only approximation; its error bound is
//! `quant_matmul::int8_error_bound`, derived from the block scales.

use std::arch::x86_64::*;

use crate::formats::kquants::k_scale_min;
use crate::formats::QuantType;

/// Whether an integer row kernel exists for `ty`.
pub(crate) fn supports(ty: QuantType) -> bool {
    matches!(ty, QuantType::Q4_0 | QuantType::Q8_0 | QuantType::Q4_K)
}

/// One token's activations as int8 blocks of 32: `x ≈ dx[b]·q[i]` for `i` in block `b`.
pub(crate) struct QuantX {
    pub q: Vec<i8>,
    pub dx: Vec<f32>,
    pub sum: Vec<i32>,
}

/// `dx = max|x|/127` per block of 32 (f32, not rounded to f16), `q = round(x/dx)`.
pub(crate) fn quantize_x(x: &[f32]) -> QuantX {
    let blocks = x.len() / 32;
    let mut out = QuantX {
        q: vec![0; x.len()],
        dx: vec![0.0; blocks],
        sum: vec![0; blocks],
    };
    for b in 0..blocks {
        let xb = &x[32 * b..32 * b + 32];
        let amax = xb.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        let dx = amax / 127.0;
        let id = if dx > 0.0 { 1.0 / dx } else { 0.0 };
        let mut s = 0;
        for (q, &v) in out.q[32 * b..32 * b + 32].iter_mut().zip(xb) {
            *q = (v * id).round().clamp(-127.0, 127.0) as i8;
            s += i32::from(*q);
        }
        out.dx[b] = dx;
        out.sum[b] = s;
    }
    out
}

#[target_feature(enable = "avx2,fma")]
fn hsum(v: __m256) -> f32 {
    let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<1>(s, s)))
}

/// `Σ u[i]·s[i]` over 32 bytes (u unsigned ≤ 255 with no pair sum past i16, s signed) as 8
/// i32 lanes, converted to f32.
#[inline(always)]
fn dot_u8_i8(u: __m256i, s: __m256i) -> __m256 {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe {
        let p = _mm256_maddubs_epi16(u, s);
        _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)))
    }
}

/// The f16 at byte `at` of `b` by F16C (exact, subnormals included).
#[inline(always)]
fn f16_fast(b: &[u8], at: usize) -> f32 {
    let h = u16::from_le_bytes([b[at], b[at + 1]]);
    // SAFETY: only inlined into functions compiled with F16C.
    unsafe { _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(i32::from(h)))) }
}

/// `Σ a[i]·b[i]` for signed bytes (|b| ≤ 127), by the sign trick: `|a|` is unsigned.
#[inline(always)]
fn dot_i8_i8(a: __m256i, b: __m256i) -> __m256 {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe { dot_u8_i8(_mm256_sign_epi8(a, a), _mm256_sign_epi8(b, a)) }
}

/// One row of W against `T` quantised tokens: `out[t] ≈ Σ_i W[i]·x_t[i]`.
// `t` indexes several per-token arrays at once; an iterator over one of them reads worse.
#[allow(clippy::needless_range_loop)]
#[target_feature(enable = "avx2,fma,f16c")]
unsafe fn row_t<const T: usize>(
    ty: QuantType,
    row: &[u8],
    x: &[&QuantX; T],
    k: usize,
    out: &mut [f32],
) {
    // Two accumulators per token (alternate blocks) keep two FMA chains in flight.
    let mut acc = [[_mm256_setzero_ps(); 2]; T];
    let mut mins = [0.0f32; T];
    let nib = _mm256_set1_epi8(0x0f);
    // Raw pointers hoisted out of the loops: no bounds checks or reloads through `x`.
    let xq: [*const i8; T] = std::array::from_fn(|t| x[t].q.as_ptr());
    let dxp: [*const f32; T] = std::array::from_fn(|t| x[t].dx.as_ptr());
    let sump: [*const i32; T] = std::array::from_fn(|t| x[t].sum.as_ptr());
    let xload = |t: usize, at: usize| -> __m256i {
        // SAFETY: `at + 32 ≤ k = x[t].q.len()`: every caller passes a whole block's start.
        unsafe { _mm256_loadu_si256(xq[t].add(at) as *const __m256i) }
    };
    // SAFETY (both): `b < k / 32 = x[t].dx.len() = x[t].sum.len()` at every call.
    let dx = |t: usize, b: usize| unsafe { *dxp[t].add(b) };
    let xsum = |t: usize, b: usize| unsafe { *sump[t].add(b) };
    match ty {
        QuantType::Q4_0 | QuantType::Q8_0 => {
            let q4 = ty == QuantType::Q4_0;
            let eight = _mm256_set1_epi8(8);
            // Block b's scale and its 32 weights as signed bytes.
            let weights = |b: usize| -> (f32, __m256i) {
                // SAFETY: block b's quant bytes (16 from 18b + 2, or 32 from 34b + 2) lie inside
                // the row; AVX2 is enabled.
                unsafe {
                    if q4 {
                        let q16 = _mm_loadu_si128(row.as_ptr().add(18 * b + 2) as *const __m128i);
                        let m4 = _mm256_castsi256_si128(nib);
                        let lo = _mm_and_si128(q16, m4);
                        let hi = _mm_and_si128(_mm_srli_epi16::<4>(q16), m4);
                        // q − 8 ∈ [−8, 7].
                        let q = _mm256_sub_epi8(_mm256_set_m128i(hi, lo), eight);
                        (f16_fast(row, 18 * b), q)
                    } else {
                        let q = _mm256_loadu_si256(row.as_ptr().add(34 * b + 2) as *const __m256i);
                        (f16_fast(row, 34 * b), q)
                    }
                }
            };
            // Block b into accumulator `lane` (a literal at each call, so it stays a register).
            let block = |acc: &mut [[__m256; 2]; T], b: usize, lane: usize| {
                let (d, q) = weights(b);
                for t in 0..T {
                    let scale = _mm256_set1_ps(d * dx(t, b));
                    acc[t][lane] =
                        _mm256_fmadd_ps(dot_i8_i8(q, xload(t, 32 * b)), scale, acc[t][lane]);
                }
            };
            let nb = k / 32;
            for b in (0..nb - nb % 2).step_by(2) {
                block(&mut acc, b, 0);
                block(&mut acc, b + 1, 1);
            }
            if nb % 2 == 1 {
                block(&mut acc, nb - 1, 0);
            }
        }
        QuantType::Q4_K => {
            for b in 0..k / 256 {
                let blk = &row[144 * b..144 * (b + 1)];
                let (d, dmin) = (f16_fast(blk, 0), f16_fast(blk, 2));
                for c in 0..4 {
                    // SAFETY: bytes 16 + 32c .. 48 + 32c of the 144-byte block.
                    let q32 = unsafe {
                        _mm256_loadu_si256(blk.as_ptr().add(16 + 32 * c) as *const __m256i)
                    };
                    let halves = [
                        _mm256_and_si256(q32, nib),
                        _mm256_and_si256(_mm256_srli_epi16::<4>(q32), nib),
                    ];
                    for (h, q) in halves.into_iter().enumerate() {
                        let j = 2 * c + h;
                        let (sc, mn) = k_scale_min(&blk[4..16], j);
                        let (ds, dm) = (d * f32::from(sc), dmin * f32::from(mn));
                        let xb = 8 * b + j;
                        for t in 0..T {
                            let dx = dx(t, xb);
                            let a = &mut acc[t][h];
                            *a = _mm256_fmadd_ps(
                                dot_u8_i8(q, xload(t, 32 * xb)),
                                _mm256_set1_ps(ds * dx),
                                *a,
                            );
                            mins[t] += dm * dx * xsum(t, xb) as f32;
                        }
                    }
                }
            }
        }
        _ => unreachable!("supports() was checked"),
    }
    for t in 0..T {
        out[t] = hsum(_mm256_add_ps(acc[t][0], acc[t][1])) - mins[t];
    }
}

/// One row of W against up to four quantised tokens.
///
/// # Safety
/// The CPU has AVX2, FMA and F16C; `ty` passes [`supports`]; `row` is one row of `k / block`
/// blocks; every token was quantised from `k` values; `out.len() ≥ x.len()`, `x.len() ≤ 4`.
#[target_feature(enable = "avx2,fma,f16c")]
pub(crate) unsafe fn row_int8(ty: QuantType, row: &[u8], x: &[&QuantX], k: usize, out: &mut [f32]) {
    // SAFETY (all four): this function's contract, with exactly T tokens.
    unsafe {
        match x.len() {
            1 => row_t::<1>(ty, row, &[x[0]], k, out),
            2 => row_t::<2>(ty, row, &[x[0], x[1]], k, out),
            3 => row_t::<3>(ty, row, &[x[0], x[1], x[2]], k, out),
            _ => row_t::<4>(ty, row, &[x[0], x[1], x[2], x[3]], k, out),
        }
    }
}
