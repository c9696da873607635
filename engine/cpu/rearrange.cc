// Rearranging ops: DepthToSpace, SpaceToDepth, Trilu, EyeLike, CumSum,
// ReverseSequence.
#include <algorithm>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

Status infer_depth_space(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                         const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0] = x;
  if (!x.has_shape) return Status::Ok();
  if (x.dims.size() != 4) return node_error(node, "X " + x.describe() + " must be 4-D");
  const int64_t b = node.attr_int("blocksize", 0);
  if (b <= 0) return node_error(node, "blocksize must be positive, given " + std::to_string(b));
  const bool to_space = node.op_type == "DepthToSpace";
  auto& d = outputs[0].dims;
  auto scale = [](ir::Dim& dim, int64_t mul, int64_t div) {
    if (dim.known()) dim.value = dim.value * mul / div;
    else dim = ir::Dim{};
  };
  if (to_space) {
    if (d[1].known() && d[1].value % (b * b) != 0)
      return node_error(node, "channels of " + x.describe() + " not divisible by blocksize^2");
    scale(d[1], 1, b * b), scale(d[2], b, 1), scale(d[3], b, 1);
  } else {
    if ((d[2].known() && d[2].value % b) || (d[3].known() && d[3].value % b))
      return node_error(node, "height/width of " + x.describe() + " not divisible by blocksize");
    scale(d[1], b * b, 1), scale(d[2], 1, b), scale(d[3], 1, b);
  }
  return Status::Ok();
}

Status depth_space(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                   std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_depth_space, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const int64_t b = node.attr_int("blocksize", 0);
  const bool crd = node.attr_string("mode", "DCR") == "CRD";
  const bool to_space = node.op_type == "DepthToSpace";
  // Work in terms of the "space" tensor [N, C, H*b, W*b] and the "depth"
  // tensor [N, C*b*b, H, W]; index maps depth -> space.
  const Shape& ds = to_space ? x.shape() : y.shape();
  const int64_t N = ds[0], CD = ds[1], H = ds[2], W = ds[3], C = CD / (b * b);
  std::vector<int64_t> index(static_cast<size_t>(x.size()));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t bi = 0; bi < b; ++bi)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t bj = 0; bj < b; ++bj) {
              const int64_t dc = crd ? (c * b + bi) * b + bj : (bi * b + bj) * C + c;
              const int64_t depth_at = ((n * CD + dc) * H + h) * W + w;
              const int64_t space_at = ((n * C + c) * H * b + h * b + bi) * W * b + w * b + bj;
              if (to_space) index[space_at] = depth_at;
              else index[depth_at] = space_at;
            }
  gather_by_index(x, y, index);
  return Status::Ok();
}

Status trilu(const ir::Node& node, const std::vector<const Tensor*>& inputs,
             std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (x.rank() < 2) return node_error(node, "input " + tensor_desc(x) + " must have rank >= 2");
  const int64_t k = inputs.size() > 1 && inputs[1] ? inputs[1]->get_as_int64(0) : 0;
  const bool upper = node.attr_int("upper", 1) != 0;
  outputs[0] = x.clone();
  const int64_t R = x.shape()[x.rank() - 2], C = x.shape()[x.rank() - 1];
  const int64_t mats = (R * C) != 0 ? x.size() / (R * C) : 0;
  Tensor zero(x.dtype(), {1});
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < R; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const bool keep = upper ? j - i >= k : j - i <= k;
        if (!keep) copy_elements(zero, 0, outputs[0], (m * R + i) * C + j, 1);
      }
  return Status::Ok();
}

Status infer_eye_like(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                      const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  outputs[0] = *inputs[0];
  if (node.has_attr("dtype")) outputs[0].dtype = static_cast<DataType>(node.attr_int("dtype", 1));
  if (inputs[0]->has_shape && inputs[0]->dims.size() != 2)
    return node_error(node, "input " + inputs[0]->describe() + " must be 2-D");
  return Status::Ok();
}

Status eye_like(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_eye_like, node, inputs, outputs));
  Tensor& y = outputs[0];
  const int64_t R = y.shape()[0], C = y.shape()[1], k = node.attr_int("k", 0);
  for (int64_t i = 0; i < R; ++i)
    if (i + k >= 0 && i + k < C) y.set_from_double(i * C + i + k, 1.0);
  return Status::Ok();
}

Status cum_sum(const ir::Node& node, const std::vector<const Tensor*>& inputs,
               std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  if (!is_float(x.dtype()) && !is_integer(x.dtype()))
    return node_unsupported(node, "dtype " + dtype_name(x.dtype()) + " is not supported");
  int64_t axis;
  GLINT_RETURN_IF_ERROR(normalize_axis(node, inputs[1]->get_as_int64(0), x.rank(), &axis));
  const bool exclusive = node.attr_int("exclusive", 0) != 0, reverse = node.attr_int("reverse", 0) != 0;
  outputs[0] = Tensor(x.dtype(), x.shape());
  const int64_t len = x.shape()[axis];
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= x.shape()[i];
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.shape()[i];
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t in = 0; in < inner; ++in) {
      double acc = 0;
      for (int64_t s = 0; s < len; ++s) {
        const int64_t j = reverse ? len - 1 - s : s;
        const int64_t at = (o * len + j) * inner + in;
        const double v = x.get_as_double(at);
        if (!exclusive) acc += v;
        outputs[0].set_from_double(at, acc);
        if (exclusive) acc += v;
      }
    }
  return Status::Ok();
}

Status reverse_sequence(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                        std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor& x = *inputs[0];
  const Tensor& lens = *inputs[1];
  const int64_t batch_axis = node.attr_int("batch_axis", 1), time_axis = node.attr_int("time_axis", 0);
  if (x.rank() < 2 || (batch_axis != 0 && batch_axis != 1) || (time_axis != 0 && time_axis != 1) ||
      batch_axis == time_axis || lens.size() != x.shape()[batch_axis])
    return node_error(node, "invalid batch_axis/time_axis or sequence_lens " + tensor_desc(lens) +
                                " for input " + tensor_desc(x));
  const int64_t B = x.shape()[batch_axis], Tn = x.shape()[time_axis];
  const int64_t inner = x.size() / std::max<int64_t>(B * Tn, 1);
  outputs[0] = x.clone();
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = std::clamp<int64_t>(lens.get_as_int64(b), 0, Tn);
    for (int64_t t = 0; t < len; ++t) {
      auto at = [&](int64_t tt) {
        return (batch_axis == 0 ? b * Tn + tt : tt * B + b) * inner;
      };
      copy_elements(x, at(len - 1 - t), outputs[0], at(t), inner);
    }
  }
  return Status::Ok();
}

}  // namespace glint::cpu
