#!/usr/bin/env bash
# The cost of memcheck on C programs that live in the heap and in globals:
# each kernel of bench/memcheck/ compiled once with bpf-cc, then run by
# bpf-jitlink with --memcheck on against --memcheck off (farm-bench pairs
# the runs and prints the ratio on/off), on the interpreter and the JIT.
# The fixture kernels on the interpreter alone: cargo bench -p bpf-vm --bench memcheck
#   usage: bench/memcheck.sh [KERNEL.c ...]   (default: bench/memcheck/*.c)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q -p bpf-cc -p bpf-linker --manifest-path "$root/Cargo.toml"
bin=$root/target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=("$root"/bench/memcheck/*.c)
for src in "${kernels[@]}"; do
  name=$(basename "$src" .c)
  "$bin/bpf-cc" -c -O2 "$src" -o "$work/$name.o"
  for engine in interp jit; do
    on=$("$bin/bpf-jitlink" --engine "$engine" --memcheck on "$work/$name.o")
    off=$("$bin/bpf-jitlink" --engine "$engine" --memcheck off "$work/$name.o")
    [ "$on" = "$off" ] || { echo "$name/$engine: outputs differ" >&2; exit 1; }
    echo "== $name on $engine: --memcheck on (A) vs off (B)"
    farm-bench -n 5 --timeout 300 --vs "$bin/bpf-jitlink --engine $engine --memcheck off $work/$name.o" \
      -- "$bin/bpf-jitlink" --engine "$engine" --memcheck on "$work/$name.o"
  done
done
