//! Record, replay and fuzz components against dynamic hosts.
//!
//! Every imported function is defined with `LinkerInstance::func_new` and every imported
//! resource type with `LinkerInstance::resource` (a `host_dynamic` type per import), so any
//! world can be linked without generated bindings. Values are WAVE text typed by the
//! function's signature ([`crate::cvalue`]), resource handles are stable labels (`own-h3`,
//! `borrow-g1`), and the guest dropping a host resource is recorded as an import call of
//! `[resource-drop]NAME`.

use crate::cvalue::{self, Handle};
use crate::error::Divergence;
use crate::fuzz::{harvest_constants, Failure, FuzzOptions, FuzzReport, ValueGen};
use crate::record::{trap_message, End};
use crate::trace::{qualified, Event, Header, Kind, Trace, VERSION};
use crate::{sha256_hex, RrError};
use rand::Rng;
use std::sync::Arc;
use wasmtime::component::types::{ComponentFunc, ComponentItem};
use wasmtime::component::{
    Component, Func, Instance, Linker, ResourceAny, ResourceDynamic, ResourceType, Type, Val,
};
use wasmtime::{AsContextMut, Engine, Store, StoreContextMut};

/// A host answering a component's imports.
pub trait ComponentHost: Send + 'static {
    /// Answers a call of `instance`.`name` (root functions have an empty instance).
    fn call(
        &mut self,
        cx: &mut HostCx<'_>,
        instance: &str,
        name: &str,
        ty: &ComponentFunc,
        args: &[Val],
        results: &mut [Val],
    ) -> Result<(), String>;

    /// The program dropped its handle to the host resource `rep` (whose drop is recorded as
    /// an import call of `[resource-drop]NAME`).
    fn drop_resource(&mut self, cx: &mut HostCx<'_>, rep: u32) -> Result<(), String> {
        let _ = (cx, rep);
        Ok(())
    }
}

/// What a host function can do with the store: make and inspect resource handles.
pub struct HostCx<'a> {
    store: StoreContextMut<'a, CState>,
}

impl<'a> HostCx<'a> {
    /// A new host resource of the imported type `instance`.`resource` with representation
    /// `rep` (an `own` handle to return to the guest).
    pub fn new_own(&mut self, instance: &str, resource: &str, rep: u32) -> Result<Val, String> {
        let ty = self
            .store
            .data()
            .resource_types
            .iter()
            .position(|(i, r)| i == instance && r == resource)
            .ok_or_else(|| format!("no imported resource {instance}.{resource}"))?
            as u32;
        new_host_resource(&mut self.store, ty, rep)
    }

    /// A new host resource of the imported resource type `ty` (as a function type of the
    /// program names it) with representation `rep`.
    pub fn new_own_of(&mut self, ty: &ResourceType, rep: u32) -> Result<Val, String> {
        let count = self.store.data().resource_types.len() as u32;
        let index = (0..count)
            .find(|i| ResourceType::host_dynamic(*i) == *ty)
            .ok_or("a resource type the program does not import")?;
        new_host_resource(&mut self.store, index, rep)
    }

    /// Ends the run as the program's exit with `code`; returns the message of the error
    /// that unwinds the program.
    pub fn exit(&mut self, code: i32) -> String {
        self.store.data_mut().exit = Some(code);
        format!("exit with status {code}")
    }

    /// The store, to call into other instances of it.
    pub fn store(&mut self) -> &mut StoreContextMut<'a, CState> {
        &mut self.store
    }

    /// The representation of a host resource handle given by the guest.
    pub fn rep(&mut self, v: &Val) -> Option<u32> {
        let Val::Resource(r) = v else { return None };
        let label = label_of(&mut self.store, *r).ok()?;
        label.strip_prefix('h')?.parse().ok()
    }
}

fn new_host_resource(
    store: &mut StoreContextMut<'_, CState>,
    ty: u32,
    rep: u32,
) -> Result<Val, String> {
    let r = ResourceDynamic::new_own(rep, ty)
        .try_into_resource_any(&mut *store)
        .map_err(|e| e.to_string())?;
    store.data_mut().known.push((r, format!("h{rep}")));
    Ok(Val::Resource(r))
}

struct Cursor {
    events: Arc<Vec<Event>>,
    pos: usize,
    divergence: Option<Divergence>,
    output: Output,
}

/// What a replayed WASI 0.2 program wrote to its standard output and error: the handles
/// that `get-stdout` / `get-stderr` returned, and the bytes written to them.
#[derive(Default)]
struct Output {
    streams: Vec<(String, usize)>,
    bytes: [Vec<u8>; 2],
}

impl Output {
    /// Notes an answered import call: a stdio stream handle or a write to one.
    fn observe(
        &mut self,
        inst: &str,
        name: &str,
        args: &[String],
        params: &[Val],
        results: &[String],
    ) {
        let package = |p: &str| {
            inst.strip_prefix(p)
                .is_some_and(|v| v.is_empty() || v.starts_with('@'))
        };
        let stream = match name {
            "get-stdout" if package("wasi:cli/stdout") => Some(0),
            "get-stderr" if package("wasi:cli/stderr") => Some(1),
            _ => None,
        };
        if let (Some(s), Some(handle)) = (stream, results.first()) {
            if let Some(label) = handle.strip_prefix("own-") {
                self.streams.push((label.to_string(), s));
            }
            return;
        }
        let write = matches!(
            name,
            "[method]output-stream.write" | "[method]output-stream.blocking-write-and-flush"
        );
        if !(write && package("wasi:io/streams")) {
            return;
        }
        let label = args.first().and_then(|a| a.strip_prefix("borrow-"));
        let Some(&(_, s)) = self.streams.iter().find(|(l, _)| Some(l.as_str()) == label) else {
            return;
        };
        if let Some(Val::List(bytes)) = params.get(1) {
            self.bytes[s].extend(bytes.iter().filter_map(|b| match b {
                Val::U8(b) => Some(*b),
                _ => None,
            }));
        }
    }
}

/// Store data of a component run.
pub struct CState {
    host: Option<Box<dyn ComponentHost>>,
    events: Vec<Event>,
    replay: Option<Cursor>,
    known: Vec<(ResourceAny, String)>,
    guests: usize,
    resource_types: Vec<(String, String)>,
    stop: Option<String>,
    max_events: usize,
    /// The exit status the program asked for (through a host's [`HostCx::exit`]).
    exit: Option<i32>,
    /// wasmtime-wasi's state when recording against it ([`crate::wasi_p2`]).
    pub(crate) wasi: Option<Box<crate::wasi_p2::WasiParts>>,
}

/// The label of a resource: `h<rep>` for host resources, `g<n>` for guest ones (numbered in
/// the order the host first sees them).
fn label_of(store: &mut StoreContextMut<'_, CState>, r: ResourceAny) -> Result<String, String> {
    if let Some((_, l)) = store.data().known.iter().find(|(k, _)| *k == r) {
        return Ok(l.clone());
    }
    let label = match ResourceDynamic::try_from_resource_any(r, &mut *store) {
        Ok(d) => format!("h{}", d.rep()),
        Err(_) => {
            let st = store.data_mut();
            st.guests += 1;
            format!("g{}", st.guests)
        }
    };
    store.data_mut().known.push((r, label.clone()));
    Ok(label)
}

fn print_all(
    store: &mut StoreContextMut<'_, CState>,
    vals: &[Val],
    types: &[Type],
) -> Result<Vec<String>, String> {
    vals.iter()
        .zip(types)
        .map(|(v, t)| {
            cvalue::print(v, t, &mut |v, own| match v {
                Val::Resource(r) => Ok(Handle {
                    own,
                    label: label_of(store, *r)?,
                }),
                _ => Err("not a resource".into()),
            })
        })
        .collect()
}

fn parse_all(
    store: &mut StoreContextMut<'_, CState>,
    texts: &[String],
    types: &[Type],
) -> Result<Vec<Val>, String> {
    if texts.len() != types.len() {
        return Err(format!(
            "{} values where the signature has {}",
            texts.len(),
            types.len()
        ));
    }
    texts
        .iter()
        .zip(types)
        .map(|(s, t)| cvalue::parse(s, t, &mut |h, ty| resolve_handle(store, h, ty)))
        .collect()
}

fn resolve_handle(
    store: &mut StoreContextMut<'_, CState>,
    h: &Handle,
    ty: &Type,
) -> Result<Val, String> {
    if let Some((r, _)) = store.data().known.iter().find(|(_, l)| *l == h.label) {
        return Ok(Val::Resource(*r));
    }
    let Some(rep) = h
        .label
        .strip_prefix('h')
        .and_then(|r| r.parse::<u32>().ok())
    else {
        return Err(format!("unknown resource {}", h.text()));
    };
    let rt = match ty {
        Type::Own(rt) | Type::Borrow(rt) => *rt,
        _ => return Err("not a resource type".into()),
    };
    let n = store.data().resource_types.len() as u32;
    let payload = (0..n)
        .find(|&i| ResourceType::host_dynamic(i) == rt)
        .or((n == 1).then_some(0))
        .ok_or_else(|| format!("cannot tell which resource type {} has", h.text()))?;
    new_host_resource(store, payload, rep)
}

/// Functions and resources a component imports: (instance, name, item); root items have an
/// empty instance name.
fn imports(component: &Component, engine: &Engine) -> Vec<(String, String, ComponentItem)> {
    let mut out = Vec::new();
    for (name, item) in component.component_type().imports(engine) {
        match item.ty {
            ComponentItem::ComponentInstance(inst) => {
                for (n, it) in inst.exports(engine) {
                    out.push((name.to_string(), n.to_string(), it.ty));
                }
            }
            other => out.push((String::new(), name.to_string(), other)),
        }
    }
    out
}

/// Exported functions: `name` or `instance#name`, with their types.
pub fn exported_funcs(component: &Component, engine: &Engine) -> Vec<(String, ComponentFunc)> {
    let mut out = Vec::new();
    for (name, item) in component.component_type().exports(engine) {
        match item.ty {
            ComponentItem::ComponentFunc(f) => out.push((name.to_string(), f)),
            ComponentItem::ComponentInstance(inst) => {
                for (n, it) in inst.exports(engine) {
                    if let ComponentItem::ComponentFunc(f) = it.ty {
                        out.push((format!("{name}#{n}"), f));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn world(component: &Component, engine: &Engine) -> String {
    let imps: Vec<String> = imports(component, engine)
        .iter()
        .filter(|(_, _, it)| {
            matches!(
                it,
                ComponentItem::ComponentFunc(_) | ComponentItem::Resource(_)
            )
        })
        .map(|(i, n, _)| qualified(i, n))
        .collect();
    let exps: Vec<String> = exported_funcs(component, engine)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    format!("import {}; export {}", imps.join(", "), exps.join(", "))
}

/// A compiled component with a dynamic linker for its imports.
pub struct ComponentRunner {
    engine: Engine,
    component: Component,
    linker: Linker<CState>,
    resource_types: Vec<(String, String)>,
    sha256: String,
    fuel: bool,
    /// Most events one recorded run may produce; a run that reaches it stops with a trap
    /// whose message starts with [`LIMIT`].
    pub max_events: usize,
}

/// Start of the message of a run stopped by a limit (fuel or event count).
pub const LIMIT: &str = "limit: ";

fn engine_err(e: impl std::fmt::Display) -> RrError {
    RrError::Engine(e.to_string())
}

impl ComponentRunner {
    /// Compiles a component and defines every import dynamically (with fuel metering when
    /// `fuel`).
    pub fn new(wasm: &[u8], fuel: bool) -> Result<Self, RrError> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(fuel);
        let engine = Engine::new(&config).map_err(engine_err)?;
        let component = Component::new(&engine, wasm)
            .map_err(|e| RrError::Input(format!("invalid component: {e}")))?;
        let mut linker: Linker<CState> = Linker::new(&engine);
        let mut resource_types = Vec::new();
        let mut seen: Vec<(ResourceType, u32)> = Vec::new();
        for (inst, name, item) in imports(&component, &engine) {
            let mut li = if inst.is_empty() {
                linker.root()
            } else {
                linker.instance(&inst).map_err(engine_err)?
            };
            match item {
                ComponentItem::ComponentFunc(_) => {
                    let (i2, n2) = (inst.clone(), name.clone());
                    li.func_new(&name, move |store, fty, params, results| {
                        import_call(store, &i2, &n2, &fty, params, results)
                    })
                    .map_err(engine_err)?;
                }
                ComponentItem::Resource(ty) => {
                    // A `use` of another interface's resource is the same type there.
                    let idx = match seen.iter().find(|(t, _)| *t == ty) {
                        Some((_, idx)) => *idx,
                        None => {
                            let idx = resource_types.len() as u32;
                            resource_types.push((inst.clone(), name.clone()));
                            seen.push((ty, idx));
                            idx
                        }
                    };
                    let (i2, n2) = (inst.clone(), format!("[resource-drop]{name}"));
                    li.resource(&name, ResourceType::host_dynamic(idx), move |store, rep| {
                        resource_drop(store, &i2, &n2, rep)
                    })
                    .map_err(engine_err)?;
                }
                ComponentItem::Type(_) => {}
                _ => {
                    return Err(RrError::Unsupported(format!(
                        "import {} (only functions, resources and types can be linked dynamically)",
                        qualified(&inst, &name)
                    )))
                }
            }
        }
        Ok(ComponentRunner {
            sha256: sha256_hex(wasm),
            engine,
            component,
            linker,
            resource_types,
            fuel,
            max_events: usize::MAX,
        })
    }

    fn store(
        &self,
        host: Option<Box<dyn ComponentHost>>,
        replay: Option<Cursor>,
        fuel: Option<u64>,
    ) -> Store<CState> {
        let mut store = Store::new(
            &self.engine,
            CState {
                host,
                events: Vec::new(),
                replay,
                known: Vec::new(),
                guests: 0,
                resource_types: self.resource_types.clone(),
                stop: None,
                max_events: self.max_events,
                exit: None,
                wasi: None,
            },
        );
        if self.fuel {
            let _ = store.set_fuel(fuel.unwrap_or(u64::MAX));
        }
        store
    }

    /// The engine the component is compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Exported functions with their types.
    pub fn exports(&self) -> Vec<(String, ComponentFunc)> {
        exported_funcs(&self.component, &self.engine)
    }

    /// Records calls of exports (`name` or `instance#name`, arguments as WAVE text) with
    /// imports answered by `host`, within `fuel` when the runner meters fuel.
    pub fn record(
        &self,
        host: Box<dyn ComponentHost>,
        calls: &[(String, Vec<String>)],
        fuel: Option<u64>,
    ) -> Result<(Trace, End), RrError> {
        let mut store = self.store(Some(host), None, fuel);
        let header = Header {
            version: VERSION,
            kind: Kind::Component,
            sha256: self.sha256.clone(),
            world: Some(world(&self.component, &self.engine)),
            args: Vec::new(),
        };
        let mut end = End::Exit(0);
        match self.linker.instantiate(&mut store, &self.component) {
            Err(e) => {
                end = End::Trap(
                    store
                        .data_mut()
                        .stop
                        .take()
                        .unwrap_or_else(|| trap_message(&e)),
                )
            }
            Ok(instance) => {
                for (name, args) in calls {
                    let (func, ty) = find_func(&mut store, &instance, name).ok_or_else(|| {
                        RrError::Input(format!("the component exports no function `{name}`"))
                    })?;
                    let ptypes: Vec<Type> = ty.params().map(|(_, t)| t).collect();
                    let params = parse_all(&mut store.as_context_mut(), args, &ptypes)
                        .map_err(|m| RrError::Input(format!("arguments of {name}: {m}")))?;
                    let args = print_all(&mut store.as_context_mut(), &params, &ptypes)
                        .map_err(RrError::Input)?;
                    store.data_mut().events.push(Event::ExportCall {
                        name: name.clone(),
                        args,
                    });
                    match call(&mut store, func, &ty, &params) {
                        Ok(results) => store.data_mut().events.push(Event::ExportRet { results }),
                        Err(m) => {
                            end = ended(&mut store, m);
                            break;
                        }
                    }
                }
            }
        }
        let mut events = std::mem::take(&mut store.data_mut().events);
        events.push(match &end {
            End::Exit(code) => Event::Exit {
                code: *code,
                memory: None,
            },
            End::Trap(message) => Event::Trap {
                message: message.clone(),
                memory: None,
            },
        });
        Ok((Trace { header, events }, end))
    }

    /// Replays a component trace: export calls are made with the recorded arguments, every
    /// import is answered from the trace, and the first difference is reported.
    pub fn replay(&self, trace: &Trace) -> Result<ComponentReplay, RrError> {
        self.replay_with(trace, false)
    }

    /// [`ComponentRunner::replay`], also of a trace recorded on another build of the same
    /// source when `other_build` (component values carry no addresses, so nothing needs
    /// relocating: the calls and values must simply be the same).
    pub fn replay_with(
        &self,
        trace: &Trace,
        other_build: bool,
    ) -> Result<ComponentReplay, RrError> {
        if trace.header.kind != Kind::Component {
            return Err(RrError::Input("this trace is of a core module".into()));
        }
        if !other_build && trace.header.sha256 != self.sha256 {
            return Err(RrError::HashMismatch {
                expected: trace.header.sha256.clone(),
                actual: self.sha256.clone(),
            });
        }
        let events = Arc::new(trace.events.clone());
        let mut store = self.store(
            None,
            Some(Cursor {
                events: events.clone(),
                pos: 0,
                divergence: None,
                output: Output::default(),
            }),
            None,
        );
        let pos = |s: &Store<CState>| s.data().replay.as_ref().map_or(0, |c| c.pos);
        let diverged = |s: &mut Store<CState>| {
            s.data_mut()
                .replay
                .as_mut()
                .and_then(|c| c.divergence.take())
        };
        let set_pos = |s: &mut Store<CState>, p: usize| {
            if let Some(c) = s.data_mut().replay.as_mut() {
                c.pos = p;
            }
        };
        let mut end = End::Exit(0);
        match self.linker.instantiate(&mut store, &self.component) {
            Err(e) => {
                if let Some(d) = diverged(&mut store) {
                    return Err(d.into());
                }
                end = End::Trap(trap_message(&e));
            }
            Ok(instance) => loop {
                let p = pos(&store);
                let (name, args) = match events.get(p) {
                    Some(Event::ExportCall { name, args }) => (name.clone(), args.clone()),
                    _ => break,
                };
                let (func, ty) = find_func(&mut store, &instance, &name).ok_or_else(|| {
                    RrError::Diverged(Divergence {
                        index: p,
                        expected: events[p].describe(),
                        actual: format!("no exported function `{name}`"),
                    })
                })?;
                let ptypes: Vec<Type> = ty.params().map(|(_, t)| t).collect();
                let params =
                    parse_all(&mut store.as_context_mut(), &args, &ptypes).map_err(|message| {
                        RrError::Trace {
                            line: p + 2,
                            event: Some(p),
                            message,
                        }
                    })?;
                set_pos(&mut store, p + 1);
                match call(&mut store, func, &ty, &params) {
                    Ok(results) => {
                        if let Some(d) = diverged(&mut store) {
                            return Err(d.into());
                        }
                        let p = pos(&store);
                        match events.get(p) {
                            Some(Event::ExportRet { results: want }) if *want == results => {
                                set_pos(&mut store, p + 1)
                            }
                            other => {
                                return Err(Divergence {
                                    index: p,
                                    expected: other
                                        .map_or("the end of the trace".into(), |e| e.describe()),
                                    actual: format!("export-ret ({})", results.join(", ")),
                                }
                                .into())
                            }
                        }
                    }
                    Err(m) => {
                        if let Some(d) = diverged(&mut store) {
                            return Err(d.into());
                        }
                        end = ended(&mut store, m);
                        break;
                    }
                }
            },
        }
        let p = pos(&store);
        let ok = match (&end, events.get(p)) {
            (End::Exit(c), Some(Event::Exit { code, .. })) => c == code,
            (End::Trap(m), Some(Event::Trap { message, .. })) => m == message,
            _ => false,
        };
        if !ok {
            let actual = match &end {
                End::Exit(c) => format!("exit {c}"),
                End::Trap(m) => format!("trap `{m}`"),
            };
            return Err(Divergence {
                index: p,
                expected: events
                    .get(p)
                    .map_or("the end of the trace".into(), |e| e.describe()),
                actual,
            }
            .into());
        }
        let [stdout, stderr] = store
            .data_mut()
            .replay
            .take()
            .map(|c| c.output.bytes)
            .unwrap_or_default();
        Ok(ComponentReplay {
            end,
            events: p + 1,
            stdout,
            stderr,
        })
    }
}

fn find_func(
    store: &mut Store<CState>,
    instance: &Instance,
    name: &str,
) -> Option<(Func, ComponentFunc)> {
    let func = match name.split_once('#') {
        Some((i, f)) => {
            let ii = instance.get_export_index(&mut *store, None, i)?;
            let fi = instance.get_export_index(&mut *store, Some(&ii), f)?;
            instance.get_func(&mut *store, fi)?
        }
        None => instance.get_func(&mut *store, name)?,
    };
    let ty = func.ty(&*store);
    Some((func, ty))
}

/// How a run that stopped with the error `message` ended: the exit a host asked for, or a
/// trap.
fn ended(store: &mut Store<CState>, message: String) -> End {
    match store.data_mut().exit.take() {
        Some(code) => End::Exit(code),
        None => End::Trap(message),
    }
}

/// Calls an export; returns its results as text, or the trap message.
fn call(
    store: &mut Store<CState>,
    func: Func,
    ty: &ComponentFunc,
    params: &[Val],
) -> Result<Vec<String>, String> {
    let rtypes: Vec<Type> = ty.results().collect();
    let mut results = vec![Val::Bool(false); rtypes.len()];
    match func.call(&mut *store, params, &mut results) {
        Ok(()) => print_all(&mut store.as_context_mut(), &results, &rtypes),
        Err(e) => Err(store
            .data_mut()
            .stop
            .take()
            .unwrap_or_else(|| trap_message(&e))),
    }
}

fn diverge(
    store: &mut StoreContextMut<'_, CState>,
    expected: String,
    actual: String,
) -> wasmtime::Error {
    let c = store.data_mut().replay.as_mut().expect("replaying");
    let d = Divergence {
        index: c.pos,
        expected,
        actual,
    };
    let msg = d.to_string();
    c.divergence.get_or_insert(d);
    wasmtime::Error::msg(msg)
}

fn import_call(
    mut store: StoreContextMut<'_, CState>,
    inst: &str,
    name: &str,
    fty: &ComponentFunc,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let ptypes: Vec<Type> = fty.params().map(|(_, t)| t).collect();
    let rtypes: Vec<Type> = fty.results().collect();
    let args = print_all(&mut store, params, &ptypes).map_err(wasmtime::Error::msg)?;
    let out = answer_import(&mut store, inst, name, fty, args, params, results, &rtypes);
    // Borrowed handles live for one call only: forget their labels.
    store.data_mut().known.retain(|(r, _)| r.owned());
    out
}

#[allow(clippy::too_many_arguments)]
fn answer_import(
    store: &mut StoreContextMut<'_, CState>,
    inst: &str,
    name: &str,
    fty: &ComponentFunc,
    args: Vec<String>,
    params: &[Val],
    results: &mut [Val],
    rtypes: &[Type],
) -> wasmtime::Result<()> {
    let mut store = store.as_context_mut();
    if store.data().replay.is_some() {
        let actual = format!("import-call {}({})", qualified(inst, name), args.join(", "));
        let (events, pos) = {
            let c = store.data().replay.as_ref().expect("replaying");
            (c.events.clone(), c.pos)
        };
        match events.get(pos) {
            Some(Event::ImportCall {
                module,
                name: n,
                args: want,
                ..
            }) if module == inst && n == name && *want == args => {}
            other => {
                let e = other.map_or("the end of the trace".into(), |e| e.describe());
                return Err(diverge(&mut store, e, actual));
            }
        }
        store.data_mut().replay.as_mut().expect("replaying").pos = pos + 1;
        return match events.get(pos + 1) {
            Some(Event::ImportRet { results: texts, .. }) => {
                let vals = parse_all(&mut store, texts, rtypes)
                    .map_err(|m| diverge(&mut store, events[pos + 1].describe(), m))?;
                results.clone_from_slice(&vals);
                let c = store.data_mut().replay.as_mut().expect("replaying");
                c.pos = pos + 2;
                c.output.observe(inst, name, &args, params, texts);
                Ok(())
            }
            Some(Event::Trap { message, .. }) => Err(wasmtime::Error::msg(message.clone())),
            Some(Event::Exit { code, .. }) => {
                let st = store.data_mut();
                st.exit = Some(*code);
                st.replay.as_mut().expect("replaying").pos = pos + 1;
                Err(wasmtime::Error::msg(format!("exit with status {code}")))
            }
            other => {
                let e = other.map_or("the end of the trace".into(), |e| e.describe());
                Err(diverge(
                    &mut store,
                    e,
                    format!("the return of {}", qualified(inst, name)),
                ))
            }
        };
    }
    if store.data().events.len() >= store.data().max_events {
        let m = format!("{LIMIT}{} events recorded", store.data().max_events);
        store.data_mut().stop = Some(m.clone());
        return Err(wasmtime::Error::msg(m));
    }
    store.data_mut().events.push(Event::ImportCall {
        module: inst.to_string(),
        name: name.to_string(),
        args,
        reads: Vec::new(),
    });
    let mut host = store
        .data_mut()
        .host
        .take()
        .expect("a host while recording");
    let out = host.call(
        &mut HostCx {
            store: store.as_context_mut(),
        },
        inst,
        name,
        fty,
        params,
        results,
    );
    store.data_mut().host = Some(host);
    match out {
        Ok(()) => {
            let texts = print_all(&mut store, results, rtypes).map_err(wasmtime::Error::msg)?;
            store.data_mut().events.push(Event::ImportRet {
                results: texts,
                writes: Vec::new(),
                grow: None,
            });
            Ok(())
        }
        Err(m) => {
            store.data_mut().stop = Some(m.clone());
            Err(wasmtime::Error::msg(m))
        }
    }
}

fn resource_drop(
    mut store: StoreContextMut<'_, CState>,
    inst: &str,
    name: &str,
    rep: u32,
) -> wasmtime::Result<()> {
    let args = vec![format!("own-h{rep}")];
    if store.data().replay.is_some() {
        let (events, pos) = {
            let c = store.data().replay.as_ref().expect("replaying");
            (c.events.clone(), c.pos)
        };
        let ok = matches!(events.get(pos), Some(Event::ImportCall { module, name: n, args: a, .. }) if module == inst && n == name && *a == args)
            && matches!(events.get(pos + 1), Some(Event::ImportRet { .. }));
        if !ok {
            let e = events
                .get(pos)
                .map_or("the end of the trace".into(), |e| e.describe());
            return Err(diverge(
                &mut store,
                e,
                format!("import-call {}({})", qualified(inst, name), args[0]),
            ));
        }
        store.data_mut().replay.as_mut().expect("replaying").pos = pos + 2;
        return Ok(());
    }
    store.data_mut().events.push(Event::ImportCall {
        module: inst.to_string(),
        name: name.to_string(),
        args,
        reads: Vec::new(),
    });
    if let Some(mut host) = store.data_mut().host.take() {
        let out = host.drop_resource(
            &mut HostCx {
                store: store.as_context_mut(),
            },
            rep,
        );
        store.data_mut().host = Some(host);
        if let Err(m) = out {
            store.data_mut().stop = Some(m.clone());
            return Err(wasmtime::Error::msg(m));
        }
    }
    store.data_mut().events.push(Event::ImportRet {
        results: Vec::new(),
        writes: Vec::new(),
        grow: None,
    });
    Ok(())
}

/// A component replay that matched its trace.
#[derive(Debug)]
pub struct ComponentReplay {
    /// How the run ended.
    pub end: End,
    /// Number of events replayed.
    pub events: usize,
    /// What a WASI 0.2 program wrote to its standard output, reproduced from the trace.
    pub stdout: Vec<u8>,
    /// What it wrote to its standard error.
    pub stderr: Vec<u8>,
}

/// Replays a component trace (recorded on another build when `other_build`).
pub fn replay_component(
    wasm: &[u8],
    trace: &Trace,
    other_build: bool,
) -> Result<ComponentReplay, RrError> {
    ComponentRunner::new(wasm, false)?.replay_with(trace, other_build)
}

/// Generates component values from types, bounded in size and depth.
pub struct ComponentGen {
    gen: ValueGen,
    max_size: usize,
    max_depth: usize,
    next_rep: u32,
}

impl ComponentGen {
    /// A generator.
    pub fn new(seed: u64, dict: Vec<i64>, max_size: usize, max_depth: usize) -> Self {
        ComponentGen {
            gen: ValueGen::new(seed, dict),
            max_size,
            max_depth,
            next_rep: 1,
        }
    }

    /// A value of type `ty`; `own` resources are made with `cx` when given.
    pub fn value(
        &mut self,
        ty: &Type,
        depth: usize,
        cx: Option<&mut HostCx<'_>>,
    ) -> Result<Val, String> {
        let deep = depth >= self.max_depth;
        let g = &mut self.gen;
        Ok(match ty {
            Type::Bool => Val::Bool(g.rng().gen()),
            Type::S8 => Val::S8(g.int(32) as i8),
            Type::U8 => Val::U8(g.int(32) as u8),
            Type::S16 => Val::S16(g.int(32) as i16),
            Type::U16 => Val::U16(g.int(32) as u16),
            Type::S32 => Val::S32(g.int(32) as i32),
            Type::U32 => Val::U32(g.int(32) as u32),
            Type::S64 => Val::S64(g.int(64)),
            Type::U64 => Val::U64(g.int(64) as u64),
            Type::Float32 => Val::Float32(f32::from_bits(g.float_bits(32) as u32)),
            Type::Float64 => Val::Float64(f64::from_bits(g.float_bits(64))),
            Type::Char => Val::Char(self.char()),
            Type::String => {
                let n = if deep {
                    0
                } else {
                    self.gen.rng().gen_range(0..=self.max_size)
                };
                Val::String((0..n).map(|_| self.char()).collect())
            }
            Type::List(l) => {
                let n = if deep {
                    0
                } else {
                    self.gen.rng().gen_range(0..=self.max_size)
                };
                let t = l.ty();
                let mut cx = cx;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value(&t, depth + 1, cx.as_deref_mut())?);
                }
                Val::List(items)
            }
            Type::Record(r) => {
                let mut cx = cx;
                let mut fields = Vec::new();
                for f in r.fields() {
                    fields.push((
                        f.name.to_string(),
                        self.value(&f.ty, depth + 1, cx.as_deref_mut())?,
                    ));
                }
                Val::Record(fields)
            }
            Type::Tuple(t) => {
                let mut cx = cx;
                let mut items = Vec::new();
                for ty in t.types() {
                    items.push(self.value(&ty, depth + 1, cx.as_deref_mut())?);
                }
                Val::Tuple(items)
            }
            Type::Variant(v) => {
                let cases: Vec<_> = v.cases().map(|c| (c.name.to_string(), c.ty)).collect();
                let (name, ty) = cases[self.gen.rng().gen_range(0..cases.len())].clone();
                let payload = match ty {
                    Some(t) => Some(Box::new(self.value(&t, depth + 1, cx)?)),
                    None => None,
                };
                Val::Variant(name, payload)
            }
            Type::Enum(e) => {
                let names: Vec<&str> = e.names().collect();
                Val::Enum(names[self.gen.rng().gen_range(0..names.len())].to_string())
            }
            Type::Option(o) => {
                if deep || self.gen.rng().gen_range(0..3) == 0 {
                    Val::Option(None)
                } else {
                    Val::Option(Some(Box::new(self.value(&o.ty(), depth + 1, cx)?)))
                }
            }
            Type::Result(r) => {
                let ok = self.gen.rng().gen::<bool>();
                let t = if ok { r.ok() } else { r.err() };
                let payload = match t {
                    Some(t) => Some(Box::new(self.value(&t, depth + 1, cx)?)),
                    None => None,
                };
                Val::Result(if ok { Ok(payload) } else { Err(payload) })
            }
            Type::Flags(f) => {
                let names: Vec<String> = f.names().map(String::from).collect();
                Val::Flags(names.into_iter().filter(|_| self.gen.rng().gen()).collect())
            }
            Type::Own(rt) => {
                let cx = cx.ok_or("cannot generate a resource here")?;
                let n = cx.store.data().resource_types.len() as u32;
                let ty = (0..n)
                    .find(|&i| ResourceType::host_dynamic(i) == *rt)
                    .unwrap_or(0);
                let rep = self.next_rep;
                self.next_rep += 1;
                new_host_resource(&mut cx.store, ty, rep)?
            }
            other => return Err(format!("cannot generate values of type {other:?}")),
        })
    }

    fn char(&mut self) -> char {
        let r = self.gen.rng();
        if r.gen_range(0..8) == 0 {
            char::from_u32(r.gen_range(0x80..0xd800)).unwrap_or('?')
        } else {
            r.gen_range(b' '..=b'~') as char
        }
    }
}

/// A host answering every import with generated results.
pub struct FuzzComponentHost {
    gen: ComponentGen,
}

impl FuzzComponentHost {
    /// A seeded host (values size- and depth-bounded).
    pub fn new(seed: u64, max_size: usize, max_depth: usize) -> Self {
        FuzzComponentHost {
            gen: ComponentGen::new(seed, Vec::new(), max_size, max_depth),
        }
    }
}

/// Splits `name(v1, v2)` (WAVE arguments) into the name and the argument texts.
pub fn parse_invocation(text: &str) -> Result<(String, Vec<String>), RrError> {
    let bad =
        |m: &str| RrError::Input(format!("`{text}`: {m} (expected `name(arg, ...)` in WAVE)"));
    let text = text.trim();
    let open = text.find('(').ok_or_else(|| bad("no `(`"))?;
    if !text.ends_with(')') {
        return Err(bad("no closing `)`"));
    }
    let name = text[..open].trim().to_string();
    let inner = &text[open + 1..text.len() - 1];
    // Split on top-level commas (outside brackets and strings).
    let (mut args, mut depth, mut quoted, mut escaped, mut cur) =
        (Vec::new(), 0i32, false, false, String::new());
    for c in inner.chars() {
        if quoted {
            cur.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                args.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() || !args.is_empty() {
        args.push(cur.trim().to_string());
    }
    Ok((name, args))
}

impl ComponentHost for FuzzComponentHost {
    fn call(
        &mut self,
        cx: &mut HostCx<'_>,
        _instance: &str,
        _name: &str,
        ty: &ComponentFunc,
        _args: &[Val],
        results: &mut [Val],
    ) -> Result<(), String> {
        for (r, t) in results.iter_mut().zip(ty.results()) {
            *r = self.gen.value(&t, 0, Some(cx))?;
        }
        Ok(())
    }
}

fn has_resource(ty: &Type) -> bool {
    match ty {
        Type::Own(_) | Type::Borrow(_) => true,
        Type::List(l) => has_resource(&l.ty()),
        Type::Record(r) => r.fields().any(|f| has_resource(&f.ty)),
        Type::Tuple(t) => t.types().any(|t| has_resource(&t)),
        Type::Variant(v) => v.cases().any(|c| c.ty.as_ref().is_some_and(has_resource)),
        Type::Option(o) => has_resource(&o.ty()),
        Type::Result(r) => {
            r.ok().as_ref().is_some_and(has_resource) || r.err().as_ref().is_some_and(has_resource)
        }
        _ => false,
    }
}

/// Fuzzes a component: export arguments and import results generated from their types.
pub fn fuzz_component(wasm: &[u8], opts: &FuzzOptions) -> Result<FuzzReport, RrError> {
    let mut runner = ComponentRunner::new(wasm, true)?;
    runner.max_events = opts.max_events;
    let dict = harvest_constants(wasm);
    let targets: Vec<(String, ComponentFunc)> = runner
        .exports()
        .into_iter()
        .filter(|(n, t)| {
            opts.export.as_ref().is_none_or(|e| e == n)
                && !t.params().any(|(_, p)| has_resource(&p))
        })
        .collect();
    if targets.is_empty() {
        return Err(RrError::Input(
            "the component exports no function that can be fuzzed".into(),
        ));
    }
    if let Some(dir) = &opts.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| RrError::Io {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let mut report = FuzzReport::default();
    for run in 0..opts.iterations {
        let run_seed = opts
            .seed
            .wrapping_mul(0x9e37_79b9_7f4a_7c15)
            .wrapping_add(run);
        let mut gen = ComponentGen::new(run_seed, dict.clone(), opts.max_size, opts.max_depth);
        let n = gen.gen.rng().gen_range(1..=opts.max_calls.max(1));
        let mut calls = Vec::new();
        for _ in 0..n {
            let (name, ty) = &targets[gen.gen.rng().gen_range(0..targets.len())];
            let mut args = Vec::new();
            for (_, t) in ty.params() {
                let v = gen.value(&t, 0, None).map_err(RrError::Input)?;
                args.push(
                    cvalue::print(&v, &t, &mut |_, _| Err("no resources".into()))
                        .map_err(RrError::Input)?,
                );
            }
            calls.push((name.clone(), args));
        }
        let host = FuzzComponentHost {
            gen: ComponentGen::new(
                run_seed ^ 0x5151_5151,
                dict.clone(),
                opts.max_size,
                opts.max_depth,
            ),
        };
        let (trace, end) = runner.record(Box::new(host), &calls, Some(opts.fuel))?;
        report.runs += 1;
        match end {
            End::Exit(_) => report.passed += 1,
            End::Trap(m) if m.contains("fuel") || m.starts_with(LIMIT) => report.out_of_fuel += 1,
            End::Trap(message) => {
                let path = match &opts.out_dir {
                    Some(dir) => {
                        let p = dir.join(format!("failure-{run}.jsonl"));
                        trace.write(&p)?;
                        Some(p)
                    }
                    None => None,
                };
                report.failures.push(Failure {
                    run,
                    message,
                    trace,
                    path,
                });
            }
        }
    }
    Ok(report)
}
