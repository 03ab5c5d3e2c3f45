//! Component values as WAVE text, typed by their component type.
//!
//! Everything is plain WAVE (`{name: "x", tags: [1, 2]}`, `some(ok(3))`, `{read, write}`)
//! except resource handles, which WAVE does not cover: the extension writes them as labels,
//! `own-h3` / `borrow-h3` for the host's resource with representation 3 and `own-g1` /
//! `borrow-g1` for the first guest resource the host saw, so labels are stable between a
//! recording and its replay. Floats are written as the shortest decimal that reads back to
//! the same bits; NaNs are written `nan` (the component model does not keep NaN payloads
//! across the boundary).

use wasmtime::component::wasm_wave;
use wasmtime::component::wasm_wave::ast::{Node, NodeType};
use wasmtime::component::{Type, Val};

/// A resource handle as the extension writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Handle {
    /// `own` (true) or `borrow`.
    pub own: bool,
    /// `h3`, `g1`.
    pub label: String,
}

impl Handle {
    /// The label text, `own-h3`.
    pub fn text(&self) -> String {
        format!("{}-{}", if self.own { "own" } else { "borrow" }, self.label)
    }
}

const KEYWORDS: &[&str] = &["true", "false", "some", "none", "ok", "err", "inf", "nan"];

fn label(name: &str) -> String {
    if KEYWORDS.contains(&name) {
        format!("%{name}")
    } else {
        name.to_string()
    }
}

fn float(f: f64, is32: bool) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        }
    } else if is32 {
        format!("{:?}", f as f32)
    } else {
        format!("{f:?}")
    }
}

/// Writes `v` (of type `ty`); `handle` names a resource value.
pub fn print(
    v: &Val,
    ty: &Type,
    handle: &mut dyn FnMut(&Val, bool) -> Result<Handle, String>,
) -> Result<String, String> {
    let list = |items: &[Val],
                t: &Type,
                h: &mut dyn FnMut(&Val, bool) -> Result<Handle, String>|
     -> Result<String, String> {
        let parts = items
            .iter()
            .map(|x| print(x, t, h))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(parts.join(", "))
    };
    Ok(match (v, ty) {
        (Val::Bool(b), _) => b.to_string(),
        (Val::S8(x), _) => x.to_string(),
        (Val::U8(x), _) => x.to_string(),
        (Val::S16(x), _) => x.to_string(),
        (Val::U16(x), _) => x.to_string(),
        (Val::S32(x), _) => x.to_string(),
        (Val::U32(x), _) => x.to_string(),
        (Val::S64(x), _) => x.to_string(),
        (Val::U64(x), _) => x.to_string(),
        (Val::Float32(x), _) => float(*x as f64, true),
        (Val::Float64(x), _) => float(*x, false),
        (Val::Char(_), _) | (Val::String(_), _) => {
            wasm_wave::to_string(v).map_err(|e| e.to_string())?
        }
        (Val::List(items), Type::List(l)) => format!("[{}]", list(items, &l.ty(), handle)?),
        (Val::Tuple(items), Type::Tuple(t)) => {
            let parts = items
                .iter()
                .zip(t.types())
                .map(|(x, t)| print(x, &t, handle))
                .collect::<Result<Vec<_>, _>>()?;
            format!("({})", parts.join(", "))
        }
        (Val::Record(fields), Type::Record(r)) => {
            let parts = fields
                .iter()
                .zip(r.fields())
                .map(|((n, x), f)| Ok(format!("{}: {}", label(n), print(x, &f.ty, handle)?)))
                .collect::<Result<Vec<_>, String>>()?;
            format!("{{{}}}", parts.join(", "))
        }
        (Val::Variant(case, payload), Type::Variant(var)) => {
            let c = var
                .cases()
                .find(|c| c.name == case)
                .ok_or_else(|| format!("no case {case}"))?;
            match (payload, c.ty) {
                (Some(p), Some(t)) => format!("{}({})", label(case), print(p, &t, handle)?),
                _ => label(case),
            }
        }
        (Val::Enum(case), _) => label(case),
        (Val::Option(None), _) => "none".into(),
        (Val::Option(Some(x)), Type::Option(o)) => format!("some({})", print(x, &o.ty(), handle)?),
        (Val::Result(r), Type::Result(rt)) => {
            let (word, payload, t) = match r {
                Ok(p) => ("ok", p, rt.ok()),
                Err(p) => ("err", p, rt.err()),
            };
            match (payload, t) {
                (Some(p), Some(t)) => format!("{word}({})", print(p, &t, handle)?),
                _ => word.to_string(),
            }
        }
        (Val::Flags(names), _) => {
            let parts: Vec<String> = names.iter().map(|n| label(n)).collect();
            format!("{{{}}}", parts.join(", "))
        }
        (Val::Resource(_), Type::Own(_)) => handle(v, true)?.text(),
        (Val::Resource(_), Type::Borrow(_)) => handle(v, false)?.text(),
        (v, t) => return Err(format!("cannot write {v:?} as {t:?}")),
    })
}

/// Reads a value of type `ty`; `handle` turns a resource label into a value.
pub fn parse(
    text: &str,
    ty: &Type,
    handle: &mut dyn FnMut(&Handle, &Type) -> Result<Val, String>,
) -> Result<Val, String> {
    let untyped =
        wasm_wave::untyped::UntypedValue::parse(text).map_err(|e| format!("`{text}`: {e}"))?;
    let src = untyped.source().to_string();
    walk(untyped.node(), &src, ty, handle).map_err(|e| format!("`{text}`: {e}"))
}

fn slice<'a>(n: &Node, src: &'a str) -> &'a str {
    &src[n.span()]
}

fn unlabel(s: &str) -> &str {
    s.strip_prefix('%').unwrap_or(s)
}

fn walk(
    n: &Node,
    src: &str,
    ty: &Type,
    handle: &mut dyn FnMut(&Handle, &Type) -> Result<Val, String>,
) -> Result<Val, String> {
    let e = |x: wasm_wave::parser::ParserError| x.to_string();
    Ok(match ty {
        Type::Bool => Val::Bool(n.as_bool().map_err(e)?),
        Type::S8 => Val::S8(n.as_number(src).map_err(e)?),
        Type::U8 => Val::U8(n.as_number(src).map_err(e)?),
        Type::S16 => Val::S16(n.as_number(src).map_err(e)?),
        Type::U16 => Val::U16(n.as_number(src).map_err(e)?),
        Type::S32 => Val::S32(n.as_number(src).map_err(e)?),
        Type::U32 => Val::U32(n.as_number(src).map_err(e)?),
        Type::S64 => Val::S64(n.as_number(src).map_err(e)?),
        Type::U64 => Val::U64(n.as_number(src).map_err(e)?),
        Type::Float32 => Val::Float32(n.as_number(src).map_err(e)?),
        Type::Float64 => Val::Float64(n.as_number(src).map_err(e)?),
        Type::Char => Val::Char(n.as_char(src).map_err(e)?),
        Type::String => Val::String(n.as_str(src).map_err(e)?.into_owned()),
        Type::List(l) => {
            let t = l.ty();
            Val::List(
                n.as_list()
                    .map_err(e)?
                    .map(|x| walk(x, src, &t, handle))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Tuple(t) => {
            let items: Vec<&Node> = n.as_tuple().map_err(e)?.collect();
            if items.len() != t.types().len() {
                return Err(format!(
                    "tuple of {} where {} expected",
                    items.len(),
                    t.types().len()
                ));
            }
            Val::Tuple(
                items
                    .into_iter()
                    .zip(t.types())
                    .map(|(x, t)| walk(x, src, &t, handle))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(r) => {
            let given: Vec<(&str, &Node)> = n.as_record(src).map_err(e)?.collect();
            let mut out = Vec::new();
            for f in r.fields() {
                let (_, x) = given
                    .iter()
                    .find(|(name, _)| unlabel(name) == f.name)
                    .ok_or_else(|| format!("missing field {}", f.name))?;
                out.push((f.name.to_string(), walk(x, src, &f.ty, handle)?));
            }
            if given.len() != out.len() {
                return Err("unknown record field".into());
            }
            Val::Record(out)
        }
        Type::Variant(v) => {
            let (case, payload) = n.as_variant(src).map_err(e)?;
            let c = v
                .cases()
                .find(|c| c.name == case)
                .ok_or_else(|| format!("no case {case}"))?;
            let p = match (payload, c.ty) {
                (Some(x), Some(t)) => Some(Box::new(walk(x, src, &t, handle)?)),
                (None, None) => None,
                _ => return Err(format!("payload of case {case}")),
            };
            Val::Variant(case.to_string(), p)
        }
        Type::Enum(en) => {
            let case = n.as_enum(src).map_err(e)?;
            if !en.names().any(|x| x == case) {
                return Err(format!("no case {case}"));
            }
            Val::Enum(case.to_string())
        }
        Type::Option(o) => Val::Option(match n.as_option().map_err(e)? {
            Some(x) => Some(Box::new(walk(x, src, &o.ty(), handle)?)),
            None => None,
        }),
        Type::Result(rt) => {
            let one = |p: Option<&Node>,
                       t: Option<Type>,
                       h: &mut dyn FnMut(&Handle, &Type) -> Result<Val, String>|
             -> Result<Option<Box<Val>>, String> {
                match (p, t) {
                    (Some(x), Some(t)) => Ok(Some(Box::new(walk(x, src, &t, h)?))),
                    (None, None) => Ok(None),
                    _ => Err("result payload".into()),
                }
            };
            Val::Result(match n.as_result().map_err(e)? {
                Ok(p) => Ok(one(p, rt.ok(), handle)?),
                Err(p) => Err(one(p, rt.err(), handle)?),
            })
        }
        Type::Flags(f) => {
            let names: Vec<String> = n
                .as_flags(src)
                .map_err(e)?
                .map(|s| unlabel(s).to_string())
                .collect();
            for x in &names {
                if !f.names().any(|y| y == x) {
                    return Err(format!("no flag {x}"));
                }
            }
            Val::Flags(names)
        }
        Type::Own(_) | Type::Borrow(_) => {
            if n.ty() != NodeType::Label {
                return Err("expected a resource label (own-h1, borrow-g2)".into());
            }
            let text = slice(n, src);
            let (kind, label) = text
                .split_once('-')
                .ok_or_else(|| format!("bad resource label {text}"))?;
            let own = match kind {
                "own" => true,
                "borrow" => false,
                _ => return Err(format!("bad resource label {text}")),
            };
            handle(
                &Handle {
                    own,
                    label: label.to_string(),
                },
                ty,
            )?
        }
        other => return Err(format!("values of type {other:?} are not supported")),
    })
}
