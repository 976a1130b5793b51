//! `lowbit validate`: every op and variant on a context against the CPU reference, on seeded
//! data over a fixed set of shapes (the awkward ones included).

use half::{bf16, f16};
use lowbit_kernels::{reference, DType, MatRef};
use serde::{Deserialize, Deserializer, Serialize};

use crate::context::Context;
use crate::ops::{int8, matmul as mm};
use crate::tensor::Tensor;

/// One checked case.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CaseResult {
    /// Adapter name.
    pub adapter: String,
    /// The adapter's backend (`vulkan`, `gl`, ..., `cpu`): two adapters may share a name.
    #[serde(default)]
    pub backend: String,
    /// Operation (`matmul`, `matmul_i8`, `w8a8`, `quant_matmul`, `lut_matmul`, `lmul`, `shift_matmul`,
    /// `ternary_matmul`, `bcq_matmul`, `log_bessel`, `vmf`).
    pub op: String,
    /// Activation dtype.
    pub x_dtype: String,
    /// Weight dtype.
    pub w_dtype: String,
    /// Kernel variant name.
    pub variant: String,
    /// Rows of x.
    pub m: usize,
    /// Rows of W.
    pub n: usize,
    /// Shared dimension.
    pub k: usize,
    /// Largest |got − reference| over the output (lmul, shift_matmul, int8 ternary_matmul: the
    /// number of outputs whose bits differ; bcq_matmul: the largest error over its bound, passing
    /// at 1; log_bessel: the mixed error `|got − ref| / max(|ref|, 1)`; vmf: the error relative
    /// to its scale, see `validate_bessel`). NaN is written as `null`.
    #[serde(deserialize_with = "null_is_nan")]
    pub max_abs_err: f64,
    /// The bound at that element (0 for bit-exact ops).
    #[serde(deserialize_with = "null_is_nan")]
    pub bound: f64,
    /// Every element within its bound (and no error).
    pub pass: bool,
    /// The error message when the op itself failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Outputs that are NaN or ±inf (counted where the case keeps its float output).
    #[serde(default)]
    pub nonfinite: usize,
    /// For bit-exact ops, FNV-1a 64 of the output's bytes ([`output_hash`]): equal on two
    /// machines exactly when their outputs are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_hash: Option<String>,
}

impl CaseResult {
    /// A case of `op` on `ctx` not run yet: no error, not passed.
    pub fn new(
        ctx: &Context,
        op: impl Into<String>,
        x_dtype: impl Into<String>,
        w_dtype: impl Into<String>,
        variant: impl Into<String>,
        (m, n, k): (usize, usize, usize),
    ) -> Self {
        let info = ctx.info();
        CaseResult {
            adapter: info.name,
            backend: info.backend.clone(),
            op: op.into(),
            x_dtype: x_dtype.into(),
            w_dtype: w_dtype.into(),
            variant: variant.into(),
            m,
            n,
            k,
            max_abs_err: 0.0,
            bound: 0.0,
            pass: false,
            error: None,
            nonfinite: 0,
            output_hash: None,
        }
    }
}

/// serde_json writes a non-finite f64 as `null`; read it back as NaN.
fn null_is_nan<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// FNV-1a 64 of `y`'s bytes as 16 hex digits: the fingerprint a report keeps of a bit-exact
/// op's output.
pub fn output_hash<T: bytemuck::Pod>(y: &[T]) -> String {
    use std::hash::Hasher;
    let mut h = fnv::FnvHasher::default();
    h.write(bytemuck::cast_slice(y));
    format!("{:016x}", h.finish())
}

/// How many of `y` are NaN or ±inf.
pub fn count_nonfinite(y: &[f32]) -> usize {
    y.iter().filter(|v| !v.is_finite()).count()
}

/// (M, N, K) shapes: decode and prefill, K odd / 1 / not a multiple of a tile, N = 1.
pub const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 3, 17),
    (1, 257, 33),
    (2, 33, 257),
    (3, 17, 4097),
    (4, 33, 31),
    (1, 4097, 8),
    (2, 33, 264),
    (4, 5, 520),
    (5, 3, 17),
    (17, 33, 257),
    (33, 1, 64),
    (257, 65, 33),
];

/// SplitMix64, so every machine validates the same data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f32 {
        ((self.next() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}

/// Values rounded to `dtype` (as f32) and the tensor holding them.
fn float_data(
    ctx: &Context,
    dtype: DType,
    shape: &[usize],
    seed: u64,
) -> crate::Result<(Vec<f32>, Tensor)> {
    let mut rng = Rng(seed);
    let raw: Vec<f32> = (0..shape.iter().product::<usize>())
        .map(|_| rng.unit())
        .collect();
    Ok(match dtype {
        DType::F16 => {
            let h: Vec<f16> = raw.iter().map(|&v| f16::from_f32(v)).collect();
            (
                h.iter().map(|v| v.to_f32()).collect(),
                Tensor::from_slice(ctx, &h, shape)?,
            )
        }
        DType::BF16 => {
            let h: Vec<bf16> = raw.iter().map(|&v| bf16::from_f32(v)).collect();
            (
                h.iter().map(|v| v.to_f32()).collect(),
                Tensor::from_slice(ctx, &h, shape)?,
            )
        }
        _ => (raw.clone(), Tensor::from_slice(ctx, &raw, shape)?),
    })
}

/// Unit round-off of the f32 accumulation every float kernel uses; the inputs are exactly
/// representable in f32 (f16 and bf16 widen exactly), so it is the only rounding.
const U_F32: f64 = 1.0 / (1u64 << 24) as f64;

fn base(
    ctx: &Context,
    op: &str,
    xd: DType,
    wd: DType,
    variant: String,
    shape: (usize, usize, usize),
) -> CaseResult {
    CaseResult::new(ctx, op, xd.name(), wd.name(), variant, shape)
}

fn float_case(
    ctx: &Context,
    xd: DType,
    wd: DType,
    shape: (usize, usize, usize),
    v: mm::MatmulVariant,
) -> CaseResult {
    let mut r = base(ctx, "matmul", xd, wd, v.name(), shape);
    let (m, n, k) = shape;
    let run = || -> crate::Result<(f64, f64, bool, usize)> {
        let seed = (m * 1_000_003 + n * 1009 + k) as u64;
        let (xv, x) = float_data(ctx, xd, &[m, k], seed)?;
        let (wv, w) = float_data(ctx, wd, &[n, k], seed ^ 0xABCD)?;
        let y = mm::matmul_with(ctx, &x, &w, Some(v))?.to_vec::<f32>()?;
        let yr = reference::matmul(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k)?;
        let ya = reference::matmul_abs(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k)?;
        let (mut worst, mut worst_bound, mut pass) = (0.0f64, 0.0f64, true);
        for i in 0..y.len() {
            let err = (y[i] as f64 - yr[i]).abs();
            let b = (k as f64 + 1.0) * U_F32 * ya[i] + U_F32 * yr[i].abs();
            pass &= err <= b;
            if err >= worst {
                worst = err;
                worst_bound = b;
            }
        }
        Ok((worst, worst_bound, pass, count_nonfinite(&y)))
    };
    match run() {
        Ok((e, b, p, nonfinite)) => {
            r.max_abs_err = e;
            r.bound = b;
            r.pass = p;
            r.nonfinite = nonfinite;
        }
        Err(e) => r.error = Some(e.to_string()),
    }
    r
}

fn int8_case(
    ctx: &Context,
    scaled: bool,
    shape: (usize, usize, usize),
    v: int8::Int8Variant,
) -> CaseResult {
    let op = if scaled { "w8a8" } else { "matmul_i8" };
    let mut r = base(ctx, op, DType::I8, DType::I8, v.name(), shape);
    let (m, n, k) = shape;
    let run = || -> crate::Result<(f64, bool, String)> {
        let mut rng = Rng((m * 7919 + n * 31 + k) as u64);
        let xv: Vec<i8> = (0..m * k).map(|_| rng.next() as i8).collect();
        let wv: Vec<i8> = (0..n * k).map(|_| rng.next() as i8).collect();
        let sx: Vec<f32> = (0..m).map(|_| rng.unit().abs() / 127.0 + 1e-4).collect();
        let sw: Vec<f32> = (0..n).map(|_| rng.unit().abs() / 127.0 + 1e-4).collect();
        let x = Tensor::from_slice(ctx, &xv, &[m, k])?;
        let w = Tensor::from_slice(ctx, &wv, &[n, k])?;
        if scaled {
            let (sxt, swt) = (
                Tensor::from_slice(ctx, &sx, &[m])?,
                Tensor::from_slice(ctx, &sw, &[n])?,
            );
            let y = int8::int8_with(
                ctx,
                x.view(),
                w.view(),
                Some((sxt.view(), swt.view())),
                Some(v),
            )?
            .to_vec::<f32>()?;
            let yr = reference::w8a8(&xv, &sx, &wv, &sw, m, n, k)?;
            let worst = y
                .iter()
                .zip(&yr)
                .map(|(a, b)| (a - b).abs() as f64)
                .fold(0.0, f64::max);
            let exact = y.iter().zip(&yr).all(|(a, b)| a.to_bits() == b.to_bits());
            Ok((worst, exact, output_hash(&y)))
        } else {
            let y = int8::int8_with(ctx, x.view(), w.view(), None, Some(v))?.to_vec::<i32>()?;
            let yr = reference::matmul_i8(&xv, &wv, m, n, k)?;
            let worst = y
                .iter()
                .zip(&yr)
                .map(|(a, b)| (*a as i64 - *b as i64).abs() as f64)
                .fold(0.0, f64::max);
            Ok((worst, y == yr, output_hash(&y)))
        }
    };
    match run() {
        Ok((e, p, hash)) => {
            r.max_abs_err = e;
            r.pass = p;
            r.output_hash = Some(hash);
        }
        Err(e) => r.error = Some(e.to_string()),
    }
    r
}

/// Runs every case on `ctx`, calling `each` as results arrive.
pub fn validate_context(ctx: &Context, mut each: impl FnMut(&CaseResult)) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let mut push = |r: CaseResult| {
        each(&r);
        out.push(r);
    };
    let dts = [DType::F32, DType::F16, DType::BF16];
    for &shape in SHAPES {
        let (m, _, k) = shape;
        for xd in dts {
            for wd in dts {
                for v in mm::variants(ctx, xd, wd, m, k) {
                    push(float_case(ctx, xd, wd, shape, v));
                }
            }
        }
        for scaled in [false, true] {
            for v in int8::variants(ctx, m) {
                push(int8_case(ctx, scaled, shape, v));
            }
        }
    }
    for r in crate::validate_quant::seeded_cases(ctx) {
        push(r);
    }
    for r in crate::validate_lut::lut_cases(ctx) {
        push(r);
    }
    for r in crate::validate_lmul::lmul_cases(ctx) {
        push(r);
    }
    for r in crate::validate_shift::shift_cases(ctx) {
        push(r);
    }
    for r in crate::validate_ternary::ternary_cases(ctx) {
        push(r);
    }
    for r in crate::validate_bcq::bcq_cases(ctx) {
        push(r);
    }
    for r in crate::validate_bessel::bessel_cases(ctx) {
        push(r);
    }
    out
}
