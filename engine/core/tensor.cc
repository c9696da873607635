#include "engine/core/tensor.h"

#include <cmath>
#include <cstring>
#include <sstream>
#ifndef __EMSCRIPTEN__
#include <unistd.h>
#endif

#include "engine/core/half.h"

namespace glint {

int64_t shape_size(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

bool checked_shape_size(const Shape& s, int64_t* n) {
  int64_t product = 1;
  for (int64_t d : s) {
    if (d < 0 || __builtin_mul_overflow(product, d, &product)) return false;
  }
  *n = product;
  return true;
}

int64_t default_memory_cap() {
#ifdef __EMSCRIPTEN__
  return int64_t{2} << 30;
#else
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return int64_t{8} << 30;
  return static_cast<int64_t>(pages) * page / 2;
#endif
}

namespace {
thread_local std::shared_ptr<MemoryBudget> current_budget;
}  // namespace

ScopedMemoryBudget::ScopedMemoryBudget(std::shared_ptr<MemoryBudget> budget)
    : previous_(std::move(current_budget)) {
  current_budget = std::move(budget);
}
ScopedMemoryBudget::~ScopedMemoryBudget() { current_budget = std::move(previous_); }

std::string shape_str(const Shape& s) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? "," : "") << s[i];
  os << "]";
  return os.str();
}

std::vector<int64_t> shape_strides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (int i = static_cast<int>(s.size()) - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

Tensor::Tensor(DataType dtype, Shape shape) : Tensor(dtype, std::move(shape), true) {}

Tensor::Tensor(DataType dtype, Shape shape, Uninitialized) : Tensor(dtype, std::move(shape), false) {}

Tensor::Tensor(DataType dtype, Shape shape, bool zero) : dtype_(dtype), shape_(std::move(shape)) {
  bool unknown = false;
  for (int64_t d : shape_) unknown = unknown || d < 0;
  int64_t n = 0;
  if (!unknown && !checked_shape_size(shape_, &n))
    throw TensorTooLarge("a " + dtype_name(dtype_) + " tensor of shape " + shape_str(shape_) +
                         " has more elements than can be counted");
  // A dim below zero is unknown: such a tensor gets no elements.
  const int64_t element = dtype_ == DataType::kString ? 32 : static_cast<int64_t>(storage_size(dtype_));
  int64_t bytes = 0;
  static const int64_t default_cap = default_memory_cap();
  const std::shared_ptr<MemoryBudget>& budget = current_budget;
  const int64_t cap = budget ? budget->cap : default_cap;
  const int64_t live = budget ? budget->live.load() : 0;
  if (__builtin_mul_overflow(n, element, &bytes) || bytes > cap - live)
    throw TensorTooLarge("a " + dtype_name(dtype_) + " tensor of shape " + shape_str(shape_) + " needs " +
                         (bytes > 0 ? std::to_string(bytes) : std::string("more")) + " bytes, over the memory cap (" +
                         std::to_string(cap) + " bytes, " + std::to_string(live) + " in use)");
  if (dtype_ == DataType::kString) {
    strings_ = std::make_shared<std::vector<std::string>>(static_cast<size_t>(n));
  } else if (budget && bytes > 0) {
    // One allocation for the vector and its control block (make_shared),
    // the budget's charge given back when the bytes go.
    struct Charged : Bytes {
      Charged(size_t n, bool zero, std::shared_ptr<MemoryBudget> b)
          : Bytes(zero ? Bytes(n, 0) : Bytes(n)), budget(std::move(b)), charged(static_cast<int64_t>(n)) {
        budget->live += charged;
      }
      ~Charged() { budget->live -= charged; }
      std::shared_ptr<MemoryBudget> budget;
      const int64_t charged;
    };
    bytes_ = std::make_shared<Charged>(static_cast<size_t>(bytes), zero, budget);
  } else {
    bytes_ = zero ? std::make_shared<Bytes>(static_cast<size_t>(bytes), 0) : std::make_shared<Bytes>(static_cast<size_t>(bytes));
  }
}

Tensor Tensor::reshaped(Shape shape) const {
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::retagged(DataType dtype) const {
  Tensor t = *this;
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = *this;
  if (bytes_) t.bytes_ = std::make_shared<Bytes>(*bytes_);
  if (strings_) t.strings_ = std::make_shared<std::vector<std::string>>(*strings_);
  return t;
}

double Tensor::get_as_double(int64_t i) const {
  switch (dtype_) {
    case DataType::kFloat32: case DataType::kFloat16: case DataType::kBFloat16:
      return data<float>()[i];
    case DataType::kFloat64: return data<double>()[i];
    case DataType::kUint8: return data<uint8_t>()[i];
    case DataType::kBool: return data<uint8_t>()[i] ? 1.0 : 0.0;
    case DataType::kInt8: return data<int8_t>()[i];
    case DataType::kUint16: return data<uint16_t>()[i];
    case DataType::kInt16: return data<int16_t>()[i];
    case DataType::kInt32: return data<int32_t>()[i];
    case DataType::kUint32: return data<uint32_t>()[i];
    case DataType::kInt64: return static_cast<double>(data<int64_t>()[i]);
    case DataType::kUint64: return static_cast<double>(data<uint64_t>()[i]);
    default: return 0.0;
  }
}

int64_t Tensor::get_as_int64(int64_t i) const {
  switch (dtype_) {
    case DataType::kInt64: return data<int64_t>()[i];
    case DataType::kUint64: return static_cast<int64_t>(data<uint64_t>()[i]);
    case DataType::kInt32: return data<int32_t>()[i];
    default: return static_cast<int64_t>(get_as_double(i));
  }
}

namespace {
// A double as an int64 without undefined behaviour: NaN is 0 and values past
// the range saturate. Narrower integers then take its low bits (a defined
// conversion), so an int8 Pow of 2^7 wraps to -128 (the fuzzer found the
// direct cast of 128 to int8, which is undefined).
int64_t double_to_int64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775807.0) return INT64_MAX;
  if (v <= -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(v);
}
uint64_t double_to_uint64(double v) {
  if (v >= 0 && v < 18446744073709551616.0) return static_cast<uint64_t>(v);
  return v >= 0 ? UINT64_MAX : static_cast<uint64_t>(double_to_int64(v));
}
}  // namespace

void Tensor::set_from_double(int64_t i, double v) {
  switch (dtype_) {
    case DataType::kFloat32: data<float>()[i] = static_cast<float>(v); break;
    case DataType::kFloat16: data<float>()[i] = round_to_half(static_cast<float>(v)); break;
    case DataType::kBFloat16:
      data<float>()[i] = bfloat16_to_float(float_to_bfloat16(static_cast<float>(v)));
      break;
    case DataType::kFloat64: data<double>()[i] = v; break;
    case DataType::kUint8: data<uint8_t>()[i] = static_cast<uint8_t>(double_to_int64(v)); break;
    case DataType::kBool: data<uint8_t>()[i] = v != 0.0 ? 1 : 0; break;
    case DataType::kInt8: data<int8_t>()[i] = static_cast<int8_t>(double_to_int64(v)); break;
    case DataType::kUint16: data<uint16_t>()[i] = static_cast<uint16_t>(double_to_int64(v)); break;
    case DataType::kInt16: data<int16_t>()[i] = static_cast<int16_t>(double_to_int64(v)); break;
    case DataType::kInt32: data<int32_t>()[i] = static_cast<int32_t>(double_to_int64(v)); break;
    case DataType::kUint32: data<uint32_t>()[i] = static_cast<uint32_t>(double_to_int64(v)); break;
    case DataType::kInt64: data<int64_t>()[i] = static_cast<int64_t>(double_to_int64(v)); break;
    case DataType::kUint64: data<uint64_t>()[i] = double_to_uint64(v); break;
    default: break;
  }
}

Tensor Tensor::scalar_f32(float v) {
  Tensor t(DataType::kFloat32, {});
  t.data<float>()[0] = v;
  return t;
}

Tensor Tensor::from_floats(const Shape& shape, const std::vector<float>& v) {
  Tensor t(DataType::kFloat32, shape);
  size_t n = std::min<size_t>(v.size(), t.size());
  if (n) std::memcpy(t.raw(), v.data(), n * sizeof(float));
  return t;
}

Tensor Tensor::from_int64s(const Shape& shape, const std::vector<int64_t>& v) {
  Tensor t(DataType::kInt64, shape);
  size_t n = std::min<size_t>(v.size(), t.size());
  if (n) std::memcpy(t.raw(), v.data(), n * sizeof(int64_t));
  return t;
}

std::string tensor_desc(const Tensor& t) { return dtype_name(t.dtype()) + shape_str(t.shape()); }

}  // namespace glint
