//! Instantiation: resolving imports, allocating definitions, applying segments, running start.

use crate::domain::{Domain, LinearMemory};
use crate::error::{ExecError, LinkError};
use crate::machine::Machine;
use crate::observer::Observer;
use crate::store::{
    Extern, FuncInst, FuncKind, GlobalInst, InstanceData, Linker, MemoryInst, TableInst,
};
use std::sync::Arc;
use weft_core::{RefValue, TrapCode, Val};
use weft_ir::{ConstExpr, ConstOp, DataMode, ElemMode, ImportKind, Module};

fn limits_match(
    cur: u64,
    cur_max: Option<u64>,
    want: u64,
    want_max: Option<u64>,
) -> Result<(), String> {
    if cur < want {
        return Err(format!("size {cur} is below the required minimum {want}"));
    }
    if let Some(wm) = want_max {
        match cur_max {
            None => return Err(format!("no maximum, {wm} required")),
            Some(m) if m > wm => return Err(format!("maximum {m} exceeds {wm}")),
            _ => {}
        }
    }
    Ok(())
}

impl<D: Domain, O: Observer<D>> Machine<D, O> {
    fn eval_const(&mut self, e: &ConstExpr, globals: &[u32], funcs: &[u32]) -> Val {
        let mut stack: Vec<Val> = Vec::new();
        for op in &e.0 {
            match *op {
                ConstOp::Const(v) => stack.push(v),
                ConstOp::GlobalGet(i) => {
                    let g = &self.store.globals[globals[i as usize] as usize];
                    let (v, t) = (g.value, g.ty.ty);
                    let v = self.domain.to_val(v, t).unwrap_or(Val::default_of(t));
                    stack.push(v);
                }
                ConstOp::RefFunc(i) => stack.push(Val::FuncRef(Some(funcs[i as usize]))),
                ConstOp::Add | ConstOp::Sub | ConstOp::Mul => {
                    let b = stack.pop().unwrap_or(Val::I32(0));
                    let a = stack.pop().unwrap_or(Val::I32(0));
                    let r = match (a, b) {
                        (Val::I32(a), Val::I32(b)) => Val::I32(match op {
                            ConstOp::Add => a.wrapping_add(b),
                            ConstOp::Sub => a.wrapping_sub(b),
                            _ => a.wrapping_mul(b),
                        }),
                        (Val::I64(a), Val::I64(b)) => Val::I64(match op {
                            ConstOp::Add => a.wrapping_add(b),
                            ConstOp::Sub => a.wrapping_sub(b),
                            _ => a.wrapping_mul(b),
                        }),
                        _ => a,
                    };
                    stack.push(r);
                }
            }
        }
        stack.pop().unwrap_or(Val::I32(0))
    }

    fn check_store_limit(&self) -> Result<(), LinkError> {
        let s = &self.store;
        let total = s.funcs.len() + s.tables.len() + s.memories.len() + s.globals.len();
        if total + s.instances.len() > self.limits.max_store_items as usize {
            return Err(LinkError::Limit(format!(
                "more than {} items in the store",
                self.limits.max_store_items
            )));
        }
        Ok(())
    }

    /// Instantiates `module` with imports from `linker`; returns the instance index.
    ///
    /// Follows WebAssembly 2.0: segments are applied in order and a failing one traps, leaving
    /// earlier effects in place; then the start function runs.
    pub fn instantiate(&mut self, module: Arc<Module>, linker: &Linker) -> Result<u32, LinkError> {
        self.check_store_limit()?;
        let code = module
            .lowered(self.mode())
            .map_err(|e| LinkError::Load(e.to_string()))?;
        let instance_id = self.store.instances.len() as u32;
        let mut funcs = Vec::with_capacity(module.funcs.len());
        let mut tables = Vec::new();
        let mut memories = Vec::new();
        let mut globals = Vec::new();
        let sigs: Vec<u32> = module.types.iter().map(|t| self.store.sig_id(t)).collect();

        for imp in &module.imports {
            let ext =
                linker
                    .get(&imp.module, &imp.name)
                    .ok_or_else(|| LinkError::UnknownImport {
                        module: imp.module.clone(),
                        name: imp.name.clone(),
                    })?;
            let bad = |reason: String| LinkError::IncompatibleImport {
                module: imp.module.clone(),
                name: imp.name.clone(),
                reason,
            };
            match (&imp.kind, ext) {
                (ImportKind::Func(t), Extern::Func(a)) => {
                    if self.store.funcs[a as usize].sig != sigs[*t as usize] {
                        return Err(bad(format!(
                            "function type {} expected, found {}",
                            module.types[*t as usize],
                            self.store.func_type(a)
                        )));
                    }
                    funcs.push(a);
                }
                (ImportKind::Table(t), Extern::Table(a)) => {
                    let tab = &self.store.tables[a as usize];
                    if tab.ty != t.element {
                        return Err(bad(format!(
                            "table of {} expected, found {}",
                            t.element, tab.ty
                        )));
                    }
                    limits_match(tab.elements.len() as u64, tab.max, t.initial, t.maximum)
                        .map_err(bad)?;
                    tables.push(a);
                }
                (ImportKind::Memory(m), Extern::Memory(a)) => {
                    let mem = &self.store.memories[a as usize];
                    limits_match(mem.mem.size_bytes() / 65536, mem.max, m.initial, m.maximum)
                        .map_err(bad)?;
                    memories.push(a);
                }
                (ImportKind::Global(g), Extern::Global(a)) => {
                    let have = self.store.globals[a as usize].ty;
                    if have != *g {
                        return Err(bad(format!(
                            "global {}{} expected, found {}{}",
                            if g.mutable { "mut " } else { "" },
                            g.ty,
                            if have.mutable { "mut " } else { "" },
                            have.ty
                        )));
                    }
                    globals.push(a);
                }
                (kind, ext) => {
                    return Err(bad(format!("expected {kind:?}, found {ext:?}")));
                }
            }
        }

        // Functions.
        for (i, c) in code.iter().enumerate() {
            let index = module.num_imported_funcs + i as u32;
            let sig = sigs[module.funcs[index as usize] as usize];
            self.store.funcs.push(FuncInst {
                kind: FuncKind::Wasm {
                    instance: instance_id,
                    index,
                    code: c.clone(),
                },
                sig,
            });
            funcs.push(self.store.funcs.len() as u32 - 1);
        }
        // Tables.
        for t in &module.tables[tables.len()..] {
            if t.initial > self.limits.max_table_elements as u64 {
                return Err(LinkError::Limit(format!(
                    "table of {} elements exceeds the limit of {}",
                    t.initial, self.limits.max_table_elements
                )));
            }
            self.store.tables.push(TableInst {
                ty: t.element,
                elements: vec![RefValue::Null; t.initial as usize],
                max: t.maximum,
            });
            tables.push(self.store.tables.len() as u32 - 1);
        }
        // Memories.
        for m in &module.memories[memories.len()..] {
            if m.initial > self.limits.max_memory_pages as u64 {
                return Err(LinkError::Limit(format!(
                    "memory of {} pages exceeds the limit of {}",
                    m.initial, self.limits.max_memory_pages
                )));
            }
            self.store.memories.push(MemoryInst {
                mem: D::Memory::with_pages(m.initial as u32),
                max: m.maximum,
            });
            memories.push(self.store.memories.len() as u32 - 1);
        }
        // Globals.
        for (g, init) in module.globals[globals.len()..]
            .iter()
            .zip(&module.global_inits)
        {
            let v = self.eval_const(init, &globals, &funcs);
            let value = self.domain.constant(v);
            self.store.globals.push(GlobalInst { value, ty: *g });
            globals.push(self.store.globals.len() as u32 - 1);
        }
        // Segments.
        let mut elems = Vec::new();
        let mut elem_values = Vec::new();
        for seg in &module.elems {
            let items: Vec<RefValue> = seg
                .items
                .iter()
                .map(|e| match self.eval_const(e, &globals, &funcs) {
                    Val::FuncRef(Some(a)) => RefValue::Func(a),
                    Val::ExternRef(Some(a)) => RefValue::Extern(a),
                    _ => RefValue::Null,
                })
                .collect();
            elem_values.push(items.clone());
            self.store.elems.push(items.into());
            elems.push(self.store.elems.len() as u32 - 1);
        }
        let mut datas = Vec::new();
        for seg in &module.datas {
            self.store.datas.push(seg.bytes.clone().into());
            datas.push(self.store.datas.len() as u32 - 1);
        }
        let instance = Arc::new(InstanceData {
            module: module.clone(),
            funcs,
            tables,
            memories,
            globals,
            sigs,
            datas,
            elems,
        });
        self.store.instances.push(instance.clone());

        let oob = |code: TrapCode| LinkError::Exec(ExecError::Trap(crate::Trap::new(code)));
        for (i, seg) in module.elems.iter().enumerate() {
            match &seg.mode {
                ElemMode::Active { table, offset } => {
                    let off = match self.eval_const(offset, &instance.globals, &instance.funcs) {
                        Val::I32(o) => o as u32 as u64,
                        Val::I64(o) => o as u64,
                        _ => 0,
                    };
                    let ta = instance.tables[*table as usize] as usize;
                    let items = &elem_values[i];
                    let t = &mut self.store.tables[ta];
                    if off + items.len() as u64 > t.elements.len() as u64 {
                        return Err(oob(TrapCode::TableOutOfBounds));
                    }
                    t.elements[off as usize..off as usize + items.len()].copy_from_slice(items);
                    self.store.elems[instance.elems[i] as usize] = Arc::from(&[][..]);
                }
                ElemMode::Declared => {
                    self.store.elems[instance.elems[i] as usize] = Arc::from(&[][..]);
                }
                ElemMode::Passive => {}
            }
        }
        for (i, seg) in module.datas.iter().enumerate() {
            if let DataMode::Active { memory, offset } = &seg.mode {
                let off = match self.eval_const(offset, &instance.globals, &instance.funcs) {
                    Val::I32(o) => o as u32 as u64,
                    Val::I64(o) => o as u64,
                    _ => 0,
                };
                let ma = instance.memories[*memory as usize] as usize;
                let mem = &mut self.store.memories[ma].mem;
                if off + seg.bytes.len() as u64 > mem.size_bytes() {
                    return Err(oob(TrapCode::MemoryOutOfBounds));
                }
                mem.write_bytes(off, &seg.bytes);
                self.store.datas[instance.datas[i] as usize] = Arc::from(&[][..]);
            }
        }
        if let Some(start) = module.start {
            let addr = instance.funcs[start as usize];
            self.call(addr, &[]).map_err(LinkError::Exec)?;
        }
        Ok(instance_id)
    }

    /// Calls an exported function of an instance with concrete values.
    pub fn invoke(
        &mut self,
        instance: u32,
        name: &str,
        args: &[Val],
    ) -> Result<Vec<Val>, ExecError> {
        match self.store.export(instance, name) {
            Some(Extern::Func(a)) => self.call_vals(a, args),
            Some(_) => Err(ExecError::Usage(format!(
                "export `{name}` is not a function"
            ))),
            None => Err(ExecError::Usage(format!("no export named `{name}`"))),
        }
    }
}
