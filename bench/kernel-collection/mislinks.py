#!/usr/bin/env python3
"""Reads `bpf-jitlink --disasm` output on stdin and prints every helper call
that is not a kernel helper named with its own id: a `call` with src=0 must
read `call 0xN <bpf_name#N>`; a runtime-helper call (src=2) has no place in
a kernel object. Exit status 1 if any is found."""
import re
import sys

bad = []
for line in sys.stdin:
    m = re.match(r"\s*\d+:\t((?:[0-9a-f]{2} ){7}[0-9a-f]{2})\t(.*)$", line.rstrip("\n"))
    if not m:
        continue
    b = m.group(1).split()
    if b[0] != "85":
        continue
    src = int(b[1], 16) >> 4
    imm = int.from_bytes(bytes(int(x, 16) for x in b[4:8]), "little", signed=True)
    text = m.group(2)
    if src == 0 and not re.search(rf"<bpf_\w+#{imm}>$", text):
        bad.append(text)
    elif src == 2:
        bad.append(text + " (runtime helper)")
for t in bad:
    print(t)
sys.exit(1 if bad else 0)
