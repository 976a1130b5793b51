//! The GPU int8 route for quantized weights (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q4_K, Q5_K,
//! Q6_K in `shaders/quant_q8.wgsl`; Q3_K, IQ4_NL, IQ4_XS, MXFP4, NVFP4, TQ1_0, TQ2_0, I4G*
//! and FP8 in `shaders/quant_q8_ext.wgsl`) at M ≤ 4: x quantised to int8 per block of 32 by
//! one dispatch, then the GEMV meets each weight block's integers with `dot4I8Packed` in i32
//! and applies the scales once per block (per 16 for Q2_K, Q3_K, Q6_K and NVFP4); FP8 values,
//! not integers, meet x's int8 values in f32. Within
//! [`lowbit_kernels::quant_matmul::int8_error_bound`] of the exact product, like the CPU's
//! int8 path.

use std::collections::BTreeSet;

use lowbit_kernels::formats::QuantType;
use lowbit_kernels::DType;

use super::plan::{fold_groups, mat_bytes, whole_binding};
use super::quant::{quant_params, w_binding, x_binding, QUANT_COMMON};
use crate::error::Result;
use crate::gpu::{Dispatch, Gpu, GpuTimer};
use crate::quant::QuantMatrix;
use crate::shader_text::{preprocess, unroll};
use crate::shaders::{ShaderVariant, INT8_COMMON};
use crate::tensor::TensorView;

const QUANT_Q8: &str = include_str!("../../shaders/quant_q8.wgsl");
const QUANT_Q8_EXT: &str = include_str!("../../shaders/quant_q8_ext.wgsl");

/// Tokens one GEMV dispatch serves.
pub(crate) const MAX_TOKENS: usize = 4;

/// Rows per workgroup of the CPU-adapter shape: 8 invocations of LANE_ROWS rows.
const ROWS_PER_GROUP: usize = 8 * LANE_ROWS as usize;

/// Rows per invocation of the row-per-lane GEMV (`ROW_PER_LANE`).
const LANE_ROWS: u32 = 4;

/// The formats the int8 route has a kernel for: those of `quant_q8.wgsl`, then those of
/// `quant_q8_ext.wgsl` ([`ext_unit`]).
const TYPES: [QuantType; 21] = [
    QuantType::Q4_0,
    QuantType::Q4_1,
    QuantType::Q5_0,
    QuantType::Q5_1,
    QuantType::Q8_0,
    QuantType::Q2_K,
    QuantType::Q4_K,
    QuantType::Q5_K,
    QuantType::Q6_K,
    QuantType::Q3_K,
    QuantType::IQ4_NL,
    QuantType::IQ4_XS,
    QuantType::MXFP4,
    QuantType::NVFP4,
    QuantType::TQ1_0,
    QuantType::TQ2_0,
    QuantType::I4G32,
    QuantType::I4G64,
    QuantType::I4G128,
    QuantType::F8E4M3,
    QuantType::F8E5M2,
];

/// Whether `ty`'s unit is defined in `quant_q8_ext.wgsl`.
fn ext_unit(ty: QuantType) -> bool {
    TYPES[9..].contains(&ty)
}

/// The elements a row must be a multiple of for its wide form, for the formats that have one:
/// on CPU-type adapters every load instruction pays a per-lane loop whatever its width
/// (shaders/README.md). `WIDE`: units of eight blocks of Q4_0, Q4_1, Q5_0, Q5_1 (9 to 12
/// vec4 loads) or Q8_0 (17), MXFP4's sixteen (17) and FP8's four (9) instead of five to nine
/// word loads a block; Q4_K and Q5_K are always read so. `WINDOW`: Q3_K, Q6_K and IQ4_XS
/// super-blocks and NVFP4 blocks out of the 8, 14, 9 or 3 vec4 words around them (rows of
/// whole 16-byte words) instead of 37, 65, 34 or 9 word loads; sixteen I4G32 blocks through
/// 19 (six or seven word loads a block before).
fn wide_units(ty: QuantType) -> Option<usize> {
    match ty {
        QuantType::Q4_0 | QuantType::Q4_1 | QuantType::Q5_0 | QuantType::Q5_1 | QuantType::Q8_0 => {
            Some(256)
        }
        QuantType::MXFP4 => Some(512),
        QuantType::Q6_K | QuantType::Q3_K => Some(2048),
        QuantType::IQ4_XS => Some(512),
        QuantType::NVFP4 => Some(256),
        QuantType::I4G32 => Some(512),
        QuantType::F8E4M3 | QuantType::F8E5M2 => Some(128),
        _ => None,
    }
}

/// Whether the int8 route has a kernel for `ty`.
pub(crate) fn supports(ty: QuantType) -> bool {
    TYPES.contains(&ty)
}

/// One composed kernel of the route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Q8Kernel {
    /// x (f16 when `true`) to int8 blocks.
    Quantize(bool),
    /// The GEMV for a format.
    Gemv {
        ty: QuantType,
        /// One token per dispatch.
        one: bool,
        /// One row per invocation, 8 a workgroup (CPU-type adapters), else a workgroup a row.
        row_per_lane: bool,
        /// `dot4I8Packed`, else the portable extractBits sum.
        dot_native: bool,
        /// W read as vec4 words ([`wide_units`]): units of several blocks (Q4_0, Q4_1, Q5_0,
        /// Q5_1, Q8_0, MXFP4, FP8) or blocks picked out of vec4 windows (Q3_K, Q6_K, IQ4_XS,
        /// NVFP4).
        wide: bool,
        /// FP8 codes to f16 bits and `unpack2x16float` (CPU-type adapters: exact there).
        f16cvt: bool,
    },
}

pub(crate) fn variant(kernel: Q8Kernel) -> ShaderVariant {
    let mut defines: BTreeSet<&str> = BTreeSet::new();
    let fmt;
    let mut sw = None;
    let name = match kernel {
        Q8Kernel::Quantize(f16) => {
            defines.insert("QUANTIZE");
            if f16 {
                defines.insert("X_F16");
            }
            format!("quant_q8.quantize.{}", if f16 { "xf16" } else { "xf32" })
        }
        Q8Kernel::Gemv {
            ty,
            one,
            row_per_lane,
            dot_native,
            wide,
            f16cvt,
        } => {
            let i4g = matches!(ty, QuantType::I4G32 | QuantType::I4G64 | QuantType::I4G128);
            fmt = if i4g {
                "FMT_I4G".to_string()
            } else {
                format!("FMT_{}", ty.name())
            };
            let k_quant = matches!(ty, QuantType::Q4_K | QuantType::Q5_K);
            // Q3_K's, Q6_K's, IQ4_XS's and NVFP4's wide form keeps their unit (one block) and
            // x's scales, read through vec4 windows.
            let window = matches!(
                ty,
                QuantType::Q6_K
                    | QuantType::Q3_K
                    | QuantType::IQ4_XS
                    | QuantType::NVFP4
                    | QuantType::I4G32
            );
            // The `Super` unit's vec4 words (9 to 17), where the kernel has one.
            let unit_elems = if k_quant {
                Some(256)
            } else {
                wide_units(ty).filter(|_| wide && !window)
            };
            sw = unit_elems
                .and_then(|unit| ty.row_bytes(unit).ok())
                .map(|b| b / 16);
            defines.insert(fmt.as_str());
            for (on, d) in [
                (one, "MT1"),
                (row_per_lane, "ROW_PER_LANE"),
                (dot_native, "DOT_NATIVE"),
                (wide && !window || k_quant, "WIDE"),
                (wide && window, "WINDOW"),
                (
                    matches!(
                        ty,
                        QuantType::Q4_0
                            | QuantType::Q4_1
                            | QuantType::Q5_0
                            | QuantType::Q5_1
                            | QuantType::Q8_0
                    ),
                    "WBLOCK",
                ),
                (f16cvt, "F16CVT"),
                (k_quant, "K_QUANT"),
                (matches!(ty, QuantType::Q5_0 | QuantType::Q5_1), "Q5"),
                (ext_unit(ty), "UNIT_EXT"),
                (matches!(ty, QuantType::F8E4M3 | QuantType::F8E5M2), "FP8"),
            ] {
                if on {
                    defines.insert(d);
                }
            }
            format!(
                "quant_q8.{}.{}.{}.{}{}{}",
                ty.name(),
                if one { "m1" } else { "m4" },
                if row_per_lane { "lane" } else { "wg" },
                if dot_native { "dp4" } else { "dotx" },
                if wide { ".wide" } else { "" },
                if f16cvt { ".f16c" } else { "" }
            )
        }
    };
    let mut source = preprocess(INT8_COMMON, &defines);
    source.push_str(&QUANT_COMMON.concat());
    if let Some(sw) = sw {
        source.push_str(&format!("const SW: u32 = {sw}u;\n"));
    }
    let q8 = preprocess(QUANT_Q8, &defines);
    // Our own text: a malformed directive is a bug the catalog test meets first.
    // SW: the `Super` unit's words, where the kernel has one (0 leaves no block to unroll).
    let sw_words = sw.map_or(0, |sw| sw as u32);
    let q8 = unroll(&q8, &[("LANE_ROWS", LANE_ROWS), ("SW", sw_words)])
        .unwrap_or_else(|e| panic!("shader {name}: {e}"));
    source.push_str(&format!("const LANE_ROWS: u32 = {LANE_ROWS}u;\n"));
    source.push_str(&q8);
    let ext = unroll(&preprocess(QUANT_Q8_EXT, &defines), &[("SW", sw_words)])
        .unwrap_or_else(|e| panic!("shader {name}: {e}"));
    source.push_str(&ext);
    if let Q8Kernel::Gemv { ty, .. } = kernel {
        if defines.contains("FMT_I4G") {
            let blocks = ty.block_elems() / 32;
            source.push_str(&format!("\nconst I4G_BLOCKS: u32 = {blocks}u;\n"));
        }
    }
    ShaderVariant {
        name,
        source,
        needs_f16: false,
        needs_subgroups: false,
        needs_f64: false,
    }
}

/// Every composed kernel of the route, for offline validation.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let mut out = vec![
        variant(Q8Kernel::Quantize(false)),
        variant(Q8Kernel::Quantize(true)),
    ];
    for ty in TYPES {
        let fp8 = matches!(ty, QuantType::F8E4M3 | QuantType::F8E5M2);
        // (wide, f16cvt): chosen apart at run time (by K, by `Caps::cheap_unpack_half`).
        let forms: &[(bool, bool)] = if fp8 {
            &[(false, false), (true, false), (false, true), (true, true)]
        } else if wide_units(ty).is_some() {
            &[(false, false), (true, false)]
        } else {
            &[(false, false)]
        };
        for one in [true, false] {
            for row_per_lane in [true, false] {
                for dot_native in [true, false] {
                    for &(wide, f16cvt) in forms {
                        out.push(variant(Q8Kernel::Gemv {
                            ty,
                            one,
                            row_per_lane,
                            dot_native,
                            wide,
                            f16cvt,
                        }));
                    }
                }
            }
        }
    }
    out
}

/// The GEMV's shape and dot product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Q8Shape {
    /// One row per invocation (CPU-type adapters), else a workgroup per row.
    pub row_per_lane: bool,
    /// `dot4I8Packed`, else the portable extractBits sum.
    pub dot_native: bool,
    /// The CPU-type adapters' forms: units of several blocks through vec4 loads where K
    /// allows ([`wide_units`]), FP8 codes converted as f16 where `unpack2x16float` is cheap
    /// (`Caps::cheap_unpack_half`).
    pub cpu_forms: bool,
}

/// `y = x · Wᵀ` for `1 ≤ M ≤ 4` tokens by the int8 route (`supports(w.ty)` holds): the
/// quantisation and the GEMV in one pass, in the shape the adapter type prefers.
pub(crate) fn gemv(
    g: &Gpu,
    x: &TensorView,
    w: &QuantMatrix,
    wbuf: &wgpu::Buffer,
    y: &wgpu::Buffer,
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    // CPU-type adapters: one row per invocation, as few (wide) loads as possible.
    let cpu = g.caps.cpu_device;
    let shape = Q8Shape {
        row_per_lane: cpu,
        dot_native: true,
        cpu_forms: cpu,
    };
    gemv_with(g, x, w, wbuf, y, shape, bias, timer)
}

/// [`gemv`] in a chosen shape.
#[allow(clippy::too_many_arguments)]
pub(crate) fn gemv_with(
    g: &Gpu,
    x: &TensorView,
    w: &QuantMatrix,
    wbuf: &wgpu::Buffer,
    y: &wgpu::Buffer,
    shape: Q8Shape,
    bias: Option<wgpu::BindingResource<'_>>,
    timer: Option<&GpuTimer>,
) -> Result<()> {
    let (m, k) = (x.shape[0], x.shape[1]);
    let n = w.n;
    debug_assert!((1..=MAX_TOKENS).contains(&m) && supports(w.ty));
    let blocks = m * (k / 32);
    let xq = g.alloc((m * k) as u64, "x int8")?;
    let xs = g.alloc((blocks * 8) as u64, "x block scales")?;
    let x_bind = x_binding(g, x)?;
    let xq_bind = whole_binding(g, &xq, 0, (m * k) as u64, "x int8")?;
    let xs_bind = whole_binding(g, &xs, 0, (blocks * 8) as u64, "x block scales")?;
    let w_bind = w_binding(g, w, wbuf)?;
    let y_bind = whole_binding(g, y, 0, mat_bytes(DType::F32, m, n), "y")?;

    let quantize = variant(Q8Kernel::Quantize(x.dtype == DType::F16));
    let q_pipe = g.pipeline(&quantize.name, || quantize.source.clone(), &[])?;
    let q_groups = fold_groups(g, blocks.div_ceil(64))?;
    let row_per_lane = shape.row_per_lane;
    let wide = shape.cpu_forms && wide_units(w.ty).is_some_and(|unit| k % unit == 0);
    let f16cvt = shape.cpu_forms
        && g.caps.cheap_unpack_half
        && matches!(w.ty, QuantType::F8E4M3 | QuantType::F8E5M2);
    let gemv = variant(Q8Kernel::Gemv {
        ty: w.ty,
        one: m == 1,
        row_per_lane,
        dot_native: shape.dot_native,
        wide,
        f16cvt,
    });
    let g_pipe = g.pipeline(&gemv.name, || gemv.source.clone(), &[])?;
    let g_groups = fold_groups(
        g,
        if row_per_lane {
            n.div_ceil(ROWS_PER_GROUP)
        } else {
            n
        },
    )?;
    let q_params = quant_params(g, w, (m, k), 0, q_groups[0], false)?;
    let g_params = quant_params(g, w, (m, k), 0, g_groups[0], bias.is_some())?;
    // Without a bias, the int8 x's binding stands in (read-only here, never read).
    let bias_bind = bias.unwrap_or_else(|| xq_bind.clone());
    g.run(
        &[
            Dispatch {
                pipeline: &q_pipe,
                bindings: vec![
                    q_params.as_entire_binding(),
                    x_bind,
                    xq_bind.clone(),
                    xs_bind.clone(),
                ],
                groups: q_groups,
            },
            Dispatch {
                pipeline: &g_pipe,
                bindings: vec![
                    g_params.as_entire_binding(),
                    w_bind,
                    xq_bind,
                    xs_bind,
                    y_bind,
                    bias_bind,
                ],
                groups: g_groups,
            },
        ],
        timer,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Backend, Context};
    use crate::quant::QuantData;
    use crate::tensor::Tensor;
    use crate::validate_quant::Lcg;
    use lowbit_kernels::formats::dequantize_row;
    use lowbit_kernels::quant_matmul::int8_error_bound;

    const U: f64 = 1.0 / (1u64 << 24) as f64;

    /// Every shape and dot product of the route on every adapter, every token count, rows
    /// whose blocks start at both word alignments, against the exact product within the int8
    /// bound (a lane, block or token mixed up is far outside it).
    #[test]
    fn every_shape_on_every_adapter() {
        let gpus: Vec<Context> = Context::all_gpus()
            .into_iter()
            .map(|c| c.unwrap())
            .collect();
        if gpus.is_empty() && std::env::var_os("LOWBIT_REQUIRE_GPU").is_some() {
            panic!("LOWBIT_REQUIRE_GPU is set but no GPU adapter was found");
        }
        let mut rng = Lcg(7);
        for ctx in &gpus {
            let Backend::Gpu(g) = &*ctx.inner else {
                unreachable!()
            };
            for ty in TYPES {
                // Odd block counts put every other row's blocks two bytes off a word.
                for (n, k) in [
                    (1, 32),
                    (3, 96),
                    (17, 288),
                    (33, 32 * 9),
                    (5, 1024),
                    (3, 256),
                    (2, 768),
                    // Q6_K's wide form (rows of whole 16-byte words).
                    (3, 2048),
                ] {
                    if k % ty.block_elems() != 0 {
                        continue;
                    }
                    let row = ty.row_bytes(k).unwrap();
                    // Random block bytes (every code and 6-bit scale, not only what a
                    // quantiser writes) with finite f16 scales, some subnormal.
                    let mut bytes: Vec<u8> = (0..n * row).map(|_| rng.next() as u8).collect();
                    let scales: &[usize] = match ty {
                        QuantType::Q4_K | QuantType::Q5_K | QuantType::Q4_1 | QuantType::Q5_1 => {
                            &[0, 2]
                        }
                        QuantType::Q6_K => &[208],
                        QuantType::Q2_K => &[80, 82],
                        QuantType::Q3_K => &[108],
                        QuantType::TQ2_0 => &[64],
                        QuantType::TQ1_0 => &[52],
                        // E8M0 / UE4M3 scales (MXFP4's kept near 2⁰ below); FP8's f32 scale.
                        QuantType::MXFP4 | QuantType::NVFP4 => &[],
                        QuantType::F8E4M3 | QuantType::F8E5M2 => &[],
                        _ => &[0],
                    };
                    let per_row = k / ty.block_elems();
                    for (bi, block) in bytes.chunks_mut(ty.block_bytes()).enumerate() {
                        if ty == QuantType::MXFP4 {
                            block[0] = 110 + (rng.next() % 30) as u8;
                        }
                        // AWQ/GPTQ zero points are 4-bit: with any byte the bound (offsets
                        // widen |w| by 2|d·z|) grew past a misread nibble word.
                        if matches!(ty, QuantType::I4G32 | QuantType::I4G64 | QuantType::I4G128) {
                            block[2] &= 0x0f;
                        }
                        if matches!(ty, QuantType::F8E4M3 | QuantType::F8E5M2) {
                            let scale = (rng.next() % 1000) as f32 / 997.0 + 0.01;
                            block[..4].copy_from_slice(&scale.to_le_bytes());
                            // Every finite code (subnormals included): E4M3's NaN and E5M2's
                            // top exponent (infinity, NaN) one step down.
                            for c in &mut block[4..] {
                                if (ty == QuantType::F8E4M3 && *c & 0x7f == 0x7f)
                                    || (ty == QuantType::F8E5M2 && *c & 0x7c == 0x7c)
                                {
                                    *c ^= 0x04;
                                }
                                // Odd rows only subnormal codes (and zeros), which a row of
                                // normal values would hide under its bound.
                                if (bi / per_row) % 2 == 1 {
                                    *c &= if ty == QuantType::F8E4M3 { 0x87 } else { 0x83 };
                                }
                            }
                        }
                        for &at in scales {
                            let h = (rng.next() as u16 & 0x83ff) | ((rng.next() % 15) as u16) << 10;
                            block[at..at + 2].copy_from_slice(&h.to_le_bytes());
                        }
                    }
                    let mut deq = vec![0f32; n * k];
                    for r in 0..n {
                        let b = &bytes[r * row..(r + 1) * row];
                        dequantize_row(ty, b, &mut deq[r * k..(r + 1) * k]).unwrap();
                    }
                    let w = QuantMatrix::from_bytes(ctx, ty, n, k, &bytes).unwrap();
                    let QuantData::Gpu(wbuf) = &w.data else {
                        unreachable!()
                    };
                    for m in 1..=MAX_TOKENS {
                        let mut x: Vec<f32> = (0..m * k)
                            .map(|i| ((i * 104729) % 211) as f32 / 211.0 - 0.5)
                            .collect();
                        x[..32].fill(0.0); // a zero block: dx = 0
                        let xt = Tensor::from_slice(ctx, &x, &[m, k]).unwrap();
                        for (row_per_lane, dot_native, cpu_forms) in [
                            (true, true, false),
                            (true, false, false),
                            (false, true, false),
                            (false, false, false),
                            (true, true, true),
                            (false, false, true),
                        ] {
                            {
                                let shape = Q8Shape {
                                    row_per_lane,
                                    dot_native,
                                    cpu_forms,
                                };
                                let y = g.alloc((m * n * 4) as u64, "y").unwrap();
                                gemv_with(g, &xt.view(), &w, wbuf, &y, shape, None, None).unwrap();
                                let got = g.download(&y, 0, (m * n * 4) as u64).unwrap();
                                for t in 0..m {
                                    let xr = &x[t * k..(t + 1) * k];
                                    for j in 0..n {
                                        let wr = &deq[j * k..(j + 1) * k];
                                        let exact: f64 = wr
                                            .iter()
                                            .zip(xr)
                                            .map(|(&a, &b)| f64::from(a) * f64::from(b))
                                            .sum();
                                        let mag: f64 = wr
                                            .iter()
                                            .zip(xr)
                                            .map(|(&a, &b)| (f64::from(a) * f64::from(b)).abs())
                                            .sum();
                                        let r = int8_error_bound(wr, xr);
                                        let bound =
                                            r + (k as f64 + 2.0) * U * (mag + r) + U * exact.abs();
                                        let at = 4 * (t * n + j);
                                        let v =
                                            f32::from_le_bytes(got[at..at + 4].try_into().unwrap());
                                        assert!(
                                            (f64::from(v) - exact).abs() <= bound,
                                            "{} {} {shape:?} n{n} k{k} m{m} token {t} row {j}: \
                                             {v} vs {exact} ± {bound}",
                                            ctx.info().name,
                                            ty.name()
                                        );
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
