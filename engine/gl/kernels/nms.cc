// NonMaxSuppression when its output length is known when the programs are
// built (inputs on the CPU, e.g. feeds): output row j is the j-th selection
// of the CPU kernel's greedy algorithm (per batch and class in order,
// candidates above score_threshold by descending score, ties by index, a
// candidate kept when its IoU with every kept box is <= iou_threshold, at
// most max_output_boxes_per_class). Every fragment replays the selection:
// fine for the few dozen boxes this is used with (up to 64 per image).
#include <algorithm>

#include "engine/gl/kernels/glsl_util.h"
#include "engine/gl/kernels/kernels.h"

namespace glint::gl {

namespace {
constexpr int64_t kMaxBoxes = 64;
}  // namespace

bool nms_supports(const KernelContext& ctx, std::string* why) {
  if (ctx.inputs.size() < 2 || !ctx.inputs[0] || !ctx.inputs[1]) return decline(why, "boxes and scores are required");
  if (!input_is_float(ctx, 0, why) || !all_gpu_dtypes(ctx, why)) return false;
  const Shape& b = ctx.inputs[0]->shape;
  const Shape& s = ctx.inputs[1]->shape;
  if (b.size() != 3 || b[2] != 4 || s.size() != 3 || s[0] != b[0] || s[2] != b[1])
    return decline(why, "boxes must be [B,N,4] and scores [B,C,N]");
  if (b[1] > kMaxBoxes) return decline(why, "more than 64 boxes per image");
  for (size_t i = 2; i < ctx.inputs.size(); ++i)
    if (ctx.inputs[i] && shape_size(ctx.inputs[i]->shape) != 1) return decline(why, "thresholds must be scalars");
  return true;
}

Result<std::vector<ProgramInfo>> nms_build(const KernelContext& ctx) {
  const Shape& bs = ctx.inputs[0]->shape;
  const int64_t B = bs[0], N = bs[1], C = ctx.inputs[1]->shape[1];
  const bool center = ctx.node->attr_int("center_point_box", 0) != 0;
  ProgramInfo p;
  p.name = "nms";
  p.inputs = {{"Boxes", 0}, {"Scores", 1}};
  auto scalar = [&](size_t i, const char* name, const char* dflt) -> std::string {
    if (i >= ctx.inputs.size() || !ctx.inputs[i]) return dflt;
    p.inputs.push_back({name, static_cast<int>(i)});
    return std::string("get") + name + "Flat(0)";
  };
  // max_output_boxes_per_class is baked when constant, clamped to N: an
  // exporter's INT64_MAX ("no limit") is beyond what a float holds exactly.
  const Tensor* max_out_value = ctx.constant(2);
  const std::string max_out =
      max_out_value && max_out_value->size() > 0
          ? glsl_int(std::max<int64_t>(0, std::min<int64_t>(max_out_value->get_as_int64(0), N))) + ".0"
          : scalar(2, "MaxOut", "0.0");
  const std::string iou_th = scalar(3, "Iou", "0.0"), score_th = scalar(4, "ScoreTh", "uintBitsToFloat(0xff800000u)");
  p.output = ctx.outputs[0];
  const std::string Ns = glsl_int(N);
  std::string box = center
                        ? "  vec4 v = vec4(getBoxes(b, i, 0), getBoxes(b, i, 1), getBoxes(b, i, 2), getBoxes(b, i, 3));\n"
                          "  return vec4(v.y - v.w / 2.0, v.x - v.z / 2.0, v.y + v.w / 2.0, v.x + v.z / 2.0);\n"
                        : "  vec4 v = vec4(getBoxes(b, i, 0), getBoxes(b, i, 1), getBoxes(b, i, 2), getBoxes(b, i, 3));\n"
                          "  return vec4(min(v.x, v.z), min(v.y, v.w), max(v.x, v.z), max(v.y, v.w));\n";
  p.body = "vec4 nms_box(int b, int i) {\n" + box + "}\n"
           "float nms_iou(vec4 a, vec4 c) {\n"
           "  float ih = max(0.0, min(a.z, c.z) - max(a.x, c.x));\n"
           "  float iw = max(0.0, min(a.w, c.w) - max(a.y, c.y));\n"
           "  float inter = ih * iw;\n"
           "  float uni = (a.z - a.x) * (a.w - a.y) + (c.z - c.x) * (c.w - c.y) - inter;\n"
           "  return uni > 0.0 ? inter / uni : 0.0;\n}\n"
           "float process(int oc[OUT_RANK]) {\n"
           "  int want = oc[0];\n  int count = 0;\n"
           "  int max_out = int(" + max_out + ");\n  float iou_th = " + iou_th + ";\n  float score_th = " + score_th + ";\n"
           "  for (int b = 0; b < " + glsl_int(B) + "; ++b) {\n    for (int c = 0; c < " + glsl_int(C) + "; ++c) {\n"
           "      bool used[" + Ns + "];\n      vec4 kept[" + Ns + "];\n      int nk = 0;\n"
           "      for (int i = 0; i < " + Ns + "; ++i) used[i] = !(getScores(b, c, i) > score_th);\n"
           "      for (int step = 0; step < " + Ns + "; ++step) {\n"
           "        if (nk >= max_out) break;\n"
           "        int best = -1;\n        float bs = 0.0;\n"
           "        for (int i = 0; i < " + Ns + "; ++i) {\n"
           "          if (used[i]) continue;\n          float s = getScores(b, c, i);\n"
           "          if (best < 0 || s > bs) { best = i; bs = s; }\n        }\n"
           "        if (best < 0) break;\n        used[best] = true;\n"
           "        vec4 bx = nms_box(b, best);\n        bool keep = true;\n"
           "        for (int k = 0; k < " + Ns + "; ++k) { if (k >= nk) break; if (nms_iou(bx, kept[k]) > iou_th) keep = false; }\n"
           "        if (!keep) continue;\n        kept[nk] = bx;\n        ++nk;\n"
           "        if (count == want) return oc[1] == 0 ? float(b) : (oc[1] == 1 ? float(c) : float(best));\n"
           "        ++count;\n      }\n    }\n  }\n  return 0.0;\n}\n";
  return std::vector<ProgramInfo>{p};
}

}  // namespace glint::gl
