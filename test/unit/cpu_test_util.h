// Builders shared by the CPU-kernel tests: attributes, small tensors, a
// node with numbered inputs and outputs, and a runner and value checker.
#pragma once
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/ir/graph.h"
#include "engine/registry/op_table.h"
#include "test/unit/test_util.h"

namespace glint::test {

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

// Runs the registered CPU kernel; absent inputs are passed as nullptr (and
// named "" in the node). The infer function, given the inputs as constants,
// must agree with the kernel's outputs: dtypes always, shapes exactly with
// `exact_shapes`, else wherever it knows the whole shape.
// A com.microsoft node (opset 1) of `op`.
inline ir::Node ms_node(const std::string& op, size_t n_in, Attrs attrs = {}, size_t n_out = 1) {
  ir::Node n = make_node(op, 1, n_in, std::move(attrs), n_out);
  n.domain = "com.microsoft";
  return n;
}

inline Status run_cpu_kernel(ir::Node node, const std::vector<const Tensor*>& in, std::vector<Tensor>* out,
                             bool exact_shapes) {
  for (size_t i = 0; i < in.size() && i < node.inputs.size(); ++i)
    if (!in[i]) node.inputs[i] = "";
  const CpuCandidate* k = find_cpu_kernel(node);
  if (!k) return unsupported("no CPU kernel for " + node.op_type);
  out->assign(node.outputs.size(), Tensor());
  GLINT_RETURN_IF_ERROR(k->run(node, in, *out));
  InferFn infer = find_infer(node);
  if (!infer) return internal_error("no infer function for " + node.op_type);
  std::vector<ir::ValueInfo> vi(in.size());
  std::vector<const ir::ValueInfo*> vp(in.size(), nullptr);
  for (size_t i = 0; i < in.size(); ++i)
    if (in[i]) { vi[i] = ir::ValueInfo::of(*in[i]); vp[i] = &vi[i]; }
  std::vector<ir::ValueInfo> oi(node.outputs.size());
  GLINT_RETURN_IF_ERROR(infer(node, vp, in, oi));
  for (size_t i = 0; i < oi.size(); ++i) {
    if (!node.has_output(i)) continue;
    const bool check_shape = exact_shapes || oi[i].fully_known();
    if (oi[i].dtype != (*out)[i].dtype() || (check_shape && oi[i].concrete() != (*out)[i].shape()))
      return internal_error("infer says " + oi[i].describe() + " but the kernel made " + tensor_desc((*out)[i]));
  }
  return Status::Ok();
}

inline std::vector<Tensor> run_cpu_kernel_ok(const ir::Node& node, const std::vector<const Tensor*>& in,
                                             bool exact_shapes) {
  std::vector<Tensor> out;
  Status st = run_cpu_kernel(node, in, &out, exact_shapes);
  INFO(node.describe() << ": " << st.message());
  REQUIRE(st.ok());
  return out;
}

// dtype, shape and every value (NaN where `want` is NaN) within tol.
inline void check_tensor_values(const Tensor& got, DataType dt, const Shape& shape, const std::vector<double>& want,
                                double tol) {
  INFO("got " << tensor_desc(got));
  REQUIRE(got.dtype() == dt);
  REQUIRE(got.shape() == shape);
  REQUIRE(got.size() == static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < got.size(); ++i) {
    INFO("element " << i);
    if (std::isnan(want[i])) { CHECK(std::isnan(got.get_as_double(i))); continue; }
    CHECK(got.get_as_double(i) == Approx(want[i]).margin(tol).epsilon(tol));
  }
}

// Independent reference: direct nested-loop 2-D convolution in double, with
// strides s, dilations d and pads p (begin h, begin w, end h, end w).
inline Tensor reference_conv2d(const Tensor& x, const Tensor& w, const Tensor* b, int64_t group,
                              std::vector<int64_t> s, std::vector<int64_t> d, std::vector<int64_t> p) {
  const int64_t N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t M = w.shape()[0], KH = w.shape()[2], KW = w.shape()[3];
  const int64_t OH = (H + p[0] + p[2] - ((KH - 1) * d[0] + 1)) / s[0] + 1;
  const int64_t OW = (W + p[1] + p[3] - ((KW - 1) * d[1] + 1)) / s[1] + 1;
  const int64_t cg = C / group, mg = M / group;
  Tensor y(DataType::kFloat32, {N, M, OH, OW});
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = b ? b->data<float>()[m] : 0.0;
          const int64_t g = m / mg;
          for (int64_t c = 0; c < cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t ih = oh * s[0] - p[0] + kh * d[0], iw = ow * s[1] - p[1] + kw * d[1];
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += x.data<float>()[((n * C + g * cg + c) * H + ih) * W + iw] *
                       w.data<float>()[((m * cg + c) * KH + kh) * KW + kw];
              }
          y.data<float>()[((n * M + m) * OH + oh) * OW + ow] = static_cast<float>(acc);
        }
  return y;
}

}  // namespace glint::test
