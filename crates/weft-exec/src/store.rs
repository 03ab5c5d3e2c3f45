//! The store: every function, table, memory, global and instance a machine holds, addressed
//! by store-wide indices, plus the [`Linker`] that names externs for imports.

use crate::domain::Domain;
use crate::host::HostFunc;
use std::collections::HashMap;
use std::sync::Arc;
use weft_core::{FuncType, RefValue, ValType};
use weft_ir::{GlobalType, LoweredFunc, Module};

/// What a function is.
pub enum FuncKind<D: Domain> {
    /// A wasm function of an instance.
    Wasm {
        /// Owning instance.
        instance: u32,
        /// Function index within the module.
        index: u32,
        /// Lowered code in the machine's mode.
        code: Arc<LoweredFunc>,
    },
    /// A host function.
    Host(HostFunc<D>),
}

impl<D: Domain> Clone for FuncKind<D> {
    fn clone(&self) -> Self {
        match self {
            FuncKind::Wasm {
                instance,
                index,
                code,
            } => FuncKind::Wasm {
                instance: *instance,
                index: *index,
                code: code.clone(),
            },
            FuncKind::Host(h) => FuncKind::Host(h.clone()),
        }
    }
}

/// A function in the store.
pub struct FuncInst<D: Domain> {
    /// Wasm or host.
    pub kind: FuncKind<D>,
    /// Canonical signature id (equal ids mean equal signatures).
    pub sig: u32,
}

impl<D: Domain> Clone for FuncInst<D> {
    fn clone(&self) -> Self {
        FuncInst {
            kind: self.kind.clone(),
            sig: self.sig,
        }
    }
}

/// A table in the store.
#[derive(Clone, Debug)]
pub struct TableInst {
    /// Element type.
    pub ty: ValType,
    /// Elements.
    pub elements: Vec<RefValue>,
    /// Declared maximum.
    pub max: Option<u64>,
}

/// A memory in the store.
#[derive(Clone, Debug)]
pub struct MemoryInst<M> {
    /// The domain's memory.
    pub mem: M,
    /// Declared maximum pages.
    pub max: Option<u64>,
}

/// A global in the store.
#[derive(Clone, Debug)]
pub struct GlobalInst<V> {
    /// Current value.
    pub value: V,
    /// Type.
    pub ty: GlobalType,
}

/// An instantiated module: how its index spaces map to store addresses.
#[derive(Debug)]
pub struct InstanceData {
    /// The module.
    pub module: Arc<Module>,
    /// Store address of each function index.
    pub funcs: Vec<u32>,
    /// Store address of each table index.
    pub tables: Vec<u32>,
    /// Store address of each memory index.
    pub memories: Vec<u32>,
    /// Store address of each global index.
    pub globals: Vec<u32>,
    /// Canonical signature id of each type index.
    pub sigs: Vec<u32>,
    /// Store address of each data segment.
    pub datas: Vec<u32>,
    /// Store address of each element segment.
    pub elems: Vec<u32>,
}

/// A store-level extern, as exports yield and imports take.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Extern {
    /// Function address.
    Func(u32),
    /// Table address.
    Table(u32),
    /// Memory address.
    Memory(u32),
    /// Global address.
    Global(u32),
}

/// Everything a machine holds.
pub struct Store<D: Domain> {
    /// Functions.
    pub funcs: Vec<FuncInst<D>>,
    /// Tables.
    pub tables: Vec<TableInst>,
    /// Memories.
    pub memories: Vec<MemoryInst<D::Memory>>,
    /// Globals.
    pub globals: Vec<GlobalInst<D::Value>>,
    /// Instances.
    pub instances: Vec<Arc<InstanceData>>,
    /// Data segments (emptied by `data.drop`).
    pub datas: Vec<Arc<[u8]>>,
    /// Element segments (emptied by `elem.drop`).
    pub elems: Vec<Arc<[RefValue]>>,
    sigs: HashMap<FuncType, u32>,
}

impl<D: Domain> Clone for Store<D> {
    fn clone(&self) -> Self {
        Store {
            funcs: self.funcs.clone(),
            tables: self.tables.clone(),
            memories: self.memories.clone(),
            globals: self.globals.clone(),
            instances: self.instances.clone(),
            datas: self.datas.clone(),
            elems: self.elems.clone(),
            sigs: self.sigs.clone(),
        }
    }
}

impl<D: Domain> Default for Store<D> {
    fn default() -> Self {
        Store {
            funcs: Vec::new(),
            tables: Vec::new(),
            memories: Vec::new(),
            globals: Vec::new(),
            instances: Vec::new(),
            datas: Vec::new(),
            elems: Vec::new(),
            sigs: HashMap::new(),
        }
    }
}

impl<D: Domain> Store<D> {
    /// The canonical id of a signature.
    pub fn sig_id(&mut self, ty: &FuncType) -> u32 {
        let next = self.sigs.len() as u32;
        *self.sigs.entry(ty.clone()).or_insert(next)
    }

    /// The signature of a function address.
    pub fn func_type(&self, addr: u32) -> FuncType {
        match &self.funcs[addr as usize].kind {
            FuncKind::Wasm {
                instance, index, ..
            } => self.instances[*instance as usize]
                .module
                .func_type(*index)
                .clone(),
            FuncKind::Host(h) => h.ty.clone(),
        }
    }

    /// Looks up an export of an instance.
    pub fn export(&self, instance: u32, name: &str) -> Option<Extern> {
        let inst = self.instances.get(instance as usize)?;
        let e = inst.module.export(name)?;
        let i = e.index as usize;
        Some(match e.kind {
            weft_ir::ExternKind::Func => Extern::Func(inst.funcs[i]),
            weft_ir::ExternKind::Table => Extern::Table(inst.tables[i]),
            weft_ir::ExternKind::Memory => Extern::Memory(inst.memories[i]),
            weft_ir::ExternKind::Global => Extern::Global(inst.globals[i]),
        })
    }
}

/// Names externs for imports: `(module, name) -> extern`.
#[derive(Clone, Debug, Default)]
pub struct Linker {
    defs: HashMap<(String, String), Extern>,
}

impl Linker {
    /// An empty linker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines `module::name`.
    pub fn define(&mut self, module: &str, name: &str, ext: Extern) {
        self.defs
            .insert((module.to_string(), name.to_string()), ext);
    }

    /// Looks up `module::name`.
    pub fn get(&self, module: &str, name: &str) -> Option<Extern> {
        self.defs
            .get(&(module.to_string(), name.to_string()))
            .copied()
    }

    /// Defines every export of `instance` under module name `module`.
    pub fn define_instance<D: Domain>(&mut self, store: &Store<D>, module: &str, instance: u32) {
        if let Some(inst) = store.instances.get(instance as usize) {
            for e in &inst.module.exports {
                if let Some(ext) = store.export(instance, &e.name) {
                    self.define(module, &e.name, ext);
                }
            }
        }
    }
}
