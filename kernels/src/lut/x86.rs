//! AVX2 and AVX-512 LUT kernels: one tile of 32 rows (one 256-bit vector of index bytes per
//! pair and plane) against one token's tables, in the operation order of [`super::scalar`];
//! the tables themselves; and the dequantise-in-register baseline.
//!
//! * int8 tables: the two 16-byte tables of a pair broadcast to both lanes, `vpshufb` of the
//!   low and high nibbles, the two results interleaved (`vpunpck{l,h}bw`) so one `vpmaddubsw`
//!   with `2^i` adds a row's two look-ups weighted by its plane: int16 sums, exact within a
//!   span (`(2^b − 1)·127·span/4 < 2^15`), widened once per span. With AVX-512 BW one
//!   512-bit vector carries two consecutive plane vectors ([`span_i8_512`]).
//!   (`vpermb` would look up 64-entry tables — three index groups at once — but needs a
//!   6-bit index layout; the 4-bit one serves every level.)
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
    match w.bits() {
        1 => tile_impl::<false, 1>(w, tile, tabs, sx, y),
        2 => tile_impl::<false, 2>(w, tile, tabs, sx, y),
        3 => tile_impl::<false, 3>(w, tile, tabs, sx, y),
        _ => tile_impl::<false, 4>(w, tile, tabs, sx, y),
    }
}

/// [`tile`] with the int8 look-ups on 512-bit vectors (two plane vectors a `vpshufb`).
///
/// # Safety
/// As [`tile`], and the CPU must have AVX-512 F and BW.
#[target_feature(enable = "avx512f,avx512bw,avx2,fma")]
pub(crate) unsafe fn tile512(
    w: &LutWeights,
    tile: usize,
    tabs: &Tables,
    sx: &[f32],
    y: &mut [f32],
) {
    match w.bits() {
        1 => tile_impl::<true, 1>(w, tile, tabs, sx, y),
        2 => tile_impl::<true, 2>(w, tile, tabs, sx, y),
        3 => tile_impl::<true, 3>(w, tile, tabs, sx, y),
        _ => tile_impl::<true, 4>(w, tile, tabs, sx, y),
    }
}

/// The tile kernel for `B` planes, int8 look-ups 512 bits wide when `WIDE`.
#[inline(always)]
unsafe fn tile_impl<const WIDE: bool, const B: usize>(
    w: &LutWeights,
    tile: usize,
    tabs: &Tables,
    sx: &[f32],
    y: &mut [f32],
) {
    let geo = TileGeometry::of(w);
    let stream = w.tile_planes(tile);
    let (scales, zeros) = w.tile_scales(tile);
    assert!(y.len() >= TILE_ROWS && sx.len() >= geo.groups);
    let mut acc_y = [_mm256_setzero_ps(); 4];
    let c = _mm256_set1_ps(geo.c);
    for g in 0..geo.groups {
        let s = &scales[g * TILE_ROWS..][..TILE_ROWS];
        let z = &zeros[g * TILE_ROWS..][..TILE_ROWS];
        // Row scales are loaded where used: held in an array they were spilled to the stack.
        let sv = |j: usize| _mm256_loadu_ps(s[8 * j..].as_ptr());
        match *tabs {
            Tables::F32 { t } => {
                let acc = group_f32(stream, &geo, g, t);
                for j in 0..4 {
                    acc_y[j] = _mm256_fmadd_ps(acc[j], sv(j), acc_y[j]);
                }
            }
            Tables::Int8 { q, ls } => {
                let range = geo.group_range(g);
                for p0 in range.clone().step_by(geo.span_pairs) {
                    let p1 = (p0 + geo.span_pairs).min(range.end);
                    let sums = if WIDE {
                        span_i8_512::<B>(stream, p0..p1, q)
                    } else {
                        span_i8::<B>(stream, p0..p1, q)
                    };
                    let f = _mm256_set1_ps(ls[p0 / geo.span_pairs] * 0.5);
                    for j in 0..4 {
                        let sf = _mm256_mul_ps(sv(j), f);
                        acc_y[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[j]), sf, acc_y[j]);
                    }
                }
            }
        }
        let sxg = _mm256_set1_ps(sx[g]);
        for j in 0..4 {
            let beta = _mm256_mul_ps(
                sv(j),
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
    let (mut a, mut b) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    let units = &stream[pairs.start * B * TILE_ROWS..pairs.end * B * TILE_ROWS];
    let tabs = &q[2 * pairs.start * ENTRIES..2 * pairs.end * ENTRIES];
    for (unit_pair, tab) in units
        .chunks_exact(B * TILE_ROWS)
        .zip(tabs.chunks_exact(2 * ENTRIES))
    {
        pair_i8::<B>(unit_pair, tab, &mut a, &mut b);
    }
    widen(a, b)
}

/// One pair's `B` plane vectors against its two tables, into the int16 sums `a`, `b`.
#[inline(always)]
unsafe fn pair_i8<const B: usize>(units: &[u8], tab: &[i8], a: &mut __m256i, b: &mut __m256i) {
    let nib = _mm256_set1_epi8(0x0F);
    let tlo = _mm256_broadcastsi128_si256(_mm_loadu_si128(tab.as_ptr().cast()));
    let thi = _mm256_broadcastsi128_si256(_mm_loadu_si128(tab[ENTRIES..].as_ptr().cast()));
    for i in 0..B {
        let v = _mm256_loadu_si256(units[i * TILE_ROWS..].as_ptr().cast());
        let lo = _mm256_shuffle_epi8(tlo, _mm256_and_si256(v, nib));
        let hi = _mm256_shuffle_epi8(thi, _mm256_and_si256(_mm256_srli_epi16(v, 4), nib));
        let pw = _mm256_set1_epi8(1 << i);
        *a = _mm256_add_epi16(*a, _mm256_maddubs_epi16(pw, _mm256_unpacklo_epi8(lo, hi)));
        *b = _mm256_add_epi16(*b, _mm256_maddubs_epi16(pw, _mm256_unpackhi_epi8(lo, hi)));
    }
}

/// The int16 sums as i32 rows 8j..8j+8 in vector `j`: `a` holds rows 0–7 (lane 0) and 16–23
/// (lane 1), `b` rows 8–15 and 24–31.
#[inline(always)]
unsafe fn widen(a: __m256i, b: __m256i) -> [__m256i; 4] {
    [
        _mm256_cvtepi16_epi32(_mm256_castsi256_si128(a)),
        _mm256_cvtepi16_epi32(_mm256_castsi256_si128(b)),
        _mm256_cvtepi16_epi32(_mm256_extracti128_si256(a, 1)),
        _mm256_cvtepi16_epi32(_mm256_extracti128_si256(b, 1)),
    ]
}

/// [`span_i8`] on 512-bit vectors: each holds two consecutive plane vectors of the stream,
/// (pair p, plane i) and the next, so its two 256-bit halves look up their own pair's tables
/// with their own plane weights; the halves' sums (the same 32 rows) are added at the end.
/// B = 2, 4: both halves are the same pair (planes i, i + 1). B = 1: pairs p, p + 1. B = 3:
/// two pairs are three vectors — (p,0 | p,1), (p,2 | p+1,0), (p+1,1 | p+1,2). A pair left
/// over (B odd, an odd number of pairs in the span) takes the 256-bit path.
#[inline(always)]
unsafe fn span_i8_512<const B: usize>(
    stream: &[u8],
    pairs: std::ops::Range<usize>,
    q: &[i8],
) -> [__m256i; 4] {
    let (mut a, mut b) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut p = pairs.start;
    match B {
        2 | 4 => {
            for p in pairs.clone() {
                // One pair in both halves: each table broadcast from memory (no shuffle).
                let tab = &q[2 * p * ENTRIES..][..2 * ENTRIES];
                let t = (
                    _mm512_broadcast_i32x4(_mm_loadu_si128(tab.as_ptr().cast())),
                    _mm512_broadcast_i32x4(_mm_loadu_si128(tab[ENTRIES..].as_ptr().cast())),
                );
                for i in (0..B).step_by(2) {
                    step512(stream, p * B + i, t, weights512(i, i + 1), &mut a, &mut b);
                }
            }
            p = pairs.end;
        }
        1 => {
            while p + 2 <= pairs.end {
                step512(
                    stream,
                    p,
                    tables512(q, p, p + 1),
                    weights512(0, 0),
                    &mut a,
                    &mut b,
                );
                p += 2;
            }
        }
        _ => {
            while p + 2 <= pairs.end {
                let (t0, t1) = (tables512(q, p, p), tables512(q, p + 1, p + 1));
                step512(stream, 3 * p, t0, weights512(0, 1), &mut a, &mut b);
                let t01 = tables512(q, p, p + 1);
                step512(stream, 3 * p + 2, t01, weights512(2, 0), &mut a, &mut b);
                step512(stream, 3 * p + 4, t1, weights512(1, 2), &mut a, &mut b);
                p += 2;
            }
        }
    }
    let (mut a, mut b) = (half512(a), half512(b));
    if p < pairs.end {
        pair_i8::<B>(
            &stream[p * B * TILE_ROWS..],
            &q[2 * p * ENTRIES..],
            &mut a,
            &mut b,
        );
    }
    widen(a, b)
}

/// The sum of a 512-bit vector's two 256-bit halves (int16).
#[inline(always)]
unsafe fn half512(v: __m512i) -> __m256i {
    _mm256_add_epi16(_mm512_castsi512_si256(v), _mm512_extracti64x4_epi64::<1>(v))
}

/// The (low-nibble, high-nibble) tables of a 512-bit vector whose halves are pairs p0 and p1.
#[inline(always)]
unsafe fn tables512(q: &[i8], p0: usize, p1: usize) -> (__m512i, __m512i) {
    let t0 = _mm512_castsi256_si512(_mm256_loadu_si256(q[2 * p0 * ENTRIES..].as_ptr().cast()));
    let t1 = _mm256_loadu_si256(q[2 * p1 * ENTRIES..].as_ptr().cast());
    let t = _mm512_inserti64x4::<1>(t0, t1);
    // Lanes (lo p0, hi p0, lo p1, hi p1) → lo: (0, 0, 2, 2), hi: (1, 1, 3, 3).
    (
        _mm512_shuffle_i64x2::<0b10_10_00_00>(t, t),
        _mm512_shuffle_i64x2::<0b11_11_01_01>(t, t),
    )
}

/// Plane weights `2^i0` (low half) and `2^i1` (high half) as bytes.
#[inline(always)]
unsafe fn weights512(i0: usize, i1: usize) -> __m512i {
    _mm512_inserti64x4::<1>(
        _mm512_castsi256_si512(_mm256_set1_epi8(1 << i0)),
        _mm256_set1_epi8(1 << i1),
    )
}

/// The two plane vectors at `at` (in 32-byte units) against their tables, into `a`, `b`.
#[inline(always)]
unsafe fn step512(
    stream: &[u8],
    at: usize,
    (tlo, thi): (__m512i, __m512i),
    pw: __m512i,
    a: &mut __m512i,
    b: &mut __m512i,
) {
    let nib = _mm512_set1_epi8(0x0F);
    let v = _mm512_loadu_si512(stream[at * TILE_ROWS..][..2 * TILE_ROWS].as_ptr().cast());
    let lo = _mm512_shuffle_epi8(tlo, _mm512_and_si512(v, nib));
    let hi = _mm512_shuffle_epi8(thi, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
    *a = _mm512_add_epi16(*a, _mm512_maddubs_epi16(pw, _mm512_unpacklo_epi8(lo, hi)));
    *b = _mm512_add_epi16(*b, _mm512_maddubs_epi16(pw, _mm512_unpackhi_epi8(lo, hi)));
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
    let stream = w.tile_planes(tile);
    let (scales, zeros) = w.tile_scales(tile);
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

/// The 8 computed entries of index group `x4`'s table: `((±x0 ± x1) ± x2) − x3`, sign `+` where
/// bit `t` of the entry is set — the portable `table_f32`'s operations (a product by ±1 is
/// exact, so each FMA rounds once, as its add does).
#[inline(always)]
unsafe fn half_table(x4: &[f32]) -> __m256 {
    let s0 = _mm256_setr_ps(-1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0);
    let s1 = _mm256_setr_ps(-1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, 1.0);
    let s2 = _mm256_setr_ps(-1.0, -1.0, -1.0, -1.0, 1.0, 1.0, 1.0, 1.0);
    let v = _mm256_mul_ps(_mm256_set1_ps(x4[0]), s0);
    let v = _mm256_fmadd_ps(_mm256_set1_ps(x4[1]), s1, v);
    let v = _mm256_fmadd_ps(_mm256_set1_ps(x4[2]), s2, v);
    _mm256_sub_ps(v, _mm256_set1_ps(x4[3]))
}

/// Entries 8–15 from entries 0–7: `T[15 − e] = −T[e]`.
#[inline(always)]
unsafe fn mirror(t8: __m256) -> __m256 {
    let rev = _mm256_permutevar8x32_ps(t8, _mm256_setr_epi32(7, 6, 5, 4, 3, 2, 1, 0));
    _mm256_xor_ps(rev, _mm256_set1_ps(-0.0))
}

/// [`super::tables::tables_f32`] with AVX2 (same values bit for bit).
///
/// # Safety
/// The CPU must have AVX2 and FMA; `x.len()` a multiple of 4, `out` at least `4·x.len()` long.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn tables_f32(x: &[f32], out: &mut [f32]) {
    for (x4, t) in x.chunks_exact(4).zip(out.chunks_exact_mut(ENTRIES)) {
        let t8 = half_table(x4);
        _mm256_storeu_ps(t.as_mut_ptr(), t8);
        _mm256_storeu_ps(t[8..].as_mut_ptr(), mirror(t8));
    }
}

/// [`super::tables::tables_i8`] with AVX2 (same values bit for bit: entries times `1/ls`,
/// rounded half to even; `|T·(1/ls)| ≤ 127·(1 + 2⁻²³)` rounds to at most 127, so the packs'
/// saturation never acts).
///
/// # Safety
/// The CPU must have AVX2 and FMA; `x.len()` a multiple of 4, `out` at least `4·x.len()` long,
/// `scales` at least `⌈x.len()/span⌉`.
#[target_feature(enable = "avx2,fma")]
pub(crate) unsafe fn tables_i8(x: &[f32], span: usize, out: &mut [i8], scales: &mut [f32]) {
    for ((xs, ts), ls) in x
        .chunks(span)
        .zip(out.chunks_mut(span / 4 * ENTRIES))
        .zip(scales.iter_mut())
    {
        *ls = super::tables::span_scale(xs);
        let inv = _mm256_set1_ps(if *ls > 0.0 { 1.0 / *ls } else { 0.0 });
        for (x4, t) in xs.chunks_exact(4).zip(ts.chunks_exact_mut(ENTRIES)) {
            let t8 = half_table(x4);
            const NEAREST: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            let lo = _mm256_cvtps_epi32(_mm256_round_ps::<NEAREST>(_mm256_mul_ps(t8, inv)));
            let hi = _mm256_cvtps_epi32(_mm256_round_ps::<NEAREST>(_mm256_mul_ps(mirror(t8), inv)));
            // i16 [lo0-3, hi0-3 | lo4-7, hi4-7] → [lo0-7 | hi0-7] → bytes lo0-7, hi0-7.
            let w = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packs_epi32(lo, hi));
            let b = _mm256_permute4x64_epi64::<0b10_00_10_00>(_mm256_packs_epi16(w, w));
            _mm_storeu_si128(t.as_mut_ptr().cast(), _mm256_castsi256_si128(b));
        }
    }
}
