//! Grids folded into two dimensions: on a device whose `max_compute_workgroups_per_dimension`
//! is 8 (an engine's device may be made with any limits, and `Context::from_wgpu` takes it as
//! it is), small shapes need more workgroups than one dimension holds, so every kernel's
//! `wid.x + wid.y · groups_x` row index is exercised, against the references; a grid past
//! 8 × 8 is refused with an error that says so.

mod common;

use common::quant_bounds::{check, check_int8};
use lowbit::kernels::formats::{dequantize_row, quantize_row, QuantType};
use lowbit::kernels::quant_matmul::offset_parts;
use lowbit::kernels::reference;
use lowbit::kernels::ternary::{absmax_int8, ternary_matmul_i8, TernaryWeights, TritPacking};
use lowbit::kernels::MatRef;
use lowbit::ops::{matmul, matmul_i8, quant_matmul_with, ternary_matmul, QuantPath};
use lowbit::{Context, QuantMatrix, Tensor, TernaryMatrix};

const CAP: u32 = 8;

/// A context on every GPU adapter whose device allows `CAP` workgroups per dimension.
fn capped_contexts() -> Vec<Context> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    let mut out = Vec::new();
    for a in adapters
        .into_iter()
        .filter(|a| a.get_info().backend != wgpu::Backend::Noop)
    {
        let mut limits = a.limits();
        limits.max_compute_workgroups_per_dimension = CAP;
        let desc = wgpu::DeviceDescriptor {
            label: Some("capped grid"),
            required_features: a.features(),
            required_limits: limits,
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(a.request_device(&desc)).unwrap();
        out.push(Context::from_wgpu(&a, device, queue));
    }
    assert!(
        !out.is_empty() || std::env::var_os("LOWBIT_REQUIRE_GPU").is_none(),
        "LOWBIT_REQUIRE_GPU is set but no GPU adapter was found"
    );
    out
}

fn values(len: usize, seed: usize) -> Vec<f32> {
    (0..len)
        .map(|i| ((i * 2654435761 + seed * 97) % 1999) as f32 / 1000.0 - 1.0)
        .collect()
}

#[test]
fn dense_matmul_on_a_folded_grid() {
    for ctx in capped_contexts() {
        // GEMV: 300 rows (more than 8 workgroups of any GEMV shape); GEMM: 70 × 300.
        for (m, n, k) in [(1, 300, 40), (3, 300, 17), (70, 300, 33)] {
            let (xv, wv) = (values(m * k, 1), values(n * k, 2));
            let x = Tensor::from_slice(&ctx, &xv, &[m, k]).unwrap();
            let w = Tensor::from_slice(&ctx, &wv, &[n, k]).unwrap();
            let y = matmul(&ctx, &x, &w).unwrap().to_vec::<f32>().unwrap();
            let exact = reference::matmul(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
            let mag = reference::matmul_abs(MatRef::F32(&xv), MatRef::F32(&wv), m, n, k).unwrap();
            let what = format!("{} dense {m}x{n}x{k}", ctx.info().name);
            common::check_within_bound(&what, &y, &exact, &mag, k);
        }
        // 8 × 8 workgroups at most: a GEMV of 70 000 rows does not fit, and says so.
        let (n, k) = (70_000, 4);
        let x = Tensor::from_slice(&ctx, &[1f32; 4], &[1, k]).unwrap();
        let w = Tensor::from_slice(&ctx, &vec![1f32; n * k], &[n, k]).unwrap();
        let e = matmul(&ctx, &x, &w).unwrap_err().to_string();
        assert!(e.contains("workgroups"), "{e}");
    }
}

#[test]
fn quantized_and_integer_ops_on_a_folded_grid() {
    let (n, k) = (300, 64);
    let ty = QuantType::Q4_0;
    let row = ty.row_bytes(k).unwrap();
    let wf = values(n * k, 3);
    let mut bytes = vec![0u8; n * row];
    let mut deq = vec![0f32; n * k];
    for r in 0..n {
        quantize_row(ty, &wf[r * k..][..k], &mut bytes[r * row..][..row]).unwrap();
        dequantize_row(ty, &bytes[r * row..][..row], &mut deq[r * k..][..k]).unwrap();
    }
    let offs = offset_parts(ty, &bytes, k).unwrap().unwrap();
    for ctx in capped_contexts() {
        let q = QuantMatrix::from_bytes(&ctx, ty, n, k, &bytes).unwrap();
        for m in [1, 4, 70] {
            let xv = values(m * k, 4);
            let x = Tensor::from_slice(&ctx, &xv, &[m, k]).unwrap();
            for path in [QuantPath::Exact, QuantPath::Int8] {
                let y = quant_matmul_with(&ctx, &x, &q, path)
                    .unwrap()
                    .to_vec::<f32>()
                    .unwrap();
                // tests/quant_matmul.rs's bounds (the int8 route's with x's quantisation and
                // Q4_0's offset −8·d summed apart).
                let e = match path {
                    QuantPath::Exact => check(&y, &deq, &xv, m, n, k),
                    QuantPath::Int8 => check_int8(&y, &deq, &offs, &xv, (m, n, k)),
                };
                assert!(
                    e <= 1.0,
                    "{} Q4_0 {path:?} M={m}: {e} of the bound",
                    ctx.info().name
                );
            }
        }
        // int8 × int8: exact.
        let (m, n8, k8) = (2, 100, 20);
        let (xi, wi): (Vec<i8>, Vec<i8>) = (
            (0..m * k8).map(|i| (i * 37 % 255) as i8).collect(),
            (0..n8 * k8).map(|i| (i * 91 % 255) as i8).collect(),
        );
        let x = Tensor::from_slice(&ctx, &xi, &[m, k8]).unwrap();
        let w = Tensor::from_slice(&ctx, &wi, &[n8, k8]).unwrap();
        let y = matmul_i8(&ctx, &x, &w).unwrap().to_vec::<i32>().unwrap();
        assert_eq!(y, reference::matmul_i8(&xi, &wi, m, n8, k8).unwrap());
        // Ternary, int8 x: the CPU's bits; 64 rows a workgroup on CPU-type adapters, 8
        // elsewhere.
        let (nt, kt) = (if ctx.caps().cpu_device { 600 } else { 300 }, 256);
        let trits: Vec<i8> = (0..nt * kt).map(|i| (i * 7 % 3) as i8 - 1).collect();
        let tw =
            TernaryWeights::from_trits(TritPacking::Bits2, (1, nt, kt, kt), &trits, &vec![0.5; nt])
                .unwrap();
        let (q8, s) = absmax_int8(&values(kt, 5));
        let mut want = vec![0f32; nt];
        ternary_matmul_i8(1, &tw, &q8, &[1.0 / s], None, &mut want).unwrap();
        let wm = TernaryMatrix::new(&ctx, &tw).unwrap();
        let x = Tensor::from_slice(&ctx, &q8, &[1, kt]).unwrap();
        let xs = Tensor::from_slice(&ctx, &[1.0 / s], &[1]).unwrap();
        let y = ternary_matmul(&ctx, &x, Some((&xs).into()), &wm, None)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert_eq!(common::bits(&y), common::bits(&want), "{}", ctx.info().name);
    }
}
