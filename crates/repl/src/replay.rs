//! Running inputs as the REPL's front ends do: one input (C or a meta
//! command, `%load` included), a whole file (C inputs batched into few
//! clang runs), or a transcript (the file rewritten with the output under
//! each input).

use crate::engine::{Origin, Repl};
use crate::meta::{self, Flow, Place};
use crate::printed::{printed, Printed};
use crate::transcript::{collect_inputs, Chunk, Splitter, STDERR_MARK, STDOUT_MARK};
use std::sync::atomic::Ordering;

/// How deeply `%load` may nest (a file that loads itself stops here).
const MAX_LOAD_DEPTH: usize = 16;

/// Evaluates one input (C or a meta command) and renders what the REPL
/// prints for it.
pub fn run_input(repl: &mut Repl, text: &str, origin: Origin) -> Printed {
    if meta::is_meta(text) {
        let mut all = Printed::default();
        run_command(repl, text, Place::File, &mut |p| append(&mut all, p));
        return all;
    }
    let show_times = repl.meta_settings().show_times;
    printed(repl.eval(text, Some(origin)), show_times)
}

/// Runs a meta command; `emit` receives what it prints, possibly in
/// several pieces (`%load` emits each input's output as it runs).
/// Returns whether the caller should quit.
pub fn run_command(
    repl: &mut Repl,
    text: &str,
    place: Place,
    emit: &mut dyn FnMut(&Printed),
) -> Flow {
    run_nested(repl, text, place, 0, emit)
}

fn run_nested(
    repl: &mut Repl,
    text: &str,
    place: Place,
    depth: usize,
    emit: &mut dyn FnMut(&Printed),
) -> Flow {
    let (printed, flow) = meta::run(repl, text, place);
    match flow {
        Flow::Load(path) => load(repl, &path, place, depth, emit),
        flow => {
            emit(&printed);
            flow
        }
    }
}

fn append(all: &mut Printed, p: &Printed) {
    all.stdout.push_str(&p.stdout);
    all.stderr.push_str(&p.stderr);
    all.failed |= p.failed;
}

/// `%load FILE`: its inputs run one by one in this session; Ctrl-C stops
/// before the next one.
fn load(
    repl: &mut Repl,
    path: &str,
    place: Place,
    depth: usize,
    emit: &mut dyn FnMut(&Printed),
) -> Flow {
    if depth >= MAX_LOAD_DEPTH {
        emit(&meta::error(format!(
            "%load: files nested more than {MAX_LOAD_DEPTH} deep (does {path} load itself?)"
        )));
        return Flow::Continue;
    }
    let limit = bpf_vm::files::DEFAULT_MEMORY_LIMIT;
    let text =
        match bpf_vm::files::read_bounded(std::path::Path::new(path), "", limit, "--memory-limit")
            .and_then(|b| {
                String::from_utf8(b).map_err(|e| format!("{path} is not UTF-8 text: {e}"))
            }) {
            Ok(t) => t,
            Err(e) => {
                emit(&meta::error(format!("%load: {e}")));
                return Flow::Continue;
            }
        };
    let cancel = repl.meta_settings().cancel.clone();
    if depth == 0 {
        cancel.store(false, Ordering::Relaxed);
    }
    let mut flow = Flow::Continue;
    let mut stopped = false;
    for_each_input(repl, &text, |repl, chunk| {
        if chunk.text.is_empty() || flow == Flow::Quit || stopped {
            return;
        }
        if cancel.load(Ordering::Relaxed) {
            stopped = true;
            emit(&meta::error(format!(
                "%load: stopped by Ctrl-C before {path}:{}",
                chunk.first_line
            )));
            return;
        }
        if meta::is_meta(&chunk.text) {
            flow = run_nested(repl, &chunk.text, place, depth + 1, emit);
            return;
        }
        let origin = Origin {
            name: path.to_string(),
            first_line: chunk.first_line,
        };
        emit(&run_input(repl, &chunk.text, origin));
    });
    flow
}

/// Runs `each` on every input of a file, in order, deciding where inputs
/// end with the names the REPL knows at that point.
pub fn for_each_input(repl: &mut Repl, file: &str, mut each: impl FnMut(&mut Repl, Chunk)) {
    let mut splitter = Splitter::default();
    for (i, line) in file.lines().enumerate() {
        for chunk in splitter.push(i as u32 + 1, line, repl.names()) {
            each(repl, chunk);
        }
    }
    if let Some(chunk) = splitter.finish() {
        each(repl, chunk);
    }
}

/// Evaluates every chunk of a file in order — runs of C inputs batched
/// into few clang runs ([`Repl::eval_batch`]), meta commands one at a time —
/// and calls `each` with each chunk's index and what it printed.
pub fn replay_chunks(
    repl: &mut Repl,
    chunks: &[Chunk],
    name: &str,
    mut each: impl FnMut(usize, Printed),
) {
    let mut i = 0;
    // An input with `//<` standard input runs on its own, after its input is fed.
    let alone = |c: &Chunk| meta::is_meta(&c.text) || !c.stdin().is_empty();
    while i < chunks.len() {
        if alone(&chunks[i]) {
            repl.push_stdin(&chunks[i].stdin());
            let origin = chunk_origin(&chunks[i], name);
            each(i, run_input(repl, &chunks[i].text, origin));
            i += 1;
            continue;
        }
        let end = (i..chunks.len())
            .find(|&j| alone(&chunks[j]))
            .unwrap_or(chunks.len());
        // The input just before a meta command is linked on its own, so
        // `%graph` and friends see exactly what they would interactively.
        let end = if end < chunks.len() && end > i + 1 {
            end - 1
        } else {
            end
        };
        let inputs: Vec<(String, Origin)> = chunks[i..end]
            .iter()
            .map(|c| (c.text.clone(), chunk_origin(c, name)))
            .collect();
        let show_times = repl.meta_settings().show_times;
        repl.eval_batch(&inputs, |k, result| {
            let mut p = printed(result, show_times);
            if let Some(note) = &chunks[i + k].note {
                p.stderr.push_str(note);
            }
            each(i + k, p)
        });
        i = end;
    }
}

fn chunk_origin(chunk: &Chunk, name: &str) -> Origin {
    Origin {
        name: name.to_string(),
        first_line: chunk.first_line,
    }
}

/// Replays a transcript and returns the transcript it should be (the
/// same inputs with the actual output under each), and whether any input failed.
pub fn replay(repl: &mut Repl, file: &str, name: &str) -> (String, bool) {
    let chunks = collect_inputs(repl, file);
    let mut printed: Vec<Printed> = vec![Printed::default(); chunks.len()];
    replay_chunks(repl, &chunks, name, |i, p| printed[i] = p);
    let mut out = String::new();
    let mut any_failed = false;
    for (chunk, p) in chunks.iter().zip(&printed) {
        for l in &chunk.lines {
            out.push_str(l);
            out.push('\n');
        }
        any_failed |= p.failed;
        for (mark, text) in [(STDOUT_MARK, &p.stdout), (STDERR_MARK, &p.stderr)] {
            for line in text.lines() {
                out.push_str(mark);
                if !line.is_empty() {
                    out.push(' ');
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
    }
    (out, any_failed)
}
