//! L-Mul (Luo & Sun, "Addition is All You Need for Energy-efficient Language Models",
//! arXiv 2410.00907): a float product replaced by one integer add of the operands' bit
//! patterns, `(1 + x_m + y_m + 2^(−l(m)))·2^(x_e + y_e)`, with `l(m) = m` for m ≤ 3, 3 for
//! m = 4, 4 for m > 4, m the operands' mantissa bits. Facts and the open points every spec
//! must settle: `shared/design/reference/shiftadd_ternary_fp.md` §3.
//!
//! lowbit's definition, for f32 operands emulating m mantissa bits (1 ≤ m ≤ 23):
//! 1. each operand is rounded to m mantissa bits, to nearest, ties to even (a carry into the
//!    exponent is kept; one that reaches the infinity exponent gives ±∞);
//! 2. NaN in either operand gives NaN (`0x7FC00000`); ∞ times 0 gives NaN; ∞ times anything
//!    else non-NaN gives ±∞;
//! 3. an operand that is ±0 or subnormal (exponent field 0) gives ±0;
//! 4. otherwise `r = |a|_bits + |b|_bits − ((127 << 23) − 2^(23 − l(m)))` as a wide integer:
//!    `r < 2^23` (exponent ≤ 0: underflow) gives ±0, `r ≥ 0x7F800000` (overflow) gives ±∞,
//!    else the result's magnitude bits are `r`;
//! 5. the sign is the XOR of the operands' signs, always (zeros and infinities included).
//!
//! The integer add carries a mantissa sum ≥ 1 into the exponent (Mitchell's approximation)
//! instead of the paper's formula there; that is what the hardware-style add computes.
//!
//! [`lmul_gemv`] uses L-Mul for every product and f32 adds in a fixed order — eight strided
//! partial sums `s_j = Σ_{k ≡ j mod 8} p_k` in k order, then
//! `((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))` — the order of one 8-lane vector
//! accumulator, which the AVX2 kernel and the GPU kernel (two vec4) follow, so all give the
//! same bits.

use rayon::prelude::*;

use crate::KernelError;

/// The canonical NaN L-Mul returns.
pub const NAN_BITS: u32 = 0x7FC0_0000;

/// `l(m)` of the paper.
pub fn l_of(m: u32) -> u32 {
    match m {
        0..=3 => m,
        4 => 3,
        _ => 4,
    }
}

/// The integer the add subtracts: `(127 << 23) − 2^(23 − l(m))`.
pub fn offset(m: u32) -> u32 {
    (127 << 23) - (1 << (23 - l_of(m)))
}

fn check_m(m: u32) -> Result<(), KernelError> {
    if (1..=23).contains(&m) {
        Ok(())
    } else {
        Err(KernelError::Shape(format!(
            "L-Mul emulates 1 to 23 mantissa bits, got {m}"
        )))
    }
}

/// `v`'s bits rounded to `m` mantissa bits (to nearest, ties to even); NaN and ∞ unchanged.
#[inline]
pub fn round_mantissa(bits: u32, m: u32) -> u32 {
    if m >= 23 || bits & 0x7F80_0000 == 0x7F80_0000 {
        return bits;
    }
    let drop = 23 - m;
    let half = (1u32 << (drop - 1)) - 1 + ((bits >> drop) & 1);
    // A carry out of the mantissa increments the exponent, the right rounding for a float's
    // bit pattern; from the largest finite value it lands exactly on ∞'s pattern.
    ((bits & 0x7FFF_FFFF) + half) >> drop << drop | (bits & 0x8000_0000)
}

/// L-Mul of `a` and `b` emulating `m` mantissa bits (see the module docs), as bits.
#[inline]
pub fn lmul_bits(a: u32, b: u32, m: u32) -> u32 {
    let (a, b) = (round_mantissa(a, m), round_mantissa(b, m));
    let sign = (a ^ b) & 0x8000_0000;
    let (ma, mb) = (a & 0x7FFF_FFFF, b & 0x7FFF_FFFF);
    let nan = |v: u32| v > 0x7F80_0000;
    let inf = |v: u32| v == 0x7F80_0000;
    let zero = |v: u32| v < 0x0080_0000;
    if nan(ma) || nan(mb) || (inf(ma) && zero(mb)) || (zero(ma) && inf(mb)) {
        return NAN_BITS;
    }
    if inf(ma) || inf(mb) {
        return sign | 0x7F80_0000;
    }
    if zero(ma) || zero(mb) {
        return sign;
    }
    // Both in [2^23, 0x7F800000): the sum fits in u32 without wrapping.
    let r = ma + mb;
    let off = offset(m);
    if r < off + 0x0080_0000 {
        sign
    } else if r - off >= 0x7F80_0000 {
        sign | 0x7F80_0000
    } else {
        sign | (r - off)
    }
}

/// L-Mul of two f32 values emulating `m` mantissa bits.
#[inline]
pub fn lmul(a: f32, b: f32, m: u32) -> f32 {
    f32::from_bits(lmul_bits(a.to_bits(), b.to_bits(), m))
}

/// `Σ_k lmul(a_k, b_k)` in the fixed order of the module docs (portable).
pub fn lmul_dot(a: &[f32], b: &[f32], m: u32) -> f32 {
    let mut s = [0f32; 8];
    for (k, (&x, &w)) in a.iter().zip(b).enumerate() {
        s[k % 8] += lmul(x, w, m);
    }
    combine(s)
}

/// The eight partial sums in their fixed tree.
#[inline]
pub(crate) fn combine(s: [f32; 8]) -> f32 {
    ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

/// `y = x · Wᵀ` with every product an L-Mul (x `[m_rows, k]`, W `[n, k]`, y `[m_rows, n]`),
/// threaded over outputs; AVX2 where `level` (capped to the machine) has it, the same bits
/// either way.
pub fn lmul_gemv(
    level: crate::SimdLevel,
    threads: usize,
    x: &[f32],
    w: &[f32],
    (rows, n, k): (usize, usize, usize),
    m: u32,
    y: &mut [f32],
) -> Result<(), KernelError> {
    check_m(m)?;
    crate::error::check_dims(x.len(), w.len(), y.len(), rows, n, k)?;
    let simd = crate::simd::clamp(level) >= crate::SimdLevel::Avx2;
    let row = |(r, out): (usize, &mut f32)| {
        let (t, j) = (r / n, r % n);
        let (a, b) = (&x[t * k..(t + 1) * k], &w[j * k..(j + 1) * k]);
        #[cfg(target_arch = "x86_64")]
        if simd {
            // SAFETY: clamp() capped the level to this machine, which has AVX2.
            *out = unsafe { crate::lmul_x86::lmul_dot(a, b, m) };
            return;
        }
        let _ = simd;
        *out = lmul_dot(a, b, m);
    };
    if threads <= 1 {
        y.iter_mut().enumerate().for_each(row);
    } else {
        y.par_iter_mut().enumerate().for_each(row);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_l_of_m() {
        assert_eq!(offset(23), 0x3F78_0000);
        assert_eq!(offset(3), 0x3F80_0000 - (1 << 20));
        assert_eq!(offset(4), 0x3F80_0000 - (1 << 20));
        assert_eq!(offset(2), 0x3F80_0000 - (1 << 21));
    }

    #[test]
    fn paper_formula_below_the_carry_and_mitchell_above() {
        // 1.25 · 1.5 with m = 2: 1 + 0.25 + 0.5 + 2⁻² = 2.0 — the mantissa sum reaches 1 and
        // carries into the exponent, which here gives the paper's value too.
        assert_eq!(lmul(1.25, 1.5, 2), 2.0);
        // 1.25 · 1.25, m = 3: 1 + 0.5 + 2⁻³ = 1.625, below the carry.
        assert_eq!(lmul(1.25, 1.25, 3), 1.625);
        // 1.5 · 1.5, m = 23: exact 2.25, paper 2.0625, integer add (carry) 2·(1 + 0.0625) = 2.125.
        assert_eq!(lmul(1.5, 1.5, 23), 2.125);
        assert_eq!(lmul(-2.0, 3.0, 23), -6.25); // (1 + 0.5 + 2⁻⁴)·4
    }

    #[test]
    fn special_values() {
        let m = 7;
        assert_eq!(lmul(0.0, 5.0, m).to_bits(), 0);
        assert_eq!(lmul(-0.0, 5.0, m).to_bits(), 0x8000_0000);
        assert_eq!(lmul(1e-40, 5.0, m), 0.0); // subnormal operand
        assert!(lmul(f32::NAN, 1.0, m).is_nan());
        assert!(lmul(f32::INFINITY, 0.0, m).is_nan());
        assert_eq!(lmul(f32::NEG_INFINITY, 2.0, m), f32::NEG_INFINITY);
        assert_eq!(lmul(1e30, 1e30, m), f32::INFINITY);
        assert_eq!(lmul(-1e-30, 1e-30, m).to_bits(), 0x8000_0000); // underflow
        assert_eq!(lmul(f32::MAX, 1.0, 23), f32::INFINITY); // overflow
    }

    #[test]
    fn rounding_to_m_bits() {
        // Ties to even: 1.1875 = 1.0011₂ → 1.010₂, 1.0625 = 1.0001₂ → 1.000₂.
        assert_eq!(f32::from_bits(round_mantissa(1.1875f32.to_bits(), 3)), 1.25);
        assert_eq!(f32::from_bits(round_mantissa(1.0625f32.to_bits(), 3)), 1.0);
        assert_eq!(f32::from_bits(round_mantissa(1.96875f32.to_bits(), 3)), 2.0);
        assert_eq!(round_mantissa(f32::MAX.to_bits(), 3), 0x7F80_0000);
        assert!(check_m(0).is_err() && check_m(24).is_err());
    }
}
