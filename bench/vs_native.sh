#!/usr/bin/env bash
# C kernels compiled two ways and timed as whole processes: bpf-cc +
# bpf-jitlink (compile, link and run on the VM) against native gcc -O2.
# Checks first that both print the same.
#   usage: bench/vs_native.sh [KERNEL.c ...]   (default: bench/kernels/*.c)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q -p bpf-cc -p bpf-linker --manifest-path "$root/Cargo.toml"
bin=$root/target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=("$root"/bench/kernels/*.c)
for src in "${kernels[@]}"; do
  name=$(basename "$src" .c)
  gcc -O2 -o "$work/$name" "$src" -lm
  "$bin/bpf-cc" -c -O2 "$src" -o "$work/$name.o"
  "$work/$name" >"$work/native.out"
  "$bin/bpf-jitlink" "$work/$name.o" >"$work/bpf.out"
  cmp -s "$work/native.out" "$work/bpf.out" || { echo "$name: outputs differ" >&2; exit 1; }
  echo "== $name (same output); native gcc -O2, then bpf-jitlink on the bpf-cc object"
  if command -v hyperfine >/dev/null; then
    hyperfine -N -w 1 "$work/$name" "$bin/bpf-jitlink $work/$name.o"
  else
    /usr/bin/time -f "native  %e s  %M KiB" "$work/$name" >/dev/null
    /usr/bin/time -f "bpf     %e s  %M KiB" "$bin/bpf-jitlink" "$work/$name.o" >/dev/null
  fi
done
