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
                I8x16Splat "i8x16.splat" I32 -> V128,
                I16x8Splat "i16x8.splat" I32 -> V128,
                I32x4Splat "i32x4.splat" I32 -> V128,
                I64x2Splat "i64x2.splat" I64 -> V128,
                F32x4Splat "f32x4.splat" F32 -> V128,
                F64x2Splat "f64x2.splat" F64 -> V128,
                V128Not "v128.not" V128 -> V128,
                V128AnyTrue "v128.any_true" V128 -> I32,
                I8x16Abs "i8x16.abs" V128 -> V128,
                I8x16Neg "i8x16.neg" V128 -> V128,
                I8x16Popcnt "i8x16.popcnt" V128 -> V128,
                I8x16AllTrue "i8x16.all_true" V128 -> I32,
                I8x16Bitmask "i8x16.bitmask" V128 -> I32,
                I16x8ExtAddPairwiseI8x16S "i16x8.extadd_pairwise_i8x16_s" V128 -> V128,
                I16x8ExtAddPairwiseI8x16U "i16x8.extadd_pairwise_i8x16_u" V128 -> V128,
                I16x8Abs "i16x8.abs" V128 -> V128,
                I16x8Neg "i16x8.neg" V128 -> V128,
                I16x8AllTrue "i16x8.all_true" V128 -> I32,
                I16x8Bitmask "i16x8.bitmask" V128 -> I32,
                I16x8ExtendLowI8x16S "i16x8.extend_low_i8x16_s" V128 -> V128,
                I16x8ExtendHighI8x16S "i16x8.extend_high_i8x16_s" V128 -> V128,
                I16x8ExtendLowI8x16U "i16x8.extend_low_i8x16_u" V128 -> V128,
                I16x8ExtendHighI8x16U "i16x8.extend_high_i8x16_u" V128 -> V128,
                I32x4ExtAddPairwiseI16x8S "i32x4.extadd_pairwise_i16x8_s" V128 -> V128,
                I32x4ExtAddPairwiseI16x8U "i32x4.extadd_pairwise_i16x8_u" V128 -> V128,
                I32x4Abs "i32x4.abs" V128 -> V128,
                I32x4Neg "i32x4.neg" V128 -> V128,
                I32x4AllTrue "i32x4.all_true" V128 -> I32,
                I32x4Bitmask "i32x4.bitmask" V128 -> I32,
                I32x4ExtendLowI16x8S "i32x4.extend_low_i16x8_s" V128 -> V128,
                I32x4ExtendHighI16x8S "i32x4.extend_high_i16x8_s" V128 -> V128,
                I32x4ExtendLowI16x8U "i32x4.extend_low_i16x8_u" V128 -> V128,
                I32x4ExtendHighI16x8U "i32x4.extend_high_i16x8_u" V128 -> V128,
                I64x2Abs "i64x2.abs" V128 -> V128,
                I64x2Neg "i64x2.neg" V128 -> V128,
                I64x2AllTrue "i64x2.all_true" V128 -> I32,
                I64x2Bitmask "i64x2.bitmask" V128 -> I32,
                I64x2ExtendLowI32x4S "i64x2.extend_low_i32x4_s" V128 -> V128,
                I64x2ExtendHighI32x4S "i64x2.extend_high_i32x4_s" V128 -> V128,
                I64x2ExtendLowI32x4U "i64x2.extend_low_i32x4_u" V128 -> V128,
                I64x2ExtendHighI32x4U "i64x2.extend_high_i32x4_u" V128 -> V128,
                F32x4Ceil "f32x4.ceil" V128 -> V128,
                F32x4Floor "f32x4.floor" V128 -> V128,
                F32x4Trunc "f32x4.trunc" V128 -> V128,
                F32x4Nearest "f32x4.nearest" V128 -> V128,
                F32x4Abs "f32x4.abs" V128 -> V128,
                F32x4Neg "f32x4.neg" V128 -> V128,
                F32x4Sqrt "f32x4.sqrt" V128 -> V128,
                F64x2Ceil "f64x2.ceil" V128 -> V128,
                F64x2Floor "f64x2.floor" V128 -> V128,
                F64x2Trunc "f64x2.trunc" V128 -> V128,
                F64x2Nearest "f64x2.nearest" V128 -> V128,
                F64x2Abs "f64x2.abs" V128 -> V128,
                F64x2Neg "f64x2.neg" V128 -> V128,
                F64x2Sqrt "f64x2.sqrt" V128 -> V128,
                I32x4TruncSatF32x4S "i32x4.trunc_sat_f32x4_s" V128 -> V128,
                I32x4TruncSatF32x4U "i32x4.trunc_sat_f32x4_u" V128 -> V128,
                F32x4ConvertI32x4S "f32x4.convert_i32x4_s" V128 -> V128,
                F32x4ConvertI32x4U "f32x4.convert_i32x4_u" V128 -> V128,
                I32x4TruncSatF64x2SZero "i32x4.trunc_sat_f64x2_s_zero" V128 -> V128,
                I32x4TruncSatF64x2UZero "i32x4.trunc_sat_f64x2_u_zero" V128 -> V128,
                F64x2ConvertLowI32x4S "f64x2.convert_low_i32x4_s" V128 -> V128,
                F64x2ConvertLowI32x4U "f64x2.convert_low_i32x4_u" V128 -> V128,
                F32x4DemoteF64x2Zero "f32x4.demote_f64x2_zero" V128 -> V128,
                F64x2PromoteLowF32x4 "f64x2.promote_low_f32x4" V128 -> V128,
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
                I8x16Swizzle "i8x16.swizzle" V128 V128 -> V128,
                I8x16Eq "i8x16.eq" V128 V128 -> V128,
                I8x16Ne "i8x16.ne" V128 V128 -> V128,
                I8x16LtS "i8x16.lt_s" V128 V128 -> V128,
                I8x16LtU "i8x16.lt_u" V128 V128 -> V128,
                I8x16GtS "i8x16.gt_s" V128 V128 -> V128,
                I8x16GtU "i8x16.gt_u" V128 V128 -> V128,
                I8x16LeS "i8x16.le_s" V128 V128 -> V128,
                I8x16LeU "i8x16.le_u" V128 V128 -> V128,
                I8x16GeS "i8x16.ge_s" V128 V128 -> V128,
                I8x16GeU "i8x16.ge_u" V128 V128 -> V128,
                I16x8Eq "i16x8.eq" V128 V128 -> V128,
                I16x8Ne "i16x8.ne" V128 V128 -> V128,
                I16x8LtS "i16x8.lt_s" V128 V128 -> V128,
                I16x8LtU "i16x8.lt_u" V128 V128 -> V128,
                I16x8GtS "i16x8.gt_s" V128 V128 -> V128,
                I16x8GtU "i16x8.gt_u" V128 V128 -> V128,
                I16x8LeS "i16x8.le_s" V128 V128 -> V128,
                I16x8LeU "i16x8.le_u" V128 V128 -> V128,
                I16x8GeS "i16x8.ge_s" V128 V128 -> V128,
                I16x8GeU "i16x8.ge_u" V128 V128 -> V128,
                I32x4Eq "i32x4.eq" V128 V128 -> V128,
                I32x4Ne "i32x4.ne" V128 V128 -> V128,
                I32x4LtS "i32x4.lt_s" V128 V128 -> V128,
                I32x4LtU "i32x4.lt_u" V128 V128 -> V128,
                I32x4GtS "i32x4.gt_s" V128 V128 -> V128,
                I32x4GtU "i32x4.gt_u" V128 V128 -> V128,
                I32x4LeS "i32x4.le_s" V128 V128 -> V128,
                I32x4LeU "i32x4.le_u" V128 V128 -> V128,
                I32x4GeS "i32x4.ge_s" V128 V128 -> V128,
                I32x4GeU "i32x4.ge_u" V128 V128 -> V128,
                I64x2Eq "i64x2.eq" V128 V128 -> V128,
                I64x2Ne "i64x2.ne" V128 V128 -> V128,
                I64x2LtS "i64x2.lt_s" V128 V128 -> V128,
                I64x2GtS "i64x2.gt_s" V128 V128 -> V128,
                I64x2LeS "i64x2.le_s" V128 V128 -> V128,
                I64x2GeS "i64x2.ge_s" V128 V128 -> V128,
                F32x4Eq "f32x4.eq" V128 V128 -> V128,
                F32x4Ne "f32x4.ne" V128 V128 -> V128,
                F32x4Lt "f32x4.lt" V128 V128 -> V128,
                F32x4Gt "f32x4.gt" V128 V128 -> V128,
                F32x4Le "f32x4.le" V128 V128 -> V128,
                F32x4Ge "f32x4.ge" V128 V128 -> V128,
                F64x2Eq "f64x2.eq" V128 V128 -> V128,
                F64x2Ne "f64x2.ne" V128 V128 -> V128,
                F64x2Lt "f64x2.lt" V128 V128 -> V128,
                F64x2Gt "f64x2.gt" V128 V128 -> V128,
                F64x2Le "f64x2.le" V128 V128 -> V128,
                F64x2Ge "f64x2.ge" V128 V128 -> V128,
                V128And "v128.and" V128 V128 -> V128,
                V128AndNot "v128.andnot" V128 V128 -> V128,
                V128Or "v128.or" V128 V128 -> V128,
                V128Xor "v128.xor" V128 V128 -> V128,
                I8x16NarrowI16x8S "i8x16.narrow_i16x8_s" V128 V128 -> V128,
                I8x16NarrowI16x8U "i8x16.narrow_i16x8_u" V128 V128 -> V128,
                I8x16Shl "i8x16.shl" V128 I32 -> V128,
                I8x16ShrS "i8x16.shr_s" V128 I32 -> V128,
                I8x16ShrU "i8x16.shr_u" V128 I32 -> V128,
                I8x16Add "i8x16.add" V128 V128 -> V128,
                I8x16AddSatS "i8x16.add_sat_s" V128 V128 -> V128,
                I8x16AddSatU "i8x16.add_sat_u" V128 V128 -> V128,
                I8x16Sub "i8x16.sub" V128 V128 -> V128,
                I8x16SubSatS "i8x16.sub_sat_s" V128 V128 -> V128,
                I8x16SubSatU "i8x16.sub_sat_u" V128 V128 -> V128,
                I8x16MinS "i8x16.min_s" V128 V128 -> V128,
                I8x16MinU "i8x16.min_u" V128 V128 -> V128,
                I8x16MaxS "i8x16.max_s" V128 V128 -> V128,
                I8x16MaxU "i8x16.max_u" V128 V128 -> V128,
                I8x16AvgrU "i8x16.avgr_u" V128 V128 -> V128,
                I16x8Q15MulrSatS "i16x8.q15mulr_sat_s" V128 V128 -> V128,
                I16x8NarrowI32x4S "i16x8.narrow_i32x4_s" V128 V128 -> V128,
                I16x8NarrowI32x4U "i16x8.narrow_i32x4_u" V128 V128 -> V128,
                I16x8Shl "i16x8.shl" V128 I32 -> V128,
                I16x8ShrS "i16x8.shr_s" V128 I32 -> V128,
                I16x8ShrU "i16x8.shr_u" V128 I32 -> V128,
                I16x8Add "i16x8.add" V128 V128 -> V128,
                I16x8AddSatS "i16x8.add_sat_s" V128 V128 -> V128,
                I16x8AddSatU "i16x8.add_sat_u" V128 V128 -> V128,
                I16x8Sub "i16x8.sub" V128 V128 -> V128,
                I16x8SubSatS "i16x8.sub_sat_s" V128 V128 -> V128,
                I16x8SubSatU "i16x8.sub_sat_u" V128 V128 -> V128,
                I16x8Mul "i16x8.mul" V128 V128 -> V128,
                I16x8MinS "i16x8.min_s" V128 V128 -> V128,
                I16x8MinU "i16x8.min_u" V128 V128 -> V128,
                I16x8MaxS "i16x8.max_s" V128 V128 -> V128,
                I16x8MaxU "i16x8.max_u" V128 V128 -> V128,
                I16x8AvgrU "i16x8.avgr_u" V128 V128 -> V128,
                I16x8ExtMulLowI8x16S "i16x8.extmul_low_i8x16_s" V128 V128 -> V128,
                I16x8ExtMulHighI8x16S "i16x8.extmul_high_i8x16_s" V128 V128 -> V128,
                I16x8ExtMulLowI8x16U "i16x8.extmul_low_i8x16_u" V128 V128 -> V128,
                I16x8ExtMulHighI8x16U "i16x8.extmul_high_i8x16_u" V128 V128 -> V128,
                I32x4Shl "i32x4.shl" V128 I32 -> V128,
                I32x4ShrS "i32x4.shr_s" V128 I32 -> V128,
                I32x4ShrU "i32x4.shr_u" V128 I32 -> V128,
                I32x4Add "i32x4.add" V128 V128 -> V128,
                I32x4Sub "i32x4.sub" V128 V128 -> V128,
                I32x4Mul "i32x4.mul" V128 V128 -> V128,
                I32x4MinS "i32x4.min_s" V128 V128 -> V128,
                I32x4MinU "i32x4.min_u" V128 V128 -> V128,
                I32x4MaxS "i32x4.max_s" V128 V128 -> V128,
                I32x4MaxU "i32x4.max_u" V128 V128 -> V128,
                I32x4DotI16x8S "i32x4.dot_i16x8_s" V128 V128 -> V128,
                I32x4ExtMulLowI16x8S "i32x4.extmul_low_i16x8_s" V128 V128 -> V128,
                I32x4ExtMulHighI16x8S "i32x4.extmul_high_i16x8_s" V128 V128 -> V128,
                I32x4ExtMulLowI16x8U "i32x4.extmul_low_i16x8_u" V128 V128 -> V128,
                I32x4ExtMulHighI16x8U "i32x4.extmul_high_i16x8_u" V128 V128 -> V128,
                I64x2Shl "i64x2.shl" V128 I32 -> V128,
                I64x2ShrS "i64x2.shr_s" V128 I32 -> V128,
                I64x2ShrU "i64x2.shr_u" V128 I32 -> V128,
                I64x2Add "i64x2.add" V128 V128 -> V128,
                I64x2Sub "i64x2.sub" V128 V128 -> V128,
                I64x2Mul "i64x2.mul" V128 V128 -> V128,
                I64x2ExtMulLowI32x4S "i64x2.extmul_low_i32x4_s" V128 V128 -> V128,
                I64x2ExtMulHighI32x4S "i64x2.extmul_high_i32x4_s" V128 V128 -> V128,
                I64x2ExtMulLowI32x4U "i64x2.extmul_low_i32x4_u" V128 V128 -> V128,
                I64x2ExtMulHighI32x4U "i64x2.extmul_high_i32x4_u" V128 V128 -> V128,
                F32x4Add "f32x4.add" V128 V128 -> V128,
                F32x4Sub "f32x4.sub" V128 V128 -> V128,
                F32x4Mul "f32x4.mul" V128 V128 -> V128,
                F32x4Div "f32x4.div" V128 V128 -> V128,
                F32x4Min "f32x4.min" V128 V128 -> V128,
                F32x4Max "f32x4.max" V128 V128 -> V128,
                F32x4PMin "f32x4.pmin" V128 V128 -> V128,
                F32x4PMax "f32x4.pmax" V128 V128 -> V128,
                F64x2Add "f64x2.add" V128 V128 -> V128,
                F64x2Sub "f64x2.sub" V128 V128 -> V128,
                F64x2Mul "f64x2.mul" V128 V128 -> V128,
                F64x2Div "f64x2.div" V128 V128 -> V128,
                F64x2Min "f64x2.min" V128 V128 -> V128,
                F64x2Max "f64x2.max" V128 V128 -> V128,
                F64x2PMin "f64x2.pmin" V128 V128 -> V128,
                F64x2PMax "f64x2.pmax" V128 V128 -> V128,
            }
            ternary {
                // @simd-ternary
                V128Bitselect "v128.bitselect" V128 V128 V128 -> V128,
            }
            unary_lane {
                // @simd-unary-lane
                I8x16ExtractLaneS "i8x16.extract_lane_s" V128 -> I32,
                I8x16ExtractLaneU "i8x16.extract_lane_u" V128 -> I32,
                I16x8ExtractLaneS "i16x8.extract_lane_s" V128 -> I32,
                I16x8ExtractLaneU "i16x8.extract_lane_u" V128 -> I32,
                I32x4ExtractLane "i32x4.extract_lane" V128 -> I32,
                I64x2ExtractLane "i64x2.extract_lane" V128 -> I64,
                F32x4ExtractLane "f32x4.extract_lane" V128 -> F32,
                F64x2ExtractLane "f64x2.extract_lane" V128 -> F64,
            }
            binary_lane {
                // @simd-binary-lane
                I8x16ReplaceLane "i8x16.replace_lane" V128 I32 -> V128,
                I16x8ReplaceLane "i16x8.replace_lane" V128 I32 -> V128,
                I32x4ReplaceLane "i32x4.replace_lane" V128 I32 -> V128,
                I64x2ReplaceLane "i64x2.replace_lane" V128 I64 -> V128,
                F32x4ReplaceLane "f32x4.replace_lane" V128 F32 -> V128,
                F64x2ReplaceLane "f64x2.replace_lane" V128 F64 -> V128,
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
                V128Load "v128.load" 16 -> V128,
                V128Load8x8S "v128.load8x8_s" 8 -> V128,
                V128Load8x8U "v128.load8x8_u" 8 -> V128,
                V128Load16x4S "v128.load16x4_s" 8 -> V128,
                V128Load16x4U "v128.load16x4_u" 8 -> V128,
                V128Load32x2S "v128.load32x2_s" 8 -> V128,
                V128Load32x2U "v128.load32x2_u" 8 -> V128,
                V128Load8Splat "v128.load8_splat" 1 -> V128,
                V128Load16Splat "v128.load16_splat" 2 -> V128,
                V128Load32Splat "v128.load32_splat" 4 -> V128,
                V128Load64Splat "v128.load64_splat" 8 -> V128,
                V128Load32Zero "v128.load32_zero" 4 -> V128,
                V128Load64Zero "v128.load64_zero" 8 -> V128,
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
                V128Store "v128.store" V128 16,
            }
            load_lane {
                // @simd-load-lane
                V128Load8Lane "v128.load8_lane" 1,
                V128Load16Lane "v128.load16_lane" 2,
                V128Load32Lane "v128.load32_lane" 4,
                V128Load64Lane "v128.load64_lane" 8,
            }
            store_lane {
                // @simd-store-lane
                V128Store8Lane "v128.store8_lane" 1,
                V128Store16Lane "v128.store16_lane" 2,
                V128Store32Lane "v128.store32_lane" 4,
                V128Store64Lane "v128.store64_lane" 8,
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
