//! Embeds every file under `include/` (subdirectories too) in the library,
//! so an installed binary carries its C headers: `include_dir()` writes
//! them to a private cache directory. New headers are picked up without
//! any list: cargo reruns this script when anything under `include/` changes.

use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"))
        .join("include");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    let mut out = String::from(
        "/// Every header of `include/`: path relative to it, contents.\n\
         pub(crate) static HEADERS: &[(&str, &[u8])] = &[\n",
    );
    for (relative, absolute) in files {
        out.push_str(&format!(
            "    ({relative:?}, include_bytes!({:?})),\n",
            absolute.display().to_string()
        ));
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("headers.rs");
    std::fs::write(dest, out).expect("write headers.rs");
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            collect(root, &path, out);
        } else if path.is_file() {
            let relative = path.strip_prefix(root).expect("under include/");
            let relative = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((relative, path));
        }
    }
}
