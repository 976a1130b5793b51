//! Power-of-two weights on every backend give the CPU kernels' bits: f32 x (per channel and per
//! group of K, with and without a zero code, bits 2–7) and i32 fixed-point x (arithmetic
//! shifts, floor, shifts past 31, wrapping sums), awkward shapes; bad input refused.

mod common;

use common::{all_contexts, Rng};
use lowbit::kernels::shift::{shift_matmul_f32, shift_matmul_i32, ShiftWeights};
use lowbit::ops::shift_matmul;
use lowbit::{ShiftMatrix, Tensor};

fn random(
    bits: u32,
    zero: bool,
    (n, k, group): (usize, usize, usize),
    rng: &mut Rng,
) -> ShiftWeights {
    let codes: Vec<u8> = (0..n * k)
        .map(|_| (rng.next_u64() % (1 << bits)) as u8)
        .collect();
    let scales: Vec<f32> = (0..n * (k / group)).map(|_| rng.unit() * 2.0).collect();
    ShiftWeights::from_codes(bits, zero, (n, k, group), &codes, &scales).unwrap()
}

#[test]
fn float_and_fixed_bits_match_the_cpu_on_every_backend() {
    let mut rng = Rng::new(31);
    let shapes = [
        (1, 1, 1),
        (17, 3, 3),
        (33, 257, 257),
        (5, 68, 4),
        (3, 64, 16),
    ];
    for (n, k, group) in shapes {
        for bits in [2u32, 4, 6, 7] {
            for zero in [false, true] {
                let w = random(bits, zero, (n, k, group), &mut rng);
                for m in [1usize, 3] {
                    // Normal values whose products stay normal (GPUs may flush subnormals).
                    let x: Vec<f32> = (0..m * k)
                        .map(|_| rng.unit() * 2f32.powi((rng.next_u64() % 20) as i32))
                        .collect();
                    let mut want = vec![0f32; m * n];
                    shift_matmul_f32(1, &w, &x, m, &mut want).unwrap();
                    let xi: Vec<i32> = (0..m * k).map(|_| (rng.next_u64() as i32) >> 8).collect();
                    let mut want_i = vec![0i32; m * n];
                    let per_channel = group == k;
                    if per_channel {
                        shift_matmul_i32(1, &w, &xi, m, &mut want_i).unwrap();
                    }
                    for ctx in all_contexts() {
                        let wm = ShiftMatrix::new(&ctx, &w).unwrap();
                        let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                        let y = shift_matmul(&ctx, &xt, &wm)
                            .unwrap()
                            .to_vec::<f32>()
                            .unwrap();
                        assert_eq!(
                            common::bits(&y),
                            common::bits(&want),
                            "{ctx:?} f32 b{bits} zero={zero} n{n} k{k} g{group} m{m}"
                        );
                        let xit = Tensor::from_slice(&ctx, &xi, &[m, k]).unwrap();
                        let yi = shift_matmul(&ctx, &xit, &wm);
                        if per_channel {
                            assert_eq!(
                                yi.unwrap().to_vec::<i32>().unwrap(),
                                want_i,
                                "{ctx:?} i32 b{bits} zero={zero} n{n} k{k} m{m}"
                            );
                        } else {
                            assert!(
                                yi.is_err(),
                                "fixed point with per-group scales must be refused"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn quantiser_and_bad_input() {
    let mut rng = Rng::new(3);
    let (n, k) = (4, 64);
    let w: Vec<f32> = (0..n * k).map(|_| rng.unit()).collect();
    let q = ShiftWeights::quantize(5, true, (n, k, 32), &w).unwrap();
    // Each non-zero weight is within a factor √2 of the source (nearest power of two in log
    // scale), sign kept; zeros only below half the smallest step.
    for (a, b) in w.iter().zip(q.dequantize()) {
        if b == 0.0 {
            continue;
        }
        assert_eq!(a.signum(), b.signum());
        let r = (a / b).abs();
        assert!(
            r <= 2f32.sqrt() * 1.0001 || a.abs() < 2f32.powi(-14),
            "{a} vs {b}"
        );
        assert!(r >= 1.0 / 2f32.sqrt() / 1.0001, "{a} vs {b}");
    }
    for ctx in all_contexts() {
        let wm = ShiftMatrix::new(&ctx, &q).unwrap();
        let bad = Tensor::from_slice(&ctx, &[0f32; 63], &[1, 63]).unwrap();
        assert!(shift_matmul(&ctx, &bad, &wm).is_err());
        let i8s = Tensor::from_slice(&ctx, &[0i8; 64], &[1, 64]).unwrap();
        assert!(shift_matmul(&ctx, &i8s, &wm).is_err());
    }
}
