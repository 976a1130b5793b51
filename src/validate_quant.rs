//! `lowbit validate --vectors FILE.gguf`: the quantized-matmul test vectors (the format of
//! `tests/data/quant_vectors.gguf`, see its generator) on a context: per case, the decode of
//! the weights bit for bit against `<case>.dequant`, and `quant_matmul` (exact path) within
//! the f32 bound `(K+1)·2⁻²⁴·Σ|w·x| + 2⁻²⁴·|y|` of the exact product of `dequant` and `x`; on
//! the CPU also the int8 path within `R + (K+2)·2⁻²⁴·(Σ|w·x| + R) + 2⁻²⁴·|y|`, `R` the error
//! quantising x may add.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::gguf::GgufFile;
use crate::ops::{dequantize, quant_matmul_with, QuantPath};
use crate::quant::QuantMatrix;
use crate::tensor::Tensor;
use crate::validate::CaseResult;
use lowbit_kernels::quant_matmul::int8_error_bound;

/// The case names: `testvec.cases` when present, else every `<case>.weight` with its
/// `.x` and `.dequant` beside it.
pub fn vector_cases(file: &GgufFile) -> Vec<String> {
    if let Some(list) = file.get("testvec.cases").and_then(|v| v.as_array()) {
        return list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
    }
    file.tensors
        .iter()
        .filter_map(|t| t.name.strip_suffix(".weight"))
        .filter(|c| {
            file.tensor(&format!("{c}.x")).is_some()
                && file.tensor(&format!("{c}.dequant")).is_some()
        })
        .map(str::to_string)
        .collect()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

const U: f64 = 1.0 / (1u64 << 24) as f64;

fn result(
    ctx: &Context,
    op: &str,
    ty: &str,
    case: &str,
    (m, n, k): (usize, usize, usize),
) -> CaseResult {
    CaseResult {
        adapter: ctx.info().name,
        op: op.into(),
        x_dtype: "f32".into(),
        w_dtype: ty.into(),
        variant: case.into(),
        m,
        n,
        k,
        max_abs_err: 0.0,
        bound: 0.0,
        pass: false,
        error: None,
    }
}

/// `(dequant check, matmul checks)` of one case: the exact path against the f32 bound on
/// every backend, and on the CPU also the int8 path against its derived bound.
fn one_case(ctx: &Context, file: &GgufFile, case: &str) -> Result<Vec<CaseResult>> {
    let w = QuantMatrix::from_gguf(ctx, file, &format!("{case}.weight"))?;
    let (xi, xb) = file.tensor_with_data(&format!("{case}.x"))?;
    let (di, db) = file.tensor_with_data(&format!("{case}.dequant"))?;
    let (n, k) = (w.n(), w.k());
    let (m, xk) = xi.rows_cols();
    if xk != k || di.rows_cols() != (n, k) {
        return Err(Error::Gguf(format!(
            "{case}: x, weight and dequant shapes disagree"
        )));
    }
    let ty = w.quant_type().name();
    let deq = f32s(db);
    let x = f32s(xb);

    let mut dq = result(ctx, "dequant", ty, case, (m, n, k));
    let got = dequantize(&w)?.to_vec::<f32>()?;
    let mut exact = true;
    for (g, e) in got.iter().zip(&deq) {
        exact &= g.to_bits() == e.to_bits();
        dq.max_abs_err = dq.max_abs_err.max(f64::from((g - e).abs()));
    }
    dq.pass = exact;

    let mut out = vec![dq];
    let xt = Tensor::from_slice(ctx, &x, &[m, k])?;
    let mut paths = vec![(QuantPath::Exact, "quant_matmul")];
    if !ctx.is_gpu() {
        paths.push((QuantPath::Int8, "quant_matmul.int8"));
    }
    for (path, op) in paths {
        let mut mm = result(ctx, op, ty, case, (m, n, k));
        let y = quant_matmul_with(ctx, &xt, &w, path)?.to_vec::<f32>()?;
        let mut worst = -1.0;
        mm.pass = true;
        for mi in 0..m {
            let xr = &x[mi * k..(mi + 1) * k];
            for j in 0..n {
                let wr = &deq[j * k..(j + 1) * k];
                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                for i in 0..k {
                    let p = f64::from(wr[i]) * f64::from(xr[i]);
                    exact += p;
                    mag += p.abs();
                }
                // The int8 path adds what quantising x may (`int8_error_bound`) and the f32
                // rounding of the larger magnitudes.
                let r = if path == QuantPath::Int8 {
                    int8_error_bound(wr, xr)
                } else {
                    0.0
                };
                let extra = if path == QuantPath::Int8 { 1.0 } else { 0.0 };
                let bound = r + (k as f64 + 1.0 + extra) * U * (mag + r) + U * exact.abs();
                let err = (f64::from(y[mi * n + j]) - exact).abs();
                mm.pass &= err <= bound;
                let ratio = err / bound.max(f64::MIN_POSITIVE);
                if ratio > worst {
                    worst = ratio;
                    mm.max_abs_err = err;
                    mm.bound = bound;
                }
            }
        }
        out.push(mm);
    }
    Ok(out)
}

/// Every case of a vector file on `ctx`, calling `each` as results arrive.
pub fn validate_vectors(
    ctx: &Context,
    file: &GgufFile,
    mut each: impl FnMut(&CaseResult),
) -> Vec<CaseResult> {
    let mut out = Vec::new();
    for case in vector_cases(file) {
        let pair = match one_case(ctx, file, &case) {
            Ok(v) => v,
            Err(e) => {
                let mut r = result(ctx, "vectors", "?", &case, (0, 0, 0));
                r.error = Some(e.to_string());
                vec![r]
            }
        };
        for r in pair {
            each(&r);
            out.push(r);
        }
    }
    out
}
