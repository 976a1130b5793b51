//! `ln Π fᵢ` with one logarithm instead of one per factor, rescaling only when the running
//! product leaves `[1e-150, 1e150]`: a sum of `n` logs of moderate factors carries `n` rounding
//! errors of up to ½ ulp of each *log*, while the product carries `n` relative errors of ½ ulp
//! and a single log — the difference between ~1e-14 and ~1e-15 where `log I` or `log K` is
//! near zero and the factors are not.

const RANGE_LO: f64 = 1e-150;
const RANGE_HI: f64 = 1e150;

/// Accumulates factors; [`LogProduct::ln`] gives the log of their product.
pub(crate) struct LogProduct {
    logs: f64,
    prod: f64,
}

impl LogProduct {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        LogProduct {
            logs: 0.0,
            prod: 1.0,
        }
    }

    /// Multiplies in a positive, finite factor.
    #[inline(always)]
    pub(crate) fn push(&mut self, factor: f64) {
        // Both the running product and an accepted factor lie in [1e-150, 1e150], so their
        // product cannot overflow or underflow; a factor outside goes straight to the logs.
        if !(RANGE_LO..=RANGE_HI).contains(&factor) {
            self.logs += factor.ln();
            return;
        }
        self.prod *= factor;
        if !(RANGE_LO..=RANGE_HI).contains(&self.prod) {
            self.logs += self.prod.ln();
            self.prod = 1.0;
        }
    }

    /// `ln` of the product of every factor pushed.
    #[inline(always)]
    pub(crate) fn ln(&self) -> f64 {
        self.logs + self.prod.ln()
    }
}
