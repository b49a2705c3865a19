//! The abstract machine state at one program point: the call frames (each
//! with its registers and stack slots), what packet bounds checks have
//! established, and the references the program holds.

use crate::scalar::Scalar;
use crate::value::{Base, Ptr, Value};

/// What one stack byte holds when it is not part of a spilled register.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Byte {
    /// Never written (on some path).
    Uninit,
    /// Written with something not tracked.
    Misc,
    /// Written with zero.
    Zero,
}

impl Byte {
    fn join(self, o: Byte) -> Byte {
        match (self, o) {
            (Byte::Uninit, _) | (_, Byte::Uninit) => Byte::Uninit,
            (Byte::Zero, Byte::Zero) => Byte::Zero,
            _ => Byte::Misc,
        }
    }

    fn leq(self, o: Byte) -> bool {
        self == o || o == Byte::Uninit || (self == Byte::Zero && o == Byte::Misc)
    }
}

/// One aligned 8-byte stack slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A whole register stored at the slot.
    Spill(Value),
    /// Bytes, lowest address first.
    Bytes([Byte; 8]),
}

impl Slot {
    pub const EMPTY: Slot = Slot::Bytes([Byte::Uninit; 8]);

    /// The slot as bytes (a spilled scalar keeps its known zero bytes).
    pub fn bytes(&self) -> [Byte; 8] {
        match self {
            Slot::Bytes(b) => *b,
            Slot::Spill(Value::Uninit) => [Byte::Uninit; 8],
            Slot::Spill(Value::Scalar(s, _)) => {
                let mut out = [Byte::Misc; 8];
                for (i, b) in out.iter_mut().enumerate() {
                    let byte = s.rsh(Scalar::constant(8 * i as u64)).truncate(1);
                    if byte.as_const() == Some(0) {
                        *b = Byte::Zero;
                    }
                }
                out
            }
            Slot::Spill(_) => [Byte::Misc; 8],
        }
    }

    fn merge(&self, o: &Slot, widen: bool) -> Slot {
        if self == o {
            return *self;
        }
        match (self, o) {
            (Slot::Spill(a), Slot::Spill(b)) => {
                let v = if widen { a.widen(*b) } else { a.join(*b) };
                if v == Value::Any {
                    // A pointer on one path and not on the other: only the
                    // bytes' initialisation is still known.
                    Slot::Bytes(join_bytes(self.bytes(), o.bytes()))
                } else {
                    Slot::Spill(v)
                }
            }
            _ => Slot::Bytes(join_bytes(self.bytes(), o.bytes())),
        }
    }

    fn leq(&self, o: &Slot) -> bool {
        match (self, o) {
            (Slot::Spill(a), Slot::Spill(b)) => a.leq(b),
            (Slot::Bytes(_), Slot::Spill(_)) => false,
            // Written bytes stand for any contents, pointers included (a
            // spilled pointer joined with other bytes becomes bytes).
            (a, Slot::Bytes(b)) => a.bytes().iter().zip(b).all(|(x, y)| x.leq(*y)),
        }
    }
}

fn join_bytes(a: [Byte; 8], b: [Byte; 8]) -> [Byte; 8] {
    let mut out = a;
    for (o, y) in out.iter_mut().zip(b) {
        *o = o.join(y);
    }
    out
}

/// One call frame.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Frame {
    pub regs: [Value; 11],
    /// Slot `i` holds the bytes at `r10 - 8*(i+1) .. r10 - 8*i`; slots past
    /// the end are [`Slot::EMPTY`].
    pub stack: Vec<Slot>,
    /// Index of the function this frame runs (in the analysed program).
    pub func: usize,
    /// The slot of the call that made this frame (`usize::MAX` for the first).
    pub call_site: usize,
}

impl Frame {
    pub fn new(func: usize, call_site: usize) -> Frame {
        Frame {
            regs: [Value::Uninit; 11],
            stack: Vec::new(),
            func,
            call_site,
        }
    }

    pub fn slot(&self, i: usize) -> Slot {
        self.stack.get(i).copied().unwrap_or(Slot::EMPTY)
    }

    pub fn slot_mut(&mut self, i: usize) -> &mut Slot {
        if self.stack.len() <= i {
            self.stack.resize(i + 1, Slot::EMPTY);
        }
        &mut self.stack[i]
    }

    /// The deepest stack byte written so far (bytes below r10).
    pub fn depth(&self) -> usize {
        self.stack.len() * 8
    }

    fn trim(&mut self) {
        while self.stack.last() == Some(&Slot::EMPTY) {
            self.stack.pop();
        }
    }
}

/// The whole abstract state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Outermost first; the last frame is the running function.
    pub frames: Vec<Frame>,
    /// Packet bytes known to exist: `(id, n)` says that for pointers with
    /// id `id`, `data + variable part + n <= data_end` (id 0: no variable part).
    pub packet: Vec<(u32, u64)>,
    /// References that must be released before exit (ids of ringbuf
    /// reservations), sorted.
    pub refs: Vec<u32>,
    /// Speed mode: a stack address was handed to code the analysis does
    /// not follow (a helper's argument, or stored outside the stack). A
    /// helper may keep it and write through it at any later call (as
    /// `strtok` does), so every later such call forgets the stacks.
    pub exposed: bool,
}

impl State {
    /// The entry state of a function run at depth 0: everything
    /// uninitialised but r10.
    pub fn entry(func: usize) -> State {
        let mut frame = Frame::new(func, usize::MAX);
        frame.regs[10] = Value::Ptr(Ptr::at(Base::Stack(0), 0));
        State {
            frames: vec![frame],
            packet: Vec::new(),
            refs: Vec::new(),
            exposed: false,
        }
    }

    pub fn depth(&self) -> usize {
        self.frames.len() - 1
    }

    pub fn cur(&self) -> &Frame {
        self.frames.last().expect("a state has a frame")
    }

    pub fn cur_mut(&mut self) -> &mut Frame {
        self.frames.last_mut().expect("a state has a frame")
    }

    pub fn reg(&self, r: u8) -> Value {
        self.cur().regs[(r as usize).min(10)]
    }

    pub fn set(&mut self, r: u8, v: Value) {
        self.cur_mut().regs[(r as usize).min(10)] = v;
    }

    /// Known packet bytes for pointers with `id`.
    pub fn packet_range(&self, id: u32) -> u64 {
        self.packet
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, r)| *r)
            .unwrap_or(0)
    }

    /// Records that `n` bytes exist for pointers with `id` (keeps the larger).
    pub fn grow_packet_range(&mut self, id: u32, n: u64) {
        match self.packet.iter_mut().find(|(i, _)| *i == id) {
            Some((_, r)) => *r = (*r).max(n),
            None => {
                self.packet.push((id, n));
                self.packet.sort();
            }
        }
    }

    /// Every register and spilled slot, mutably, in every frame.
    pub fn for_each_value(&mut self, mut f: impl FnMut(&mut Value)) {
        for frame in &mut self.frames {
            for r in &mut frame.regs {
                f(r);
            }
            for s in &mut frame.stack {
                if let Slot::Spill(v) = s {
                    f(v);
                }
            }
        }
    }

    /// Makes `id` unused before an instruction hands it out again: values
    /// still carrying it lose the link, and its packet range is dropped.
    pub fn retire_id(&mut self, id: u32) {
        if id == 0 {
            return;
        }
        self.for_each_value(|v| {
            if v.id() == id {
                *v = v.without_id();
            }
        });
        self.packet.retain(|(i, _)| *i != id);
    }

    /// Forgets every stack slot's contents (a store or call the analysis
    /// cannot follow may have written them); written bytes stay written.
    pub fn havoc_stacks(&mut self) {
        for frame in &mut self.frames {
            for s in &mut frame.stack {
                let mut b = s.bytes();
                for x in &mut b {
                    if *x == Byte::Zero {
                        *x = Byte::Misc;
                    }
                }
                *s = Slot::Bytes(b);
            }
        }
    }

    /// Every state either describes (same frames: both are at the same
    /// point of the same call context).
    pub fn join(&self, o: &State) -> State {
        self.merge(o, false)
    }

    /// [`State::join`] with widening of scalar bounds.
    pub fn widen(&self, next: &State) -> State {
        self.merge(next, true)
    }

    fn merge(&self, o: &State, widen: bool) -> State {
        debug_assert_eq!(self.frames.len(), o.frames.len());
        if self == o {
            return self.clone();
        }
        let frames = self
            .frames
            .iter()
            .zip(&o.frames)
            .map(|(a, b)| {
                if a == b {
                    return a.clone();
                }
                let mut regs = a.regs;
                for (r, y) in regs.iter_mut().zip(&b.regs) {
                    *r = if widen { r.widen(*y) } else { r.join(*y) };
                }
                let n = a.stack.len().max(b.stack.len());
                let stack = if a.stack == b.stack {
                    a.stack.clone()
                } else {
                    (0..n).map(|i| a.slot(i).merge(&b.slot(i), widen)).collect()
                };
                let mut f = Frame {
                    regs,
                    stack,
                    func: a.func,
                    call_site: a.call_site,
                };
                f.trim();
                f
            })
            .collect();
        let packet = self
            .packet
            .iter()
            .filter_map(|(id, r)| {
                o.packet
                    .iter()
                    .find(|(j, _)| j == id)
                    .map(|(_, s)| (*id, (*r).min(*s)))
            })
            .collect();
        let mut refs = self.refs.clone();
        refs.extend(&o.refs);
        refs.sort();
        refs.dedup();
        State {
            frames,
            packet,
            refs,
            exposed: self.exposed || o.exposed,
        }
    }

    /// True if every concrete state `self` describes, `o` describes too.
    pub fn leq(&self, o: &State) -> bool {
        self.frames.len() == o.frames.len()
            && self.frames.iter().zip(&o.frames).all(|(a, b)| {
                a.regs.iter().zip(&b.regs).all(|(x, y)| x.leq(y))
                    && (0..a.stack.len().max(b.stack.len())).all(|i| a.slot(i).leq(&b.slot(i)))
            })
            && o.packet.iter().all(|(id, r)| self.packet_range(*id) >= *r)
            && self.refs.iter().all(|r| o.refs.contains(r))
            && (!self.exposed || o.exposed)
    }
}
