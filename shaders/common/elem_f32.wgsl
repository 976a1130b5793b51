// f32 elements of operand $N at binding $B.
//#if VEC4
@group(0) @binding($B) var<storage, read> $N_buf: array<vec4<f32>>;
fn $N_vec4(i: u32) -> vec4<f32> { return $N_buf[i]; }
//#else
@group(0) @binding($B) var<storage, read> $N_buf: array<f32>;
fn $N_at(e: u32) -> f32 { return $N_buf[e]; }
//#endif
