//! `quant_matmul` on every backend against the 73 cases of `quant_vectors.gguf` (gguf-py's
//! weights, activations and f64-accumulated outputs), with x in f32 and f16, within the f32
//! bound `(K+1)·2⁻²⁴·Σ|w·x| + 2⁻²⁴·|y|`.

mod common;

use common::quant_bounds::{check, check_int8};
use half::f16;
use lowbit::gguf::GgufFile;
use lowbit::ops::{quant_matmul, quant_matmul_with, QuantPath};
use lowbit::{Context, QuantMatrix, Tensor};
use lowbit_kernels::formats::QuantType;
use lowbit_kernels::quant_matmul::offset_parts;

fn vectors() -> GgufFile {
    GgufFile::open(format!(
        "{}/tests/data/quant_vectors.gguf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

fn run_cases(ctx: &Context) {
    let f = vectors();
    let cases: Vec<String> = f
        .get("testvec.cases")
        .and_then(|v| v.as_array())
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    for case in &cases {
        let w = QuantMatrix::from_gguf(ctx, &f, &format!("{case}.weight")).unwrap();
        let (xi, xb) = f.tensor_with_data(&format!("{case}.x")).unwrap();
        let (_, db) = f.tensor_with_data(&format!("{case}.dequant")).unwrap();
        let (m, k) = xi.rows_cols();
        let n = w.n();
        let x = f32s(xb);
        let deq = f32s(db);
        let xt = Tensor::from_slice(ctx, &x, &[m, k]).unwrap();
        let got = quant_matmul_with(ctx, &xt, &w, QuantPath::Exact)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let e = check(&got, &deq, &x, m, n, k);
        assert!(
            e <= 1.0,
            "{} {case} x f32: {e:.3} of the bound",
            ctx.info().name
        );
        // The default (int8 where the CPU has it) within its own derived bound.
        let got = quant_matmul(ctx, &xt, &w).unwrap().to_vec::<f32>().unwrap();
        let (wi, wb) = f.tensor_with_data(&format!("{case}.weight")).unwrap();
        let offs = offset_parts(wi.ty, wb, k)
            .unwrap()
            .unwrap_or(vec![0.0; n * k]);
        let e = check_int8(&got, &deq, &offs, &x, (m, n, k));
        assert!(
            e <= 1.0,
            "{} {case} int8: {e:.3} of the bound",
            ctx.info().name
        );
        // The file's own y agrees with the same bound (it is the exact sum, rounded).
        let (_, yb) = f.tensor_with_data(&format!("{case}.y")).unwrap();
        assert!(check(&f32s(yb), &deq, &x, m, n, k) <= 1.0);
        // x in f16: the reference uses the f16-rounded activations.
        let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
        let xr: Vec<f32> = xh.iter().map(|v| v.to_f32()).collect();
        let xt = Tensor::from_slice(ctx, &xh, &[m, k]).unwrap();
        let got = quant_matmul_with(ctx, &xt, &w, QuantPath::Exact)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        let e = check(&got, &deq, &xr, m, n, k);
        assert!(
            e <= 1.0,
            "{} {case} x f16: {e:.3} of the bound",
            ctx.info().name
        );
    }
}

#[test]
fn every_vector_case_on_every_backend() {
    for ctx in common::all_contexts() {
        run_cases(&ctx);
    }
}

#[test]
fn m_past_one_dispatch_and_bad_input() {
    for ctx in common::all_contexts() {
        // M = 9: the tiled GEMM on a GPU (past the GEMV's 4 tokens).
        let (n, k, m) = (5, 64, 9);
        let w: Vec<f32> = (0..n * k)
            .map(|i| ((i * 7919) % 61) as f32 / 61.0 - 0.5)
            .collect();
        let q = QuantMatrix::quantize(&ctx, QuantType::Q8_0, n, k, &w).unwrap();
        let x: Vec<f32> = (0..m * k)
            .map(|i| ((i * 104729) % 37) as f32 / 37.0 - 0.5)
            .collect();
        let mut deq = vec![0.0; n * k];
        let mut bytes = vec![0u8; n * QuantType::Q8_0.row_bytes(k).unwrap()];
        for r in 0..n {
            let row = QuantType::Q8_0.row_bytes(k).unwrap();
            lowbit_kernels::formats::quantize_row(
                QuantType::Q8_0,
                &w[r * k..(r + 1) * k],
                &mut bytes[r * row..(r + 1) * row],
            )
            .unwrap();
            lowbit_kernels::formats::dequantize_row(
                QuantType::Q8_0,
                &bytes[r * row..(r + 1) * row],
                &mut deq[r * k..(r + 1) * k],
            )
            .unwrap();
        }
        let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
        let got = quant_matmul(&ctx, &xt, &q)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(check_int8(&got, &deq, &vec![0.0; n * k], &x, (m, n, k)) <= 1.0);
        let got = quant_matmul_with(&ctx, &xt, &q, QuantPath::Exact)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(check(&got, &deq, &x, m, n, k) <= 1.0);

        // Wrong K, wrong dtype, wrong byte count, K not a multiple of the block.
        let bad = Tensor::from_slice(&ctx, &[0f32; 2 * 32], &[2, 32]).unwrap();
        assert!(quant_matmul(&ctx, &bad, &q).is_err());
        let xi = Tensor::from_slice(&ctx, &[0i8; 64], &[1, 64]).unwrap();
        assert!(quant_matmul(&ctx, &xi, &q).is_err());
        assert!(QuantMatrix::from_bytes(&ctx, QuantType::Q4_0, 2, 32, &[0u8; 35]).is_err());
        assert!(QuantMatrix::from_bytes(&ctx, QuantType::Q4_K, 1, 128, &[0u8; 144]).is_err());
        assert!(QuantMatrix::quantize(&ctx, QuantType::Q3_K, 1, 256, &[0.0; 256]).is_err());
    }
}

#[test]
fn tiled_gemm_on_every_vector_weight_with_70_tokens() {
    // M = 70 spans two 64-token tiles (and N = 96 two 64-row tiles) of the GPU GEMM.
    let f = vectors();
    let m = 70;
    for ctx in common::all_contexts() {
        for case in f
            .tensors
            .iter()
            .filter_map(|t| t.name.strip_suffix(".weight"))
        {
            let w = QuantMatrix::from_gguf(&ctx, &f, &format!("{case}.weight")).unwrap();
            let (_, db) = f.tensor_with_data(&format!("{case}.dequant")).unwrap();
            let deq = f32s(db);
            let (n, k) = (w.n(), w.k());
            let x: Vec<f32> = (0..m * k)
                .map(|i| ((i * 2654435761usize) % 1000) as f32 / 500.0 - 1.0)
                .collect();
            let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
            let got = quant_matmul_with(&ctx, &xt, &w, QuantPath::Exact)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            let e = check(&got, &deq, &x, m, n, k);
            assert!(
                e <= 1.0,
                "{} {case} M=70: {e:.3} of the bound",
                ctx.info().name
            );
        }
    }
}

#[test]
fn seeded_blocks_of_every_format_on_every_backend() {
    // `lowbit validate`'s seeded cases: random bytes in every field of every format (not only
    // what a quantiser writes), decoded bit for bit and multiplied by both paths within their
    // bounds — the GEMM at M = 70 with f16 x, the wide and window forms at K = 2048 past one
    // workgroup of rows.
    for ctx in common::all_contexts() {
        let cases = lowbit::validate_quant::seeded_cases(&ctx);
        let failed: Vec<String> = cases
            .iter()
            .filter(|c| !c.pass)
            .map(|c| {
                format!(
                    "{} {} {} x {} {}×{}×{}: err {:e} bound {:e} {}",
                    c.op,
                    c.w_dtype,
                    c.variant,
                    c.x_dtype,
                    c.m,
                    c.n,
                    c.k,
                    c.max_abs_err,
                    c.bound,
                    c.error.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert!(failed.is_empty(), "{:?}: {failed:#?}", ctx.info().name);
        // Every format at M = 70 with f16 x, through both paths and the decode.
        for ty in lowbit::kernels::formats::ALL {
            let at = |op: &str| {
                cases.iter().any(|c| {
                    c.w_dtype == ty.name() && c.op == op && c.m == 70 && c.x_dtype == "f16"
                })
            };
            assert!(
                at("quant_matmul") && at("quant_matmul.int8"),
                "{}",
                ty.name()
            );
        }
    }
}
