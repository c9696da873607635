#include "engine/gl/layout/texel_codec.h"

#include <cmath>
#include <cstdio>
#include <type_traits>

#include "engine/core/half.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

namespace {

Status out_of_range(const Tensor& t, const char* what, double v, int64_t i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return unsupported(std::string(what) + " " + tensor_desc(t) + ": value " + buf + " at element " +
                     std::to_string(i) + " is outside the GPU's exact integer range [-" +
                     std::to_string(kGpuExactIntLimit) + ", " + std::to_string(kGpuExactIntLimit) + "] (" +
                     dtype_name(t.dtype()) + " is held as float32 on the GPU)");
}

template <class T>
Status encode_as(const Tensor& t, std::vector<float>* out) {
  const T* src = t.data<T>();
  const int64_t n = t.size();
  out->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const T v = src[i];
    if constexpr (sizeof(T) >= 4) {
      bool ok;
      if constexpr (std::is_signed_v<T>) {
        ok = v >= -static_cast<T>(kGpuExactIntLimit) && v <= static_cast<T>(kGpuExactIntLimit);
      } else {
        ok = v <= static_cast<T>(kGpuExactIntLimit);
      }
      if (!ok) return out_of_range(t, "GL upload of", static_cast<double>(v), i);
    }
    (*out)[i] = static_cast<float>(v);
  }
  return Status::Ok();
}

// Integer/bool tensor -> exact floats, refusing values past 2^24.
}  // namespace

Status encode_integer_texels(const Tensor& t, std::vector<float>* out) {
  switch (t.dtype()) {
    case DataType::kBool: case DataType::kUint8: return encode_as<uint8_t>(t, out);
    case DataType::kInt8: return encode_as<int8_t>(t, out);
    case DataType::kUint16: return encode_as<uint16_t>(t, out);
    case DataType::kInt16: return encode_as<int16_t>(t, out);
    case DataType::kInt32: return encode_as<int32_t>(t, out);
    case DataType::kUint32: return encode_as<uint32_t>(t, out);
    case DataType::kInt64: return encode_as<int64_t>(t, out);
    case DataType::kUint64: return encode_as<uint64_t>(t, out);
    default: return unsupported("GL upload of " + tensor_desc(t) + ": no integer encoding for its dtype");
  }
}

template <class T>
Status decode_as(const float* src, Tensor* out) {
  T* dst = out->data<T>();
  const int64_t n = out->size();
  for (int64_t i = 0; i < n; ++i) {
    const float v = src[i];
    // A kernel result past 2^24 (or NaN/inf) is not an exact integer any more.
    if (!(v >= -static_cast<float>(kGpuExactIntLimit) && v <= static_cast<float>(kGpuExactIntLimit))) {
      return out_of_range(*out, "GL download of", v, i);
    }
    if constexpr (std::is_same_v<T, bool>) {
      dst[i] = v != 0.0f;
    } else {
      dst[i] = static_cast<T>(static_cast<int64_t>(std::nearbyint(v)));
    }
  }
  return Status::Ok();
}

// Exact floats -> the tensor's integer/bool dtype.
Status decode_integers(const float* src, Tensor* out) {
  switch (out->dtype()) {
    case DataType::kBool: return decode_as<bool>(src, out);
    case DataType::kUint8: return decode_as<uint8_t>(src, out);
    case DataType::kInt8: return decode_as<int8_t>(src, out);
    case DataType::kUint16: return decode_as<uint16_t>(src, out);
    case DataType::kInt16: return decode_as<int16_t>(src, out);
    case DataType::kInt32: return decode_as<int32_t>(src, out);
    case DataType::kUint32: return decode_as<uint32_t>(src, out);
    case DataType::kInt64: return decode_as<int64_t>(src, out);
    case DataType::kUint64: return decode_as<uint64_t>(src, out);
    default: return unsupported("GL download of " + tensor_desc(*out) + ": no integer decoding for its dtype");
  }
}

// What glReadPixels gave (one float per element at `src`; for float
// storage already `out`'s own buffer) -> `out`'s values.
Status decode_texels(float* src, int64_t n, Tensor* out) {
  const DataType dt = out->dtype();
  if (dt == DataType::kFloat16) {
    for (int64_t i = 0; i < n; ++i) src[i] = round_to_half(src[i]);
  } else if (dt == DataType::kBFloat16) {
    for (int64_t i = 0; i < n; ++i) src[i] = bfloat16_to_float(float_to_bfloat16(src[i]));
  } else if (!is_float_storage(dt)) {
    return decode_integers(src, out);
  }
  return Status::Ok();
}

}  // namespace glint::gl
