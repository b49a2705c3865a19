//! Accepting an input and taking it back. Each input runs in a VM memory
//! epoch (the pages it changes are saved on first write), with snapshots
//! of the runtime's state and of the VM's threads, and logs every change
//! it makes to the session's records; rolling back a failed input, or
//! `%undo`, replays exactly that: link unit, changed pages, runtime state,
//! threads, records.
//! Inputs that changed nothing (an inspection like `x`) are not counted
//! by `%undo`.

use super::analysis::Plan;
use super::render;
use super::session::{Change, Record, Space};
use super::{Origin, Repl};
use crate::clang::ast::EntityKind;
use crate::input::ItemKind;
use bpf_runtime::{HeapStats, RuntimeSnapshot};
use bpf_vm::threads::ThreadsSnapshot;
use bpf_vm::Checkpoint;

/// Where an input started: what rolling it back restores.
pub(super) struct InputStart {
    pub checkpoint: Checkpoint,
    runtime: RuntimeSnapshot,
    heap: HeapStats,
    /// The kernel world's host-side state (maps' bookkeeping, clock, random state).
    kernel: Option<bpf_kernel::KernelSnapshot>,
    /// Threads that outlived earlier inputs, mutexes and the like.
    threads: ThreadsSnapshot,
}

/// An accepted input and how to take it back.
pub(super) struct Accepted {
    pub origin: Origin,
    pub source: String,
    /// Names its declarations and directives define.
    pub declares: Vec<String>,
    /// It changed the session (declared something, or changed memory or
    /// the heap): `%undo` counts it.
    pub counted: bool,
    /// It owns a link unit (a batch's first input owns the batch's).
    owns_unit: bool,
    start: InputStart,
    changes: Vec<Change>,
}

impl Repl {
    /// Opens a memory epoch and snapshots the runtime, before an input's
    /// link and run.
    pub(super) fn begin_input(&mut self) -> InputStart {
        let heap = self.runtime.heap_stats(&self.session.vm().mem);
        InputStart {
            checkpoint: self.session.vm_mut().mem.begin_epoch(),
            runtime: self.runtime.save(),
            heap,
            kernel: self.session.kernel().map(|k| k.save()),
            threads: self.session.vm().save_threads(),
        }
    }

    /// Undoes a failed input (and, with `unlink`, its link unit).
    pub(super) fn abandon_input(&mut self, start: InputStart, unlink: bool) {
        if unlink {
            self.unlink();
        }
        self.session.vm_mut().mem.rollback(start.checkpoint);
        self.session.vm_mut().restore_threads(start.threads);
        self.runtime.restore(start.runtime);
        self.restore_kernel(start.kernel);
        let _ = self.stdout.take();
    }

    fn unlink(&mut self) {
        self.session.undo();
        self.types.truncate(self.session.objects().len());
    }

    /// Records an accepted input: its directives and declarations become
    /// records later inputs see; what it displaced is taken out.
    pub(super) fn accept(&mut self, plan: &Plan, start: InputStart, owns_unit: bool) {
        let mut log = Vec::new();
        // A typedef repeated with the same type keeps the earlier one (and
        // its place before the declarations that use it).
        let repeats = plan.typedef_repeats(&self.model);
        let declared: Vec<(Space, String)> = plan
            .entities()
            .filter(|e| !(e.kind == EntityKind::Typedef && repeats.contains(&e.name)))
            .filter(|e| e.kind != EntityKind::Tag || e.defines_body)
            .map(|e| (Space::from(e.namespace()), e.name.clone()))
            .collect();
        let displaced = render::displacement(&self.model, &declared);
        let mut ids: Vec<usize> = displaced.records.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            match displaced.records[&id].clone() {
                None => self.model.kill(id, &mut log),
                Some(short) => self.model.rewrite(id, short, &mut log),
            }
        }
        let mut declares = Vec::new();
        for p in plan.active() {
            let item = &p.item;
            let (directive, macros, entities) = match item.kind {
                ItemKind::Directive if p.conditional && plan.from_clang => continue,
                ItemKind::Directive => (
                    true,
                    super::analysis::directive_macros(&item.text),
                    Vec::new(),
                ),
                ItemKind::Declaration(_) => {
                    let entities: Vec<_> = p
                        .entities
                        .iter()
                        .filter(|e| !(e.kind == EntityKind::Typedef && repeats.contains(&e.name)))
                        .filter(|e| {
                            // A forward declaration of a known tag refers to it.
                            e.kind != EntityKind::Tag
                                || e.defines_body
                                || self.model.binding(Space::Tag, &e.name).is_none()
                        })
                        .cloned()
                        .collect();
                    if entities.is_empty() && !p.entities.is_empty() {
                        continue; // only repeats of what the session has
                    }
                    (false, Vec::new(), entities)
                }
                ItemKind::Statement | ItemKind::Expression => continue,
            };
            let text = render::carried(p, &self.model);
            if text.trim().is_empty() {
                continue;
            }
            declares.extend(entities.iter().map(|e| e.name.clone()));
            declares.extend(macros.iter().cloned());
            let record = Record {
                origin: plan.origin.clone(),
                directive,
                idents: super::session::identifiers(&text),
                text,
                entities,
                macros,
                live: true,
            };
            self.model.add(record, &mut log);
        }
        // The input's own result variables do not count: an inspection
        // writes them (in a batch they can sit in memory older than it).
        let own: Vec<std::ops::Range<u64>> = ["val", "ref"]
            .iter()
            .filter_map(|k| self.session.lookup(&format!("__repl_{k}_{}", plan.number)))
            .map(|s| s.addr..s.addr + s.size.max(1))
            .collect();
        let mem = &self.session.vm().mem;
        let counted = !log.is_empty()
            || mem.changed_since_except(start.checkpoint, &own)
            || self.runtime.heap_stats(mem) != start.heap;
        self.accepted.push(Accepted {
            origin: plan.origin.clone(),
            source: plan.source.clone(),
            declares,
            counted,
            owns_unit,
            start,
            changes: log,
        });
    }

    /// Puts back the kernel world's state (after the unit is unlinked,
    /// which drops the maps it created).
    fn restore_kernel(&mut self, snapshot: Option<bpf_kernel::KernelSnapshot>) {
        if let (Some(k), Some(s)) = (self.session.kernel(), snapshot) {
            k.restore(s);
        }
    }

    /// Records a meta command that changed the session's state (a program
    /// run changes maps): `%undo` takes it back like an input.
    pub(super) fn accept_command(&mut self, origin: Origin, text: &str, start: InputStart) {
        self.accepted.push(Accepted {
            origin,
            source: text.to_string(),
            declares: Vec::new(),
            counted: true,
            owns_unit: false,
            start,
            changes: Vec::new(),
        });
    }

    /// Takes back the newest accepted input.
    fn revert_last(&mut self) -> Option<Accepted> {
        let mut a = self.accepted.pop()?;
        if a.owns_unit {
            self.unlink();
        }
        self.session.vm_mut().mem.rollback(a.start.checkpoint);
        let threads = a.start.threads.clone();
        self.session.vm_mut().restore_threads(threads);
        self.runtime.restore(a.start.runtime.clone());
        self.restore_kernel(a.start.kernel.take());
        self.model.revert(std::mem::take(&mut a.changes));
        Some(a)
    }

    /// Removes the last `n` inputs that changed the session (and the
    /// inspections after them) with everything they did: code, symbols,
    /// declarations, memory writes, heap. Returns where the counted ones
    /// came from and their text, newest first.
    pub fn undo_inputs(&mut self, n: usize) -> Vec<(Origin, String)> {
        let mut undone = Vec::new();
        while undone.len() < n {
            let Some(a) = self.revert_last() else { break };
            if a.counted {
                undone.push((a.origin, a.source));
            }
        }
        undone
    }

    /// [`Repl::undo_inputs`], counting only.
    pub fn undo(&mut self, n: usize) -> usize {
        self.undo_inputs(n).len()
    }

    /// Forgets everything: a fresh session with the same options.
    pub fn reset(&mut self) {
        while self.revert_last().is_some() {}
        self.inputs = 0;
    }

    /// Rolls back batch inputs accepted since `accepted` entries (newest
    /// first), leaving the batch's link unit to the caller.
    pub(super) fn truncate_accepted(&mut self, accepted: usize) {
        while self.accepted.len() > accepted {
            if self.revert_last().is_none() {
                break;
            }
        }
    }
}
