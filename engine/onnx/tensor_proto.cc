#include "engine/onnx/tensor_proto.h"

#include <cstring>

#include "engine/core/half.h"
#include "onnx/onnx.pb.h"

namespace glint::onnx_loader {

namespace {

// Typed-field element i as it is stored for `dtype` (ONNX packs small ints,
// bool, float16 and bfloat16 bit patterns into int32_data).
void store_from_int32_field(Tensor& t, int64_t i, int32_t v) {
  switch (t.dtype()) {
    case DataType::kFloat16: t.data<float>()[i] = half_to_float(static_cast<uint16_t>(v)); break;
    case DataType::kBFloat16: t.data<float>()[i] = bfloat16_to_float(static_cast<uint16_t>(v)); break;
    default: t.set_from_double(i, v); break;
  }
}

Status size_mismatch(const std::string& what, const char* field, int64_t got, int64_t want) {
  return invalid_model(what + ": " + field + " holds " + std::to_string(got) + " elements, dims say " +
                       std::to_string(want));
}

// A tensor from its little-endian bytes as ONNX stores them (`field`:
// where they were, for errors).
Result<Tensor> from_raw(std::string_view raw, DataType dtype, const Shape& shape, int64_t n, const std::string& what,
                        const char* field) {
  const uint64_t file_elem = (dtype == DataType::kFloat16 || dtype == DataType::kBFloat16) ? 2 : storage_size(dtype);
  const uint64_t need = static_cast<uint64_t>(n) * file_elem;  // n < 2^40: no wrap, also where size_t is 32 bits
  if (static_cast<uint64_t>(raw.size()) != need)
    return invalid_model(what + ": " + field + " has " + std::to_string(raw.size()) + " bytes, " + dtype_name(dtype) +
                         shape_str(shape) + " needs " + std::to_string(need));
  Tensor t(dtype, shape);
  if (dtype == DataType::kFloat16 || dtype == DataType::kBFloat16) {
    for (int64_t i = 0; i < n; ++i) {
      uint16_t bits;
      std::memcpy(&bits, raw.data() + 2 * i, 2);
      t.data<float>()[i] = dtype == DataType::kFloat16 ? half_to_float(bits) : bfloat16_to_float(bits);
    }
  } else if (n > 0) {
    std::memcpy(t.raw(), raw.data(), raw.size());  // ONNX stores little-endian, as are we
    if (dtype == DataType::kBool)
      for (int64_t i = 0; i < n; ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] ? 1 : 0;
  }
  return t;
}

// The bytes of an external-data tensor: its external_data entries say the
// file (location), where in it (offset) and how much (length, else to the
// end of the file).
Result<std::string_view> external_bytes(const onnx::TensorProto& p, const std::string& what,
                                        const ExternalDataFn* external) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto& kv : p.external_data()) {
    auto number = [&](int64_t* out) -> Status {
      const std::string& v = kv.value();
      if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
        return invalid_model(what + ": external data " + kv.key() + " '" + v + "' is not a byte count");
      *out = std::stoll(v);
      return Status::Ok();
    };
    if (kv.key() == "location") location = kv.value();
    else if (kv.key() == "offset") GLINT_RETURN_IF_ERROR(number(&offset));
    else if (kv.key() == "length") GLINT_RETURN_IF_ERROR(number(&length));
    // "checksum" and keys of later ONNX versions: not needed to read the bytes.
  }
  if (location.empty()) return invalid_model(what + ": external data without a location");
  auto name = normalize_location(location);  // checked here, once: a bad location says so whatever is given
  if (!name.ok()) return name.status().with_context(what);
  if (!external || !*external)
    return unsupported(what + ": its data is in the external file '" + location +
                       "', and none was given (load the model from its file with that file beside it, or pass "
                       "the file in the session option externalData)");
  auto file = (*external)(name.value());
  if (!file.ok()) return file.status().with_context(what);
  const std::string_view bytes = file.value();
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (offset > size || (length >= 0 && length > size - offset))
    return invalid_model(what + ": external data '" + location + "' is " + std::to_string(size) +
                         " bytes, but the tensor's bytes start at offset " + std::to_string(offset) +
                         (length >= 0 ? " and take " + std::to_string(length) : std::string()));
  return bytes.substr(static_cast<size_t>(offset), length >= 0 ? static_cast<size_t>(length) : std::string_view::npos);
}

}  // namespace

Result<Tensor> tensor_from_proto(const onnx::TensorProto& p, const std::string& what,
                                 const ExternalDataFn* external) {
  const bool is_external = p.has_data_location() && p.data_location() == onnx::TensorProto::EXTERNAL;
  if (p.has_segment()) return unsupported(what + ": segmented tensors are not supported");
  auto dtype = static_cast<DataType>(p.data_type());
  if (!is_supported_storage(dtype))
    return unsupported(what + ": data type " + dtype_name(dtype) + " is not supported");
  Shape shape;
  for (int64_t d : p.dims()) {
    if (d < 0) return invalid_model(what + ": negative dimension " + std::to_string(d));
    shape.push_back(d);
  }
  // Guard against absurd element counts before allocating.
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > (int64_t(1) << 40) / d)
      return invalid_model(what + ": dims " + shape_str(shape) + " are too large");
    n *= d;
  }
  size_t raw_bytes = p.raw_data().size();
  if (is_external) {
    if (dtype == DataType::kString) return invalid_model(what + ": a string tensor cannot be external data");
    GLINT_ASSIGN_OR_RETURN(std::string_view bytes, external_bytes(p, what, external));
    return from_raw(bytes, dtype, shape, n, what, "its external data");
  }
  if (n > 0 && !p.has_raw_data()) {
    int64_t typed = p.float_data_size() + p.int32_data_size() + p.int64_data_size() +
                    p.double_data_size() + p.uint64_data_size() + p.string_data_size();
    if (typed == 0) return invalid_model(what + ": dims " + shape_str(shape) + " but no data");
  }
  if (n > (int64_t(1) << 31) && raw_bytes == 0)
    return invalid_model(what + ": dims " + shape_str(shape) + " are too large");

  if (p.has_raw_data() && dtype != DataType::kString) return from_raw(p.raw_data(), dtype, shape, n, what, "raw_data");
  Tensor t(dtype, shape);
  if (dtype == DataType::kString) {
    if (p.string_data_size() != n) return size_mismatch(what, "string_data", p.string_data_size(), n);
    for (int64_t i = 0; i < n; ++i) t.strings()[i] = p.string_data(i);
    return t;
  }
  switch (dtype) {
    case DataType::kFloat32:
      if (p.float_data_size() != n) return size_mismatch(what, "float_data", p.float_data_size(), n);
      for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = p.float_data(i);
      break;
    case DataType::kFloat64:
      if (p.double_data_size() != n) return size_mismatch(what, "double_data", p.double_data_size(), n);
      for (int64_t i = 0; i < n; ++i) t.data<double>()[i] = p.double_data(i);
      break;
    case DataType::kInt64:
      if (p.int64_data_size() != n) return size_mismatch(what, "int64_data", p.int64_data_size(), n);
      for (int64_t i = 0; i < n; ++i) t.data<int64_t>()[i] = p.int64_data(i);
      break;
    case DataType::kUint32: case DataType::kUint64:
      if (p.uint64_data_size() != n) return size_mismatch(what, "uint64_data", p.uint64_data_size(), n);
      for (int64_t i = 0; i < n; ++i) {
        if (dtype == DataType::kUint64) t.data<uint64_t>()[i] = p.uint64_data(i);
        else t.data<uint32_t>()[i] = static_cast<uint32_t>(p.uint64_data(i));
      }
      break;
    default:  // int32, int16, int8, uint16, uint8, bool, float16, bfloat16
      if (p.int32_data_size() != n) return size_mismatch(what, "int32_data", p.int32_data_size(), n);
      for (int64_t i = 0; i < n; ++i) store_from_int32_field(t, i, p.int32_data(i));
      break;
  }
  return t;
}

void tensor_to_proto(const Tensor& t, onnx::TensorProto* p) {
  p->set_data_type(static_cast<int>(t.dtype()));
  for (int64_t d : t.shape()) p->add_dims(d);
  int64_t n = t.size();
  if (t.dtype() == DataType::kString) {
    for (int64_t i = 0; i < n; ++i) p->add_string_data(t.strings()[i]);
    return;
  }
  std::string raw;
  if (t.dtype() == DataType::kFloat16 || t.dtype() == DataType::kBFloat16) {
    raw.resize(static_cast<size_t>(n) * 2);
    for (int64_t i = 0; i < n; ++i) {
      float f = t.data<float>()[i];
      uint16_t bits = t.dtype() == DataType::kFloat16 ? float_to_half(f) : float_to_bfloat16(f);
      std::memcpy(&raw[2 * i], &bits, 2);
    }
  } else if (n > 0) {
    raw.assign(static_cast<const char*>(t.raw()), t.byte_size());
  }
  p->set_raw_data(raw);
}

}  // namespace glint::onnx_loader
