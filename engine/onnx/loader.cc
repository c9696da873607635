#include "engine/onnx/loader.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

#include "engine/onnx/tensor_proto.h"
#include "onnx/onnx.pb.h"
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

namespace glint::onnx_loader {

namespace {

// Protobuf refuses messages over 2 GiB anyway; this also bounds recursion of
// hostile nested subgraphs.
constexpr int kMaxSubgraphDepth = 32;

std::string describe_bytes(const void* data, size_t size) {
  const char* c = static_cast<const char*>(data);
  std::string head(c, std::min<size_t>(size, 64));
  std::string lower;
  for (char ch : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower.find("<!doctype") != std::string::npos || lower.find("<html") != std::string::npos)
    return " (it looks like an HTML page, e.g. an error page served instead of the model)";
  if (lower.rfind("{", 0) == 0) return " (it looks like JSON)";
  if (size >= 4 && head.compare(0, 4, "\x89PNG") == 0) return " (it is a PNG image)";
  return "";
}

ir::ValueInfo tensor_info(const onnx::TypeProto_Tensor& tt) {
  ir::ValueInfo info;
  info.dtype = static_cast<DataType>(tt.elem_type());
  if (tt.has_shape()) {
    info.has_shape = true;
    for (const auto& d : tt.shape().dim()) {
      ir::Dim dim;
      if (d.has_dim_value()) dim.value = d.dim_value();
      else if (d.has_dim_param()) dim.symbol = d.dim_param();
      info.dims.push_back(dim);
    }
  }
  return info;
}

// Element dtype of a sequence's or optional's tensor type, if it has one.
DataType element_dtype(const onnx::TypeProto& t) {
  if (t.has_tensor_type()) return static_cast<DataType>(t.tensor_type().elem_type());
  if (t.has_sequence_type()) return element_dtype(t.sequence_type().elem_type());
  if (t.has_optional_type()) return element_dtype(t.optional_type().elem_type());
  return DataType::kUndefined;
}

ir::ValueInfo value_info_from_proto(const onnx::ValueInfoProto& v) {
  ir::ValueInfo info;
  if (!v.has_type()) return info;
  const auto& t = v.type();
  if (t.has_tensor_type()) return tensor_info(t.tensor_type());
  info.dtype = element_dtype(t);
  if (t.has_sequence_type()) {
    info.kind = ir::TypeKind::kSequence;
  } else if (t.has_optional_type()) {
    info.kind = t.optional_type().elem_type().has_sequence_type() ? ir::TypeKind::kOptionalSequence
                                                                 : ir::TypeKind::kOptionalTensor;
  } else {
    info.kind = ir::TypeKind::kOther;
  }
  return info;
}

// A declared elem_type past the ONNX enum (44, say) would reach the kernels
// as a dtype of no size; refuse it where the model declares it.
Status check_declared_dtype(const ir::ValueInfo& info, const std::string& what) {
  const int code = static_cast<int>(info.dtype);
  if (code < 0 || code > static_cast<int>(DataType::kBFloat16))
    return invalid_model(what + " declares elem_type " + std::to_string(code) + ", which is not an ONNX data type");
  return Status::Ok();
}

// What reading a model's graphs needs besides the protos: the opsets it
// imports and where its external data lives (null: nowhere).
struct ReadContext {
  const std::map<std::string, int64_t>& opsets;
  const ExternalDataFn* external;
};

Result<ir::Graph> graph_from_proto(const onnx::GraphProto& gp, const ReadContext& rc, int depth);

Result<ir::Attribute> attribute_from_proto(const onnx::AttributeProto& a, const std::string& node_desc,
                                           const ReadContext& rc, int depth) {
  using K = ir::Attribute::Kind;
  ir::Attribute out;
  std::string what = node_desc + " attribute '" + a.name() + "'";
  if (!a.ref_attr_name().empty())
    return unsupported(what + ": attribute references (functions) are not supported");
  // glint's passes record internal state (fused activations) under this
  // prefix; a model must not be able to set it.
  if (ir::is_reserved_attr_name(a.name()))
    return invalid_model(what + ": the prefix '" + ir::kReservedAttrPrefix + "' is reserved for glint's own attributes");
  switch (a.type()) {
    case onnx::AttributeProto::FLOAT: out.kind = K::kFloat; out.f = a.f(); break;
    case onnx::AttributeProto::INT: out.kind = K::kInt; out.i = a.i(); break;
    case onnx::AttributeProto::STRING: out.kind = K::kString; out.s = a.s(); break;
    case onnx::AttributeProto::FLOATS:
      out.kind = K::kFloats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto::INTS:
      out.kind = K::kInts;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto::STRINGS:
      out.kind = K::kStrings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case onnx::AttributeProto::TENSOR: {
      out.kind = K::kTensor;
      GLINT_ASSIGN_OR_RETURN(out.t, tensor_from_proto(a.t(), what, rc.external));
      break;
    }
    case onnx::AttributeProto::TENSORS:
      out.kind = K::kTensors;
      for (const auto& t : a.tensors()) {
        GLINT_ASSIGN_OR_RETURN(Tensor v, tensor_from_proto(t, what, rc.external));
        out.tensors.push_back(std::move(v));
      }
      break;
    case onnx::AttributeProto::GRAPH: {
      out.kind = K::kGraph;
      GLINT_ASSIGN_OR_RETURN(ir::Graph g, graph_from_proto(a.g(), rc, depth + 1));
      out.g = std::make_shared<ir::Graph>(std::move(g));
      break;
    }
    case onnx::AttributeProto::GRAPHS:
      out.kind = K::kGraphs;
      for (const auto& gp : a.graphs()) {
        GLINT_ASSIGN_OR_RETURN(ir::Graph g, graph_from_proto(gp, rc, depth + 1));
        out.graphs.push_back(std::make_shared<ir::Graph>(std::move(g)));
      }
      break;
    case onnx::AttributeProto::TYPE_PROTO:
    case onnx::AttributeProto::TYPE_PROTOS:
      // Type attributes (Optional, SequenceEmpty's dtype is an int) are kept
      // opaque: the kernels that need them read the op's own defaults.
      out.kind = K::kUndefined;
      break;
    case onnx::AttributeProto::SPARSE_TENSOR:
    case onnx::AttributeProto::SPARSE_TENSORS:
      return unsupported(what + ": sparse tensor attributes are not supported");
    default:
      // Old exporters leave `type` unset; infer it from the field that is filled.
      if (a.has_f()) { out.kind = K::kFloat; out.f = a.f(); }
      else if (a.has_i()) { out.kind = K::kInt; out.i = a.i(); }
      else if (a.has_s()) { out.kind = K::kString; out.s = a.s(); }
      else if (a.floats_size()) { out.kind = K::kFloats; out.floats.assign(a.floats().begin(), a.floats().end()); }
      else if (a.ints_size()) { out.kind = K::kInts; out.ints.assign(a.ints().begin(), a.ints().end()); }
      else if (a.has_t()) {
        out.kind = K::kTensor;
        GLINT_ASSIGN_OR_RETURN(out.t, tensor_from_proto(a.t(), what, rc.external));
      } else {
        return invalid_model(what + ": attribute has no type and no value");
      }
  }
  return out;
}

Result<ir::Graph> graph_from_proto(const onnx::GraphProto& gp, const ReadContext& rc, int depth) {
  if (depth > kMaxSubgraphDepth)
    return invalid_model("subgraphs are nested deeper than " + std::to_string(kMaxSubgraphDepth));
  ir::Graph g;
  g.name = gp.name();
  g.opsets = rc.opsets;
  for (const auto& init : gp.initializer()) {
    if (init.name().empty()) return invalid_model("graph '" + gp.name() + "' has an initializer without a name");
    GLINT_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(init, "initializer '" + init.name() + "'", rc.external));
    g.values[init.name()] = ir::ValueInfo::of(t);
    g.initializers[init.name()] = std::move(t);
  }
  if (gp.sparse_initializer_size() > 0)
    return unsupported("graph '" + gp.name() + "': sparse initializers are not supported");
  std::set<std::string> seen_inputs;
  // A graph's inputs and outputs are found by name; an empty name is no
  // name (a node's empty input means "absent"), and the plan would have
  // nothing to bind it to (the default-backend fuzzer: an If branch whose
  // output was named "" wrote past the end of the run's value table).
  for (int i = 0; i < gp.input_size(); ++i)
    if (gp.input(i).name().empty())
      return invalid_model("graph '" + gp.name() + "': input " + std::to_string(i) + " has no name");
  for (int i = 0; i < gp.output_size(); ++i)
    if (gp.output(i).name().empty())
      return invalid_model("graph '" + gp.name() + "': output " + std::to_string(i) + " has no name");
  for (const auto& in : gp.input()) {
    if (!seen_inputs.insert(in.name()).second)
      return invalid_model("graph input '" + in.name() + "' is listed twice");
    // An initializer that is also listed as an input is a constant (old
    // exporters list every weight as an input; SqueezeNet fp16 does).
    if (g.initializers.count(in.name())) continue;
    g.inputs.push_back(in.name());
    g.values[in.name()] = value_info_from_proto(in);
    GLINT_RETURN_IF_ERROR(check_declared_dtype(g.values[in.name()], "graph input '" + in.name() + "'"));
  }
  for (const auto& out : gp.output()) {
    g.outputs.push_back(out.name());
    auto info = value_info_from_proto(out);
    GLINT_RETURN_IF_ERROR(check_declared_dtype(info, "graph output '" + out.name() + "'"));
    if (info.dtype != DataType::kUndefined && !g.values.count(out.name())) g.values[out.name()] = info;
  }
  for (const auto& vi : gp.value_info()) {
    auto info = value_info_from_proto(vi);
    GLINT_RETURN_IF_ERROR(check_declared_dtype(info, "value_info '" + vi.name() + "'"));
    if (info.dtype != DataType::kUndefined && !g.values.count(vi.name())) g.values[vi.name()] = info;
  }
  std::set<std::string> produced;
  for (const auto& np : gp.node()) {
    ir::Node n;
    n.name = np.name();
    n.op_type = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    n.inputs.assign(np.input().begin(), np.input().end());
    n.outputs.assign(np.output().begin(), np.output().end());
    if (n.op_type.empty()) return invalid_model("node '" + n.name + "' has no op_type");
    auto it = rc.opsets.find(n.domain);
    if (it == rc.opsets.end())
      return invalid_model("node '" + n.name + "' (" + n.op_type + ") uses domain '" + n.domain +
                           "', which the model's opset_import does not declare");
    n.opset = static_cast<int>(it->second);
    // Every ONNX op has an output; the shape functions and kernels write
    // outputs[0] (found by the GPU-plan fuzzer: a Size with none).
    if (n.outputs.empty()) return invalid_model(n.describe() + ": the node lists no outputs");
    for (const auto& o : n.outputs) {
      if (o.empty()) continue;
      if (!produced.insert(o).second) return invalid_model(n.describe() + ": value '" + o + "' is produced twice");
    }
    for (const auto& a : np.attribute()) {
      GLINT_ASSIGN_OR_RETURN(ir::Attribute attr, attribute_from_proto(a, n.describe(), rc, depth));
      n.attrs[a.name()] = std::move(attr);
    }
    for (auto& [name, a] : n.attrs) {
      std::vector<std::shared_ptr<ir::Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs)
        for (auto& v : ir::free_values(*sub)) n.implicit_inputs.push_back(v);
    }
    g.nodes.push_back(std::move(n));
  }
  return g;
}

// How deep subgraphs nest (If / Loop / Scan bodies within bodies), read from
// the wire without recursion, for models too deep for protobuf to parse. It
// follows only ModelProto.graph (7) -> GraphProto.node (1) ->
// NodeProto.attribute (5) -> AttributeProto.g (6) / graphs (11) -> GraphProto
// and skips every other field; each byte is read once, whatever the depth.
// -1 when those messages are not well-formed wire data.
int subgraph_depth_on_wire(const void* data, size_t size) {
  enum class Kind { kModel, kGraph, kNode, kAttribute };
  struct Span {
    const uint8_t* begin;
    int size;
    Kind kind;
    int depth;  // graphs above and including this message
  };
  std::vector<Span> todo = {{static_cast<const uint8_t*>(data), static_cast<int>(size), Kind::kModel, 0}};
  int deepest = 0;
  while (!todo.empty()) {
    Span span = todo.back();
    todo.pop_back();
    google::protobuf::io::CodedInputStream in(span.begin, span.size);
    while (uint32_t tag = in.ReadTag()) {
      const uint32_t field = tag >> 3;
      const bool followed = (tag & 7) == 2 &&
                            ((span.kind == Kind::kModel && field == 7) || (span.kind == Kind::kGraph && field == 1) ||
                             (span.kind == Kind::kNode && field == 5) ||
                             (span.kind == Kind::kAttribute && (field == 6 || field == 11)));
      if (!followed) {
        if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) return -1;
        continue;
      }
      uint32_t length;
      if (!in.ReadVarint32(&length) || length > static_cast<uint32_t>(span.size - in.CurrentPosition())) return -1;
      const uint8_t* begin = span.begin + in.CurrentPosition();
      if (!in.Skip(static_cast<int>(length))) return -1;
      Kind kind = span.kind == Kind::kGraph ? Kind::kNode
                  : span.kind == Kind::kNode ? Kind::kAttribute
                                             : Kind::kGraph;
      int depth = kind == Kind::kGraph ? span.depth + 1 : span.depth;
      deepest = std::max(deepest, depth);
      todo.push_back({begin, static_cast<int>(length), kind, depth});
    }
    if (!in.ConsumedEntireMessage() || in.CurrentPosition() != span.size) return -1;
  }
  return std::max(0, deepest - 1);  // the main graph is not a subgraph
}

}  // namespace

Result<ir::Graph> load_model(const void* data, size_t size, const ExternalDataFn& external) {
  if (data == nullptr || size == 0) return invalid_model("the model is empty (0 bytes)");
  onnx::ModelProto model;
  if (size > static_cast<size_t>(INT32_MAX))
    return invalid_model("the model is " + std::to_string(size) + " bytes, over the 2 GiB a protobuf can hold");
  if (!model.ParseFromArray(data, static_cast<int>(size))) {
    // Past protobuf's recursion limit (100 nested messages: about 33
    // subgraphs within subgraphs) a well-formed model fails like a broken
    // one. A second parse with a higher limit (bounded, so that a hostile
    // depth cannot exhaust the stack) tells the two apart.
    constexpr int kDeeperLimit = 400;
    google::protobuf::io::CodedInputStream deeper(static_cast<const uint8_t*>(data), static_cast<int>(size));
    deeper.SetRecursionLimit(kDeeperLimit);
    onnx::ModelProto probe;
    if (probe.MergeFromCodedStream(&deeper) && deeper.ConsumedEntireMessage())
      return invalid_model("the model nests deeper than the parser's limit of 100 nested messages (about 33 "
                           "subgraphs within subgraphs); glint does not read models nested that deep");
    // Deeper still: the wire data along the subgraph path tells nesting from garbage.
    const int depth = subgraph_depth_on_wire(data, size);
    if (depth > kMaxSubgraphDepth)
      return invalid_model("the model nests deeper than the parser's limit of 100 nested messages: its subgraphs "
                           "nest " + std::to_string(depth) + " levels deep (about 33 can be read); glint does not "
                           "read models nested that deep");
    return invalid_model("not an ONNX model: the " + std::to_string(size) +
                         " bytes do not parse as an onnx.ModelProto (truncated, another format, or nested deeper "
                         "than " + std::to_string(kDeeperLimit) + " messages)" + describe_bytes(data, size));
  }
  if (!model.has_graph() || (model.graph().node_size() == 0 && model.graph().output_size() == 0))
    return invalid_model("not an ONNX model: it has no graph" + describe_bytes(data, size));
  if (model.ir_version() <= 0)
    return invalid_model("not an ONNX model: ir_version is missing" + describe_bytes(data, size));
  std::map<std::string, int64_t> opsets;
  for (const auto& o : model.opset_import()) {
    std::string d = o.domain() == "ai.onnx" ? "" : o.domain();
    opsets[d] = o.version();
  }
  // IR version 3+ requires opset_import; older models imply ai.onnx opset 1.
  if (opsets.empty()) opsets[""] = 1;
  auto it = opsets.find("");
  if (it != opsets.end() && (it->second < kMinOnnxOpset || it->second > kMaxOnnxOpset))
    return unsupported("the model imports ai.onnx opset " + std::to_string(it->second) +
                       "; glint supports opsets " + std::to_string(kMinOnnxOpset) + " to " +
                       std::to_string(kMaxOnnxOpset));
  const ReadContext rc{opsets, external ? &external : nullptr};
  GLINT_ASSIGN_OR_RETURN(ir::Graph g, graph_from_proto(model.graph(), rc, 0));
  g.ir_version = model.ir_version();
  if (g.outputs.empty()) return invalid_model("the model's graph declares no outputs");
  GLINT_RETURN_IF_ERROR(ir::check_references(g));
  return g;
}

std::string model_dir(const std::string& model_path) {
  const size_t slash = model_path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : model_path.substr(0, slash);
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) return io_error("cannot open '" + path + "'");
  const std::streamoff size = f.tellg();
  if (size >= 0) {
    // Read straight into the string: a stream buffer would hold a second
    // copy of a model or weights file of gigabytes.
    std::string bytes(static_cast<size_t>(size), '\0');
    f.seekg(0);
    if (!f.read(bytes.data(), size)) return io_error("cannot read '" + path + "'");
    return bytes;
  }
  f.clear();
  f.seekg(0);
  std::ostringstream ss;  // not seekable (a pipe): as it comes
  ss << f.rdbuf();
  if (f.bad()) return io_error("cannot read '" + path + "'");
  return ss.str();
}

Result<ir::Graph> load_model_file(const std::string& path) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  auto g = load_model(bytes.data(), bytes.size(), external_data_in_dir(model_dir(path)));
  if (!g.ok()) return g.status().with_context(path);
  return g;
}

Result<Tensor> load_tensor_pb(const void* data, size_t size, std::string* name) {
  onnx::TensorProto p;
  if (size > static_cast<size_t>(INT32_MAX) || !p.ParseFromArray(data, static_cast<int>(size)))
    return invalid_argument("not a serialized onnx.TensorProto");
  if (name) *name = p.name();
  return tensor_from_proto(p, "tensor '" + p.name() + "'");
}

Result<Tensor> load_tensor_pb_file(const std::string& path, std::string* name) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  auto t = load_tensor_pb(bytes.data(), bytes.size(), name);
  if (!t.ok()) return t.status().with_context(path);
  return t;
}

namespace {

// SequenceProto and OptionalProto live in onnx-data.proto, which Debian does
// not ship; their wire format is small, so read it directly. Fields used:
// 1 name, 2 elem_type, 3 tensor value(s), 5 sequence value (optionals only).
struct WireValue {
  std::string name;
  std::vector<std::string> tensors;   // serialized TensorProtos
  std::vector<std::string> sequences; // serialized SequenceProtos
  bool ok = true;
};

WireValue read_wire_value(const void* data, size_t size) {
  WireValue w;
  google::protobuf::io::CodedInputStream in(static_cast<const uint8_t*>(data), static_cast<int>(size));
  while (true) {
    uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    uint32_t field = tag >> 3, wire = tag & 7;
    if (wire == 2 && (field == 1 || field == 3 || field == 5)) {
      std::string bytes;
      uint32_t len;
      if (!in.ReadVarint32(&len) || !in.ReadString(&bytes, static_cast<int>(len))) { w.ok = false; break; }
      if (field == 1) w.name = bytes;
      else if (field == 3) w.tensors.push_back(std::move(bytes));
      else w.sequences.push_back(std::move(bytes));
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) {
      w.ok = false;
      break;
    }
  }
  return w;
}

Result<Value> sequence_from_wire(const WireValue& w) {
  if (!w.ok) return invalid_argument("not a serialized onnx.SequenceProto");
  std::vector<Tensor> items;
  DataType elem = DataType::kUndefined;
  for (const auto& bytes : w.tensors) {
    onnx::TensorProto p;
    if (!p.ParseFromString(bytes)) return invalid_argument("sequence '" + w.name + "': bad element");
    GLINT_ASSIGN_OR_RETURN(Tensor item, tensor_from_proto(p, "sequence '" + w.name + "' element"));
    elem = item.dtype();
    items.push_back(std::move(item));
  }
  return Value::of_sequence(std::move(items), elem);
}

}  // namespace

Result<Value> load_value_pb(const void* data, size_t size, ir::TypeKind kind, std::string* name) {
  if (size > static_cast<size_t>(INT32_MAX)) return invalid_argument("value file too large");
  switch (kind) {
    case ir::TypeKind::kSequence: {
      WireValue w = read_wire_value(data, size);
      if (name) *name = w.name;
      return sequence_from_wire(w);
    }
    case ir::TypeKind::kOptionalTensor:
    case ir::TypeKind::kOptionalSequence: {
      WireValue w = read_wire_value(data, size);
      if (!w.ok) return invalid_argument("not a serialized onnx.OptionalProto");
      if (name) *name = w.name;
      if (!w.tensors.empty()) {
        onnx::TensorProto p;
        if (!p.ParseFromString(w.tensors[0])) return invalid_argument("optional '" + w.name + "': bad tensor");
        GLINT_ASSIGN_OR_RETURN(Tensor t, tensor_from_proto(p, "optional '" + w.name + "'"));
        return Value::of(std::move(t));
      }
      if (!w.sequences.empty())
        return sequence_from_wire(read_wire_value(w.sequences[0].data(), w.sequences[0].size()));
      return Value::none();
    }
    case ir::TypeKind::kTensor: {
      GLINT_ASSIGN_OR_RETURN(Tensor t, load_tensor_pb(data, size, name));
      return Value::of(std::move(t));
    }
    case ir::TypeKind::kOther: break;
  }
  return unsupported("map and other non-tensor values are not supported");
}

Result<Value> load_value_pb_file(const std::string& path, ir::TypeKind kind, std::string* name) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  auto v = load_value_pb(bytes.data(), bytes.size(), kind, name);
  if (!v.ok()) return v.status().with_context(path);
  return v;
}

Result<std::string> save_tensor_pb(const Tensor& t, const std::string& name) {
  onnx::TensorProto p;
  p.set_name(name);
  tensor_to_proto(t, &p);
  std::string out;
  if (!p.SerializeToString(&out)) return internal_error("cannot serialise tensor '" + name + "'");
  return out;
}

}  // namespace glint::onnx_loader
