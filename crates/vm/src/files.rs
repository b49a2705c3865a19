//! Reading the files a user names on a command line (programs, input
//! buffers, objects, REPL scripts) with a size bound: a regular file's
//! size is checked before any byte is read, a pipe is read only up to the
//! bound, and devices (`/dev/zero`, `/dev/urandom`...) are refused
//! without reading.

use std::io::Read;
use std::path::Path;

/// The default bound on VM memory and on each input file: 2 GiB.
pub const DEFAULT_MEMORY_LIMIT: usize = 2 << 30;

/// Reads `path` whole if it is a regular file or a pipe of at most
/// `limit` bytes. `what` says what the file is for messages (`program`,
/// or empty); `limit_name` names the option that sets the bound
/// (`--memory-limit`). Errors are complete sentences naming the file.
pub fn read_bounded(
    path: &Path,
    what: &str,
    limit: usize,
    limit_name: &str,
) -> Result<Vec<u8>, String> {
    let shown = match what {
        "" => path.display().to_string(),
        what => format!("{what} {}", path.display()),
    };
    let cannot = |e: std::io::Error| format!("cannot read {shown}: {e}");
    let meta = std::fs::metadata(path).map_err(cannot)?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(format!("cannot read {shown}: it is a directory"));
    }
    if !kind.is_file() && !is_pipe(&kind) {
        return Err(format!(
            "cannot read {shown}: not a regular file or a pipe (devices are not read)"
        ));
    }
    if kind.is_file() && meta.len() > limit as u64 {
        return Err(too_large(&shown, meta.len(), limit, limit_name));
    }
    let file = std::fs::File::open(path).map_err(cannot)?;
    read_at_most(file, limit, &shown, limit_name)
}

/// Reads a stream (standard input) up to `limit` bytes; more is an error.
pub fn read_at_most(
    reader: impl Read,
    limit: usize,
    name: &str,
    limit_name: &str,
) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {name}: {e}"))?;
    if bytes.len() > limit {
        return Err(format!(
            "{name} is larger than the limit of {limit} bytes ({limit_name}); it was not read further"
        ));
    }
    Ok(bytes)
}

fn too_large(name: &str, size: u64, limit: usize, limit_name: &str) -> String {
    format!("{name} is {size} bytes, more than the limit of {limit} bytes ({limit_name})")
}

#[cfg(unix)]
fn is_pipe(kind: &std::fs::FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    kind.is_fifo() || kind.is_socket()
}

#[cfg(not(unix))]
fn is_pipe(_kind: &std::fs::FileType) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_refused_without_reading() {
        let e = read_bounded(Path::new("/dev/zero"), "", 1 << 20, "--memory-limit").unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_bounded(Path::new("/"), "", 10, "--memory-limit").unwrap_err();
        assert!(e.contains("directory"), "{e}");
    }

    #[test]
    fn sizes_are_checked_before_reading() {
        let dir = std::env::temp_dir().join(format!("bpf-vm-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f");
        std::fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(read_bounded(&path, "", 100, "--x").unwrap().len(), 100);
        let e = read_bounded(&path, "", 99, "--memory-limit").unwrap_err();
        assert!(
            e.contains("100 bytes") && e.contains("--memory-limit"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        let e = read_at_most(&[1u8; 10][..], 9, "<stdin>", "--memory-limit").unwrap_err();
        assert!(e.contains("<stdin>"), "{e}");
    }
}
