//! Ternary quantisers (`shared/design/reference/shiftadd_ternary_fp.md` §4): BitNet b1.58's
//! absmean weights per tensor, Tequila's absmean per group with its dead zone, and BitNet's
//! int8 absmax activations per token.
//!
//! Means are summed in f64 and rounded once to f32 (the reference sums in f32 in an order of its
//! own; the formulas are the same). Rounding is to nearest, ties to even, as `torch.round`.

use crate::KernelError;

/// The smallest scale BitNet's formulas clamp to.
pub const EPS: f32 = 1e-5;

fn mean_abs(v: &[f32]) -> f32 {
    (v.iter().map(|&x| f64::from(x.abs())).sum::<f64>() / v.len().max(1) as f64) as f32
}

/// BitNet b1.58 per tensor: `γ = max(mean|W|, 1e-5)`, `W̃ = clamp(round(W/γ), −1, 1)`;
/// returns `(W̃, γ)` (dequantised: `γ·W̃`).
pub fn absmean_ternary(w: &[f32]) -> (Vec<i8>, f32) {
    let gamma = mean_abs(w).max(EPS);
    let t = w
        .iter()
        .map(|&x| (x / gamma).round_ties_even().clamp(-1.0, 1.0) as i8)
        .collect();
    (t, gamma)
}

/// Tequila per group of `group` along K (rows of `k`): `scale = mean|w_g|`, `T = +1` where
/// `w ≥ scale/2`, `−1` where `w ≤ −scale/2`, else 0; returns `(T, scales [n·k/group])`.
pub fn absmean_ternary_groups(
    w: &[f32],
    n: usize,
    k: usize,
    group: usize,
) -> Result<(Vec<i8>, Vec<f32>), KernelError> {
    if group == 0
        || !k.is_multiple_of(group)
        || w.len() != crate::error::elems("ternary groups", &[n, k])?
    {
        return Err(KernelError::Shape(format!(
            "ternary groups: {} weights for [{n}, {k}] in groups of {group}",
            w.len()
        )));
    }
    let mut t = vec![0i8; w.len()];
    let mut scales = Vec::with_capacity(w.len() / group);
    for (src, dst) in w.chunks(group).zip(t.chunks_mut(group)) {
        let scale = mean_abs(src);
        let half = scale / 2.0;
        for (d, &x) in dst.iter_mut().zip(src) {
            *d = if x >= half && scale > 0.0 {
                1
            } else if x <= -half && scale > 0.0 {
                -1
            } else {
                0
            };
        }
        scales.push(scale);
    }
    Ok((t, scales))
}

/// `v` rounded to nearest, ties to even, for `|v| ≤ 2^22` (here `|v| ≤ 127·(1 + 2^−23)`): adding
/// and removing `1.5·2^23` leaves no fraction bits, and the add rounds as the FPU does. The same
/// as `round_ties_even` without a libm call where the target lacks SSE4.1's `roundps`.
#[inline(always)]
fn round_small(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5·2^23
    (v + MAGIC) - MAGIC
}

/// BitNet's int8 activations for one token: `s = 127 / max(max|x|, 1e-5)`,
/// `q = clamp(round(x·s), −128, 127)`; returns `(q, s)` (dequantised: `q / s`).
pub fn absmax_int8(x: &[f32]) -> (Vec<i8>, f32) {
    let amax = x.iter().fold(0f32, |a, &v| a.max(v.abs())).max(EPS);
    let s = 127.0 / amax;
    let q = x
        .iter()
        .map(|&v| round_small(v * s).clamp(-128.0, 127.0) as i8)
        .collect();
    (q, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absmean_per_tensor() {
        // mean|w| = 0.5: w/γ = 0.2, −0.6, 1.0, 3.0 … rounds to 0, −1, 1, 1 (clamped).
        let w = [0.1, -0.3, 0.5, 1.5, -0.1, -0.5];
        let (t, g) = absmean_ternary(&w);
        assert_eq!(g, 0.5);
        assert_eq!(t, vec![0, -1, 1, 1, 0, -1]);
        // Ties to even: w/γ = ±0.5 → 0, 1.5 → 2 → clamped 1.
        let (t, g) = absmean_ternary(&[0.5, -0.5, 1.5, -1.5]);
        assert_eq!(g, 1.0);
        assert_eq!(t, vec![0, 0, 1, -1]);
        assert_eq!(absmean_ternary(&[0.0; 4]), (vec![0; 4], EPS));
    }

    #[test]
    fn tequila_groups_dead_zone() {
        // Group 1: mean 0.5, Δ = 0.25 → 0.25 is +1 (≥ Δ), −0.2 is 0. Group 2: all zero.
        let w = [0.25, -0.2, 1.0, -0.55, 0.0, 0.0, 0.0, 0.0];
        let (t, s) = absmean_ternary_groups(&w, 2, 4, 4).unwrap();
        assert_eq!(s, vec![0.5, 0.0]);
        assert_eq!(t, vec![1, 0, 1, -1, 0, 0, 0, 0]);
        assert!(absmean_ternary_groups(&w, 2, 4, 3).is_err());
    }

    #[test]
    fn small_rounding_is_ties_to_even() {
        for i in -300_000..300_000 {
            let v = i as f32 / 1024.0;
            assert_eq!(round_small(v), v.round_ties_even(), "{v}");
        }
    }

    #[test]
    fn absmax_per_token() {
        let (q, s) = absmax_int8(&[1.0, -0.5, 0.25, -1.0]);
        assert_eq!(s, 127.0);
        assert_eq!(q, vec![127, -64, 32, -127]); // 63.5 → 64 (even), 31.75 → 32
        let (q, s) = absmax_int8(&[0.0, 0.0]);
        assert_eq!((q, s), (vec![0, 0], 127.0 / EPS));
    }
}
