// Meta commands: inputs starting with `%` talk to the REPL itself. They
// work in replayed files and transcripts as they do at the prompt.
%help
//> Type C: declarations, statements, and an expression to print its value.
//> An input continues over several lines until it is complete; Tab completes names.
//> Ctrl-C cancels the line being typed or stops a running input; Ctrl-D quits.
//>   %help                       this list
//>   %quit                       leave the REPL (also Ctrl-D)
//>   %undo [N]                   forget the last N inputs (default 1): their definitions and their effects
//>   %reset                      forget every input
//>   %symbols                    the session's symbols: name, kind, address, size, defining input
//>   %disasm NAME                disassemble function NAME, with its source lines
//>   %graph [--all] [NAME]       link graph of the last input (or of NAME's), before and after fixup
//>   %time [on|off]              show each input's compile, link and run times
//>   %save FILE                  write the session's inputs to FILE, to replay with `bpf-repl FILE` or %load
//>   %load FILE                  run FILE's inputs in this session
//>   %strict [on|off]            strict BPF for later inputs: only what plain BPF runs (--strict-bpf)
//>   %ub [on|off]                undefined-behaviour checks in later inputs (on unless --no-ub-checks)
//>   %cflags [FLAGS...|--clear]  show or replace the extra clang flags of later inputs
//>   %threads                    threads that outlived their input: state and where they are
//>   %engine [interp|jit|auto]   show or change what runs the code: interpreter, JIT, or both (--engine)
//>   %memcheck                   whether heap and global accesses are checked (set at start: --memcheck)
//>   %maps                       the kernel-style maps (SEC(".maps")): name, type, sizes
//>   %map NAME                   dump map NAME's entries
//>   %run-prog NAME INPUT        run kernel-style program NAME on INPUT: --packet HEX, --pcap FILE or --ctx HEX
//>   %verify NAME [OPTIONS]      would the Linux verifier load program NAME? (--type SEC, --unprivileged)
unsigned sq(unsigned x) { return x * x; }
int total = 10;
sq(3) + total
//> (unsigned int) 19
// The REPL's own symbols (__repl_*) are not listed.
%symbols
//> name   kind          address  size  defined by
//> sq     function  0x100000000    24  meta.c:27
//> total  variable  0x300000000     4  meta.c:28
// llvm-objdump syntax, with the source line interleaved.
%disasm sq
//> 0000000100000000 <sq>:
//> ; unsigned sq(unsigned x) { return x * x; }
//>        0:	bc 10 00 00 00 00 00 00	w0 = w1
//>        1:	2c 00 00 00 00 00 00 00	w0 *= w0
//>        2:	95 00 00 00 00 00 00 00	exit
%disasm total
//! %disasm: `total` is not a function
%disasm nothing_here
//! %disasm: no function named `nothing_here`
%graph sq
//> before fixup:
//> link graph of meta.c:27-28
//>   section #0 .text (code), size 0x18, align 8, at unallocated
//>     symbol sq +0x0 size 0x18 Global Function (#11)
//>   section #1 .data.total (data), size 0x4, align 4, at unallocated
//>     symbol total +0x0 size 0x4 Global Object (#12)
//>   section #13 $__STUBS (stubs), size 0x10, align 8, at unallocated
//>     symbol sq@stub +0x0 size 0x10 Local Other (#13)
//>     edge +0x0 STUB_BRANCH -> sq+0x0  [85 20 00 00 00 00 00 00]
//>   (11 debug and BTF sections left out; %graph --all shows them)
//> after fixup:
//> link graph of meta.c:27-28
//>   section #0 .text (code), size 0x18, align 8, at 0x100000000
//>     symbol sq +0x0 size 0x18 Global Function (#11)
//>   section #1 .data.total (data), size 0x4, align 4, at 0x300000000
//>     symbol total +0x0 size 0x4 Global Object (#12)
//>   section #13 $__STUBS (stubs), size 0x10, align 8, at 0x100000018
//>     symbol sq@stub +0x0 size 0x10 Local Other (#13)
//>     edge +0x0 STUB_BRANCH -> sq+0x0  [06 00 00 00 fc ff ff ff]
//>   (11 debug and BTF sections left out; %graph --all shows them)
total = 20;
// %undo forgets inputs (not meta commands), with their effects.
%undo
//> undid meta.c:68: total = 20;
total
//> (int) 10
// Inspections change nothing, so %undo does not count them.
total = 30;
total
//> (int) 30
%undo
//> undid meta.c:75: total = 30;
total
//> (int) 10
sq(2)
//> (unsigned int) 4
%undo 0
//! %undo: N must be a positive number, not `0`
%undo lots
//! %undo: N must be a positive number, not `lots`
// Extra clang flags for later inputs; clang checks them first.
%cflags
//> no extra clang flags (set them with %cflags FLAGS...)
%cflags -DSCALE=3
//> extra clang flags: -DSCALE=3
sq(SCALE)
//> (unsigned int) 9
%cflags -fno-such-flag
//! %cflags: `-fno-such-flag` is not allowed: it is not one of the flags known to only change the language, the code or the warnings (allowed: -D -U -I -isystem -iquote -idirafter -O<level> -std= -W<warning> -w -pedantic -g -mcpu=v1..v4 -f<language flag>); the flags are not set
%cflags
//> extra clang flags: -DSCALE=3
%time
//> times are off
%time off
//> times are off
%time maybe
//! usage: %time [on|off]
// A saved session replays into a fresh one.
%save /tmp/bpf-repl-meta-transcript.c
//> saved 7 inputs to /tmp/bpf-repl-meta-transcript.c
%reset
//> session reset: every input forgotten
sq(1)
//! meta.c:110:1: error: call to undeclared function 'sq'; ISO C99 and later do not support implicit function declarations [-Wimplicit-function-declaration]
//!   110 | sq(1)
//!       | ^
%cflags --clear
//> extra clang flags cleared
%load /tmp/bpf-repl-meta-transcript.c
//> extra clang flags: -DSCALE=3
//> (unsigned int) 19
//> (int) 10
//> (int) 10
//> (unsigned int) 4
//> (unsigned int) 9
sq(SCALE) + total
//> (unsigned int) 19
%load /nonexistent/dir/file.c
//! %load: cannot read /nonexistent/dir/file.c: No such file or directory (os error 2)
// Mistyped commands get a suggestion.
%symbl
//! unknown command %symbl; did you mean %symbols? (%help lists commands)
%dissasm sq
//! unknown command %dissasm; did you mean %disasm? (%help lists commands)
%frobnicate
//! unknown command %frobnicate (%help lists commands)
%
//! `%` needs a command name: %help lists them
%quit
//! %quit: works only at the prompt
// A `%` that continues an input is the remainder operator.
(sq(7)
% 5)
//> (unsigned int) 4
