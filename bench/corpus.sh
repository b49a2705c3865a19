#!/usr/bin/env bash
# Runs a directory of stand-alone C test programs (each `main` returns 0 or
# calls abort()) three ways and counts the passes:
#   native  gcc -O2 (only programs that pass here are counted)
#   before  plain clang with `bpf-jitlink --print-cflags`, then bpf-jitlink
#   after   bpf-cc -c (bpf-repl's IR stage), then bpf-jitlink
# A BPF run passes when it exits 0 and prints what the native run printed.
#
# usage: bench/corpus.sh DIR [JOBS]     (release binaries are built first)
# e.g. the gcc C torture tests, from Debian's gcc-12-source package:
#   apt-get install gcc-12-source
#   tar -xJf /usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz -C /tmp \
#       --wildcards 'gcc-12.2.0/gcc/testsuite/gcc.c-torture/execute/*'
#   bench/corpus.sh /tmp/gcc-12.2.0/gcc/testsuite/gcc.c-torture/execute
# Per-program results go to $OUT (default /tmp/corpus-results.tsv).
# CORPUS_CFLAGS (same for both BPF builds) defaults to flags that let clang
# accept pre-C99 code the way gcc does (implicit int and declarations).
set -uo pipefail
dir=${1:?usage: bench/corpus.sh DIR [JOBS]}
jobs=${2:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release -q -p bpf-cc -p bpf-linker --manifest-path "$root/Cargo.toml" || exit 1
export BIN=$root/target/release
export CFLAGS_PLAIN=$("$BIN/bpf-jitlink" --print-cflags)
export CLANG=${BPF_REPL_CLANG:-clang-19}
export CORPUS_CFLAGS=${CORPUS_CFLAGS:--Wno-error=implicit-function-declaration -Wno-error=implicit-int -Wno-error=int-conversion -Wno-error=incompatible-pointer-types -Wno-error=return-type}
OUT=${OUT:-/tmp/corpus-results.tsv}

one() {
  src=$1
  name=$(basename "$src" .c)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  if ! gcc -O2 -w -o "$work/native" "$src" -lm >/dev/null 2>&1; then
    printf '%s\tnative-compile\t-\t-\n' "$name"; return
  fi
  if ! timeout 10 "$work/native" >"$work/native.out" 2>/dev/null; then
    printf '%s\tnative-fail\t-\t-\n' "$name"; return
  fi
  # before: plain clang
  if $CLANG $CFLAGS_PLAIN $CORPUS_CFLAGS -w -c "$src" -o "$work/b.o" 2>"$work/b.err"; then
    timeout 30 "$BIN/bpf-jitlink" "$work/b.o" >"$work/b.out" 2>"$work/b.err"
    rc=$?
    if [ $rc -eq 0 ] && cmp -s "$work/b.out" "$work/native.out"; then before=pass; else before="run:$(head -c 150 "$work/b.err" | head -1)"; fi
  else
    before="compile:$(grep -m1 -E 'error' "$work/b.err" | head -c 150)"
  fi
  # after: bpf-cc
  if "$BIN/bpf-cc" $CORPUS_CFLAGS -w -c "$src" -o "$work/a.o" 2>"$work/a.err"; then
    timeout 30 "$BIN/bpf-jitlink" "$work/a.o" >"$work/a.out" 2>"$work/a.err"
    rc=$?
    if [ $rc -eq 0 ] && cmp -s "$work/a.out" "$work/native.out"; then after=pass; else after="run:$(head -c 150 "$work/a.err" | head -1)"; fi
  else
    after="compile:$(grep -m1 -E 'error' "$work/a.err" | head -c 150)"
  fi
  printf '%s\tcounted\t%s\t%s\n' "$name" "${before//$'\t'/ }" "${after//$'\t'/ }"
}
export -f one
find "$dir" -maxdepth 1 -name '*.c' | sort | xargs -P "$jobs" -I{} bash -c 'one "$@"' _ {} >"$OUT"
counted=$(awk -F'\t' '$2=="counted"' "$OUT" | wc -l)
before=$(awk -F'\t' '$2=="counted" && $3=="pass"' "$OUT" | wc -l)
after=$(awk -F'\t' '$2=="counted" && $4=="pass"' "$OUT" | wc -l)
echo "programs: $(wc -l <"$OUT"), passing natively with gcc -O2: $counted"
echo "before (plain clang + bpf-jitlink): $before / $counted"
echo "after  (bpf-cc + bpf-jitlink):      $after / $counted"
