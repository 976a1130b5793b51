//! Pitfall probes (`lowbit validate --probes`): tiny kernels that show, per adapter, the
//! behaviours known to break inference kernels across vendors (the list and the peers' practice:
//! `../shared/design/reference/wgpu_and_peers.md`). Each probe reports what the adapter did,
//! whether that is what a strict machine does (IEEE-754 with fused `fma` and kept subnormals,
//! exact integers, WGSL's defined results), and what WGSL permits. The CPU backend answers with
//! what Rust does on this machine, so a report always has every probe.

use std::collections::BTreeSet;

use half::f16;
use serde::{Deserialize, Serialize};

use crate::context::{Backend, Context};
use crate::error::Result;
use crate::gpu::{Dispatch, Gpu};
use crate::shader_text::preprocess;
use crate::shaders::ShaderVariant;

const PROBES: &str = include_str!("../shaders/probes.wgsl");

/// What one probe found on one adapter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Probe name (`f16_overflow`, `tanh_large`, ...).
    pub probe: String,
    /// What the adapter did: the part two adapters are compared on.
    pub observed: String,
    /// The values and the path taken (native f16 or packed, ...), for the reader.
    pub detail: String,
    /// The adapter did what a strict machine does; `None` where the probe does not apply.
    pub strict: Option<bool>,
    /// What WGSL permits here, and what a kernel should therefore not rely on.
    pub wgsl: String,
}

/// The probes' names, in the order they run.
pub const PROBE_NAMES: &[&str] = &[
    "f16_overflow",
    "tanh_large",
    "f32_subnormal",
    "f16_subnormal",
    "fma_fused",
    "signed_int",
    "dot4_extremes",
    "subgroup_size",
    "workgroup_zero_init",
    "oob_read",
];

/// The kernel section of each probe (its define in `shaders/probes.wgsl`).
fn define(probe: &str) -> &'static str {
    match probe {
        "f16_overflow" => "F16_OVERFLOW",
        "tanh_large" => "TANH_LARGE",
        "f32_subnormal" => "F32_SUBNORMAL",
        "f16_subnormal" => "F16_SUBNORMAL",
        "fma_fused" => "FMA",
        "signed_int" => "SIGNED_INT",
        "dot4_extremes" => "DOT4",
        "subgroup_size" => "SUBGROUP_SIZE",
        "workgroup_dirty" => "WORKGROUP_DIRTY",
        "workgroup_zero_init" => "WORKGROUP_ZERO",
        _ => "OOB_READ",
    }
}

fn variant(probe: &str, native_f16: bool) -> ShaderVariant {
    let mut defines = BTreeSet::from([define(probe)]);
    if native_f16 {
        defines.insert("NATIVE_F16");
    }
    ShaderVariant {
        name: format!("probe_{probe}{}", if native_f16 { "_f16" } else { "" }),
        source: preprocess(PROBES, &defines),
        needs_f16: native_f16,
        needs_subgroups: probe == "subgroup_size",
        needs_f64: false,
    }
}

/// Every probe kernel, for the naga validation test.
pub(crate) fn all_shader_variants() -> Vec<ShaderVariant> {
    let mut v: Vec<ShaderVariant> = PROBE_NAMES
        .iter()
        .chain(&["workgroup_dirty"])
        .map(|p| variant(p, false))
        .collect();
    v.push(variant("f16_overflow", true));
    v.push(variant("f16_subnormal", true));
    v
}

/// Runs every probe on `ctx`.
pub fn run_probes(ctx: &Context) -> Vec<ProbeResult> {
    PROBE_NAMES
        .iter()
        .map(|&p| {
            let (observed, detail, strict) = match &*ctx.inner {
                Backend::Gpu(g) => match gpu_probe(g, p) {
                    Ok(r) => r,
                    Err(e) => ("the probe failed to run".into(), e.to_string(), Some(false)),
                },
                Backend::Cpu(_) => cpu_probe(p),
            };
            ProbeResult {
                probe: p.into(),
                observed,
                detail,
                strict,
                wgsl: permitted(p).into(),
            }
        })
        .collect()
}

/// What WGSL says about each probe's behaviour.
fn permitted(probe: &str) -> &'static str {
    match probe {
        "f16_overflow" => {
            "a run-time f16 overflow gives an indeterminate value (not necessarily inf); \
             accumulate in f32"
        }
        "tanh_large" => {
            "tanh's accuracy is inherited from sinh(x)/cosh(x), which overflow past |x| ≈ 89, \
             so NaN is within the letter of WGSL; clamp the argument (GELU's tanh form)"
        }
        "f32_subnormal" => "f32 subnormal inputs and results may be flushed to zero",
        "f16_subnormal" => {
            "f16 subnormals may be flushed to zero, in native f16 and in \
             pack2x16float/unpack2x16float alike"
        }
        "fma_fused" => {
            "fma(a, b, c) may round the product first (accuracy inherited from a·b + c); \
             a kernel that must match across vendors writes a·b + c and never relies on fusion"
        }
        "signed_int" => {
            "all defined: % truncates (sign of the dividend), i32 >> is arithmetic with the shift \
             taken mod 32, MIN / -1 = MIN, MIN % -1 = 0, x / 0 = x, x % 0 = 0"
        }
        "dot4_extremes" => "exact integer results: no saturation or wrap at these magnitudes",
        "subgroup_size" => {
            "subgroup_size lies within the adapter's [min, max] and may differ between \
             pipelines and dispatches: never assume one size"
        }
        "workgroup_zero_init" => {
            "workgroup memory starts zeroed; lowbit turns wgpu's zeroing off \
             (zero_initialize_workgroup_memory: false), so this is the driver's own behaviour \
             and lowbit's kernels write before they read"
        }
        _ => {
            "an out-of-bounds load returns a value from within the same binding, or zero \
             (wgpu clamps or zeroes the index; robust buffer access otherwise)"
        }
    }
}

/// The words a probe kernel wrote to `out` (seeded with `init`) given `inp`, after an optional
/// dispatch of `before` with the same input.
fn run_kernel(
    g: &Gpu,
    v: &ShaderVariant,
    inp: &[u32],
    init: &[u32],
    groups: u32,
    before: Option<&ShaderVariant>,
) -> Result<Vec<u32>> {
    let pipeline = g.pipeline(&v.name, || v.source.clone(), &[])?;
    let inb = g.upload(bytemuck::cast_slice(inp), "probe input")?;
    let out = g.upload(bytemuck::cast_slice(init), "probe output")?;
    let spare = g.upload(bytemuck::cast_slice(init), "probe scratch output")?;
    let mut dispatches = Vec::new();
    let first = match before {
        Some(b) => Some(g.pipeline(&b.name, || b.source.clone(), &[])?),
        None => None,
    };
    if let Some(p) = &first {
        dispatches.push(Dispatch {
            pipeline: p,
            bindings: vec![inb.as_entire_binding(), spare.as_entire_binding()],
            groups: [1, 1, 1],
        });
    }
    dispatches.push(Dispatch {
        pipeline: &pipeline,
        bindings: vec![inb.as_entire_binding(), out.as_entire_binding()],
        groups: [groups, 1, 1],
    });
    g.run(&dispatches, None)?;
    let bytes = g.download(&out, 0, 4 * init.len() as u64)?;
    Ok(bytemuck::pod_collect_to_vec(&bytes))
}

fn show(v: f32) -> String {
    if v.is_nan() {
        "NaN".into()
    } else {
        format!("{v:e}")
    }
}

/// f16 accumulation: 64 adds of 2048 (exact sum 131072, past f16's 65504).
const F16_ADDS: (u32, f32) = (64, 2048.0);
/// tanh arguments, large enough to meet the exp overflow of a naive sinh/cosh.
const TANH_X: [f32; 7] = [10.0, 20.0, 50.0, 89.0, 100.0, 1000.0, -1000.0];
/// fma operands: `a = 1 + 2^-20`, `c = -(1 + 2^-19)`; fused `a·a + c = 2^-40`.
const FMA_A: f32 = 1.0 + 1.0 / (1u32 << 20) as f32;
const FMA_C: f32 = -(1.0 + 1.0 / (1u32 << 19) as f32);
const SIGNED_IN: [i32; 10] = [-7, 3, 2, -8, 1, 33, i32::MIN, -1, 5, 0];
const SIGNED_OPS: [&str; 8] = [
    "-7 % 3", "-7 / 2", "-8 >> 1", "-8 >> 33", "MIN / -1", "MIN % -1", "5 / 0", "5 % 0",
];
/// WGSL's defined results of `SIGNED_OPS`.
const SIGNED_WANT: [i32; 8] = [-1, -3, -4, -4, i32::MIN, 0, 5, 0];
const DOT4_IN: [u32; 3] = [0x8080_8080, 0x7F7F_7F7F, 0xFFFF_FFFF];
/// dot4I8Packed(-128s, -128s), (127s, -128s), (127s, 127s); dot4U8Packed(255s, 255s);
/// dot4I8Packed(-1s, -128s).
const DOT4_WANT: [i32; 5] = [65536, -65024, 64516, 260100, 512];
const OOB_IN: [u32; 4] = [1000, 20, 30, 40];

/// `(observed, detail, strict)` of one probe.
type Found = (String, String, Option<bool>);

fn f16_overflow_words(sum: f32, path: &str) -> Found {
    let what = if sum == f32::INFINITY {
        "+inf".to_string()
    } else if sum == 65504.0 {
        "65504 (saturated)".to_string()
    } else {
        show(sum)
    };
    (
        what,
        format!("{} adds of {} in f16 ({path})", F16_ADDS.0, F16_ADDS.1),
        Some(sum == f32::INFINITY),
    )
}

fn tanh_words(t: &[f32]) -> Found {
    let strict = TANH_X.iter().zip(t).all(|(&x, &v)| {
        let one = x.signum();
        (v - one).abs() <= f32::EPSILON
    });
    let list: Vec<String> = TANH_X
        .iter()
        .zip(t)
        .map(|(x, &v)| format!("tanh({x}) = {}", show(v)))
        .collect();
    (list.join(", "), String::new(), Some(strict))
}

fn subnormal_words(got: &[u32], want: &[u32], what: &[&str], path: &str) -> Found {
    let kept = got == want;
    let flushed = got.iter().all(|&v| v & 0x7FFF_FFFF == 0);
    let summary = if kept {
        "kept"
    } else if flushed {
        "flushed to zero"
    } else {
        "mixed"
    };
    let list: Vec<String> = what
        .iter()
        .zip(got.iter().zip(want))
        .map(|(w, (g, e))| format!("{w} = {g:#x} (strict {e:#x})"))
        .collect();
    (
        summary.into(),
        format!("{} ({path})", list.join(", ")),
        Some(kept),
    )
}

const F32_SUB_WANT: [u32; 3] = [0x2, 0x0040_0000, 0x1];
const F32_SUB_WHAT: [&str; 3] = ["2^-149 · 2", "2^-126 · 0.5", "2^-149 + 0"];
/// f32 bits of 2^-23, 2^-15, 2^-24: f16 subnormals, kept.
const F16_SUB_WANT: [u32; 3] = [0x3400_0000, 0x3800_0000, 0x3380_0000];
const F16_SUB_WHAT: [&str; 3] = ["f16 2^-24 · 2", "f16 2^-14 · 0.5", "f16 2^-24 read back"];

fn fma_words(fused: f32, written: f32) -> Found {
    let tiny = 1.0 / (1u64 << 40) as f32;
    let name = |v: f32| {
        if v == tiny {
            "fused (2^-40)".to_string()
        } else if v == 0.0 {
            "product rounded first (0)".to_string()
        } else {
            show(v)
        }
    };
    (
        format!(
            "fma(a, a, c): {}; a·a + c written out: {}",
            name(fused),
            name(written)
        ),
        String::new(),
        Some(fused == tiny),
    )
}

fn list_words(names: &[&str], got: &[i32], want: &[i32]) -> Found {
    let list: Vec<String> = names
        .iter()
        .zip(got.iter().zip(want))
        .map(|(n, (g, w))| {
            if g == w {
                format!("{n} = {g}")
            } else {
                format!("{n} = {g} (WGSL: {w})")
            }
        })
        .collect();
    (list.join(", "), String::new(), Some(got == want))
}

const DOT4_NAMES: [&str; 5] = [
    "i8(-128s·-128s)",
    "i8(127s·-128s)",
    "i8(127s·127s)",
    "u8(255s·255s)",
    "i8(-1s·-128s)",
];

fn gpu_probe(g: &Gpu, probe: &str) -> Result<Found> {
    let native = g.caps.shader_f16;
    let path = if native {
        "native f16"
    } else {
        "pack2x16float round trips"
    };
    let run =
        |inp: &[u32], init: &[u32]| run_kernel(g, &variant(probe, native), inp, init, 1, None);
    let bits = |v: &[f32]| v.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
    Ok(match probe {
        "f16_overflow" => {
            let o = run(&[F16_ADDS.0, F16_ADDS.1.to_bits()], &[0])?;
            f16_overflow_words(f32::from_bits(o[0]), path)
        }
        "tanh_large" => {
            let mut inp = vec![TANH_X.len() as u32];
            inp.extend(bits(&TANH_X));
            let o = run(&inp, &[0; TANH_X.len()])?;
            tanh_words(&o.iter().map(|&b| f32::from_bits(b)).collect::<Vec<_>>())
        }
        "f32_subnormal" => {
            let inp = bits(&[f32::from_bits(1), 2.0, f32::MIN_POSITIVE, 0.5, 0.0]);
            let o = run(&inp, &[0; 3])?;
            subnormal_words(&o, &F32_SUB_WANT, &F32_SUB_WHAT, "f32")
        }
        "f16_subnormal" => {
            let tiny = 1.0 / (1u32 << 24) as f32;
            let o = run(&[tiny.to_bits(), (tiny * 1024.0).to_bits(), 1], &[0; 3])?;
            subnormal_words(&o, &F16_SUB_WANT, &F16_SUB_WHAT, path)
        }
        "fma_fused" => {
            let o = run(&bits(&[FMA_A, FMA_C]), &[0; 2])?;
            fma_words(f32::from_bits(o[0]), f32::from_bits(o[1]))
        }
        "signed_int" => {
            let inp: Vec<u32> = SIGNED_IN.iter().map(|&v| v as u32).collect();
            let o = run(&inp, &[0; 8])?;
            let got: Vec<i32> = o.iter().map(|&v| v as i32).collect();
            list_words(&SIGNED_OPS, &got, &SIGNED_WANT)
        }
        "dot4_extremes" => {
            let o = run(&DOT4_IN, &[0; 5])?;
            let got: Vec<i32> = o.iter().map(|&v| v as i32).collect();
            list_words(&DOT4_NAMES, &got, &DOT4_WANT)
        }
        "subgroup_size" => {
            if !g.caps.subgroups {
                return Ok((
                    "no subgroup operations on this adapter".into(),
                    String::new(),
                    None,
                ));
            }
            let o = run(&[0], &[u32::MAX, 0, 0, 0])?;
            let (lo, hi) = (g.caps.subgroup_min_size, g.caps.subgroup_max_size);
            let inside = lo == 0 || (o[0] >= lo && o[1] <= hi);
            (
                format!(
                    "sizes {}..{} seen; {} invocations whose subgroupAdd(1) differs from \
                     subgroup_size",
                    o[0], o[1], o[2]
                ),
                format!("one 256-invocation workgroup; the adapter reports {lo}..{hi}"),
                Some(inside && o[2] == 0),
            )
        }
        "workgroup_zero_init" => {
            let dirty = variant("workgroup_dirty", false);
            let o = run_kernel(
                g,
                &variant(probe, false),
                &[0xDEAD_BEEF],
                &[0],
                1,
                Some(&dirty),
            )?;
            let what = if o[0] == 0 { "zeroed" } else { "not zeroed" };
            (
                what.into(),
                format!(
                    "{} of 256 words read non-zero after a dispatch that left data there",
                    o[0]
                ),
                Some(o[0] == 0),
            )
        }
        _ => {
            let o = run(&OOB_IN, &[0; 3])?;
            let name = |v: u32| match v {
                40 => "40 (clamped to the last element)".to_string(),
                0 => "0 (zero)".to_string(),
                v => format!("{v}"),
            };
            let allowed = |v: u32| v == 0 || OOB_IN.contains(&v);
            (
                format!(
                    "inp[1000] = {}, inp[4] = {}, arrayLength = {}",
                    name(o[0]),
                    name(o[1]),
                    o[2]
                ),
                String::new(),
                Some(allowed(o[0]) && allowed(o[1]) && o[2] == 4),
            )
        }
    })
}

/// What Rust does on this machine for each probe (the CPU backend's own arithmetic).
fn cpu_probe(probe: &str) -> Found {
    use std::hint::black_box as opaque;
    match probe {
        "f16_overflow" => {
            let mut acc = f16::ZERO;
            for _ in 0..F16_ADDS.0 {
                acc = f16::from_f32(acc.to_f32() + opaque(F16_ADDS.1));
            }
            f16_overflow_words(acc.to_f32(), "half::f16, rounded after every add")
        }
        "tanh_large" => tanh_words(&TANH_X.map(|x| opaque(x).tanh())),
        "f32_subnormal" => {
            let tiny = opaque(f32::from_bits(1));
            let got = [
                (tiny * 2.0).to_bits(),
                (opaque(f32::MIN_POSITIVE) * 0.5).to_bits(),
                (tiny + 0.0).to_bits(),
            ];
            subnormal_words(&got, &F32_SUB_WANT, &F32_SUB_WHAT, "f32")
        }
        "f16_subnormal" => {
            let tiny = opaque(f16::from_bits(1));
            let back = |h: f16| h.to_f32().to_bits();
            let got = [
                back(f16::from_f32(tiny.to_f32() * 2.0)),
                back(f16::from_f32(opaque(f16::MIN_POSITIVE).to_f32() * 0.5)),
                back(tiny),
            ];
            subnormal_words(&got, &F16_SUB_WANT, &F16_SUB_WHAT, "half::f16")
        }
        "fma_fused" => {
            let (a, c) = (opaque(FMA_A), opaque(FMA_C));
            fma_words(a.mul_add(a, c), a * a + c)
        }
        "signed_int" => {
            let v = SIGNED_IN.map(opaque);
            // Rust's wrapping operations, with WGSL's x / 0 = x and x % 0 = 0 where Rust panics.
            let got = [
                v[0] % v[1],
                v[0] / v[2],
                v[3] >> v[4],
                v[3].wrapping_shr(v[5] as u32),
                v[6].wrapping_div(v[7]),
                v[6].wrapping_rem(v[7]),
                v[8].checked_div(v[9]).unwrap_or(v[8]),
                v[8].checked_rem(v[9]).unwrap_or(0),
            ];
            list_words(&SIGNED_OPS, &got, &SIGNED_WANT)
        }
        "dot4_extremes" => {
            let bytes = |w: u32| w.to_le_bytes();
            let i8dot = |a: u32, b: u32| -> i32 {
                bytes(a)
                    .iter()
                    .zip(bytes(b))
                    .map(|(&p, q)| i32::from(p as i8) * i32::from(q as i8))
                    .sum()
            };
            let u8dot = |a: u32, b: u32| -> i32 {
                bytes(a)
                    .iter()
                    .zip(bytes(b))
                    .map(|(&p, q)| i32::from(p) * i32::from(q))
                    .sum()
            };
            let d = DOT4_IN.map(opaque);
            let got = [
                i8dot(d[0], d[0]),
                i8dot(d[1], d[0]),
                i8dot(d[1], d[1]),
                u8dot(d[2], d[2]),
                i8dot(d[2], d[0]),
            ];
            list_words(&DOT4_NAMES, &got, &DOT4_WANT)
        }
        "subgroup_size" => (
            "not applicable: the CPU backend has no subgroups".into(),
            String::new(),
            None,
        ),
        "workgroup_zero_init" => (
            "not applicable: the CPU backend has no workgroup memory".into(),
            String::new(),
            None,
        ),
        _ => (
            "not applicable: the CPU backend checks every length (an Err, never a read)".into(),
            String::new(),
            None,
        ),
    }
}
