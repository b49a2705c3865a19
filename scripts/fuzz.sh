#!/usr/bin/env bash
# Runs every cargo-fuzz target for N seconds each (default 60), one after
# the other, with the committed seeds. Needs a nightly toolchain and
# cargo-fuzz (`cargo install cargo-fuzz`). See fuzz/README.md.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# New inputs go to fuzz/corpus/<target> (not committed); crashes to
# fuzz/artifacts/<target>. Exits non-zero at the first target that fails.
set -euo pipefail

secs=${1:-60}
shift || true
cd "$(dirname "$0")/../fuzz"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    dirs=("corpus/$t")
    [ -d "seeds/$t" ] && dirs+=("seeds/$t")
    # The linker's clang-built fixtures are the linker's seeds.
    [ "$t" = linker_object ] && dirs+=(../crates/linker/fixtures/obj ../crates/linker/fixtures/kernel/obj)
    flags=(-max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
    [ -f "dict/$t.dict" ] && flags+=(-dict="dict/$t.dict")
    echo "== $t for ${secs}s"
    cargo +nightly fuzz run "$t" "${dirs[@]}" -- "${flags[@]}"
done
