//! The taint observer: records which labels reach the sinks, and maintains the pc label of
//! implicit flows.
//!
//! It runs on exact-mode code and looks at the operands of each instruction before it
//! executes: branch conditions, addresses, `call_indirect` indices and the arguments of calls
//! to imported functions. With implicit flows on, a branch on a tainted condition opens a
//! *region* that lasts until the branch's immediate post-dominator (in the same call frame)
//! or until the function returns; inside it the pc label (the union of the open regions'
//! conditions) is joined into every value the domain produces.

use super::domain::{Shared, Taint};
use super::label::Label;
use super::postdom::immediate_post_dominators;
use super::sink::{Sink, SinkKind};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use weft_exec::store::{FuncKind, Store};
use weft_exec::{Observer, StepView};
use weft_ir::{ImportKind, Instr, LoweredFunc};

/// An open implicit-flow region.
#[derive(Copy, Clone, Debug)]
struct Region {
    /// Call depth of the branch's frame.
    depth: usize,
    /// Where control merges again (`postdom::EXIT`: at the return).
    ipdom: u32,
    /// The pc label inside the region (the enclosing regions' included).
    label: Label,
}

/// The function imports of one instance: `module.name` and parameter count, by index.
type ImportTable = Vec<(String, u32)>;

/// Records sinks and drives implicit flows.
pub struct TaintObserver {
    shared: Rc<Shared>,
    implicit: bool,
    imports: Vec<ImportTable>,
    /// Imported functions by store address (for calls that reach them through a table).
    hosts: HashMap<u32, (String, u32)>,
    /// The `call_indirect` being executed (function, offset), until the next step.
    indirect: Option<(u32, u32)>,
    code: HashMap<(u32, u32), Arc<LoweredFunc>>,
    ipdoms: HashMap<(u32, u32), Vec<u32>>,
    regions: Vec<Region>,
    sinks: BTreeMap<Sink, Label>,
}

impl TaintObserver {
    /// An observer sharing `domain`'s state; `implicit` turns implicit flows on.
    pub fn new(domain: &Taint, implicit: bool) -> Self {
        TaintObserver {
            shared: domain.shared().clone(),
            implicit,
            imports: Vec::new(),
            hosts: HashMap::new(),
            indirect: None,
            code: HashMap::new(),
            ipdoms: HashMap::new(),
            regions: Vec::new(),
            sinks: BTreeMap::new(),
        }
    }

    /// Learns the instances and function bodies of `store`; call it after instantiating
    /// (code run before, e.g. a start function, is observed without implicit regions).
    pub fn attach(&mut self, store: &Store<Taint>) {
        self.imports = store
            .instances
            .iter()
            .map(|inst| {
                let m = &inst.module;
                m.imports
                    .iter()
                    .filter_map(|i| match i.kind {
                        ImportKind::Func(t) => Some((
                            format!("{}.{}", i.module, i.name),
                            m.types.get(t as usize).map_or(0, |t| t.params.len() as u32),
                        )),
                        _ => None,
                    })
                    .collect()
            })
            .collect();
        for (inst, table) in store.instances.iter().zip(&self.imports) {
            for (addr, import) in inst.funcs.iter().zip(table) {
                self.hosts.entry(*addr).or_insert_with(|| import.clone());
            }
        }
        for f in &store.funcs {
            if let FuncKind::Wasm {
                instance,
                index,
                code,
            } = &f.kind
            {
                self.code.insert((*instance, *index), code.clone());
            }
        }
    }

    /// Closes every implicit region (between top-level calls).
    pub fn reset_regions(&mut self) {
        self.regions.clear();
        self.shared.pc.set(Label::EMPTY);
    }

    /// Records `label` at `sink` (joined with what reached it before).
    pub fn record(&mut self, sink: Sink, label: Label) {
        if label.is_empty() {
            return;
        }
        let shared = &self.shared;
        self.sinks
            .entry(sink)
            .and_modify(|l| *l = shared.join(*l, label))
            .or_insert(label);
    }

    /// Every sink reached so far with its label, host-reported sinks included, in order.
    pub fn sinks(&self) -> BTreeMap<Sink, Label> {
        let mut out = self.sinks.clone();
        for (kind, at, label) in self.shared.host_sinks.borrow().iter() {
            let sink = Sink {
                offset: at.map(|a| a.1),
                func: at.map(|a| a.0),
                kind: kind.clone(),
            };
            let l = out.get(&sink).copied().unwrap_or(Label::EMPTY);
            out.insert(sink, self.shared.join(l, *label));
        }
        out
    }

    fn ipdom(&mut self, key: (u32, u32), pc: u32) -> u32 {
        if !self.ipdoms.contains_key(&key) {
            let v = match self.code.get(&key) {
                Some(code) => immediate_post_dominators(code),
                None => Vec::new(),
            };
            self.ipdoms.insert(key, v);
        }
        self.ipdoms[&key]
            .get(pc as usize)
            .copied()
            .unwrap_or(super::postdom::EXIT)
    }

    fn leave_regions(&mut self, depth: usize, pc: u32) {
        if let Some(i) = self
            .regions
            .iter()
            .position(|r| r.depth > depth || (r.depth == depth && r.ipdom == pc))
        {
            self.regions.truncate(i);
            let pc = self.regions.last().map_or(Label::EMPTY, |r| r.label);
            self.shared.pc.set(pc);
        }
    }

    fn enter_region(&mut self, key: (u32, u32), pc: u32, depth: usize, cond: Label) {
        let ipdom = self.ipdom(key, pc);
        let label = self.shared.join(self.shared.pc.get(), cond);
        match self.regions.last_mut() {
            Some(top) if top.depth == depth && top.ipdom == ipdom => {
                top.label = self.shared.join(top.label, label);
                self.shared.pc.set(top.label);
            }
            _ => {
                self.regions.push(Region {
                    depth,
                    ipdom,
                    label,
                });
                self.shared.pc.set(label);
            }
        }
    }
}

impl Observer<Taint> for TaintObserver {
    fn before_host_call(
        &mut self,
        func: u32,
        args: &[<Taint as weft_exec::Domain>::Value],
        _mem: Option<&<Taint as weft_exec::Domain>::Memory>,
    ) {
        // A direct call's arguments were recorded at the `call`; an indirect one's here,
        // now that the table entry is known to be this import.
        let (Some((caller, offset)), Some((name, _))) =
            (self.indirect.take(), self.hosts.get(&func))
        else {
            return;
        };
        let name = name.clone();
        for (k, a) in args.iter().enumerate() {
            let kind = SinkKind::ImportArg {
                import: name.clone(),
                arg: k as u32,
            };
            let sink = Sink {
                offset: Some(offset),
                func: Some(caller),
                kind,
            };
            self.record(sink, a.label);
        }
    }

    fn before_step(&mut self, v: &StepView<'_, Taint>) {
        self.indirect = None;
        let depth = v.frames.len();
        if !self.regions.is_empty() {
            self.leave_regions(depth, v.pc);
        }
        let stack = v.stack;
        let top = |k: usize| {
            stack
                .len()
                .checked_sub(k)
                .map_or(Label::EMPTY, |i| stack[i].label)
        };
        let at = |kind| Sink {
            offset: Some(v.offset),
            func: Some(v.func),
            kind,
        };
        match *v.instr {
            Instr::BrIf(_) | Instr::BrIfNot(_) | Instr::BrTable { .. } => {
                let c = top(1);
                if !c.is_empty() {
                    self.record(at(SinkKind::Condition), c);
                    if self.implicit {
                        self.enter_region((v.instance, v.func), v.pc, depth, c);
                    }
                }
            }
            Instr::Select => self.record(at(SinkKind::Condition), top(1)),
            Instr::CallIndirect { .. } => {
                self.record(at(SinkKind::CallIndex), top(1));
                // If the table entry is an import, its arguments are sinks here too (see
                // `before_host_call`).
                self.indirect = Some((v.func, v.offset));
                self.shared.call_site.set(Some((v.func, v.offset)));
            }
            Instr::Call(idx) => {
                let Some((name, n)) = self
                    .imports
                    .get(v.instance as usize)
                    .and_then(|t| t.get(idx as usize))
                else {
                    return;
                };
                let (name, n) = (name.clone(), *n);
                self.shared.call_site.set(Some((v.func, v.offset)));
                for k in 0..n {
                    let l = top((n - k) as usize);
                    if !l.is_empty() {
                        let kind = SinkKind::ImportArg {
                            import: name.clone(),
                            arg: k,
                        };
                        self.record(at(kind), l);
                    }
                }
            }
            Instr::MemoryFill | Instr::MemoryInit(_) => {
                self.record(at(SinkKind::Address), top(3));
            }
            Instr::MemoryCopy => {
                let l = self.shared.join(top(2), top(3));
                self.record(at(SinkKind::Address), l);
            }
            ref i => {
                if i.load_op().is_some() {
                    self.record(at(SinkKind::Address), top(1));
                } else if i.store_op().is_some() {
                    self.record(at(SinkKind::Address), top(2));
                }
            }
        }
    }
}
