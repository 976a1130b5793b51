//! AVX2 LUT kernels: one tile of 32 rows (one 256-bit vector of index bytes per pair and
//! plane) against one token's tables, in the operation order of [`super::scalar`].
//!
//! * int8 tables: the two 16-byte tables of a pair broadcast to both lanes, `vpshufb` of the
//!   low and high nibbles, the two results interleaved (`vpunpck{l,h}bw`) so one `vpmaddubsw`
//!   with `2^i` adds a row's two look-ups weighted by its plane: int16 sums, exact within a
//!   span (`15·127·16 < 2^15`), widened once per span.
//! * f32 tables: each index picks its entry from the two 8-entry halves (`vpermps` reads the
//!   low 3 bits) by its bit 3 (`vblendvps` on the index shifted to the sign bit).

use std::arch::x86_64::*;

use super::layout::{LutWeights, TILE_ROWS};
use super::scalar::TileGeometry;
use super::tables::ENTRIES;
use super::Tables;

/// See [`super::scalar::tile`].
///
/// # Safety
/// The CPU must have AVX2 and FMA; `tabs` and `sx` must be one token's tables for `w`, and
/// `y` at least 32 long.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn tile(w: &LutWeights, tile: usize, tabs: &Tables, sx: &[f32], y: &mut [f32]) {
    let geo = TileGeometry::of(w);
    let stream = &w.planes()[tile * w.tile_bytes()..][..w.tile_bytes()];
    let scales = &w.scales()[tile * geo.groups * TILE_ROWS..][..geo.groups * TILE_ROWS];
    let zeros = &w.zeros()[tile * geo.groups * TILE_ROWS..][..geo.groups * TILE_ROWS];
    assert!(y.len() >= TILE_ROWS && sx.len() >= geo.groups);
    let mut acc_y = [_mm256_setzero_ps(); 4];
    let c = _mm256_set1_ps(geo.c);
    for g in 0..geo.groups {
        let s = &scales[g * TILE_ROWS..][..TILE_ROWS];
        let z = &zeros[g * TILE_ROWS..][..TILE_ROWS];
        let sv: [__m256; 4] = std::array::from_fn(|j| _mm256_loadu_ps(s[8 * j..].as_ptr()));
        match *tabs {
            Tables::F32 { t } => {
                let acc = group_f32(stream, &geo, g, t);
                for j in 0..4 {
                    acc_y[j] = _mm256_fmadd_ps(acc[j], sv[j], acc_y[j]);
                }
            }
            Tables::Int8 { q, ls } => {
                let range = geo.group_range(g);
                for p0 in range.clone().step_by(geo.span_pairs) {
                    let p1 = (p0 + geo.span_pairs).min(range.end);
                    let sums = match geo.bits {
                        1 => span_i8::<1>(stream, p0..p1, q),
                        2 => span_i8::<2>(stream, p0..p1, q),
                        3 => span_i8::<3>(stream, p0..p1, q),
                        _ => span_i8::<4>(stream, p0..p1, q),
                    };
                    let f = _mm256_set1_ps(ls[p0 / geo.span_pairs] * 0.5);
                    for j in 0..4 {
                        let sf = _mm256_mul_ps(sv[j], f);
                        acc_y[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[j]), sf, acc_y[j]);
                    }
                }
            }
        }
        let sxg = _mm256_set1_ps(sx[g]);
        for j in 0..4 {
            let beta = _mm256_mul_ps(
                sv[j],
                _mm256_sub_ps(c, _mm256_loadu_ps(z[8 * j..].as_ptr())),
            );
            acc_y[j] = _mm256_fmadd_ps(beta, sxg, acc_y[j]);
        }
    }
    for (j, a) in acc_y.iter().enumerate() {
        _mm256_storeu_ps(y[8 * j..].as_mut_ptr(), *a);
    }
}

/// The 32 rows' integer sums `Σ 2^i·(Q[lo] + Q[hi])` over `pairs` (one span) of `B`-plane
/// weights, rows 8j..8j+8 in lane group `j`. (`B` a constant: the plane loop unrolls and its
/// weights are constants.)
#[inline(always)]
unsafe fn span_i8<const B: usize>(
    stream: &[u8],
    pairs: std::ops::Range<usize>,
    q: &[i8],
) -> [__m256i; 4] {
    let nib = _mm256_set1_epi8(0x0F);
    let (mut a, mut b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let units = &stream[pairs.start * B * TILE_ROWS..pairs.end * B * TILE_ROWS];
    let tabs = &q[2 * pairs.start * ENTRIES..2 * pairs.end * ENTRIES];
    for (unit_pair, tab) in units
        .chunks_exact(B * TILE_ROWS)
        .zip(tabs.chunks_exact(2 * ENTRIES))
    {
        let tlo = _mm256_broadcastsi128_si256(_mm_loadu_si128(tab.as_ptr().cast()));
        let thi = _mm256_broadcastsi128_si256(_mm_loadu_si128(tab[ENTRIES..].as_ptr().cast()));
        for i in 0..B {
            let v = _mm256_loadu_si256(unit_pair[i * TILE_ROWS..].as_ptr().cast());
            let lo = _mm256_shuffle_epi8(tlo, _mm256_and_si256(v, nib));
            let hi = _mm256_shuffle_epi8(thi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
            let pw = _mm256_set1_epi8(1 << i);
            a = _mm256_add_epi16(a, _mm256_maddubs_epi16(pw, _mm256_unpacklo_epi8(lo, hi)));
            b = _mm256_add_epi16(b, _mm256_maddubs_epi16(pw, _mm256_unpackhi_epi8(lo, hi)));
        }
    }
    // `a` holds rows 0–7 (lane 0) and 16–23 (lane 1), `b` rows 8–15 and 24–31.
    [
        _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)),
        _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)),
        _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)),
        _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)),
    ]
}

/// Entry `idx` (per lane, 0–15) of a 16-entry f32 table held as two 8-entry halves.
#[inline(always)]
unsafe fn lookup(t0: __m256, t1: __m256, idx: __m256i) -> __m256 {
    let a = _mm256_permutevar8x32_ps(t0, idx);
    let b = _mm256_permutevar8x32_ps(t1, idx);
    _mm256_blendv_ps(a, b, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)))
}

/// The 32 rows' f32 table sums of group `g`, `acc ← fma(T[idx], 2^(i−1), acc)`.
#[inline(always)]
unsafe fn group_f32(stream: &[u8], geo: &TileGeometry, g: usize, t: &[f32]) -> [__m256; 4] {
    let nib = _mm256_set1_epi32(0x0F);
    let mut acc = [_mm256_setzero_ps(); 4];
    for p in geo.group_range(g) {
        let tab = &t[2 * p * ENTRIES..][..2 * ENTRIES];
        let half = |o: usize| _mm256_loadu_ps(tab[o..].as_ptr());
        let (l0, l1, h0, h1) = (half(0), half(8), half(16), half(24));
        for i in 0..geo.bits {
            let unit = &stream[(p * geo.bits + i) * TILE_ROWS..][..TILE_ROWS];
            let wi = _mm256_set1_ps(0.5 * (1u32 << i) as f32);
            for (j, a) in acc.iter_mut().enumerate() {
                let bytes = _mm256_cvtepu8_epi32(_mm_loadl_epi64(unit[8 * j..].as_ptr().cast()));
                let lo = lookup(l0, l1, _mm256_and_si256(bytes, nib));
                let hi = lookup(h0, h1, _mm256_srli_epi32(bytes, 4));
                *a = _mm256_fmadd_ps(lo, wi, *a);
                *a = _mm256_fmadd_ps(hi, wi, *a);
            }
        }
    }
    acc
}

/// [`super::dequant::tile`] with AVX2: per pair, each plane's bits spread to the 8 positions'
/// code bytes by compares, the codes widened to f32 and multiplied by x; same sums as the
/// portable kernel's order per row (positions ascending, then `s·acc − s·z·Σx`).
///
/// # Safety
/// The CPU must have AVX2 and FMA; `x` one token's K values, `sx` its group sums, `y` at
/// least 32 long.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn dequant_tile(
    w: &LutWeights,
    tile: usize,
    x: &[f32],
    sx: &[f32],
    y: &mut [f32],
) {
    let geo = TileGeometry::of(w);
    let stream = &w.planes()[tile * w.tile_bytes()..][..w.tile_bytes()];
    let scales = &w.scales()[tile * geo.groups * TILE_ROWS..][..geo.groups * TILE_ROWS];
    let zeros = &w.zeros()[tile * geo.groups * TILE_ROWS..][..geo.groups * TILE_ROWS];
    assert!(y.len() >= TILE_ROWS && sx.len() >= geo.groups);
    let mut yt = [_mm256_setzero_ps(); 4];
    for (g, &sxg) in sx.iter().enumerate().take(geo.groups) {
        let mut acc = [_mm256_setzero_ps(); 4];
        for p in geo.group_range(g) {
            let mut u = [_mm256_setzero_si256(); 8];
            for i in 0..geo.bits {
                let v =
                    _mm256_loadu_si256(stream[(p * geo.bits + i) * TILE_ROWS..].as_ptr().cast());
                let plane = _mm256_set1_epi8(1 << i);
                for (bit, ub) in u.iter_mut().enumerate() {
                    let m = _mm256_set1_epi8((1u8 << bit) as i8);
                    let set = _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
                    *ub = _mm256_or_si256(*ub, _mm256_and_si256(set, plane));
                }
            }
            for (ub, &xv) in u.iter().zip(&x[8 * p..x.len().min(8 * p + 8)]) {
                let xb = _mm256_set1_ps(xv);
                let lo = _mm256_castsi256_si128(*ub);
                let hi = _mm256_extracti128_si256(*ub, 1);
                let parts = [lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)];
                for (a, part) in acc.iter_mut().zip(parts) {
                    let c = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(part));
                    *a = _mm256_add_ps(*a, _mm256_mul_ps(c, xb));
                }
            }
        }
        let s = &scales[g * TILE_ROWS..][..TILE_ROWS];
        let z = &zeros[g * TILE_ROWS..][..TILE_ROWS];
        let sxv = _mm256_set1_ps(sxg);
        for j in 0..4 {
            let sv = _mm256_loadu_ps(s[8 * j..].as_ptr());
            let zv = _mm256_loadu_ps(z[8 * j..].as_ptr());
            let t = _mm256_sub_ps(
                _mm256_mul_ps(sv, acc[j]),
                _mm256_mul_ps(_mm256_mul_ps(sv, zv), sxv),
            );
            yt[j] = _mm256_add_ps(yt[j], t);
        }
    }
    for (j, v) in yt.iter().enumerate() {
        _mm256_storeu_ps(y[8 * j..].as_mut_ptr(), *v);
    }
}
