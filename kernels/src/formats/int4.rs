//! AWQ and GPTQ int4 weights, converted on load to lowbit's `I4G{32,64,128}` block layout:
//! per row and group of G input features a block `d: f16 @0`, `z: u8 @2`, nibbles `@3` in
//! Q4_0's order per 32 elements (element `32s + i`, `i < 16`: low nibble of byte `16s + i`;
//! `32s + 16 + i`: its high nibble — so kernels unpack them with one shift and mask, no byte
//! interleave), `w = d·(q − z)` — exact in f32 (`q − z` is a small integer, `d` an f16).
//!
//! Source layouts (facts in `shared/design/reference/tmac_lut.md` §4):
//! * GPTQ (AutoGPTQ): `qweight` i32 `[K/8, N]` packed along K, element `8r + j` at bits `4j`;
//!   `qzeros` i32 `[K/G, N/8]` packed along N, sequential nibbles, v1 checkpoints store
//!   `zero − 1`; `scales` f16 `[K/G, N]`; `g_idx` i32 `[K]` (act-order when not `k / G`).
//! * AWQ (AutoAWQ GEMM): `qweight` i32 `[K, N/8]` packed along N, nibble `i` holding column
//!   `8c + [0,2,4,6,1,3,5,7][i]`; `qzeros` i32 `[K/G, N/8]` packed the same way, as is;
//!   `scales` f16 `[K/G, N]`.
//!
//! Act-order (GPTQ `desc_act`): the input features are permuted so each group is contiguous;
//! the matmul applies the same permutation to x (`Int4Weights::perm`).

use half::f16;

use super::plain::f16_at;
use super::QuantType;
use crate::error::elems;
use crate::KernelError;

/// AWQ's nibble order: nibble `i` of a packed word holds column `AWQ_ORDER[i]` of its 8.
pub const AWQ_ORDER: [usize; 8] = [0, 2, 4, 6, 1, 3, 5, 7];

/// Where element `j` of a group sits among the block's nibble bytes: `(byte, shift)`.
fn nibble_of(j: usize) -> (usize, u32) {
    (16 * (j / 32) + j % 16, 4 * ((j % 32) / 16) as u32)
}

/// `I4G*` decode: `w = d·(q − z)`.
pub(crate) fn dequant_i4g(b: &[u8], out: &mut [f32]) {
    let d = f16_at(b, 0);
    let z = i16::from(b[2]);
    for (j, o) in out.iter_mut().enumerate() {
        let (byte, shift) = nibble_of(j);
        let q = (b[3 + byte] >> shift) & 15;
        *o = d * f32::from(i16::from(q) - z);
    }
}

/// Weights in an `I4G*` layout, ready for a `QuantMatrix`.
#[derive(Clone, Debug)]
pub struct Int4Weights {
    /// `I4G32`, `I4G64` or `I4G128`.
    pub ty: QuantType,
    /// Output features (rows).
    pub n: usize,
    /// Input features.
    pub k: usize,
    /// `n` rows of `k / G` blocks.
    pub bytes: Vec<u8>,
    /// For act-order weights: column `i` of the stored rows is input feature `perm[i]`, so
    /// the matmul must read `x[.., perm[i]]`. `None`: the identity.
    pub perm: Option<Vec<u32>>,
}

fn layout(group: usize) -> Result<QuantType, KernelError> {
    match group {
        32 => Ok(QuantType::I4G32),
        64 => Ok(QuantType::I4G64),
        128 => Ok(QuantType::I4G128),
        g => Err(KernelError::Shape(format!(
            "int4 group size {g} (32, 64 or 128 supported)"
        ))),
    }
}

fn shape_err(what: &str, got: usize, want: usize) -> KernelError {
    KernelError::Shape(format!("{what} has {got} elements, expected {want}"))
}

#[allow(clippy::too_many_arguments)]
/// Builds the blocks from `q(n, k)`, `zero(n, group)`, `scale(n, group)` in the column order
/// `order` (a permutation of `0..k` keeping each group's columns together).
fn build(
    ty: QuantType,
    n: usize,
    k: usize,
    order: &[usize],
    group_of: impl Fn(usize) -> usize,
    q: impl Fn(usize, usize) -> u8,
    zero: impl Fn(usize, usize) -> u8,
    scale: impl Fn(usize, usize) -> f16,
) -> Vec<u8> {
    let g = ty.block_elems();
    let bb = ty.block_bytes();
    let mut bytes = vec![0u8; n * (k / g) * bb];
    for row in 0..n {
        for blk in 0..k / g {
            let cols = &order[blk * g..(blk + 1) * g];
            let grp = group_of(cols[0]);
            let out = &mut bytes[(row * (k / g) + blk) * bb..][..bb];
            out[..2].copy_from_slice(&scale(row, grp).to_bits().to_le_bytes());
            out[2] = zero(row, grp);
            for (j, &col) in cols.iter().enumerate() {
                let (byte, shift) = nibble_of(j);
                out[3 + byte] |= q(row, col) << shift;
            }
        }
    }
    bytes
}

/// Converts GPTQ tensors (see the module docs). `v1`: the checkpoint stores `zero − 1`
/// (AutoGPTQ's default "gptq" format); GPTQModel's v2 does not. `g_idx` may be `None` (no
/// act-order); with act-order every group must hold exactly `group` features.
#[allow(clippy::too_many_arguments)]
pub fn from_gptq(
    qweight: &[i32],
    qzeros: &[i32],
    scales: &[f16],
    g_idx: Option<&[i32]>,
    n: usize,
    k: usize,
    group: usize,
    v1: bool,
) -> Result<Int4Weights, KernelError> {
    let ty = layout(group)?;
    if !k.is_multiple_of(group) || !n.is_multiple_of(8) || !k.is_multiple_of(8) {
        return Err(KernelError::Shape(format!(
            "GPTQ [{n}, {k}]: N and K must be multiples of 8 and K of the group {group}"
        )));
    }
    // n·k bounds every length below, so none of them wraps.
    elems("GPTQ weights", &[n, k])?;
    let groups = k / group;
    if qweight.len() != k / 8 * n {
        return Err(shape_err("GPTQ qweight", qweight.len(), k / 8 * n));
    }
    if qzeros.len() != groups * n / 8 {
        return Err(shape_err("GPTQ qzeros", qzeros.len(), groups * n / 8));
    }
    if scales.len() != groups * n {
        return Err(shape_err("GPTQ scales", scales.len(), groups * n));
    }
    let gid: Vec<usize> = match g_idx {
        None => (0..k).map(|c| c / group).collect(),
        Some(g) => {
            if g.len() != k {
                return Err(shape_err("GPTQ g_idx", g.len(), k));
            }
            let mut out = Vec::with_capacity(k);
            for (c, &v) in g.iter().enumerate() {
                match usize::try_from(v) {
                    Ok(v) if v < groups => out.push(v),
                    _ => {
                        return Err(KernelError::Shape(format!(
                            "GPTQ g_idx[{c}] = {v} is not a group (0..{groups})"
                        )))
                    }
                }
            }
            out
        }
    };
    // Columns sorted by group (stable): the identity unless act-order.
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by_key(|&c| gid[c]);
    for (blk, cols) in order.chunks(group).enumerate() {
        if cols.iter().any(|&c| gid[c] != gid[cols[0]]) || gid[cols[0]] != blk {
            return Err(KernelError::Shape(format!(
                "GPTQ g_idx: group {blk} does not hold exactly {group} input features"
            )));
        }
    }
    let identity = order.iter().enumerate().all(|(i, &c)| i == c);
    let nib = |word: i32, j: usize| ((word as u32 >> (4 * j)) & 15) as u8;
    let bytes = build(
        ty,
        n,
        k,
        &order,
        |c| gid[c],
        |row, col| nib(qweight[(col / 8) * n + row], col % 8),
        |row, grp| {
            let z = nib(qzeros[grp * (n / 8) + row / 8], row % 8);
            if v1 {
                z + 1
            } else {
                z
            }
        },
        |row, grp| scales[grp * n + row],
    );
    Ok(Int4Weights {
        ty,
        n,
        k,
        bytes,
        perm: (!identity).then(|| order.iter().map(|&c| c as u32).collect()),
    })
}

/// Converts AutoAWQ GEMM tensors (see the module docs).
pub fn from_awq(
    qweight: &[i32],
    qzeros: &[i32],
    scales: &[f16],
    n: usize,
    k: usize,
    group: usize,
) -> Result<Int4Weights, KernelError> {
    let ty = layout(group)?;
    if !k.is_multiple_of(group) || !n.is_multiple_of(8) {
        return Err(KernelError::Shape(format!(
            "AWQ [{n}, {k}]: N must be a multiple of 8 and K of the group {group}"
        )));
    }
    elems("AWQ weights", &[n, k])?;
    let groups = k / group;
    if qweight.len() != k * n / 8 {
        return Err(shape_err("AWQ qweight", qweight.len(), k * n / 8));
    }
    if qzeros.len() != groups * n / 8 {
        return Err(shape_err("AWQ qzeros", qzeros.len(), groups * n / 8));
    }
    if scales.len() != groups * n {
        return Err(shape_err("AWQ scales", scales.len(), groups * n));
    }
    // Column `row` of an AWQ word row sits in nibble `i` with AWQ_ORDER[i] == row % 8.
    let mut slot = [0usize; 8];
    for (i, &c) in AWQ_ORDER.iter().enumerate() {
        slot[c] = i;
    }
    let nib = |word: i32, row: usize| ((word as u32 >> (4 * slot[row % 8])) & 15) as u8;
    let order: Vec<usize> = (0..k).collect();
    let bytes = build(
        ty,
        n,
        k,
        &order,
        |c| c / group,
        |row, col| nib(qweight[col * (n / 8) + row / 8], row),
        |row, grp| nib(qzeros[grp * (n / 8) + row / 8], row),
        |row, grp| scales[grp * n + row],
    );
    Ok(Int4Weights {
        ty,
        n,
        k,
        bytes,
        perm: None,
    })
}
