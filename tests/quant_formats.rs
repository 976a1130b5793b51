//! GGUF block formats against llama.cpp's gguf-py: every case of `quant_vectors.gguf` decodes
//! bit for bit to its `.dequant`, and the reference quantisers give gguf-py's bytes
//! (`quant_roundtrip.gguf`, made by `scripts/gen_quant_roundtrip.py`).

use lowbit::gguf::GgufFile;
use lowbit_kernels::formats::{dequantize_row, quantize_row, QuantType};

fn data(name: &str) -> GgufFile {
    GgufFile::open(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Decodes every row of a `[N, K]` tensor of type `ty`.
fn dequant_all(ty: QuantType, bytes: &[u8], n: usize, k: usize) -> Vec<f32> {
    let row = ty.row_bytes(k).unwrap();
    assert_eq!(bytes.len(), n * row);
    let mut out = vec![0.0; n * k];
    for r in 0..n {
        dequantize_row(
            ty,
            &bytes[r * row..(r + 1) * row],
            &mut out[r * k..(r + 1) * k],
        )
        .unwrap();
    }
    out
}

#[test]
fn every_vector_case_dequantizes_bit_exactly() {
    let f = data("quant_vectors.gguf");
    let cases: Vec<String> = f
        .get("testvec.cases")
        .and_then(|v| v.as_array())
        .expect("testvec.cases")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cases.len(), 73);
    let mut types = std::collections::BTreeSet::new();
    for case in &cases {
        let (w, wb) = f.tensor_with_data(&format!("{case}.weight")).unwrap();
        let (_, db) = f.tensor_with_data(&format!("{case}.dequant")).unwrap();
        let (n, k) = w.rows_cols();
        let got = dequant_all(w.ty, wb, n, k);
        let want = f32s(db);
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            assert_eq!(
                g.to_bits(),
                e.to_bits(),
                "{case}: element {i} (row {}, col {}) = {g:e}, want {e:e}",
                i / k,
                i % k
            );
        }
        types.insert(w.ty);
    }
    assert_eq!(types.len(), 16, "{types:?}");
}

#[test]
fn quantizers_give_gguf_py_bytes() {
    let f = data("quant_roundtrip.gguf");
    let quantizable = [
        QuantType::BF16,
        QuantType::Q8_0,
        QuantType::Q4_0,
        QuantType::Q4_1,
        QuantType::Q5_0,
        QuantType::Q5_1,
        QuantType::TQ1_0,
        QuantType::TQ2_0,
        QuantType::MXFP4,
    ];
    for ty in quantizable {
        let (src, sb) = f.tensor_with_data(&format!("{}.src", ty.name())).unwrap();
        let (q, qb) = f.tensor_with_data(&format!("{}.q", ty.name())).unwrap();
        assert_eq!(q.ty, ty);
        let (n, k) = src.rows_cols();
        let x = f32s(sb);
        let row = ty.row_bytes(k).unwrap();
        let mut got = vec![0u8; n * row];
        for r in 0..n {
            quantize_row(ty, &x[r * k..(r + 1) * k], &mut got[r * row..(r + 1) * row]).unwrap();
        }
        for r in 0..n {
            let (g, e) = (&got[r * row..(r + 1) * row], &qb[r * row..(r + 1) * row]);
            if let Some(i) = g.iter().zip(e).position(|(a, b)| a != b) {
                panic!(
                    "{}: row {r} byte {i} (block {}) = {:#04x}, gguf-py {:#04x}",
                    ty.name(),
                    i / ty.block_bytes(),
                    g[i],
                    e[i]
                );
            }
        }
        // And the decode of those bytes is within half a step of the source.
        let back = dequant_all(ty, qb, n, k);
        assert!(back.iter().all(|v| v.is_finite()));
    }
}

#[test]
fn decode_only_types_match_gguf_py() {
    let f = data("quant_roundtrip.gguf");
    for ty in [QuantType::IQ4_XS, QuantType::NVFP4] {
        let (q, qb) = f.tensor_with_data(&format!("{}.q", ty.name())).unwrap();
        let (_, db) = f.tensor_with_data(&format!("{}.deq", ty.name())).unwrap();
        assert_eq!(q.ty, ty);
        let (n, k) = q.rows_cols();
        let got = dequant_all(ty, qb, n, k);
        for (i, (g, e)) in got.iter().zip(f32s(db)).enumerate() {
            assert_eq!(
                g.to_bits(),
                e.to_bits(),
                "{}: element {i}: {g:e} vs {e:e}",
                ty.name()
            );
        }
    }
}

#[test]
fn bad_lengths_are_errors() {
    let mut out = vec![0.0; 32];
    assert!(dequantize_row(QuantType::Q4_0, &[0u8; 17], &mut out).is_err());
    assert!(dequantize_row(QuantType::Q4_K, &[0u8; 144], &mut out).is_err());
    let mut bytes = vec![0u8; 18];
    assert!(quantize_row(QuantType::Q4_0, &[0.0; 31], &mut bytes).is_err());
    assert!(quantize_row(QuantType::Q2_K, &[0.0; 256], &mut [0u8; 84]).is_err());
}

/// Q4_K, Q6_K and IQ4_NL quantisers against the bytes of ggml's C reference quantisers
/// (`tests/data/ggml_quant`, written by `FIXTURE=tests/data/ggml_quant bash
/// scripts/check_ggml_quantizers.sh <ggml checkout>` at ggml d99724f2, -ffp-contract=off).
#[test]
fn k_quantizers_give_ggml_c_bytes() {
    let dir = format!("{}/tests/data/ggml_quant", env!("CARGO_MANIFEST_DIR"));
    let w = f32s(&std::fs::read(format!("{dir}/w.f32")).unwrap());
    let k = 1024;
    for ty in [QuantType::Q4_K, QuantType::Q6_K, QuantType::IQ4_NL] {
        let want = std::fs::read(format!("{dir}/{}.bin", ty.name())).unwrap();
        let row = ty.row_bytes(k).unwrap();
        let mut got = vec![0u8; w.len() / k * row];
        for (x, o) in w.chunks(k).zip(got.chunks_mut(row)) {
            quantize_row(ty, x, o).unwrap();
        }
        assert_eq!(got.len(), want.len());
        let bb = ty.block_bytes();
        for (i, (g, e)) in got.iter().zip(&want).enumerate() {
            let blk = i / bb * bb;
            // ggml leaves an all-zero IQ4_NL block's levels uninitialised (its scale is 0).
            let zero_scale = ty == QuantType::IQ4_NL
                && got[blk..blk + 2] == [0, 0]
                && want[blk..blk + 2] == [0, 0]
                && i % bb >= 2;
            assert!(
                g == e || zero_scale,
                "{}: byte {i} (block {}) = {g:#04x}, ggml {e:#04x}",
                ty.name(),
                i / bb
            );
        }
    }
}
