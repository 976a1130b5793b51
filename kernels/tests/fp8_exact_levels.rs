//! The FP8 row kernels at every SIMD level decode every code exactly: W holds one code per
//! row (all 256), x is one-hot, so each output is `scale·value(code)` with no other rounding
//! and must equal the reference decoder bit for bit (NaN where the value is NaN or infinite,
//! as `0·∞` joins the sum).

use lowbit_kernels::formats::fp8::{e4m3_to_f32, e5m2_to_f32};
use lowbit_kernels::formats::QuantType;
use lowbit_kernels::quant_matmul::{quant_matmul, QuantPath};
use lowbit_kernels::simd::machine_levels;

#[test]
fn every_fp8_code_at_every_level() {
    let k = 32;
    for (ty, value) in [
        (QuantType::F8E4M3, e4m3_to_f32 as fn(u8) -> f32),
        (QuantType::F8E5M2, e5m2_to_f32),
    ] {
        // A plain scale, one that rounds every product, a subnormal one, and one whose
        // product with 2⁸ overflows.
        for scale in [1.0f32, 0.3712, 1.0e-40, 3.0e38] {
            let mut w = Vec::new();
            for code in 0..=255u8 {
                w.extend_from_slice(&scale.to_le_bytes());
                w.extend(std::iter::repeat_n(code, k));
            }
            for hot in [0, 9, 18, 31] {
                let mut x = vec![0.0f32; k];
                x[hot] = 1.0;
                for level in machine_levels() {
                    for path in [QuantPath::Exact, QuantPath::Int8] {
                        let mut y = vec![0.0f32; 256];
                        quant_matmul(path, level, 1, ty, &w, &x, 1, 256, k, &mut y).unwrap();
                        for (code, &got) in y.iter().enumerate() {
                            let want = scale * value(code as u8);
                            // (±0: the zero products of the other 31 codes make any sum +0.)
                            let ok = if want == 0.0 {
                                got == 0.0
                            } else if want.is_finite() {
                                got.to_bits() == want.to_bits()
                            } else {
                                got.is_nan()
                            };
                            assert!(
                                ok,
                                "{} {level:?} {path:?} scale {scale} code {code:#04x}: {got} vs {want}",
                                ty.name()
                            );
                        }
                    }
                }
            }
        }
    }
}
