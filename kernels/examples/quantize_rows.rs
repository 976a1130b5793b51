//! Quantises rows of raw little-endian f32 with lowbit's reference quantisers, for comparing
//! bytes with other implementations (`scripts/check_ggml_quantizers.sh`):
//! `cargo run --release -p lowbit-kernels --example quantize_rows -- TYPE K IN.f32 OUT.bin`.
use lowbit_kernels::formats::{quantize_row, QuantType};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [ty, k, input, output] = &args[..] else {
        eprintln!("usage: quantize_rows TYPE K IN.f32 OUT.bin");
        std::process::exit(2);
    };
    let ty = QuantType::from_name(ty).expect("known type");
    let k: usize = k.parse().expect("K");
    let raw = std::fs::read(input).expect("input");
    let x: Vec<f32> = raw
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let row = ty.row_bytes(k).expect("whole blocks");
    let mut out = vec![0u8; x.len() / k * row];
    for (xr, o) in x.chunks(k).zip(out.chunks_mut(row)) {
        quantize_row(ty, xr, o).expect("quantiser");
    }
    std::fs::write(output, out).expect("output");
}
