//! The tracing observer: turns the engine's hooks into rows.

use crate::info::ModuleInfo;
use crate::options::{Filter, TraceOptions};
use crate::row::{Access, ByteSource, BytesAccess, GlobalAccess, MemAccess, Row, TypedValue};
use crate::sink::{RowSink, Summary};
use std::sync::Arc;
use weft_exec::concrete::Bits;
use weft_exec::{AccessKind, ConcreteMemory, Domain, LinearMemory, Observer, StepView};
use weft_ir::Instr;

/// An [`Observer`] of the engine (any domain with concrete values and memory) that writes one [`Row`] per executed instruction
/// to a [`RowSink`]. A row is complete once the next step starts (its memory, global, call
/// and host events come in between), so rows reach the sink one step late and the last one
/// at [`Tracer::finish`].
pub struct Tracer<S: RowSink> {
    info: Arc<ModuleInfo>,
    options: TraceOptions,
    /// Whether rows carry operator text (with immediates) or only the mnemonic.
    with_text: bool,
    /// Whether the sink reads operator text at all (else rows carry only the mnemonic index).
    op_text: bool,
    /// A call or return changed the call stack since `row.frames` was last copied.
    frames_dirty: bool,
    /// `row.frames` was refreshed and no row since has reached the sink.
    frames_unsent: bool,
    sink: S,
    row: Row,
    /// The row under construction is inside the window and may be written.
    pending: bool,
    /// Lane of the current instruction, for lane loads and stores.
    lane: Option<u8>,
    next_step: u64,
    rows: u64,
    /// Memory as it was when the current host call began (empty when not tracing it).
    host_snapshot: Vec<u8>,
    error: Option<std::io::Error>,
}

impl<S: RowSink> Tracer<S> {
    /// A tracer of a module described by `info`. `with_text` keeps each operator's text
    /// with immediates (JSON Lines); without it rows carry only the mnemonic index.
    pub fn new(info: Arc<ModuleInfo>, options: TraceOptions, sink: S, with_text: bool) -> Self {
        Tracer {
            info,
            options,
            with_text,
            op_text: sink.needs_op_text(),
            frames_dirty: true,
            frames_unsent: true,
            sink,
            row: Row::default(),
            pending: false,
            lane: None,
            next_step: 0,
            rows: 0,
            host_snapshot: Vec::new(),
            error: None,
        }
    }

    /// Steps seen so far.
    pub fn steps(&self) -> u64 {
        self.next_step
    }

    /// Writes the last row and the summary (completed with step and row counts); returns
    /// the sink and that summary, or the first write error.
    pub fn finish(mut self, mut summary: Summary) -> std::io::Result<(S, Summary)> {
        self.flush();
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        summary.steps = self.next_step;
        summary.rows = self.rows;
        self.sink.finish(&summary)?;
        Ok((self.sink, summary))
    }

    /// Hands the finished row to the sink if the filter keeps it.
    fn flush(&mut self) {
        if !self.pending {
            return;
        }
        self.pending = false;
        let keep = match self.options.filter {
            Filter::All => true,
            Filter::Memory => !self.row.mem.is_empty() || !self.row.bytes.is_empty(),
            Filter::Calls => self.row.call.is_some() || self.row.ret,
        };
        if keep && self.error.is_none() {
            match self.sink.row(&self.row) {
                Ok(()) => {
                    self.rows += 1;
                    self.frames_unsent = false;
                }
                Err(e) => self.error = Some(e),
            }
        }
    }
}

/// The lane a lane load or store names.
fn lane_of(instr: &Instr) -> Option<u8> {
    match *instr {
        Instr::V128Load8Lane { lane, .. }
        | Instr::V128Load16Lane { lane, .. }
        | Instr::V128Load32Lane { lane, .. }
        | Instr::V128Load64Lane { lane, .. }
        | Instr::V128Store8Lane { lane, .. }
        | Instr::V128Store16Lane { lane, .. }
        | Instr::V128Store32Lane { lane, .. }
        | Instr::V128Store64Lane { lane, .. } => Some(lane),
        _ => None,
    }
}

fn access(kind: AccessKind) -> Access {
    match kind {
        AccessKind::Read => Access::Read,
        AccessKind::Write => Access::Write,
    }
}

fn read_all(mem: &ConcreteMemory, out: &mut Vec<u8>) {
    out.clear();
    out.resize(mem.size_bytes() as usize, 0);
    // Reading a concrete memory within its size cannot fail.
    let _ = mem.read_bytes(0, out);
}

impl<S: RowSink, D: Domain<Value = Bits, Memory = ConcreteMemory>> Observer<D> for Tracer<S> {
    #[inline]
    fn before_step(&mut self, view: &StepView<'_, D>) {
        self.flush();
        let step = self.next_step;
        self.next_step += 1;
        if step < self.options.from_step || step > self.options.to_step {
            return;
        }
        self.pending = true;
        let info = &*self.info;
        let row = &mut self.row;
        row.clear();
        row.step = step;
        row.func = view.func;
        row.offset = view.offset;
        row.fuel = view.fuel_consumed;
        row.stack_depth = view.stack.len() as u32;
        row.locals_count = view.locals.len() as u32;
        self.lane = lane_of(view.instr);
        let step_info = info.step(view.func, view.pc);
        if let Some(si) = step_info {
            let op = &info.ops[si.op as usize];
            row.mnemonic_id = op.mnemonic;
            if self.op_text {
                row.op.clear();
                if self.with_text {
                    row.op.push_str(&op.text);
                } else {
                    row.op.push_str(&info.mnemonics[op.mnemonic as usize]);
                }
            }
        }
        let keep = self.options.stack.keep(view.stack.len());
        if keep > 0 {
            let types = step_info
                .map(|si| info.operand_types(si))
                .filter(|t| t.len() == view.stack.len());
            let from = view.stack.len() - keep;
            row.stack.extend(
                view.stack[from..]
                    .iter()
                    .enumerate()
                    .map(|(i, &bits)| TypedValue {
                        ty: types.and_then(|t| t[from + i]),
                        bits,
                    }),
            );
        }
        let keep = self.options.locals.keep(view.locals.len());
        if keep > 0 {
            let types = info.local_types(view.func);
            row.locals
                .extend(
                    view.locals[..keep]
                        .iter()
                        .enumerate()
                        .map(|(i, &bits)| TypedValue {
                            ty: types.get(i).copied(),
                            bits,
                        }),
                );
        }
        if self.options.frames {
            if self.frames_dirty {
                row.frames.clear();
                row.frames.extend_from_slice(view.frames);
                self.frames_dirty = false;
                self.frames_unsent = true;
            }
            row.frames_unchanged = !self.frames_unsent;
        }
    }

    #[inline]
    fn on_memory(&mut self, addr: u64, width: u32, value: Bits, kind: AccessKind) {
        if !self.pending {
            return;
        }
        let value = match self.lane {
            Some(lane) => value >> (lane as u32 * width * 8),
            None => value,
        };
        let value = if width >= 16 {
            value
        } else {
            value & ((1u128 << (width * 8)) - 1)
        };
        self.row.mem.push(MemAccess {
            kind: access(kind),
            addr,
            width,
            value,
        });
    }

    fn on_memory_bytes(&mut self, addr: u64, len: u64, kind: AccessKind, mem: &ConcreteMemory) {
        if !self.pending || len == 0 {
            return;
        }
        let mut bytes = vec![0; len as usize];
        let _ = mem.read_bytes(addr, &mut bytes);
        self.row.bytes.push(BytesAccess {
            kind: access(kind),
            source: ByteSource::Bulk,
            addr,
            bytes,
        });
    }

    fn before_host_call(&mut self, _func: u32, _args: &[Bits], mem: Option<&ConcreteMemory>) {
        match mem {
            Some(mem) if self.pending => read_all(mem, &mut self.host_snapshot),
            _ => self.host_snapshot.clear(),
        }
    }

    fn after_host_call(&mut self, _results: &[Bits], mem: Option<&ConcreteMemory>) {
        let Some(mem) = mem else { return };
        if !self.pending {
            return;
        }
        let mut now = Vec::new();
        read_all(mem, &mut now);
        let before = std::mem::take(&mut self.host_snapshot);
        // Every maximal run of changed bytes becomes one host write.
        let mut i = 0;
        while i < now.len() {
            if before.get(i) == Some(&now[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < now.len() && before.get(i) != Some(&now[i]) {
                i += 1;
            }
            self.row.bytes.push(BytesAccess {
                kind: Access::Write,
                source: ByteSource::Host,
                addr: start as u64,
                bytes: now[start..i].to_vec(),
            });
        }
        self.host_snapshot = before;
    }

    #[inline]
    fn on_global(&mut self, index: u32, value: Bits, kind: AccessKind) {
        if !self.pending {
            return;
        }
        let ty = self.info.global_type(index);
        self.row.globals.push(GlobalAccess {
            kind: access(kind),
            index,
            value: TypedValue { ty, bits: value },
        });
    }

    #[inline]
    fn on_call(&mut self, _instance: u32, func: u32) {
        self.frames_dirty = true;
        if self.pending {
            self.row.call = Some(func);
        }
    }

    #[inline]
    fn on_return(&mut self, _instance: u32, _func: u32) {
        self.frames_dirty = true;
        if self.pending {
            self.row.ret = true;
        }
    }

    #[inline]
    fn on_trap(&mut self, _trap: &weft_exec::Trap) {
        // The machine drops the frames of a trapped call without returns.
        self.frames_dirty = true;
    }
}
