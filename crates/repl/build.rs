//! Builds the clang fork server (`forkserver/forkserver.c`) as a shared
//! library that the REPL loads into clang with LD_PRELOAD. If no C
//! compiler is available, an empty file is written and the REPL runs clang
//! the ordinary way.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("forkserver.so");
    let src = "forkserver/forkserver.c";
    println!("cargo:rerun-if-changed={src}");
    let built = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && cc::Build::new()
            .get_compiler()
            .to_command()
            .args(["-shared", "-fPIC", "-O2", "-o"])
            .arg(&out)
            .arg(src)
            .arg("-ldl")
            .status()
            .is_ok_and(|s| s.success());
    if !built {
        println!("cargo:warning=clang fork server not built (no C compiler?): bpf-repl will start clang once per input");
        std::fs::write(&out, b"").expect("write placeholder");
    }
}
