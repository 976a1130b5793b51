//! von Mises–Fisher quantities over arrays, on the GPU (`shaders/vmf.wgsl`, f32 or f64) or the
//! CPU (`lowbit_kernels::bessel::vmf`, f64): the log normaliser `log C_p(κ)`, the mean
//! resultant length `A_p(κ) = I_{p/2}(κ)/I_{p/2−1}(κ)` (from continued fractions, not from a
//! difference of logs), and the maximum-likelihood `κ̂` solving `A_p(κ̂) = R̄`.
//!
//! Domain: `p ≥ 2`; `κ ≥ 0` (κ = 0: the uniform density, `A = 0`); `0 ≤ R̄ < 1` (R̄ = 0:
//! κ̂ = 0). Anything else gives NaN in that position.

use lowbit_kernels::bessel::vmf as kv;

use super::bessel::{run_pairs, BesselPrecision, Kernel};
use crate::context::{Backend, Context};
use crate::error::{Error, Result};

/// `log C_p(κ)` and `A_p(κ)` per point.
#[derive(Clone, Debug, Default)]
pub struct VmfValues {
    /// `log C_p(κ)`, the log of the density's normalising constant.
    pub log_normalizer: Vec<f64>,
    /// `A_p(κ)`, the mean resultant length `E[μᵀX]`.
    pub mean_resultant_length: Vec<f64>,
}

fn check(a: &[f64], b: &[f64], what: &str) -> Result<()> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(Error::Shape(format!(
            "vmf: p has {} elements, {what} has {}",
            a.len(),
            b.len()
        )))
    }
}

/// `log C_p(κ)` and `A_p(κ)` at every `(p[i], kappa[i])`. `precision` picks the GPU kernel's
/// arithmetic (the CPU computes in f64); f64 needs shader-f64.
pub fn vmf_values(
    ctx: &Context,
    p: &[f64],
    kappa: &[f64],
    precision: BesselPrecision,
) -> Result<VmfValues> {
    check(p, kappa, "kappa")?;
    match &*ctx.inner {
        Backend::Cpu(_) => Ok(VmfValues {
            log_normalizer: p
                .iter()
                .zip(kappa)
                .map(|(&p, &k)| kv::log_normalizer(p, k))
                .collect(),
            mean_resultant_length: p
                .iter()
                .zip(kappa)
                .map(|(&p, &k)| kv::mean_resultant_length(p, k))
                .collect(),
        }),
        Backend::Gpu(g) => {
            let r = run_pairs(g, Kernel::VmfForward, p, kappa, precision, false)?;
            Ok(VmfValues {
                log_normalizer: r.log_i,
                mean_resultant_length: r.log_k,
            })
        }
    }
}

/// The maximum-likelihood `κ̂` at every `(p[i], rbar[i])`: the root of `A_p(κ) = R̄`, by
/// Newton steps inside the bracket of the Amos-type bounds.
pub fn vmf_kappa_mle(
    ctx: &Context,
    p: &[f64],
    rbar: &[f64],
    precision: BesselPrecision,
) -> Result<Vec<f64>> {
    check(p, rbar, "rbar")?;
    match &*ctx.inner {
        Backend::Cpu(_) => Ok(p
            .iter()
            .zip(rbar)
            .map(|(&p, &r)| kv::kappa_mle(p, r))
            .collect()),
        Backend::Gpu(g) => Ok(run_pairs(g, Kernel::VmfMle, p, rbar, precision, false)?.log_i),
    }
}
