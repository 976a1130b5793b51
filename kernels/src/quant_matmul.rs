//! `y = x · Wᵀ` with W in a GGUF block format, on the CPU, threaded over W's rows: the int8
//! row kernels (`quant_int8_x86`, `quant_nib4_x86`, `quant_units_x86`) or the exact SIMD rows
//! (`quant_matmul_x86`, `quant_units_x86::exact`) decode each block in registers; without
//! AVX2, each block is decoded into a small buffer by the reference decoder and dotted with
//! every token's slice of x. Never a dequantised copy of W.

use rayon::prelude::*;

use crate::formats::{decode_block, QuantType};
use crate::{KernelError, MatRef, SimdLevel};

/// How activations meet the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantPath {
    /// Weights decoded to exact f32, f32 products and accumulation (SIMD row kernels for every
    /// format on x86_64 with AVX2): within the f32 bound `(K+1)·2⁻²⁴·Σ|w·x| + 2⁻²⁴·|y|`.
    Exact,
    /// x quantised to int8 per 32-block and integer dot products (x86_64 with AVX2, and
    /// AVX-512 VNNI where present, for every integer-valued format — all but FP8; other
    /// machines take the exact path): adds at most
    /// `Σ_b (dx_b/2)·Σ_{i∈b}|w_i|` (see [`int8_error_bound`]).
    Int8,
}

/// The part of `|y − Σ w·x|` that quantising x adds, for one output:
/// `Σ_b (1 + 2⁻¹²)·(dx_b/2)·Σ_{i∈b}|w_i|` with `dx_b = max|x_b|/127`: each
/// `|x_i − dx_b·q_i| ≤ dx_b/2` when `q_i` is `x_i/dx_b` rounded; the `2⁻¹²` covers `x·(1/dx)`
/// being a few ulps from `x/dx` (`1/dx` rounded on the CPU, and WGSL's division is only
/// 2.5-ulp accurate on GPUs), which moves `|x_i − dx_b·q_i|` by at most `127·2⁻²⁰·dx_b`. The
/// rest is f32 rounding, covered by the f32 bound applied to `|w|·(|x| + dx/2)` — for the
/// formats with an offset (`w = s·q + o`: Q4_1, Q5_1, Q2_K, Q4_K, Q5_K) or a zero point
/// (`w = s·(q − z)`: Q5_0, I4G, `o = −s·z`) to `|s·q| + |o|`, as the kernels sum `s·q·x` and
/// `o·x` apart (as ggml's do).
pub fn int8_error_bound(w: &[f32], x: &[f32]) -> f64 {
    let mut r = 0.0f64;
    for (wb, xb) in w.chunks(32).zip(x.chunks(32)) {
        let amax = xb.iter().fold(0.0f32, |a, &v| a.max(v.abs()));
        let half_dx = f64::from(amax / 127.0) / 2.0 * (1.0 + 1.0 / 4096.0);
        r += half_dx * wb.iter().map(|&v| f64::from(v.abs())).sum::<f64>();
    }
    r
}

/// The offset part `o` of every weight of the rows `w` (`[n, k]` in `ty`): the rows decoded
/// with their integer codes zeroed, so `w = s·q + o` — a format's minimum (Q4_1, Q5_1, the
/// K-quants' `dmin·m`) or its fixed or stored zero point (`o = −s·z`: Q4_0's 8, Q5_0's 16,
/// Q3_K's 4, Q6_K's 32, TQ1_0/TQ2_0's 1, I4G's `z`); `None` for formats whose codes are their
/// values (Q8_0, IQ4, FP4, FP8). The int8 kernels meet the offset through x's sums or in the
/// lanes' starting values, so their f32 rounding follows `|s·q| + |o| ≤ |w| + 2|o|` rather than
/// `|w|`: an f32 bound for them applies to `(|w| + 2|o|)·|x|` where that exceeds `|w·x|`.
pub fn offset_parts(ty: QuantType, w: &[u8], k: usize) -> Result<Option<Vec<f32>>, KernelError> {
    use QuantType as Q;
    let codes = match ty {
        Q::Q4_0 => 2..18,
        Q::Q4_1 => 4..20,
        Q::Q5_0 => 2..22,
        Q::Q5_1 => 4..24,
        Q::Q2_K => 16..80,
        Q::Q3_K => 0..96,
        Q::Q4_K => 16..144,
        Q::Q5_K => 16..176,
        Q::Q6_K => 0..192,
        Q::TQ1_0 => 0..52,
        Q::TQ2_0 => 0..64,
        Q::I4G32 | Q::I4G64 | Q::I4G128 => 3..ty.block_bytes(),
        _ => return Ok(None),
    };
    if k == 0 {
        return Err(KernelError::Shape(format!(
            "offset_parts {}: K must be at least 1",
            ty.name()
        )));
    }
    let row = ty.row_bytes(k)?;
    if !w.len().is_multiple_of(row) {
        return Err(KernelError::Shape(format!(
            "offset_parts {}: {} bytes are not whole rows of {row}",
            ty.name(),
            w.len()
        )));
    }
    let mut zeroed = w.to_vec();
    for b in zeroed.chunks_mut(ty.block_bytes()) {
        b[codes.clone()].fill(0);
    }
    let mut o = vec![0.0f32; w.len() / row * k];
    for (zr, or) in zeroed.chunks(row).zip(o.chunks_mut(k)) {
        crate::formats::dequantize_row(ty, zr, or)?;
    }
    Ok(Some(o))
}

/// Whether [`QuantPath::Int8`] has an integer kernel for `ty` at `level` (capped to this
/// machine); where it has none, that path takes the exact one.
pub fn has_int8_kernel(level: SimdLevel, ty: QuantType) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::quant_int8_x86::int_dot(level).is_some() && crate::quant_int8_x86::supports(ty)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (level, ty);
        false
    }
}

/// From this many tokens on, W is decoded (exactly) into panels of up to [`PANEL_ROWS`] f32 rows and
/// the dense GEMM runs on them: at M = 512 this measured ~2× faster than the GEMV kernels four
/// tokens a pass (`lowbit bench --w-format q4_0 --m 512`: 0.72× of dense f16 on the
/// dequantised weights, was 0.32×), while at a few tokens the GEMV kernels read W once and
/// win.
pub const PANEL_MIN_M: usize = 32;

/// Rows of W decoded at a time for the prefill panels (never the whole of W; 256 measured
/// slower at K = 4096: the GEMM packs x again for every panel), fewer where a panel would pass
/// [`PANEL_BYTES`].
const PANEL_ROWS: usize = 1024;

/// The most f32 bytes a panel takes (1024 rows at K = 4096), down to 64 rows for long rows.
const PANEL_BYTES: usize = 16 << 20;

/// One row of W decoded to f32: the SIMD decoders where the machine and format have them,
/// else the reference decoder.
fn decode_row(level: SimdLevel, ty: QuantType, row: &[u8], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if crate::simd::clamp(level) >= SimdLevel::Avx2 && crate::quant_units_x86::supports(ty) {
        // SAFETY: the Avx2 level has AVX2, FMA and F16C; `row` is one whole row of `ty` for
        // `out.len()` values.
        unsafe { crate::quant_units_x86::decode_row(ty, row, out) };
        return;
    }
    let _ = level;
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    for (b, o) in row.chunks_exact(bb).zip(out.chunks_exact_mut(be)) {
        decode_block(ty, b, o);
    }
}

/// `y = x · Wᵀ` for many tokens: W decoded up to [`PANEL_ROWS`] rows at a time into f32, each panel
/// through the dense GEMM (exact weights, f32 accumulation: within the f32 bound).
#[allow(clippy::too_many_arguments)]
fn panels(
    level: SimdLevel,
    threads: usize,
    ty: QuantType,
    w: &[u8],
    x: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    let row = ty.row_bytes(k)?;
    let cfg = crate::matmul::CpuConfig { level, threads };
    let per = (PANEL_BYTES / (4 * k)).clamp(64, PANEL_ROWS).min(n);
    let mut panel = vec![0f32; per * k];
    let mut yp = vec![0f32; m * per];
    for r0 in (0..n).step_by(per) {
        let rows = per.min(n - r0);
        let (p, yp) = (&mut panel[..rows * k], &mut yp[..m * rows]);
        let src = &w[r0 * row..(r0 + rows) * row];
        let decode = |(o, r): (&mut [f32], &[u8])| decode_row(level, ty, r, o);
        if threads <= 1 {
            p.chunks_mut(k).zip(src.chunks(row)).for_each(decode);
        } else {
            p.par_chunks_mut(k)
                .zip(src.par_chunks(row))
                .for_each(decode);
        }
        crate::matmul::matmul(&cfg, MatRef::F32(x), MatRef::F32(p), m, rows, k, yp)?;
        for (yr, pr) in y.chunks_mut(n).zip(yp.chunks(rows)) {
            yr[r0..r0 + rows].copy_from_slice(pr);
        }
    }
    Ok(())
}

/// Rows per rayon task.
const ROWS_PER_TASK: usize = 64;

/// `Σ a[i]·b[i]` with eight partial sums (any order is within the f32 bound).
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = a.len() / 8;
    for c in 0..chunks {
        for l in 0..8 {
            acc[l] += a[8 * c + l] * b[8 * c + l];
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for i in 8 * chunks..a.len() {
        s += a[i] * b[i];
    }
    s
}

#[cfg(target_arch = "x86_64")]
use crate::quant_int8_x86::{IntDot, QuantX};
#[cfg(not(target_arch = "x86_64"))]
type QuantX = ();
#[cfg(not(target_arch = "x86_64"))]
/// Off x86_64 there is no integer dot-product form (`quantized_x` is always `None`).
type IntDot = std::convert::Infallible;

/// Every token quantised to int8 blocks for `ty`, with the dot-product form to use, when the
/// int8 path serves `ty` at `level`.
fn quantized_x(
    path: QuantPath,
    level: SimdLevel,
    ty: QuantType,
    x: &[f32],
    m: usize,
    k: usize,
) -> Option<(IntDot, Vec<QuantX>)> {
    #[cfg(target_arch = "x86_64")]
    {
        use crate::quant_int8_x86::{int_dot, quantize_x, supports};
        let dot = int_dot(level).filter(|_| path == QuantPath::Int8 && supports(ty))?;
        // SAFETY: int_dot() returned a form, so the CPU has AVX2.
        let xq = (0..m).map(|t| unsafe { quantize_x(ty, dot, &x[t * k..(t + 1) * k]) });
        Some((dot, xq.collect()))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (path, level, ty, x, m, k);
        None
    }
}

/// One row of W against every quantised token, four a pass.
#[cfg(target_arch = "x86_64")]
fn int8_row(dot: IntDot, ty: QuantType, wr: &[u8], xq: &[QuantX], k: usize, acc: &mut [f32]) {
    for (t0, out) in (0..xq.len()).step_by(4).zip(acc.chunks_mut(4)) {
        let t1 = (t0 + 4).min(xq.len());
        let mut refs = [&xq[t0]; 4];
        for (r, x) in refs.iter_mut().zip(&xq[t0..t1]) {
            *r = x;
        }
        // SAFETY: int_dot() returned `dot` for this machine and supports(ty) held; `wr` is one
        // row of `ty` blocks for `k`; every token was quantised for `ty` from `k` values.
        unsafe { crate::quant_int8_x86::row_int8(dot, ty, wr, &refs[..t1 - t0], k, out) };
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn int8_row(_: IntDot, _: QuantType, _: &[u8], _: &[QuantX], _: usize, _: &mut [f32]) {
    unreachable!("quantized_x() is None off x86_64")
}

/// Whether the SIMD row kernels serve `ty` at `level` on this machine.
fn simd_rows(level: SimdLevel, ty: QuantType) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        crate::simd::clamp(level) >= SimdLevel::Avx2
            && (crate::quant_matmul_x86::supports(ty) || crate::quant_units_x86::supports(ty))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (level, ty);
        false
    }
}

/// Whether `ty` takes the 512-bit FP8 row kernel at `level` on this machine.
fn fp8_zmm(level: SimdLevel, ty: QuantType) -> bool {
    crate::simd::clamp(level) >= SimdLevel::Avx512
        && matches!(ty, QuantType::F8E4M3 | QuantType::F8E5M2)
}

/// One row of W against every token, through the SIMD row kernel (`zmm`: the 512-bit FP8
/// one), four tokens a pass.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
fn simd_row(
    ty: QuantType,
    zmm: bool,
    nan_free: bool,
    wr: &[u8],
    x: &[f32],
    m: usize,
    k: usize,
    acc: &mut [f32],
) {
    use crate::quant_matmul_x86::{row_dot, MAX_TOKENS};
    for t0 in (0..m).step_by(MAX_TOKENS) {
        let t1 = (t0 + MAX_TOKENS).min(m);
        // A fixed array, not a Vec: this runs once per row of W.
        let mut rows: [&[f32]; MAX_TOKENS] = [&[]; MAX_TOKENS];
        for (r, t) in rows.iter_mut().zip(t0..t1) {
            *r = &x[t * k..(t + 1) * k];
        }
        let mut out = [0.0f32; MAX_TOKENS];
        let rows = &rows[..t1 - t0];
        // SAFETY: simd_rows() checked the Avx2 level (AVX2, FMA, F16C) and the format; `wr`
        // is one whole row of `ty` blocks for `k` and every x row has `k` elements (lengths
        // checked by quant_matmul).
        // With `zmm`, fp8_zmm() also checked AVX-512 F, BW and VL.
        unsafe {
            if zmm {
                let e4m3 = ty == QuantType::F8E4M3;
                crate::quant_fp8_x86::fp8_row_avx512(e4m3, nan_free, wr, rows, k, &mut out);
            } else if crate::quant_matmul_x86::supports(ty) {
                row_dot(ty, wr, rows, k, &mut out);
            } else {
                crate::quant_units_x86::row_exact(ty, wr, rows, k, &mut out);
            }
        }
        acc[t0..t1].copy_from_slice(&out[..t1 - t0]);
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[allow(clippy::too_many_arguments)]
fn simd_row(
    _: QuantType,
    _: bool,
    _: bool,
    _: &[u8],
    _: &[f32],
    _: usize,
    _: usize,
    _: &mut [f32],
) {
    unreachable!("simd_rows() is false off x86_64")
}

/// What is known of a weight matrix beyond its bytes, found once where the weights are kept
/// ([`WeightFacts::of`]) rather than on every call: a per-call scan of W costs a pass over
/// memory the kernels would rather spend on the product.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WeightFacts {
    /// No FP8 E4M3 code of W is NaN (`S.1111.111`), so the E4M3 kernels skip their NaN blend
    /// (about 15% of their time at one token). `true` for weights that do hold NaN codes
    /// would make those weights finite: only [`WeightFacts::of`] should set it.
    pub e4m3_nan_free: bool,
}

impl WeightFacts {
    /// The facts of `w`, rows of `ty` blocks (one scan of W where a fact depends on it).
    pub fn of(ty: QuantType, w: &[u8]) -> WeightFacts {
        let e4m3_nan_free = ty == QuantType::F8E4M3
            && w.chunks(ty.block_bytes())
                .all(|b| b.iter().skip(4).all(|&c| c & 0x7f != 0x7f));
        WeightFacts { e4m3_nan_free }
    }
}

/// `y[m·n + j] = Σ_k x[m·k + i]·W[j][i]` for x `[m, k]` f32, W `[n, k]` as `n` rows of
/// `ty` blocks (`w.len() = n · row_bytes(k)`), y `[m, n]`, on `threads` threads (≤ 1: this one),
/// with the SIMD row kernels where `level` (capped to the machine) has one for `ty`.
#[allow(clippy::too_many_arguments)]
pub fn quant_matmul(
    path: QuantPath,
    level: SimdLevel,
    threads: usize,
    ty: QuantType,
    w: &[u8],
    x: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    let facts = WeightFacts::default();
    quant_matmul_with(facts, path, level, threads, ty, w, x, m, n, k, y)
}

/// [`quant_matmul`] with what is known of W (`facts`, from [`WeightFacts::of`] on these bytes).
#[allow(clippy::too_many_arguments)]
pub fn quant_matmul_with(
    facts: WeightFacts,
    path: QuantPath,
    level: SimdLevel,
    threads: usize,
    ty: QuantType,
    w: &[u8],
    x: &[f32],
    m: usize,
    n: usize,
    k: usize,
    y: &mut [f32],
) -> Result<(), KernelError> {
    if k == 0 {
        return Err(KernelError::Shape(format!(
            "quant_matmul {}: K must be at least 1",
            ty.name()
        )));
    }
    let row = ty.row_bytes(k)?;
    let check = |what: &str, got: usize, want: Option<usize>| match want {
        Some(want) if got == want => Ok(()),
        _ => Err(KernelError::Shape(format!(
            "quant_matmul {}: {what} has {got} elements, [m={m}, n={n}, k={k}] needs {}",
            ty.name(),
            want.map_or("more than usize holds".to_string(), |w| w.to_string())
        ))),
    };
    check("W bytes", w.len(), n.checked_mul(row))?;
    check("x", x.len(), m.checked_mul(k))?;
    check("y", y.len(), m.checked_mul(n))?;
    if m == 0 || n == 0 {
        return Ok(());
    }
    if m >= PANEL_MIN_M {
        return panels(level, threads, ty, w, x, m, n, k, y);
    }
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    // Results row by row of W ([n, m]), transposed into y at the end.
    let mut yt = vec![0.0f32; n * m];
    let simd = simd_rows(level, ty);
    let zmm = fp8_zmm(level, ty);
    let xq = quantized_x(path, level, ty, x, m, k);
    let work = |(task, out): (usize, &mut [f32])| {
        let mut buf = [0.0f32; 256];
        let first = task * ROWS_PER_TASK;
        for (r, acc) in out.chunks_mut(m).enumerate() {
            let wr = &w[(first + r) * row..(first + r + 1) * row];
            if let Some((dot, xq)) = &xq {
                int8_row(*dot, ty, wr, xq, k, acc);
                continue;
            }
            if simd {
                simd_row(ty, zmm, facts.e4m3_nan_free, wr, x, m, k, acc);
                continue;
            }
            for b in 0..k / be {
                let vals = &mut buf[..be];
                decode_block(ty, &wr[b * bb..(b + 1) * bb], vals);
                for (mi, a) in acc.iter_mut().enumerate() {
                    *a += dot(vals, &x[mi * k + b * be..mi * k + (b + 1) * be]);
                }
            }
        }
    };
    if threads <= 1 {
        yt.chunks_mut(ROWS_PER_TASK * m).enumerate().for_each(work);
    } else {
        yt.par_chunks_mut(ROWS_PER_TASK * m)
            .enumerate()
            .for_each(work);
    }
    for j in 0..n {
        for mi in 0..m {
            y[mi * n + j] = yt[j * m + mi];
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use half::f16;

    /// One block of `ty` with every byte `fill`, the f16 at `at` set to `v`.
    fn block(ty: QuantType, fill: u8, halves: &[(usize, f32)]) -> Vec<u8> {
        let mut b = vec![fill; ty.block_bytes()];
        for &(at, v) in halves {
            b[at..at + 2].copy_from_slice(&f16::from_f32(v).to_le_bytes());
        }
        b
    }

    #[test]
    fn offset_parts_are_the_weights_of_zero_codes() {
        let k = 32;
        // Q4_0, d = 2: w = 2·(q − 8), o = −16 whatever the codes.
        let o = offset_parts(
            QuantType::Q4_0,
            &block(QuantType::Q4_0, 0x5a, &[(0, 2.0)]),
            k,
        );
        assert_eq!(o.unwrap().unwrap(), vec![-16.0; k]);
        // Q5_0, d = 0.5: o = −8.
        let o = offset_parts(
            QuantType::Q5_0,
            &block(QuantType::Q5_0, 0xff, &[(0, 0.5)]),
            k,
        );
        assert_eq!(o.unwrap().unwrap(), vec![-8.0; k]);
        // Q4_1, d = 1, m = 0.25: o = m.
        let b = block(QuantType::Q4_1, 0x33, &[(0, 1.0), (2, 0.25)]);
        assert_eq!(
            offset_parts(QuantType::Q4_1, &b, k).unwrap().unwrap(),
            vec![0.25; k]
        );
        // TQ2_0 (256 a block), d = 0.75 at byte 64: o = −d.
        let b = block(QuantType::TQ2_0, 0xaa, &[(64, 0.75)]);
        assert_eq!(
            offset_parts(QuantType::TQ2_0, &b, 256).unwrap().unwrap(),
            vec![-0.75; 256]
        );
        // Codes that are their values have none; a partial row is an error.
        let b = block(QuantType::Q8_0, 1, &[(0, 1.0)]);
        assert!(offset_parts(QuantType::Q8_0, &b, k).unwrap().is_none());
        assert!(offset_parts(QuantType::Q4_0, &[0; 19], k).is_err());
    }
}
