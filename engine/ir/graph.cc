#include "engine/ir/graph.h"

#include <set>
#include <sstream>

namespace glint::ir {

std::string Attribute::cache_key() const {
  std::ostringstream os;
  switch (kind) {
    case Kind::kFloat: os << f; break;
    case Kind::kInt: os << i; break;
    case Kind::kString: os << '"' << s << '"'; break;
    case Kind::kFloats: for (float v : floats) os << v << ','; break;
    case Kind::kInts: for (int64_t v : ints) os << v << ','; break;
    case Kind::kStrings: for (auto& v : strings) os << v << ','; break;
    case Kind::kTensor: os << tensor_desc(t); break;
    default: os << "?"; break;
  }
  return os.str();
}

const Attribute* Node::attr(std::string_view n) const {
  auto it = attrs.find(n);
  return it == attrs.end() ? nullptr : &it->second;
}

int64_t Node::attr_int(std::string_view n, int64_t dflt) const {
  auto* a = attr(n);
  return a ? a->i : dflt;
}
float Node::attr_float(std::string_view n, float dflt) const {
  auto* a = attr(n);
  return a ? a->f : dflt;
}
std::string Node::attr_string(std::string_view n, const std::string& dflt) const {
  auto* a = attr(n);
  return a ? a->s : dflt;
}
std::vector<int64_t> Node::attr_ints(std::string_view n, std::vector<int64_t> dflt) const {
  auto* a = attr(n);
  return a ? a->ints : dflt;
}
std::vector<float> Node::attr_floats(std::string_view n, std::vector<float> dflt) const {
  auto* a = attr(n);
  return a ? a->floats : dflt;
}

std::string Node::describe() const {
  std::ostringstream os;
  os << "node '" << (name.empty() ? (outputs.empty() ? std::string("?") : outputs[0]) : name)
     << "' (" << (domain.empty() ? "" : domain + ".") << op_type << ", opset " << opset << ")";
  return os.str();
}

bool ValueInfo::fully_known() const {
  if (!has_shape) return false;
  for (auto& d : dims) if (!d.known()) return false;
  return true;
}

Shape ValueInfo::concrete() const {
  Shape s;
  s.reserve(dims.size());
  for (auto& d : dims) s.push_back(d.value);
  return s;
}

std::string ValueInfo::describe() const {
  std::ostringstream os;
  switch (kind) {
    case TypeKind::kSequence: return "sequence<" + dtype_name(dtype) + ">";
    case TypeKind::kOptionalTensor: os << "optional<" << dtype_name(dtype) << ">"; return os.str();
    case TypeKind::kOptionalSequence: return "optional<sequence<" + dtype_name(dtype) + ">>";
    case TypeKind::kOther: return "non-tensor";
    case TypeKind::kTensor: break;
  }
  os << dtype_name(dtype);
  if (!has_shape) return os.str() + "[?]";
  os << "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) os << ",";
    if (dims[i].known()) os << dims[i].value;
    else os << (dims[i].symbol.empty() ? "?" : dims[i].symbol);
  }
  os << "]";
  return os.str();
}

ValueInfo ValueInfo::of(DataType dtype, const Shape& shape) {
  ValueInfo v;
  v.dtype = dtype;
  v.has_shape = true;
  v.dims.reserve(shape.size());
  for (int64_t d : shape) v.dims.push_back(Dim{d, {}});
  return v;
}

ValueInfo ValueInfo::of(const Tensor& t) { return of(t.dtype(), t.shape()); }

const ValueInfo* Graph::info(const std::string& n) const {
  auto it = values.find(n);
  return it == values.end() ? nullptr : &it->second;
}

Result<std::vector<size_t>> topological_order(const Graph& g) {
  std::map<std::string, size_t> producer;
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (auto& o : g.nodes[i].outputs)
      if (!o.empty()) producer[o] = i;
  std::vector<int> state(g.nodes.size(), 0);  // 0 new, 1 visiting, 2 done
  std::vector<size_t> order;
  order.reserve(g.nodes.size());
  // Iterative DFS so that deep graphs cannot overflow the stack.
  for (size_t root = 0; root < g.nodes.size(); ++root) {
    if (state[root]) continue;
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    state[root] = 1;
    while (!stack.empty()) {
      auto& [n, next_input] = stack.back();
      const Node& node = g.nodes[n];
      if (next_input < node.inputs.size() + node.implicit_inputs.size()) {
        size_t k = next_input++;
        const std::string& in = k < node.inputs.size() ? node.inputs[k]
                                                       : node.implicit_inputs[k - node.inputs.size()];
        auto it = producer.find(in);
        if (in.empty() || it == producer.end()) continue;
        size_t p = it->second;
        if (state[p] == 1)
          return invalid_model(node.describe() + ": the graph has a cycle through value '" + in + "'");
        if (state[p] == 0) {
          state[p] = 1;
          stack.push_back({p, 0});
        }
        continue;
      }
      state[n] = 2;
      order.push_back(n);
      stack.pop_back();
    }
  }
  return order;
}

std::vector<std::string> free_values(const Graph& g) {
  std::set<std::string> defined(g.inputs.begin(), g.inputs.end());
  for (auto& [name, t] : g.initializers) defined.insert(name);
  for (auto& n : g.nodes)
    for (auto& o : n.outputs) defined.insert(o);
  std::set<std::string> seen;
  std::vector<std::string> out;
  auto use = [&](const std::string& v) {
    if (!v.empty() && !defined.count(v) && seen.insert(v).second) out.push_back(v);
  };
  for (auto& n : g.nodes) {
    for (auto& in : n.inputs) use(in);
    for (auto& in : n.implicit_inputs) use(in);
  }
  for (auto& o : g.outputs) use(o);
  return out;
}

Status check_references(const Graph& g) {
  std::set<std::string> known(g.inputs.begin(), g.inputs.end());
  for (auto& [name, t] : g.initializers) known.insert(name);
  for (auto& n : g.nodes)
    for (auto& o : n.outputs)
      if (!o.empty()) known.insert(o);
  for (auto& n : g.nodes) {
    for (auto& in : n.inputs)
      if (!in.empty() && !known.count(in))
        return invalid_model(n.describe() + ": input '" + in +
                             "' is not a graph input, an initializer or any node's output");
    for (auto& in : n.implicit_inputs)
      if (!known.count(in))
        return invalid_model(n.describe() + ": a subgraph reads '" + in +
                             "', which is not defined in any enclosing graph");
  }
  for (auto& o : g.outputs)
    if (!known.count(o)) return invalid_model("graph output '" + o + "' is produced by no node");
  return Status::Ok();
}

}  // namespace glint::ir
