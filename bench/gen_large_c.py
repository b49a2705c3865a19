#!/usr/bin/env python3
"""Writes a large C program for link benchmarks: N functions, each reading
and writing globals, calling three others and storing a function pointer,
so the object has several relocations per function."""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
out = []
out.append(f"int g[{n}];")
out.append(f"const char *names[{n}];")
for i in range(n):
    out.append(f"int f{i}(int x);")
out.append(f"int (*table[{n}])(int);")
for i in range(n):
    a, b, c = (i * 7 + 1) % n, (i * 13 + 5) % n, (i * 31 + 11) % n
    out.append(
        f"__attribute__((noinline)) int f{i}(int x) {{\n"
        f"  g[{i}] += x; names[{i}] = \"f{i}\";\n"
        f"  table[{i}] = f{a};\n"
        f"  if (x <= 0) return g[{a}] + g[{b}];\n"
        f"  return f{a}(x - 1) + f{b}(x - 2) + f{c}(x - 3) + g[{c}];\n"
        f"}}"
    )
out.append("int main(void) { return f0(3) & 0x7f; }")
print("\n".join(out))
