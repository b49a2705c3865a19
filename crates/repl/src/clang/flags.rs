//! The clang flags a user may add (`--cflags`, `%cflags`, a transcript's
//! options line). Flags that change the language or the warnings pass;
//! anything that loads code into clang, reads or writes host files, or
//! changes what the REPL asks clang to produce is refused with a message.
//! The check is an allowlist: a flag not known to be harmless is refused.

/// Flags that take the next word as their value.
const WITH_VALUE: &[&str] = &["-D", "-U", "-I", "-isystem", "-iquote", "-idirafter"];

/// `-f` flags (also as `-fno-...`) that only change the language, the
/// code or the diagnostics.
#[rustfmt::skip]
const LANGUAGE_FLAGS: &[&str] = &[
    "signed-char", "unsigned-char", "wrapv", "trapv", "strict-aliasing", "common", "builtin",
    "inline", "inline-functions", "unroll-loops", "short-enums", "ms-extensions",
    "gnu89-inline", "asm", "gnu-keywords", "dollars-in-identifiers",
    "delete-null-pointer-checks", "jump-tables", "math-errno", "fast-math",
    "finite-math-only", "signed-zeros", "pack-struct", "zero-initialized-in-bss",
    "strict-overflow", "omit-frame-pointer", "freestanding", "hosted", "declspec",
    "lax-vector-conversions", "caret-diagnostics", "color-diagnostics", "show-column",
    "show-source-location", "spell-checking", "elide-type", "signed-bitfields",
    "unsigned-bitfields", "strict-enums", "merge-all-constants", "semantic-interposition",
    "pic", "PIC", "standalone-debug", "debug-macro", "blocks", "double-square-bracket-attributes",
    "fixed-point", "char8_t", "access-control", "ident", "keep-static-consts",
];

/// `-f` flags with a value (`-ffp-contract=fast`).
#[rustfmt::skip]
const LANGUAGE_VALUE_FLAGS: &[&str] = &[
    "fp-contract=", "pack-struct=", "max-type-align=", "macro-backtrace-limit=", "error-limit=",
    "diagnostics-", "message-length=", "tabstop=", "constexpr-steps=", "bracket-depth=",
    "extended-identifiers", "trivial-auto-var-init=",
];

/// Checks user flags; the error names the first refused flag and why.
pub fn check(flags: &[String]) -> Result<(), String> {
    let mut words = flags.iter();
    while let Some(flag) = words.next() {
        if WITH_VALUE.contains(&flag.as_str()) {
            if words.next().is_none() {
                return Err(format!("`{flag}` needs a value after it"));
            }
            continue;
        }
        if !allowed(flag) {
            return Err(refusal(flag));
        }
    }
    Ok(())
}

fn allowed(flag: &str) -> bool {
    let with_inline_value = ["-D", "-U", "-I"]
        .iter()
        .any(|p| flag.len() > 2 && flag.starts_with(p));
    if with_inline_value {
        return true;
    }
    if let Some(f) = flag.strip_prefix("-f") {
        let f = f.strip_prefix("no-").unwrap_or(f);
        return LANGUAGE_FLAGS.contains(&f)
            || f.strip_prefix("builtin-").is_some_and(|b| !b.is_empty())
            || LANGUAGE_VALUE_FLAGS.iter().any(|p| f.starts_with(p));
    }
    if let Some(w) = flag.strip_prefix("-W") {
        // -Wl, -Wa, -Wp pass arguments to other tools (-Wp,-MD,FILE writes a file).
        return !w.contains(',');
    }
    if let Some(cpu) = flag.strip_prefix("-mcpu=") {
        return matches!(cpu, "v1" | "v2" | "v3" | "v4" | "generic" | "probe");
    }
    if let Some(std) = flag.strip_prefix("-std=") {
        return !std.is_empty();
    }
    matches!(
        flag,
        "-O" | "-O0"
            | "-O1"
            | "-O2"
            | "-O3"
            | "-Os"
            | "-Oz"
            | "-Og"
            | "-w"
            | "-pedantic"
            | "-pedantic-errors"
            | "-ansi"
            | "-g"
            | "-gdwarf-4"
            | "-gdwarf-5"
            | "-malu32"
            | "-mlittle-endian"
            | "-trigraphs"
    )
}

fn refusal(flag: &str) -> String {
    let why = if flag == "-mllvm" {
        "LLVM's optimizer and BPF backend run in bpf-repl's IR stage, which clang's -mllvm \
         options do not reach (the frame size is --stack-size)"
    } else if flag.starts_with('@') {
        "it reads flags from a host file"
    } else if flag.starts_with("-fplugin") || flag.starts_with("-fpass-plugin") || flag == "-load" {
        "it loads host code into clang"
    } else if flag == "-Xclang" || flag.starts_with("-Xclang") || flag.starts_with("-Xpreprocessor")
    {
        "it passes flags to clang's internals unchecked"
    } else if flag.starts_with("-M") || flag == "-o" || flag.contains("serialize-diagnostics") {
        "it makes clang write host files"
    } else if flag.starts_with("-W") {
        "it passes arguments to another tool"
    } else {
        "it is not one of the flags known to only change the language, the code or the warnings"
    };
    format!(
        "`{flag}` is not allowed: {why} (allowed: -D -U -I -isystem -iquote -idirafter \
         -O<level> -std= -W<warning> -w -pedantic -g -mcpu=v1..v4 -f<language flag>)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn language_and_warning_flags_pass() {
        for ok in [
            "-DN=3 -Wall -Wextra -Werror=format -O0 -std=c11",
            "-D X -U Y -I /tmp/inc -isystem /usr/x -fwrapv -fno-strict-aliasing -funsigned-char",
            "-g -fno-builtin-memcpy -fdiagnostics-show-option",
        ] {
            assert_eq!(check(&words(ok)), Ok(()), "{ok}");
        }
    }

    #[test]
    fn flags_that_touch_the_host_are_refused() {
        for (bad, says) in [
            ("-fplugin=x.so", "loads host code"),
            ("-fpass-plugin=x.so", "loads host code"),
            ("-Xclang -load -Xclang x.so", "clang's internals"),
            ("-MD -MF out.d", "write host files"),
            ("-o /tmp/x", "write host files"),
            ("@/etc/shadow", "host file"),
            ("--serialize-diagnostics /tmp/d", "write host files"),
            ("-Wp,-MD,/tmp/x", "another tool"),
            ("-mllvm -debug-pass=Structure", "IR stage"),
            ("-mllvm -bpf-stack-size=4096", "--stack-size"),
            ("-save-temps", "not one of"),
            ("-include /etc/shadow", "not one of"),
            ("-target x86_64", "not one of"),
            ("-fprofile-generate", "not one of"),
            ("-D", "needs a value"),
        ] {
            let e = check(&words(bad)).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
