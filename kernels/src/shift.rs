//! Power-of-two ("shift") weights (DeepShift, DenseShift; `shared/design/reference/
//! shiftadd_ternary_fp.md` §2): each weight is `s·(±2^(−e))`, or 0 where the format has a zero
//! code, with `s` a float scale per row (channel) or per row and group of K.
//!
//! Codes, one byte per weight, `b` bits (2 ≤ b ≤ 7): bit `b − 1` is the sign (1 = negative), the
//! low `b − 1` bits are `e`, the right shift (`p = −e`). With a zero code, `e = 2^(b−1) − 1`
//! (any sign) is 0 — DeepShift-PS's ternary sign — and `e` runs to `2^(b−1) − 2`; without,
//! every code is a value (DenseShift, DeepShift-Q).
//!
//! Two modes, each bit-exact between the CPU and GPU kernels:
//! * float x: `x·2^(−e)` is one f32 multiply by an exact power of two (the correctly rounded
//!   `ldexp`: exact unless the result is subnormal, where it rounds once; 0 stays 0), added in
//!   K order into one f32 sum per group; `y = s·sum` per channel, and with groups
//!   `y = Σ_g s_g·sum_g` (a product then an add per group — bit-exact where the GPU compiler
//!   does not contract the two into an FMA: so on lavapipe and llvmpipe GL, tested; per channel
//!   there is nothing to contract);
//! * fixed-point x (i32): `±(x >> min(e, 31))`, an arithmetic shift (floor, so −1 stays −1),
//!   zero codes masked, summed in a wrapping i32 accumulator (the caller keeps
//!   `K·max|x| < 2^31` to avoid wrapping); scales are the caller's, so this mode takes one scale
//!   per channel and returns the integer sums.

use rayon::prelude::*;

use crate::KernelError;

/// Power-of-two weights `[N, K]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftWeights {
    bits: u32,
    zero_code: bool,
    n: usize,
    k: usize,
    group: usize,
    codes: Vec<u8>,
    scales: Vec<f32>,
}

fn err(s: String) -> KernelError {
    KernelError::Shape(s)
}

impl ShiftWeights {
    /// From codes `[n, k]` (one byte each, `< 2^bits`) and scales `[n, k/group]` (`group = k`:
    /// one per channel).
    pub fn from_codes(
        bits: u32,
        zero_code: bool,
        (n, k, group): (usize, usize, usize),
        codes: &[u8],
        scales: &[f32],
    ) -> Result<Self, KernelError> {
        if !(2..=7).contains(&bits) {
            return Err(err(format!("shift weights take 2 to 7 bits, got {bits}")));
        }
        if n == 0 || k == 0 || group == 0 || !k.is_multiple_of(group) {
            return Err(err(format!(
                "shift weights [{n}, {k}] with groups of {group}: need n, k ≥ 1, group dividing k"
            )));
        }
        let len = crate::error::elems("shift weights", &[n, k])?;
        if codes.len() != len || scales.len() != n * (k / group) {
            return Err(err(format!(
                "shift weights [{n}, {k}]: {} codes, {} scales (want {} and {})",
                codes.len(),
                scales.len(),
                n * k,
                n * (k / group)
            )));
        }
        if let Some(at) = codes.iter().position(|&c| u32::from(c) >> bits != 0) {
            return Err(err(format!(
                "shift code {} at row {}, column {} does not fit in {bits} bits",
                codes[at],
                at / k,
                at % k
            )));
        }
        if let Some(at) = scales.iter().position(|s| !s.is_finite()) {
            return Err(err(format!(
                "shift scale {} at {at} is not finite",
                scales[at]
            )));
        }
        Ok(ShiftWeights {
            bits,
            zero_code,
            n,
            k,
            group,
            codes: codes.to_vec(),
            scales: scales.to_vec(),
        })
    }

    /// Quantises f32 weights: per group `s = max|w|`, each weight to the nearest power of two
    /// of `|w|/s` in log scale (`e = round(−log2(|w|/s))`), clamped to the code range; with a
    /// zero code, weights below half the smallest step become 0.
    pub fn quantize(
        bits: u32,
        zero_code: bool,
        (n, k, group): (usize, usize, usize),
        w: &[f32],
    ) -> Result<Self, KernelError> {
        if !(2..=7).contains(&bits) {
            return Err(err(format!("shift weights take 2 to 7 bits, got {bits}")));
        }
        if group == 0
            || !k.is_multiple_of(group)
            || w.len() != crate::error::elems("shift quantiser", &[n, k])?
        {
            return Err(err(format!(
                "shift quantiser: {} weights for [{n}, {k}] in groups of {group}",
                w.len()
            )));
        }
        let top = (1u32 << (bits - 1)) - 1;
        let e_max = if zero_code { top - 1 } else { top };
        let (mut codes, mut scales) = (vec![0u8; w.len()], Vec::new());
        for (src, dst) in w.chunks(group).zip(codes.chunks_mut(group)) {
            let amax = src.iter().fold(0f32, |a, v| a.max(v.abs()));
            let s = if amax > 0.0 { amax } else { 1.0 };
            scales.push(s);
            for (d, &v) in dst.iter_mut().zip(src) {
                let r = v.abs() / s;
                let sign = u8::from(v < 0.0) << (bits - 1);
                *d = if zero_code && (r == 0.0 || r < 2f32.powi(-(e_max as i32)) / 2.0) {
                    top as u8
                } else {
                    let e = (-r.max(f32::MIN_POSITIVE).log2())
                        .round()
                        .clamp(0.0, e_max as f32);
                    sign | e as u8
                };
            }
        }
        Self::from_codes(bits, zero_code, (n, k, group), &codes, &scales)
    }

    /// Bits per code.
    pub fn bits(&self) -> u32 {
        self.bits
    }
    /// Whether `e = 2^(b−1) − 1` is 0.
    pub fn zero_code(&self) -> bool {
        self.zero_code
    }
    /// Rows.
    pub fn n(&self) -> usize {
        self.n
    }
    /// Columns.
    pub fn k(&self) -> usize {
        self.k
    }
    /// K positions per scale.
    pub fn group(&self) -> usize {
        self.group
    }
    /// The codes `[n, k]`.
    pub fn codes(&self) -> &[u8] {
        &self.codes
    }
    /// The scales `[n, k/group]`.
    pub fn scales(&self) -> &[f32] {
        &self.scales
    }

    /// `(negative, e)` of a code, or `None` for the zero code.
    pub fn decode(&self, code: u8) -> Option<(bool, u32)> {
        let e = u32::from(code) & ((1 << (self.bits - 1)) - 1);
        if self.zero_code && e == (1 << (self.bits - 1)) - 1 {
            return None;
        }
        Some((u32::from(code) >> (self.bits - 1) & 1 == 1, e))
    }

    /// Every weight `s·(±2^(−e))` (exact: a product by a power of two), `[n, k]`.
    pub fn dequantize(&self) -> Vec<f32> {
        let mut out = vec![0f32; self.n * self.k];
        for (i, o) in out.iter_mut().enumerate() {
            let s = self.scales[(i / self.k) * (self.k / self.group) + (i % self.k) / self.group];
            *o = match self.decode(self.codes[i]) {
                None => 0.0,
                Some((neg, e)) => {
                    let v = s * pow2_neg(e);
                    if neg {
                        -v
                    } else {
                        v
                    }
                }
            };
        }
        out
    }
}

/// `2^(−e)`, exactly (a normal f32 up to `e = 126`, the codes' range is `e ≤ 63`; a subnormal
/// or 0 past it).
#[inline]
pub fn pow2_neg(e: u32) -> f32 {
    if e > 126 {
        return 2f32.powi(-(e.min(160) as i32));
    }
    f32::from_bits((127 - e) << 23)
}

/// Float mode (module docs): `y = x · Wᵀ`, x `[m, K]` f32, y `[m, N]`.
pub fn shift_matmul_f32(
    threads: usize,
    w: &ShiftWeights,
    x: &[f32],
    m: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    let (n, k) = (w.n, w.k);
    crate::error::check_dims(x.len(), n * k, y.len(), m, n, k)?;
    let groups = k / w.group;
    // Eight rows at a time: each keeps its own K-order sum (the same bits), and the eight
    // independent chains hide the add latency that one sequential sum would wait on.
    // Per code: the multiplier ±2^(−e) (x·(−2^(−e)) is −(x·2^(−e)) exactly) and whether it is
    // a value at all; zero codes leave the sum as it is (a select, no branch).
    let mut mult = [0f32; 128];
    let mut live = [false; 128];
    for c in 0..1u8 << w.bits {
        if let Some((neg, e)) = w.decode(c) {
            mult[usize::from(c)] = if neg { -pow2_neg(e) } else { pow2_neg(e) };
            live[usize::from(c)] = true;
        }
    }
    let block = |t: usize, r0: usize, out: &mut [f32]| {
        let xr = &x[t * k..(t + 1) * k];
        let rows = out.len();
        let mut acc_y = [0f32; 8];
        for g in 0..groups {
            let mut sum = [0f32; 8];
            for (c, &xv) in xr.iter().enumerate().skip(g * w.group).take(w.group) {
                for (j, s) in sum.iter_mut().enumerate().take(rows) {
                    let code = usize::from(w.codes[(r0 + j) * k + c] & 127);
                    let next = *s + xv * mult[code];
                    *s = if live[code] { next } else { *s };
                }
            }
            for (j, a) in acc_y.iter_mut().enumerate().take(rows) {
                let p = w.scales[(r0 + j) * groups + g] * sum[j];
                *a = if g == 0 { p } else { *a + p };
            }
        }
        out.copy_from_slice(&acc_y[..rows]);
    };
    for (t, yt) in y.chunks_mut(n).enumerate() {
        if threads <= 1 {
            for (b, out) in yt.chunks_mut(8).enumerate() {
                block(t, 8 * b, out);
            }
        } else {
            yt.par_chunks_mut(8)
                .enumerate()
                .for_each(|(b, out)| block(t, 8 * b, out));
        }
    }
    Ok(())
}

/// Fixed-point mode (module docs): `y = Σ_k ±(x >> e)` per output in a wrapping i32, x `[m, K]`
/// i32; the scales are not applied (one per channel, the caller's).
pub fn shift_matmul_i32(
    threads: usize,
    w: &ShiftWeights,
    x: &[i32],
    m: usize,
    y: &mut [i32],
) -> Result<(), KernelError> {
    let (n, k) = (w.n, w.k);
    if w.group != k {
        return Err(err(
            "fixed-point shift matmul takes one scale per channel (group = K), applied by the caller"
                .into(),
        ));
    }
    crate::error::check_dims(x.len(), n * k, y.len(), m, n, k)?;
    let one = |(i, out): (usize, &mut i32)| {
        let (t, r) = (i / n, i % n);
        let mut acc = 0i32;
        for (&xv, &c) in x[t * k..(t + 1) * k]
            .iter()
            .zip(&w.codes[r * k..(r + 1) * k])
        {
            if let Some((neg, e)) = w.decode(c) {
                let v = xv >> e.min(31);
                acc = if neg {
                    acc.wrapping_sub(v)
                } else {
                    acc.wrapping_add(v)
                };
            }
        }
        *out = acc;
    };
    if threads <= 1 {
        y.iter_mut().enumerate().for_each(one);
    } else {
        y.par_iter_mut().enumerate().for_each(one);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_decode_and_dequantize() {
        // 4 bits with a zero code: e = 7 is zero, e in 0..=6.
        let w =
            ShiftWeights::from_codes(4, true, (1, 4, 4), &[0, 0b1010, 7, 0b1111], &[3.0]).unwrap();
        assert_eq!(w.decode(0b1010), Some((true, 2)));
        assert_eq!(w.decode(0b1111), None);
        assert_eq!(w.dequantize(), vec![3.0, -0.75, 0.0, 0.0]);
        let nz = ShiftWeights::from_codes(4, false, (1, 1, 1), &[7], &[1.0]).unwrap();
        assert_eq!(nz.dequantize(), vec![2f32.powi(-7)]);
        assert!(ShiftWeights::from_codes(4, true, (1, 1, 1), &[16], &[1.0]).is_err());
        assert!(ShiftWeights::from_codes(8, true, (1, 1, 1), &[0], &[1.0]).is_err());
        assert!(ShiftWeights::from_codes(4, true, (1, 2, 1), &[0, 0], &[1.0]).is_err());
    }

    #[test]
    fn fixed_point_floors_and_masks() {
        // x = −5: −5 >> 1 = −3 (floor), −5 >> 40 → −1; zero code skipped.
        let w = ShiftWeights::from_codes(7, true, (1, 3, 3), &[1, 63, 40], &[1.0]).unwrap();
        let mut y = [0i32];
        shift_matmul_i32(1, &w, &[-5, 1000, -5], 1, &mut y).unwrap();
        assert_eq!(y[0], -3 + -1);
    }

    #[test]
    fn float_mode_is_exact_ldexp() {
        let w = ShiftWeights::from_codes(3, false, (1, 3, 3), &[0, 0b101, 0b010], &[1.0]).unwrap();
        let mut y = [0f32];
        shift_matmul_f32(1, &w, &[1.0, 8.0, 4.0], 1, &mut y).unwrap();
        assert_eq!(y[0], 1.0 - 4.0 + 1.0);
        // A subnormal result rounds once: 1.5·2⁻¹²⁶ · 2⁻¹ = 0.75·2⁻¹²⁶ exactly (representable).
        let t = ShiftWeights::from_codes(2, false, (1, 1, 1), &[1], &[1.0]).unwrap();
        let x = 1.5 * f32::MIN_POSITIVE;
        shift_matmul_f32(1, &t, &[x], 1, &mut y).unwrap();
        assert_eq!(y[0], x / 2.0);
    }
}
