//! Validation reports that can be compared across machines: `lowbit validate --report FILE`
//! writes a [`Report`] (each adapter's description, features, limits and probe results, every
//! case with its error statistics and, for bit-exact ops, a hash of its output), and
//! `lowbit compare A B` lists where two adapters of two reports ([`compare`]) differ.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::adapter::AdapterSelector;
use crate::context::{Backend, Context};
use crate::probes::ProbeResult;
use crate::validate::CaseResult;

/// One adapter as a report describes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdapterReport {
    /// Adapter name (cases name their adapter by it).
    pub name: String,
    /// Graphics API (`vulkan`, `gl`, ...) or `cpu`.
    pub backend: String,
    /// `discrete`, `integrated`, `virtual`, `cpu` or `host` (the CPU backend).
    pub device_type: String,
    /// Driver name and version.
    pub driver: String,
    /// The optional features the device was granted (GPU), or the CPU's SIMD features.
    pub features: Vec<String>,
    /// Key limits (GPU), or the thread count (CPU).
    pub limits: BTreeMap<String, u64>,
    /// Every pitfall probe's result.
    pub probes: Vec<ProbeResult>,
}

impl AdapterReport {
    /// `ctx`'s description with `probes`' results.
    pub fn of(ctx: &Context, probes: Vec<ProbeResult>) -> Self {
        let info = ctx.info();
        let (features, limits) = match &*ctx.inner {
            Backend::Gpu(g) => {
                let l = &g.limits;
                let limits = [
                    ("max_buffer_size", l.max_buffer_size),
                    (
                        "max_storage_buffer_binding_size",
                        l.max_storage_buffer_binding_size,
                    ),
                    (
                        "max_compute_workgroup_storage_size",
                        l.max_compute_workgroup_storage_size.into(),
                    ),
                    (
                        "max_compute_invocations_per_workgroup",
                        l.max_compute_invocations_per_workgroup.into(),
                    ),
                    ("subgroup_min_size", g.caps.subgroup_min_size.into()),
                    ("subgroup_max_size", g.caps.subgroup_max_size.into()),
                ];
                (
                    g.caps.names().iter().map(|s| s.to_string()).collect(),
                    limits.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                )
            }
            Backend::Cpu(c) => (
                lowbit_kernels::simd::cpu_features()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                BTreeMap::from([("threads".to_string(), c.threads as u64)]),
            ),
        };
        AdapterReport {
            name: info.name,
            backend: info.backend,
            device_type: info.device_type,
            driver: info.driver,
            features,
            limits,
            probes,
        }
    }
}

/// Everything `lowbit validate --report` records.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// The lowbit version that wrote it.
    pub lowbit_version: String,
    /// Every adapter validated.
    pub adapters: Vec<AdapterReport>,
    /// Every case, naming its adapter.
    pub cases: Vec<CaseResult>,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
}

impl Report {
    /// A report of `adapters` and their `cases`.
    pub fn new(adapters: Vec<AdapterReport>, cases: Vec<CaseResult>) -> Self {
        let failed = cases.iter().filter(|c| !c.pass).count();
        Report {
            lowbit_version: env!("CARGO_PKG_VERSION").into(),
            adapters,
            passed: cases.len() - failed,
            failed,
            cases,
        }
    }

    /// The adapter `sel` names, read as `--adapter` reads it (an index into this report's
    /// adapters, a backend such as `vulkan`/`vk` or `gl`, `cpu`, or a name substring,
    /// case-insensitive); the first adapter when `None`.
    pub fn adapter(&self, sel: Option<&str>) -> Option<&AdapterReport> {
        let sel: AdapterSelector = match sel {
            None => AdapterSelector::Best,
            Some(s) => s.parse().ok()?,
        };
        match sel {
            AdapterSelector::Best => self.adapters.first(),
            AdapterSelector::Index(i) => self.adapters.get(i),
            AdapterSelector::Cpu => self.adapters.iter().find(|a| a.backend == "cpu"),
            AdapterSelector::Backend(b) => {
                let b = crate::context::backend_name(b);
                self.adapters.iter().find(|a| a.backend == b)
            }
            AdapterSelector::Name(s) => self
                .adapters
                .iter()
                .find(|a| a.name.to_ascii_lowercase().contains(&s)),
        }
    }

    /// `adapter`'s cases: by name and backend (lavapipe and llvmpipe GL share a name); reports
    /// written before cases carried their backend match by name only.
    fn cases_of<'a>(&'a self, adapter: &'a AdapterReport) -> impl Iterator<Item = &'a CaseResult> {
        self.cases.iter().filter(move |c| {
            c.adapter == adapter.name && (c.backend.is_empty() || c.backend == adapter.backend)
        })
    }
}

/// One way two adapters differ.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// A feature one side has and the other lacks: (feature, the side that has it).
    Feature(String, Side),
    /// A probe whose observation differs: (probe, left's, right's; each with its detail).
    Probe(String, String, String),
    /// A bit-exact op whose output hashes differ, over every variant on both sides: (case).
    BitExact(String),
    /// A case failing (error over its bound, or an error) in some variant on one side only:
    /// (case, the side that fails, the variant and its error and bound or message).
    FailsOnOneSide(String, Side, String),
    /// NaN or ±inf in one side's output only: (case, that side).
    NonFinite(String, Side),
    /// Cases (op, dtypes, shape) run on one side only: (side, how many, examples).
    OnlyOneSide(Side, usize, String),
}

/// Which report of a comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    /// The first report.
    Left,
    /// The second report.
    Right,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

impl std::fmt::Display for Difference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Difference::Feature(name, side) => write!(f, "feature {name}: only the {side} has it"),
            Difference::Probe(name, l, r) => {
                write!(f, "probe {name}:\n    left:  {l}\n    right: {r}")
            }
            Difference::BitExact(case) => write!(f, "bit-exact output differs: {case}"),
            Difference::FailsOnOneSide(case, side, how) => {
                write!(f, "fails on the {side} only: {case} ({how})")
            }
            Difference::NonFinite(case, side) => {
                write!(f, "NaN or inf on the {side} only: {case}")
            }
            Difference::OnlyOneSide(side, n, examples) => {
                write!(f, "{n} cases run on the {side} only, e.g. {examples}")
            }
        }
    }
}

/// A case's name without its adapter and variant: op, dtypes and shape.
fn output_key(c: &CaseResult) -> String {
    format!(
        "{} {}×{} {}×{}×{}",
        c.op, c.x_dtype, c.w_dtype, c.m, c.n, c.k
    )
}

fn failure(c: &CaseResult) -> String {
    match &c.error {
        Some(e) => format!("error: {e}"),
        None => format!("err {:.3e}, bound {:.3e}", c.max_abs_err, c.bound),
    }
}

fn nonfinite(c: &CaseResult) -> bool {
    c.nonfinite > 0 || (c.error.is_none() && !c.max_abs_err.is_finite())
}

/// Where adapter `l` of report `left` and adapter `r` of report `right` differ.
pub fn compare<'a>(
    left: &'a Report,
    l: &'a AdapterReport,
    right: &'a Report,
    r: &'a AdapterReport,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let (lf, rf): (BTreeSet<_>, BTreeSet<_>) =
        (l.features.iter().collect(), r.features.iter().collect());
    for f in lf.difference(&rf) {
        out.push(Difference::Feature(f.to_string(), Side::Left));
    }
    for f in rf.difference(&lf) {
        out.push(Difference::Feature(f.to_string(), Side::Right));
    }
    for lp in &l.probes {
        if let Some(rp) = r.probes.iter().find(|p| p.probe == lp.probe) {
            if lp.observed != rp.observed {
                let full = |p: &ProbeResult| match p.detail.as_str() {
                    "" => p.observed.clone(),
                    d => format!("{} [{d}]", p.observed),
                };
                out.push(Difference::Probe(lp.probe.clone(), full(lp), full(rp)));
            }
        }
    }
    // Cases are matched by op, dtypes and shape: the kernel variants differ between adapters
    // (subgroups, dot4, the CPU's own), and every variant must meet the same bound.
    let by_key = |rep: &'a Report, adapter: &'a AdapterReport| {
        let mut m: BTreeMap<String, Vec<&'a CaseResult>> = BTreeMap::new();
        for c in rep.cases_of(adapter) {
            m.entry(output_key(c)).or_default().push(c);
        }
        m
    };
    let (lc, rc) = (by_key(left, l), by_key(right, r));
    for (key, a) in &lc {
        let Some(b) = rc.get(key) else { continue };
        let first_failure = |v: &[&CaseResult]| {
            v.iter()
                .find(|c| !c.pass)
                .map(|c| format!("{}: {}", c.variant, failure(c)))
        };
        match (first_failure(a), first_failure(b)) {
            (Some(how), None) => out.push(Difference::FailsOnOneSide(key.clone(), Side::Left, how)),
            (None, Some(how)) => {
                out.push(Difference::FailsOnOneSide(key.clone(), Side::Right, how))
            }
            _ => {}
        }
        let (na, nb) = (
            a.iter().any(|c| nonfinite(c)),
            b.iter().any(|c| nonfinite(c)),
        );
        if na != nb {
            let side = if na { Side::Left } else { Side::Right };
            out.push(Difference::NonFinite(key.clone(), side));
        }
        // Bit-exact outputs agree over every variant on both sides.
        let hashes: BTreeSet<&str> = a
            .iter()
            .chain(b)
            .filter_map(|c| c.output_hash.as_deref())
            .collect();
        if hashes.len() > 1 {
            out.push(Difference::BitExact(key.clone()));
        }
    }
    for (side, mine, theirs) in [(Side::Left, &lc, &rc), (Side::Right, &rc, &lc)] {
        let only: Vec<&String> = mine.keys().filter(|k| !theirs.contains_key(*k)).collect();
        if !only.is_empty() {
            let examples: Vec<&str> = only.iter().take(3).map(|s| s.as_str()).collect();
            out.push(Difference::OnlyOneSide(
                side,
                only.len(),
                examples.join("; "),
            ));
        }
    }
    out
}
