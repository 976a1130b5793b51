#!/usr/bin/env bash
# Fails when the release `lowbit` binary calls a SIMD intrinsic out of line. A closure (`map`,
# `array::from_fn`, `fold`) is compiled without its caller's `#[target_feature]`s, so intrinsics
# inside it become function calls — silently a quarter of the Q4_0 GEMV's time once. Only
# `_xgetbv` (feature detection, outside every kernel) is expected.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/lowbit}
calls=$(objdump -d --no-show-raw-insn "$bin" | grep -E 'call.*core_arch' | grep -v xgetbv || true)
if [ -n "$calls" ]; then
    echo "out-of-line SIMD intrinsic calls in $bin:" >&2
    echo "$calls" | sed 's/.*<//; s/>.*//' | sort | uniq -c | sort -rn >&2
    exit 1
fi
echo "no out-of-line SIMD intrinsic calls in $bin"
