//! Standard input and files, called as helpers: what a program reads from
//! the input the host gave it, the granted directory and every escape from
//! it, the notes a user sees, and the limits.

mod common;

use bpf_runtime::{InputSource, OutputSink, Runtime, STDIN_HANDLE, STDOUT_HANDLE};
use common::{assert_fault, Env};

const EOF: u64 = u64::MAX;

/// `errno` as the program sees it.
fn errno(env: &mut Env) -> i32 {
    let at = env.ok("__errno_location", &[]);
    env.mem.load(at, 4).unwrap() as u32 as i32
}

fn set_errno(env: &mut Env, v: i32) {
    let at = env.ok("__errno_location", &[]);
    env.mem.store(at, 4, v as u32 as u64).unwrap();
}

#[test]
fn reading_standard_input_the_host_pushed() {
    let mut env = Env::new();
    env.rt.push_stdin(b"ab\n12 34\nrest");
    assert_eq!(env.ok("getchar", &[]), b'a' as u64);
    assert_eq!(env.ok("ungetc", &[b'A' as u64, STDIN_HANDLE]), b'A' as u64);
    let buf = env.data(&[0xff; 16]);
    assert_eq!(env.ok("fgets", &[buf, 16, STDIN_HANDLE]), buf);
    assert_eq!(env.read_cstr(buf), b"Ab\n");
    let f = env.literal(b"%d %d");
    let (a, b) = (env.data(&[0; 4]), env.data(&[0; 4]));
    assert_eq!(env.ok_va("scanf", &[f], &[a, b]), 2);
    assert_eq!(env.mem.load(b, 4).unwrap(), 34);
    // read(0) takes what is there, then reports the end.
    let n = env.ok("read", &[0, buf, 16]);
    assert_eq!(env.mem.read_bytes(buf, n as usize).unwrap(), b"\nrest");
    assert_eq!(env.ok("read", &[0, buf, 16]), 0);
    assert_eq!(env.ok("getchar", &[]), EOF);
    assert_eq!(env.ok("feof", &[STDIN_HANDLE]), 1);
    // More input clears the end, as a terminal's would.
    env.rt.push_stdin(b"z");
    assert_eq!(env.ok("feof", &[STDIN_HANDLE]), 0);
    assert_eq!(env.ok("getchar", &[]), b'z' as u64);
    assert_eq!(env.output(), "", "no note: input was given");
}

#[test]
fn a_reader_supplies_input_as_it_is_asked_for() {
    let mut env = Env::new();
    env.rt.set_stdin(InputSource::reader(std::io::Cursor::new(
        b"line one\nline two\n".to_vec(),
    )));
    let buf = env.data(&[0; 32]);
    env.ok("fgets", &[buf, 32, STDIN_HANDLE]);
    assert_eq!(env.read_cstr(buf), b"line one\n");
    env.ok("fgets", &[buf, 32, STDIN_HANDLE]);
    assert_eq!(env.read_cstr(buf), b"line two\n");
    assert_eq!(env.ok("fgets", &[buf, 32, STDIN_HANDLE]), 0);
}

#[test]
fn reading_input_never_given_says_how_to_give_it_once() {
    let mut env = Env::new();
    assert_eq!(env.ok("getchar", &[]), EOF);
    assert_eq!(env.ok("getchar", &[]), EOF);
    let out = env.output();
    assert_eq!(out.matches("note:").count(), 1, "{out}");
    assert!(out.contains("--stdin FILE") && out.contains("//<"), "{out}");
}

#[test]
fn input_functions_check_their_arguments() {
    let mut env = Env::new();
    env.rt.push_stdin(b"abcdef");
    assert_fault(env.call("fgetc", &[0]), &["fgetc", "the stream is NULL"]);
    assert_fault(env.call("fgetc", &[0x55]), &["fgetc", "not a stream"]);
    // fgets checks the whole buffer before reading.
    match env.call("fgets", &[0x10, 4, STDIN_HANDLE]) {
        Err(bpf_vm::HelperError::Memory(e)) => assert_eq!(e.addr, 0x10),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.ok("getchar", &[]), b'a' as u64, "nothing was consumed");
    // Reading from an output stream fails as in C.
    assert_eq!(env.ok("fgetc", &[STDOUT_HANDLE]), EOF);
    assert_eq!(errno(&mut env), libc::EBADF);
}

/// A fresh directory tree: `root/granted` (with `inside.txt` and a
/// symbolic link `escape` to `root/secret.txt`) and `root/secret.txt`.
fn tree(test: &str) -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fs-{test}"));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("granted/sub")).unwrap();
    std::fs::write(root.join("secret.txt"), b"secret").unwrap();
    std::fs::write(root.join("granted/inside.txt"), b"inside\n").unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), root.join("granted/escape")).unwrap();
    std::os::unix::fs::symlink("..", root.join("granted/up")).unwrap();
    root
}

fn fopen(env: &mut Env, name: &str, mode: &str) -> u64 {
    let (n, m) = (env.cstr(name.as_bytes()), env.cstr(mode.as_bytes()));
    env.ok("fopen", &[n, m])
}

#[test]
fn without_a_grant_files_fail_and_a_note_says_how_to_grant_one() {
    let mut env = Env::new();
    assert_eq!(fopen(&mut env, "data.txt", "r"), 0);
    assert_eq!(errno(&mut env), libc::EACCES);
    let name = env.cstr(b"data.txt");
    assert_eq!(env.ok("remove", &[name]) as i64, -1);
    let out = env.output();
    assert!(
        out.contains("note: fopen(\"data.txt\"): no directory is granted"),
        "{out}"
    );
    assert!(out.contains("--fs DIR"), "{out}");
}

#[test]
fn escapes_from_the_granted_directory_are_refused() {
    let root = tree("escapes");
    let out = OutputSink::buffer();
    let notes = OutputSink::buffer();
    let rt = Runtime::new(out.clone()).with_notices(notes.clone());
    rt.grant_fs(&root.join("granted")).unwrap();
    let mut env = Env::with_runtime(rt, out);
    let inside = fopen(&mut env, "inside.txt", "r");
    assert_ne!(inside, 0);
    let escapes = [
        ("../secret.txt", "`..`"),
        ("sub/../../secret.txt", "`..`"),
        ("sub/../inside.txt", "`..`"),
        ("escape", "symbolic link"),
        ("up/secret.txt", "symbolic link"),
    ];
    let abs = root.join("secret.txt").display().to_string();
    for (name, why) in escapes.iter().copied().chain([(abs.as_str(), "absolute")]) {
        set_errno(&mut env, 0);
        assert_eq!(fopen(&mut env, name, "r"), 0, "{name}");
        assert_eq!(errno(&mut env), libc::EACCES, "{name}");
        if why != "symbolic link" {
            let n = env.cstr(name.as_bytes());
            assert_eq!(env.ok("remove", &[n]) as i64, -1, "{name}");
        }
        let text = String::from_utf8(notes.take()).unwrap();
        assert!(text.contains(why), "{name}: {text}");
    }
    // Writing through a link is refused too.
    assert_eq!(fopen(&mut env, "escape", "w"), 0);
    let (from, to) = (env.cstr(b"inside.txt"), env.cstr(b"../moved.txt"));
    assert_eq!(env.ok("rename", &[from, to]) as i64, -1);
    assert_eq!(std::fs::read(root.join("secret.txt")).unwrap(), b"secret");
    // Removing a link removes the link (an entry of the granted
    // directory), never what it points to.
    let link = env.cstr(b"escape");
    assert_eq!(env.ok("remove", &[link]), 0);
    assert!(root.join("granted/escape").symlink_metadata().is_err());
    assert_eq!(std::fs::read(root.join("secret.txt")).unwrap(), b"secret");
    assert!(root.join("granted/inside.txt").exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn files_are_written_read_and_closed() {
    let root = tree("files");
    let mut env = Env::new();
    env.rt.grant_fs(&root.join("granted")).unwrap();
    let f = fopen(&mut env, "sub/new.txt", "w+");
    assert_ne!(f, 0);
    let text = env.cstr(b"hello file");
    assert_eq!(env.ok("fputs", &[text, f]), 1);
    assert_eq!(env.ok("ftell", &[f]), 10);
    env.ok("rewind", &[f]);
    let buf = env.data(&[0; 16]);
    assert_eq!(env.ok("fread", &[buf, 1, 16, f]), 10);
    assert_eq!(env.read_cstr(buf), b"hello file");
    assert_eq!(env.ok("feof", &[f]), 1);
    assert_eq!(env.ok("fclose", &[f]), 0);
    assert_eq!(
        std::fs::read(root.join("granted/sub/new.txt")).unwrap(),
        b"hello file"
    );
    // A closed stream is reported as one.
    assert_fault(
        env.call("fputs", &[text, f]),
        &["fputs", "closed by fclose"],
    );
    // rename and remove stay inside too.
    let (a, b) = (env.cstr(b"sub/new.txt"), env.cstr(b"moved.txt"));
    assert_eq!(env.ok("rename", &[a, b]), 0);
    assert!(root.join("granted/moved.txt").exists());
    assert_eq!(env.ok("remove", &[b]), 0);
    assert!(!root.join("granted/moved.txt").exists());
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn open_files_and_bytes_written_are_limited_and_the_limits_named() {
    let root = tree("limits");
    let out = OutputSink::buffer();
    let rt = Runtime::new(out.clone())
        .with_max_open_files(2)
        .with_file_write_limit(8);
    rt.grant_fs(&root.join("granted")).unwrap();
    let mut env = Env::with_runtime(rt, out);
    let a = fopen(&mut env, "a.txt", "w");
    let b = fopen(&mut env, "b.txt", "w");
    assert!(a != 0 && b != 0);
    assert_eq!(fopen(&mut env, "c.txt", "w"), 0);
    assert_eq!(errno(&mut env), libc::EMFILE);
    let big = env.data(&[b'x'; 16]);
    assert_eq!(env.ok("fwrite", &[big, 1, 6, a]), 6);
    assert_eq!(env.ok("fwrite", &[big, 1, 6, b]), 0);
    assert_eq!(errno(&mut env), libc::EFBIG);
    assert_eq!(env.ok("ferror", &[b]), 1);
    let notes = env.output();
    assert!(notes.contains("with_max_open_files"), "{notes}");
    assert!(notes.contains("with_file_write_limit"), "{notes}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn tmpfile_needs_no_directory() {
    let mut env = Env::new();
    let t = env.ok("tmpfile", &[]);
    assert_ne!(t, 0);
    let f = env.literal(b"%d-%s");
    let s = env.cstr(b"x");
    assert_eq!(env.ok_va("fprintf", &[t, f], &[42, s]), 4);
    env.ok("rewind", &[t]);
    let (n, w) = (env.data(&[0; 4]), env.data(&[0; 8]));
    let f = env.literal(b"%d-%7s");
    assert_eq!(env.ok_va("fscanf", &[t, f], &[n, w]), 2);
    assert_eq!(env.mem.load(n, 4).unwrap(), 42);
    assert_eq!(env.read_cstr(w), b"x");
    assert_eq!(env.ok("fclose", &[t]), 0);
}
