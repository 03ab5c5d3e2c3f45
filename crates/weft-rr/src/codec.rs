//! Core values as text.
//!
//! Integers are WAVE integers (`-5`); floats are WAVE floats (`1.5`, `-0.0`, `1e300`, `inf`,
//! `-inf`) written with the shortest decimal that reads back to the same bits, and NaNs use the
//! bit-exact extension `nan:0x7fc00000` (payload and sign kept). `v128` is `v128:0x` and 32
//! hex digits (little-endian lane order as in memory); null references are `null`.

use wasmtime::{Val, ValType};

/// Text of a core value.
pub fn encode(v: &Val) -> String {
    match v {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(b) => encode_f32(*b),
        Val::F64(b) => encode_f64(*b),
        Val::V128(x) => format!("v128:0x{}", crate::hex(&x.as_u128().to_le_bytes())),
        Val::FuncRef(None) | Val::ExternRef(None) | Val::AnyRef(None) | Val::ExnRef(None) => {
            "null".into()
        }
        _ => "ref".into(),
    }
}

/// Text of an `f32` given by its bits.
pub fn encode_f32(bits: u32) -> String {
    let f = f32::from_bits(bits);
    if f.is_nan() {
        format!("nan:0x{bits:08x}")
    } else {
        format!("{f:?}")
    }
}

/// Text of an `f64` given by its bits.
pub fn encode_f64(bits: u64) -> String {
    let f = f64::from_bits(bits);
    if f.is_nan() {
        format!("nan:0x{bits:016x}")
    } else {
        format!("{f:?}")
    }
}

/// Reads a value of type `ty`; the message says what is wrong.
pub fn decode(s: &str, ty: &ValType) -> Result<Val, String> {
    let bad = || format!("`{s}` is not a valid {ty}");
    Ok(match ty {
        ValType::I32 => Val::I32(s.parse::<i32>().map_err(|_| bad())?),
        ValType::I64 => Val::I64(s.parse::<i64>().map_err(|_| bad())?),
        ValType::F32 => Val::F32(match s.strip_prefix("nan:0x") {
            Some(h) => u32::from_str_radix(h, 16)
                .ok()
                .filter(|b| f32::from_bits(*b).is_nan())
                .ok_or_else(bad)?,
            None if s == "nan" => f32::NAN.to_bits(),
            None => s.parse::<f32>().map_err(|_| bad())?.to_bits(),
        }),
        ValType::F64 => Val::F64(match s.strip_prefix("nan:0x") {
            Some(h) => u64::from_str_radix(h, 16)
                .ok()
                .filter(|b| f64::from_bits(*b).is_nan())
                .ok_or_else(bad)?,
            None if s == "nan" => f64::NAN.to_bits(),
            None => s.parse::<f64>().map_err(|_| bad())?.to_bits(),
        }),
        ValType::V128 => {
            let bytes = s
                .strip_prefix("v128:0x")
                .and_then(crate::unhex)
                .filter(|b| b.len() == 16)
                .ok_or_else(bad)?;
            let mut a = [0u8; 16];
            a.copy_from_slice(&bytes);
            Val::V128(u128::from_le_bytes(a).into())
        }
        ValType::Ref(r) if s == "null" && r.is_nullable() => Val::null_ref(r.heap_type()),
        _ => return Err(format!("values of type {ty} cannot be replayed (`{s}`)")),
    })
}

/// Whether two core values are bit-identical (NaN payloads included).
pub fn same(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::I32(x), Val::I32(y)) => x == y,
        (Val::I64(x), Val::I64(y)) => x == y,
        (Val::F32(x), Val::F32(y)) => x == y,
        (Val::F64(x), Val::F64(y)) => x == y,
        (Val::V128(x), Val::V128(y)) => x.as_u128() == y.as_u128(),
        _ => encode(a) == encode(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_bit_exact() {
        for bits in [
            0u32,
            0x8000_0000,
            0x7fc0_0000,
            0xffc0_0001,
            0x7f80_0000,
            1,
            0x3fc0_0000,
        ] {
            let t = encode_f32(bits);
            match decode(&t, &ValType::F32).unwrap() {
                Val::F32(b) => assert_eq!(b, bits, "{t}"),
                _ => unreachable!(),
            }
        }
        for bits in [
            0u64,
            1 << 63,
            0x7ff8_0000_0000_0001,
            0xfff0_0000_0000_0000,
            1,
            0x4000_0000_0000_0000,
        ] {
            let t = encode_f64(bits);
            match decode(&t, &ValType::F64).unwrap() {
                Val::F64(b) => assert_eq!(b, bits, "{t}"),
                _ => unreachable!(),
            }
        }
        assert_eq!(encode_f64((-0.0f64).to_bits()), "-0.0");
        assert_eq!(encode_f64(1e300f64.to_bits()), "1e300");
        assert!(decode("nan:0x00000001", &ValType::F32).is_err());
        assert!(decode("12x", &ValType::I32).is_err());
    }
}
