// The bias epilogue as a pass of its own (ops::add_bias): y[t, n] += bias[n] in place, one
// invocation per element. ternary_matmul and bcq_matmul add their bias in the kernel instead.

struct Params {
    m: u32,
    n: u32,
    groups_x: u32,
    _p0: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.y * P.groups_x * 64u + gid.x;
    if (i >= P.m * P.n) {
        return;
    }
    y[i] = y[i] + bias[i % P.n];
}
