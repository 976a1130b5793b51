// Streaming read: sums every vec4<f32> of `src` and writes one sum per invocation, so no load is
// dead. This is the read-bandwidth bound GEMV kernels are reported against; bandwidth.rs runs
// several layouts and keeps the fastest, so the bound is the best streaming pattern we know on
// that adapter, not one kernel's.
//
// Default: grid-stride (neighbouring invocations read neighbouring vec4s: coalesced on GPUs).
// CHUNK: each workgroup owns one contiguous range (what CPU devices such as llvmpipe prefer,
// see shaders/README.md).
// STREAMS: `src` as STREAMS equal segments, each workgroup owning the same range of every one
// and loading from all of them per step, unrolled: the pattern of a GEMV over STREAMS rows,
// whose loop overhead is shared by STREAMS loads (on llvmpipe the one-load loops above cost
// the narrow GEMV its lead over them). `n4` is then the segment length; the tail past
// STREAMS·n4 is not read.

struct Params { n4: u32, threads: u32, per_group: u32, _p: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> sums: array<f32>;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lid: u32,
) {
    var acc = vec4<f32>(0.0);
//#if STREAMS
    let start = wid.x * P.per_group;
    let end = min(start + P.per_group, P.n4);
    for (var i = start + lid; i < end; i += WG) {
//#unroll s STREAMS
        acc += src[s * P.n4 + i];
//#end
    }
//#else
//#if CHUNK
    let start = wid.x * P.per_group;
    let end = min(start + P.per_group, P.n4);
    for (var i = start + lid; i < end; i += WG) { acc += src[i]; }
//#else
    for (var i = gid.x; i < P.n4; i += P.threads) { acc += src[i]; }
//#endif
//#endif
    sums[gid.x] = acc.x + acc.y + acc.z + acc.w;
}
