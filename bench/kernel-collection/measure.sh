#!/usr/bin/env bash
# Measures bpf-jitlink on a collection of kernel-style BPF objects: every
# object must either link (and its programs run) or be refused naming the
# unsupported feature; none may be mis-linked.
#
#   bench/kernel-collection/measure.sh [EXTRA_SOURCE_DIR...]
#
# Builds src/*.c (and any *.c under the extra directories, compiled with
# the system's uapi headers plus bpf-repl's bpf/*.h) in six styles:
#   g    clang -O2 -g                 (libbpf users' default)
#   nog  clang -O2                    (no BTF: BTF-defined maps cannot load)
#   v1   clang -O2 -g -mcpu=v1
#   v4   clang -O2 -g -mcpu=v4
#   eh   clang -O2 -g -fasynchronous-unwind-tables   (an allocated .eh_frame)
#   old  eh, rewritten by oldify.py to LLVM <= 11 data relocations
# then runs `bpf-jitlink OBJ --list-progs` on each object and, for every
# program of a linked object, `bpf-jitlink OBJ --prog P` on a TCP packet
# (XDP, tc, socket filters) or 512 zero context bytes (tracing programs).
# A linked object is checked for mis-links: in `--disasm`, every helper
# call must be a kernel helper named with its own id (<bpf_name#id>).
#
# JITLINK=path overrides the bpf-jitlink binary (default: target/release).
# BUILD_ONLY=1 builds the objects into $OUT/obj and stops (verify.sh uses it).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
JITLINK=${JITLINK:-$root/target/release/bpf-jitlink}
CLANG=${BPF_REPL_CLANG:-clang-19}
OUT=${OUT:-$root/target/kernel-collection}
rm -rf "$OUT" && mkdir -p "$OUT/obj" "$OUT/inc/gnu"
[ -x "$JITLINK" ] || { echo "build bpf-jitlink first: cargo build --release -p bpf-linker" >&2; exit 1; }
command -v "$CLANG" >/dev/null || { echo "clang-19 not found: apt-get install -y clang-19 llvm-19" >&2; exit 1; }
kinc=$root/crates/kernel/include
# External sources use the system's uapi headers; glibc's stubs-32.h does
# not exist for BPF, and bpf/*.h come from bpf-repl.
touch "$OUT/inc/gnu/stubs-32.h"
ln -sfn "$kinc/bpf" "$OUT/inc/bpf"

build() { # src name extra-flags...
  local src=$1 name=$2; shift 2
  # Per-source flags: a `collection-cflags: ...` comment.
  local own
  own=$(sed -n 's/.*collection-cflags: \(.*\) \*\/.*/\1/p' "$src" | head -1)
  local variants=(g:"-g" nog:"" v1:"-g -mcpu=v1" v4:"-g -mcpu=v4" eh:"-g -fasynchronous-unwind-tables")
  for v in "${variants[@]}"; do
    local tag=${v%%:*} flags=${v#*:}
    if ! "$CLANG" -target bpf -O2 $flags $own "$@" -c "$src" -o "$OUT/obj/$name.$tag.o" 2>>"$OUT/build-errors.txt"; then
      echo "$name.$tag" >>"$OUT/build-failed.txt"
    fi
  done
  [ -f "$OUT/obj/$name.eh.o" ] && python3 "$here/oldify.py" "$OUT/obj/$name.eh.o" "$OUT/obj/$name.old.o" 2>/dev/null
}

for src in "$here"/src/*.c; do
  build "$src" "own-$(basename "$src" .c)" -nostdinc -isystem "$kinc"
done
for dir in "$@"; do
  while IFS= read -r src; do
    rel=${src#"$dir"/}
    name="ext-$(echo "${rel%.c}" | tr '/' '-')"
    build "$src" "$name" -I"$OUT/inc" -I"$OUT/inc/bpf" -I"$dir/inc" -I/usr/include/x86_64-linux-gnu -I"$(dirname "$src")"
  done < <(find "$dir" -name '*.c' -not -path '*/inc/*' | sort)
done

[ -n "${BUILD_ONLY:-}" ] && { echo "built $(ls "$OUT"/obj/*.o | wc -l) objects in $OUT/obj"; exit 0; }

tcp=$(python3 -c 'import sys; sys.stdout.write("ff"*6 + "000000000001" + "0800" + "45000028000100004006000001020304" + "05060708" + "04d20050" + "00"*8 + "50020000" + "00"*4)')
ctx=$(printf '0%.0s' $(seq 1 1024))
objects=0; linked=0; refused=0; crashed=0; mislinked=0; progs=0; ran=0; run_refused=0; run_faults=0
: >"$OUT/refusals.txt"; : >"$OUT/runs.txt"
for obj in "$OUT"/obj/*.o; do
  objects=$((objects + 1))
  name=$(basename "$obj")
  list=$("$JITLINK" "$obj" --list-progs 2>"$OUT/err.txt"); status=$?
  if [ $status -eq 0 ]; then
    linked=$((linked + 1))
    # Mis-link check: every helper call names a kernel helper with its id.
    bad=$("$JITLINK" "$obj" --noexec --disasm 2>&1 | python3 "$here/mislinks.py")
    if [ -n "$bad" ]; then mislinked=$((mislinked + 1)); echo "MISLINK $name: $bad" >>"$OUT/refusals.txt"; fi
    while IFS=$'\t' read -r prog sec ty; do
      [ -z "$prog" ] && continue
      progs=$((progs + 1))
      case "$ty" in
        xdp|socket_filter|sched_cls|sched_act|cgroup_skb|sk_skb|lwt_*|flow_dissector) input=(--packet "$tcp") ;;
        *) input=(--ctx "$ctx") ;;
      esac
      out=$("$JITLINK" "$obj" --prog "$prog" "${input[@]}" --ktime 1000 2>&1); st=$?
      if [ $st -eq 0 ]; then
        ran=$((ran + 1)); echo "ran     $name $prog: $(echo "$out" | sed -n 2p)" >>"$OUT/runs.txt"
      elif [ $st -eq 1 ]; then
        msg=$(echo "$out" | grep 'bpf-jitlink: error' | head -1)
        if echo "$msg" | grep -q "does not emulate"; then run_refused=$((run_refused + 1)); else run_faults=$((run_faults + 1)); fi
        echo "stopped $name $prog: $msg" >>"$OUT/runs.txt"
      else
        crashed=$((crashed + 1)); echo "CRASH   $name $prog (status $st)" >>"$OUT/runs.txt"
      fi
    done <<<"$list"
  elif [ $status -eq 1 ] && grep -q '^bpf-jitlink: error: ' "$OUT/err.txt"; then
    refused=$((refused + 1)); echo "$name: $(head -1 "$OUT/err.txt" | sed 's/^bpf-jitlink: error: //')" >>"$OUT/refusals.txt"
  else
    crashed=$((crashed + 1)); echo "CRASH $name (status $status): $(head -3 "$OUT/err.txt")" >>"$OUT/refusals.txt"
  fi
done
built_failed=$(wc -l <"$OUT/build-failed.txt" 2>/dev/null || echo 0)
echo "objects: $objects (clang failed on $built_failed more)"
echo "linked: $linked  refused with a named reason: $refused  crashed: $crashed  mis-linked: $mislinked"
echo "programs in linked objects: $progs  ran: $ran  run refused (context not emulated): $run_refused  stopped by a fault or bad input: $run_faults"
echo "refusal reasons (objects):"
sed -E 's/^[^:]+: //; s/^[^ ]+\.o: //; s/^[^ ]+: [^:]+: unsupported: //; s/`[^`]*`/`_`/g; s/#[0-9]+/#N/; s/[0-9]+ bytes/N bytes/g' "$OUT/refusals.txt" |
  sort | uniq -c | sort -rn | head -30
echo "details: $OUT/refusals.txt, $OUT/runs.txt"
