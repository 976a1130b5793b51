//! `log I_v(x)` and `log K_v(x)` over arrays of points, on the GPU (`shaders/bessel.wgsl`,
//! f32 or f64 arithmetic) or the CPU (`lowbit_kernels::bessel`, f64).
//!
//! Inputs are f64 on every path. The f32 kernel receives each input as two f32 (high and low
//! part) and corrects for the low part to first order, so its error is that of f32 arithmetic,
//! not of rounding a large `v` or `x` to f32 (which near `x ≈ 0.66 v`, v = 1e5, would move a
//! log near 0 by 1e-3). `x = 0` and invalid inputs (negative, NaN) are answered on the host
//! with the same limits as the CPU kernels: `log I_0(0) = 0`, `log I_v(0) = −∞`,
//! `log K_v(0) = +∞`, NaN for invalid input.

use lowbit_kernels::bessel::{self as kb, Region};

use super::bessel_wgsl::variant;
use crate::context::{Backend, Context};
use crate::error::{Error, Result};
use crate::gpu::{Dispatch, Gpu, GpuTimer};

/// Arithmetic of the GPU kernel. The CPU backend always computes in f64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BesselPrecision {
    /// f32 arithmetic (any adapter); mixed error ≤ 2e-6 on the reference file.
    F32,
    /// f64 arithmetic (adapters with `shader-f64`); mixed error ≤ 1e-13.
    F64,
}

impl BesselPrecision {
    /// `f32` or `f64`.
    pub fn name(self) -> &'static str {
        match self {
            BesselPrecision::F32 => "f32",
            BesselPrecision::F64 => "f64",
        }
    }
}

/// `log I_v(x)` and `log K_v(x)` per point.
#[derive(Clone, Debug, Default)]
pub struct LogBessel {
    /// `log I_{v[i]}(x[i])`.
    pub log_i: Vec<f64>,
    /// `log K_{v[i]}(x[i])`.
    pub log_k: Vec<f64>,
}

const WORKGROUP: u32 = 64;
/// Bytes per point in the input (vec4<f32> or vec2<f64>) and per result pair (f64 worst case).
const POINT_BYTES: u64 = 16;

/// `(log I_v(x), log K_v(x))` at every `(v[i], x[i])` on `ctx`'s backend. Errors: lengths that
/// differ, f64 on an adapter without `shader-f64`, device failures.
pub fn log_bessel_ik(
    ctx: &Context,
    v: &[f64],
    x: &[f64],
    precision: BesselPrecision,
) -> Result<LogBessel> {
    if v.len() != x.len() {
        return Err(Error::Shape(format!(
            "bessel: v has {} elements, x has {}",
            v.len(),
            x.len()
        )));
    }
    match &*ctx.inner {
        Backend::Cpu(cfg) => {
            let mut pairs = vec![(0.0, 0.0); v.len()];
            kb::log_ikv_slice(v, x, &mut pairs, cfg.threads)
                .map_err(|e| Error::Shape(e.to_string()))?;
            Ok(LogBessel {
                log_i: pairs.iter().map(|p| p.0).collect(),
                log_k: pairs.iter().map(|p| p.1).collect(),
            })
        }
        Backend::Gpu(g) => {
            let mut out = LogBessel {
                log_i: vec![0.0; v.len()],
                log_k: vec![0.0; v.len()],
            };
            let per_chunk = max_points(g);
            for start in (0..v.len()).step_by(per_chunk.max(1)) {
                let end = (start + per_chunk).min(v.len());
                let job = GpuJob::new(g, &v[start..end], &x[start..end], precision)?;
                job.run(g, None)?;
                job.read(g, &mut out, start)?;
            }
            Ok(out)
        }
    }
}

/// Points one dispatch can take: the input binding and the 2-D grid bound it.
fn max_points(g: &Gpu) -> usize {
    let by_binding = g.limits.max_storage_buffer_binding_size / POINT_BYTES;
    let dim = u64::from(g.limits.max_compute_workgroups_per_dimension);
    let by_grid = dim * dim * u64::from(WORKGROUP);
    by_binding.min(by_grid).min(usize::MAX as u64) as usize
}

/// Uploaded points and the output buffer of one dispatch.
pub(crate) struct GpuJob {
    precision: BesselPrecision,
    n: usize,
    points: wgpu::Buffer,
    result: wgpu::Buffer,
    params: wgpu::Buffer,
    groups: [u32; 3],
    /// Indices answered on the host (x = 0, invalid input), with their values.
    limits: Vec<(usize, f64, f64)>,
}

impl GpuJob {
    /// Uploads `v`, `x` (at most [`max_points`] of them) for `precision`.
    pub(crate) fn new(g: &Gpu, v: &[f64], x: &[f64], precision: BesselPrecision) -> Result<Self> {
        if precision == BesselPrecision::F64 && !g.caps.f64 {
            return Err(Error::Unsupported(format!(
                "bessel f64 needs shader-f64, which {} lacks; use f32 or the CPU",
                g.info.name
            )));
        }
        let n = v.len();
        let mut limits = Vec::new();
        let mut bytes: Vec<u8> = Vec::with_capacity(n * POINT_BYTES as usize);
        for (i, (&vi, &xi)) in v.iter().zip(x).enumerate() {
            // Points the kernel does not take get a harmless stand-in.
            let (vi, xi) = if Region::of(vi, xi) == Region::Limit {
                let (li, lk) = kb::log_ikv(vi, xi);
                limits.push((i, li, lk));
                (1.0, 1.0)
            } else {
                (vi, xi)
            };
            match precision {
                BesselPrecision::F64 => {
                    bytes.extend_from_slice(bytemuck::bytes_of(&[vi, xi]));
                }
                BesselPrecision::F32 => {
                    let split = |a: f64| {
                        let hi = a as f32;
                        let lo = if hi.is_finite() {
                            (a - f64::from(hi)) as f32
                        } else {
                            0.0
                        };
                        [hi, lo]
                    };
                    let [vh, vl] = split(vi);
                    let [xh, xl] = split(xi);
                    bytes.extend_from_slice(bytemuck::bytes_of(&[vh, vl, xh, xl]));
                }
            }
        }
        let points = g.upload(&bytes, "bessel points")?;
        let result = g.alloc(n as u64 * POINT_BYTES, "bessel result")?;
        let groups_total = (n as u64).div_ceil(u64::from(WORKGROUP)).max(1);
        let dim = u64::from(g.limits.max_compute_workgroups_per_dimension);
        let (gx, gy) = if groups_total <= dim {
            (groups_total, 1)
        } else {
            (dim, groups_total.div_ceil(dim))
        };
        let row = (gx * u64::from(WORKGROUP)) as u32;
        let params = g.uniform(&[n as u32, row, 0, 0])?;
        Ok(GpuJob {
            precision,
            n,
            points,
            result,
            params,
            groups: [gx as u32, gy as u32, 1],
            limits,
        })
    }

    /// Dispatches the kernel (timed when `timer` is given) and waits.
    pub(crate) fn run(&self, g: &Gpu, timer: Option<&GpuTimer>) -> Result<()> {
        let comp = variant(self.precision == BesselPrecision::F64);
        let pipeline = g.pipeline(&comp.name, || comp.source.clone(), &[])?;
        let d = Dispatch {
            pipeline: &pipeline,
            bindings: vec![
                self.params.as_entire_binding(),
                self.points.as_entire_binding(),
                self.result.as_entire_binding(),
            ],
            groups: self.groups,
        };
        g.run(&[d], timer)
    }

    /// Downloads the results into `out[offset..offset + n]`.
    pub(crate) fn read(&self, g: &Gpu, out: &mut LogBessel, offset: usize) -> Result<()> {
        let n = self.n;
        match self.precision {
            BesselPrecision::F64 => {
                let bytes = g.download(&self.result, 0, n as u64 * 16)?;
                let vals: &[f64] = bytemuck::cast_slice(&bytes);
                for i in 0..n {
                    out.log_i[offset + i] = vals[2 * i];
                    out.log_k[offset + i] = vals[2 * i + 1];
                }
            }
            BesselPrecision::F32 => {
                let bytes = g.download(&self.result, 0, n as u64 * 8)?;
                let vals: &[f32] = bytemuck::cast_slice(&bytes);
                for i in 0..n {
                    out.log_i[offset + i] = f64::from(vals[2 * i]);
                    out.log_k[offset + i] = f64::from(vals[2 * i + 1]);
                }
            }
        }
        for &(i, li, lk) in &self.limits {
            out.log_i[offset + i] = li;
            out.log_k[offset + i] = lk;
        }
        Ok(())
    }
}

/// Every composed bessel shader, for offline validation.
pub(crate) fn all_shader_variants() -> Vec<crate::shaders::ShaderVariant> {
    vec![variant(false), variant(true)]
}
