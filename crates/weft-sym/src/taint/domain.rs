//! The taint domain: a concrete value plus a label, with the concrete domain's semantics.
//!
//! Every operator is computed by [`Concrete`]; the result's label is the union of the
//! operands' labels (explicit flow), joined with the current *pc label* when implicit flows
//! are tracked (set by [`super::TaintObserver`] under tainted branches); plain copies into
//! locals and globals and `memory.copy`'s bytes take the pc label as well. With address
//! taint on, a load's result, a store's bytes and the bytes `memory.copy` writes also take
//! the addresses' labels.

use super::label::{Label, LabelTable, SourceId};
use super::memory::TaintMemory;
use super::source::{Source, Sources};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use weft_core::{BinaryOp, LoadLaneOp, LoadOp, RefValue, StoreLaneOp, StoreOp, TernaryOp};
use weft_core::{UnaryOp, Val, ValType};
use weft_exec::concrete::{val_bits, Bits};
use weft_exec::{Concrete, Domain, Fault, LinearMemory};

/// A tainted value: concrete bits (as [`Concrete`] holds them) and a label.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TaintValue {
    /// The concrete bits.
    pub bits: Bits,
    /// The sources that influence the value.
    pub label: Label,
}

/// A sink reached inside a host function: kind, call site (function, offset), label.
pub type HostSink = (super::SinkKind, Option<(u32, u32)>, Label);

/// State shared by the domain, its observer and the host functions of one run.
#[derive(Debug, Default)]
pub struct Shared {
    /// Interned label sets.
    pub labels: RefCell<LabelTable>,
    /// Every source registered so far.
    pub sources: RefCell<Sources>,
    /// The pc label: the union of the conditions of the tainted branches that control the
    /// current instruction (always empty unless implicit flows are tracked).
    pub pc: Cell<Label>,
    /// Code location (function, offset) of the import call in progress, set by the observer.
    pub call_site: Cell<Option<(u32, u32)>>,
    /// Bytes of standard input read so far (the next byte's index).
    pub stdin_read: Cell<u64>,
    /// Sinks reached by host functions (e.g. bytes written by `fd_write`).
    pub host_sinks: RefCell<Vec<HostSink>>,
}

impl Shared {
    /// The union of two labels.
    #[inline(always)]
    pub fn join(&self, a: Label, b: Label) -> Label {
        if a == b || b.is_empty() {
            a
        } else if a.is_empty() {
            b
        } else {
            self.labels.borrow_mut().join(a, b)
        }
    }

    /// Registers a source and returns the label `{source}`.
    pub fn new_source(&self, s: Source) -> Label {
        let id: SourceId = self.sources.borrow_mut().add(s);
        self.labels.borrow_mut().singleton(id)
    }
}

/// The taint domain.
#[derive(Clone, Debug)]
pub struct Taint {
    inner: Concrete,
    shared: Rc<Shared>,
    address_taint: bool,
    addr_label: Label,
    /// The label of the address resolved before `addr_label` (`memory.copy` resolves its
    /// source, then its destination).
    prev_addr_label: Label,
}

impl Taint {
    /// A domain with fresh shared state. With `address_taint`, values loaded through (and
    /// bytes stored through) a tainted address take the address's label.
    pub fn new(address_taint: bool) -> Self {
        Taint {
            inner: Concrete,
            shared: Rc::new(Shared::default()),
            address_taint,
            addr_label: Label::EMPTY,
            prev_addr_label: Label::EMPTY,
        }
    }

    /// The state shared with the observer and host functions.
    pub fn shared(&self) -> &Rc<Shared> {
        &self.shared
    }

    /// A value with concrete `v` and label `label`.
    pub fn value(&self, v: Val, label: Label) -> TaintValue {
        TaintValue {
            bits: val_bits(v),
            label,
        }
    }

    #[inline(always)]
    fn with_pc(&self, l: Label) -> Label {
        let pc = self.shared.pc.get();
        if pc.is_empty() {
            l
        } else {
            self.shared.join(l, pc)
        }
    }

    #[inline(always)]
    fn join(&self, a: Label, b: Label) -> Label {
        self.shared.join(a, b)
    }

    #[inline(always)]
    fn addr(&self) -> Label {
        if self.address_taint {
            self.addr_label
        } else {
            Label::EMPTY
        }
    }
}

impl Domain for Taint {
    type Value = TaintValue;
    type Memory = TaintMemory;

    #[inline(always)]
    fn constant(&mut self, v: Val) -> TaintValue {
        TaintValue {
            bits: val_bits(v),
            label: self.shared.pc.get(),
        }
    }

    #[inline(always)]
    fn unary(&mut self, op: UnaryOp, a: TaintValue) -> Result<TaintValue, Fault> {
        let bits = self.inner.unary(op, a.bits)?;
        Ok(TaintValue {
            bits,
            label: self.with_pc(a.label),
        })
    }

    #[inline(always)]
    fn binary(&mut self, op: BinaryOp, a: TaintValue, b: TaintValue) -> Result<TaintValue, Fault> {
        let bits = self.inner.binary(op, a.bits, b.bits)?;
        let l = self.join(a.label, b.label);
        Ok(TaintValue {
            bits,
            label: self.with_pc(l),
        })
    }

    fn ternary(
        &mut self,
        op: TernaryOp,
        a: TaintValue,
        b: TaintValue,
        c: TaintValue,
    ) -> Result<TaintValue, Fault> {
        let bits = self.inner.ternary(op, a.bits, b.bits, c.bits)?;
        let l = self.join(self.join(a.label, b.label), c.label);
        Ok(TaintValue {
            bits,
            label: self.with_pc(l),
        })
    }

    fn shuffle(&mut self, lanes: &[u8; 16], a: TaintValue, b: TaintValue) -> TaintValue {
        let bits = self.inner.shuffle(lanes, a.bits, b.bits);
        let l = self.join(a.label, b.label);
        TaintValue {
            bits,
            label: self.with_pc(l),
        }
    }

    #[inline(always)]
    fn condition(&mut self, c: TaintValue) -> Result<bool, Fault> {
        self.inner.condition(c.bits)
    }

    /// `select` moves data: the result carries the chosen operand's label and the
    /// condition's.
    fn select(&mut self, c: TaintValue, a: TaintValue, b: TaintValue) -> Result<TaintValue, Fault> {
        let v = if self.inner.condition(c.bits)? { a } else { b };
        let l = self.join(v.label, c.label);
        Ok(TaintValue {
            bits: v.bits,
            label: self.with_pc(l),
        })
    }

    #[inline(always)]
    fn index(&mut self, v: TaintValue) -> Result<u32, Fault> {
        self.inner.index(v.bits)
    }

    #[inline(always)]
    fn address(&mut self, v: TaintValue) -> Result<u32, Fault> {
        self.prev_addr_label = self.addr_label;
        self.addr_label = v.label;
        self.inner.address(v.bits)
    }

    #[inline(always)]
    fn load(&mut self, mem: &TaintMemory, addr: u64, op: LoadOp) -> Result<TaintValue, Fault> {
        let bits = self.inner.load(&mem.data, addr, op)?;
        let l = mem.range_label(addr, op.width() as u64, &self.shared.labels);
        let l = self.join(l, self.addr());
        Ok(TaintValue {
            bits,
            label: self.with_pc(l),
        })
    }

    #[inline(always)]
    fn store(&mut self, mem: &mut TaintMemory, addr: u64, op: StoreOp, v: TaintValue) {
        self.inner.store(&mut mem.data, addr, op, v.bits);
        let l = self.join(v.label, self.addr());
        mem.set_label(addr, op.width() as u64, self.with_pc(l));
    }

    fn load_lane(
        &mut self,
        mem: &TaintMemory,
        addr: u64,
        op: LoadLaneOp,
        lane: u8,
        v: TaintValue,
    ) -> Result<TaintValue, Fault> {
        let bits = self.inner.load_lane(&mem.data, addr, op, lane, v.bits)?;
        let l = mem.range_label(addr, op.width() as u64, &self.shared.labels);
        let l = self.join(self.join(l, v.label), self.addr());
        Ok(TaintValue {
            bits,
            label: self.with_pc(l),
        })
    }

    fn store_lane(
        &mut self,
        mem: &mut TaintMemory,
        addr: u64,
        op: StoreLaneOp,
        lane: u8,
        v: TaintValue,
    ) {
        self.inner.store_lane(&mut mem.data, addr, op, lane, v.bits);
        let l = self.join(v.label, self.addr());
        mem.set_label(addr, op.width() as u64, self.with_pc(l));
    }

    /// A copy into a local or global made under a tainted branch depends on that branch.
    #[inline(always)]
    fn assign(&mut self, v: TaintValue) -> TaintValue {
        TaintValue {
            bits: v.bits,
            label: self.with_pc(v.label),
        }
    }

    /// Labels move with the bytes; the copied bytes also take the pc label and, with
    /// address taint, the labels of both addresses.
    fn copy(&mut self, mem: &mut TaintMemory, src: u64, dst: u64, len: u64) {
        mem.copy_within(src, dst, len);
        let addrs = if self.address_taint {
            self.join(self.prev_addr_label, self.addr_label)
        } else {
            Label::EMPTY
        };
        let extra = self.with_pc(addrs);
        mem.join_label(dst, len, extra, &self.shared.labels);
    }

    fn fill(&mut self, mem: &mut TaintMemory, addr: u64, len: u64, byte: TaintValue) {
        self.inner.fill(&mut mem.data, addr, len, byte.bits);
        let l = self.join(byte.label, self.addr());
        mem.set_label(addr, len, self.with_pc(l));
    }

    #[inline(always)]
    fn to_ref(&mut self, v: TaintValue) -> RefValue {
        self.inner.to_ref(v.bits)
    }

    fn to_val(&mut self, v: TaintValue, ty: ValType) -> Result<Val, Fault> {
        self.inner.to_val(v.bits, ty)
    }
}
