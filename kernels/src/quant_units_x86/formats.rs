//! How each format unpacks 32 weights into a [`Unit`]: the shared bit tricks, then one
//! [`Units`] implementation per format.

use std::arch::x86_64::*;

use super::{Unit, Units};
use crate::formats::fp4::KV as FP4_VALUES;
use crate::formats::iq4::KVALUES as IQ4_VALUES;
use crate::quant_int8_x86::{bytes_to_f32, k_scales_mins, load};

/// Byte `i` of the result is `0xff` where bit `i` of `bits` is set, else 0.
#[inline(always)]
unsafe fn bit_bytes(bits: u32) -> __m256i {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe {
        let v = _mm256_set1_epi32(bits as i32);
        let spread = _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3,
            3, 3, 3,
        );
        let mask = _mm256_set1_epi64x(0x8040_2010_0804_0201u64 as i64);
        let b = _mm256_and_si256(_mm256_shuffle_epi8(v, spread), mask);
        _mm256_cmpeq_epi8(b, mask)
    }
}

/// Each byte of `v` shifted right by `n` (< 8), masked to `mask`.
#[inline(always)]
unsafe fn shr_mask(v: __m256i, n: usize, mask: i8) -> __m256i {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe {
        let s = _mm256_srl_epi16(v, _mm_cvtsi32_si128(n as i32));
        _mm256_and_si256(s, _mm256_set1_epi8(mask))
    }
}

/// 16 bytes of nibbles as 32 values, element `j` the low and `j + 16` the high nibble of
/// byte `j` (the legacy, IQ4 and I4G order).
#[inline(always)]
unsafe fn nibbles_split(p: *const u8) -> __m256i {
    // SAFETY: 16 readable bytes at `p` (the caller's block); AVX2 is enabled by the caller.
    unsafe {
        let v = _mm_loadu_si128(p as *const __m128i);
        let w = _mm256_set_m128i(_mm_srli_epi16::<4>(v), v);
        _mm256_and_si256(w, _mm256_set1_epi8(0x0f))
    }
}

/// Each 4-bit index of `idx` replaced by its entry of `table`.
#[inline(always)]
unsafe fn lookup16(table: &[i8; 16], idx: __m256i) -> __m256i {
    // SAFETY: 16 readable bytes in `table`; AVX2 is enabled by the caller.
    unsafe {
        let t = _mm_loadu_si128(table.as_ptr() as *const __m128i);
        _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(t), idx)
    }
}

/// `[a; 4] ++ [b; 4]`.
#[inline(always)]
unsafe fn halves(a: f32, b: f32) -> __m256 {
    // SAFETY: AVX is enabled by the caller.
    unsafe { _mm256_set_m128(_mm_set1_ps(b), _mm_set1_ps(a)) }
}

/// The f16 at `p` as f32, exactly (subnormals, infinities and NaN included), in integer
/// registers. F16C's `vcvtph2ps` on one 16-bit load let LLVM insert the value into whatever
/// vector register was free — the accumulator among them — which chained every block to the
/// previous one (17 cycles a block, seen in the disassembly). Normal values take five integer
/// operations; the rest go to [`f16_rare`], a branch real weights never take.
#[inline(always)]
unsafe fn f16_one(p: *const u8) -> f32 {
    // SAFETY: two readable bytes at `p`.
    let h = u32::from(unsafe { std::ptr::read_unaligned(p as *const u16) });
    let em = h & 0x7fff;
    if em.wrapping_sub(0x400) < 0x7c00 - 0x400 {
        // Rebias the exponent (15 → 127).
        f32::from_bits(((em << 13) + (112 << 23)) | (h & 0x8000) << 16)
    } else {
        f16_rare(h as u16)
    }
}

/// An f16 that is zero, subnormal, infinite or NaN, as f32.
#[cold]
fn f16_rare(h: u16) -> f32 {
    half::f16::from_bits(h).to_f32()
}

/// The two f16 at `p` and `p + 2`, through F16C (one 32-bit load fills the whole register, so
/// no false dependency).
#[inline(always)]
unsafe fn f16_two(p: *const u8) -> (f32, f32) {
    // SAFETY: four readable bytes at `p`; F16C is enabled by the caller.
    unsafe {
        let v = _mm_cvtph_ps(_mm_cvtsi32_si128(std::ptr::read_unaligned(p as *const i32)));
        (_mm_cvtss_f32(v), _mm_cvtss_f32(_mm_movehdup_ps(v)))
    }
}

/// [`e8m0_half`] and [`ue4m3_half`] for every byte (NVFP4 met `powi` per scale otherwise).
static E8M0_HALF: [f32; 256] = byte_table(0);
static UE4M3_HALF: [f32; 256] = byte_table(1);

/// The table of `e8m0_half` (`which == 0`) or `ue4m3_half`: the same values, built from bits.
const fn byte_table(which: u8) -> [f32; 256] {
    let mut t = [0.0f32; 256];
    let mut i = 0;
    while i < 256 {
        let x = i as u32;
        t[i] = if which == 0 {
            // 2^(x − 128): subnormal below x = 2.
            f32::from_bits(if x < 2 {
                0x0020_0000 << x
            } else {
                (x - 1) << 23
            })
        } else {
            let (e, m) = ((x >> 3) & 15, x & 7);
            if x == 0x7f || (e == 0 && m == 0) {
                0.0
            } else if e == 0 {
                // m·2⁻⁹·½
                f32::from_bits(((m as f32) * (1.0 / 1024.0)).to_bits())
            } else {
                // (1 + m/8)·2^(e − 7)·½
                f32::from_bits(((e + 119) << 23) | m << 20)
            }
        };
        i += 1;
    }
    t
}

/// A unit with one scale and nothing else.
#[inline(always)]
unsafe fn plain(q: __m256i, s: f32) -> Unit {
    // SAFETY: AVX is enabled by the caller.
    let (s, o) = unsafe { (_mm256_set1_ps(s), _mm_setzero_ps()) };
    Unit { q, s, o, z: 0 }
}

/// Q4_1: `d, m: f16`, 16 bytes of nibbles; `w = d·q + m`.
pub(crate) struct Q4_1;
impl Units for Q4_1 {
    const ELEMS: usize = 32;
    const BYTES: usize = 20;
    const UNSIGNED: bool = true;
    const OFFSET: bool = true;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), _: usize) -> Unit {
        // SAFETY: a whole block at `b`.
        unsafe {
            let (d, m) = f16_two(b);
            Unit {
                o: _mm_set1_ps(m),
                ..plain(nibbles_split(b.add(4)), d)
            }
        }
    }
}

/// The 5-bit values of Q5_0/Q5_1: nibbles at `qs`, fifth bits in the u32 at `qh`.
#[inline(always)]
unsafe fn five_bits(qh: *const u8, qs: *const u8) -> __m256i {
    // SAFETY: 4 bytes at `qh`, 16 at `qs`; AVX2 is enabled by the caller.
    unsafe {
        let bits = bit_bytes(std::ptr::read_unaligned(qh as *const u32));
        let high = _mm256_and_si256(bits, _mm256_set1_epi8(0x10));
        _mm256_or_si256(nibbles_split(qs), high)
    }
}

/// Q5_0: `d: f16`, `qh: u32`, 16 bytes of nibbles; `w = d·(q − 16)`: unsigned codes with the
/// zero point 16 (met by x's integer sums, as I4G's), which skips the sign trick the signed
/// `q − 16` needed (1.5× faster).
pub(crate) struct Q5_0;
impl Units for Q5_0 {
    const ELEMS: usize = 32;
    const BYTES: usize = 22;
    const UNSIGNED: bool = true;
    const ZERO: bool = true;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), _: usize) -> Unit {
        // SAFETY: a whole block at `b`.
        unsafe {
            Unit {
                z: 16,
                ..plain(five_bits(b.add(2), b.add(6)), f16_one(b))
            }
        }
    }
}

/// Q5_1: `d, m: f16`, `qh: u32`, 16 bytes of nibbles; `w = d·q + m`.
pub(crate) struct Q5_1;
impl Units for Q5_1 {
    const ELEMS: usize = 32;
    const BYTES: usize = 24;
    const UNSIGNED: bool = true;
    const OFFSET: bool = true;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), _: usize) -> Unit {
        // SAFETY: a whole block at `b`.
        unsafe {
            let (d, m) = f16_two(b);
            Unit {
                o: _mm_set1_ps(m),
                ..plain(five_bits(b.add(4), b.add(8)), d)
            }
        }
    }
}

/// IQ4_NL: `d: f16`, 16 bytes of indices into the non-linear table.
pub(crate) struct Iq4Nl;
impl Units for Iq4Nl {
    const ELEMS: usize = 32;
    const BYTES: usize = 18;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), _: usize) -> Unit {
        // SAFETY: a whole block at `b`.
        unsafe { plain(lookup16(&IQ4_VALUES, nibbles_split(b.add(2))), f16_one(b)) }
    }
}

/// IQ4_XS: `d: f16`, `scales_h: u16`, `scales_l: [u8; 4]`, 8 × 16 bytes of indices; sub-block
/// `u`'s scale is `d·(ls − 32)` with a 6-bit `ls`.
pub(crate) struct Iq4Xs;
impl Units for Iq4Xs {
    const ELEMS: usize = 256;
    const BYTES: usize = 136;
    type Head = [f32; 8];
    #[inline(always)]
    unsafe fn head(b: *const u8) -> [f32; 8] {
        // SAFETY: a whole block at `b`.
        unsafe {
            let d = f16_one(b);
            let sh = std::ptr::read_unaligned(b.add(2) as *const u16);
            std::array::from_fn(|u| {
                let low = (*b.add(4 + u / 2) >> (4 * (u % 2))) & 15;
                let high = ((sh >> (2 * u)) & 3) as u8;
                d * f32::from(i16::from(low | (high << 4)) - 32)
            })
        }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, s: &[f32; 8], u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            plain(
                lookup16(&IQ4_VALUES, nibbles_split(b.add(8 + 16 * u))),
                s[u],
            )
        }
    }
}

/// MXFP4: an E8M0 exponent, 16 bytes of E2M1 codes (as doubled integers).
pub(crate) struct Mxfp4;
impl Units for Mxfp4 {
    const ELEMS: usize = 32;
    const BYTES: usize = 17;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), _: usize) -> Unit {
        // SAFETY: a whole block at `b`.
        unsafe {
            plain(
                lookup16(&FP4_VALUES, nibbles_split(b.add(1))),
                E8M0_HALF[usize::from(*b)],
            )
        }
    }
}

/// NVFP4: four UE4M3 scales (one per 16), then per 16 eight bytes of E2M1 codes, element `j`
/// the low and `j + 8` the high nibble of byte `j`.
pub(crate) struct Nvfp4;
impl Units for Nvfp4 {
    const ELEMS: usize = 64;
    const BYTES: usize = 36;
    type Head = ();
    unsafe fn head(_: *const u8) {}
    #[inline(always)]
    unsafe fn unit(b: *const u8, _: &(), u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 2`.
        unsafe {
            let v = _mm_loadu_si128(b.add(4 + 16 * u) as *const __m128i);
            let m = _mm_set1_epi8(0x0f);
            let (lo, hi) = (
                _mm_and_si128(v, m),
                _mm_and_si128(_mm_srli_epi16::<4>(v), m),
            );
            let idx = _mm256_set_m128i(_mm_unpackhi_epi64(lo, hi), _mm_unpacklo_epi64(lo, hi));
            Unit {
                s: halves(
                    UE4M3_HALF[usize::from(*b.add(2 * u))],
                    UE4M3_HALF[usize::from(*b.add(2 * u + 1))],
                ),
                ..plain(lookup16(&FP4_VALUES, idx), 0.0)
            }
        }
    }
}

/// Per-unit scale vectors from sixteen per-16 scales (`lo`: scales 0..8, `hi`: 8..16): unit
/// `u` gets scale `2u` over its first four lanes and `2u + 1` over the last four.
#[inline(always)]
unsafe fn pair_spread(lo: __m256, hi: __m256) -> [__m256; 8] {
    // SAFETY: AVX2 is enabled by the caller.
    unsafe {
        // A loop, not a closure: a closure is compiled without the caller's target features.
        let mut out = [_mm256_setzero_ps(); 8];
        for (u, o) in out.iter_mut().enumerate() {
            let (a, b) = ((2 * (u % 4)) as i32, (2 * (u % 4) + 1) as i32);
            let idx = _mm256_setr_epi32(a, a, a, a, b, b, b, b);
            *o = _mm256_permutevar8x32_ps(if u < 4 { lo } else { hi }, idx);
        }
        out
    }
}

/// Q2_K: 16 scale bytes (low nibble scale, high nibble minimum, per 16), 64 bytes of 2-bit
/// values (unit `4h + j`: bits `2j` of bytes `32h .. 32h + 32`), `d`, `dmin: f16`.
pub(crate) struct Q2K;
impl Units for Q2K {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 84;
    const UNSIGNED: bool = true;
    const OFFSET: bool = true;
    /// Scale vectors per unit, and `−dmin·m` per 16.
    type Head = ([__m256; 8], [f32; 16]);
    #[inline(always)]
    unsafe fn head(b: *const u8) -> Self::Head {
        // SAFETY: a whole block at `b`.
        unsafe {
            let (d, dmin) = f16_two(b.add(80));
            let v = _mm_loadu_si128(b as *const __m128i);
            let m4 = _mm_set1_epi8(0x0f);
            let (sc, mn) = (
                _mm_and_si128(v, m4),
                _mm_and_si128(_mm_srli_epi16::<4>(v), m4),
            );
            let f = |v: __m128i, by: f32| {
                let lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
                let hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128::<8>(v)));
                (
                    _mm256_mul_ps(lo, _mm256_set1_ps(by)),
                    _mm256_mul_ps(hi, _mm256_set1_ps(by)),
                )
            };
            let (s_lo, s_hi) = f(sc, d);
            let (m_lo, m_hi) = f(mn, -dmin);
            let mut mins = [0.0f32; 16];
            _mm256_storeu_ps(mins.as_mut_ptr(), m_lo);
            _mm256_storeu_ps(mins.as_mut_ptr().add(8), m_hi);
            (pair_spread(s_lo, s_hi), mins)
        }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, (s, mins): &Self::Head, u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let q = shr_mask(load(b.add(16 + 32 * (u / 4)) as *const i8), 2 * (u % 4), 3);
            let o = _mm_castpd_ps(_mm_load_sd(mins.as_ptr().add(2 * u) as *const f64));
            Unit {
                q,
                s: s[u],
                o,
                z: 0,
            }
        }
    }
}

/// Q3_K: 32 bytes of high bits (unit `u`: bit `u`), 64 bytes of 2-bit values (as Q2_K), 12
/// bytes of 6-bit scales (one per 16, offset 32), `d: f16`; `q = low2 − 4·(1 − high)`.
pub(crate) struct Q3K;
impl Units for Q3K {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 110;
    type Head = [__m256; 8];
    #[inline(always)]
    unsafe fn head(b: *const u8) -> [__m256; 8] {
        // SAFETY: a whole block at `b`.
        unsafe {
            let d = _mm256_set1_ps(f16_one(b.add(108)));
            // Scale s: low 4 bits from nibble s / 8 of byte s % 8, high 2 bits from bits
            // 2(s / 4) of byte 8 + s % 4; eight scales to a u64 of bytes at a time.
            let low = std::ptr::read_unaligned(b.add(96) as *const u64);
            let h = std::ptr::read_unaligned(b.add(104) as *const u32);
            const LOW4: u64 = 0x0f0f_0f0f_0f0f_0f0f;
            let high = |sh: u32| u64::from((h >> sh) & 0x0303_0303);
            let s_lo = (low & LOW4) | (high(0) | high(2) << 32) << 4;
            let s_hi = ((low >> 4) & LOW4) | (high(4) | high(6) << 32) << 4;
            let f = |v: u64| _mm256_mul_ps(_mm256_sub_ps(bytes_to_f32(v), _mm256_set1_ps(32.0)), d);
            pair_spread(f(s_lo), f(s_hi))
        }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, s: &[__m256; 8], u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let low = shr_mask(load(b.add(32 + 32 * (u / 4)) as *const i8), 2 * (u % 4), 3);
            let high = shr_mask(load(b as *const i8), u, 1);
            let q = _mm256_sub_epi8(
                _mm256_or_si256(low, _mm256_slli_epi16::<2>(high)),
                _mm256_set1_epi8(4),
            );
            Unit {
                s: s[u],
                ..plain(q, 0.0)
            }
        }
    }
}

/// Q5_K: `d`, `dmin: f16`, 12 bytes of 6-bit scales and minimums (as Q4_K), 32 bytes of fifth
/// bits (unit `u`: bit `u`), 128 bytes of nibbles (unit `2c + t`: nibble `t` of bytes
/// `32c .. 32c + 32`).
pub(crate) struct Q5K;
impl Units for Q5K {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 176;
    const UNSIGNED: bool = true;
    const OFFSET: bool = true;
    type Head = ([f32; 8], [f32; 8]);
    #[inline(always)]
    unsafe fn head(b: *const u8) -> ([f32; 8], [f32; 8]) {
        // SAFETY: a whole block at `b`.
        unsafe {
            let (d, dmin) = f16_two(b);
            let words = [0, 1, 2].map(|i| std::ptr::read_unaligned(b.add(4 + 4 * i) as *const u32));
            let (sc, mn) = k_scales_mins(words);
            let (mut s, mut o) = ([0.0f32; 8], [0.0f32; 8]);
            _mm256_storeu_ps(
                s.as_mut_ptr(),
                _mm256_mul_ps(bytes_to_f32(sc), _mm256_set1_ps(d)),
            );
            let mn = _mm256_mul_ps(bytes_to_f32(mn), _mm256_set1_ps(-dmin));
            _mm256_storeu_ps(o.as_mut_ptr(), mn);
            (s, o)
        }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, (s, o): &([f32; 8], [f32; 8]), u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let low = shr_mask(load(b.add(48 + 32 * (u / 2)) as *const i8), 4 * (u % 2), 15);
            let high = shr_mask(load(b.add(16) as *const i8), u, 1);
            Unit {
                o: _mm_set1_ps(o[u]),
                ..plain(_mm256_or_si256(low, _mm256_slli_epi16::<4>(high)), s[u])
            }
        }
    }
}

/// Q6_K: 128 bytes of low nibbles, 64 bytes of 2-bit high parts, 16 signed 8-bit scales (one
/// per 16), `d: f16`; `q = low4 | high2 << 4` minus 32. Unit `4h + j` takes nibble
/// `(j / 2) % 2` of bytes `64h + 32(j % 2) ..` and bits `2j` of bytes `128 + 32h ..`.
pub(crate) struct Q6K;
impl Units for Q6K {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 210;
    type Head = [__m256; 8];
    #[inline(always)]
    unsafe fn head(b: *const u8) -> [__m256; 8] {
        // SAFETY: a whole block at `b`.
        unsafe {
            let d = _mm256_set1_ps(f16_one(b.add(208)));
            let sc = _mm_loadu_si128(b.add(192) as *const __m128i);
            let lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(sc));
            let hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128::<8>(sc)));
            pair_spread(_mm256_mul_ps(lo, d), _mm256_mul_ps(hi, d))
        }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, s: &[__m256; 8], u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let (h, j) = (u / 4, u % 4);
            let low = load(b.add(64 * h + 32 * (j % 2)) as *const i8);
            let low = shr_mask(low, 4 * (j / 2), 15);
            let high = shr_mask(load(b.add(128 + 32 * h) as *const i8), 2 * j, 3);
            let q = _mm256_sub_epi8(
                _mm256_or_si256(low, _mm256_slli_epi16::<4>(high)),
                _mm256_set1_epi8(32),
            );
            Unit {
                s: s[u],
                ..plain(q, 0.0)
            }
        }
    }
}

/// TQ2_0: 64 bytes of 2-bit codes (unit `4h + j`: bits `2j` of bytes `32h ..`), `d: f16`;
/// `w = d·(code − 1)`.
pub(crate) struct Tq2;
impl Units for Tq2 {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 66;
    type Head = f32;
    #[inline(always)]
    unsafe fn head(b: *const u8) -> f32 {
        // SAFETY: a whole block at `b`.
        unsafe { f16_one(b.add(64)) }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, &d: &f32, u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let c = shr_mask(load(b.add(32 * (u / 4)) as *const i8), 2 * (u % 4), 3);
            plain(_mm256_sub_epi8(c, _mm256_set1_epi8(1)), d)
        }
    }
}

/// Trit `p` of each byte of `v`, where byte `i` uses `mult[i] = 3^p mod 256`: the code is
/// `((v·3^p mod 256)·3) >> 8` (TQ1_0's base-3 digits, most significant first), minus 1.
#[inline(always)]
unsafe fn trits(v: __m256i, mult: __m256i) -> __m256i {
    // SAFETY: only inlined into functions compiled with AVX2.
    unsafe {
        let ff = _mm256_set1_epi16(0xff);
        let three = _mm256_set1_epi16(3);
        let digit = |b: __m256i, m: __m256i| {
            let r = _mm256_and_si256(_mm256_mullo_epi16(b, m), ff);
            _mm256_srli_epi16::<8>(_mm256_mullo_epi16(r, three))
        };
        let even = digit(_mm256_and_si256(v, ff), _mm256_and_si256(mult, ff));
        let odd = digit(_mm256_srli_epi16::<8>(v), _mm256_srli_epi16::<8>(mult));
        let t = _mm256_or_si256(even, _mm256_slli_epi16::<8>(odd));
        _mm256_sub_epi8(t, _mm256_set1_epi8(1))
    }
}

/// TQ1_0: 48 bytes of five trits each, 4 bytes of four trits, `d: f16`. Elements
/// `32p + l` are trit `p` of byte `l < 32`, `160 + 16p + l` trit `p` of byte `32 + l`,
/// `240 + 4p + l` trit `p` of byte `48 + l`.
pub(crate) struct Tq1;
impl Units for Tq1 {
    const ELEMS: usize = 256;
    const PAIRS: bool = true;
    const BYTES: usize = 54;
    type Head = f32;
    #[inline(always)]
    unsafe fn head(b: *const u8) -> f32 {
        // SAFETY: a whole block at `b`.
        unsafe { f16_one(b.add(52)) }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, &d: &f32, u: usize) -> Unit {
        const POW3: [i8; 5] = [1, 3, 9, 27, 81];
        // SAFETY: a whole block at `b`, `u < 8`.
        unsafe {
            let two = |p0: usize, p1: usize| {
                _mm256_set_m128i(_mm_set1_epi8(POW3[p1]), _mm_set1_epi8(POW3[p0]))
            };
            let mid = _mm256_broadcastsi128_si256(_mm_loadu_si128(b.add(32) as *const __m128i));
            let q = match u {
                0..5 => trits(load(b as *const i8), _mm256_set1_epi8(POW3[u])),
                5 => trits(mid, two(0, 1)),
                6 => trits(mid, two(2, 3)),
                _ => {
                    let tail = _mm_set1_epi32(std::ptr::read_unaligned(b.add(48) as *const i32));
                    let v = _mm256_set_m128i(tail, _mm256_castsi256_si128(mid));
                    let mult = _mm256_set_m128i(
                        _mm_setr_epi8(1, 1, 1, 1, 3, 3, 3, 3, 9, 9, 9, 9, 27, 27, 27, 27),
                        _mm_set1_epi8(81),
                    );
                    trits(v, mult)
                }
            };
            plain(q, d)
        }
    }
}

/// lowbit's I4G layouts: `d: f16`, `z: u8`, `G/2` bytes of nibbles (Q4_0's order per 32);
/// `w = d·(q − z)`.
pub(crate) struct I4g<const G: usize>;
impl<const G: usize> Units for I4g<G> {
    const ELEMS: usize = G;
    const BYTES: usize = 3 + G / 2;
    const UNSIGNED: bool = true;
    const ZERO: bool = true;
    type Head = (f32, i32);
    #[inline(always)]
    unsafe fn head(b: *const u8) -> (f32, i32) {
        // SAFETY: a whole block at `b`.
        unsafe { (f16_one(b), i32::from(*b.add(2))) }
    }
    #[inline(always)]
    unsafe fn unit(b: *const u8, &(d, z): &(f32, i32), u: usize) -> Unit {
        // SAFETY: a whole block at `b`, `u < G / 32`.
        unsafe {
            Unit {
                z,
                ..plain(nibbles_split(b.add(3 + 16 * u)), d)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::fp4::{e8m0_half, ue4m3_half};

    #[test]
    fn scale_tables_are_the_reference_decoders() {
        for x in 0..=255u8 {
            let i = usize::from(x);
            assert_eq!(E8M0_HALF[i].to_bits(), e8m0_half(x).to_bits(), "e8m0 {x}");
            assert_eq!(
                UE4M3_HALF[i].to_bits(),
                ue4m3_half(x).to_bits(),
                "ue4m3 {x}"
            );
        }
    }

    #[test]
    fn f16_one_is_exact_for_every_value() {
        for h in 0..=u16::MAX {
            let want = half::f16::from_bits(h).to_f32();
            // SAFETY: two readable bytes.
            let got = unsafe { f16_one(h.to_le_bytes().as_ptr()) };
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{h:#x}"
            );
        }
    }
}
