//! llama.cpp's reference quantisers for Q4_K, Q6_K and IQ4_NL (`quantize_row_q4_K_ref`,
//! `quantize_row_q6_K_ref`, `quantize_row_iq4_nl_ref` in ggml's `ggml-quants.c`): the same
//! searches (`make_qkx2_quants`, `make_qx_quants`, `best_index_int8`) with the same f32
//! operations in the same order, so the bytes agree with ggml built without FMA contraction
//! (`scripts/check_ggml_quantizers.sh` compares them with ggml's C).

use super::iq4::KVALUES;
use super::kquants::k_scale_min;
use super::plain::{f16_at, f16_bytes};

const GROUP_MAX_EPS: f32 = 1e-15;

/// ggml's `nearest_int`: round half to even through the f32 adder (|f| ≤ 4194303).
fn nearest_int(f: f32) -> i32 {
    let val = f + 12_582_912.0;
    (val.to_bits() as i32 & 0x007f_ffff) - 0x0040_0000
}

/// ggml's `make_qx_quants` with `rmse_type = 1` and no importance weights.
fn make_qx_quants(nmax: i32, x: &[f32], l_out: &mut [i8]) -> f32 {
    let (mut max, mut amax) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    if amax < GROUP_MAX_EPS {
        l_out.iter_mut().for_each(|l| *l = 0);
        return 0.0;
    }
    let nm = nmax as f32;
    let quant = |iscale: f32, v: f32| nearest_int(iscale * v).clamp(-nmax, nmax - 1);
    let sums = |iscale: f32| {
        let (mut sumlx, mut suml2) = (0.0f32, 0.0f32);
        for &v in x {
            let l = quant(iscale, v) as f32;
            let w = v * v;
            sumlx += w * v * l;
            suml2 += w * l * l;
        }
        (sumlx, suml2)
    };
    let mut iscale = -nm / max;
    for (o, &v) in l_out.iter_mut().zip(x) {
        *o = (quant(iscale, v) + nmax) as i8;
    }
    let (sumlx, suml2) = sums(iscale);
    let mut scale = if suml2 != 0.0 { sumlx / suml2 } else { 0.0 };
    let mut best = scale * sumlx;
    for is in -9..=9 {
        if is == 0 {
            continue;
        }
        iscale = -(nm + 0.1 * is as f32) / max;
        let (sumlx, suml2) = sums(iscale);
        if suml2 > 0.0 && sumlx * sumlx > best * suml2 {
            for (o, &v) in l_out.iter_mut().zip(x) {
                *o = (quant(iscale, v) + nmax) as i8;
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    scale
}

/// ggml's `make_qkx2_quants` (`use_mad = false`): `(scale, -min)`, levels in `l_out`.
fn make_qkx2_quants(
    nmax: i32,
    x: &[f32],
    weights: &[f32],
    l_out: &mut [u8],
    rmin: f32,
    rdelta: f32,
    nstep: i32,
) -> (f32, f32) {
    let n = x.len();
    let (mut min, mut max) = (x[0], x[0]);
    let mut sum_w = weights[0];
    let mut sum_x = sum_w * x[0];
    for i in 1..n {
        if x[i] < min {
            min = x[i];
        }
        if x[i] > max {
            max = x[i];
        }
        let w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if min > 0.0 {
        min = 0.0;
    }
    if max == min {
        l_out.iter_mut().for_each(|l| *l = 0);
        return (0.0, -min);
    }
    let nm = nmax as f32;
    let mut iscale = nm / (max - min);
    let mut scale = 1.0 / iscale;
    let mut best_error = 0.0f32;
    for i in 0..n {
        let l = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
        l_out[i] = l as u8;
        let diff = scale * l_out[i] as f32 + min - x[i];
        best_error += weights[i] * (diff * diff);
    }
    let mut laux = [0u8; 32];
    for is in 0..=nstep {
        iscale = (rmin + rdelta * is as f32 + nm) / (max - min);
        let (mut sum_l, mut sum_l2, mut sum_xl) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..n {
            let l = nearest_int(iscale * (x[i] - min)).clamp(0, nmax);
            laux[i] = l as u8;
            let (w, lf) = (weights[i], l as f32);
            sum_l += w * lf;
            sum_l2 += w * lf * lf;
            sum_xl += w * lf * x[i];
        }
        let det = sum_w * sum_l2 - sum_l * sum_l;
        if det > 0.0 {
            let mut this_scale = (sum_w * sum_xl - sum_x * sum_l) / det;
            let mut this_min = (sum_l2 * sum_x - sum_l * sum_xl) / det;
            if this_min > 0.0 {
                this_min = 0.0;
                this_scale = sum_xl / sum_l2;
            }
            let mut cur_error = 0.0f32;
            for i in 0..n {
                let diff = this_scale * laux[i] as f32 + this_min - x[i];
                cur_error += weights[i] * (diff * diff);
            }
            if cur_error < best_error {
                l_out[..n].copy_from_slice(&laux[..n]);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    (scale, -min)
}

/// Q4_K reference quantiser for one 256-element block (144 bytes).
pub(crate) fn quant_q4_k(x: &[f32], out: &mut [u8]) {
    let mut l = [0u8; 256];
    let mut scales = [0.0f32; 8];
    let mut mins = [0.0f32; 8];
    let (mut max_scale, mut max_min) = (0.0f32, 0.0f32);
    for j in 0..8 {
        let xb = &x[32 * j..32 * j + 32];
        let sum_x2 = xb.iter().fold(0.0f32, |s, &v| s + v * v);
        let av_x = (sum_x2 / 32.0).sqrt();
        let weights: Vec<f32> = xb.iter().map(|&v| av_x + v.abs()).collect();
        let (s, m) = make_qkx2_quants(15, xb, &weights, &mut l[32 * j..32 * j + 32], -1.0, 0.1, 20);
        scales[j] = s;
        mins[j] = m;
        if s > max_scale {
            max_scale = s;
        }
        if m > max_min {
            max_min = m;
        }
    }
    let inv_scale = if max_scale > 0.0 {
        63.0 / max_scale
    } else {
        0.0
    };
    let inv_min = if max_min > 0.0 { 63.0 / max_min } else { 0.0 };
    out.iter_mut().for_each(|b| *b = 0);
    let sc = &mut [0u8; 12];
    for j in 0..8 {
        let ls = (nearest_int(inv_scale * scales[j]) as u8).min(63);
        let lm = (nearest_int(inv_min * mins[j]) as u8).min(63);
        if j < 4 {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
            sc[j - 4] |= (ls >> 4) << 6;
            sc[j] |= (lm >> 4) << 6;
        }
    }
    out[0..2].copy_from_slice(&f16_bytes(max_scale / 63.0));
    out[2..4].copy_from_slice(&f16_bytes(max_min / 63.0));
    out[4..16].copy_from_slice(sc);
    let (d16, dmin16) = (f16_at(out, 0), f16_at(out, 2));
    for j in 0..8 {
        let (s, m) = k_scale_min(&out[4..16], j);
        let d = d16 * f32::from(s);
        if d == 0.0 {
            continue;
        }
        let dm = dmin16 * f32::from(m);
        for ii in 0..32 {
            l[32 * j + ii] = nearest_int((x[32 * j + ii] + dm) / d).clamp(0, 15) as u8;
        }
    }
    for (c, q) in out[16..144].chunks_mut(32).enumerate() {
        for (i, b) in q.iter_mut().enumerate() {
            *b = l[64 * c + i] | (l[64 * c + i + 32] << 4);
        }
    }
}

/// Q6_K reference quantiser for one 256-element block (210 bytes).
pub(crate) fn quant_q6_k(x: &[f32], out: &mut [u8]) {
    let mut l = [0i8; 256];
    let mut scales = [0.0f32; 16];
    let (mut max_scale, mut max_abs_scale) = (0.0f32, 0.0f32);
    for ib in 0..16 {
        let s = make_qx_quants(32, &x[16 * ib..16 * ib + 16], &mut l[16 * ib..16 * ib + 16]);
        scales[ib] = s;
        if s.abs() > max_abs_scale {
            max_abs_scale = s.abs();
            max_scale = s;
        }
    }
    out.iter_mut().for_each(|b| *b = 0);
    if max_abs_scale < GROUP_MAX_EPS {
        out[208..210].copy_from_slice(&f16_bytes(0.0));
        return;
    }
    let iscale = -128.0 / max_scale;
    out[208..210].copy_from_slice(&f16_bytes(1.0 / iscale));
    for ib in 0..16 {
        out[192 + ib] = nearest_int(iscale * scales[ib]).min(127) as i8 as u8;
    }
    let d16 = f16_at(out, 208);
    for j in 0..16 {
        let d = d16 * f32::from(out[192 + j] as i8);
        if d == 0.0 {
            continue;
        }
        for ii in 0..16 {
            let q = nearest_int(x[16 * j + ii] / d).clamp(-32, 31);
            l[16 * j + ii] = (q + 32) as i8;
        }
    }
    let lu = |i: usize| l[i] as u8;
    for h in 0..2 {
        let (j, ql, qh) = (128 * h, 64 * h, 128 + 32 * h);
        for i in 0..32 {
            out[ql + i] = (lu(j + i) & 0xf) | ((lu(j + i + 64) & 0xf) << 4);
            out[ql + i + 32] = (lu(j + i + 32) & 0xf) | ((lu(j + i + 96) & 0xf) << 4);
            out[qh + i] = (lu(j + i) >> 4)
                | ((lu(j + i + 32) >> 4) << 2)
                | ((lu(j + i + 64) >> 4) << 4)
                | ((lu(j + i + 96) >> 4) << 6);
        }
    }
}

/// ggml's `best_index_int8` over the 16 IQ4 levels.
fn best_index(x: f32) -> usize {
    let val = |i: usize| f32::from(KVALUES[i]);
    if x <= val(0) {
        return 0;
    }
    if x >= val(15) {
        return 15;
    }
    let (mut ml, mut mu) = (0usize, 15usize);
    while mu - ml > 1 {
        let mav = (ml + mu) / 2;
        if x < val(mav) {
            mu = mav;
        } else {
            ml = mav;
        }
    }
    if x - val(mu - 1) < val(mu) - x {
        mu - 1
    } else {
        mu
    }
}

/// IQ4_NL reference quantiser for one 32-element block (18 bytes). `l` carries the levels
/// from block to block as ggml's does (an all-zero block keeps the previous block's).
pub(crate) fn quant_iq4_nl(x: &[f32], out: &mut [u8], l: &mut [u8; 32]) {
    let (mut amax, mut max) = (0.0f32, 0.0f32);
    for &v in x {
        if v.abs() > amax {
            amax = v.abs();
            max = v;
        }
    }
    let mut scale = 0.0f32;
    if amax >= GROUP_MAX_EPS {
        let d = max / f32::from(KVALUES[0]);
        let id = 1.0 / d;
        let (mut sumqx, mut sumq2) = (0.0f32, 0.0f32);
        for (j, &v) in x.iter().enumerate() {
            let li = best_index(id * v);
            l[j] = li as u8;
            let q = f32::from(KVALUES[li]);
            let w = v * v;
            sumqx += w * q * v;
            sumq2 += w * q * q;
        }
        scale = if sumq2 > 0.0 { sumqx / sumq2 } else { 0.0 };
    }
    out[0..2].copy_from_slice(&f16_bytes(scale));
    for j in 0..16 {
        out[2 + j] = l[j] | (l[16 + j] << 4);
    }
}
