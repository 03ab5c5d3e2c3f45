//! The scalar operators the generator offers, taken from weft's operator table
//! (`weft_core::for_each_op!`), and their binary encodings (wasm-encoder instructions with the
//! same variant names). Nothing here says what an operator computes: the engine does.

use std::sync::OnceLock;
use wasm_encoder::{Instruction, MemArg};
use weft_core::{BinaryOp, LoadOp, StoreOp, UnaryOp, ValType};

macro_rules! gen_tables {
    (
        { }
        unary { $($u:ident $un:literal $ua:ident -> $ur:ident,)* }
        binary { $($b:ident $bn:literal $ba:ident $bb:ident -> $br:ident,)* }
        ternary { $($t:ident $tn:literal $ta:ident $tb:ident $tc:ident -> $tr:ident,)* }
        unary_lane { $($ul:ident $uln:literal $ula:ident -> $ulr:ident,)* }
        binary_lane { $($bl:ident $bln:literal $bla:ident $blb:ident -> $blr:ident,)* }
        load { $($l:ident $ln:literal $lw:literal -> $lr:ident,)* }
        store { $($s:ident $sn:literal $sa:ident $sw:literal,)* }
        load_lane { $($ll:ident $lln:literal $llw:literal,)* }
        store_lane { $($sl:ident $sln:literal $slw:literal,)* }
    ) => {
        /// Every unary operator of the table (scalar and SIMD).
        const ALL_UNARY: &[UnaryOp] = &[$(UnaryOp::$u,)*];
        /// Every binary operator of the table (scalar and SIMD).
        const ALL_BINARY: &[BinaryOp] = &[$(BinaryOp::$b,)*];
        /// Every load.
        const ALL_LOAD: &[LoadOp] = &[$(LoadOp::$l,)*];
        /// Every store.
        const ALL_STORE: &[StoreOp] = &[$(StoreOp::$s,)*];

        /// The encoder instruction of a unary operator without lane immediate.
        pub fn unary_instr(op: UnaryOp) -> Instruction<'static> {
            match op {
                $(UnaryOp::$u => Instruction::$u,)*
                _ => Instruction::Unreachable,
            }
        }
        /// The encoder instruction of a binary operator without lane immediate.
        pub fn binary_instr(op: BinaryOp) -> Instruction<'static> {
            match op {
                $(BinaryOp::$b => Instruction::$b,)*
                _ => Instruction::Unreachable,
            }
        }
        /// The encoder instruction of a load.
        pub fn load_instr(op: LoadOp, m: MemArg) -> Instruction<'static> {
            match op { $(LoadOp::$l => Instruction::$l(m),)* }
        }
        /// The encoder instruction of a store.
        pub fn store_instr(op: StoreOp, m: MemArg) -> Instruction<'static> {
            match op { $(StoreOp::$s => Instruction::$s(m),)* }
        }
    };
}
weft_core::for_each_op!(gen_tables {});

fn scalar(t: ValType) -> bool {
    matches!(t, ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64)
}

/// Scalar unary operators (operand and result are i32/i64/f32/f64).
pub fn unary_ops() -> impl Iterator<Item = UnaryOp> {
    ALL_UNARY
        .iter()
        .copied()
        .filter(|o| scalar(o.operand_type()) && scalar(o.result_type()))
}

/// Scalar binary operators.
pub fn binary_ops() -> impl Iterator<Item = BinaryOp> {
    ALL_BINARY.iter().copied().filter(|o| {
        let [a, b] = o.operand_types();
        scalar(a) && scalar(b) && scalar(o.result_type())
    })
}

const SCALARS: [ValType; 4] = [ValType::I32, ValType::I64, ValType::F32, ValType::F64];

fn scalar_index(t: ValType) -> Option<usize> {
    SCALARS.iter().position(|s| *s == t)
}

/// Scalar unary operators whose operand has type `t` (computed once; the generator asks at
/// every step).
pub fn unary_ops_on(t: ValType) -> &'static [UnaryOp] {
    static BY_TYPE: OnceLock<[Vec<UnaryOp>; 4]> = OnceLock::new();
    let tables = BY_TYPE
        .get_or_init(|| SCALARS.map(|t| unary_ops().filter(|o| o.operand_type() == t).collect()));
    scalar_index(t).map_or(&[], |i| &tables[i])
}

/// Scalar binary operators whose operands have types `a` (below) and `b` (on top).
pub fn binary_ops_on(a: ValType, b: ValType) -> &'static [BinaryOp] {
    static BY_TYPES: OnceLock<Vec<Vec<BinaryOp>>> = OnceLock::new();
    let tables = BY_TYPES.get_or_init(|| {
        let mut t = Vec::new();
        for a in SCALARS {
            for b in SCALARS {
                t.push(
                    binary_ops()
                        .filter(|o| o.operand_types() == [a, b])
                        .collect(),
                );
            }
        }
        t
    });
    match (scalar_index(a), scalar_index(b)) {
        (Some(i), Some(j)) => &tables[i * 4 + j],
        _ => &[],
    }
}

/// Scalar loads.
pub fn load_ops() -> impl Iterator<Item = LoadOp> {
    ALL_LOAD.iter().copied().filter(|o| scalar(o.result_type()))
}

/// Scalar stores.
pub fn store_ops() -> impl Iterator<Item = StoreOp> {
    ALL_STORE
        .iter()
        .copied()
        .filter(|o| scalar(o.operand_type()))
}

/// The natural alignment exponent of an access of `width` bytes.
pub fn align_of(width: u32) -> u32 {
    width.trailing_zeros()
}
