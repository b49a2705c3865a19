//! The headers ship inside the library: `include_dir()` is a private
//! cache directory holding exactly the files of `crates/runtime/include`,
//! so a binary keeps working after the source checkout moves.

use std::path::{Path, PathBuf};

fn files_under(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(root, &path, out);
        } else if path.file_name().is_some_and(|n| n != ".complete") {
            out.push(path.strip_prefix(root).unwrap().to_path_buf());
        }
    }
}

#[test]
fn include_dir_is_a_cache_copy_of_every_header() {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("embedded-headers-cache");
    let _ = std::fs::remove_dir_all(&cache);
    // Before the first call in this process (a test binary of its own).
    std::env::set_var("XDG_CACHE_HOME", &cache);
    let dir = bpf_runtime::include_dir();
    assert!(dir.starts_with(&cache), "{}", dir.display());
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("include");
    let (mut want, mut got) = (Vec::new(), Vec::new());
    files_under(&source, &source, &mut want);
    files_under(&dir, &dir, &mut got);
    want.sort();
    got.sort();
    assert_eq!(got, want);
    for f in &want {
        assert_eq!(
            std::fs::read(source.join(f)).unwrap(),
            std::fs::read(dir.join(f)).unwrap(),
            "{}",
            f.display()
        );
    }
    assert_eq!(bpf_runtime::embedded_headers().len(), want.len());
    // The flags name the cache copy, not the checkout.
    let flags: Vec<String> = bpf_runtime::clang_args()
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert!(flags.contains(&dir.display().to_string()), "{flags:?}");
}
