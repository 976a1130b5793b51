//! The operations. Each file is one op family; each picks a kernel variant from the shape and
//! the adapter's features, and runs the same op on the CPU backend with `lowbit-kernels`.

pub mod bcq;
pub mod bessel;
mod bessel_wgsl;
pub(crate) mod bias;
pub mod int8;
pub mod lmul;
pub mod lut;
pub mod matmul;
mod plan;
pub mod quant;
mod quant_q8;
pub mod shift;
pub mod ternary;
pub mod vmf;

pub use bcq::bcq_matmul;
pub use bessel::{log_bessel_ik, BesselPrecision, LogBessel};
pub use bias::add_bias;
pub use int8::{matmul_i8, w8a8, w8a8_linear, Int8Variant};
pub use lmul::{lmul_elementwise, lmul_matmul};
pub use lut::{lut_kernel, lut_matmul, lut_matmul_with, LutKernel, LutPrecision};
pub use matmul::{
    linear, linear_with, matmul, matmul_into, matmul_with, GemvShape, Loads, MatmulKernel,
    MatmulVariant,
};
pub use quant::{
    default_path, dequantize, int8_kernel, quant_linear, quant_linear_with, quant_matmul,
    quant_matmul_with, QuantPath,
};
pub use shift::shift_matmul;
pub use ternary::{ternary_matmul, ternary_matmul_with, TernaryVariant};
pub use vmf::{vmf_kappa_mle, vmf_values, VmfValues};
