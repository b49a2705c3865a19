#!/usr/bin/env bash
# Installs what bpf-repl needs beyond Rust: clang-19, llvm-19 and llvm-19-dev
# (the LLVM library bpf-cc's IR stage links) from Debian.
# Safe to run again; does nothing when they are already there.
set -euo pipefail
missing=()
command -v clang-19 >/dev/null 2>&1 || missing+=(clang-19)
command -v llvm-objdump-19 >/dev/null 2>&1 || missing+=(llvm-19)
[ -e /usr/lib/llvm-19/include/llvm-c/Core.h ] || missing+=(llvm-19-dev)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing ${missing[*]} with apt-get" >&2
  $SUDO apt-get update
  $SUDO apt-get install -y "${missing[@]}"
fi
