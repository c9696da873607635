// flatten_pooled_convs, for the GPU backends: a pointwise Conv whose output
// only global pools read is run over its pixels as one row.
//
// Why: the GPU's tiled conv computes pixels four at a time along W, so a
// 13x13 output computes 13 rows of 16 pixels, 3 of every 16 for nothing;
// as [N, C, 1, 169] it computes 172. A 1x1 stride-1 unpadded conv treats
// every pixel alike and a global pool does not care how the pixels are
// arranged, so only the conv's input needs reshaping. SqueezeNet's conv10
// (512 -> 1000 channels at 13x13, a fifth of the network's time on webgl)
// and MobileNetV2's last conv (320 -> 1280 at 7x7) are such convs.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/ops/fused_activation.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// Past this many pixels the row could exceed a small device's texture width.
constexpr int64_t kMaxFlatPixels = 4096;
// The GPU conv's pixels per fragment along W (gl::kPlanePixels).
constexpr int64_t kPixelsPerTile = 4;

int64_t tiles_of(int64_t pixels) { return (pixels + kPixelsPerTile - 1) / kPixelsPerTile; }

bool all_equal_to(const std::vector<int64_t>& v, int64_t x) {
  for (int64_t e : v)
    if (e != x) return false;
  return true;
}

// The Conv is 2-D, 1x1, stride 1, unpadded, with no fused residual (which
// would need reshaping too), over a float input of static shape worth
// flattening; returns that shape, or an empty vector.
std::vector<int64_t> flattenable_input(const ir::Graph& g, const ir::Node& n) {
  if (n.op_type != "Conv" || !n.domain.empty() || n.inputs.size() < 2 || fused_residual_input(n) >= 0) return {};
  const ir::ValueInfo* x = g.info(n.inputs[0]);
  const auto w = g.initializers.find(n.inputs[1]);
  if (x == nullptr || !x->fully_known() || x->dims.size() != 4 || x->dtype != DataType::kFloat32) return {};
  if (w == g.initializers.end() || w->second.shape().size() != 4 || w->second.shape()[2] != 1 ||
      w->second.shape()[3] != 1)
    return {};
  if (!all_equal_to(n.attr_ints("strides", {1, 1}), 1) || !all_equal_to(n.attr_ints("pads", {0, 0, 0, 0}), 0))
    return {};
  const std::string auto_pad = n.attr_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "VALID") return {};
  const std::vector<int64_t> shape = x->concrete();
  const int64_t h = shape[2], wd = shape[3];
  if (h < 2 || h * wd > kMaxFlatPixels || tiles_of(h * wd) >= h * tiles_of(wd)) return {};
  return shape;
}

}  // namespace

Status flatten_pooled_convs(ir::Graph& g, const std::set<std::string>& keep) {
  const auto opset = g.opsets.find("");
  if (opset == g.opsets.end() || opset->second < 5) return Status::Ok();  // Reshape takes its shape as an input
  std::map<std::string, std::vector<const ir::Node*>> readers;
  for (const ir::Node& n : g.nodes)
    for (const std::string& in : n.inputs)
      if (!in.empty()) readers[in].push_back(&n);
  const std::set<std::string> outputs(g.outputs.begin(), g.outputs.end());
  auto only_pooled = [&](const std::string& y) {
    const auto it = readers.find(y);
    if (it == readers.end() || outputs.count(y)) return false;
    for (const ir::Node* r : it->second)
      if (!r->domain.empty() || (r->op_type != "GlobalAveragePool" && r->op_type != "GlobalMaxPool") ||
          !r->implicit_inputs.empty())
        return false;
    return true;
  };

  ValueIndex index(g);
  std::vector<ir::Node> nodes;
  nodes.reserve(g.nodes.size());
  for (ir::Node& n : g.nodes) {
    const std::vector<int64_t> x = is_kept(n, keep) ? std::vector<int64_t>{} : flattenable_input(g, n);
    if (x.empty() || !n.has_output(0) || !only_pooled(n.outputs[0])) {
      nodes.push_back(std::move(n));
      continue;
    }
    const Shape flat{x[0], x[1], 1, x[2] * x[3]};
    Tensor shape_tensor = Tensor::from_int64s(Shape{4}, std::vector<int64_t>(flat.begin(), flat.end()));
    const std::string shape_name = index.fresh_name(n.inputs[0] + "_flat_shape");
    g.values[shape_name] = ir::ValueInfo::of(shape_tensor);
    g.initializers[shape_name] = std::move(shape_tensor);
    const std::string flat_name = index.fresh_name(n.inputs[0] + "_flat");
    g.values[flat_name] = ir::ValueInfo::of(DataType::kFloat32, flat);
    ir::Node reshape;
    reshape.name = index.fresh_name((n.name.empty() ? n.outputs[0] : n.name) + "_flatten");
    reshape.op_type = "Reshape";
    reshape.opset = static_cast<int>(opset->second);
    reshape.inputs = {n.inputs[0], shape_name};
    reshape.outputs = {flat_name};
    nodes.push_back(std::move(reshape));
    n.inputs[0] = flat_name;
    // The pools still see N x M; their outputs keep their [N, M, 1, 1].
    const ir::ValueInfo* y = g.info(n.outputs[0]);
    const DataType y_dtype = y ? y->dtype : DataType::kFloat32;
    g.values[n.outputs[0]] = ir::ValueInfo::of(y_dtype, Shape{x[0], g.initializers.at(n.inputs[1]).shape()[0], 1, flat[3]});
    nodes.push_back(std::move(n));
  }
  g.nodes = std::move(nodes);
  return Status::Ok();
}

}  // namespace glint::passes
