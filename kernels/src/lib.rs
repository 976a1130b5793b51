//! lowbit-kernels: the CPU side of lowbit, with no GPU dependency.
//!
//! * [`reference`]: scalar kernels accumulating in f64, the ground truth for every test;
//! * [`matmul`]: the CPU backend, SIMD (AVX-512, AVX2+FMA+F16C, NEON, scalar) chosen at run time
//!   and threaded over rows of W;
//! * [`bessel`]: `log I_v(x)`, `log K_v(x)` in f64 and the von Mises–Fisher quantities on them;
//! * [`lut`]: T-MAC table-lookup matmul over bit planes; [`lmul`]: L-Mul products;
//! * [`ternary`]: ternary weights, add-only matmul; [`shift`]: power-of-two weights; [`bcq`]:
//!   binary-coded weights by query-and-add;
//! * [`bandwidth`]: a streaming read, the bound memory-bound kernels are reported against;
//! * [`simd`]: feature detection and the `LOWBIT_CPU_SIMD` cap.
//!
//! Matmul convention: x is `[M, K]` row-major, W is `[N, K]` row-major, `y = x · Wᵀ` is `[M, N]`.
#![warn(missing_docs)]

pub mod bandwidth;
pub mod bcq;
pub mod bessel;
pub mod dtype;
mod error;
pub mod formats;
pub mod lmul;
#[cfg(target_arch = "x86_64")]
mod lmul_x86;
pub mod lut;
pub mod matmul;
pub mod peak;
#[cfg(target_arch = "x86_64")]
mod quant_fp8_x86;
#[cfg(target_arch = "x86_64")]
mod quant_int8_x86;
pub mod quant_matmul;
#[cfg(target_arch = "x86_64")]
mod quant_matmul_x86;
#[cfg(target_arch = "x86_64")]
mod quant_nib4_x86;
#[cfg(target_arch = "x86_64")]
mod quant_units_x86;
pub mod reference;
pub mod shift;
pub mod simd;
pub mod ternary;

pub use dtype::{DType, MatRef};
pub use error::KernelError;
pub use matmul::CpuConfig;
pub use simd::SimdLevel;
