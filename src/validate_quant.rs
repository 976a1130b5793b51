//! `lowbit validate --vectors FILE.gguf`: the quantized-matmul test vectors (the format of
//! `tests/data/quant_vectors.gguf`, see its generator) on a context: per case, the decode of
//! the weights bit for bit against `<case>.dequant`, and `quant_matmul` (exact path) within
//! the f32 bound `(K+1)·2⁻²⁴·Σ|w·x| + 2⁻²⁴·|y|` of the exact product of `dequant` and `x`, and
//! the int8 path within `R + (K+2)·2⁻²⁴·(Σ|w·x| + R) + 2⁻²⁴·|y|`, `R` the error quantising x
//! may add.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::gguf::GgufFile;
use crate::ops::{dequantize, quant_matmul_with, QuantPath};
use crate::quant::QuantMatrix;
use crate::validate::CaseResult;
use lowbit_kernels::formats::{dequantize_block, QuantType};
use lowbit_kernels::quant_matmul::{int8_error_bound, offset_parts};
use lowbit_kernels::DType;

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
    CaseResult::new(ctx, op, "f32", ty, case, (m, n, k))
}

/// `(dequant check, matmul checks)` of one case: the exact path against the f32 bound and the
/// int8 path against its derived bound.
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
    let (wi, wb) = file.tensor_with_data(&format!("{case}.weight"))?;
    let offs = offset_parts(wi.ty, wb, k)?.unwrap_or_else(|| vec![0.0; n * k]);
    check_case(
        ctx,
        &w,
        (&f32s(xb), DType::F32),
        m,
        (&f32s(db), &offs),
        case,
    )
}

/// The checks of one case: `w`'s decode bit for bit against `deq` (`[n, k]`), and both matmul
/// paths with x (`[m, k]`, uploaded as `x_dtype`, f32 or f16: for f16 its values must be
/// f16's) within their bounds (the int8 one with the weights' offset parts `offs`, see
/// `offset_parts`).
fn check_case(
    ctx: &Context,
    w: &QuantMatrix,
    (x, x_dtype): (&[f32], DType),
    m: usize,
    (deq, offs): (&[f32], &[f32]),
    case: &str,
) -> Result<Vec<CaseResult>> {
    let (n, k) = (w.n(), w.k());
    let ty = w.quant_type().name();
    let mut dq = result(ctx, "dequant", ty, case, (m, n, k));
    let got = dequantize(w)?.to_vec::<f32>()?;
    let mut exact = true;
    for (g, e) in got.iter().zip(deq) {
        exact &= g.to_bits() == e.to_bits();
        dq.max_abs_err = dq.max_abs_err.max(f64::from((g - e).abs()));
    }
    dq.pass = exact;

    let mut out = vec![dq];
    let xt = crate::bench::tensor_of(ctx, x_dtype, x, &[m, k])?;
    // Both paths everywhere: the int8 one is an integer kernel on the CPU (every format but
    // FP8) and on GPUs (every block format at M ≤ 4), the exact decoders elsewhere.
    let paths = [
        (QuantPath::Exact, "quant_matmul"),
        (QuantPath::Int8, "quant_matmul.int8"),
    ];
    for (path, op) in paths {
        let mut mm = result(ctx, op, ty, case, (m, n, k));
        mm.x_dtype = x_dtype.name().into();
        let y = quant_matmul_with(ctx, &xt, w, path)?.to_vec::<f32>()?;
        let mut worst = -1.0;
        mm.pass = true;
        for mi in 0..m {
            let xr = &x[mi * k..(mi + 1) * k];
            for j in 0..n {
                let wr = &deq[j * k..(j + 1) * k];
                let or = &offs[j * k..(j + 1) * k];
                let int8 = path == QuantPath::Int8;
                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                for i in 0..k {
                    let p = f64::from(wr[i]) * f64::from(xr[i]);
                    exact += p;
                    // The int8 kernels sum the offset parts apart: |s·q| + |o| ≤ |w| + 2|o|.
                    let parts = if int8 {
                        wr[i].abs() + 2.0 * or[i].abs()
                    } else {
                        0.0
                    };
                    mag += p.abs().max(f64::from(parts) * f64::from(xr[i].abs()));
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

/// Deterministic pseudo-random numbers for the seeded cases (and the quantized kernels' unit
/// tests).
pub(crate) struct Lcg(pub(crate) u64);

impl Lcg {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 24
    }
}

/// Seeded weights for `ty`: random block bytes, each block redrawn until it decodes to values
/// of magnitude ≤ 2²⁰ (a random f16 scale is infinite or NaN one time in 32, a random E8M0
/// scale up to 2¹²⁷, and sums of such products would overflow f32), so every field and code of
/// the format is exercised, not only what a quantiser writes. Returns the bytes and their
/// decode.
pub(crate) fn seeded_weights(
    ty: QuantType,
    n: usize,
    k: usize,
    rng: &mut Lcg,
) -> Result<(Vec<u8>, Vec<f32>)> {
    let (be, bb) = (ty.block_elems(), ty.block_bytes());
    let mut bytes = vec![0u8; n * ty.row_bytes(k)?];
    let mut deq = vec![0f32; n * k];
    for (blk, out) in bytes.chunks_mut(bb).zip(deq.chunks_mut(be)) {
        loop {
            blk.iter_mut().for_each(|b| *b = rng.next() as u8);
            dequantize_block(ty, blk, out)?;
            if out.iter().all(|v| v.abs() <= (1u32 << 20) as f32) {
                break;
            }
        }
    }
    Ok((bytes, deq))
}

/// The seeded shapes `(M, N, K in blocks or elements, x f16)`: one block, odd N, M = 1, 3, 4
/// (the GEMV) and 5, 70 (the tiled GEMM: two 64-token tiles, two 64-row tiles); K = 2048 (the
/// wide and window forms of CPU-type adapters, K % 512 == 0) past one workgroup of rows; f16 x
/// through both.
const SEEDED: [(usize, usize, Blocks, bool); 7] = [
    (1, 17, Blocks::Count(1), false),
    (3, 33, Blocks::Count(3), false),
    (5, 3, Blocks::Count(2), false),
    (5, 3, Blocks::Count(2), true),
    (70, 65, Blocks::Count(3), true),
    (4, 65, Blocks::Elements(2048), false),
    (1, 33, Blocks::Elements(2048), true),
];

/// K of a seeded shape: a number of the format's blocks, or of elements.
#[derive(Clone, Copy)]
enum Blocks {
    Count(usize),
    Elements(usize),
}

/// Every block format on seeded data (`lowbit validate` without `--vectors`, and
/// `tests/quant_matmul.rs`): the [`SEEDED`] shapes, each checked as a vector case.
pub fn seeded_cases(ctx: &Context) -> Vec<CaseResult> {
    let mut rng = Lcg(0x5eed);
    let mut out = Vec::new();
    for ty in lowbit_kernels::formats::ALL {
        let be = ty.block_elems();
        for (m, n, kb, x_f16) in SEEDED {
            let k = match kb {
                Blocks::Count(c) => be * c,
                Blocks::Elements(e) => e,
            };
            let x_dtype = if x_f16 { DType::F16 } else { DType::F32 };
            let case = format!("seeded.m{m}n{n}k{k}.x{}", x_dtype.name());
            let run = |rng: &mut Lcg| -> Result<Vec<CaseResult>> {
                let (bytes, deq) = seeded_weights(ty, n, k, rng)?;
                let w = QuantMatrix::from_bytes(ctx, ty, n, k, &bytes)?;
                let offs = offset_parts(ty, &bytes, k)?.unwrap_or_else(|| vec![0.0; n * k]);
                // f16 x: the values f16 holds, so the reference meets the same x.
                let x: Vec<f32> = (0..m * k)
                    .map(|_| (rng.next() % 2001) as f32 / 1000.0 - 1.0)
                    .map(|v| {
                        if x_f16 {
                            half::f16::from_f32(v).to_f32()
                        } else {
                            v
                        }
                    })
                    .collect();
                check_case(ctx, &w, (&x, x_dtype), m, (&deq, &offs), &case)
            };
            match run(&mut rng) {
                Ok(rs) => out.extend(rs),
                Err(e) => {
                    let mut r = result(ctx, "quant_matmul", ty.name(), &case, (m, n, k));
                    r.x_dtype = x_dtype.name().into();
                    r.error = Some(e.to_string());
                    out.push(r);
                }
            }
        }
    }
    out
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
