#!/usr/bin/env bash
# lowbit's CPU quantized GEMV against ggml's CPU backend on the same shapes, alternating three
# times so both see the same machine state. ggml's side is its own `test-backend-ops perf`
# (MUL_MAT, f32 activations, weights in ggml's plain CPU buffer, all cores), built from a ggml
# checkout you pass in (e.g. `git clone https://github.com/ggml-org/ggml`; measured with
# d99724f2). Needs cmake and a C++ compiler.
#   bash benches/peers/quant_vs_ggml.sh /path/to/ggml [n k]
set -euo pipefail
ggml="$(realpath "${1:?usage: $0 /path/to/ggml [n k]}")"
n="${2:-4096}"
k="${3:-14336}"
cd "$(dirname "$0")/../.."
if [ ! -x "$ggml/build/bin/test-backend-ops" ]; then
  cmake -S "$ggml" -B "$ggml/build" -DGGML_NATIVE=ON -DGGML_BUILD_TESTS=ON \
    -DGGML_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ggml/build" --target test-backend-ops -j"$(nproc)" >/dev/null
fi
cargo build --release --quiet --bin lowbit
for round in 1 2 3; do
  for fmt in q4_0 q4_K q8_0; do
    ours="$(target/release/lowbit bench --w-format "${fmt,,}" --m 1 --n "$n" --k "$k" \
      --adapter cpu 2>/dev/null | awk '/^time/{print $2}')"
    # ggml names the weight rows m and the tokens n.
    theirs="$("$ggml/build/bin/test-backend-ops" perf -o MUL_MAT -b CPU \
      -p "type_a=$fmt,type_b=f32,m=$n,n=1,k=$k," 2>/dev/null |
      grep -oE '[0-9.]+ us/run' | awk '{print $1 / 1000}')"
    if [ -z "$theirs" ]; then
      echo "round $round $fmt: ggml has no perf case for n=$n k=$k (its list is fixed)"
      continue
    fi
    python3 -c "print(f'round $round $fmt {$n}x{$k}: lowbit {$ours:.3f} ms, ggml {$theirs:.3f} ms = {$theirs / $ours:.2f}x')"
  done
done
