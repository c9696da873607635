// Builds small ONNX models in memory for tests (through the generated
// protobuf classes), so tests do not depend on files.
#pragma once
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "onnx/onnx.pb.h"

namespace glint::test {

class ModelBuilder {
 public:
  explicit ModelBuilder(int64_t opset = 13) {
    model_.set_ir_version(8);
    auto* o = model_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    model_.mutable_graph()->set_name("test");
  }
  ModelBuilder& input(const std::string& name, int dtype, const std::vector<int64_t>& dims) {
    value_info(model_.mutable_graph()->add_input(), name, dtype, dims);
    return *this;
  }
  // A symbolic dim: pass -1 and it becomes dim_param "N".
  ModelBuilder& output(const std::string& name, int dtype, const std::vector<int64_t>& dims) {
    value_info(model_.mutable_graph()->add_output(), name, dtype, dims);
    return *this;
  }
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = model_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& i : inputs) n->add_input(i);
    for (auto& o : outputs) n->add_output(o);
    return *n;
  }
  onnx::TensorProto& initializer(const std::string& name, const std::vector<int64_t>& dims,
                                 const std::vector<float>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_float_data(v);
    return *t;
  }
  onnx::TensorProto& initializer_i64(const std::string& name, const std::vector<int64_t>& dims,
                                     const std::vector<int64_t>& values) {
    auto* t = model_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_int64_data(v);
    return *t;
  }
  onnx::ModelProto& proto() { return model_; }
  std::string bytes() const { return model_.SerializeAsString(); }

  static void attr_int(onnx::NodeProto& n, const std::string& name, int64_t v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr_float(onnx::NodeProto& n, const std::string& name, float v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  // A graph attribute of `n` (an If's branch, a Loop's body) holding an
  // empty graph named `graph_name`, for the caller to fill.
  static onnx::GraphProto& attr_graph(onnx::NodeProto& n, const std::string& name, const std::string& graph_name) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::GRAPH);
    a->mutable_g()->set_name(graph_name);
    return *a->mutable_g();
  }
  // An output of a body graph, declared with its dtype alone (as exporters
  // declare a branch's outputs).
  static void graph_output(onnx::GraphProto& g, const std::string& name, int dtype) {
    auto* o = g.add_output();
    o->set_name(name);
    o->mutable_type()->mutable_tensor_type()->set_elem_type(dtype);
  }

 private:
  static void value_info(onnx::ValueInfoProto* vi, const std::string& name, int dtype,
                         const std::vector<int64_t>& dims) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(dtype);
    auto* shape = tt->mutable_shape();
    for (auto d : dims) {
      auto* dim = shape->add_dim();
      if (d < 0) dim->set_dim_param("N");
      else dim->set_dim_value(d);
    }
  }
  onnx::ModelProto model_;
};

}  // namespace glint::test
