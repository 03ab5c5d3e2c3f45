//! The operator table: every numeric, memory and SIMD operator of WebAssembly 2.0, listed
//! once with its text name and types.
//!
//! [`for_each_op!`](crate::for_each_op) hands the table to a callback macro. The enums below,
//! the engine's instruction set, its dispatch loop, lowering from wasmparser, printing and fuel
//! are all generated from this one list, so an operator is never written out by hand twice.
//! Variant names equal wasmparser's `Operator` variant names.
//!
//! Categories (operand types are popped left to right, the last one on top):
//! - `unary`: one operand, one result.
//! - `binary`: two operands, one result.
//! - `ternary`: three operands, one result.
//! - `unary_lane` / `binary_lane`: like unary/binary with a lane-index immediate.
//! - `load` / `store`: memory access with a `memarg`; the number is the access width in bytes.
//! - `load_lane` / `store_lane`: SIMD lane access with a `memarg` and a lane index.

/// Invokes `$cb! { { extra tokens } unary {..} binary {..} ... }` with the whole operator table.
///
/// The extra tokens, given as `for_each_op!(cb { ... })`, are passed through untouched so a
/// callback can splice the table into hand-written code.
#[macro_export]
macro_rules! for_each_op {
    ($cb:ident { $($extra:tt)* }) => {
        $cb! {
            { $($extra)* }
            unary {
                I32Eqz "i32.eqz" I32 -> I32,
                I64Eqz "i64.eqz" I64 -> I32,
                I32Clz "i32.clz" I32 -> I32,
                I32Ctz "i32.ctz" I32 -> I32,
                I32Popcnt "i32.popcnt" I32 -> I32,
                I64Clz "i64.clz" I64 -> I64,
                I64Ctz "i64.ctz" I64 -> I64,
                I64Popcnt "i64.popcnt" I64 -> I64,
                F32Abs "f32.abs" F32 -> F32,
                F32Neg "f32.neg" F32 -> F32,
                F32Ceil "f32.ceil" F32 -> F32,
                F32Floor "f32.floor" F32 -> F32,
                F32Trunc "f32.trunc" F32 -> F32,
                F32Nearest "f32.nearest" F32 -> F32,
                F32Sqrt "f32.sqrt" F32 -> F32,
                F64Abs "f64.abs" F64 -> F64,
                F64Neg "f64.neg" F64 -> F64,
                F64Ceil "f64.ceil" F64 -> F64,
                F64Floor "f64.floor" F64 -> F64,
                F64Trunc "f64.trunc" F64 -> F64,
                F64Nearest "f64.nearest" F64 -> F64,
                F64Sqrt "f64.sqrt" F64 -> F64,
                I32WrapI64 "i32.wrap_i64" I64 -> I32,
                I32TruncF32S "i32.trunc_f32_s" F32 -> I32,
                I32TruncF32U "i32.trunc_f32_u" F32 -> I32,
                I32TruncF64S "i32.trunc_f64_s" F64 -> I32,
                I32TruncF64U "i32.trunc_f64_u" F64 -> I32,
                I64ExtendI32S "i64.extend_i32_s" I32 -> I64,
                I64ExtendI32U "i64.extend_i32_u" I32 -> I64,
                I64TruncF32S "i64.trunc_f32_s" F32 -> I64,
                I64TruncF32U "i64.trunc_f32_u" F32 -> I64,
                I64TruncF64S "i64.trunc_f64_s" F64 -> I64,
                I64TruncF64U "i64.trunc_f64_u" F64 -> I64,
                F32ConvertI32S "f32.convert_i32_s" I32 -> F32,
                F32ConvertI32U "f32.convert_i32_u" I32 -> F32,
                F32ConvertI64S "f32.convert_i64_s" I64 -> F32,
                F32ConvertI64U "f32.convert_i64_u" I64 -> F32,
                F32DemoteF64 "f32.demote_f64" F64 -> F32,
                F64ConvertI32S "f64.convert_i32_s" I32 -> F64,
                F64ConvertI32U "f64.convert_i32_u" I32 -> F64,
                F64ConvertI64S "f64.convert_i64_s" I64 -> F64,
                F64ConvertI64U "f64.convert_i64_u" I64 -> F64,
                F64PromoteF32 "f64.promote_f32" F32 -> F64,
                I32ReinterpretF32 "i32.reinterpret_f32" F32 -> I32,
                I64ReinterpretF64 "i64.reinterpret_f64" F64 -> I64,
                F32ReinterpretI32 "f32.reinterpret_i32" I32 -> F32,
                F64ReinterpretI64 "f64.reinterpret_i64" I64 -> F64,
                I32Extend8S "i32.extend8_s" I32 -> I32,
                I32Extend16S "i32.extend16_s" I32 -> I32,
                I64Extend8S "i64.extend8_s" I64 -> I64,
                I64Extend16S "i64.extend16_s" I64 -> I64,
                I64Extend32S "i64.extend32_s" I64 -> I64,
                I32TruncSatF32S "i32.trunc_sat_f32_s" F32 -> I32,
                I32TruncSatF32U "i32.trunc_sat_f32_u" F32 -> I32,
                I32TruncSatF64S "i32.trunc_sat_f64_s" F64 -> I32,
                I32TruncSatF64U "i32.trunc_sat_f64_u" F64 -> I32,
                I64TruncSatF32S "i64.trunc_sat_f32_s" F32 -> I64,
                I64TruncSatF32U "i64.trunc_sat_f32_u" F32 -> I64,
                I64TruncSatF64S "i64.trunc_sat_f64_s" F64 -> I64,
                I64TruncSatF64U "i64.trunc_sat_f64_u" F64 -> I64,
                // @simd-unary (filled from the SIMD proposal)
            }
            binary {
                I32Eq "i32.eq" I32 I32 -> I32,
                I32Ne "i32.ne" I32 I32 -> I32,
                I32LtS "i32.lt_s" I32 I32 -> I32,
                I32LtU "i32.lt_u" I32 I32 -> I32,
                I32GtS "i32.gt_s" I32 I32 -> I32,
                I32GtU "i32.gt_u" I32 I32 -> I32,
                I32LeS "i32.le_s" I32 I32 -> I32,
                I32LeU "i32.le_u" I32 I32 -> I32,
                I32GeS "i32.ge_s" I32 I32 -> I32,
                I32GeU "i32.ge_u" I32 I32 -> I32,
                I64Eq "i64.eq" I64 I64 -> I32,
                I64Ne "i64.ne" I64 I64 -> I32,
                I64LtS "i64.lt_s" I64 I64 -> I32,
                I64LtU "i64.lt_u" I64 I64 -> I32,
                I64GtS "i64.gt_s" I64 I64 -> I32,
                I64GtU "i64.gt_u" I64 I64 -> I32,
                I64LeS "i64.le_s" I64 I64 -> I32,
                I64LeU "i64.le_u" I64 I64 -> I32,
                I64GeS "i64.ge_s" I64 I64 -> I32,
                I64GeU "i64.ge_u" I64 I64 -> I32,
                F32Eq "f32.eq" F32 F32 -> I32,
                F32Ne "f32.ne" F32 F32 -> I32,
                F32Lt "f32.lt" F32 F32 -> I32,
                F32Gt "f32.gt" F32 F32 -> I32,
                F32Le "f32.le" F32 F32 -> I32,
                F32Ge "f32.ge" F32 F32 -> I32,
                F64Eq "f64.eq" F64 F64 -> I32,
                F64Ne "f64.ne" F64 F64 -> I32,
                F64Lt "f64.lt" F64 F64 -> I32,
                F64Gt "f64.gt" F64 F64 -> I32,
                F64Le "f64.le" F64 F64 -> I32,
                F64Ge "f64.ge" F64 F64 -> I32,
                I32Add "i32.add" I32 I32 -> I32,
                I32Sub "i32.sub" I32 I32 -> I32,
                I32Mul "i32.mul" I32 I32 -> I32,
                I32DivS "i32.div_s" I32 I32 -> I32,
                I32DivU "i32.div_u" I32 I32 -> I32,
                I32RemS "i32.rem_s" I32 I32 -> I32,
                I32RemU "i32.rem_u" I32 I32 -> I32,
                I32And "i32.and" I32 I32 -> I32,
                I32Or "i32.or" I32 I32 -> I32,
                I32Xor "i32.xor" I32 I32 -> I32,
                I32Shl "i32.shl" I32 I32 -> I32,
                I32ShrS "i32.shr_s" I32 I32 -> I32,
                I32ShrU "i32.shr_u" I32 I32 -> I32,
                I32Rotl "i32.rotl" I32 I32 -> I32,
                I32Rotr "i32.rotr" I32 I32 -> I32,
                I64Add "i64.add" I64 I64 -> I64,
                I64Sub "i64.sub" I64 I64 -> I64,
                I64Mul "i64.mul" I64 I64 -> I64,
                I64DivS "i64.div_s" I64 I64 -> I64,
                I64DivU "i64.div_u" I64 I64 -> I64,
                I64RemS "i64.rem_s" I64 I64 -> I64,
                I64RemU "i64.rem_u" I64 I64 -> I64,
                I64And "i64.and" I64 I64 -> I64,
                I64Or "i64.or" I64 I64 -> I64,
                I64Xor "i64.xor" I64 I64 -> I64,
                I64Shl "i64.shl" I64 I64 -> I64,
                I64ShrS "i64.shr_s" I64 I64 -> I64,
                I64ShrU "i64.shr_u" I64 I64 -> I64,
                I64Rotl "i64.rotl" I64 I64 -> I64,
                I64Rotr "i64.rotr" I64 I64 -> I64,
                F32Add "f32.add" F32 F32 -> F32,
                F32Sub "f32.sub" F32 F32 -> F32,
                F32Mul "f32.mul" F32 F32 -> F32,
                F32Div "f32.div" F32 F32 -> F32,
                F32Min "f32.min" F32 F32 -> F32,
                F32Max "f32.max" F32 F32 -> F32,
                F32Copysign "f32.copysign" F32 F32 -> F32,
                F64Add "f64.add" F64 F64 -> F64,
                F64Sub "f64.sub" F64 F64 -> F64,
                F64Mul "f64.mul" F64 F64 -> F64,
                F64Div "f64.div" F64 F64 -> F64,
                F64Min "f64.min" F64 F64 -> F64,
                F64Max "f64.max" F64 F64 -> F64,
                F64Copysign "f64.copysign" F64 F64 -> F64,
                // @simd-binary
            }
            ternary {
                // @simd-ternary
            }
            unary_lane {
                // @simd-unary-lane
            }
            binary_lane {
                // @simd-binary-lane
            }
            load {
                I32Load "i32.load" 4 -> I32,
                I64Load "i64.load" 8 -> I64,
                F32Load "f32.load" 4 -> F32,
                F64Load "f64.load" 8 -> F64,
                I32Load8S "i32.load8_s" 1 -> I32,
                I32Load8U "i32.load8_u" 1 -> I32,
                I32Load16S "i32.load16_s" 2 -> I32,
                I32Load16U "i32.load16_u" 2 -> I32,
                I64Load8S "i64.load8_s" 1 -> I64,
                I64Load8U "i64.load8_u" 1 -> I64,
                I64Load16S "i64.load16_s" 2 -> I64,
                I64Load16U "i64.load16_u" 2 -> I64,
                I64Load32S "i64.load32_s" 4 -> I64,
                I64Load32U "i64.load32_u" 4 -> I64,
                // @simd-load
            }
            store {
                I32Store "i32.store" I32 4,
                I64Store "i64.store" I64 8,
                F32Store "f32.store" F32 4,
                F64Store "f64.store" F64 8,
                I32Store8 "i32.store8" I32 1,
                I32Store16 "i32.store16" I32 2,
                I64Store8 "i64.store8" I64 1,
                I64Store16 "i64.store16" I64 2,
                I64Store32 "i64.store32" I64 4,
                // @simd-store
            }
            load_lane {
                // @simd-load-lane
            }
            store_lane {
                // @simd-store-lane
            }
        }
    };
}

macro_rules! define_op_enums {
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
        /// An operator with one operand and one result (lane immediates carried inline).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum UnaryOp { $($u,)* $($ul(u8),)* }

        /// An operator with two operands and one result (lane immediates carried inline).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum BinaryOp { $($b,)* $($bl(u8),)* }

        /// An operator with three operands and one result.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum TernaryOp { $($t,)* }

        /// A memory load; the address is the only operand.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum LoadOp { $($l,)* }

        /// A memory store; operands are the address and the value.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum StoreOp { $($s,)* }

        /// A SIMD lane load: operands are the address and the vector; the lane is immediate.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum LoadLaneOp { $($ll,)* }

        /// A SIMD lane store: operands are the address and the vector; the lane is immediate.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[allow(missing_docs)]
        pub enum StoreLaneOp { $($sl,)* }

        impl UnaryOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(UnaryOp::$u => $un,)* $(UnaryOp::$ul(_) => $uln,)* }
            }
            /// Operand type.
            pub fn operand_type(self) -> ValType {
                match self { $(UnaryOp::$u => ValType::$ua,)* $(UnaryOp::$ul(_) => ValType::$ula,)* }
            }
            /// Result type.
            pub fn result_type(self) -> ValType {
                match self { $(UnaryOp::$u => ValType::$ur,)* $(UnaryOp::$ul(_) => ValType::$ulr,)* }
            }
        }

        impl BinaryOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(BinaryOp::$b => $bn,)* $(BinaryOp::$bl(_) => $bln,)* }
            }
            /// Operand types, first pushed first.
            pub fn operand_types(self) -> [ValType; 2] {
                match self {
                    $(BinaryOp::$b => [ValType::$ba, ValType::$bb],)*
                    $(BinaryOp::$bl(_) => [ValType::$bla, ValType::$blb],)*
                }
            }
            /// Result type.
            pub fn result_type(self) -> ValType {
                match self { $(BinaryOp::$b => ValType::$br,)* $(BinaryOp::$bl(_) => ValType::$blr,)* }
            }
        }

        impl TernaryOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(TernaryOp::$t => $tn,)* }
            }
            /// Operand types, first pushed first.
            pub fn operand_types(self) -> [ValType; 3] {
                match self { $(TernaryOp::$t => [ValType::$ta, ValType::$tb, ValType::$tc],)* }
            }
            /// Result type.
            pub fn result_type(self) -> ValType {
                match self { $(TernaryOp::$t => ValType::$tr,)* }
            }
        }

        impl LoadOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(LoadOp::$l => $ln,)* }
            }
            /// Bytes read from memory.
            pub fn width(self) -> u32 {
                match self { $(LoadOp::$l => $lw,)* }
            }
            /// Type of the loaded value.
            pub fn result_type(self) -> ValType {
                match self { $(LoadOp::$l => ValType::$lr,)* }
            }
        }

        impl StoreOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(StoreOp::$s => $sn,)* }
            }
            /// Bytes written to memory.
            pub fn width(self) -> u32 {
                match self { $(StoreOp::$s => $sw,)* }
            }
            /// Type of the stored operand.
            pub fn operand_type(self) -> ValType {
                match self { $(StoreOp::$s => ValType::$sa,)* }
            }
        }

        impl LoadLaneOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(LoadLaneOp::$ll => $lln,)* }
            }
            /// Bytes read from memory (the lane width).
            pub fn width(self) -> u32 {
                match self { $(LoadLaneOp::$ll => $llw,)* }
            }
        }

        impl StoreLaneOp {
            /// Text-format mnemonic.
            pub fn name(self) -> &'static str {
                match self { $(StoreLaneOp::$sl => $sln,)* }
            }
            /// Bytes written to memory (the lane width).
            pub fn width(self) -> u32 {
                match self { $(StoreLaneOp::$sl => $slw,)* }
            }
        }
    };
}

use crate::types::ValType;
for_each_op!(define_op_enums {});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_describes_operators() {
        assert_eq!(BinaryOp::I64LtU.name(), "i64.lt_u");
        assert_eq!(BinaryOp::I64LtU.result_type(), ValType::I32);
        assert_eq!(UnaryOp::F64ConvertI32U.operand_type(), ValType::I32);
        assert_eq!(LoadOp::I64Load16S.width(), 2);
        assert_eq!(StoreOp::I64Store32.operand_type(), ValType::I64);
    }
}
