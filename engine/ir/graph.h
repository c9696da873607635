// The in-memory graph every pass reads and rewrites. Values are referenced by
// name (as in ONNX); an empty input name is an absent optional input.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace glint::ir {

// Attribute names starting with this are glint's own (the passes record
// what they fused under it); the loader rejects them in user models, so a
// model cannot inject or spoof them.
inline constexpr const char* kReservedAttrPrefix = "glint.";
inline bool is_reserved_attr_name(const std::string& name) {
  return name.compare(0, std::char_traits<char>::length(kReservedAttrPrefix), kReservedAttrPrefix) == 0;
}

struct Graph;

struct Attribute {
  enum class Kind { kUndefined, kFloat, kInt, kString, kTensor, kGraph, kFloats, kInts, kStrings,
                    kTensors, kGraphs };
  Kind kind = Kind::kUndefined;
  float f = 0.f;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;

  // An int or a float attribute (what the rewriting passes set on nodes).
  static Attribute of_int(int64_t v) {
    Attribute a;
    a.kind = Kind::kInt;
    a.i = v;
    return a;
  }
  static Attribute of_float(float v) {
    Attribute a;
    a.kind = Kind::kFloat;
    a.f = v;
    return a;
  }
  // A stable text form, used in program cache keys and `glint info`.
  std::string cache_key() const;
  // The subgraphs this attribute holds (a kGraph's one, a kGraphs' list).
  std::vector<Graph*> subgraphs() const {
    std::vector<Graph*> out;
    if (kind == Kind::kGraph && g) out.push_back(g.get());
    if (kind == Kind::kGraphs)
      for (auto& sg : graphs)
        if (sg) out.push_back(sg.get());
    return out;
  }
};

// By name; std::less<>: looked up by string_view, so that a lookup by a
// literal (kernels read their attributes on every run) builds no string.
using Attributes = std::map<std::string, Attribute, std::less<>>;

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for ai.onnx
  int opset = 0;       // the model's opset for `domain`, resolved at load
  std::vector<std::string> inputs;   // "" = absent optional input
  std::vector<std::string> outputs;  // "" = unused optional output
  Attributes attrs;
  // Outer-scope values that subgraph attributes (Loop/If/Scan bodies) read
  // without naming them as inputs; filled by the loader, used for ordering and
  // liveness.
  std::vector<std::string> implicit_inputs;

  bool has_attr(std::string_view n) const { return attrs.find(n) != attrs.end(); }
  int64_t attr_int(std::string_view n, int64_t dflt) const;
  float attr_float(std::string_view n, float dflt) const;
  std::string attr_string(std::string_view n, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(std::string_view n, std::vector<int64_t> dflt = {}) const;
  std::vector<float> attr_floats(std::string_view n, std::vector<float> dflt = {}) const;
  const Attribute* attr(std::string_view n) const;

  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  bool has_output(size_t i) const { return i < outputs.size() && !outputs[i].empty(); }
  // Shape and Size: they read their input's shape, never its data, so they
  // can run wherever the shape is known (folding, the CPU beside a GPU input).
  bool reads_only_input_shape() const { return domain.empty() && (op_type == "Shape" || op_type == "Size"); }
  // "node 'conv1' (Conv, opset 7)" — the prefix of every error about a node.
  std::string describe() const;
};

// One dimension of a declared shape: a number, or a symbol ("batch"), or unknown.
struct Dim {
  int64_t value = -1;  // -1 when symbolic or unknown
  std::string symbol;
  bool known() const { return value >= 0; }
};

// What a declared value is: most are tensors; sequences and optionals come
// from sequence ops and control flow.
enum class TypeKind { kTensor, kSequence, kOptionalTensor, kOptionalSequence, kOther };

struct ValueInfo {
  TypeKind kind = TypeKind::kTensor;
  DataType dtype = DataType::kUndefined;  // the element dtype for sequences / optionals
  bool has_shape = false;  // false: rank unknown
  std::vector<Dim> dims;

  bool fully_known() const;
  Shape concrete() const;  // unknown dims become -1
  std::string describe() const;  // "float32[batch,3,224,224]"
  static ValueInfo of(const Tensor& t);
  static ValueInfo of(DataType dtype, const Shape& shape);
};

struct Graph {
  std::string name;
  std::vector<Node> nodes;
  std::map<std::string, Tensor> initializers;  // constants, including folded ones
  std::vector<std::string> inputs;             // runtime inputs (initializers excluded)
  std::vector<std::string> outputs;
  std::map<std::string, ValueInfo> values;     // declared or inferred per value name
  std::map<std::string, int64_t> opsets;       // domain ("" = ai.onnx) -> version
  int64_t ir_version = 0;

  bool is_constant(const std::string& name) const { return initializers.count(name) != 0; }
  const ValueInfo* info(const std::string& name) const;
};

// Values a graph reads from an enclosing scope: node inputs (also of nested
// subgraphs) that are neither defined inside it nor its inputs/initializers.
std::vector<std::string> free_values(const Graph& g);

// Nodes in an order where each node comes after the producers of its inputs.
// Fails naming a value that nothing produces or a cycle.
Result<std::vector<size_t>> topological_order(const Graph& g);

// Checks every node input is a graph input, an initializer or some node's
// output; names the first node that references a missing value.
Status check_references(const Graph& g);

}  // namespace glint::ir
