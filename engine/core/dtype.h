// Element types, numbered as onnx.TensorProto.DataType so conversion is a cast.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace glint {

enum class DataType : int {
  kUndefined = 0,
  kFloat32 = 1,
  kUint8 = 2,
  kInt8 = 3,
  kUint16 = 4,
  kInt16 = 5,
  kInt32 = 6,
  kInt64 = 7,
  kString = 8,
  kBool = 9,
  kFloat16 = 10,
  kFloat64 = 11,
  kUint32 = 12,
  kUint64 = 13,
  kComplex64 = 14,
  kComplex128 = 15,
  kBFloat16 = 16,
};

std::string dtype_name(DataType t);  // "float32", "float16", "int64", ...

// Bytes per element as held in memory by glint. float16 and bfloat16 are held
// widened to float32 (computed in float32, narrowed only when written out), so
// every kernel sees at most one float representation besides double.
size_t storage_size(DataType t);

// The C++ type a kernel reads for a dtype's storage.
bool is_float(DataType t);     // float16, bfloat16, float32, float64
bool is_float_storage(DataType t);  // float32, float16, bfloat16: held as float (storage_size 4)
bool is_integer(DataType t);   // signed or unsigned integer types
bool is_supported_storage(DataType t);  // everything but complex and undefined

}  // namespace glint
