// Builders shared by the CPU-kernel tests: attributes, small tensors and a
// node with numbered inputs and outputs.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/ir/graph.h"

namespace glint::test {

using Attrs = std::map<std::string, ir::Attribute>;

inline ir::Attribute ai(int64_t v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kInt; a.i = v; return a; }
inline ir::Attribute af(float v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kFloat; a.f = v; return a; }
inline ir::Attribute as(const std::string& v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kString; a.s = v; return a; }
inline ir::Attribute ais(std::vector<int64_t> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kInts; a.ints = std::move(v); return a; }
inline ir::Attribute afs(std::vector<float> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kFloats; a.floats = std::move(v); return a; }
inline ir::Attribute ass(std::vector<std::string> v) { ir::Attribute a; a.kind = ir::Attribute::Kind::kStrings; a.strings = std::move(v); return a; }
inline ir::Attribute at(const Tensor& t) { ir::Attribute a; a.kind = ir::Attribute::Kind::kTensor; a.t = t; return a; }

inline Tensor F(const Shape& s, const std::vector<float>& v) { return Tensor::from_floats(s, v); }
inline Tensor I64(const Shape& s, const std::vector<int64_t>& v) { return Tensor::from_int64s(s, v); }

// A node "n_<op>" reading in0..in{n_in-1} and writing out0..out{n_out-1}.
inline ir::Node make_node(const std::string& op, int opset, size_t n_in, Attrs attrs = {}, size_t n_out = 1) {
  ir::Node n;
  n.name = "n_" + op;
  n.op_type = op;
  n.opset = opset;
  for (size_t i = 0; i < n_in; ++i) n.inputs.push_back("in" + std::to_string(i));
  for (size_t i = 0; i < n_out; ++i) n.outputs.push_back("out" + std::to_string(i));
  n.attrs = std::move(attrs);
  return n;
}

}  // namespace glint::test
