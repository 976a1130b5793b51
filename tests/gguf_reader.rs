//! The GGUF reader on valid files, and on truncated, corrupted and hostile ones: always an
//! error that names the problem, never a panic, an out-of-bounds read or a huge allocation.

use lowbit::gguf::{GgufFile, Value};
use lowbit::Error;
use proptest::prelude::*;

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn gguf_err(b: Vec<u8>) -> String {
    match GgufFile::from_bytes(b) {
        Err(Error::Gguf(msg)) => msg,
        Err(e) => panic!("not a GGUF error: {e}"),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn reads_the_vector_file() {
    let f = GgufFile::open(format!(
        "{}/tests/data/quant_vectors.gguf",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    assert_eq!(f.version, 3);
    assert_eq!(f.tensors.len(), 73 * 4);
    assert_eq!(f.alignment, 32);
    assert_eq!(
        f.get("general.architecture"),
        Some(&Value::String("testvec".into()))
    );
    let t = f.tensor("Q4_K.n33_k768_m4.weight").unwrap();
    assert_eq!(t.dims, vec![768, 33]);
    assert_eq!(t.rows_cols(), (33, 768));
    assert_eq!(t.size, 33 * 3 * 144);
    assert_eq!(t.offset % 32, 0);
    assert!(f.tensor("nope").is_none());
    assert!(f.tensor_with_data("nope").is_err());
    // An info edited (or from another file) past the end is an error, not a panic.
    let mut past = t.clone();
    past.offset = usize::MAX - 4;
    assert!(f
        .tensor_data(&past)
        .unwrap_err()
        .to_string()
        .contains("outside"));
    past.offset = t.offset;
    past.size = usize::MAX / 2;
    assert!(f.tensor_data(&past).is_err());
}

#[test]
fn header_errors_name_the_problem() {
    let good = bytes("quant_roundtrip.gguf");
    let mut b = good.clone();
    b[0] = b'X';
    assert!(gguf_err(b).contains("magic"));
    let mut b = good.clone();
    b[4..8].copy_from_slice(&1u32.to_le_bytes());
    assert!(gguf_err(b).contains("version 1"));
    // Absurd tensor and metadata counts are refused before anything is allocated.
    let mut b = good.clone();
    b[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(gguf_err(b).contains("tensor count"));
    let mut b = good.clone();
    b[16..24].copy_from_slice(&(1u64 << 60).to_le_bytes());
    assert!(gguf_err(b).contains("metadata count"));
    // The first key's length made huge.
    let mut b = good.clone();
    b[24..32].copy_from_slice(&(1u64 << 62).to_le_bytes());
    assert!(gguf_err(b).contains("metadata key"));
    assert!(gguf_err(Vec::new()).contains("truncated"));
}

/// The byte offset of the first tensor info's offset field in `b` (parsing by hand).
fn first_tensor_offset_field(f: &GgufFile, b: &[u8]) -> usize {
    let name = f.tensors[0].name.as_bytes();
    let at = b
        .windows(name.len())
        .position(|w| w == name)
        .expect("tensor name in the header");
    let dims = f.tensors[0].dims.len();
    at + name.len() + 4 + 8 * dims + 4
}

#[test]
fn tensor_errors_name_the_tensor() {
    let good = bytes("quant_roundtrip.gguf");
    let f = GgufFile::from_bytes(good.clone()).unwrap();
    let first = f.tensors[0].name.clone();
    let off = first_tensor_offset_field(&f, &good);
    // Offset far past the end.
    let mut b = good.clone();
    b[off..off + 8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let msg = gguf_err(b);
    assert!(
        msg.contains(&first) && msg.contains("past the end"),
        "{msg}"
    );
    // Offset that overflows when added to the data start.
    let mut b = good.clone();
    b[off..off + 8].copy_from_slice(&(u64::MAX - 31).to_le_bytes());
    assert!(gguf_err(b).contains(&first));
    // Misaligned offset.
    let mut b = good.clone();
    b[off..off + 8].copy_from_slice(&1u64.to_le_bytes());
    assert!(gguf_err(b).contains("aligned"));
    // Unknown ggml type.
    let mut b = good.clone();
    b[off - 4..off].copy_from_slice(&999u32.to_le_bytes());
    assert!(gguf_err(b).contains("unknown ggml type 999"));
    // Dims whose product overflows.
    let mut b = good.clone();
    let dims_at = off - 4 - 8 * f.tensors[0].dims.len();
    b[dims_at + 8..dims_at + 16].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(gguf_err(b).contains(&first));
    // A zero dimension.
    let mut b = good.clone();
    b[dims_at..dims_at + 8].copy_from_slice(&0u64.to_le_bytes());
    assert!(gguf_err(b).contains("dimension 0"));
    // Every truncation of the file is an error, not a panic.
    for len in (0..good.len())
        .step_by(97)
        .chain(good.len() - 8..good.len())
    {
        assert!(
            GgufFile::from_bytes(good[..len].to_vec()).is_err(),
            "len {len}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Random byte mutations anywhere in the header: Ok or Err, never a panic; when Ok, every
    /// tensor's data lies inside the file.
    #[test]
    fn mutated_headers_never_panic(
        edits in proptest::collection::vec((0usize..4096, any::<u8>()), 1..8)
    ) {
        let mut b = bytes("quant_roundtrip.gguf");
        for (at, v) in edits {
            let i = at % b.len().min(4096);
            b[i] = v;
        }
        let len = b.len();
        if let Ok(f) = GgufFile::from_bytes(b) {
            for t in &f.tensors {
                prop_assert!(t.offset + t.size <= len);
                prop_assert_eq!(f.tensor_data(t).unwrap().len(), t.size);
            }
        }
    }
}
