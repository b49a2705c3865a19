#!/usr/bin/env python3
"""Rewrites a clang-19 BPF object into the relocation style of LLVM 11 and
older: data relocations outside code (R_BPF_64_ABS64, R_BPF_64_ABS32)
become R_BPF_64_64 and R_BPF_64_32, which is what those LLVMs emitted for
.data, .eh_frame, .debug_* and .maps. Usage: oldify.py IN.o OUT.o"""
import struct
import sys

SHT_REL, SHF_EXECINSTR = 9, 0x4
OLD = {2: 1, 3: 10}  # ABS64 -> 64_64, ABS32 -> 64_32

data = bytearray(open(sys.argv[1], "rb").read())
assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "64-bit little-endian ELF"
shoff, = struct.unpack_from("<Q", data, 0x28)
shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
sections = []
for i in range(shnum):
    name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
        "<IIQQQQIIQQ", data, shoff + i * shentsize)
    sections.append((typ, flags, off, size, info, entsize))
changed = 0
for typ, _, off, size, info, entsize in sections:
    if typ != SHT_REL or sections[info][1] & SHF_EXECINSTR:
        continue
    for at in range(off, off + size, entsize or 16):
        r_info, = struct.unpack_from("<Q", data, at + 8)
        kind = r_info & 0xFFFFFFFF
        if kind in OLD:
            struct.pack_into("<Q", data, at + 8, (r_info >> 32) << 32 | OLD[kind])
            changed += 1
open(sys.argv[2], "wb").write(data)
print(f"{sys.argv[2]}: {changed} relocations rewritten", file=sys.stderr)
