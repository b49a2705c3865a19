//! The one directory a program may use (`--fs DIR`), and names resolved
//! strictly inside it.
//!
//! A name is relative to the granted directory. It may not be absolute and
//! may not contain `..`; every directory on the way is opened relative to
//! the one before with `O_NOFOLLOW`, so no symbolic link is followed (a
//! link is refused by name, wherever it points), and the last component
//! is opened with `O_NOFOLLOW` too. Only regular files and directories are
//! opened (a FIFO or device could hang or reach the host). Nothing here
//! depends on the process's working directory.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

/// Why a name was not opened: a refusal of ours, or the host's error.
#[derive(Debug)]
pub(crate) enum FsError {
    /// The name breaks a rule; the text says which. `errno` is C's.
    Refused { why: String, errno: i32 },
    /// The host refused (no such file, ...).
    Host(io::Error),
}

impl FsError {
    /// The `errno` value a C library would set.
    pub(crate) fn errno(&self) -> i32 {
        match self {
            FsError::Refused { errno, .. } => *errno,
            FsError::Host(e) => e.raw_os_error().unwrap_or(libc::EIO),
        }
    }
}

fn refused(why: impl Into<String>, errno: i32) -> FsError {
    FsError::Refused {
        why: why.into(),
        errno,
    }
}

/// The granted directory.
#[derive(Debug)]
pub struct Grant {
    dir: OwnedFd,
    path: PathBuf,
}

/// A name split into the directory holding it and its last component.
struct Resolved {
    parent: OwnedFd,
    last: CString,
}

fn last_os_error() -> FsError {
    FsError::Host(io::Error::last_os_error())
}

impl Grant {
    /// Grants `path` (which must be a directory).
    pub fn new(path: &Path) -> io::Result<Grant> {
        let c = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL byte in path"))?;
        // SAFETY: a NUL-terminated path; the result is checked.
        let fd = unsafe {
            libc::open(
                c.as_ptr(),
                libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Grant {
            // SAFETY: `fd` was just opened and is owned by nothing else.
            dir: unsafe { OwnedFd::from_raw_fd(fd) },
            path: path.to_path_buf(),
        })
    }

    /// The directory as the user named it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Walks `name` to its last component, refusing what would leave the
    /// directory.
    fn resolve(&self, name: &[u8]) -> Result<Resolved, FsError> {
        if name.is_empty() {
            return Err(FsError::Host(io::Error::from_raw_os_error(libc::ENOENT)));
        }
        if name[0] == b'/' {
            return Err(refused(
                "absolute paths are not allowed: name files relative to the granted directory",
                libc::EACCES,
            ));
        }
        let parts: Vec<&[u8]> = name
            .split(|b| *b == b'/')
            .filter(|p| !p.is_empty() && *p != b".")
            .collect();
        if parts.iter().any(|p| *p == b"..") {
            return Err(refused(
                "`..` is not allowed: a program may only use the granted directory",
                libc::EACCES,
            ));
        }
        let dup = |fd: RawFd| {
            // SAFETY: duplicating a descriptor we own.
            let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
            if d < 0 {
                Err(last_os_error())
            } else {
                // SAFETY: just made, owned by nothing else.
                Ok(unsafe { OwnedFd::from_raw_fd(d) })
            }
        };
        let mut dir = dup(self.dir.as_raw_fd())?;
        let Some((last, walk)) = parts.split_last() else {
            // The directory itself (".", "./").
            return Ok(Resolved {
                parent: dir,
                last: c".".to_owned(),
            });
        };
        for part in walk {
            let c = component(part)?;
            // SAFETY: a NUL-terminated name relative to a live descriptor.
            let fd = unsafe {
                libc::openat(
                    dir.as_raw_fd(),
                    c.as_ptr(),
                    libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                )
            };
            if fd < 0 {
                let err = io::Error::last_os_error();
                if is_symlink(&dir, &c) {
                    return Err(link_refused(part));
                }
                return Err(FsError::Host(err));
            }
            // SAFETY: just opened, owned by nothing else.
            dir = unsafe { OwnedFd::from_raw_fd(fd) };
        }
        Ok(Resolved {
            parent: dir,
            last: component(last)?,
        })
    }

    /// Opens `name` with `open(2)` flags (`O_CREAT` files get mode 0666
    /// less the umask).
    pub(crate) fn open(&self, name: &[u8], flags: i32) -> Result<File, FsError> {
        let r = self.resolve(name)?;
        // SAFETY: a NUL-terminated name relative to a live descriptor.
        let fd = unsafe {
            libc::openat(
                r.parent.as_raw_fd(),
                r.last.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
                0o666 as libc::c_uint,
            )
        };
        if fd < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ELOOP) && is_symlink(&r.parent, &r.last) {
                return Err(link_refused(r.last.as_bytes()));
            }
            return Err(FsError::Host(err));
        }
        // SAFETY: just opened, owned by nothing else.
        let file = unsafe { File::from_raw_fd(fd) };
        let kind = file.metadata().map_err(FsError::Host)?.file_type();
        if !kind.is_file() && !kind.is_dir() {
            return Err(refused(
                "only regular files may be opened (not devices, sockets or FIFOs)",
                libc::EACCES,
            ));
        }
        // Back to blocking mode (regular files never block anyway).
        // SAFETY: fcntl on a descriptor we own.
        unsafe { libc::fcntl(fd, libc::F_SETFL, flags & libc::O_APPEND) };
        Ok(file)
    }

    /// Removes the file (or empty directory) `name`.
    pub(crate) fn remove(&self, name: &[u8]) -> Result<(), FsError> {
        let r = self.resolve(name)?;
        // SAFETY: a NUL-terminated name relative to a live descriptor.
        let mut rc = unsafe { libc::unlinkat(r.parent.as_raw_fd(), r.last.as_ptr(), 0) };
        if rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EISDIR) {
            // SAFETY: as above.
            rc = unsafe {
                libc::unlinkat(r.parent.as_raw_fd(), r.last.as_ptr(), libc::AT_REMOVEDIR)
            };
        }
        if rc != 0 {
            return Err(last_os_error());
        }
        Ok(())
    }

    /// Renames `from` to `to`, both inside the directory.
    pub(crate) fn rename(&self, from: &[u8], to: &[u8]) -> Result<(), FsError> {
        let (a, b) = (self.resolve(from)?, self.resolve(to)?);
        // SAFETY: NUL-terminated names relative to live descriptors.
        let rc = unsafe {
            libc::renameat(
                a.parent.as_raw_fd(),
                a.last.as_ptr(),
                b.parent.as_raw_fd(),
                b.last.as_ptr(),
            )
        };
        if rc != 0 {
            return Err(last_os_error());
        }
        Ok(())
    }
}

/// One path component as a C string.
fn component(part: &[u8]) -> Result<CString, FsError> {
    CString::new(part).map_err(|_| FsError::Host(io::Error::from_raw_os_error(libc::EINVAL)))
}

fn link_refused(part: &[u8]) -> FsError {
    refused(
        format!(
            "`{}` is a symbolic link, and links are not followed",
            String::from_utf8_lossy(part)
        ),
        libc::EACCES,
    )
}

/// True if `name` in `dir` is a symbolic link.
fn is_symlink(dir: &OwnedFd, name: &CString) -> bool {
    // SAFETY: an all-zero stat is a valid output buffer; the name is
    // NUL-terminated and relative to a live descriptor.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        ) == 0
            && (st.st_mode & libc::S_IFMT) == libc::S_IFLNK
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(e: FsError) -> String {
        match e {
            FsError::Refused { why, .. } => why,
            FsError::Host(e) => format!("host: {e}"),
        }
    }

    #[test]
    fn escapes_are_refused() {
        let root = std::env::temp_dir().join(format!("bpf-rt-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("in/sub")).unwrap();
        std::fs::write(root.join("secret"), b"x").unwrap();
        std::fs::write(root.join("in/ok.txt"), b"y").unwrap();
        std::os::unix::fs::symlink("../secret", root.join("in/link")).unwrap();
        std::os::unix::fs::symlink("..", root.join("in/up")).unwrap();
        let g = Grant::new(&root.join("in")).unwrap();
        assert!(g.open(b"ok.txt", libc::O_RDONLY).is_ok());
        assert!(g.open(b"./sub/../ok.txt", libc::O_RDONLY).is_err());
        assert!(why(g.open(b"../secret", libc::O_RDONLY).unwrap_err()).contains("`..`"));
        assert!(why(g.open(b"/etc/passwd", libc::O_RDONLY).unwrap_err()).contains("absolute"));
        assert!(why(g.open(b"link", libc::O_RDONLY).unwrap_err()).contains("symbolic link"));
        assert!(why(g.open(b"up/secret", libc::O_RDONLY).unwrap_err()).contains("symbolic link"));
        assert!(why(g.open(b"missing", libc::O_RDONLY).unwrap_err()).contains("host"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
