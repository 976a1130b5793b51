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

use super::bessel_wgsl::{r_min, variant};
use super::plan::{fold_groups, u32_of};
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
        Backend::Gpu(g) => run_pairs(g, Kernel::Bessel, v, x, precision, bucket(g)),
    }
}

/// Runs `kernel` over every pair, in chunks one dispatch can take.
pub(crate) fn run_pairs(
    g: &Gpu,
    kernel: Kernel,
    a: &[f64],
    b: &[f64],
    precision: BesselPrecision,
    bucket: bool,
) -> Result<LogBessel> {
    let mut out = LogBessel {
        log_i: vec![0.0; a.len()],
        log_k: vec![0.0; a.len()],
    };
    let per_chunk = max_points(g).max(1);
    for start in (0..a.len()).step_by(per_chunk) {
        let end = (start + per_chunk).min(a.len());
        let job = GpuJob::new(g, kernel, &a[start..end], &b[start..end], precision, bucket)?;
        job.run(g, None)?;
        job.read(g, &mut out, start)?;
    }
    Ok(out)
}

/// Whether to group points by region before the dispatch: on GPUs, whose SIMD groups pay for
/// every branch any of their invocations takes; not on llvmpipe, where it measured no faster
/// (`lowbit bench --op bessel` prints both orders).
pub(crate) fn bucket(g: &Gpu) -> bool {
    !g.caps.cpu_device
}

/// Points one dispatch can take: the input binding and the 2-D grid bound it.
fn max_points(g: &Gpu) -> usize {
    let by_binding = g.limits.max_storage_buffer_binding_size / POINT_BYTES;
    let dim = u64::from(g.limits.max_compute_workgroups_per_dimension);
    let by_grid = dim * dim * u64::from(WORKGROUP);
    by_binding.min(by_grid).min(usize::MAX as u64) as usize
}

/// Which kernel a [`GpuJob`] runs on its pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// `(v, x)` → `(log I_v(x), log K_v(x))`.
    Bessel,
    /// `(p, κ)` → `(log C_p(κ), A_p(κ))`.
    VmfForward,
    /// `(p, R̄)` → `(κ̂, A_p(κ̂))`.
    VmfMle,
}

impl Kernel {
    /// The pair's value when the host answers it (limits, invalid input), else `None`.
    fn host_value(self, a: f64, b: f64) -> Option<(f64, f64)> {
        match self {
            Kernel::Bessel => (Region::of(a, b) == Region::Limit).then(|| kb::log_ikv(a, b)),
            Kernel::VmfForward => {
                let valid = a >= 2.0 && b >= 0.0 && a.is_finite() && b.is_finite();
                if !valid {
                    Some((f64::NAN, f64::NAN))
                } else if b == 0.0 {
                    Some((kb::vmf::log_normalizer(a, 0.0), 0.0))
                } else {
                    None
                }
            }
            Kernel::VmfMle => {
                if !(a >= 2.0 && a.is_finite() && (0.0..1.0).contains(&b)) {
                    Some((f64::NAN, f64::NAN))
                } else if b == 0.0 {
                    Some((0.0, 0.0))
                } else {
                    None
                }
            }
        }
    }

    /// `params.pad0` of the vMF kernel.
    fn mode(self) -> u32 {
        u32::from(self == Kernel::VmfMle)
    }
}

/// Uploaded points and the output buffer of one dispatch.
pub(crate) struct GpuJob {
    kernel: Kernel,
    precision: BesselPrecision,
    n: usize,
    points: wgpu::Buffer,
    result: wgpu::Buffer,
    params: wgpu::Buffer,
    groups: [u32; 3],
    /// Indices answered on the host (x = 0, invalid input), with their values.
    limits: Vec<(usize, f64, f64)>,
    /// Input index of each uploaded point, when the points were grouped by region.
    order: Option<Vec<u32>>,
}

/// Input indices grouped by the branch the kernel takes (uniform expansion, Temme, CF2), so
/// that the invocations of a SIMD group mostly follow one path instead of paying for all.
fn bucket_order(v: &[f64], x: &[f64], precision: BesselPrecision) -> Vec<u32> {
    let r_min = r_min(precision == BesselPrecision::F64);
    let key = |i: usize| -> usize {
        let (v, x) = (v[i], x[i]);
        if v * v + x * x >= r_min * r_min {
            0
        } else if x <= 2.0 {
            1
        } else {
            2
        }
    };
    let mut buckets: [Vec<u32>; 3] = Default::default();
    for i in 0..v.len() {
        buckets[key(i)].push(i as u32);
    }
    buckets.concat()
}

impl GpuJob {
    /// Uploads `v`, `x` (at most [`max_points`] of them) for `precision`.
    pub(crate) fn new(
        g: &Gpu,
        kernel: Kernel,
        v: &[f64],
        x: &[f64],
        precision: BesselPrecision,
        bucket: bool,
    ) -> Result<Self> {
        if precision == BesselPrecision::F64 && !g.caps.f64 {
            return Err(Error::Unsupported(format!(
                "f64 kernels need shader-f64, which {} lacks; use f32 or the CPU",
                g.info.name
            )));
        }
        let n = v.len();
        let order = (bucket && kernel == Kernel::Bessel).then(|| bucket_order(v, x, precision));
        let mut limits = Vec::new();
        let mut bytes: Vec<u8> = Vec::with_capacity(n * POINT_BYTES as usize);
        for j in 0..n {
            let i = order.as_ref().map_or(j, |o| o[j] as usize);
            let (vi, xi) = (v[i], x[i]);
            // Points the kernel does not take get a harmless stand-in.
            let (vi, xi) = match kernel.host_value(vi, xi) {
                Some((a, b)) => {
                    limits.push((i, a, b));
                    match kernel {
                        Kernel::Bessel => (1.0, 1.0),
                        Kernel::VmfForward => (3.0, 1.0),
                        Kernel::VmfMle => (3.0, 0.5),
                    }
                }
                None => (vi, xi),
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
        let groups = fold_groups(g, n.div_ceil(WORKGROUP as usize))?;
        let params = g.uniform(&[
            u32_of(n, "points")?,
            groups[0] * WORKGROUP,
            kernel.mode(),
            0,
        ])?;
        Ok(GpuJob {
            kernel,
            precision,
            n,
            points,
            result,
            params,
            groups,
            limits,
            order,
        })
    }

    /// Dispatches the kernel (timed when `timer` is given) and waits.
    pub(crate) fn run(&self, g: &Gpu, timer: Option<&GpuTimer>) -> Result<()> {
        let comp = variant(
            self.precision == BesselPrecision::F64,
            self.kernel != Kernel::Bessel,
        );
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

    /// Downloads the result pairs into `out[offset..offset + n]` (`log_i`, `log_k` hold the
    /// first and second value of each pair for every kernel).
    pub(crate) fn read(&self, g: &Gpu, out: &mut LogBessel, offset: usize) -> Result<()> {
        let n = self.n;
        match self.precision {
            BesselPrecision::F64 => {
                let bytes = g.download(&self.result, 0, n as u64 * 16)?;
                let vals: &[f64] = bytemuck::cast_slice(&bytes);
                for j in 0..n {
                    let i = self.order.as_ref().map_or(j, |o| o[j] as usize);
                    out.log_i[offset + i] = vals[2 * j];
                    out.log_k[offset + i] = vals[2 * j + 1];
                }
            }
            BesselPrecision::F32 => {
                let bytes = g.download(&self.result, 0, n as u64 * 8)?;
                let vals: &[f32] = bytemuck::cast_slice(&bytes);
                for j in 0..n {
                    let i = self.order.as_ref().map_or(j, |o| o[j] as usize);
                    out.log_i[offset + i] = f64::from(vals[2 * j]);
                    out.log_k[offset + i] = f64::from(vals[2 * j + 1]);
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

/// Every composed bessel and vMF shader, for offline validation.
pub(crate) fn all_shader_variants() -> Vec<crate::shaders::ShaderVariant> {
    let mut out = Vec::new();
    for f64_mode in [false, true] {
        for vmf in [false, true] {
            out.push(variant(f64_mode, vmf));
        }
    }
    out
}
