#!/usr/bin/env bash
# Kernel mode of the verifier over the collection: `bpf-jitlink OBJ
# --verify kernel` on every object measure.sh builds (and on the linker's
# kernel and verifier fixtures), counting objects and programs the kernel
# would accept, programs it would refuse (with the rule named), and
# objects refused before verification (link errors, by reason).
#
#   bench/kernel-collection/verify.sh [EXTRA_SOURCE_DIR...]
#
# JITLINK=path overrides the bpf-jitlink binary; KEEP=1 reuses the objects
# of an earlier run in $OUT/obj.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
JITLINK=${JITLINK:-$root/target/release/bpf-jitlink}
OUT=${OUT:-$root/target/kernel-collection}
if [ -z "${KEEP:-}" ] || [ ! -d "$OUT/obj" ]; then
  BUILD_ONLY=1 OUT=$OUT JITLINK=$JITLINK "$here/measure.sh" "$@" || exit 1
fi
objects=0; accepted=0; refused=0; link_refused=0; crashed=0; progs_ok=0; progs_bad=0
: >"$OUT/verify-refusals.txt"; : >"$OUT/verify-link.txt"
objs=("$OUT"/obj/*.o "$root"/crates/linker/fixtures/kernel/obj/*.o "$root"/crates/linker/fixtures/verify/obj/*.o)
for obj in "${objs[@]}"; do
  objects=$((objects + 1))
  name=$(basename "$obj")
  case "$obj" in "$root"/crates/*) name="fixture:$(basename "$(dirname "$(dirname "$obj")")")/$name" ;; esac
  out=$("$JITLINK" "$obj" --verify kernel 2>&1); st=$?
  ok=$(echo "$out" | grep -c 'the kernel would accept it \[')
  bad=$(echo "$out" | grep -c 'the kernel would REFUSE it')
  progs_ok=$((progs_ok + ok)); progs_bad=$((progs_bad + bad))
  if [ $st -eq 0 ]; then
    accepted=$((accepted + 1))
  elif [ $st -eq 1 ] && [ "$bad" -gt 0 ]; then
    refused=$((refused + 1))
    # One line per error: object, program, rule, message.
    echo "$out" | awk -v obj="$name" '
      /: program `/ { match($0, /program `[^`]*`/); prog = substr($0, RSTART + 9, RLENGTH - 10) }
      /^error: / { print obj " " prog ": " substr($0, 8) }' >>"$OUT/verify-refusals.txt"
  elif [ $st -eq 1 ]; then
    link_refused=$((link_refused + 1))
    echo "$name: $(echo "$out" | grep '^bpf-jitlink: error: ' | head -1 | sed 's/^bpf-jitlink: error: [^:]*: //')" >>"$OUT/verify-link.txt"
  else
    crashed=$((crashed + 1)); echo "CRASH $name (status $st)" >>"$OUT/verify-link.txt"
  fi
done
echo "objects: $objects  verified and accepted: $accepted  refused by the verifier: $refused  refused before verification: $link_refused  crashed: $crashed"
echo "programs: accepted $progs_ok, refused $progs_bad"
echo "verifier refusals (errors, by rule):"
sed -E 's/.*\[([^]]*)\]$/\1/' "$OUT/verify-refusals.txt" | sort | uniq -c | sort -rn
echo "refused before verification (objects, by reason):"
sed -E 's/^[^:]+: //; s/`[^`]*`/`_`/g; s/#[0-9]+/#N/; s/[0-9]+ bytes/N bytes/g; s/^[^ ]+\+0x[0-9a-f]+ in //' "$OUT/verify-link.txt" | sort | uniq -c | sort -rn
echo "details: $OUT/verify-refusals.txt, $OUT/verify-link.txt"
