//! Recording components against wasmtime's own WASI 0.2 host.
//!
//! `wasmtime_wasi::p2` defines WASI 0.2 inside a `Linker` with generated bindings, and a host
//! cannot call a function defined in a linker by itself. So weft builds a *forwarding
//! component* from the recorded component's own imports ([`forwarding_component`]): it
//! imports the same WASI interfaces and exports one function per imported function, whose
//! core code passes its flat arguments straight to the import. Instantiated beside the
//! program against `wasmtime_wasi::p2`, each of its exports is the real host function, so
//! [`WasiHost`] answers the program's imports through it while the recorder sees every value
//! that crosses.
//!
//! Host resources (streams, descriptors, pollables) reach the program as dynamic handles
//! numbered in creation order, so the trace replays without wasmtime-wasi at all.

use crate::component::ComponentRunner;
use crate::component::{CState, ComponentHost, HostCx};
use crate::RrError;
use std::collections::HashMap;
use std::fmt::Write as _;
use wasmtime::component::types::ComponentFunc;
use wasmtime::component::{
    Component, Func, InstancePre, Linker, ResourceAny, ResourceTable, Type, Val,
};
use wasmtime_wasi::{I32Exit, WasiCtx, WasiCtxView, WasiView};
use wit_parser::abi::{AbiVariant, WasmSignature, WasmType};
use wit_parser::{
    Handle, InterfaceId, LiftLowerAbi, ManglingAndAbi, Resolve, SizeAlign, Type as WitType,
    TypeDefKind, TypeId, TypeOwner, WasmExport, WasmExportKind, WasmImport, WorldItem,
};

/// Name of the interface the forwarding component exports.
const FORWARD_INTERFACE: &str = "weft:forward/imports";

/// Where the forwarding component's return area starts in its memory.
const RET_AREA: usize = 8;

/// A forwarding component and the imports it forwards, in export order (`f0`, `f1`, ...).
pub struct Forwarder {
    /// The component binary.
    pub wasm: Vec<u8>,
    /// `(instance, function)` of each forwarded import.
    pub imports: Vec<(String, String)>,
}

/// Builds the forwarding component for the imports of `component` (a component binary whose
/// imports are all interfaces, as WASI 0.2 programs' are).
pub fn forwarding_component(component: &[u8]) -> Result<Forwarder, RrError> {
    let (mut resolve, world) = match wit_component::decode(component)
        .map_err(|e| RrError::Input(format!("cannot read the component's imports: {e:#}")))?
    {
        wit_parser::decoding::DecodedWasm::Component(r, w) => (r, w),
        wit_parser::decoding::DecodedWasm::WitPackage(..) => {
            return Err(RrError::Input(
                "this is a WIT package, not a component".into(),
            ))
        }
    };
    let unsupported = |what: String| RrError::Unsupported(format!("WASI recording: {what}"));
    // Every imported function, with the WIT text of its free-function twin.
    let mut printer = WitPrinter {
        resolve: &resolve,
        uses: Vec::new(),
    };
    let mut forwards = Vec::new();
    let mut world_imports = Vec::new();
    for (key, item) in &resolve.worlds[world].imports {
        let instance = resolve.name_world_key(key);
        match item {
            WorldItem::Interface { id, .. } => {
                if matches!(key, wit_parser::WorldKey::Name(_))
                    || resolve.interfaces[*id].package.is_none()
                {
                    return Err(unsupported(format!("the unnamed interface `{instance}`")));
                }
                world_imports.push(instance.clone());
                for func in resolve.interfaces[*id].functions.values() {
                    let mut params = Vec::new();
                    for (i, p) in func.params.iter().enumerate() {
                        params.push(format!(
                            "p{i}: {}",
                            printer.ty(&p.ty).map_err(&unsupported)?
                        ));
                    }
                    let result = match &func.result {
                        Some(t) => format!(" -> {}", printer.ty(t).map_err(&unsupported)?),
                        None => String::new(),
                    };
                    forwards.push((key.clone(), func.clone(), params.join(", "), result));
                }
            }
            WorldItem::Function(f) => {
                return Err(unsupported(format!(
                    "the root function import `{}` (only interfaces are forwarded)",
                    f.name
                )))
            }
            WorldItem::Type { .. } => {}
        }
    }
    let mut wit = String::from("package weft:forward;\n\ninterface imports {\n");
    for (n, (iface, name)) in printer.uses.iter().enumerate() {
        let from = resolve
            .id_of(*iface)
            .ok_or_else(|| unsupported("a type of an unnamed interface".into()))?;
        let _ = writeln!(wit, "  use {from}.{{{name} as t{n}}};");
    }
    for (i, (_, _, params, result)) in forwards.iter().enumerate() {
        let _ = writeln!(wit, "  f{i}: func({params}){result};");
    }
    wit.push_str("}\n\nworld forwarder {\n");
    for i in &world_imports {
        let _ = writeln!(wit, "  import {i};");
    }
    wit.push_str("  export imports;\n}\n");
    let package = resolve
        .push_source("forward.wit", &wit)
        .map_err(|e| RrError::Engine(format!("forwarding world: {e:#}\n{wit}")))?;
    let forwarder = resolve
        .select_world(&[package], Some("forwarder"))
        .map_err(|e| RrError::Engine(format!("forwarding world: {e:#}")))?;
    let mut core = wat::parse_str(core_module(&resolve, forwarder, &forwards)?)
        .map_err(|e| RrError::Engine(format!("forwarding module: {e}")))?;
    wit_component::embed_component_metadata(
        &mut core,
        &resolve,
        forwarder,
        wit_component::StringEncoding::UTF8,
        false,
    )
    .map_err(|e| RrError::Engine(format!("forwarding metadata: {e:#}")))?;
    let wasm = wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&core)
        .and_then(|e| e.encode())
        .map_err(|e| RrError::Engine(format!("forwarding component: {e:#}")))?;
    let imports = forwards
        .iter()
        .map(|(key, func, ..)| (resolve.name_world_key(key), func.name.clone()))
        .collect();
    Ok(Forwarder { wasm, imports })
}

/// Writes WIT types of one interface's functions for use in another: named types become
/// `use`d aliases `t0`, `t1`, ... (so equal names from different interfaces never clash).
struct WitPrinter<'a> {
    resolve: &'a Resolve,
    uses: Vec<(InterfaceId, String)>,
}

impl WitPrinter<'_> {
    fn ty(&mut self, ty: &WitType) -> Result<String, String> {
        Ok(match ty {
            WitType::Bool => "bool".into(),
            WitType::U8 => "u8".into(),
            WitType::U16 => "u16".into(),
            WitType::U32 => "u32".into(),
            WitType::U64 => "u64".into(),
            WitType::S8 => "s8".into(),
            WitType::S16 => "s16".into(),
            WitType::S32 => "s32".into(),
            WitType::S64 => "s64".into(),
            WitType::F32 => "f32".into(),
            WitType::F64 => "f64".into(),
            WitType::Char => "char".into(),
            WitType::String => "string".into(),
            WitType::ErrorContext => return Err("error-context values".into()),
            WitType::Id(id) => self.id(*id)?,
        })
    }

    fn id(&mut self, id: TypeId) -> Result<String, String> {
        let def = &self.resolve.types[id];
        if let Some(name) = &def.name {
            let TypeOwner::Interface(iface) = def.owner else {
                return Err(format!("the type `{name}` defined outside an interface"));
            };
            let key = (iface, name.clone());
            let n = match self.uses.iter().position(|u| *u == key) {
                Some(n) => n,
                None => {
                    self.uses.push(key);
                    self.uses.len() - 1
                }
            };
            return Ok(format!("t{n}"));
        }
        Ok(match &def.kind {
            TypeDefKind::List(t) => format!("list<{}>", self.ty(t)?),
            TypeDefKind::FixedLengthList(t, n) => format!("list<{}, {n}>", self.ty(t)?),
            TypeDefKind::Option(t) => format!("option<{}>", self.ty(t)?),
            TypeDefKind::Result(r) => match (&r.ok, &r.err) {
                (None, None) => "result".into(),
                (Some(ok), None) => format!("result<{}>", self.ty(ok)?),
                (None, Some(err)) => format!("result<_, {}>", self.ty(err)?),
                (Some(ok), Some(err)) => format!("result<{}, {}>", self.ty(ok)?, self.ty(err)?),
            },
            TypeDefKind::Tuple(t) => {
                let items = t
                    .types
                    .iter()
                    .map(|t| self.ty(t))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("tuple<{}>", items.join(", "))
            }
            TypeDefKind::Handle(Handle::Own(r)) => self.id(*r)?,
            TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", self.id(*r)?),
            TypeDefKind::Type(t) => self.ty(t)?,
            other => return Err(format!("anonymous {} types", other.as_str())),
        })
    }
}

fn wat_type(t: &WasmType) -> &'static str {
    match t {
        WasmType::I32 | WasmType::Pointer | WasmType::Length => "i32",
        WasmType::I64 | WasmType::PointerOrI64 => "i64",
        WasmType::F32 => "f32",
        WasmType::F64 => "f64",
    }
}

fn wat_sig(sig_params: &[WasmType], results: &[WasmType]) -> String {
    let mut s = String::new();
    for p in sig_params {
        let _ = write!(s, " (param {})", wat_type(p));
    }
    for r in results {
        let _ = write!(s, " (result {})", wat_type(r));
    }
    s
}

/// The core module of the forwarding component: import `i` is the program's import, export
/// `f<i>` passes its flat arguments to it (with a static return area when the results go
/// through memory), `cabi_realloc` is a bump allocator that every post-return resets.
fn core_module(
    resolve: &Resolve,
    forwarder: wit_parser::WorldId,
    forwards: &[(wit_parser::WorldKey, wit_parser::Function, String, String)],
) -> Result<String, RrError> {
    let mangling = ManglingAndAbi::Legacy(LiftLowerAbi::Sync);
    let (export_key, export_iface) = resolve.worlds[forwarder]
        .exports
        .iter()
        .find_map(|(k, item)| match item {
            WorldItem::Interface { id, .. } => Some((k.clone(), *id)),
            _ => None,
        })
        .ok_or_else(|| RrError::Engine("the forwarding world exports nothing".into()))?;
    debug_assert_eq!(resolve.name_world_key(&export_key), FORWARD_INTERFACE);
    let mut sizes = SizeAlign::default();
    sizes
        .fill(resolve)
        .map_err(|e| RrError::Engine(format!("type sizes: {e:#}")))?;
    let mut ret_area = 0usize;
    let mut imports = String::new();
    let mut drops: Vec<(TypeId, String)> = Vec::new();
    let mut bodies = String::new();
    for (i, (key, func, ..)) in forwards.iter().enumerate() {
        let import_sig: WasmSignature = resolve.wasm_signature(AbiVariant::GuestImport, func);
        let export_func = &resolve.interfaces[export_iface].functions[&format!("f{i}")];
        let export_sig = resolve.wasm_signature(AbiVariant::GuestExport, export_func);
        let consistent = if import_sig.retptr {
            export_sig.retptr && import_sig.params.len() == export_sig.params.len() + 1
        } else {
            import_sig.params == export_sig.params && import_sig.results == export_sig.results
        };
        if !consistent {
            return Err(RrError::Engine(format!(
                "the flat signatures of {} do not line up",
                func.name
            )));
        }
        if import_sig.retptr {
            if let Some(t) = &func.result {
                ret_area = ret_area.max(sizes.size(t).size_wasm32());
            }
        }
        let (module, name) = resolve.wasm_import_name(
            mangling,
            WasmImport::Func {
                interface: Some(key),
                func,
            },
        );
        let _ = writeln!(
            imports,
            "  (import {module:?} {name:?} (func $i{i}{}))",
            wat_sig(&import_sig.params, &import_sig.results)
        );
        let export = |kind| {
            resolve.wasm_export_name(
                mangling,
                WasmExport::Func {
                    interface: Some(&export_key),
                    func: export_func,
                    kind,
                },
            )
        };
        let mut body = String::new();
        for p in 0..export_sig.params.len() {
            let _ = write!(body, " local.get {p}");
        }
        let _ = write!(
            body,
            " {}call $i{i}",
            if import_sig.retptr {
                format!("i32.const {RET_AREA} ")
            } else {
                String::new()
            }
        );
        // The canonical ABI requires a callee to give back every borrowed handle it got
        // before it returns.
        let scratch = export_sig.params.len();
        let mut flat = 0;
        for p in &func.params {
            let count = flat_count(resolve, &p.ty).ok_or_else(|| {
                RrError::Unsupported(format!(
                    "WASI recording: the parameters of {} are passed in memory",
                    func.name
                ))
            })?;
            match borrowed(resolve, &p.ty) {
                Borrowed::No => {}
                Borrowed::One(r) => {
                    let drop = drop_import(resolve, forwarder, r, &mut drops)?;
                    let _ = write!(body, " local.get {flat} call {drop}");
                }
                Borrowed::List(r) => {
                    let drop = drop_import(resolve, forwarder, r, &mut drops)?;
                    let (ptr, len) = (flat, flat + 1);
                    let _ = write!(body, " local.get {len} local.set {scratch} block loop local.get {scratch} i32.eqz br_if 1 local.get {scratch} i32.const 1 i32.sub local.tee {scratch} i32.const 2 i32.shl local.get {ptr} i32.add i32.load call {drop} br 0 end end");
                }
                Borrowed::Elsewhere => {
                    return Err(RrError::Unsupported(format!(
                        "WASI recording: {} borrows a handle inside a compound parameter",
                        func.name
                    )))
                }
            }
            flat += count;
        }
        if export_sig.indirect_params && body.contains("call $drop") {
            return Err(RrError::Unsupported(format!(
                "WASI recording: {} borrows handles in memory-passed parameters",
                func.name
            )));
        }
        if import_sig.retptr {
            let _ = write!(body, " i32.const {RET_AREA}");
        }
        let _ = writeln!(
            bodies,
            "  (func (export {:?}){} (local i32){body})",
            export(WasmExportKind::Normal),
            wat_sig(&export_sig.params, &export_sig.results)
        );
        let _ = writeln!(
            bodies,
            "  (func (export {:?}){} i32.const {{heap_base}} global.set $heap)",
            export(WasmExportKind::PostReturn),
            wat_sig(&export_sig.results, &[])
        );
    }
    for (n, (_, import)) in drops.iter().enumerate() {
        let _ = writeln!(imports, "  {import}");
        debug_assert!(import.contains(&format!("$drop{n} ")));
    }
    let heap_base = (RET_AREA + ret_area + 15) & !15;
    let bodies = bodies.replace("{heap_base}", &heap_base.to_string());
    let memory = resolve.wasm_export_name(mangling, WasmExport::Memory);
    let realloc = resolve.wasm_export_name(mangling, WasmExport::Realloc);
    Ok(format!(
        "(module\n{imports}  (memory (export {memory:?}) 1)\n  (global $heap (mut i32) (i32.const {heap_base}))\n{bodies}{REALLOC}  (export {realloc:?} (func $realloc)))\n"
    ))
}

/// Number of flat core values of a parameter of type `ty`, `None` past the flat limit.
fn flat_count(resolve: &Resolve, ty: &WitType) -> Option<usize> {
    let mut storage = [WasmType::I32; Resolve::MAX_FLAT_PARAMS];
    let mut flat = wit_parser::abi::FlatTypes::new(&mut storage);
    resolve
        .push_flat(ty, &mut flat)
        .then(|| flat.to_vec().len())
}

/// Which handles a parameter borrows.
enum Borrowed {
    No,
    /// It is `borrow<R>`.
    One(TypeId),
    /// It is `list<borrow<R>>`.
    List(TypeId),
    /// Somewhere else inside it.
    Elsewhere,
}

/// The type a `use` alias stands for.
fn unalias(resolve: &Resolve, mut id: TypeId) -> TypeId {
    while let TypeDefKind::Type(WitType::Id(next)) = resolve.types[id].kind {
        id = next;
    }
    id
}

fn borrowed(resolve: &Resolve, ty: &WitType) -> Borrowed {
    let borrow_of = |ty: &WitType| match ty {
        WitType::Id(id) => match resolve.types[unalias(resolve, *id)].kind {
            TypeDefKind::Handle(Handle::Borrow(r)) => Some(unalias(resolve, r)),
            _ => None,
        },
        _ => None,
    };
    if let Some(r) = borrow_of(ty) {
        return Borrowed::One(r);
    }
    if let WitType::Id(id) = ty {
        if let TypeDefKind::List(t) = &resolve.types[unalias(resolve, *id)].kind {
            if let Some(r) = borrow_of(t) {
                return Borrowed::List(r);
            }
        }
    }
    if contains_borrow(resolve, ty) {
        Borrowed::Elsewhere
    } else {
        Borrowed::No
    }
}

fn contains_borrow(resolve: &Resolve, ty: &WitType) -> bool {
    let WitType::Id(id) = ty else { return false };
    let any = |ts: &mut dyn Iterator<Item = &WitType>| {
        for t in ts {
            if contains_borrow(resolve, t) {
                return true;
            }
        }
        false
    };
    match &resolve.types[*id].kind {
        TypeDefKind::Handle(Handle::Borrow(_)) => true,
        TypeDefKind::Record(r) => any(&mut r.fields.iter().map(|f| &f.ty)),
        TypeDefKind::Tuple(t) => any(&mut t.types.iter()),
        TypeDefKind::Variant(v) => any(&mut v.cases.iter().filter_map(|c| c.ty.as_ref())),
        TypeDefKind::Option(t) | TypeDefKind::List(t) | TypeDefKind::FixedLengthList(t, _) => {
            contains_borrow(resolve, t)
        }
        TypeDefKind::Map(k, v) => contains_borrow(resolve, k) || contains_borrow(resolve, v),
        TypeDefKind::Result(r) => any(&mut r.ok.iter().chain(r.err.iter())),
        TypeDefKind::Type(t) => contains_borrow(resolve, t),
        _ => false,
    }
}

/// The function name of the imported `[resource-drop]` of resource `r`, adding its import.
fn drop_import(
    resolve: &Resolve,
    forwarder: wit_parser::WorldId,
    r: TypeId,
    drops: &mut Vec<(TypeId, String)>,
) -> Result<String, RrError> {
    if let Some(n) = drops.iter().position(|(t, _)| *t == r) {
        return Ok(format!("$drop{n}"));
    }
    let TypeOwner::Interface(owner) = resolve.types[r].owner else {
        return Err(RrError::Unsupported(
            "WASI recording: a resource outside an interface".into(),
        ));
    };
    let key = resolve.worlds[forwarder]
        .imports
        .keys()
        .find(|k| matches!(k, wit_parser::WorldKey::Interface(i) if *i == owner))
        .ok_or_else(|| RrError::Engine("a borrowed resource's interface is not imported".into()))?;
    let (module, name) = resolve.wasm_import_name(
        ManglingAndAbi::Legacy(LiftLowerAbi::Sync),
        WasmImport::ResourceIntrinsic {
            interface: Some(key),
            resource: r,
            intrinsic: wit_parser::ResourceIntrinsic::ImportedDrop,
        },
    );
    let n = drops.len();
    drops.push((
        r,
        format!("(import {module:?} {name:?} (func $drop{n} (param i32)))"),
    ));
    Ok(format!("$drop{n}"))
}

/// `cabi_realloc`: bump allocation with growth, copying the old contents on a resize.
const REALLOC: &str = r#"  (func $realloc (param $old i32) (param $old_size i32) (param $align i32) (param $new_size i32) (result i32)
    (local $ptr i32) (local $end i32)
    global.get $heap local.get $align i32.add i32.const 1 i32.sub
    i32.const 0 local.get $align i32.sub i32.and local.tee $ptr
    local.get $new_size i32.add local.tee $end
    local.get $ptr i32.lt_u if unreachable end
    block
      local.get $end i64.extend_i32_u memory.size i64.extend_i32_u i64.const 16 i64.shl i64.le_u br_if 0
      local.get $end i64.extend_i32_u memory.size i64.extend_i32_u i64.const 16 i64.shl i64.sub
      i64.const 65535 i64.add i64.const 16 i64.shr_u i32.wrap_i64 memory.grow i32.const -1 i32.ne br_if 0
      unreachable
    end
    local.get $end global.set $heap
    local.get $ptr local.get $old
    local.get $old_size local.get $new_size local.get $old_size local.get $new_size i32.lt_u select
    memory.copy
    local.get $ptr)
"#;

/// WASI state of a store that records against wasmtime-wasi.
pub struct WasiParts {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for CState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let parts = self.wasi.get_or_insert_with(|| {
            Box::new(WasiParts {
                ctx: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            })
        });
        WasiCtxView {
            ctx: &mut parts.ctx,
            table: &mut parts.table,
        }
    }
}

/// wasmtime-wasi behind the forwarding component of one program, compiled and linked once
/// (for any number of recorded runs of that program).
#[derive(Clone)]
pub struct WasiForwarder {
    imports: Vec<(String, String)>,
    pre: InstancePre<CState>,
}

impl WasiForwarder {
    /// Builds and compiles the forwarding component of `component` (the binary `runner`
    /// compiled) and links it against `wasmtime_wasi::p2`.
    pub fn new(runner: &ComponentRunner, component: &[u8]) -> Result<Self, RrError> {
        let Forwarder { wasm, imports } = forwarding_component(component)?;
        let engine = runner.engine();
        let compiled = Component::new(engine, &wasm)
            .map_err(|e| RrError::Engine(format!("forwarding component: {e:#}")))?;
        let mut linker: Linker<CState> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RrError::Engine(format!("wasmtime-wasi: {e:#}")))?;
        let pre = linker.instantiate_pre(&compiled).map_err(|e| {
            RrError::Unsupported(format!(
                "WASI recording: wasmtime-wasi lacks an import: {e:#}"
            ))
        })?;
        Ok(WasiForwarder { imports, pre })
    }
}

/// A [`ComponentHost`] that answers every WASI 0.2 import with wasmtime-wasi's own
/// implementation (through a [`WasiForwarder`]).
pub struct WasiHost {
    forwarder: WasiForwarder,
    ctx: Option<WasiCtx>,
    funcs: HashMap<(String, String), Func>,
    /// The real resource behind each dynamic handle the program holds (`rep - 1`).
    resources: Vec<Option<ResourceAny>>,
}

impl WasiHost {
    /// A host answering through `forwarder` with the WASI context `ctx` (arguments,
    /// environment, stdio, preopened directories).
    pub fn new(forwarder: &WasiForwarder, ctx: WasiCtx) -> Self {
        WasiHost {
            forwarder: forwarder.clone(),
            ctx: Some(ctx),
            funcs: HashMap::new(),
            resources: Vec::new(),
        }
    }

    /// Instantiates the forwarding component in the program's store (once).
    fn start(&mut self, cx: &mut HostCx<'_>) -> Result<(), String> {
        let Some(ctx) = self.ctx.take() else {
            return Ok(());
        };
        let store = cx.store();
        store.data_mut().wasi = Some(Box::new(WasiParts {
            ctx,
            table: ResourceTable::new(),
        }));
        let instance = self
            .forwarder
            .pre
            .instantiate(&mut *store)
            .map_err(|e| format!("the WASI host: {e:#}"))?;
        let iface = instance
            .get_export_index(&mut *store, None, FORWARD_INTERFACE)
            .ok_or("the forwarding component exports no functions")?;
        for (i, key) in self.forwarder.imports.iter().enumerate() {
            let index = instance
                .get_export_index(&mut *store, Some(&iface), &format!("f{i}"))
                .and_then(|ix| instance.get_func(&mut *store, ix))
                .ok_or_else(|| format!("the forwarder lacks f{i}"))?;
            self.funcs.insert(key.clone(), index);
        }
        Ok(())
    }

    /// The real value behind a program's value: dynamic handles become wasmtime-wasi's.
    fn host_value(&mut self, cx: &mut HostCx<'_>, v: &Val) -> Result<Val, String> {
        Ok(match v {
            Val::Resource(r) => {
                let rep = cx.rep(v).ok_or("a resource the WASI host did not make")?;
                let slot = self
                    .resources
                    .get_mut((rep as usize).wrapping_sub(1))
                    .ok_or_else(|| format!("no WASI resource h{rep}"))?;
                let real = if r.owned() { slot.take() } else { *slot };
                Val::Resource(real.ok_or_else(|| format!("WASI resource h{rep} was given away"))?)
            }
            Val::List(vs) => Val::List(self.host_values(cx, vs)?),
            Val::Tuple(vs) => Val::Tuple(self.host_values(cx, vs)?),
            Val::Record(fs) => Val::Record(
                fs.iter()
                    .map(|(n, v)| Ok((n.clone(), self.host_value(cx, v)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Val::Variant(n, Some(v)) => {
                Val::Variant(n.clone(), Some(Box::new(self.host_value(cx, v)?)))
            }
            Val::Option(Some(v)) => Val::Option(Some(Box::new(self.host_value(cx, v)?))),
            Val::Result(Ok(Some(v))) => Val::Result(Ok(Some(Box::new(self.host_value(cx, v)?)))),
            Val::Result(Err(Some(v))) => Val::Result(Err(Some(Box::new(self.host_value(cx, v)?)))),
            other => other.clone(),
        })
    }

    fn host_values(&mut self, cx: &mut HostCx<'_>, vs: &[Val]) -> Result<Vec<Val>, String> {
        vs.iter().map(|v| self.host_value(cx, v)).collect()
    }

    /// The program's view of a host value of type `ty`: wasmtime-wasi's resources become
    /// dynamic handles numbered in creation order.
    fn guest_value(&mut self, cx: &mut HostCx<'_>, v: Val, ty: &Type) -> Result<Val, String> {
        Ok(match (v, ty) {
            (Val::Resource(real), Type::Own(rt)) => {
                self.resources.push(Some(real));
                cx.new_own_of(rt, self.resources.len() as u32)?
            }
            (Val::Resource(_), _) => return Err("a borrowed resource in a host result".into()),
            (Val::List(vs), Type::List(l)) => {
                let t = l.ty();
                Val::List(
                    vs.into_iter()
                        .map(|v| self.guest_value(cx, v, &t))
                        .collect::<Result<_, _>>()?,
                )
            }
            (Val::Tuple(vs), Type::Tuple(t)) => Val::Tuple(
                vs.into_iter()
                    .zip(t.types())
                    .map(|(v, t)| self.guest_value(cx, v, &t))
                    .collect::<Result<_, _>>()?,
            ),
            (Val::Record(fs), Type::Record(r)) => Val::Record(
                fs.into_iter()
                    .zip(r.fields())
                    .map(|((n, v), f)| Ok((n, self.guest_value(cx, v, &f.ty)?)))
                    .collect::<Result<_, String>>()?,
            ),
            (Val::Variant(n, Some(v)), Type::Variant(t)) => {
                let case_ty = t
                    .cases()
                    .find(|c| c.name == n)
                    .and_then(|c| c.ty)
                    .ok_or_else(|| format!("no payload type for case {n}"))?;
                Val::Variant(n, Some(Box::new(self.guest_value(cx, *v, &case_ty)?)))
            }
            (Val::Option(Some(v)), Type::Option(t)) => {
                Val::Option(Some(Box::new(self.guest_value(cx, *v, &t.ty())?)))
            }
            (Val::Result(Ok(Some(v))), Type::Result(t)) => {
                let ok = t.ok().ok_or("an ok payload of a result without one")?;
                Val::Result(Ok(Some(Box::new(self.guest_value(cx, *v, &ok)?))))
            }
            (Val::Result(Err(Some(v))), Type::Result(t)) => {
                let err = t.err().ok_or("an error payload of a result without one")?;
                Val::Result(Err(Some(Box::new(self.guest_value(cx, *v, &err)?))))
            }
            (v, _) => v,
        })
    }
}

impl ComponentHost for WasiHost {
    fn call(
        &mut self,
        cx: &mut HostCx<'_>,
        instance: &str,
        name: &str,
        ty: &ComponentFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), String> {
        self.start(cx)?;
        let func = *self
            .funcs
            .get(&(instance.to_string(), name.to_string()))
            .ok_or_else(|| format!("the WASI host has no {instance}.{name}"))?;
        let host_args = self.host_values(cx, args)?;
        let mut host_results = vec![Val::Bool(false); results.len()];
        if let Err(e) = func.call(&mut *cx.store(), &host_args, &mut host_results) {
            if let Some(exit) = e.downcast_ref::<I32Exit>() {
                return Err(cx.exit(exit.0));
            }
            return Err(format!("{e:#}"));
        }
        for ((slot, v), t) in results.iter_mut().zip(host_results).zip(ty.results()) {
            *slot = self.guest_value(cx, v, &t)?;
        }
        Ok(())
    }

    fn drop_resource(&mut self, cx: &mut HostCx<'_>, rep: u32) -> Result<(), String> {
        let real = self
            .resources
            .get_mut((rep as usize).wrapping_sub(1))
            .and_then(Option::take);
        match real {
            Some(r) => r.resource_drop(&mut *cx.store()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// The name of a component's `wasi:cli/run` export (`wasi:cli/run@0.2.0#run`), if it has
/// one: the entry point of a WASI 0.2 command.
pub fn run_export(runner: &ComponentRunner) -> Option<String> {
    runner
        .exports()
        .into_iter()
        .map(|(name, _)| name)
        .find(|name| {
            name.strip_suffix("#run")
                .and_then(|i| i.strip_prefix("wasi:cli/run"))
                .is_some_and(|v| v.is_empty() || v.starts_with('@'))
        })
}

/// Records a WASI 0.2 command component (its `wasi:cli/run` export, compiled in `runner`)
/// against wasmtime-wasi through its `forwarder`, with the arguments, environment,
/// directories, stdio and fuel of `opts`.
pub fn record_command(
    runner: &ComponentRunner,
    forwarder: &WasiForwarder,
    opts: &crate::record::RecordOptions,
) -> Result<crate::record::Recording, RrError> {
    use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
    use weft_exec::wasi::{InputSource, OutputSink};
    /// Most bytes of standard output or error kept when capturing.
    const CAPTURE_LIMIT: usize = 64 << 20;
    let run = run_export(runner).ok_or_else(|| {
        RrError::Input("the component exports no `wasi:cli/run` (not a WASI 0.2 command)".into())
    })?;
    let mut builder = WasiCtx::builder();
    builder.args(&opts.args).envs(&opts.env);
    match &opts.stdin {
        InputSource::Empty => {}
        InputSource::Inherit => {
            builder.inherit_stdin();
        }
        InputSource::Bytes(b) => {
            builder.stdin(MemoryInputPipe::new(b.clone()));
        }
    }
    let capture = |sink: &OutputSink| match sink {
        OutputSink::Capture => Some(MemoryOutputPipe::new(CAPTURE_LIMIT)),
        _ => None,
    };
    let (stdout, stderr) = (capture(&opts.stdout), capture(&opts.stderr));
    match (&opts.stdout, &stdout) {
        (_, Some(pipe)) => {
            builder.stdout(pipe.clone());
        }
        (OutputSink::Inherit, None) => {
            builder.inherit_stdout();
        }
        _ => {}
    }
    match (&opts.stderr, &stderr) {
        (_, Some(pipe)) => {
            builder.stderr(pipe.clone());
        }
        (OutputSink::Inherit, None) => {
            builder.inherit_stderr();
        }
        _ => {}
    }
    for (guest, host) in &opts.dirs {
        builder
            .preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadWrite)
            .map_err(|e| RrError::Input(format!("directory {}: {e:#}", host.display())))?;
    }
    let host = WasiHost::new(forwarder, builder.build());
    let (trace, end) = runner.record(Box::new(host), &[(run, Vec::new())], opts.fuel)?;
    let contents = |p: Option<MemoryOutputPipe>| p.map_or_else(Vec::new, |p| p.contents().to_vec());
    Ok(crate::record::Recording {
        trace,
        end,
        stdout: contents(stdout),
        stderr: contents(stderr),
    })
}

/// Wraps a wasm32-wasi (preview 1) command as a WASI 0.2 component with wasmtime 48's
/// preview 1 command adapter, as `wasm-tools component new --adapt` does.
pub fn adapt_command(core: &[u8]) -> Result<Vec<u8>, RrError> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(core)
        .and_then(|e| {
            e.adapter(
                "wasi_snapshot_preview1",
                wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
            )
        })
        .and_then(|e| e.encode())
        .map_err(|e| RrError::Input(format!("cannot adapt the module: {e:#}")))
}
