//! `Machine<D, O>`: the interpreter, generic over the value domain and the observer.
//!
//! All wasm state lives in heap structures (value stack, frame stack, store): wasm calls never
//! recurse on the host stack, every resource is bounded by [`Limits`], and a suspended machine
//! (a domain asked to fork) can be cloned and resumed.

use crate::domain::{Domain, Fault, LinearMemory};
use crate::error::{ExecError, Trap};
use crate::host::{HostCtx, HostError, HostFunc};
use crate::limits::Limits;
use crate::observer::{AccessKind, NoObserver, Observer, StepView};
use crate::store::{FuncInst, FuncKind, InstanceData, Store};
use std::sync::Arc;
use weft_core::ops::*;
use weft_core::{RefValue, TrapCode, Val};
use weft_ir::{BrTarget, Instr, LowerMode, LoweredFunc};

/// Bytes in a page.
const PAGE: u64 = 65536;

/// How a machine is set up.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Meter fuel (needed for [`Machine::set_fuel`] and [`Machine::fuel_consumed`]).
    pub fuel: bool,
    /// Resource limits.
    pub limits: Limits,
}

/// A saved caller context.
#[derive(Copy, Clone, Debug)]
struct Frame {
    func: u32,
    pc: u32,
    fp: u32,
}

/// The registers of the run loop.
#[derive(Copy, Clone, Debug)]
struct Regs {
    func: u32,
    pc: usize,
    fp: usize,
    sp: usize,
}

/// A call in progress (to resume after a suspension).
#[derive(Clone, Debug)]
struct Pending {
    regs: Regs,
    entry_depth: usize,
    base: usize,
    num_results: usize,
}

/// The interpreter.
pub struct Machine<D: Domain, O: Observer<D> = NoObserver> {
    /// The value domain.
    pub domain: D,
    /// The observer.
    pub observer: O,
    /// Functions, tables, memories, globals, instances.
    pub store: Store<D>,
    /// Resource limits.
    pub limits: Limits,
    mode: LowerMode,
    metering: bool,
    fuel_left: u64,
    /// Fuel consumed before the last `set_fuel`.
    fuel_consumed_before: u64,
    /// `fuel_left` as the last `set_fuel` left it: consumed = before + base - left.
    fuel_base: u64,
    stack: Vec<D::Value>,
    frames: Vec<Frame>,
    view_frames: Vec<(u32, u32)>,
    pending: Option<Pending>,
}

impl<D: Domain + Clone, O: Observer<D> + Clone> Clone for Machine<D, O> {
    fn clone(&self) -> Self {
        Machine {
            domain: self.domain.clone(),
            observer: self.observer.clone(),
            store: self.store.clone(),
            limits: self.limits.clone(),
            mode: self.mode,
            metering: self.metering,
            fuel_left: self.fuel_left,
            fuel_consumed_before: self.fuel_consumed_before,
            fuel_base: self.fuel_base,
            stack: self.stack.clone(),
            frames: self.frames.clone(),
            view_frames: self.view_frames.clone(),
            pending: self.pending.clone(),
        }
    }
}

/// Outcome of one call dispatch inside the loop.
enum Enter {
    Wasm(Regs),
    Done(usize),
}

impl<D: Domain, O: Observer<D>> Machine<D, O> {
    /// A machine with the given domain, observer and configuration.
    pub fn new(domain: D, observer: O, config: Config) -> Self {
        let mode = if O::ENABLED {
            LowerMode::EXACT
        } else if config.fuel {
            LowerMode::FAST_FUEL
        } else {
            LowerMode::FAST
        };
        let mode = if D::KEEPS_OPERATORS {
            mode.keeping_operators()
        } else {
            mode
        };
        Machine {
            domain,
            observer,
            store: Store::default(),
            limits: config.limits,
            mode,
            metering: config.fuel,
            fuel_left: u64::MAX,
            fuel_consumed_before: 0,
            fuel_base: u64::MAX,
            stack: Vec::new(),
            frames: Vec::new(),
            view_frames: Vec::new(),
            pending: None,
        }
    }

    /// The lowering mode this machine runs.
    pub fn mode(&self) -> LowerMode {
        self.mode
    }

    /// Sets the fuel available to later calls (`None`: unlimited). Needs `Config::fuel`.
    pub fn set_fuel(&mut self, fuel: Option<u64>) -> Result<(), ExecError> {
        if !self.metering && fuel.is_some() {
            return Err(ExecError::Usage(
                "fuel was not enabled in the machine's config".into(),
            ));
        }
        self.fuel_consumed_before = self.fuel_consumed();
        self.fuel_left = fuel.unwrap_or(u64::MAX);
        self.fuel_base = self.fuel_left;
        Ok(())
    }

    /// Fuel consumed so far (0 without metering).
    pub fn fuel_consumed(&self) -> u64 {
        self.fuel_consumed_before + (self.fuel_base - self.fuel_left)
    }

    /// Fuel left (`u64::MAX` when unlimited).
    pub fn fuel_left(&self) -> u64 {
        self.fuel_left
    }

    /// Adds a host function to the store and returns its address.
    pub fn add_host_func(&mut self, f: HostFunc<D>) -> u32 {
        let sig = self.store.sig_id(&f.ty);
        self.store.funcs.push(FuncInst {
            kind: FuncKind::Host(f),
            sig,
        });
        self.store.funcs.len() as u32 - 1
    }

    /// Calls the function at store address `func` with domain values.
    pub fn call(&mut self, func: u32, args: &[D::Value]) -> Result<Vec<D::Value>, ExecError> {
        if self.pending.is_some() {
            return Err(ExecError::Usage(
                "a suspended call must be resumed first".into(),
            ));
        }
        let ty = match self.store.funcs.get(func as usize) {
            Some(_) => self.store.func_type(func),
            None => return Err(ExecError::Usage(format!("no function at address {func}"))),
        };
        if ty.params.len() != args.len() {
            return Err(ExecError::Usage(format!(
                "function expects {} arguments, got {}",
                ty.params.len(),
                args.len()
            )));
        }
        // Calls start on an empty frame stack (hosts cannot re-enter the machine), so the
        // arguments go to the bottom of the value stack.
        debug_assert!(self.frames.is_empty());
        let base = 0;
        self.ensure_stack(base + args.len().max(ty.results.len()))
            .map_err(|f| self.trap_here(f, None))?;
        self.stack[base..base + args.len()].copy_from_slice(args);
        let entry_depth = self.frames.len();
        let regs = Regs {
            func: u32::MAX,
            pc: 0,
            fp: base,
            sp: base + args.len(),
        };
        match self.enter(func, regs) {
            Ok(Enter::Done(_sp)) => Ok(self.stack[base..base + ty.results.len()].to_vec()),
            Ok(Enter::Wasm(regs)) => {
                let pending = Pending {
                    regs,
                    entry_depth,
                    base,
                    num_results: ty.results.len(),
                };
                self.resume_from(pending)
            }
            Err(e) => Err(e),
        }
    }

    /// Calls with concrete typed values, checking their types.
    pub fn call_vals(&mut self, func: u32, args: &[Val]) -> Result<Vec<Val>, ExecError> {
        let ty = match self.store.funcs.get(func as usize) {
            Some(_) => self.store.func_type(func),
            None => return Err(ExecError::Usage(format!("no function at address {func}"))),
        };
        if ty.params.len() != args.len() {
            return Err(ExecError::Usage(format!(
                "function expects {} arguments ({}), got {}",
                ty.params.len(),
                ty,
                args.len()
            )));
        }
        for (i, (a, p)) in args.iter().zip(&ty.params).enumerate() {
            if a.ty() != *p {
                return Err(ExecError::Usage(format!(
                    "argument {i} has type {}, expected {p}",
                    a.ty()
                )));
            }
        }
        let dargs: Vec<D::Value> = args.iter().map(|a| self.domain.constant(*a)).collect();
        let results = self.call(func, &dargs)?;
        results
            .into_iter()
            .zip(&ty.results)
            .map(|(v, t)| {
                self.domain
                    .to_val(v, *t)
                    .map_err(|f| self.trap_here(f, None))
            })
            .collect()
    }

    /// Continues a call that stopped with [`ExecError::Suspended`].
    pub fn resume(&mut self) -> Result<Vec<D::Value>, ExecError> {
        match self.pending.take() {
            Some(p) => self.resume_from(p),
            None => Err(ExecError::Usage("no suspended call".into())),
        }
    }

    /// Whether a call is suspended.
    pub fn is_suspended(&self) -> bool {
        self.pending.is_some()
    }

    fn resume_from(&mut self, p: Pending) -> Result<Vec<D::Value>, ExecError> {
        match self.run(p.entry_depth, p.regs) {
            Ok(()) => Ok(self.stack[p.base..p.base + p.num_results].to_vec()),
            Err((ExecError::Suspended, regs)) => {
                self.pending = Some(Pending { regs, ..p });
                Err(ExecError::Suspended)
            }
            Err((e, _)) => {
                self.refund_continuations(p.entry_depth);
                self.frames.truncate(p.entry_depth);
                self.view_frames.truncate(p.entry_depth);
                Err(e)
            }
        }
    }

    /// A run unwinding past calls gives back the fuel charged in advance for the code after
    /// each call it abandons (see `LoweredFunc::call_continuations`), so fuel consumed stays
    /// what wasmtime reports when the host exits from deep inside a program.
    fn refund_continuations(&mut self, entry_depth: usize) {
        if !self.metering {
            return;
        }
        let mut refund = 0u64;
        for f in self.frames.get(entry_depth..).unwrap_or_default() {
            if let Some(FuncInst {
                kind: FuncKind::Wasm { code, .. },
                ..
            }) = self.store.funcs.get(f.func as usize)
            {
                let table = &code.call_continuations;
                if let Ok(i) = table.binary_search_by_key(&f.pc, |&(pc, _)| pc) {
                    refund += table[i].1 as u64;
                }
            }
        }
        self.fuel_left = self.fuel_left.saturating_add(refund).min(self.fuel_base);
    }

    fn trap_here(&mut self, f: Fault, at: Option<(&LoweredFunc, usize)>) -> ExecError {
        match f {
            Fault::Fork => ExecError::Suspended,
            Fault::Trap(code) => {
                let trap = Trap {
                    code,
                    func: at.map(|(c, _)| c.func_index),
                    offset: at.and_then(|(c, pc)| c.offsets.get(pc).copied()),
                    detail: None,
                };
                if O::ENABLED {
                    self.observer.on_trap(&trap);
                }
                ExecError::Trap(trap)
            }
        }
    }

    fn ensure_stack(&mut self, slots: usize) -> Result<(), Fault> {
        if slots > self.stack.len() {
            if slots > self.limits.max_stack_slots as usize {
                return Err(Fault::Trap(TrapCode::StackExhausted));
            }
            let zero = self.domain.constant(Val::I32(0));
            let new = (slots * 2)
                .clamp(1024, self.limits.max_stack_slots as usize)
                .max(slots);
            self.stack.resize(new, zero);
        }
        Ok(())
    }

    /// Enters function `addr` whose arguments are on top of the stack at `regs.sp`.
    /// Host functions run to completion here; wasm functions return their first registers.
    fn enter(&mut self, addr: u32, regs: Regs) -> Result<Enter, ExecError> {
        let func = &self.store.funcs[addr as usize];
        match &func.kind {
            FuncKind::Wasm {
                code,
                instance,
                index,
            } => {
                // SAFETY: function code is owned by the store and never freed while the
                // machine runs (the store only grows).
                let code: &LoweredFunc = unsafe { &*Arc::as_ptr(code) };
                let (instance, index) = (*instance, *index);
                if self.frames.len() >= self.limits.max_call_depth as usize {
                    return Err(self.trap_here(Fault::Trap(TrapCode::StackExhausted), None));
                }
                let fp = regs.sp - code.num_params as usize;
                if let Err(f) = self.ensure_stack(fp + code.max_height as usize) {
                    return Err(self.trap_here(f, None));
                }
                for (i, t) in code.local_types.iter().enumerate() {
                    self.stack[fp + code.num_params as usize + i] =
                        self.domain.constant(Val::default_of(*t));
                }
                if self.mode.exact && self.metering {
                    if self.fuel_left < weft_core::fuel::FUNCTION_ENTRY {
                        return Err(self.trap_here(Fault::Trap(TrapCode::OutOfFuel), None));
                    }
                    self.fuel_left -= weft_core::fuel::FUNCTION_ENTRY;
                }
                if O::ENABLED {
                    self.observer.on_call(instance, index);
                }
                let sp = fp + code.num_locals_total() as usize;
                Ok(Enter::Wasm(Regs {
                    func: addr,
                    pc: 0,
                    fp,
                    sp,
                }))
            }
            FuncKind::Host(h) => {
                let h = h.clone();
                let n = h.ty.params.len();
                let base = regs.sp - n;
                let caller_mem = match self.store.funcs.get(regs.func as usize) {
                    Some(FuncInst {
                        kind: FuncKind::Wasm { instance, .. },
                        ..
                    }) => self.store.instances[*instance as usize]
                        .memories
                        .first()
                        .copied(),
                    _ => None,
                };
                let args: Vec<D::Value> = self.stack[base..regs.sp].to_vec();
                let memory = match caller_mem {
                    Some(m) => Some(&mut self.store.memories[m as usize].mem),
                    None => None,
                };
                if O::ENABLED {
                    self.observer
                        .before_host_call(addr, &args, memory.as_deref());
                }
                let mut ctx = HostCtx {
                    domain: &mut self.domain,
                    memory,
                };
                let results = match (h.func)(&mut ctx, &args) {
                    Ok(r) => r,
                    Err(HostError::Exit(code)) => return Err(ExecError::Exit(code)),
                    Err(HostError::Trap(msg)) => {
                        return Err(ExecError::Trap(Trap {
                            code: TrapCode::HostError,
                            func: None,
                            offset: None,
                            detail: Some(msg),
                        }))
                    }
                    Err(HostError::Fault(f)) => return Err(self.trap_here(f, None)),
                };
                if results.len() != h.ty.results.len() {
                    return Err(ExecError::Trap(Trap {
                        code: TrapCode::HostError,
                        func: None,
                        offset: None,
                        detail: Some(format!(
                            "host function returned {} values, its type says {}",
                            results.len(),
                            h.ty.results.len()
                        )),
                    }));
                }
                if let Err(f) = self.ensure_stack(base + results.len()) {
                    return Err(self.trap_here(f, None));
                }
                self.stack[base..base + results.len()].copy_from_slice(&results);
                if O::ENABLED {
                    let memory = caller_mem.map(|m| &self.store.memories[m as usize].mem);
                    self.observer.after_host_call(&results, memory);
                }
                Ok(Enter::Done(base + results.len()))
            }
        }
    }

    /// The run loop. Returns when the frame stack is back at `entry_depth`.
    #[allow(clippy::cognitive_complexity)]
    fn run(&mut self, entry_depth: usize, regs: Regs) -> Result<(), (ExecError, Regs)> {
        let Regs {
            mut func,
            mut pc,
            mut fp,
            mut sp,
        } = regs;
        let (mut code, mut inst) = self.load_func(func);
        let mut mem_addr = inst.memories.first().copied().unwrap_or(u32::MAX) as usize;
        // The stack's base pointer, kept in a register: only `enter` can reallocate the stack.
        let mut stk: *mut D::Value = self.stack.as_mut_ptr();
        let mut instrs: *const Instr = code.code.as_ptr();

        // Stack slots are accessed without bounds checks: on entry every function has
        // `fp + max_height` slots (checked in `enter`), and validation bounds the operand
        // stack by `max_height`, so every index below is in range.
        macro_rules! sget {
            ($i:expr) => {{
                let i: usize = $i;
                debug_assert!(i < self.stack.len() && stk == self.stack.as_mut_ptr());
                // SAFETY: see above; `stk` is refreshed whenever the stack may reallocate.
                unsafe { *stk.add(i) }
            }};
        }
        macro_rules! sset {
            ($i:expr, $v:expr) => {{
                let i: usize = $i;
                let v = $v;
                debug_assert!(i < self.stack.len() && stk == self.stack.as_mut_ptr());
                // SAFETY: see above; `stk` is refreshed whenever the stack may reallocate.
                unsafe { *stk.add(i) = v }
            }};
        }
        macro_rules! local {
            ($i:expr) => {
                sget!(fp + $i as usize)
            };
        }
        macro_rules! regs {
            () => {
                Regs { func, pc, fp, sp }
            };
        }
        macro_rules! fail {
            ($f:expr) => {{
                let f: Fault = $f;
                let e = self.trap_here(f, Some((&code, pc)));
                return Err((e, regs!()));
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(f) => fail!(f),
                }
            };
        }
        macro_rules! trap {
            ($c:expr) => {
                fail!(Fault::Trap($c))
            };
        }
        macro_rules! branch {
            ($t:expr) => {{
                let t: BrTarget = $t;
                let keep = t.keep as usize;
                let dst = fp + t.height as usize;
                if keep == 1 {
                    sset!(dst, sget!(sp - 1));
                } else if keep > 0 && dst != sp - keep {
                    self.stack.copy_within(sp - keep..sp, dst);
                }
                sp = dst + keep;
                pc = t.pc as usize;
                if t.fuel != 0 {
                    // The target block's charge, folded into the branch (see `BrTarget`).
                    let n = t.fuel as u64;
                    if self.fuel_left >= n {
                        self.fuel_left -= n;
                    } else {
                        pc -= 1;
                    }
                }
                continue;
            }};
        }
        macro_rules! mem {
            () => {
                self.store.memories[mem_addr].mem
            };
        }
        macro_rules! charge {
            ($n:expr) => {{
                let n: u64 = $n;
                if self.fuel_left < n {
                    trap!(TrapCode::OutOfFuel);
                }
                self.fuel_left -= n;
            }};
        }
        macro_rules! charge_bulk {
            ($n:expr) => {{
                if self.metering {
                    charge!(weft_core::fuel::bulk_cost($n as u64));
                }
            }};
        }
        macro_rules! check_range {
            ($start:expr, $len:expr, $size:expr, $code:expr) => {{
                let start: u64 = $start as u64;
                let len: u64 = $len as u64;
                if start
                    .checked_add(len)
                    .map_or(true, |end| end > $size as u64)
                {
                    trap!($code);
                }
            }};
        }
        // Stores `value` (evaluated first) with `width` bytes at `addr + offset`; the caller
        // pops the operands afterwards, so a fork on the address leaves the stack intact.
        // Loads `$op` (`$width` bytes) at `$addr + $offset` and yields the value.
        macro_rules! load_from {
            ($addr:expr, $offset:expr, $op:ident, $width:expr) => {{
                let base = tri!(self.domain.address($addr));
                let ea = base as u64 + $offset as u64;
                check_range!(ea, $width, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                let v = tri!(self.domain.load(&mem!(), ea, LoadOp::$op));
                if O::ENABLED {
                    self.observer.on_memory(ea, $width, v, AccessKind::Read);
                }
                v
            }};
        }
        macro_rules! store_to {
            ($addr:expr, $offset:expr, $op:ident, $width:expr, $value:expr) => {{
                let v = $value;
                let base = tri!(self.domain.address($addr));
                let ea = base as u64 + $offset as u64;
                check_range!(ea, $width, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                self.domain.store(&mut mem!(), ea, StoreOp::$op, v);
                if O::ENABLED {
                    self.observer.on_memory(ea, $width, v, AccessKind::Write);
                }
            }};
        }
        macro_rules! call_addr {
            ($addr:expr) => {{
                let addr: u32 = $addr;
                let caller = regs!();
                let caller_pc = pc as u32 + 1;
                let entered = self.enter(
                    addr,
                    Regs {
                        pc: caller_pc as usize,
                        ..caller
                    },
                );
                stk = self.stack.as_mut_ptr();
                match entered {
                    Ok(Enter::Done(new_sp)) => {
                        sp = new_sp;
                        pc += 1;
                        continue;
                    }
                    Ok(Enter::Wasm(r)) => {
                        self.frames.push(Frame {
                            func,
                            pc: caller_pc,
                            fp: fp as u32,
                        });
                        if O::ENABLED {
                            self.view_frames.push((code.func_index, code.offsets[pc]));
                        }
                        func = r.func;
                        pc = 0;
                        fp = r.fp;
                        sp = r.sp;
                        let (c, i) = self.load_func(func);
                        code = c;
                        instrs = code.code.as_ptr();
                        if self.metering {
                            // Charge the callee's entry block here rather than dispatching
                            // its first instruction; too little fuel traps there as usual.
                            if let Some(&Instr::ConsumeFuel(n)) = code.code.first() {
                                if self.fuel_left >= n as u64 {
                                    self.fuel_left -= n as u64;
                                    pc = 1;
                                }
                            }
                        }
                        if !std::ptr::eq(i, inst) {
                            inst = i;
                            mem_addr = inst.memories.first().copied().unwrap_or(u32::MAX) as usize;
                        }
                        continue;
                    }
                    Err(ExecError::Suspended) => return Err((ExecError::Suspended, regs!())),
                    Err(ExecError::Trap(mut t)) => {
                        if t.func.is_none() {
                            t.func = Some(code.func_index);
                            t.offset = code.offsets.get(pc).copied();
                        }
                        return Err((ExecError::Trap(t), regs!()));
                    }
                    Err(e) => return Err((e, regs!())),
                }
            }};
        }

        loop {
            debug_assert!(pc < code.code.len() && instrs == code.code.as_ptr());
            // SAFETY: every lowered body ends in `Return` and branch targets are resolved
            // inside the body, so `pc` never leaves the code; `instrs` follows `code`.
            let instr = unsafe { &*instrs.add(pc) };
            if O::ENABLED {
                if self.metering {
                    charge!(code.costs[pc] as u64);
                }
                let nl = code.num_locals_total() as usize;
                let view = StepView::<D> {
                    func: code.func_index,
                    instance: self.instance_index(func),
                    pc: pc as u32,
                    offset: code.offsets[pc],
                    instr,
                    stack: &self.stack[fp + nl..sp],
                    locals: &self.stack[fp..fp + nl],
                    frames: &self.view_frames,
                    fuel_consumed: self.fuel_consumed(),
                };
                self.observer.before_step(&view);
            }
            macro_rules! gen_dispatch {
                (
                    { binary { $($fop:ident $fc:ident $fvt:ident,)* } unary { $($fu:ident,)* } }
                    unary { $($u:ident $un:literal $ua:ident -> $ur:ident,)* }
                    binary { $($b:ident $bn:literal $ba:ident $bb:ident -> $br:ident,)* }
                    ternary { $($t:ident $tn:literal $ta:ident $tb:ident $tc:ident -> $tr:ident,)* }
                    unary_lane { $($ul:ident $uln:literal $ula:ident -> $ulr:ident,)* }
                    binary_lane { $($bl:ident $bln:literal $bla:ident $blb:ident -> $blr:ident,)* }
                    load { $($l:ident $ln:literal $lw:literal -> $lr:ident,)* }
                    store { $($s:ident $sn:literal $sa:ident $sw:literal,)* }
                    load_lane { $($ll:ident $lln:literal $llw:literal,)* }
                    store_lane { $($sl:ident $sln:literal $slw:literal,)* }
                ) => {
                    pastey::paste! { match *instr {
                        $(Instr::[<$fu L>](a) => {
                            let r = tri!(self.domain.unary(UnaryOp::$fu, local!(a)));
                            sset!(sp, r);
                            sp += 1;
                        })*
                        $(Instr::[<$fop LL>](a, b) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), local!(b)));
                            sset!(sp, r);
                            sp += 1;
                        })*
                        $(Instr::[<$fop LI>](a, c) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), y));
                            sset!(sp, r);
                            sp += 1;
                        })*
                        $(Instr::[<$fop SI>](c) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), y));
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop LS>](a) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), sget!(sp - 1)));
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop SL>](b) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), local!(b)));
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop LLSet>](a, b, d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), local!(b)));
                            sset!(fp + d as usize, r);
                        })*
                        $(Instr::[<$fop LISet>](a, c, d) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), y));
                            sset!(fp + d as usize, r);
                        })*
                        $(Instr::[<$fop SISet>](c, d) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), y));
                            sp -= 1;
                            sset!(fp + d as usize, r);
                        })*
                        $(Instr::[<$fop SLSet>](b, d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), local!(b)));
                            sp -= 1;
                            sset!(fp + d as usize, r);
                        })*
                        $(Instr::[<$fop SSSet>](d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 2), sget!(sp - 1)));
                            sp -= 2;
                            sset!(fp + d as usize, r);
                        })*
                        $(Instr::[<$fop LLTee>](a, b, d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), local!(b)));
                            sset!(fp + d as usize, r);
                            sset!(sp, r);
                            sp += 1;
                        })*
                        $(Instr::[<$fop LITee>](a, c, d) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), y));
                            sset!(fp + d as usize, r);
                            sset!(sp, r);
                            sp += 1;
                        })*
                        $(Instr::[<$fop SITee>](c, d) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), y));
                            sset!(fp + d as usize, r);
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop SLTee>](b, d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), local!(b)));
                            sset!(fp + d as usize, r);
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop SSTee>](d) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 2), sget!(sp - 1)));
                            sp -= 1;
                            sset!(fp + d as usize, r);
                            sset!(sp - 1, r);
                        })*
                        $(Instr::[<$fop LLBr>](a, b, t) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), local!(b)));
                            if tri!(self.domain.condition(r)) {
                                branch!(code.br_tables[t as usize]);
                            }
                        })*
                        $(Instr::[<$fop LIBr>](a, c, t) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, local!(a), y));
                            if tri!(self.domain.condition(r)) {
                                branch!(code.br_tables[t as usize]);
                            }
                        })*
                        $(Instr::[<$fop SIBr>](c, t) => {
                            let y = self.domain.constant(Val::$fvt(c as _));
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), y));
                            let taken = tri!(self.domain.condition(r));
                            sp -= 1;
                            if taken {
                                branch!(code.br_tables[t as usize]);
                            }
                        })*
                        $(Instr::[<$fop SLBr>](b, t) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 1), local!(b)));
                            let taken = tri!(self.domain.condition(r));
                            sp -= 1;
                            if taken {
                                branch!(code.br_tables[t as usize]);
                            }
                        })*
                        $(Instr::[<$fop SSBr>](t) => {
                            let r = tri!(self.domain.binary(BinaryOp::$fop, sget!(sp - 2), sget!(sp - 1)));
                            let taken = tri!(self.domain.condition(r));
                            sp -= 2;
                            if taken {
                                branch!(code.br_tables[t as usize]);
                            }
                        })*
                        $(Instr::$u => {
                            let a = sget!(sp - 1);
                            sset!(sp - 1, tri!(self.domain.unary(UnaryOp::$u, a)));
                        })*
                        $(Instr::$ul(lane) => {
                            let a = sget!(sp - 1);
                            sset!(sp - 1, tri!(self.domain.unary(UnaryOp::$ul(lane), a)));
                        })*
                        $(Instr::$b => {
                            let b = sget!(sp - 1);
                            let a = sget!(sp - 2);
                            let r = tri!(self.domain.binary(BinaryOp::$b, a, b));
                            sp -= 1;
                            sset!(sp - 1, r);
                        })*
                        $(Instr::$bl(lane) => {
                            let b = sget!(sp - 1);
                            let a = sget!(sp - 2);
                            let r = tri!(self.domain.binary(BinaryOp::$bl(lane), a, b));
                            sp -= 1;
                            sset!(sp - 1, r);
                        })*
                        $(Instr::$t => {
                            let c = sget!(sp - 1);
                            let b = sget!(sp - 2);
                            let a = sget!(sp - 3);
                            let r = tri!(self.domain.ternary(TernaryOp::$t, a, b, c));
                            sp -= 2;
                            sset!(sp - 1, r);
                        })*
                        $(Instr::$l(offset) => {
                            let v = load_from!(sget!(sp - 1), offset, $l, $lw);
                            sset!(sp - 1, v);
                        })*
                        $(Instr::[<$l L>] { local, offset } => {
                            let v = load_from!(local!(local), offset, $l, $lw);
                            sset!(sp, v);
                            sp += 1;
                        })*
                        $(Instr::[<$l LA>] { local, add, offset } => {
                            let add = self.domain.constant(Val::I32(add));
                            let addr = tri!(self.domain.binary(BinaryOp::I32Add, local!(local), add));
                            let v = load_from!(addr, offset, $l, $lw);
                            sset!(sp, v);
                            sp += 1;
                        })*
                        $(Instr::[<$l A>] { add, offset } => {
                            let add = self.domain.constant(Val::I32(add));
                            let addr = tri!(self.domain.binary(BinaryOp::I32Add, sget!(sp - 1), add));
                            let v = load_from!(addr, offset, $l, $lw);
                            sset!(sp - 1, v);
                        })*
                        $(Instr::[<$s LAI>] { local, add, value } => {
                            let v = self.domain.constant(Val::$sa(value as _));
                            let add = self.domain.constant(Val::I32(add));
                            let addr = tri!(self.domain.binary(BinaryOp::I32Add, local!(local), add));
                            store_to!(addr, 0u32, $s, $sw, v);
                        })*
                        $(Instr::[<$s L>] { local, offset } => {
                            store_to!(local!(local), offset, $s, $sw, sget!(sp - 1));
                            sp -= 1;
                        })*
                        $(Instr::[<$s I>] { offset, value } => {
                            let v = self.domain.constant(Val::$sa(value as _));
                            store_to!(sget!(sp - 1), offset, $s, $sw, v);
                            sp -= 1;
                        })*
                        $(Instr::[<$s LI>] { local, offset, value } => {
                            let v = self.domain.constant(Val::$sa(value as _));
                            store_to!(local!(local), offset, $s, $sw, v);
                        })*
                        $(Instr::$s(offset) => {
                            store_to!(sget!(sp - 2), offset, $s, $sw, sget!(sp - 1));
                            sp -= 2;
                        })*
                        $(Instr::$ll { offset, lane } => {
                            let v = sget!(sp - 1);
                            let base = tri!(self.domain.address(sget!(sp - 2)));
                            let ea = base as u64 + offset as u64;
                            check_range!(ea, $llw, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                            let r = tri!(self.domain.load_lane(&mem!(), ea, LoadLaneOp::$ll, lane, v));
                            sp -= 1;
                            sset!(sp - 1, r);
                            if O::ENABLED {
                                self.observer.on_memory(ea, $llw, r, AccessKind::Read);
                            }
                        })*
                        $(Instr::$sl { offset, lane } => {
                            let v = sget!(sp - 1);
                            let base = tri!(self.domain.address(sget!(sp - 2)));
                            let ea = base as u64 + offset as u64;
                            check_range!(ea, $slw, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                            self.domain.store_lane(&mut mem!(), ea, StoreLaneOp::$sl, lane, v);
                            sp -= 2;
                            if O::ENABLED {
                                self.observer.on_memory(ea, $slw, v, AccessKind::Write);
                            }
                        })*
                        Instr::Unreachable => trap!(TrapCode::Unreachable),
                        Instr::Marker(_) => {}
                        Instr::ConsumeFuel(n) => charge!(n as u64),
                        Instr::Br(t) => branch!(t),
                        Instr::BrIf(t) => {
                            let c = tri!(self.domain.condition(sget!(sp - 1)));
                            sp -= 1;
                            if c {
                                branch!(t);
                            }
                        }
                        Instr::BrIfL(local, t) => {
                            if tri!(self.domain.condition(local!(local))) {
                                branch!(code.br_tables[t as usize]);
                            }
                        }
                        Instr::BrIfNotL(local, t) => {
                            if !tri!(self.domain.condition(local!(local))) {
                                branch!(code.br_tables[t as usize]);
                            }
                        }
                        Instr::BrIfNot(t) => {
                            let c = tri!(self.domain.condition(sget!(sp - 1)));
                            sp -= 1;
                            if !c {
                                branch!(t);
                            }
                        }
                        Instr::BrTable { first, len } => {
                            let i = tri!(self.domain.br_table_index(sget!(sp - 1), len));
                            sp -= 1;
                            let t = code.br_tables[(first + i.min(len)) as usize];
                            branch!(t);
                        }
                        Instr::Return => {
                            let n = code.num_results as usize;
                            if n == 1 {
                                sset!(fp, sget!(sp - 1));
                            } else if n > 0 && sp - n != fp {
                                self.stack.copy_within(sp - n..sp, fp);
                            }
                            sp = fp + n;
                            if O::ENABLED {
                                let i = self.instance_index(func);
                                self.observer.on_return(i, code.func_index);
                            }
                            if self.frames.len() == entry_depth {
                                return Ok(());
                            }
                            let f = self.frames.pop().expect("frame below entry depth");
                            if O::ENABLED {
                                self.view_frames.pop();
                            }
                            func = f.func;
                            pc = f.pc as usize;
                            fp = f.fp as usize;
                            let (c, i) = self.load_func(func);
                            code = c;
                            instrs = code.code.as_ptr();
                            if !std::ptr::eq(i, inst) {
                                inst = i;
                                mem_addr = inst.memories.first().copied().unwrap_or(u32::MAX) as usize;
                            }
                            continue;
                        }
                        Instr::Call(idx) => call_addr!(inst.funcs[idx as usize]),
                        Instr::CallIndirect { ty, table } => {
                            let i = tri!(self.domain.index(sget!(sp - 1)));
                            let t = &self.store.tables[inst.tables[table as usize] as usize];
                            let r = match t.elements.get(i as usize) {
                                Some(r) => *r,
                                None => trap!(TrapCode::TableOutOfBounds),
                            };
                            let addr = match r {
                                RefValue::Func(a) => a,
                                _ => trap!(TrapCode::IndirectCallToNull),
                            };
                            if self.store.funcs[addr as usize].sig != inst.sigs[ty as usize] {
                                trap!(TrapCode::IndirectCallTypeMismatch);
                            }
                            sp -= 1;
                            call_addr!(addr)
                        }
                        Instr::Drop => sp -= 1,
                        Instr::Select => {
                            let c = sget!(sp - 1);
                            let b = sget!(sp - 2);
                            let a = sget!(sp - 3);
                            let r = tri!(self.domain.select(c, a, b));
                            sp -= 2;
                            sset!(sp - 1, r);
                        }
                        Instr::SelectTee(l) => {
                            let c = sget!(sp - 1);
                            let b = sget!(sp - 2);
                            let a = sget!(sp - 3);
                            let r = tri!(self.domain.select(c, a, b));
                            let c = self.domain.assign(c);
                            sset!(fp + l as usize, c);
                            sp -= 2;
                            sset!(sp - 1, r);
                        }
                        Instr::LocalGet(i) => {
                            sset!(sp, sget!(fp + i as usize));
                            sp += 1;
                        }
                        Instr::LocalSet(i) => {
                            sp -= 1;
                            let v = self.domain.assign(sget!(sp));
                            sset!(fp + i as usize, v);
                        }
                        Instr::LocalCopy { src, dst } => {
                            let v = self.domain.assign(local!(src));
                            sset!(fp + dst as usize, v);
                        }
                        Instr::LocalSetI32 { dst, value } => {
                            sset!(fp + dst as usize, self.domain.constant(Val::I32(value)));
                        }
                        Instr::LocalSetI64 { dst, value } => {
                            sset!(fp + dst as usize, self.domain.constant(Val::I64(value as i64)));
                        }
                        Instr::LocalTee(i) => {
                            let v = self.domain.assign(sget!(sp - 1));
                            sset!(fp + i as usize, v);
                        }
                        Instr::GlobalGet(i) => {
                            let v = self.store.globals[inst.globals[i as usize] as usize].value;
                            sset!(sp, v);
                            sp += 1;
                            if O::ENABLED {
                                self.observer.on_global(i, v, AccessKind::Read);
                            }
                        }
                        Instr::GlobalSet(i) => {
                            sp -= 1;
                            let v = self.domain.assign(sget!(sp));
                            self.store.globals[inst.globals[i as usize] as usize].value = v;
                            if O::ENABLED {
                                self.observer.on_global(i, v, AccessKind::Write);
                            }
                        }
                        Instr::I32Const(v) => {
                            sset!(sp, self.domain.constant(Val::I32(v)));
                            sp += 1;
                        }
                        Instr::I64Const(v) => {
                            sset!(sp, self.domain.constant(Val::I64(v)));
                            sp += 1;
                        }
                        Instr::F32Const(v) => {
                            sset!(sp, self.domain.constant(Val::F32(v)));
                            sp += 1;
                        }
                        Instr::F64Const(v) => {
                            sset!(sp, self.domain.constant(Val::F64(v)));
                            sp += 1;
                        }
                        Instr::V128Const(i) => {
                            let v = code.v128_consts[i as usize];
                            sset!(sp, self.domain.constant(Val::V128(v)));
                            sp += 1;
                        }
                        Instr::I8x16Shuffle(i) => {
                            let b = sget!(sp - 1);
                            let a = sget!(sp - 2);
                            let r = self.domain.shuffle(&code.shuffles[i as usize], a, b);
                            sp -= 1;
                            sset!(sp - 1, r);
                        }
                        Instr::RefNull => {
                            sset!(sp, self.domain.constant(Val::FuncRef(None)));
                            sp += 1;
                        }
                        Instr::RefIsNull => {
                            let r = self.domain.to_ref(sget!(sp - 1));
                            sset!(sp - 1, self.domain.constant(Val::I32((r == RefValue::Null) as i32)));
                        }
                        Instr::RefFunc(i) => {
                            sset!(sp, self.domain.constant(Val::FuncRef(Some(inst.funcs[i as usize]))));
                            sp += 1;
                        }
                        Instr::MemorySize => {
                            let pages = mem!().size_bytes() / PAGE;
                            sset!(sp, self.domain.constant(Val::I32(pages as i32)));
                            sp += 1;
                        }
                        Instr::MemoryGrow => {
                            let delta = tri!(self.domain.index(sget!(sp - 1)));
                            let old = mem!().size_bytes() / PAGE;
                            let new = old + delta as u64;
                            let max = self.store.memories[mem_addr].max.unwrap_or(65536).min(65536);
                            let r = if new > max || new > self.limits.max_memory_pages as u64 {
                                -1
                            } else {
                                mem!().grow(delta);
                                old as i32
                            };
                            sset!(sp - 1, self.domain.constant(Val::I32(r)));
                        }
                        Instr::MemoryFill => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let v = sget!(sp - 2);
                            let d = tri!(self.domain.address(sget!(sp - 3)));
                            charge_bulk!(n);
                            check_range!(d, n, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                            self.domain.fill(&mut mem!(), d as u64, n as u64, v);
                            sp -= 3;
                            if O::ENABLED {
                                self.observer.on_memory_bytes(d as u64, n as u64, AccessKind::Write, &mem!());
                            }
                        }
                        Instr::MemoryCopy => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let s = tri!(self.domain.address(sget!(sp - 2)));
                            let d = tri!(self.domain.address(sget!(sp - 3)));
                            let size = mem!().size_bytes();
                            charge_bulk!(n);
                            check_range!(s, n, size, TrapCode::MemoryOutOfBounds);
                            check_range!(d, n, size, TrapCode::MemoryOutOfBounds);
                            if O::ENABLED {
                                self.observer.on_memory_bytes(s as u64, n as u64, AccessKind::Read, &mem!());
                            }
                            self.domain.copy(&mut mem!(), s as u64, d as u64, n as u64);
                            sp -= 3;
                            if O::ENABLED {
                                self.observer.on_memory_bytes(d as u64, n as u64, AccessKind::Write, &mem!());
                            }
                        }
                        Instr::MemoryInit(seg) => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let s = tri!(self.domain.index(sget!(sp - 2)));
                            let d = tri!(self.domain.address(sget!(sp - 3)));
                            let data = self.store.datas[inst.datas[seg as usize] as usize].clone();
                            charge_bulk!(n);
                            check_range!(s, n, data.len(), TrapCode::MemoryOutOfBounds);
                            check_range!(d, n, mem!().size_bytes(), TrapCode::MemoryOutOfBounds);
                            let s = s as usize;
                            mem!().write_bytes(d as u64, &data[s..s + n as usize]);
                            sp -= 3;
                            if O::ENABLED {
                                self.observer.on_memory_bytes(d as u64, n as u64, AccessKind::Write, &mem!());
                            }
                        }
                        Instr::DataDrop(seg) => {
                            self.store.datas[inst.datas[seg as usize] as usize] = Arc::from(&[][..]);
                        }
                        Instr::TableGet(t) => {
                            let i = tri!(self.domain.index(sget!(sp - 1)));
                            let table = &self.store.tables[inst.tables[t as usize] as usize];
                            let r = match table.elements.get(i as usize) {
                                Some(r) => *r,
                                None => trap!(TrapCode::TableOutOfBounds),
                            };
                            sset!(sp - 1, self.domain.constant(ref_val(r)));
                        }
                        Instr::TableSet(t) => {
                            let r = self.domain.to_ref(sget!(sp - 1));
                            let i = tri!(self.domain.index(sget!(sp - 2)));
                            let table = &mut self.store.tables[inst.tables[t as usize] as usize];
                            match table.elements.get_mut(i as usize) {
                                Some(e) => *e = r,
                                None => trap!(TrapCode::TableOutOfBounds),
                            }
                            sp -= 2;
                        }
                        Instr::TableSize(t) => {
                            let len = self.store.tables[inst.tables[t as usize] as usize].elements.len();
                            sset!(sp, self.domain.constant(Val::I32(len as i32)));
                            sp += 1;
                        }
                        Instr::TableGrow(t) => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let r = self.domain.to_ref(sget!(sp - 2));
                            // wasmtime charges the requested delta, even when growth fails.
                            charge_bulk!(n);
                            let limit = self.limits.max_table_elements as u64;
                            let table = &mut self.store.tables[inst.tables[t as usize] as usize];
                            let old = table.elements.len() as u64;
                            let new = old + n as u64;
                            let max = table.max.unwrap_or(u32::MAX as u64).min(u32::MAX as u64);
                            let res = if new > max || new > limit {
                                -1
                            } else {
                                table.elements.resize(new as usize, r);
                                old as i32
                            };
                            sp -= 1;
                            sset!(sp - 1, self.domain.constant(Val::I32(res)));
                        }
                        Instr::TableFill(t) => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let r = self.domain.to_ref(sget!(sp - 2));
                            let i = tri!(self.domain.index(sget!(sp - 3)));
                            let len = self.store.tables[inst.tables[t as usize] as usize].elements.len();
                            charge_bulk!(n);
                            check_range!(i, n, len, TrapCode::TableOutOfBounds);
                            let table = &mut self.store.tables[inst.tables[t as usize] as usize];
                            table.elements[i as usize..(i + n) as usize].fill(r);
                            sp -= 3;
                        }
                        Instr::TableCopy { dst, src } => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let s = tri!(self.domain.index(sget!(sp - 2)));
                            let d = tri!(self.domain.index(sget!(sp - 3)));
                            let sa = inst.tables[src as usize] as usize;
                            let da = inst.tables[dst as usize] as usize;
                            charge_bulk!(n);
                            check_range!(s, n, self.store.tables[sa].elements.len(), TrapCode::TableOutOfBounds);
                            check_range!(d, n, self.store.tables[da].elements.len(), TrapCode::TableOutOfBounds);
                            let (s, d, n) = (s as usize, d as usize, n as usize);
                            if sa == da {
                                self.store.tables[sa].elements.copy_within(s..s + n, d);
                            } else {
                                let items: Vec<RefValue> = self.store.tables[sa].elements[s..s + n].to_vec();
                                self.store.tables[da].elements[d..d + n].copy_from_slice(&items);
                            }
                            sp -= 3;
                        }
                        Instr::TableInit { table, elem } => {
                            let n = tri!(self.domain.index(sget!(sp - 1)));
                            let s = tri!(self.domain.index(sget!(sp - 2)));
                            let d = tri!(self.domain.index(sget!(sp - 3)));
                            let seg = self.store.elems[inst.elems[elem as usize] as usize].clone();
                            let ta = inst.tables[table as usize] as usize;
                            charge_bulk!(n);
                            check_range!(s, n, seg.len(), TrapCode::TableOutOfBounds);
                            check_range!(d, n, self.store.tables[ta].elements.len(), TrapCode::TableOutOfBounds);
                            let (s, d, n) = (s as usize, d as usize, n as usize);
                            self.store.tables[ta].elements[d..d + n].copy_from_slice(&seg[s..s + n]);
                            sp -= 3;
                        }
                        Instr::ElemDrop(seg) => {
                            self.store.elems[inst.elems[seg as usize] as usize] = Arc::from(&[][..]);
                        }
                    } }
                };
            }
            macro_rules! with_fused {
                ({} $($fused:tt)*) => {
                    weft_core::for_each_op!(gen_dispatch { $($fused)* })
                };
            }
            weft_ir::for_each_fused!(with_fused {});
            pc += 1;
        }
    }

    /// The code and instance of a wasm function. The references do not borrow `self`: code
    /// and instances are owned by the store, which only grows and is never mutated in a way
    /// that frees them while a call runs.
    fn load_func<'a>(&self, func: u32) -> (&'a LoweredFunc, &'a InstanceData) {
        match &self.store.funcs[func as usize].kind {
            FuncKind::Wasm { code, instance, .. } => {
                let inst = &self.store.instances[*instance as usize];
                // SAFETY: see above; both live behind `Arc`s that the store keeps.
                unsafe { (&*Arc::as_ptr(code), &*Arc::as_ptr(inst)) }
            }
            FuncKind::Host(_) => unreachable!("the run loop only enters wasm functions"),
        }
    }

    fn instance_index(&self, func: u32) -> u32 {
        match &self.store.funcs[func as usize].kind {
            FuncKind::Wasm { instance, .. } => *instance,
            FuncKind::Host(_) => u32::MAX,
        }
    }

    /// Reads a global's value as a concrete value.
    pub fn global_val(&mut self, addr: u32) -> Result<Val, ExecError> {
        let g = &self.store.globals[addr as usize];
        let (v, ty) = (g.value, g.ty.ty);
        self.domain
            .to_val(v, ty)
            .map_err(|f| self.trap_here(f, None))
    }
}

fn ref_val(r: RefValue) -> Val {
    match r {
        RefValue::Null => Val::FuncRef(None),
        RefValue::Func(i) => Val::FuncRef(Some(i)),
        RefValue::Extern(i) => Val::ExternRef(Some(i)),
    }
}

/// Reads `len` concrete bytes from a memory with bounds checking.
pub fn read_memory<M: LinearMemory>(mem: &M, addr: u64, len: usize) -> Result<Vec<u8>, Fault> {
    if addr
        .checked_add(len as u64)
        .is_none_or(|e| e > mem.size_bytes())
    {
        return Err(Fault::Trap(TrapCode::MemoryOutOfBounds));
    }
    let mut out = vec![0u8; len];
    mem.read_bytes(addr, &mut out)?;
    Ok(out)
}
