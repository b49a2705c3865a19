#!/usr/bin/env bash
# Link throughput: bpf-jitlink on a generated large C program compiled for
# BPF, beside llvm-jitlink-19 -noexec on the same C compiled for x86-64, in
# one run. Both are timed as whole processes (what a user waits for); the
# in-process pass times of bpf-jitlink are printed too.
#
# Usage: bench/linker.sh [FUNCTIONS] [RUNS]     (defaults: 3000 functions, 21 runs)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3000}
RUNS=${2:-21}
for tool in clang-19 llvm-jitlink-19 llvm-readelf-19 python3; do
  command -v $tool >/dev/null || {
    echo "$tool not found: install it with \`apt-get update && apt-get install -y clang-19 llvm-19\`" >&2
    exit 1
  }
done
cargo build --release -q -p bpf-linker --bin bpf-jitlink
BIN=target/release/bpf-jitlink
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 bench/gen_large_c.py "$N" > "$WORK/large.c"
clang-19 -target bpf -mcpu=v4 -O2 -c "$WORK/large.c" -o "$WORK/large.bpf.o"
clang-19 -O2 -c "$WORK/large.c" -o "$WORK/large.x86.o"
echo "program: $N functions"
echo "  BPF object:    $(llvm-readelf-19 -r "$WORK/large.bpf.o" | grep -c R_BPF) relocations, $(stat -c %s "$WORK/large.bpf.o") bytes"
echo "  x86-64 object: $(llvm-readelf-19 -r "$WORK/large.x86.o" | grep -c R_X86) relocations, $(stat -c %s "$WORK/large.x86.o") bytes"

median_ms() { # command... -> median wall time in ms over $RUNS runs
  local times=()
  for _ in $(seq "$RUNS"); do
    local t0 t1
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]/1000}'
}

ours=$(median_ms "$BIN" --noexec "$WORK/large.bpf.o")
theirs=$(median_ms llvm-jitlink-19 -noexec "$WORK/large.x86.o")
echo "median of $RUNS runs (whole process):"
echo "  bpf-jitlink --noexec (BPF):       $ours ms"
echo "  llvm-jitlink-19 -noexec (x86-64): $theirs ms"
awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "  ratio llvm-jitlink / bpf-jitlink: %.2fx\n", b / a}'
echo "bpf-jitlink pass times (one run):"
"$BIN" --noexec --show-times "$WORK/large.bpf.o" | sed 's/^/  /'
