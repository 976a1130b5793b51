//! Shared helpers of the kernels' integration tests.
#![allow(dead_code)]

/// Deterministic pseudo-random numbers (a 64-bit LCG, the high 31 bits out).
pub struct Lcg(pub u64);

impl Lcg {
    /// The next 31 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// A value in [−1, 1] on a grid of 10⁻⁴.
    pub fn unit(&mut self) -> f32 {
        (self.next() % 20001) as f32 / 10000.0 - 1.0
    }
}
