//! The CPU ceiling bursts count the operations they do: 2 per multiply-add, 12 chains of the
//! level's vector width per round and thread.

use lowbit_kernels::peak::{f32_fma_burst, int8_dot_burst};
use lowbit_kernels::simd::machine_levels;
use lowbit_kernels::{CpuConfig, SimdLevel};

#[test]
fn bursts_count_their_operations_at_every_level() {
    for level in machine_levels() {
        for threads in [1, 2] {
            let cfg = CpuConfig { level, threads };
            let (f32_lanes, int8_pairs) = match level {
                SimdLevel::Avx512 => (16, 64),
                SimdLevel::Avx2 => (8, 32),
                SimdLevel::Neon => (4, 16),
                SimdLevel::Scalar => (1, 16),
            };
            let iters = 100;
            let b = f32_fma_burst(&cfg, iters);
            assert_eq!(
                b.ops,
                (threads * iters * 12 * f32_lanes * 2) as u64,
                "{level:?}"
            );
            assert!(b.sink.is_finite() && b.sink > 0.0, "{level:?}: {}", b.sink);
            let b = int8_dot_burst(&cfg, iters);
            // AVX-512 without VNNI counts as AVX2.
            let vnni = level == SimdLevel::Avx512 && {
                #[cfg(target_arch = "x86_64")]
                {
                    is_x86_feature_detected!("avx512vnni")
                }
                #[cfg(not(target_arch = "x86_64"))]
                {
                    false
                }
            };
            let pairs = match level {
                SimdLevel::Avx512 if !vnni => 32,
                SimdLevel::Neon => 16,
                _ => int8_pairs,
            };
            assert_eq!(
                b.ops,
                (threads * iters * 12 * pairs * 2) as u64,
                "{level:?}"
            );
            assert!(b.sink.is_finite());
        }
    }
}
