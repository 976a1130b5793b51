//! The safetensors reader against valid and hostile files, and QuantMatrix::from_safetensors
//! (float and FP8 matrices) against the direct constructors.

mod common;

use lowbit::ops::dequantize;
use lowbit::safetensors::{Dtype, SafetensorsFile};
use lowbit::{Error, QuantMatrix};
use lowbit_kernels::formats::fp8::Fp8;
use proptest::prelude::*;
use safetensors::tensor::TensorView;

type Entry = (String, Dtype, Vec<usize>, Vec<u8>);

fn image(tensors: &[Entry], meta: Option<(&str, &str)>) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
        (
            name.clone(),
            TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
        )
    });
    let meta = meta.map(|(k, v)| [(k.to_string(), v.to_string())].into_iter().collect());
    safetensors::serialize(views, meta).unwrap()
}

fn entry(name: &str, dtype: Dtype, shape: &[usize], bytes: Vec<u8>) -> Entry {
    (name.into(), dtype, shape.to_vec(), bytes)
}

/// A small file with one tensor of each kind the reader converts.
fn sample() -> Vec<u8> {
    let f32s: Vec<u8> = [1.5f32, -2.0, 0.25]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let f16s: Vec<u8> = [half::f16::from_f32(0.5), half::f16::from_f32(-3.0)]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let bf16s: Vec<u8> = [half::bf16::from_f32(1e30)]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let i32s: Vec<u8> = [7i32, -9].iter().flat_map(|v| v.to_le_bytes()).collect();
    image(
        &[
            entry("a.f32", Dtype::F32, &[3], f32s),
            entry("b.f16", Dtype::F16, &[1, 2], f16s),
            entry("c.bf16", Dtype::BF16, &[], bf16s),
            entry("d.i32", Dtype::I32, &[2, 1], i32s),
        ],
        Some(("format", "pt")),
    )
}

#[test]
fn reads_names_metadata_and_typed_values() {
    let path = common::tmp_file("safetensors-reader", "sample.safetensors");
    std::fs::write(&path, sample()).unwrap();
    let f = SafetensorsFile::open(&path).unwrap();
    assert_eq!(
        f.names().collect::<Vec<_>>(),
        ["a.f32", "b.f16", "c.bf16", "d.i32"]
    );
    assert_eq!(f.metadata().get("format").map(String::as_str), Some("pt"));
    assert_eq!(f.read_f32("a.f32").unwrap(), [1.5, -2.0, 0.25]);
    assert_eq!(f.read_f32("b.f16").unwrap(), [0.5, -3.0]);
    assert_eq!(
        f.read_f32("c.bf16").unwrap(),
        [half::bf16::from_f32(1e30).to_f32()]
    );
    assert_eq!(f.read_i32("d.i32").unwrap(), [7, -9]);
    assert_eq!(f.info("c.bf16").unwrap().elements(), 1);
    assert_eq!(f.info("d.i32").unwrap().shape, [2, 1]);
    // Wrong dtype and a missing tensor are errors naming the tensor.
    let e = f.read_i32("a.f32").unwrap_err().to_string();
    assert!(e.contains("a.f32") && e.contains("I32"), "{e}");
    let e = f.read_f16("c.bf16").unwrap_err().to_string();
    assert!(e.contains("c.bf16"), "{e}");
    let e = f.read_f32("zzz").unwrap_err().to_string();
    assert!(e.contains("zzz"), "{e}");
    assert!(SafetensorsFile::open(path.with_extension("missing")).is_err());
}

#[test]
fn hostile_files_are_errors() {
    let good = sample();
    let st_err = |b: Vec<u8>| match SafetensorsFile::from_bytes(b) {
        Err(Error::Safetensors(m)) => m,
        other => panic!("expected a safetensors error, got {other:?}"),
    };
    // Every truncation, and one byte too many.
    for len in 0..good.len() {
        st_err(good[..len].to_vec());
    }
    let mut longer = good.clone();
    longer.push(0);
    st_err(longer);
    // A header length past the file, and an absurd one.
    for n in [good.len() as u64, u64::MAX] {
        let mut b = good.clone();
        b[..8].copy_from_slice(&n.to_le_bytes());
        st_err(b);
    }
    // A tensor whose byte range disagrees with its dtype × shape.
    let s = String::from_utf8_lossy(&good).replace("[1,2]", "[2,2]");
    st_err(s.into_bytes());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Random byte mutations (header and data): Ok or Err, never a panic; when Ok, every
    /// tensor reads back with as many values as its shape says.
    #[test]
    fn mutated_files_never_panic(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..6)
    ) {
        let mut b = sample();
        for (at, v) in edits {
            let i = at % b.len();
            b[i] = v;
        }
        if let Ok(f) = SafetensorsFile::from_bytes(b) {
            let names: Vec<String> = f.names().map(String::from).collect();
            for name in names {
                let (info, bytes) = f.bytes(&name).unwrap();
                let n = info.elements();
                if let Ok(v) = f.read_f32(&name) {
                    prop_assert_eq!(v.len(), n);
                }
                if let Ok(v) = f.read_i32(&name) {
                    prop_assert_eq!(v.len() * 4, bytes.len());
                }
            }
        }
    }
}

#[test]
fn float_and_fp8_matrices_load_like_the_direct_constructors() {
    let (n, k) = (3, 64);
    let vals: Vec<f32> = (0..n * k)
        .map(|i| ((i * 5) % 19) as f32 / 8.0 - 1.0)
        .collect();
    let f16s: Vec<u8> = vals
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    // FP8 codes: any byte but E4M3's NaN (0x7f/0xff) and E5M2's NaN/inf range.
    let codes: Vec<u8> = (0..n * k).map(|i| ((i * 37) % 0x70) as u8).collect();
    let row_scales: Vec<u8> = [0.5f32, 2.0, 0.125]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let tensor_scale: Vec<u8> = half::bf16::from_f32(0.25).to_le_bytes().to_vec();
    let file = SafetensorsFile::from_bytes(image(
        &[
            entry("w16", Dtype::F16, &[n, k], f16s.clone()),
            entry("e4", Dtype::F8_E4M3, &[n, k], codes.clone()),
            entry("e4_scale", Dtype::F32, &[n, 1], row_scales),
            entry("e5", Dtype::F8_E5M2, &[n, k], codes.clone()),
            entry("e5_scale", Dtype::BF16, &[], tensor_scale),
            entry("plain", Dtype::F8_E4M3, &[n, k], codes.clone()),
            entry("blockwise", Dtype::F8_E4M3, &[n, k], codes.clone()),
            entry(
                "blockwise_scale_inv",
                Dtype::F32,
                &[1, 1],
                1f32.to_le_bytes().to_vec(),
            ),
            entry("badscale", Dtype::F8_E4M3, &[n, k], codes.clone()),
            entry("badscale_scale", Dtype::F32, &[2], [0u8; 8].to_vec()),
            entry("ints", Dtype::I32, &[n, k], vec![0; n * k * 4]),
            entry("vec", Dtype::F16, &[k], f16s[..2 * k].to_vec()),
        ],
        None,
    ))
    .unwrap();
    for ctx in common::all_contexts() {
        let deq = |q: &QuantMatrix| dequantize(q).unwrap().to_vec::<f32>().unwrap();
        let got = QuantMatrix::from_safetensors(&ctx, &file, "w16").unwrap();
        let want: Vec<f32> = vals
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32())
            .collect();
        assert_eq!(deq(&got), want);
        let direct = |kind, scales: &[f32]| {
            deq(&QuantMatrix::from_fp8(&ctx, kind, &codes, scales, n, k).unwrap())
        };
        let e4 = QuantMatrix::from_safetensors(&ctx, &file, "e4").unwrap();
        assert_eq!(deq(&e4), direct(Fp8::E4M3, &[0.5, 2.0, 0.125]));
        let e5 = QuantMatrix::from_safetensors(&ctx, &file, "e5").unwrap();
        assert_eq!(deq(&e5), direct(Fp8::E5M2, &[0.25]));
        let plain = QuantMatrix::from_safetensors(&ctx, &file, "plain").unwrap();
        assert_eq!(deq(&plain), direct(Fp8::E4M3, &[1.0]));
        for (name, what) in [
            ("blockwise", "block-wise"),
            ("badscale", "badscale_scale"),
            ("ints", "I32"),
            ("vec", "2 dims"),
            ("none", "none"),
        ] {
            let e = QuantMatrix::from_safetensors(&ctx, &file, name)
                .unwrap_err()
                .to_string();
            assert!(e.contains(what), "{name}: {e}");
        }
    }
}
