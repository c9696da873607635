// The one set of builders every test shares: node attributes by kind. (Tensor
// builders live with the tests that use them: cpu_test_util.h for literal
// tensors, test_gpu_kernels.cc for random input specs.)
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::test {

using Attrs = ir::Attributes;

inline ir::Attribute ai(int64_t v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kInt; a.i = v; return a; }
inline ir::Attribute af(float v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kFloat; a.f = v; return a; }
inline ir::Attribute as(const std::string& v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kString; a.s = v; return a; }
inline ir::Attribute ais(std::vector<int64_t> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kInts; a.ints = std::move(v); return a; }
inline ir::Attribute afs(std::vector<float> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kFloats; a.floats = std::move(v); return a; }
inline ir::Attribute ass(std::vector<std::string> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kStrings; a.strings = std::move(v); return a; }
inline ir::Attribute at(const Tensor& t) { ir::Attribute a; a.kind = ir::Attribute::Kind::kTensor; a.t = t; return a; }

}  // namespace glint::test
