// Tensor: a dtype, a concrete shape and shared storage. Copies share the bytes
// (like a view); `clone()` copies them.
#pragma once
#include <cstdint>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"

namespace glint {

using Shape = std::vector<int64_t>;

int64_t shape_size(const Shape& s);  // product of dims; 1 for a scalar
// The product of dims, or false when a dim is negative or the product does
// not fit an int64 (a hostile shape such as [2^32, 2^32]).
bool checked_shape_size(const Shape& s, int64_t* n);
std::string shape_str(const Shape& s);  // "[1,3,224,224]"
// Row-major strides in elements.
std::vector<int64_t> shape_strides(const Shape& s);

// The memory a session's tensors may hold together. A session installs its
// budget on the thread while it creates or runs (ScopedMemoryBudget); every
// Tensor allocated then is charged to it until its storage is freed. A tensor
// that would pass the cap, or whose element count overflows (a hostile
// shape such as [2^32, 2^32]), is not allocated: its constructor throws
// TensorTooLarge, which the runtime turns into an error naming the node.
// Outside any budget one tensor may take default_memory_cap().
class TensorTooLarge : public std::length_error {
 public:
  using std::length_error::length_error;
};
struct MemoryBudget {
  explicit MemoryBudget(int64_t cap_bytes) : cap(cap_bytes) {}
  const int64_t cap;
  std::atomic<int64_t> live{0};  // bytes of the tensors charged and not yet freed
};
// Half the machine's physical memory natively, 2 GiB in wasm32.
int64_t default_memory_cap();
class ScopedMemoryBudget {
 public:
  explicit ScopedMemoryBudget(std::shared_ptr<MemoryBudget> budget);
  ~ScopedMemoryBudget();
  ScopedMemoryBudget(const ScopedMemoryBudget&) = delete;
  ScopedMemoryBudget& operator=(const ScopedMemoryBudget&) = delete;

 private:
  std::shared_ptr<MemoryBudget> previous_;
};

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor of `dtype` and `shape`.
  Tensor(DataType dtype, Shape shape);
  // The same with its bytes left as the allocator hands them out, for a
  // tensor its maker overwrites whole (a GEMM's output, a feed copied in
  // from JavaScript): zero-filling it first was ~5% of a decode step in wasm.
  struct Uninitialized {};
  static constexpr Uninitialized kUninitialized{};
  Tensor(DataType dtype, Shape shape, Uninitialized);
  // A dtype and a shape with no storage: what a kernel that reads only its
  // input's shape (Shape, Size) is given for a tensor held elsewhere (GPU
  // memory), and what a Value held there carries. Its data must not be read.
  static Tensor shape_only(DataType dtype, Shape shape) { return Tensor(dtype, {0}).reshaped(std::move(shape)); }

  DataType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size() const { return shape_size(shape_); }
  size_t byte_size() const { return bytes_ ? bytes_->size() : 0; }
  bool empty_storage() const { return !bytes_ && strings_ == nullptr; }

  template <class T> T* data() { return reinterpret_cast<T*>(bytes_->data()); }
  template <class T> const T* data() const { return reinterpret_cast<const T*>(bytes_->data()); }
  void* raw() { return bytes_ ? bytes_->data() : nullptr; }
  const void* raw() const { return bytes_ ? bytes_->data() : nullptr; }

  // String tensors keep their elements here instead of in bytes.
  std::vector<std::string>& strings() { return *strings_; }
  const std::vector<std::string>& strings() const { return *strings_; }

  // Same storage, different shape (sizes must match).
  Tensor reshaped(Shape shape) const;
  // Same storage, different dtype tag; used where storage is shared
  // (float16 <-> float32 both hold float).
  Tensor retagged(DataType dtype) const;
  Tensor clone() const;

  // Element i converted to double / from double, whatever the dtype. Slow;
  // for tests, printing and rarely-used kernels.
  double get_as_double(int64_t i) const;
  void set_from_double(int64_t i, double v);
  // Element i as int64 (for shape / index inputs).
  int64_t get_as_int64(int64_t i) const;

  static Tensor scalar_f32(float v);
  static Tensor from_floats(const Shape& shape, const std::vector<float>& v);
  static Tensor from_int64s(const Shape& shape, const std::vector<int64_t>& v);

 private:
  DataType dtype_ = DataType::kFloat32;
  Shape shape_;
  // Value-initialises nothing unless asked: vector(n) leaves the bytes as
  // allocated, vector(n, 0) zero-fills.
  template <class T>
  struct DefaultInitAllocator : std::allocator<T> {
    template <class U> struct rebind { using other = DefaultInitAllocator<U>; };
    using std::allocator<T>::allocator;
    template <class U> void construct(U* p) { ::new (static_cast<void*>(p)) U; }
    template <class U, class... A> void construct(U* p, A&&... a) { ::new (static_cast<void*>(p)) U(std::forward<A>(a)...); }
  };
  using Bytes = std::vector<uint8_t, DefaultInitAllocator<uint8_t>>;
  Tensor(DataType dtype, Shape shape, bool zero);

  std::shared_ptr<Bytes> bytes_;
  std::shared_ptr<std::vector<std::string>> strings_;
};

// "float32[1,3,224,224]"
std::string tensor_desc(const Tensor& t);

}  // namespace glint
