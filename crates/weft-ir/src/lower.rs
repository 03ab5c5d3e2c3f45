//! Lowering validated function bodies to the internal instruction stream.

use crate::fuse::{fuse_binary, fuse_binary_local_first, fuse_br_if, fuse_set, fuse_unary};
use crate::instr::{BrTarget, Instr, Marker};
use crate::module::{convert_val_type, Module};
use crate::LoadError;
use wasmparser::{BlockType, FuncValidator, FunctionBody, Operator, ValidatorResources};
use weft_core::ValType;

/// How code is lowered.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct LowerMode {
    /// Keep one instruction per original operator (structural no-ops included), with a
    /// per-instruction fuel cost table. Observers that see every step need this.
    pub exact: bool,
    /// Insert per-basic-block fuel charges (fast mode only; exact mode always has costs).
    pub fuel: bool,
    /// Keep every computing operator a call of its own in fast mode: none is folded into a
    /// branch (`i32.eqz; br_if` stays two operators). Domains that record each operator's
    /// result need this; exact mode always keeps them.
    pub keep_operators: bool,
}

impl LowerMode {
    /// Fast code without fuel accounting.
    pub const FAST: LowerMode = LowerMode {
        exact: false,
        fuel: false,
        keep_operators: false,
    };
    /// Fast code charging fuel per basic block.
    pub const FAST_FUEL: LowerMode = LowerMode {
        exact: false,
        fuel: true,
        keep_operators: false,
    };
    /// One instruction per original operator.
    pub const EXACT: LowerMode = LowerMode {
        exact: true,
        fuel: true,
        keep_operators: true,
    };

    /// This mode with every computing operator kept (see [`LowerMode::keep_operators`]).
    pub const fn keeping_operators(self) -> LowerMode {
        LowerMode {
            keep_operators: true,
            ..self
        }
    }

    /// How many distinct modes [`LowerMode::slot`] numbers.
    pub(crate) const SLOTS: usize = 5;

    pub(crate) fn slot(self) -> usize {
        match (self.exact, self.fuel, self.keep_operators) {
            (true, _, _) => 2,
            (false, fuel, false) => fuel as usize,
            (false, fuel, true) => 3 + fuel as usize,
        }
    }
}

/// A function body ready for interpretation.
#[derive(Clone, Debug)]
pub struct LoweredFunc {
    /// Function index in the module.
    pub func_index: u32,
    /// The instruction stream.
    pub code: Vec<Instr>,
    /// Code-section byte offset of the original operator of each instruction.
    pub offsets: Vec<u32>,
    /// Fuel cost of each instruction (exact mode only; empty otherwise).
    pub costs: Vec<u8>,
    /// Branch-table targets referenced by `Instr::BrTable`.
    pub br_tables: Vec<BrTarget>,
    /// Constants referenced by `Instr::V128Const`.
    pub v128_consts: Vec<u128>,
    /// Lane patterns referenced by `Instr::I8x16Shuffle`.
    pub shuffles: Vec<[u8; 16]>,
    /// Fast mode with fuel: calls to functions defined in the module do not end a fuel
    /// block, so the code after such a call is charged before the call. Each entry is
    /// (return pc, fuel charged in advance for the code from there to the block's end),
    /// sorted by pc: a run that unwinds through the call refunds it.
    pub call_continuations: Vec<(u32, u32)>,
    /// Number of parameters.
    pub num_params: u32,
    /// Number of results.
    pub num_results: u32,
    /// Types of the declared locals (after the parameters).
    pub local_types: Vec<ValType>,
    /// Largest number of stack slots the function uses above its frame base
    /// (parameters and locals included).
    pub max_height: u32,
}

impl LoweredFunc {
    /// Parameters plus declared locals.
    pub fn num_locals_total(&self) -> u32 {
        self.num_params + self.local_types.len() as u32
    }
}

/// Fuel cost of an operator in wasmtime 48's default model.
fn op_cost(op: &Operator<'_>) -> u8 {
    match op {
        Operator::Nop
        | Operator::Drop
        | Operator::Block { .. }
        | Operator::Loop { .. }
        | Operator::Unreachable
        | Operator::Return
        | Operator::Else
        | Operator::End => 0,
        _ => 1,
    }
}

#[derive(Copy, Clone, PartialEq, Eq)]
enum CtlKind {
    Func,
    Block,
    Loop,
    If,
    Else,
}

#[derive(Copy, Clone)]
enum Fixup {
    Instr(usize),
    Table(usize),
}

struct Ctl {
    kind: CtlKind,
    height: u32,
    br_arity: u32,
    start_pc: u32,
    fixups: Vec<Fixup>,
    else_fixup: Option<usize>,
    entered_reachable: bool,
}

struct Lowerer {
    mode: LowerMode,
    code: Vec<Instr>,
    offsets: Vec<u32>,
    costs: Vec<u8>,
    br_tables: Vec<BrTarget>,
    v128_consts: Vec<u128>,
    shuffles: Vec<[u8; 16]>,
    ctl: Vec<Ctl>,
    reachable: bool,
    fuel_block: Option<usize>,
    /// Calls in the open fuel block that did not end it: (return pc, block cost so far).
    open_calls: Vec<(u32, u32)>,
    /// Finished entries of [`LoweredFunc::call_continuations`].
    call_continuations: Vec<(u32, u32)>,
    /// First instruction index that no branch can land inside: fusion never reaches below it.
    boundary: usize,
    /// `local.get`s in the current block whose value still sits untouched on the stack:
    /// (instruction index, local, stack slot). A store whose address is such a value reads
    /// the local directly and the `local.get` is removed.
    pending_gets: Vec<(usize, u32, u32)>,
    /// Operand-stack height before the operator being lowered.
    height_before: u32,
    offset: u32,
    cost: u8,
}

impl Lowerer {
    fn pc(&self) -> u32 {
        self.code.len() as u32
    }

    fn emit(&mut self, instr: Instr) -> usize {
        self.code.push(instr);
        self.offsets.push(self.offset);
        if self.mode.exact {
            self.costs.push(self.cost);
        }
        self.code.len() - 1
    }

    /// Charges the current operator's cost to the open fuel block (fast mode with fuel).
    fn charge(&mut self, extra: u32) {
        if let Some(at) = self.fuel_block {
            if let Instr::ConsumeFuel(n) = &mut self.code[at] {
                *n = n.saturating_add(self.cost as u32 + extra);
            }
        }
    }

    /// Fuel charged so far to the open fuel block.
    fn block_cost(&self) -> u32 {
        match self.fuel_block.map(|at| &self.code[at]) {
            Some(Instr::ConsumeFuel(n)) => *n,
            _ => 0,
        }
    }

    /// Closes the open fuel block: each call inside it learns how much of the block's
    /// charge belongs to the code after it.
    fn close_fuel_block(&mut self) {
        let total = self.block_cost();
        for (ret, before) in std::mem::take(&mut self.open_calls) {
            if total > before {
                self.call_continuations.push((ret, total - before));
            }
        }
    }

    /// Starts a new basic block: later operators are charged to a fresh fuel instruction.
    fn start_block(&mut self) {
        if self.mode.fuel && !self.mode.exact {
            self.close_fuel_block();
            let at = self.emit(Instr::ConsumeFuel(0));
            self.fuel_block = Some(at);
        }
        self.boundary = self.code.len();
        self.pending_gets.clear();
    }

    /// Starts a basic block that branches may target and returns its first pc. An empty
    /// fuel block just before it (its charge instruction the last one emitted) becomes this
    /// block, rather than being followed by a second charge.
    fn begin_block(&mut self) -> u32 {
        if let Some(at) = self.fuel_block {
            if at + 1 == self.code.len() && self.code[at] == Instr::ConsumeFuel(0) {
                self.boundary = self.code.len();
                self.pending_gets.clear();
                return at as u32;
            }
        }
        let pc = self.pc();
        self.start_block();
        pc
    }

    /// After a call: a call to a function defined in this module always comes back here
    /// unless the whole run unwinds, so the code after it stays in the same fuel block
    /// (one charge fewer per call; an unwinding run refunds the advance). Calls that may
    /// reach the host end the block, so fuel is exact when the host exits the program.
    fn after_call(&mut self, to_defined: bool) {
        if to_defined && self.mode.fuel && !self.mode.exact && self.fuel_block.is_some() {
            let cost = self.block_cost();
            self.open_calls.push((self.pc(), cost));
            self.boundary = self.code.len();
            self.pending_gets.clear();
        } else {
            self.start_block();
        }
    }

    /// Bookkeeping after each operator: forget pending `local.get`s whose slot was popped
    /// (the stack went down to `low` during the operator) or whose local was written.
    fn after_op(&mut self, low: u32) {
        let written = self.code.last().and_then(Instr::written_local);
        self.pending_gets
            .retain(|&(_, local, slot)| slot < low && Some(local) != written);
        if let Some(Instr::LocalGet(local)) = self.code.last() {
            let at = self.code.len() - 1;
            if at >= self.boundary {
                self.pending_gets.push((at, *local, self.height_before));
            }
        }
    }

    /// The pending `local.get` whose value sits in stack slot `slot`: its index in
    /// `pending_gets` and its local.
    fn pending_get_at(&self, slot: Option<u32>) -> Option<(usize, u32)> {
        let slot = slot?;
        let i = self.pending_gets.iter().position(|&(_, _, s)| s == slot)?;
        let (at, local, _) = self.pending_gets[i];
        (at >= self.boundary && self.code.get(at) == Some(&Instr::LocalGet(local)))
            .then_some((i, local))
    }

    /// Removes the pending `local.get` number `i` (its reader reads the local instead).
    fn remove_pending_get(&mut self, i: usize) {
        let (at, _, _) = self.pending_gets.remove(i);
        self.code.remove(at);
        self.offsets.remove(at);
        for entry in &mut self.pending_gets {
            if entry.0 > at {
                entry.0 -= 1;
            }
        }
    }

    /// A store whose address operand came from a pending `local.get`: removes that
    /// `local.get` and returns the store reading the local instead.
    fn fuse_store_address(&mut self, store: &Instr) -> Option<Instr> {
        let (i, local) = self.pending_get_at(self.height_before.checked_sub(2))?;
        let fused = Instr::fuse_store(store, local)?;
        self.remove_pending_get(i);
        Some(fused)
    }

    /// The last `n` instructions, if no branch target lies among them.
    fn tail(&self, n: usize) -> Option<&Instr> {
        let len = self.code.len();
        (len >= self.boundary + n).then(|| &self.code[len - n])
    }

    /// Emits `instr`, fused with the instructions feeding it where possible (fast mode).
    fn emit_fused(&mut self, instr: Instr) {
        if !self.mode.exact {
            let last = self.tail(1).copied();
            let replacement = match (instr, last) {
                (Instr::Select, Some(Instr::LocalTee(l))) => Some(Instr::SelectTee(l)),
                _ => fuse_unary(&instr, last.as_ref()),
            };
            if let Some(fused) = replacement {
                *self.code.last_mut().expect("fused instruction") = fused;
                return;
            }
            if let Some(fused) = Instr::fuse_load(&instr, self.tail(1)) {
                *self.code.last_mut().expect("fused local.get") = fused;
                return;
            }
            // A constant stored at a local plus a constant: both pushed just before.
            let value = self.tail(1).and_then(Instr::small_const_bits);
            if let Some(fused) = value
                .zip(self.tail(2))
                .and_then(|(c, addr)| Instr::fuse_store_local_add(&instr, addr, c))
            {
                let len = self.code.len() - 2;
                self.code.truncate(len);
                self.offsets.truncate(len);
                self.emit(fused);
                return;
            }
            let addressed = self.fuse_store_address(&instr);
            let store = addressed.as_ref().unwrap_or(&instr);
            // A constant stored: the constant's instruction, last before the store, pushed
            // the value operand.
            let value = self.tail(1).and_then(Instr::small_const_bits);
            if let Some(fused) = value.and_then(|c| Instr::fuse_store_value(store, c)) {
                self.code.pop();
                self.offsets.pop();
                self.emit(fused);
                return;
            }
            if let Some(fused) = addressed {
                self.emit(fused);
                return;
            }
            if let Some((n, fused)) = fuse_binary(&instr, self.tail(2), self.tail(1)) {
                let len = self.code.len() - n;
                self.code.truncate(len);
                self.offsets.truncate(len);
                self.emit(fused);
                return;
            }
            // A binary operator whose first operand came from a `local.get` further back.
            if let Some((i, local)) = self.pending_get_at(self.height_before.checked_sub(2)) {
                if let Some(fused) = fuse_binary_local_first(&instr, local) {
                    self.remove_pending_get(i);
                    self.emit(fused);
                    return;
                }
            }
        }
        self.emit(instr);
    }

    fn target(&mut self, depth: u32) -> (BrTarget, Option<usize>) {
        let idx = self.ctl.len() - 1 - depth as usize;
        let frame = &self.ctl[idx];
        let pc = if frame.kind == CtlKind::Loop {
            frame.start_pc
        } else {
            u32::MAX
        };
        let t = BrTarget {
            pc,
            height: frame.height,
            keep: frame.br_arity as u16,
            fuel: 0,
        };
        (
            t,
            if frame.kind == CtlKind::Loop {
                None
            } else {
                Some(idx)
            },
        )
    }

    /// Interns the target of a branch to `depth` in the branch table (fused branches refer
    /// to it by index, so their shapes stay small) and returns its index.
    fn intern_target(&mut self, depth: u32) -> u32 {
        let (t, fix) = self.target(depth);
        let at = self.br_tables.len();
        self.br_tables.push(t);
        if let Some(idx) = fix {
            self.ctl[idx].fixups.push(Fixup::Table(at));
        }
        at as u32
    }

    fn branch(&mut self, depth: u32, make: fn(BrTarget) -> Instr) {
        let (t, fix) = self.target(depth);
        let at = self.emit(make(t));
        if let Some(idx) = fix {
            self.ctl[idx].fixups.push(Fixup::Instr(at));
        }
    }

    fn patch(&mut self, fixup: Fixup, pc: u32) {
        match fixup {
            Fixup::Instr(at) => match &mut self.code[at] {
                Instr::Br(t) | Instr::BrIf(t) | Instr::BrIfNot(t) => t.pc = pc,
                _ => unreachable!("fixup points at a branch"),
            },
            Fixup::Table(at) => self.br_tables[at].pc = pc,
        }
    }
}

/// Branches carry at most `u16::MAX` values (validation allows 1,000).
fn too_many_values(offset: u64) -> LoadError {
    LoadError::Unsupported {
        offset,
        message: "a block or function with more than 65535 parameters or results".into(),
    }
}

/// Fast mode with fuel: every branch whose target starts with `ConsumeFuel(n)` charges `n`
/// itself and lands after it (see [`BrTarget`]), which saves a dispatch per taken branch.
fn fold_branch_fuel(code: &mut [Instr], br_tables: &mut [BrTarget]) {
    let fold = |code: &[Instr], t: &mut BrTarget| {
        if let Some(Instr::ConsumeFuel(n)) = code.get(t.pc as usize) {
            if let Ok(fuel) = u16::try_from(*n) {
                t.pc += 1;
                t.fuel = fuel;
            }
        }
    };
    for t in br_tables.iter_mut() {
        fold(code, t);
    }
    for i in 0..code.len() {
        if let Instr::Br(mut t) | Instr::BrIf(mut t) | Instr::BrIfNot(mut t) = code[i] {
            fold(code, &mut t);
            match &mut code[i] {
                Instr::Br(x) | Instr::BrIf(x) | Instr::BrIfNot(x) => *x = t,
                _ => unreachable!("matched a branch above"),
            }
        }
    }
}

fn block_arity(module: &Module, bt: BlockType) -> (u32, u32) {
    match bt {
        BlockType::Empty => (0, 0),
        BlockType::Type(_) => (0, 1),
        BlockType::FuncType(i) => {
            let t = &module.types[i as usize];
            (t.params.len() as u32, t.results.len() as u32)
        }
    }
}

/// Lowers one function body, validating it again on the way (the validator supplies the
/// operand-stack heights that branches need).
pub(crate) fn lower_function(
    module: &Module,
    func_index: u32,
    body: &FunctionBody<'_>,
    mut validator: FuncValidator<ValidatorResources>,
    mode: LowerMode,
) -> Result<(LoweredFunc, FuncValidator<ValidatorResources>), LoadError> {
    let ty = module.func_type(func_index).clone();
    if ty.results.len() > usize::from(u16::MAX) {
        return Err(too_many_values(body.range().start));
    }
    let num_params = ty.params.len() as u32;
    let mut local_types = Vec::new();
    let mut locals = body.get_locals_reader()?;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, t) = locals.read()?;
        validator.define_locals(offset, count, t)?;
        local_types.extend(std::iter::repeat_n(convert_val_type(t), count as usize));
    }
    let base = num_params + local_types.len() as u32;
    let mut l = Lowerer {
        mode,
        code: Vec::new(),
        offsets: Vec::new(),
        costs: Vec::new(),
        br_tables: Vec::new(),
        v128_consts: Vec::new(),
        shuffles: Vec::new(),
        ctl: vec![Ctl {
            kind: CtlKind::Func,
            height: base,
            br_arity: ty.results.len() as u32,
            start_pc: 0,
            fixups: Vec::new(),
            else_fixup: None,
            entered_reachable: true,
        }],
        reachable: true,
        fuel_block: None,
        open_calls: Vec::new(),
        call_continuations: Vec::new(),
        boundary: 0,
        pending_gets: Vec::new(),
        height_before: 0,
        offset: body.range().start as u32,
        cost: 0,
    };
    l.start_block();
    // Function entry is charged with the first block.
    l.charge(weft_core::fuel::FUNCTION_ENTRY as u32);
    let mut max_height = base;
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        let offset = reader.original_position();
        let op = reader.read()?;
        let height_before = validator.operand_stack_height();
        let pops = match (l.reachable, op.operator_arity(&validator)) {
            (true, Some((pops, _))) => pops,
            _ => height_before,
        };
        validator.op(offset, &op)?;
        l.height_before = height_before;
        max_height = max_height.max(base + validator.operand_stack_height() + 1);
        l.offset = offset as u32;
        l.cost = op_cost(&op);
        let frame_height = || {
            base + validator
                .get_control_frame(0)
                .map_or(0, |f| f.height as u32)
        };
        match op {
            Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
                let (params, results) = block_arity(module, blockty);
                if params.max(results) > u32::from(u16::MAX) {
                    return Err(too_many_values(offset));
                }
                let height = frame_height();
                let entered_reachable = l.reachable;
                let kind = match op {
                    Operator::Block { .. } => CtlKind::Block,
                    Operator::Loop { .. } => CtlKind::Loop,
                    _ => CtlKind::If,
                };
                let mut start_pc = 0;
                let mut else_fixup = None;
                if entered_reachable {
                    l.charge(0);
                    match kind {
                        CtlKind::Block => {
                            if mode.exact {
                                l.emit(Instr::Marker(Marker::Block));
                            }
                        }
                        CtlKind::Loop => {
                            if mode.exact {
                                start_pc = l.pc();
                                l.emit(Instr::Marker(Marker::Loop));
                            } else {
                                start_pc = l.begin_block();
                            }
                        }
                        _ => {
                            // The false arm starts with the same stack: nothing moves.
                            let t = BrTarget {
                                pc: u32::MAX,
                                height,
                                keep: params as u16,
                                fuel: 0,
                            };
                            else_fixup = Some(l.emit(Instr::BrIfNot(t)));
                            l.start_block();
                        }
                    }
                }
                l.ctl.push(Ctl {
                    kind,
                    height,
                    br_arity: if kind == CtlKind::Loop {
                        params
                    } else {
                        results
                    },
                    start_pc,
                    fixups: Vec::new(),
                    else_fixup,
                    entered_reachable,
                });
            }
            Operator::Else => {
                let results = {
                    let frame = l.ctl.last().expect("validated");
                    frame.br_arity
                };
                if l.reachable {
                    let height = l.ctl.last().expect("validated").height;
                    let t = BrTarget {
                        pc: u32::MAX,
                        height,
                        keep: results as u16,
                        fuel: 0,
                    };
                    let at = l.emit(Instr::Br(t));
                    l.ctl
                        .last_mut()
                        .expect("validated")
                        .fixups
                        .push(Fixup::Instr(at));
                }
                let pc = l.pc();
                let frame = l.ctl.last_mut().expect("validated");
                frame.kind = CtlKind::Else;
                let else_fixup = frame.else_fixup.take();
                l.reachable = frame.entered_reachable;
                if let Some(at) = else_fixup {
                    l.patch(Fixup::Instr(at), pc);
                }
                if l.reachable {
                    l.start_block();
                }
            }
            Operator::End => {
                let frame = l.ctl.pop().expect("validated");
                let falls_through = l.reachable;
                if frame.kind == CtlKind::Func {
                    let pc = l.pc();
                    l.emit(Instr::Return);
                    l.close_fuel_block();
                    for f in frame.fixups {
                        l.patch(f, pc);
                    }
                    break;
                }
                if falls_through && mode.exact {
                    l.emit(Instr::Marker(Marker::End));
                }
                let else_fixup = frame.else_fixup;
                let reached = !frame.fixups.is_empty() || else_fixup.is_some();
                l.reachable = frame.entered_reachable && (falls_through || reached);
                let pc = if l.reachable { l.begin_block() } else { l.pc() };
                if let Some(at) = else_fixup {
                    // `if` without `else`: a false condition runs the (empty) else arm,
                    // whose `end` is this one.
                    let end_pc = if falls_through && mode.exact {
                        pc - 1
                    } else {
                        pc
                    };
                    l.patch(Fixup::Instr(at), end_pc);
                }
                for f in frame.fixups {
                    l.patch(f, pc);
                }
            }
            _ if !l.reachable => {}
            Operator::Unreachable => {
                l.emit(Instr::Unreachable);
                l.reachable = false;
            }
            Operator::Nop => {
                if mode.exact {
                    l.emit(Instr::Marker(Marker::Nop));
                }
            }
            Operator::Br { relative_depth } => {
                l.charge(0);
                l.branch(relative_depth, Instr::Br);
                l.reachable = false;
            }
            Operator::BrIf { relative_depth } => {
                l.charge(0);
                let fused = if mode.exact { None } else { l.tail(1).copied() };
                let fold_eqz = !mode.keep_operators;
                if let (Some(Instr::I32EqzL(local)), true) = (fused, fold_eqz) {
                    let t = l.intern_target(relative_depth);
                    *l.code.last_mut().expect("fused local.get") = Instr::BrIfNotL(local, t);
                } else if fold_eqz && fused == Some(Instr::I32Eqz) {
                    l.code.pop();
                    l.offsets.pop();
                    if let Some(Instr::LocalGet(local)) = l.tail(1).copied() {
                        let t = l.intern_target(relative_depth);
                        *l.code.last_mut().expect("fused local.get") = Instr::BrIfNotL(local, t);
                    } else {
                        l.branch(relative_depth, Instr::BrIfNot);
                    }
                } else if let Some(Instr::LocalGet(local)) = fused {
                    let t = l.intern_target(relative_depth);
                    *l.code.last_mut().expect("fused local.get") = Instr::BrIfL(local, t);
                } else if let Some(f) = fused.and_then(|p| fuse_br_if(&p, l.br_tables.len() as u32))
                {
                    // The target is interned in the branch table so the fused shape stays small.
                    let t = l.intern_target(relative_depth);
                    debug_assert_eq!(Some(f), fuse_br_if(&fused.expect("fused"), t));
                    *l.code.last_mut().expect("fused instruction") = f;
                } else {
                    l.branch(relative_depth, Instr::BrIf);
                }
                l.start_block();
            }
            Operator::BrTable { targets } => {
                l.charge(0);
                let first = l.br_tables.len() as u32;
                let mut depths = Vec::with_capacity(targets.len() as usize + 1);
                for t in targets.targets() {
                    depths.push(t?);
                }
                depths.push(targets.default());
                for d in &depths {
                    let (t, fix) = l.target(*d);
                    let at = l.br_tables.len();
                    l.br_tables.push(t);
                    if let Some(idx) = fix {
                        l.ctl[idx].fixups.push(Fixup::Table(at));
                    }
                }
                l.emit(Instr::BrTable {
                    first,
                    len: depths.len() as u32 - 1,
                });
                l.reachable = false;
            }
            Operator::Return => {
                l.emit(Instr::Return);
                l.reachable = false;
            }
            Operator::Call { function_index } => {
                l.charge(0);
                l.emit(Instr::Call(function_index));
                l.after_call(function_index >= module.num_imported_funcs);
            }
            Operator::CallIndirect {
                type_index,
                table_index,
            } => {
                l.charge(0);
                l.emit(Instr::CallIndirect {
                    ty: type_index,
                    table: table_index,
                });
                l.after_call(false);
            }
            other => {
                l.charge(0);
                let instr = match other {
                    Operator::Drop => Instr::Drop,
                    Operator::Select | Operator::TypedSelect { .. } => Instr::Select,
                    Operator::LocalGet { local_index } => Instr::LocalGet(local_index),
                    Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                        let tee = matches!(other, Operator::LocalTee { .. });
                        let fused = if mode.exact { None } else { l.tail(1).copied() };
                        let simple = match fused {
                            Some(Instr::LocalGet(src)) if !tee => Some(Instr::LocalCopy {
                                src,
                                dst: local_index,
                            }),
                            Some(Instr::I32Const(value)) if !tee => Some(Instr::LocalSetI32 {
                                dst: local_index,
                                value,
                            }),
                            Some(Instr::I64Const(c)) if !tee => {
                                i32::try_from(c).ok().map(|value| Instr::LocalSetI64 {
                                    dst: local_index,
                                    value,
                                })
                            }
                            _ => None,
                        };
                        if let Some(i) = simple {
                            *l.code.last_mut().expect("fused instruction") = i;
                            l.after_op(height_before.saturating_sub(pops));
                            continue;
                        }
                        match fused.and_then(|p| fuse_set(&p, local_index, tee)) {
                            Some(f) => {
                                *l.code.last_mut().expect("fused instruction") = f;
                                l.after_op(height_before.saturating_sub(pops));
                                continue;
                            }
                            None if tee => Instr::LocalTee(local_index),
                            None => Instr::LocalSet(local_index),
                        }
                    }
                    Operator::GlobalGet { global_index } => Instr::GlobalGet(global_index),
                    Operator::GlobalSet { global_index } => Instr::GlobalSet(global_index),
                    Operator::I32Const { value } => Instr::I32Const(value),
                    Operator::I64Const { value } => Instr::I64Const(value),
                    Operator::F32Const { value } => Instr::F32Const(value.bits()),
                    Operator::F64Const { value } => Instr::F64Const(value.bits()),
                    Operator::V128Const { value } => {
                        l.v128_consts.push(value.i128() as u128);
                        Instr::V128Const(l.v128_consts.len() as u32 - 1)
                    }
                    Operator::I8x16Shuffle { lanes } => {
                        l.shuffles.push(lanes);
                        Instr::I8x16Shuffle(l.shuffles.len() as u32 - 1)
                    }
                    Operator::RefNull { .. } => Instr::RefNull,
                    Operator::RefIsNull => Instr::RefIsNull,
                    Operator::RefFunc { function_index } => Instr::RefFunc(function_index),
                    Operator::MemorySize { .. } => Instr::MemorySize,
                    Operator::MemoryGrow { .. } => Instr::MemoryGrow,
                    Operator::MemoryFill { .. } => Instr::MemoryFill,
                    Operator::MemoryCopy { .. } => Instr::MemoryCopy,
                    Operator::MemoryInit { data_index, .. } => Instr::MemoryInit(data_index),
                    Operator::DataDrop { data_index } => Instr::DataDrop(data_index),
                    Operator::TableGet { table } => Instr::TableGet(table),
                    Operator::TableSet { table } => Instr::TableSet(table),
                    Operator::TableSize { table } => Instr::TableSize(table),
                    Operator::TableGrow { table } => Instr::TableGrow(table),
                    Operator::TableFill { table } => Instr::TableFill(table),
                    Operator::TableCopy {
                        dst_table,
                        src_table,
                    } => Instr::TableCopy {
                        dst: dst_table,
                        src: src_table,
                    },
                    Operator::TableInit { elem_index, table } => Instr::TableInit {
                        table,
                        elem: elem_index,
                    },
                    Operator::ElemDrop { elem_index } => Instr::ElemDrop(elem_index),
                    ref other => match Instr::from_table_operator(other) {
                        Some(i) => i,
                        None => {
                            return Err(LoadError::Unsupported {
                                offset,
                                message: format!("operator {other:?}"),
                            })
                        }
                    },
                };
                l.emit_fused(instr);
            }
        }
        l.after_op(height_before.saturating_sub(pops));
    }
    // Every frame closed and nothing after the function's `end` (the reader tracks frames).
    reader.finish()?;
    if mode.fuel && !mode.exact {
        fold_branch_fuel(&mut l.code, &mut l.br_tables);
    }
    let lowered = LoweredFunc {
        func_index,
        code: l.code,
        offsets: l.offsets,
        costs: l.costs,
        br_tables: l.br_tables,
        v128_consts: l.v128_consts,
        shuffles: l.shuffles,
        call_continuations: l.call_continuations,
        num_params,
        num_results: ty.results.len() as u32,
        local_types,
        max_height,
    };
    Ok((lowered, validator))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code and branch table of the module's first function.
    fn lower(wat: &str, mode: LowerMode) -> (Vec<Instr>, Vec<BrTarget>) {
        let m = Module::from_bytes_or_text(wat.as_bytes()).expect("valid module");
        let funcs = m.lowered(mode).expect("lowers");
        let f = funcs.iter().next().expect("one function");
        (f.code.clone(), f.br_tables.clone())
    }

    const COUNT: &str = r#"(module (memory 1)
      (func (param $n i32) (local $i i32)
        (loop $next
          (i32.store8 (local.get $i) (i32.const 1))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $next (local.get $n)))))"#;

    #[test]
    fn constant_stores_and_branches_on_locals_are_one_instruction() {
        let (code, targets) = lower(COUNT, LowerMode::FAST);
        let store = Instr::I32Store8LI {
            local: 1,
            offset: 0,
            value: 1,
        };
        assert_eq!(code[..2], [store, Instr::I32AddLISet(1, 1, 1)]);
        let Instr::BrIfL(0, t) = code[2] else {
            panic!("expected a br_if on local 0: {code:?}")
        };
        assert_eq!(targets[t as usize].pc, 0);
        assert_eq!(targets[t as usize].fuel, 0);
    }

    #[test]
    fn a_local_read_before_the_second_operand_joins_the_operator_unless_written() {
        let wat = r#"(module (memory 1)
          (func (param i32 i32) (result i32)
            (i32.add (local.get 0) (i32.load (local.get 1)))))"#;
        let (code, _) = lower(wat, LowerMode::FAST);
        let load = Instr::I32LoadL {
            local: 1,
            offset: 0,
        };
        assert_eq!(code[..3], [load, Instr::I32AddLS(0), Instr::Return]);
        // The local is written between its read and the operator: the read stays.
        let wat = r#"(module
          (func (param i32) (result i32)
            (i32.add (local.get 0) (local.tee 0 (i32.const 5)))))"#;
        let (code, _) = lower(wat, LowerMode::FAST);
        assert_eq!(code[0], Instr::LocalGet(0));
        assert!(
            !code.iter().any(|i| matches!(i, Instr::I32AddLS(_))),
            "{code:?}"
        );
    }

    #[test]
    fn addresses_plus_constants_unary_operators_and_select_conditions_join_their_sources() {
        let wat = r#"(module (memory 1)
          (func (param $p i32) (param $c i32) (result i32)
            (i32.store8 (i32.add (local.get $p) (i32.const 1024)) (i32.const 1))
            (drop (i32.load8_u (i32.add (local.get $p) (i32.const -1))))
            (i32.load16_u offset=2 (i32.add (i32.load (local.get $p)) (i32.const 8)))
            (i32.const 5)
            (local.tee $c (i32.eqz (local.get $c)))
            select))"#;
        let (code, _) = lower(wat, LowerMode::FAST);
        let expected = [
            Instr::I32Store8LAI {
                local: 0,
                add: 1024,
                value: 1,
            },
            Instr::I32Load8ULA {
                local: 0,
                add: -1,
                offset: 0,
            },
            Instr::Drop,
            Instr::I32LoadL {
                local: 0,
                offset: 0,
            },
            Instr::I32Load16UA { add: 8, offset: 2 },
            Instr::I32Const(5),
            Instr::I32EqzL(1),
            Instr::SelectTee(1),
            Instr::Return,
        ];
        assert_eq!(code, expected);
        // Exact mode keeps every operator.
        let (exact, _) = lower(wat, LowerMode::EXACT);
        assert!(exact.contains(&Instr::Select) && exact.contains(&Instr::I32Eqz));
    }

    #[test]
    fn keeping_operators_leaves_eqz_before_br_if() {
        let wat = r#"(module
          (func (param $a i32) (param $b i32)
            (block (br_if 0 (i32.eqz (local.get $a))))
            (block (br_if 0 (i32.eqz (i32.add (local.get $a) (local.get $b)))))))"#;
        let is_eqz = |i: &Instr| matches!(i, Instr::I32Eqz | Instr::I32EqzL(_));
        let (folded, _) = lower(wat, LowerMode::FAST);
        assert!(!folded.iter().any(is_eqz), "{folded:?}");
        for mode in [LowerMode::FAST, LowerMode::FAST_FUEL] {
            let (kept, _) = lower(wat, mode.keeping_operators());
            assert_eq!(kept.iter().filter(|i| is_eqz(i)).count(), 2, "{kept:?}");
            assert!(!kept
                .iter()
                .any(|i| matches!(i, Instr::BrIfNot(_) | Instr::BrIfNotL(..))));
        }
    }

    #[test]
    fn taken_branches_charge_their_target_block_and_empty_blocks_merge() {
        let (code, targets) = lower(COUNT, LowerMode::FAST_FUEL);
        // The entry block charges the entry; the loop's block its nine operators.
        assert_eq!(code[..2], [Instr::ConsumeFuel(1), Instr::ConsumeFuel(9)]);
        let Instr::BrIfL(0, t) = code[4] else {
            panic!("expected a br_if on local 0: {code:?}")
        };
        // The back edge lands after the loop's charge and charges it itself.
        let back = targets[t as usize];
        assert_eq!((back.pc, back.fuel), (2, 9));
        // After the loop: one (empty) charge for the fall-through and the loop's end.
        assert_eq!(code[5..], [Instr::ConsumeFuel(0), Instr::Return]);
    }
}
