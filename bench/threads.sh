#!/usr/bin/env bash
# Costs of the thread support on the VM, beside native gcc -O2 -pthread:
# a TLS access against a global, an uncontended mutex lock/unlock pair, and
# a context switch (sched_yield to a thread that yields back). Each figure
# is (run time of N operations - run time of N baseline iterations) / N,
# from bpf-jitlink --show-times (run only, no compile or link), and in
# interpreted-instruction equivalents (ns / ns per baseline instruction).
#   usage: bench/threads.sh [N]   (default 2000000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-2000000}
cargo build --release -q -p bpf-cc -p bpf-linker --manifest-path "$root/Cargo.toml"
bin=$root/target/release
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$root/bench/threads/costs.c
gcc -O2 -pthread -o "$work/native" "$src"
"$bin/bpf-cc" -c -O2 "$src" -o "$work/costs.o"
vm_ms() { # mode count -> run milliseconds (best of 3)
  for _ in 1 2 3; do
    "$bin/bpf-jitlink" "$work/costs.o" --entry run --show-times --engine interp --args "$1" "$2" |
      awk '/^run /{print $3}'
  done | sort -g | head -1
}
native_ms() {
  for _ in 1 2 3; do
    s=$(date +%s%N); "$work/native" "$1" "$2" >/dev/null; e=$(date +%s%N)
    echo "scale=3; ($e - $s) / 1000000" | bc
  done | sort -g | head -1
}
# Instructions per baseline iteration, from the disassembly of the loop is
# not stable across compilers: count them with the budget instead.
insns_for() { # mode count -> instructions executed
  lo=1; hi=$((200 * $2 + 100000))
  while [ $((hi - lo)) -gt 1 ]; do
    mid=$(((lo + hi) / 2))
    if "$bin/bpf-jitlink" "$work/costs.o" --entry run --budget $mid --engine interp --args "$1" "$2" >/dev/null 2>&1; then hi=$mid; else lo=$mid; fi
  done
  echo $hi
}
small=10000
base_i=$(insns_for 0 $small)
base=$(vm_ms 0 "$n"); nbase=$(native_ms 0 "$n")
ns_per_insn=$(echo "scale=4; $base * 1000000 / ($base_i * $n / $small)" | bc)
printf "baseline: %s insns per iteration, %.2f ns per interpreted instruction\n" \
  "$(echo "scale=2; $base_i / $small" | bc)" "$ns_per_insn"
printf "%-22s %10s %12s %14s %12s %8s\n" what "insns/op" "VM ns/op" "(insn equiv.)" "native ns/op" ratio
for mode in 1 2 3; do
  case $mode in 1) what="TLS access (vs global)";; 2) what="mutex lock+unlock";; 3) what="context switch";; esac
  i=$(insns_for $mode $small)
  t=$(vm_ms $mode "$n"); nt=$(native_ms $mode "$n")
  per=1; [ $mode = 3 ] && per=2   # a yield round trip is two switches
  vm_ns=$(echo "scale=2; ($t - $base) * 1000000 / $n / $per" | bc)
  nat_ns=$(echo "scale=2; ($nt - $nbase) * 1000000 / $n / $per" | bc)
  ins=$(echo "scale=2; ($i - $base_i) / $small / $per" | bc)
  ratio=$(echo "scale=1; if ($nat_ns > 0) $vm_ns / $nat_ns else 0" | bc)
  eq=$(echo "scale=1; $vm_ns / $ns_per_insn" | bc)
  printf "%-22s %10s %12s %14s %12s %8s\n" "$what" "$ins" "$vm_ns" "$eq" "$nat_ns" "$ratio"
done
