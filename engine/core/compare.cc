#include "engine/core/compare.h"

#include <cmath>
#include <sstream>

namespace glint {

Comparison compare_tensors(const Tensor& got, const Tensor& want, double rtol, double atol) {
  Comparison c;
  auto fail = [&](const std::string& m) {
    c.equal = false;
    if (c.mismatch.empty()) c.mismatch = m;
  };
  if (got.shape() != want.shape()) {
    fail("shape " + shape_str(got.shape()) + " != expected " + shape_str(want.shape()));
    return c;
  }
  bool float_like = is_float(got.dtype()) && is_float(want.dtype());
  if (got.dtype() != want.dtype() && !float_like) {
    fail("dtype " + dtype_name(got.dtype()) + " != expected " + dtype_name(want.dtype()));
    return c;
  }
  if (got.dtype() == DataType::kString) {
    for (int64_t i = 0; i < got.size(); ++i)
      if (got.strings()[i] != want.strings()[i]) {
        fail("element " + std::to_string(i) + ": \"" + got.strings()[i] + "\" != \"" + want.strings()[i] + "\"");
        break;
      }
    return c;
  }
  for (int64_t i = 0; i < got.size(); ++i) {
    if (!is_float(want.dtype())) {
      int64_t g = got.get_as_int64(i), w = want.get_as_int64(i);
      if (want.dtype() == DataType::kUint64) {
        if (got.data<uint64_t>()[i] != want.data<uint64_t>()[i]) fail("element " + std::to_string(i) + " differs");
        continue;
      }
      if (g != w) {
        c.max_abs_diff = std::max(c.max_abs_diff, std::fabs(static_cast<double>(g - w)));
        fail("element " + std::to_string(i) + ": " + std::to_string(g) + " != expected " + std::to_string(w));
      }
      continue;
    }
    double g = got.get_as_double(i), w = want.get_as_double(i);
    if (std::isnan(w) || std::isnan(g)) {
      if (std::isnan(w) != std::isnan(g)) {
        std::ostringstream os;
        os << "element " << i << ": " << g << " != expected " << w;
        fail(os.str());
      }
      continue;
    }
    if (std::isinf(w) || std::isinf(g)) {
      if (g != w) {
        std::ostringstream os;
        os << "element " << i << ": " << g << " != expected " << w;
        fail(os.str());
      }
      continue;
    }
    double d = std::fabs(g - w);
    c.max_abs_diff = std::max(c.max_abs_diff, d);
    if (d > atol + rtol * std::fabs(w)) {
      std::ostringstream os;
      os.precision(8);
      os << "element " << i << ": " << g << " != expected " << w << " (|diff| " << d << ")";
      fail(os.str());
    }
  }
  return c;
}

}  // namespace glint
