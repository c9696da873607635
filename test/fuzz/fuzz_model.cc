// libFuzzer target: the whole path a model file takes through the engine.
// The fuzz input is the model's bytes: parse (protobuf), import and validate
// (engine/onnx), create a session on the CPU backend (passes, folding, plan),
// then one run with inputs made from the model's declared inputs. A hostile
// model may fail anywhere with a Status; what the fuzzer reports (a signal,
// a sanitizer error, a leak, a hang, running out of memory) is a bug.
// Built with GLINT_FUZZ_GPU (glint_fuzz_gpu_run, the fuzz-gl preset: GL on
// Mesa's llvmpipe) the session is the default backend's instead: the GPU
// plan, programs compiled and drawn, textures uploaded and read back, and
// the CPU fallback between them.
//
// Inputs: declared dims as given, symbolic or unknown dims 1..4 and values
// drawn from a generator seeded by a hash of the bytes, so that one input
// reproduces one run. Integer values are small (-2..5) so that indices,
// axes and shapes fed at run time are mostly valid and the kernels run.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "engine/runtime/session.h"

namespace {

// Feeds past this many elements are the harness's refusal, not a finding:
// the model declared an input too large to make up.
constexpr int64_t kMaxFeedElements = 1 << 16;
// The session's memory cap: within libFuzzer's default 2 GiB RSS limit, with
// room for ASan's shadow and redzones.
constexpr int64_t kSessionMemoryCap = int64_t{256} << 20;

uint64_t fnv1a(const uint8_t* data, size_t size) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) h = (h ^ data[i]) * 1099511628211ull;
  return h;
}

// A tensor of the declared dtype and shape (symbolic dims drawn 1..4), or
// nothing when the harness cannot make one (unsupported dtype, too large).
bool make_tensor(const glint::ir::ValueInfo& info, std::mt19937_64& rng, glint::Tensor* out) {
  using glint::DataType;
  DataType dtype = info.dtype == DataType::kUndefined ? DataType::kFloat32 : info.dtype;
  if (!glint::is_supported_storage(dtype)) return false;
  glint::Shape shape;
  if (info.has_shape) {
    for (const auto& d : info.dims) shape.push_back(d.known() ? d.value : 1 + static_cast<int64_t>(rng() % 4));
  } else {
    size_t rank = rng() % 3;
    for (size_t i = 0; i < rank; ++i) shape.push_back(1 + static_cast<int64_t>(rng() % 4));
  }
  int64_t n = 0;
  if (!glint::checked_shape_size(shape, &n) || n > kMaxFeedElements) return false;
  glint::Tensor t(dtype, shape);
  if (dtype == DataType::kString) {
    for (auto& s : t.strings()) s = std::string(rng() % 4, static_cast<char>('a' + rng() % 26));
  } else if (glint::is_float(dtype)) {
    std::uniform_real_distribution<double> dist(-2.0, 2.0);
    for (int64_t i = 0; i < n; ++i) t.set_from_double(i, dist(rng));
  } else if (dtype == DataType::kBool) {
    for (int64_t i = 0; i < n; ++i) t.set_from_double(i, static_cast<double>(rng() & 1));
  } else {
    bool is_unsigned = dtype == DataType::kUint8 || dtype == DataType::kUint16 ||
                       dtype == DataType::kUint32 || dtype == DataType::kUint64;
    for (int64_t i = 0; i < n; ++i)
      t.set_from_double(i, static_cast<double>(static_cast<int64_t>(rng() % 8) - (is_unsigned ? 0 : 2)));
  }
  *out = t;
  return true;
}

bool make_value(const glint::ir::ValueInfo& info, std::mt19937_64& rng, glint::Value* out) {
  using glint::ir::TypeKind;
  switch (info.kind) {
    case TypeKind::kTensor: {
      glint::Tensor t;
      if (!make_tensor(info, rng, &t)) return false;
      *out = glint::Value::of(t);
      return true;
    }
    case TypeKind::kOptionalTensor:
      if (rng() % 2) {
        *out = glint::Value::none(info.dtype);
        return true;
      }
      return make_value(glint::ir::ValueInfo{TypeKind::kTensor, info.dtype, info.has_shape, info.dims}, rng, out);
    case TypeKind::kSequence:
    case TypeKind::kOptionalSequence: {
      if (info.kind == TypeKind::kOptionalSequence && rng() % 2) {
        *out = glint::Value::none(info.dtype);
        return true;
      }
      std::vector<glint::Tensor> items(rng() % 3);
      glint::ir::ValueInfo element{TypeKind::kTensor, info.dtype, info.has_shape, info.dims};
      for (auto& item : items)
        if (!make_tensor(element, rng, &item)) return false;
      *out = glint::Value::of_sequence(std::move(items), info.dtype);
      return true;
    }
    default:
      return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // One CPU thread: runs reproduce exactly, and the fuzzer's machine is small.
  setenv("GLINT_NUM_THREADS", "1", 0);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  glint::SessionOptions options;
#ifdef GLINT_FUZZ_GPU
  options.backend = glint::BackendMode::kDefault;
#else
  options.backend = glint::BackendMode::kCpu;
#endif
  options.memory_cap = kSessionMemoryCap;
  auto session = glint::Session::create(data, size, options);
  if (!session.ok()) return 0;

  std::mt19937_64 rng(fnv1a(data, size));
  std::map<std::string, glint::Value> feeds;
  for (const auto& io : session.value()->inputs()) {
    glint::Value v;
    if (!make_value(io.info, rng, &v)) return 0;
    feeds[io.name] = std::move(v);
  }
  auto outputs = session.value()->run_values(feeds);
  (void)outputs;  // a Status is a fine answer; only crashes, leaks and hangs are findings
  return 0;
}
