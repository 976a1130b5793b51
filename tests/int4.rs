//! AWQ and GPTQ int4 weights: packed here from their published layouts (independently of the
//! converters), converted to lowbit's I4G layouts, and run on every backend: the decode must
//! equal `s·(q − z)` exactly and the matmul stay within the f32 bound (exact path) or the int8
//! bound (x quantised per 32), act-order included.

mod common;

use half::f16;
use lowbit::ops::{dequantize, quant_matmul_with, QuantPath};
use lowbit::safetensors::{Dtype, SafetensorsFile};
use lowbit::{Int4Checkpoint, QuantMatrix, Tensor};
use lowbit_kernels::formats::int4::{from_awq, from_gptq, Int4Weights, AWQ_ORDER};
use lowbit_kernels::quant_matmul::int8_error_bound;
use safetensors::tensor::TensorView;

struct Source {
    n: usize,
    k: usize,
    group: usize,
    q: Vec<u8>,       // [n][k], 0..15
    z: Vec<u8>,       // [groups][n], the real zero point 0..15
    s: Vec<f16>,      // [groups][n]
    g_of: Vec<usize>, // group of each input feature
}

fn source(n: usize, k: usize, group: usize, act_order: bool, seed: u64) -> Source {
    let mut st = seed;
    let mut next = move || {
        st = st
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (st >> 33) as u32
    };
    let groups = k / group;
    let q = (0..n * k).map(|_| (next() % 16) as u8).collect();
    // 1..=15: GPTQ v1 stores zero − 1 in 4 bits, so a zero of 0 has no v1 encoding.
    let z = (0..groups * n).map(|_| (1 + next() % 15) as u8).collect();
    let s = (0..groups * n)
        .map(|_| f16::from_f32((next() % 1000) as f32 * 1e-5 + 1e-4))
        .collect();
    let mut g_of: Vec<usize> = (0..k).map(|c| c / group).collect();
    if act_order {
        // A fixed shuffle of the group assignment (each group keeps `group` members).
        for i in (1..k).rev() {
            let j = next() as usize % (i + 1);
            g_of.swap(i, j);
        }
    }
    Source {
        n,
        k,
        group,
        q,
        z,
        s,
        g_of,
    }
}

impl Source {
    /// The zero point's part of a weight, `−s·z`.
    fn offset(&self, row: usize, col: usize) -> f32 {
        let g = self.g_of[col];
        -self.s[g * self.n + row].to_f32() * f32::from(self.z[g * self.n + row])
    }

    fn w(&self, row: usize, col: usize) -> f32 {
        let g = self.g_of[col];
        let s = self.s[g * self.n + row].to_f32();
        s * (f32::from(self.q[row * self.k + col]) - f32::from(self.z[g * self.n + row]))
    }

    /// GPTQ tensors `(qweight, qzeros, g_idx)`: qweight [k/8, n] packed along K, qzeros
    /// [groups, n/8] along N.
    fn gptq_tensors(&self, v1: bool) -> (Vec<i32>, Vec<i32>, Vec<i32>) {
        let (n, k) = (self.n, self.k);
        let mut qweight = vec![0i32; k / 8 * n];
        for col in 0..k {
            for row in 0..n {
                qweight[(col / 8) * n + row] |= i32::from(self.q[row * k + col]) << (4 * (col % 8));
            }
        }
        let groups = k / self.group;
        let mut qzeros = vec![0i32; groups * n / 8];
        for g in 0..groups {
            for row in 0..n {
                let stored = if v1 {
                    self.z[g * n + row] - 1
                } else {
                    self.z[g * n + row]
                };
                qzeros[g * (n / 8) + row / 8] |= i32::from(stored) << (4 * (row % 8));
            }
        }
        let g_idx: Vec<i32> = self.g_of.iter().map(|&g| g as i32).collect();
        (qweight, qzeros, g_idx)
    }

    fn gptq(&self, v1: bool) -> Int4Weights {
        let (qweight, qzeros, g_idx) = self.gptq_tensors(v1);
        let (n, k, g) = (self.n, self.k, self.group);
        from_gptq(&qweight, &qzeros, &self.s, Some(&g_idx), n, k, g, v1).unwrap()
    }

    /// AWQ tensors `(qweight, qzeros)`: qweight [k, n/8] packed along N in AWQ_ORDER, qzeros
    /// likewise.
    fn awq_tensors(&self) -> (Vec<i32>, Vec<i32>) {
        let (n, k) = (self.n, self.k);
        let pack = |vals: &dyn Fn(usize) -> u8| -> i32 {
            let mut word = 0u32;
            for (nibble, &col) in AWQ_ORDER.iter().enumerate() {
                word |= u32::from(vals(col)) << (4 * nibble);
            }
            word as i32
        };
        let mut qweight = vec![0i32; k * n / 8];
        for col in 0..k {
            for c in 0..n / 8 {
                qweight[col * (n / 8) + c] = pack(&|j| self.q[(8 * c + j) * k + col]);
            }
        }
        let groups = k / self.group;
        let mut qzeros = vec![0i32; groups * n / 8];
        for g in 0..groups {
            for c in 0..n / 8 {
                qzeros[g * (n / 8) + c] = pack(&|j| self.z[g * n + 8 * c + j]);
            }
        }
        (qweight, qzeros)
    }

    fn awq(&self) -> Int4Weights {
        let (qweight, qzeros) = self.awq_tensors();
        from_awq(&qweight, &qzeros, &self.s, self.n, self.k, self.group).unwrap()
    }
}

#[test]
fn awq_and_gptq_decode_exactly_and_multiply_within_the_bound() {
    let u = 1.0 / (1u64 << 24) as f64;
    for ctx in common::all_contexts() {
        for (group, k, act) in [
            (32, 96, false),
            (64, 256, true),
            (128, 384, true),
            (128, 128, false),
        ] {
            let n = 24;
            let src = source(n, k, group, act, group as u64 + k as u64);
            let (m, x): (usize, Vec<f32>) = (
                3,
                (0..3 * k)
                    .map(|i| ((i * 31) % 23) as f32 / 23.0 - 0.4)
                    .collect(),
            );
            let weights = [
                ("awq", (!act).then(|| src.awq())),
                ("gptq v1", Some(src.gptq(true))),
                ("gptq v2", Some(src.gptq(false))),
            ];
            for (label, w) in weights {
                let Some(w) = w else { continue };
                assert_eq!(w.perm.is_some(), act && label != "awq", "{label}");
                let qm = QuantMatrix::from_int4(&ctx, &w).unwrap();
                let deq = dequantize(&qm).unwrap().to_vec::<f32>().unwrap();
                for row in 0..n {
                    for col in 0..k {
                        assert_eq!(
                            deq[row * k + col].to_bits(),
                            src.w(row, col).to_bits(),
                            "{label} G{group} ({row},{col})"
                        );
                    }
                }
                let xt = Tensor::from_slice(&ctx, &x, &[m, k]).unwrap();
                let xh: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
                let xht = Tensor::from_slice(&ctx, &xh, &[m, k]).unwrap();
                // Both paths: the exact one within the f32 bound, the int8 one (x quantised per
                // 32) within what quantising x may add as well.
                for path in [QuantPath::Exact, QuantPath::Int8] {
                    let run = |x: &Tensor| {
                        let y = quant_matmul_with(&ctx, x, &qm, path).unwrap();
                        y.to_vec::<f32>().unwrap()
                    };
                    let xhf: Vec<f32> = xh.iter().map(|v| v.to_f32()).collect();
                    for (ys, xs) in [(run(&xt), &x), (run(&xht), &xhf)] {
                        for t in 0..m {
                            let xr = &xs[t * k..(t + 1) * k];
                            for row in 0..n {
                                let wr: Vec<f32> = (0..k).map(|col| src.w(row, col)).collect();
                                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                                for (col, (&a, &b)) in wr.iter().zip(xr).enumerate() {
                                    let p = f64::from(a) * f64::from(b);
                                    exact += p;
                                    // The int8 kernels meet the zero point apart: |w| + 2|s·z|.
                                    let parts = match path {
                                        QuantPath::Int8 => {
                                            a.abs() + 2.0 * src.offset(row, col).abs()
                                        }
                                        QuantPath::Exact => 0.0,
                                    };
                                    mag += p.abs().max(f64::from(parts) * f64::from(b.abs()));
                                }
                                let r = match path {
                                    QuantPath::Int8 => int8_error_bound(&wr, xr),
                                    QuantPath::Exact => 0.0,
                                };
                                let bound = r + (k as f64 + 2.0) * u * (mag + r) + u * exact.abs();
                                let got = f64::from(ys[t * n + row]);
                                assert!(
                                    (got - exact).abs() <= bound,
                                    "{} {label} G{group} {path:?}: {got} vs {exact}",
                                    ctx.info().name
                                );
                            }
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn bad_int4_tensors_are_errors() {
    let s = [f16::ONE; 4 * 8];
    assert!(from_awq(&[0; 32 * 8 / 8], &[0; 8 / 8], &s[..8], 8, 32, 48).is_err());
    assert!(from_awq(&[0; 3], &[0; 1], &s[..8], 8, 32, 32).is_err());
    // g_idx naming a group that does not exist, and groups of unequal size.
    let bad = [5i32; 32];
    assert!(from_gptq(&[0; 4 * 8], &[0; 1], &s[..8], Some(&bad), 8, 32, 32, true).is_err());
    let mut uneven: Vec<i32> = (0..64).map(|c| c / 32).collect();
    uneven[0] = 1;
    assert!(from_gptq(
        &[0; 8 * 8],
        &[0; 2],
        &s[..16],
        Some(&uneven),
        8,
        64,
        32,
        true
    )
    .is_err());
}

/// A safetensors entry: name, dtype, shape, little-endian bytes.
type Entry = (String, Dtype, Vec<usize>, Vec<u8>);

/// A safetensors image of `entries`.
fn safetensors_image(tensors: &[Entry]) -> Vec<u8> {
    let views = tensors.iter().map(|(name, dtype, shape, bytes)| {
        (
            name.clone(),
            TensorView::new(*dtype, shape.clone(), bytes).unwrap(),
        )
    });
    safetensors::serialize(views, None).unwrap()
}

fn le_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn safetensors_layers_load_like_their_tensors() {
    // N = 24, K = 256, G = 64: one AWQ layer, one GPTQ v1 act-order layer, one GPTQ v2 without
    // g_idx, in one file; each must decode to exactly what from_int4 makes of the same tensors.
    let (n, k, group) = (24, 256, 64);
    let plain = source(n, k, group, false, 7);
    let act = source(n, k, group, true, 8);
    let groups = k / group;
    let scales = |s: &Source| {
        s.s.iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>()
    };
    // A layer's qweight (its convention's shape), qzeros and scales.
    let mut entries = Vec::new();
    let mut layer = |name: &str, w_shape: Vec<usize>, w: &[i32], z: &[i32], s: &Source| {
        entries.push((format!("{name}.qweight"), Dtype::I32, w_shape, le_i32(w)));
        entries.push((
            format!("{name}.qzeros"),
            Dtype::I32,
            vec![groups, n / 8],
            le_i32(z),
        ));
        entries.push((
            format!("{name}.scales"),
            Dtype::F16,
            vec![groups, n],
            scales(s),
        ));
    };
    let (aw, az) = plain.awq_tensors();
    layer("awq", vec![k, n / 8], &aw, &az, &plain);
    let (gw, gz, gi) = act.gptq_tensors(true);
    layer("g1", vec![k / 8, n], &gw, &gz, &act);
    let (vw, vz, _) = plain.gptq_tensors(false);
    layer("g2", vec![k / 8, n], &vw, &vz, &plain);
    entries.push(("g1.g_idx".into(), Dtype::I32, vec![k], le_i32(&gi)));
    let path = common::tmp_file("safetensors", "int4.safetensors");
    std::fs::write(&path, safetensors_image(&entries)).unwrap();
    let file = SafetensorsFile::open(&path).unwrap();
    for ctx in common::all_contexts() {
        let layers = [
            ("awq", Int4Checkpoint::Awq, &plain, plain.awq()),
            ("g1", Int4Checkpoint::Gptq, &act, act.gptq(true)),
            ("g2", Int4Checkpoint::GptqV2, &plain, plain.gptq(false)),
        ];
        for (layer, kind, src, direct) in layers {
            let qm = QuantMatrix::from_safetensors_int4(&ctx, &file, layer, kind).unwrap();
            let deq = dequantize(&qm).unwrap().to_vec::<f32>().unwrap();
            for row in 0..n {
                for col in 0..k {
                    assert_eq!(deq[row * k + col], src.w(row, col), "{layer} ({row},{col})");
                }
            }
            // The same permutation and blocks as the direct conversion: equal products.
            let x: Vec<f32> = (0..k).map(|i| ((i * 7) % 13) as f32 / 13.0 - 0.5).collect();
            let xt = Tensor::from_slice(&ctx, &x, &[1, k]).unwrap();
            let dm = QuantMatrix::from_int4(&ctx, &direct).unwrap();
            let run = |q: &QuantMatrix| {
                let y = quant_matmul_with(&ctx, &xt, q, QuantPath::Exact).unwrap();
                y.to_vec::<f32>().unwrap()
            };
            assert_eq!(run(&qm), run(&dm), "{layer} on {}", ctx.info().name);
        }
        // The wrong convention for a layer is refused by its shapes.
        let e = QuantMatrix::from_safetensors_int4(&ctx, &file, "awq", Int4Checkpoint::Gptq);
        assert!(e.unwrap_err().to_string().contains("awq.qweight"));
        let e = QuantMatrix::from_safetensors_int4(&ctx, &file, "g1", Int4Checkpoint::Awq);
        assert!(e.unwrap_err().to_string().contains("g1.qweight"));
        // A layer that is not there names the missing tensor.
        let e = QuantMatrix::from_safetensors_int4(&ctx, &file, "nope", Int4Checkpoint::Awq);
        assert!(e.unwrap_err().to_string().contains("nope.scales"));
    }
    // Mislabelled tensors: f32 scales, a qzeros of the wrong shape, groups that do not divide K.
    let bad = |edit: &dyn Fn(&mut Vec<Entry>)| {
        let mut e = entries.clone();
        edit(&mut e);
        let file = SafetensorsFile::from_bytes(safetensors_image(&e)).unwrap();
        let ctx = lowbit::Context::cpu();
        QuantMatrix::from_safetensors_int4(&ctx, &file, "awq", Int4Checkpoint::Awq)
            .unwrap_err()
            .to_string()
    };
    let msg = bad(&|e| {
        let s = &mut e[2];
        s.1 = Dtype::F32;
        s.3 = s.3.iter().flat_map(|&b| [b, b]).collect();
    });
    assert!(msg.contains("awq.scales") && msg.contains("F16"), "{msg}");
    let msg = bad(&|e| e[1].2 = vec![groups * n / 8, 1]);
    assert!(msg.contains("awq.qzeros"), "{msg}");
    let msg = bad(&|e| {
        e[2].2 = vec![3, n];
        e[2].3.truncate(3 * n * 2);
        e[1].2 = vec![3, n / 8];
        e[1].3.truncate(3 * n / 8 * 4);
    });
    assert!(msg.contains("3 groups"), "{msg}");
}
