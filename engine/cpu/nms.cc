// NonMaxSuppression: per batch and class, greedy selection by descending
// score, dropping boxes whose IoU with a selected box exceeds the threshold.
// The output length depends on the data (unknown to inference unless every
// input is constant).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

struct Box { double y1, x1, y2, x2; };

Box box_at(const Tensor& boxes, int64_t at, bool center) {
  double v[4];
  for (int k = 0; k < 4; ++k) v[k] = boxes.get_as_double(at + k);
  if (center) return {v[1] - v[3] / 2, v[0] - v[2] / 2, v[1] + v[3] / 2, v[0] + v[2] / 2};
  return {std::min(v[0], v[2]), std::min(v[1], v[3]), std::max(v[0], v[2]), std::max(v[1], v[3])};
}

double iou(const Box& a, const Box& b) {
  const double ih = std::max(0.0, std::min(a.y2, b.y2) - std::max(a.y1, b.y1));
  const double iw = std::max(0.0, std::min(a.x2, b.x2) - std::max(a.x1, b.x1));
  const double inter = ih * iw;
  const double uni = (a.y2 - a.y1) * (a.x2 - a.x1) + (b.y2 - b.y1) * (b.x2 - b.x1) - inter;
  return uni > 0 ? inter / uni : 0.0;
}

Status select_boxes(const ir::Node& node, const std::vector<const Tensor*>& in,
                    std::vector<int64_t>* selected) {
  const Tensor& boxes = *in[0];
  const Tensor& scores = *in[1];
  if (boxes.rank() != 3 || boxes.shape()[2] != 4 || scores.rank() != 3 ||
      scores.shape()[0] != boxes.shape()[0] || scores.shape()[2] != boxes.shape()[1])
    return node_error(node, "boxes " + tensor_desc(boxes) + " must be [B,N,4] and scores " +
                                tensor_desc(scores) + " [B,C,N]");
  auto scalar = [&](size_t i, double d) { return i < in.size() && in[i] && in[i]->size() > 0 ? in[i]->get_as_double(0) : d; };
  // An integer read as an integer: exporters pass INT64_MAX for "no limit",
  // which a double cannot hold (it would overflow back into a negative).
  const int64_t max_out = 2 < in.size() && in[2] && in[2]->size() > 0 ? in[2]->get_as_int64(0) : 0;
  const double iou_th = scalar(3, 0), score_th = scalar(4, -INFINITY);
  const bool center = node.attr_int("center_point_box", 0) != 0;
  const int64_t B = boxes.shape()[0], N = boxes.shape()[1], C = scores.shape()[1];
  selected->clear();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      std::vector<int64_t> cand;
      for (int64_t i = 0; i < N; ++i)
        if (scores.get_as_double((b * C + c) * N + i) > score_th) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t x, int64_t y) {
        return scores.get_as_double((b * C + c) * N + x) > scores.get_as_double((b * C + c) * N + y);
      });
      std::vector<Box> kept;
      for (int64_t i : cand) {
        if (static_cast<int64_t>(kept.size()) >= max_out) break;
        const Box bx = box_at(boxes, (b * N + i) * 4, center);
        bool keep = true;
        for (const Box& k : kept) keep = keep && iou(bx, k) <= iou_th;
        if (!keep) continue;
        kept.push_back(bx);
        selected->insert(selected->end(), {b, c, i});
      }
    }
  return Status::Ok();
}

}  // namespace

Status infer_nms(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                 const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  outputs[0].dtype = DataType::kInt64;
  outputs[0].has_shape = true;
  outputs[0].dims = {ir::Dim{}, ir::Dim{3, ""}};
  bool all = constants.size() >= 2;
  for (size_t i = 0; i < inputs.size(); ++i) all = all && (!inputs[i] || (i < constants.size() && constants[i]));
  if (all) {
    std::vector<int64_t> sel;
    GLINT_RETURN_IF_ERROR(select_boxes(node, constants, &sel));
    outputs[0].dims[0].value = static_cast<int64_t>(sel.size() / 3);
  }
  return Status::Ok();
}

Status nms(const ir::Node& node, const std::vector<const Tensor*>& inputs,
           std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  std::vector<int64_t> sel;
  GLINT_RETURN_IF_ERROR(select_boxes(node, inputs, &sel));
  outputs[0] = Tensor::from_int64s({static_cast<int64_t>(sel.size() / 3), 3}, sel);
  return Status::Ok();
}

}  // namespace glint::cpu
