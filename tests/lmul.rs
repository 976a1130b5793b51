//! L-Mul on every backend gives the CPU kernels' bits: element-wise over special values (zeros,
//! subnormals, infinities, NaN, overflow, underflow, rounding carries) and seeded values, and
//! the GEMV (fixed order of f32 adds) over awkward shapes, for m = 1, 2, 3, 4, 7, 23; bad
//! input refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::lmul::{lmul_bits, lmul_gemv};
use lowbit::ops::{lmul_elementwise, lmul_matmul};
use lowbit::Tensor;

const MBITS: [u32; 6] = [1, 2, 3, 4, 7, 23];

fn specials() -> Vec<f32> {
    vec![
        0.0,
        -0.0,
        1e-40,
        -1e-45,
        f32::MIN_POSITIVE,
        1.0,
        -1.5,
        1.9999999,
        f32::MAX,
        -f32::MAX,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e30,
        1e-30,
        3.0e38,
        -2.5e-38,
        // Products at the edges of the normal range (√min_normal ≈ 1.08e-19,
        // √max ≈ 1.84e19): underflow to ±0 or not, overflow to ±∞ or not.
        1.0e-19,
        1.1e-19,
        -1.2e-19,
        1.8e19,
        -1.9e19,
    ]
}

#[test]
fn elementwise_bits_match_the_cpu_on_every_backend() {
    let s = specials();
    let mut rng = Rng::new(5);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for &p in &s {
        for &q in &s {
            a.push(p);
            b.push(q);
        }
    }
    for _ in 0..1000 {
        let e = |r: &mut Rng| 2f32.powi((r.next_u64() % 60) as i32 - 30);
        a.push(rng.unit() * e(&mut rng));
        b.push(rng.unit() * e(&mut rng));
    }
    for ctx in all_contexts() {
        let at = Tensor::from_slice(&ctx, &a, &[a.len()]).unwrap();
        let bt = Tensor::from_slice(&ctx, &b, &[b.len()]).unwrap();
        for m in MBITS {
            let y = lmul_elementwise(&ctx, &at, &bt, m)
                .unwrap()
                .to_vec::<f32>()
                .unwrap();
            for (i, v) in y.iter().enumerate() {
                let want = lmul_bits(a[i].to_bits(), b[i].to_bits(), m);
                assert_eq!(
                    v.to_bits(),
                    want,
                    "{ctx:?} m={m}: lmul({:e}, {:e})",
                    a[i],
                    b[i]
                );
            }
        }
    }
}

#[test]
fn gemv_bits_match_the_cpu_on_every_backend() {
    let mut rng = Rng::new(9);
    for (m, n, k) in [
        (1, 1, 1),
        (1, 17, 3),
        (3, 33, 257),
        (2, 5, 4097),
        (4, 257, 68),
    ] {
        let x: Vec<f32> = (0..m * k).map(|_| rng.unit() * 4.0).collect();
        let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
        for mb in MBITS {
            let mut want = vec![0f32; m * n];
            lmul_gemv(
                lowbit::SimdLevel::Scalar,
                1,
                &x,
                &w,
                (m, n, k),
                mb,
                &mut want,
            )
            .unwrap();
            for ctx in all_contexts() {
                let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                let wt = Tensor::from_slice(&ctx, &w, &[n, k]).unwrap();
                let y = lmul_matmul(&ctx, &xt, &wt, mb)
                    .unwrap()
                    .to_vec::<f32>()
                    .unwrap();
                assert_eq!(
                    common::bits(&y),
                    common::bits(&want),
                    "{ctx:?} m={m} n={n} k={k} mbits={mb}"
                );
            }
        }
    }
}

#[test]
fn bad_input_is_an_error() {
    for ctx in all_contexts() {
        let x = Tensor::from_slice(&ctx, &[1f32; 8], &[2, 4]).unwrap();
        let w = Tensor::from_slice(&ctx, &[1f32; 12], &[3, 4]).unwrap();
        let w5 = Tensor::from_slice(&ctx, &[1f32; 10], &[2, 5]).unwrap();
        let wi = Tensor::from_slice(&ctx, &[1i32; 12], &[3, 4]).unwrap();
        assert!(lmul_matmul(&ctx, &x, &w, 3).is_ok());
        assert!(lmul_matmul(&ctx, &x, &w, 0).is_err());
        assert!(lmul_matmul(&ctx, &x, &w, 24).is_err());
        assert!(lmul_matmul(&ctx, &x, &w5, 3).is_err());
        assert!(lmul_matmul(&ctx, &x, &wi, 3).is_err());
        assert!(lmul_elementwise(&ctx, &x, &w, 3).is_err());
    }
}
