//! Host functions: functions provided by the embedder and called from wasm.

use crate::domain::{Domain, Fault};
use std::sync::Arc;
use weft_core::FuncType;

/// What a host function sees of the machine: the domain and the caller's memory 0.
pub struct HostCtx<'a, D: Domain> {
    /// The machine's domain.
    pub domain: &'a mut D,
    /// The calling instance's memory 0, if it has one.
    pub memory: Option<&'a mut D::Memory>,
}

/// Why a host function did not return normally.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostError {
    /// The program exits with a status code (WASI `proc_exit`).
    Exit(i32),
    /// The host function failed; the call traps with this message.
    Trap(String),
    /// A domain fault (e.g. a trap code, or a fork request).
    Fault(Fault),
}

/// The callable part of a host function.
pub type HostFn<D> = dyn Fn(&mut HostCtx<'_, D>, &[<D as Domain>::Value]) -> Result<Vec<<D as Domain>::Value>, HostError>
    + Send
    + Sync;

/// A host function with its signature.
pub struct HostFunc<D: Domain> {
    /// Signature checked at link time.
    pub ty: FuncType,
    /// Implementation.
    pub func: Arc<HostFn<D>>,
}

impl<D: Domain> Clone for HostFunc<D> {
    fn clone(&self) -> Self {
        HostFunc {
            ty: self.ty.clone(),
            func: self.func.clone(),
        }
    }
}

impl<D: Domain> HostFunc<D> {
    /// Wraps a closure as a host function.
    pub fn new(
        ty: FuncType,
        f: impl Fn(&mut HostCtx<'_, D>, &[D::Value]) -> Result<Vec<D::Value>, HostError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        HostFunc {
            ty,
            func: Arc::new(f),
        }
    }
}
