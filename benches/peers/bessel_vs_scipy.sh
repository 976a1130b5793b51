#!/usr/bin/env bash
# lowbit's CPU log-Bessel against SciPy on the same 1e6 points, alternating three times so both
# see the same machine state: prints each pair of rates and the ratio of log I (2 lowbit
# threads, or however many the machine has) to SciPy's single-thread log(ive)+x.
#   pip install numpy scipy && bash benches/peers/bessel_vs_scipy.sh [n]
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${1:-1000000}"
points="$(mktemp --suffix=.csv)"
trap 'rm -f "$points"' EXIT
cargo build --release --quiet --bin lowbit
for round in 1 2 3; do
  ours="$(target/release/lowbit bench --op bessel --device cpu --n "$n" --dump-points "$points" 2>/dev/null)"
  theirs="$(OMP_NUM_THREADS=1 python3 benches/peers/scipy_bessel.py "$points")"
  li="$(awk '/^cpu f64 log I /{print $5}' <<<"$ours")"
  lk="$(awk '/^cpu f64 log K /{print $5}' <<<"$ours")"
  si="$(awk -F': ' '/log\(ive\)/{split($2,a," "); print a[1]}' <<<"$theirs")"
  sk="$(awk -F': ' '/log\(kve\)/{split($2,a," "); print a[1]}' <<<"$theirs")"
  python3 -c "print(f'round $round: lowbit log I {float(\"$li\"):.3e}/s vs scipy {float(\"$si\"):.3e}/s = {float(\"$li\")/float(\"$si\"):.2f}x; log K {float(\"$lk\"):.3e}/s vs {float(\"$sk\"):.3e}/s = {float(\"$lk\")/float(\"$sk\"):.2f}x')"
done
