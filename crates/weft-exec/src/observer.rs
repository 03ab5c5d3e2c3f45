//! The `Observer` trait: what happens around each step.
//!
//! A machine with [`NoObserver`] runs fast-mode code and calls no hook at all; any other
//! observer makes the machine run exact-mode code (one instruction per original operator) and
//! call the hooks below.

use crate::domain::Domain;
use weft_ir::Instr;

/// Where an access went and what moved.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum AccessKind {
    /// A load.
    Read,
    /// A store.
    Write,
}

/// A view of the machine just before an instruction executes.
pub struct StepView<'a, D: Domain> {
    /// Function index within its module.
    pub func: u32,
    /// Instance the function belongs to.
    pub instance: u32,
    /// Instruction index in the exact-mode stream.
    pub pc: u32,
    /// Code-section byte offset of the instruction.
    pub offset: u32,
    /// The instruction.
    pub instr: &'a Instr,
    /// The current function's operand stack, bottom first.
    pub stack: &'a [D::Value],
    /// The current function's locals (parameters first).
    pub locals: &'a [D::Value],
    /// Call frames below the current one, outermost first: (function index, return offset).
    pub frames: &'a [(u32, u32)],
    /// Fuel consumed so far (0 when fuel is not metered).
    pub fuel_consumed: u64,
}

/// Hooks around execution. Every method has an empty default.
pub trait Observer<D: Domain> {
    /// Whether the machine must run exact-mode code and call the hooks. Only [`NoObserver`]
    /// says false.
    const ENABLED: bool = true;

    /// Before each instruction.
    fn before_step(&mut self, _view: &StepView<'_, D>) {}
    /// After a load or store of `width` bytes at `addr`, with the value moved. For lane loads
    /// and stores `value` is the whole vector; the lane is the one the current instruction
    /// names.
    fn on_memory(&mut self, _addr: u64, _width: u32, _value: D::Value, _kind: AccessKind) {}
    /// Around a bulk memory operation (`memory.fill`, `memory.copy`, `memory.init`): the
    /// source range is reported as `Read` before the operation, the destination range as
    /// `Write` after it, with the memory to read the bytes from.
    fn on_memory_bytes(&mut self, _addr: u64, _len: u64, _kind: AccessKind, _mem: &D::Memory) {}
    /// Before a host function runs: its store address, its arguments and the caller's memory
    /// (so an observer can see what the host changes).
    fn before_host_call(&mut self, _func: u32, _args: &[D::Value], _mem: Option<&D::Memory>) {}
    /// After a host function returned normally: its results and the caller's memory.
    fn after_host_call(&mut self, _results: &[D::Value], _mem: Option<&D::Memory>) {}
    /// After a global read or write.
    fn on_global(&mut self, _index: u32, _value: D::Value, _kind: AccessKind) {}
    /// When a function is entered (module-level function index).
    fn on_call(&mut self, _instance: u32, _func: u32) {}
    /// When a function returns.
    fn on_return(&mut self, _instance: u32, _func: u32) {}
    /// When execution traps.
    fn on_trap(&mut self, _trap: &crate::Trap) {}
}

/// Observes nothing; the machine compiles every hook away.
#[derive(Copy, Clone, Debug, Default)]
pub struct NoObserver;

impl<D: Domain> Observer<D> for NoObserver {
    const ENABLED: bool = false;
}
