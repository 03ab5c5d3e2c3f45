//! Concrete typed values, printed exactly.

use crate::types::ValType;
use std::fmt;

/// A reference value as stored in tables: null, a function (store address) or a host value.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefValue {
    /// A null reference of either reference type.
    Null,
    /// A function, by its address in the store.
    Func(u32),
    /// An external (host) reference, by its host-chosen number.
    Extern(u32),
}

/// A concrete WebAssembly value. Floats are kept as bits so NaN payloads survive.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Val {
    /// i32 value.
    I32(i32),
    /// i64 value.
    I64(i64),
    /// f32 value, as IEEE bits.
    F32(u32),
    /// f64 value, as IEEE bits.
    F64(u64),
    /// v128 value, little-endian lanes.
    V128(u128),
    /// funcref value.
    FuncRef(Option<u32>),
    /// externref value.
    ExternRef(Option<u32>),
}

impl Val {
    /// The value's type.
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
        }
    }

    /// The zero (default) value of a type: 0, +0.0 or null.
    pub fn default_of(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
        }
    }

    /// Parses the CLI form of a value of type `ty`: integers in decimal (signed or unsigned)
    /// or `0x` hex, floats in decimal, `inf`, `nan`, or raw bits as `0x...` with a `bits:`
    /// prefix, references as `null` or a number.
    pub fn parse(ty: ValType, text: &str) -> Result<Val, String> {
        let bad = || format!("`{text}` is not a valid {ty} value");
        let int = |t: &str| -> Option<i128> {
            let (neg, t) = match t.strip_prefix('-') {
                Some(r) => (true, r),
                None => (false, t.strip_prefix('+').unwrap_or(t)),
            };
            let t = t.replace('_', "");
            let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
                i128::from_str_radix(h, 16).ok()?
            } else {
                t.parse::<i128>().ok()?
            };
            Some(if neg { -v } else { v })
        };
        Ok(match ty {
            ValType::I32 => {
                let v = int(text).ok_or_else(bad)?;
                if !(i32::MIN as i128..=u32::MAX as i128).contains(&v) {
                    return Err(format!("`{text}` does not fit in i32"));
                }
                Val::I32(v as i32)
            }
            ValType::I64 => {
                let v = int(text).ok_or_else(bad)?;
                if !(i64::MIN as i128..=u64::MAX as i128).contains(&v) {
                    return Err(format!("`{text}` does not fit in i64"));
                }
                Val::I64(v as i64)
            }
            ValType::F32 => match text.strip_prefix("bits:") {
                Some(b) => Val::F32(int(b).ok_or_else(bad)? as u32),
                None => Val::F32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
            },
            ValType::F64 => match text.strip_prefix("bits:") {
                Some(b) => Val::F64(int(b).ok_or_else(bad)? as u64),
                None => Val::F64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
            },
            ValType::V128 => Val::V128(int(text).ok_or_else(bad)? as u128),
            ValType::FuncRef | ValType::ExternRef => {
                let r = if text == "null" {
                    None
                } else {
                    Some(text.parse::<u32>().map_err(|_| bad())?)
                };
                if ty == ValType::FuncRef {
                    Val::FuncRef(r)
                } else {
                    Val::ExternRef(r)
                }
            }
        })
    }
}

fn fmt_f32(bits: u32, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let v = f32::from_bits(bits);
    if v.is_nan() {
        write!(f, "nan:0x{bits:08x}")
    } else {
        write!(f, "{v:?}")
    }
}

fn fmt_f64(bits: u64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let v = f64::from_bits(bits);
    if v.is_nan() {
        write!(f, "nan:0x{bits:016x}")
    } else {
        write!(f, "{v:?}")
    }
}

impl fmt::Display for Val {
    /// `i32:5`, `f64:-0.0`, `f32:nan:0x7fc00000`, `v128:0x...`, `funcref:null`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.ty())?;
        match *self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(b) => fmt_f32(b, f),
            Val::F64(b) => fmt_f64(b, f),
            Val::V128(v) => write!(f, "0x{v:032x}"),
            Val::FuncRef(r) | Val::ExternRef(r) => match r {
                None => write!(f, "null"),
                Some(i) => write!(f, "{i}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_exactly() {
        assert_eq!(Val::F64((-0.0f64).to_bits()).to_string(), "f64:-0.0");
        assert_eq!(Val::I32(-5).to_string(), "i32:-5");
        assert_eq!(Val::F32(0x7fc0_0001).to_string(), "f32:nan:0x7fc00001");
        assert_eq!(Val::FuncRef(None).to_string(), "funcref:null");
    }

    #[test]
    fn parses_cli_values() {
        assert_eq!(Val::parse(ValType::I32, "4294967295"), Ok(Val::I32(-1)));
        assert_eq!(Val::parse(ValType::I64, "-0x10"), Ok(Val::I64(-16)));
        assert_eq!(
            Val::parse(ValType::F32, "bits:0x7fc00000"),
            Ok(Val::F32(0x7fc0_0000))
        );
        assert!(Val::parse(ValType::I32, "4294967296").is_err());
        assert!(Val::parse(ValType::F64, "x").is_err());
    }
}
