//! Shared test helpers: every backend on this machine, seeded data, error bounds.
#![allow(dead_code)]

pub mod quant_bounds;

use half::{bf16, f16};
use lowbit::{Context, CpuConfig, DType, Tensor};

/// The bit patterns of `v`, for bit-exact comparisons whose failure lists the differing values.
pub fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|f| f.to_bits()).collect()
}

/// Set (as CI does) to make a missing GPU adapter a failure instead of a CPU-only run.
pub const REQUIRE_GPU_ENV: &str = "LOWBIT_REQUIRE_GPU";

/// Every GPU adapter plus the CPU backend at every SIMD level this machine can run.
pub fn all_contexts() -> Vec<Context> {
    let mut out = gpu_contexts();
    for level in lowbit::kernels::simd::machine_levels() {
        out.push(Context::cpu_with(CpuConfig { level, threads: 2 }));
    }
    out
}

/// Every GPU adapter; fails the test when `LOWBIT_REQUIRE_GPU` is set and there is none.
pub fn gpu_contexts() -> Vec<Context> {
    static GPUS: std::sync::OnceLock<Vec<Context>> = std::sync::OnceLock::new();
    let gpus = GPUS
        .get_or_init(|| {
            Context::all_gpus()
                .into_iter()
                .map(|c| c.expect("an adapter that wgpu lists must open"))
                .collect()
        })
        .clone();
    if gpus.is_empty() && std::env::var_os(REQUIRE_GPU_ENV).is_some() {
        panic!(
            "{REQUIRE_GPU_ENV} is set but no GPU adapter was found (install mesa-vulkan-drivers)"
        );
    }
    gpus
}

/// SplitMix64: small, seeded, identical on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    pub fn unit(&mut self) -> f32 {
        ((self.next_u64() >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
    pub fn i8(&mut self) -> i8 {
        self.next_u64() as i8
    }
}

/// Seeded values of `dtype` as f32 (already rounded to the dtype), and the tensor holding them.
pub fn float_tensor(ctx: &Context, dtype: DType, shape: &[usize], seed: u64) -> (Vec<f32>, Tensor) {
    let len: usize = shape.iter().product();
    let mut rng = Rng::new(seed);
    let raw: Vec<f32> = (0..len).map(|_| rng.unit()).collect();
    match dtype {
        DType::F32 => (raw.clone(), Tensor::from_slice(ctx, &raw, shape).unwrap()),
        DType::F16 => {
            let h: Vec<f16> = raw.iter().map(|&v| f16::from_f32(v)).collect();
            (
                h.iter().map(|v| v.to_f32()).collect(),
                Tensor::from_slice(ctx, &h, shape).unwrap(),
            )
        }
        DType::BF16 => {
            let h: Vec<bf16> = raw.iter().map(|&v| bf16::from_f32(v)).collect();
            (
                h.iter().map(|v| v.to_f32()).collect(),
                Tensor::from_slice(ctx, &h, shape).unwrap(),
            )
        }
        d => panic!("not a float dtype: {d}"),
    }
}

/// Unit round-off of f32 accumulation: every lowbit float kernel accumulates in f32 on inputs
/// that are exactly representable (f16/bf16 widen exactly), so this is the only rounding.
pub const U_F32: f64 = 1.0 / (1u64 << 24) as f64;

/// The bound `(K+1)·u·Σ|x·w| + u·|y|` for one output.
pub fn bound(k: usize, abs_sum: f64, y_ref: f64) -> f64 {
    (k as f64 + 1.0) * U_F32 * abs_sum + U_F32 * y_ref.abs()
}

/// Checks `got` against the f64 reference within the bound; returns (max error, its bound).
pub fn check_within_bound(
    what: &str,
    got: &[f32],
    reference: &[f64],
    abs: &[f64],
    k: usize,
) -> (f64, f64) {
    assert_eq!(got.len(), reference.len(), "{what}: length");
    let mut worst = (0.0f64, 0.0f64);
    for i in 0..got.len() {
        let err = (got[i] as f64 - reference[i]).abs();
        let b = bound(k, abs[i], reference[i]);
        assert!(
            err <= b,
            "{what}: index {i}: got {} expected {} error {err:e} > bound {b:e}",
            got[i],
            reference[i]
        );
        if err > worst.0 {
            worst = (err, b);
        }
    }
    worst
}

/// A file path in this test process's own temporary folder `lowbit-<what>-<pid>`.
pub fn tmp_file(what: &str, name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("lowbit-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the `lowbit` binary: (it exited successfully, its stdout then stderr).
pub fn lowbit_cli(args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lowbit"))
        .args(args)
        .output()
        .expect("run lowbit");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}
