//! WASI preview 1 under symbolic execution: the engine's own WASI functions
//! ([`weft_exec::wasi`]) run on a per-path copy of their state, and standard input can be
//! symbolic bytes.
//!
//! Each path carries its [`SymWasi`] in the domain, so a fork copies the descriptors, the
//! captured output and the position in standard input. Arguments the functions take are
//! decided like any other concrete need of the engine (a symbolic argument forks or is
//! concretised). Bytes the host reads from memory are evaluated under the path's model:
//! output written from symbolic bytes shows the model's values, and any other function that
//! reads symbolic bytes counts as a concretisation (the path may miss others). With
//! `--sym-stdin`, `fd_read` on descriptor 0 writes fresh symbols `stdin[i]` into memory.

use crate::domain::{SymVal, Symbolic};
use crate::memory::SymMemory;
use crate::term::{TermId, Terms};
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use weft_core::{FuncType, Val};
use weft_exec::wasi::{ExternalMemory, WasiState};
use weft_exec::{Domain, HostCtx, HostError, HostFunc, LinearMemory};

/// The import module of WASI preview 1.
pub const MODULE: &str = "wasi_snapshot_preview1";

/// `EFAULT`: a buffer outside memory.
const EFAULT: u32 = 21;

/// The WASI state of one path.
#[derive(Debug)]
pub struct SymWasi {
    /// Descriptors, arguments, environment, captured output, clocks, random stream.
    pub state: WasiState,
    /// Symbolic standard input (`stdin[0]`, `stdin[1]`, …); empty: the state's own stdin.
    pub stdin: Arc<Vec<TermId>>,
    /// How many symbolic input bytes were read.
    pub stdin_pos: usize,
}

impl Clone for SymWasi {
    fn clone(&self) -> Self {
        SymWasi {
            // Symbolic tasks map no directories, so no host file is ever open.
            state: self
                .state
                .fork()
                .expect("a WASI state without preopens has no open files"),
            stdin: self.stdin.clone(),
            stdin_pos: self.stdin_pos,
        }
    }
}

/// Fresh symbols for `len` bytes of standard input, constrained to printable ASCII when
/// `printable` (the model starts them at `A`, so it stays valid).
pub fn stdin_symbols(d: &mut Symbolic, len: usize, printable: bool) -> Vec<TermId> {
    (0..len)
        .map(|i| d.fresh_byte(&format!("stdin[{i}]"), printable))
        .collect()
}

/// The host function for the WASI import `name` of type `ty`.
pub fn host_func(name: String, ty: FuncType) -> HostFunc<Symbolic> {
    let params = ty.params.clone();
    HostFunc::new(
        ty,
        move |ctx: &mut HostCtx<'_, Symbolic>, args: &[SymVal]| {
            let mut raw = Vec::with_capacity(args.len());
            for (v, t) in args.iter().zip(&params) {
                raw.push(match ctx.domain.to_val(*v, *t).map_err(HostError::Fault)? {
                    Val::I32(x) => x as u32 as u64,
                    Val::I64(x) => x as u64,
                    _ => 0,
                });
            }
            let d = &mut *ctx.domain;
            let Some(wasi) = d.wasi.as_mut() else {
                return Err(HostError::Trap(format!(
                    "WASI import `{name}` called without a WASI state"
                )));
            };
            if name == "fd_read" && raw.first() == Some(&0) && !wasi.stdin.is_empty() {
                let Some(mem) = ctx.memory.as_deref_mut() else {
                    return Ok(vec![SymVal::Con(EFAULT as u128)]);
                };
                let errno = read_symbolic_stdin(wasi, mem, raw[1], raw[2], raw[3]);
                return Ok(vec![SymVal::Con(errno as u128)]);
            }
            let output = matches!(name.as_str(), "fd_write" | "fd_pwrite");
            let mut view = ctx.memory.as_deref_mut().map(|mem| ModelView {
                mem,
                terms: &d.terms,
                model: &d.model,
                concretized: Cell::new(0),
            });
            let r = weft_exec::wasi::call_external(
                &mut wasi.state,
                &name,
                view.as_mut().map(|v| v as &mut dyn ExternalMemory),
                &raw,
            );
            let seen = view.map_or(0, |v| v.concretized.get());
            if !output {
                d.concretized += seen;
            }
            match r? {
                Some(errno) => Ok(vec![SymVal::Con(errno as u32 as u128)]),
                None => Ok(Vec::new()),
            }
        },
    )
}

/// `fd_read(0, iovs, iovs_len, nread)` from symbolic standard input: each buffer gets the
/// next input symbols; returns the errno.
fn read_symbolic_stdin(
    wasi: &mut SymWasi,
    mem: &mut SymMemory,
    iovs: u64,
    iovs_len: u64,
    nread_ptr: u64,
) -> u32 {
    let size = mem.size_bytes();
    let word = |mem: &SymMemory, a: u64| -> Option<u32> {
        if a + 4 > size || mem.any_sym(a, 4) {
            return None;
        }
        let b = [
            mem.byte(a),
            mem.byte(a + 1),
            mem.byte(a + 2),
            mem.byte(a + 3),
        ];
        Some(u32::from_le_bytes(b))
    };
    let mut total = 0u32;
    for i in 0..iovs_len {
        let entry = iovs + 8 * i;
        let (Some(buf), Some(len)) = (word(mem, entry), word(mem, entry + 4)) else {
            return EFAULT;
        };
        let (buf, len) = (buf as u64, len as u64);
        if buf + len > size {
            return EFAULT;
        }
        let left = (wasi.stdin.len() - wasi.stdin_pos) as u64;
        let n = len.min(left);
        for k in 0..n {
            mem.set_sym(buf + k, wasi.stdin[wasi.stdin_pos + k as usize]);
        }
        wasi.stdin_pos += n as usize;
        total += n as u32;
        if n < len {
            break;
        }
    }
    if nread_ptr + 4 > size {
        return EFAULT;
    }
    for (k, b) in total.to_le_bytes().into_iter().enumerate() {
        mem.set_byte(nread_ptr + k as u64, b);
    }
    0
}

/// Memory as the WASI functions see it: symbolic bytes read as the model's values.
struct ModelView<'a> {
    mem: &'a mut SymMemory,
    terms: &'a Terms,
    model: &'a HashMap<u32, u64>,
    concretized: Cell<u32>,
}

impl ExternalMemory for ModelView<'_> {
    fn size(&self) -> u64 {
        self.mem.size_bytes()
    }

    fn read(&self, addr: u64, out: &mut [u8]) {
        for (i, b) in out.iter_mut().enumerate() {
            let a = addr + i as u64;
            *b = match self.mem.sym(a) {
                Some(t) => {
                    self.concretized.set(self.concretized.get() + 1);
                    self.terms.eval(t, self.model) as u8
                }
                None => self.mem.byte(a),
            };
        }
    }

    fn write(&mut self, addr: u64, bytes: &[u8]) {
        for (i, b) in bytes.iter().enumerate() {
            self.mem.set_byte(addr + i as u64, *b);
        }
    }
}
