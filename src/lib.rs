//! lowbit: GPU inference kernels in WGSL through wgpu, with CPU SIMD kernels that are both the
//! correctness reference and a real fallback backend.
//!
//! Matmul convention everywhere: activations `x` are `[M, K]` row-major, weights `W` are
//! `[N, K]` row-major (K contiguous, like `nn.Linear` and GGUF), `y = x · Wᵀ` is `[M, N]`.
//!
//! ```no_run
//! use lowbit::{ops, Context, Tensor};
//! # fn main() -> lowbit::Result<()> {
//! let ctx = Context::new()?; // best GPU adapter, or LOWBIT_ADAPTER
//! let x = Tensor::from_slice(&ctx, &[1.0f32, 2.0, 3.0], &[1, 3])?;
//! let w = Tensor::from_slice(&ctx, &[half::f16::from_f32(0.5); 6], &[2, 3])?;
//! let y = ops::matmul(&ctx, &x, &w)?;
//! assert_eq!(y.to_vec::<f32>()?, vec![3.0, 3.0]);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod adapter;
pub mod bandwidth;
mod bcq;
pub mod bench;
pub mod bench_bcq;
pub mod bench_bessel;
pub mod bench_lmul;
pub mod bench_lut;
pub mod bench_quant;
pub mod bench_shift;
pub mod bench_suite;
pub mod bench_ternary;
pub mod ceilings;
mod context;
mod error;
mod file_bytes;
pub mod gguf;
mod gpu;
mod lut;
pub mod measure;
mod memo;
pub mod ops;
pub mod probes;
pub mod quant;
mod quant_safetensors;
pub mod report;
pub mod roofline_svg;
pub mod safetensors;
mod shader_text;
pub mod shaders;
mod shift;
mod tensor;
mod ternary;
pub mod tune;
pub mod validate;
pub mod validate_bcq;
pub mod validate_bessel;
pub mod validate_lmul;
pub mod validate_lut;
pub mod validate_quant;
pub mod validate_shift;
pub mod validate_ternary;

pub use adapter::{list_adapters, AdapterDescription, AdapterSelector};
pub use bcq::BcqMatrix;
pub use context::{backend_name, device_type_name, BackendInfo, Context, ADAPTER_ENV};
pub use error::{Error, Result};
pub use gpu::Caps;
pub use lowbit_kernels as kernels;
pub use lowbit_kernels::{CpuConfig, DType, SimdLevel};
pub use lut::LutMatrix;
pub use quant::QuantMatrix;
pub use quant_safetensors::Int4Checkpoint;
pub use shaders::F16Path;
pub use shift::ShiftMatrix;
#[doc(hidden)]
pub use tensor::HostData;
pub use ternary::TernaryMatrix;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
pub use tensor::{Element, Tensor, TensorView};
