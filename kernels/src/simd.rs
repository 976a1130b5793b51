//! Run-time SIMD detection and the `LOWBIT_CPU_SIMD` cap.

/// The SIMD level a kernel runs at, ordered from least to most capable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Portable Rust, no intrinsics.
    Scalar,
    /// aarch64 Advanced SIMD.
    Neon,
    /// x86_64 AVX2 with FMA and F16C.
    Avx2,
    /// x86_64 AVX-512 F, BW and VL (plus everything AVX2 needs).
    Avx512,
}

/// The environment variable that caps the SIMD level (`scalar`, `neon`, `avx2`, `avx512`).
pub const SIMD_ENV: &str = "LOWBIT_CPU_SIMD";

impl SimdLevel {
    /// Lower-case name as `LOWBIT_CPU_SIMD` and reports spell it.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Neon => "neon",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }

    /// Whether this machine can run the level.
    pub fn available(self) -> bool {
        machine_levels().contains(&self)
    }
}

impl std::str::FromStr for SimdLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "scalar" => Ok(SimdLevel::Scalar),
            "neon" => Ok(SimdLevel::Neon),
            "avx2" => Ok(SimdLevel::Avx2),
            "avx512" => Ok(SimdLevel::Avx512),
            other => Err(format!(
                "unknown SIMD level '{other}' (scalar, neon, avx2, avx512)"
            )),
        }
    }
}

/// Every level this machine can run, ascending; always includes `Scalar`.
pub fn machine_levels() -> Vec<SimdLevel> {
    let mut v = vec![SimdLevel::Scalar];
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && is_x86_feature_detected!("f16c");
        if avx2 {
            v.push(SimdLevel::Avx2);
            if is_x86_feature_detected!("avx512f")
                && is_x86_feature_detected!("avx512bw")
                && is_x86_feature_detected!("avx512vl")
            {
                v.push(SimdLevel::Avx512);
            }
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push(SimdLevel::Neon);
        }
    }
    v
}

/// The best level of this machine, capped by `LOWBIT_CPU_SIMD` when it names a level; a level the
/// machine lacks caps to the best one below it, an unparsable value is ignored.
pub fn detected() -> SimdLevel {
    cap_by(std::env::var(SIMD_ENV).ok().as_deref())
}

/// [`detected`] for a given value of `LOWBIT_CPU_SIMD` (separate so tests need not set it).
fn cap_by(env: Option<&str>) -> SimdLevel {
    match env.and_then(|s| s.parse::<SimdLevel>().ok()) {
        Some(cap) => clamp(cap),
        None => *machine_levels().last().expect("scalar is always present"),
    }
}

/// The best machine level not above `want`.
pub fn clamp(want: SimdLevel) -> SimdLevel {
    machine_levels()
        .into_iter()
        .filter(|l| *l <= want)
        .max()
        .unwrap_or(SimdLevel::Scalar)
}

/// The CPU model name (`/proc/cpuinfo` on Linux), or `unknown`.
pub fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// Detected CPU features relevant to the kernels, for display.
pub fn cpu_features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut v = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($f:tt),*) => {$(if is_x86_feature_detected!($f) { v.push($f); })*};
        }
        probe!(
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16",
            "avx512fp16",
            "avx512vbmi",
            "avxvnni"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push("neon");
        }
        if std::arch::is_aarch64_feature_detected!("dotprod") {
            v.push("dotprod");
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamp_never_exceeds_the_machine() {
        for want in [
            SimdLevel::Scalar,
            SimdLevel::Neon,
            SimdLevel::Avx2,
            SimdLevel::Avx512,
        ] {
            let got = clamp(want);
            assert!(got <= want && got.available());
        }
    }

    #[test]
    fn env_cap() {
        let best = *machine_levels().last().unwrap();
        assert_eq!(cap_by(None), best);
        assert_eq!(cap_by(Some("nonsense")), best);
        assert_eq!(cap_by(Some("scalar")), SimdLevel::Scalar);
        assert_eq!(cap_by(Some(" AVX512 ")), clamp(SimdLevel::Avx512));
        assert!(cap_by(Some("avx2")) <= SimdLevel::Avx2);
        assert!(machine_levels().windows(2).all(|p| p[0] < p[1]));
        assert!(!cpu_name().is_empty());
    }

    #[test]
    fn names_round_trip() {
        for l in [
            SimdLevel::Scalar,
            SimdLevel::Neon,
            SimdLevel::Avx2,
            SimdLevel::Avx512,
        ] {
            assert_eq!(l.name().parse::<SimdLevel>().unwrap(), l);
        }
    }
}
