//! Dense matmul: every dtype pair, every variant, every backend on this machine, awkward shapes,
//! against the f64 reference with the f32-accumulation bound.

mod common;

use common::*;
use lowbit::kernels::{reference, MatRef};
use lowbit::ops::matmul as mm;
use lowbit::{Context, DType, Error, Tensor};
use proptest::prelude::*;

const DTYPES: [DType; 3] = [DType::F32, DType::F16, DType::BF16];

/// (M, N, K): M <= 4 exercises the GEMV, larger M the GEMM; K odd, 1, not a multiple of 4 or
/// of a tile; N = 1 and N past a tile.
const SHAPES: &[(usize, usize, usize)] = &[
    (1, 1, 1),
    (1, 3, 17),
    (1, 17, 33),
    (2, 33, 257),
    (3, 257, 31),
    (4, 17, 4097),
    (1, 4097, 8),
    (2, 33, 264),
    (4, 5, 520),
    (5, 3, 17),
    (17, 33, 257),
    (33, 1, 64),
    (257, 65, 33),
];

fn to_ref_input(v: &[f32]) -> MatRef<'_> {
    MatRef::F32(v)
}

fn check_case(
    ctx: &Context,
    xd: DType,
    wd: DType,
    (m, n, k): (usize, usize, usize),
    variant: Option<mm::MatmulVariant>,
) {
    let seed = (m * 1_000_003 + n * 1009 + k) as u64;
    let (xv, x) = float_tensor(ctx, xd, &[m, k], seed);
    let (wv, w) = float_tensor(ctx, wd, &[n, k], seed ^ 0xABCD);
    let reference = reference::matmul(to_ref_input(&xv), to_ref_input(&wv), m, n, k).unwrap();
    let abs = reference::matmul_abs(to_ref_input(&xv), to_ref_input(&wv), m, n, k).unwrap();
    let y = mm::matmul_with(ctx, &x, &w, variant).unwrap();
    assert_eq!(y.shape(), &[m, n]);
    let got = y.to_vec::<f32>().unwrap();
    let what = format!(
        "{ctx:?} x {xd} w {wd} M={m} N={n} K={k} variant {}",
        variant.map_or("default".into(), |v| v.name())
    );
    check_within_bound(&what, &got, &reference, &abs, k);
}

#[test]
fn matmul_every_dtype_pair_every_variant_every_backend() {
    for ctx in all_contexts() {
        for xd in DTYPES {
            for wd in DTYPES {
                for &shape in SHAPES {
                    let (m, _, k) = shape;
                    for v in mm::variants(&ctx, xd, wd, m, k) {
                        check_case(&ctx, xd, wd, shape, Some(v));
                    }
                }
            }
        }
    }
}

/// Every f16 bit pattern as a weight, through every variant that reads f16 (each way of opening
/// halves: native, `unpack2x16float`, integer operations) on every backend: row r holds pattern
/// r eight times and x (f16, read the same way) is 1/8, so y[r] is the pattern's value exactly
/// (eighths of one value sum exactly), ±∞ for ±∞ and NaN for NaN. A real GPU may flush
/// subnormals to zero; the CPU and CPU-type adapters may not.
#[test]
fn every_f16_pattern_is_opened_exactly() {
    let (n, k) = (1usize << 16, 8usize);
    let w: Vec<half::f16> = (0..n)
        .flat_map(|r| std::iter::repeat_n(half::f16::from_bits(r as u16), k))
        .collect();
    let x = vec![half::f16::from_f32(0.125); k];
    for ctx in all_contexts() {
        let strict = !ctx.is_gpu() || ctx.caps().cpu_device;
        let wt = Tensor::from_slice(&ctx, &w, &[n, k]).unwrap();
        let xt = Tensor::from_slice(&ctx, &x, &[1, k]).unwrap();
        for v in mm::variants(&ctx, DType::F16, DType::F16, 1, k) {
            let y = mm::matmul_with(&ctx, &xt, &wt, Some(v))
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            for (r, &got) in y.iter().enumerate() {
                let want = half::f16::from_bits(r as u16).to_f32();
                let flushed =
                    !strict && want.abs() < half::f16::MIN_POSITIVE.to_f32() && got == 0.0;
                assert!(
                    (want.is_nan() && got.is_nan()) || got == want || flushed,
                    "{ctx:?} {}: pattern {r:#06x} gave {got:e}, want {want:e}",
                    v.name()
                );
            }
        }
    }
}

#[test]
fn default_variant_is_gemv_for_decode_and_gemm_for_prefill() {
    for ctx in gpu_contexts() {
        assert_eq!(
            mm::variants(&ctx, DType::F16, DType::F16, 1, 4096)[0].kernel,
            mm::MatmulKernel::Gemv
        );
        assert_eq!(
            mm::variants(&ctx, DType::F16, DType::F16, 5, 4096)[0].kernel,
            mm::MatmulKernel::Gemm
        );
    }
}

#[test]
fn w_larger_than_a_binding_is_split_and_still_exact_to_the_bound() {
    // A device limited to 4 KiB bindings makes W (odd K, f16 rows not 4-byte aligned) span many
    // bindings whose first rows sit at unaligned element offsets.
    for base in gpu_contexts() {
        let idx = lowbit::list_adapters()
            .into_iter()
            .find(|a| {
                a.info.name == base.info().name
                    && lowbit::backend_name(a.info.backend) == base.info().backend
            })
            .unwrap()
            .index;
        let ctx = Context::with_adapter_limits(&idx.to_string(), Some(4096)).unwrap();
        for (xd, wd) in [
            (DType::F32, DType::F16),
            (DType::F16, DType::F32),
            (DType::BF16, DType::BF16),
        ] {
            // x and y stay under 4 KiB; W spans 2 to 5 bindings.
            for &(m, n, k) in &[(1, 300, 33), (3, 129, 64), (6, 150, 31)] {
                check_case(&ctx, xd, wd, (m, n, k), None);
            }
        }
    }
}

#[test]
fn matmul_into_writes_an_engine_buffer() {
    for ctx in gpu_contexts() {
        let (m, n, k) = (2, 5, 12);
        let (xv, x) = float_tensor(&ctx, DType::F32, &[m, k], 1);
        let (wv, w) = float_tensor(&ctx, DType::F16, &[n, k], 2);
        let (device, _) = ctx.wgpu().unwrap();
        let y = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("engine y"),
            size: 512,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let yv = lowbit::TensorView::from_buffer(&y, 256, DType::F32, &[m, n]).unwrap();
        mm::matmul_into(&ctx, &x, &w, yv).unwrap();
        let got: Vec<f32> =
            bytemuck::pod_collect_to_vec(&ctx.read_buffer(&y, 256, (m * n * 4) as u64).unwrap());
        let r = reference::matmul(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
        let a = reference::matmul_abs(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
        check_within_bound("matmul_into", &got, &r, &a, k);
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for ctx in all_contexts() {
        let x = Tensor::from_slice(&ctx, &[1.0f32; 6], &[2, 3]).unwrap();
        let w = Tensor::from_slice(&ctx, &[1.0f32; 8], &[2, 4]).unwrap();
        assert!(
            matches!(mm::matmul(&ctx, &x, &w), Err(Error::Shape(_))),
            "mismatched K"
        );
        assert!(
            matches!(
                Tensor::from_slice(&ctx, &[1.0f32; 5], &[2, 3]),
                Err(Error::Shape(_))
            ),
            "wrong length"
        );
        assert!(
            matches!(
                Tensor::from_slice(&ctx, &[1.0f32; 0], &[0, 3]),
                Err(Error::Shape(_))
            ),
            "empty"
        );
        let xi = Tensor::from_slice(&ctx, &[1i8; 6], &[2, 3]).unwrap();
        assert!(
            matches!(mm::matmul(&ctx, &xi, &x), Err(Error::DType { .. })),
            "i8 into float matmul"
        );
        let v = Tensor::from_slice(&ctx, &[1.0f32; 6], &[6]).unwrap();
        assert!(
            matches!(mm::matmul(&ctx, &v, &x), Err(Error::Shape(_))),
            "1-D x"
        );
        assert!(x.to_vec::<i32>().is_err(), "to_vec with the wrong type");
    }
    let cpu = Context::cpu();
    for gpu in gpu_contexts() {
        let x = Tensor::from_slice(&cpu, &[1.0f32; 6], &[2, 3]).unwrap();
        let w = Tensor::from_slice(&gpu, &[1.0f32; 6], &[2, 3]).unwrap();
        assert!(matches!(
            mm::matmul(&gpu, &x, &w),
            Err(Error::ContextMismatch(_))
        ));
        assert!(matches!(
            mm::matmul(&cpu, &x, &w),
            Err(Error::ContextMismatch(_))
        ));
    }
}

#[test]
fn shapes_over_the_device_limits_are_refused() {
    for ctx in gpu_contexts() {
        let limits = ctx.limits().unwrap();
        let too_many = (limits.max_buffer_size / 4 + 1) as usize;
        assert!(matches!(
            Tensor::zeros(&ctx, DType::F32, &[1, too_many]),
            Err(Error::DeviceLimit(_))
        ));
        // One W row larger than a binding cannot be split by rows.
        let small = Context::with_adapter_limits(&ctx_index(&ctx), Some(1024)).unwrap();
        let x = Tensor::zeros(&small, DType::F32, &[1, 300]).unwrap();
        let w = Tensor::zeros(&small, DType::F32, &[2, 300]).unwrap();
        assert!(matches!(
            mm::matmul(&small, &x, &w),
            Err(Error::DeviceLimit(_))
        ));
    }
}

fn ctx_index(ctx: &Context) -> String {
    let info = ctx.info();
    lowbit::list_adapters()
        .into_iter()
        .find(|a| a.info.name == info.name && lowbit::backend_name(a.info.backend) == info.backend)
        .unwrap()
        .index
        .to_string()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn random_shapes_match_the_reference(m in 1usize..40, n in 1usize..70, k in 1usize..300, xi in 0usize..3, wi in 0usize..3) {
        let ctx = gpu_contexts().into_iter().next().unwrap_or_else(Context::cpu);
        check_case(&ctx, DTYPES[xi], DTYPES[wi], (m, n, k), None);
        check_case(&Context::cpu(), DTYPES[xi], DTYPES[wi], (m, n, k), None);
    }
}

#[test]
fn long_k_is_within_the_bound_on_every_backend() {
    // llvmpipe silently ends an invocation after 65535 loop back-edges; K = 70001 makes the tiled
    // GEMM's K loop cross that unless it is sliced. The GEMV is checked at the same K.
    for ctx in all_contexts() {
        for &(m, n, k) in &[(5, 3, 70_001), (1, 3, 70_001)] {
            check_case(&ctx, DType::F32, DType::F16, (m, n, k), None);
        }
    }
}

#[test]
fn loop_limited_drivers_never_get_a_gemv_longer_than_its_loop_limit() {
    for ctx in gpu_contexts() {
        let k = mm::LOOP_LIMITED_GEMV_MAX_K + 1;
        let vs = mm::variants(&ctx, DType::F32, DType::F32, 1, k);
        assert!(!vs.is_empty());
        if ctx.caps().loop_limited {
            assert!(
                vs.iter().all(|v| v.kernel == mm::MatmulKernel::Gemm),
                "{ctx:?}"
            );
        }
    }
}
