// Control flow: If, Loop, Scan and SequenceMap run their subgraphs on the
// CPU kernels through a SubgraphRunner (outer values resolved by scope).
#include <limits>

#include "engine/cpu/value_ops.h"

namespace glint::values {

namespace {

// A Loop with neither a trip count nor a condition is infinite by the spec;
// stop it rather than hang. So is one whose trip count is INT64_MAX (no
// count: tf2onnx's while loops, or an infinity cast to int64) and whose
// condition never turns false. 2^24 iterations took 25 s natively (a
// fuzzer's Range expanded into a Loop, with delta 0), a hang to a user;
// 2^18 take about 0.4 s (10 s under the fuzzer's sanitizers), and are far
// more than a while loop over a model's tokens, frames or boxes runs.
constexpr int64_t kMaxLoopIterations = int64_t(1) << 18;

Result<bool> scalar_bool(const ir::Node& n, const Value* v, const char* what) {
  if (v == nullptr || !v->is_tensor() || v->tensor.size() != 1)
    return invalid_argument(n.describe() + ": " + what + " must be a one-element tensor" +
                            (v ? ", got " + v->describe() : std::string()));
  return v->tensor.get_as_double(0) != 0.0;
}

const ir::Graph* graph_attr(const ir::Node& n, const char* name) {
  const ir::Attribute* a = n.attr(name);
  return a && a->g ? a->g.get() : nullptr;
}

Status need_graph(const ir::Node& n, const ir::Graph* g, const char* name) {
  if (g == nullptr) return invalid_model(n.describe() + ": graph attribute '" + name + "' is missing");
  return Status::Ok();
}

// Stacks per-iteration tensors along a new `axis`; no iterations give a
// [0]-shaped tensor of `dtype`.
Result<Value> stack(const ir::Node& n, const std::vector<Value>& items, int64_t axis) {
  if (items.empty()) return Value::of(Tensor(DataType::kFloat32, {0}));
  std::vector<Tensor> ts;
  for (auto& v : items) {
    if (!v.is_tensor()) return unsupported(n.describe() + ": scan outputs must be tensors, got " + v.describe());
    ts.push_back(v.tensor);
  }
  int64_t rank = ts[0].rank() + 1;
  if (axis < 0) axis += rank;
  if (axis < 0 || axis >= rank) return invalid_argument(n.describe() + ": scan output axis out of range");
  auto t = concat_tensors(ts, axis, true);
  if (!t.ok()) return t.status().with_context(n.describe());
  return Value::of(std::move(t).value());
}

}  // namespace

Status if_(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
           const SubgraphRunner& sub) {
  GLINT_ASSIGN_OR_RETURN(bool cond, scalar_bool(n, in.empty() ? nullptr : in[0], "cond"));
  const char* which = cond ? "then_branch" : "else_branch";
  const ir::Graph* g = graph_attr(n, which);
  GLINT_RETURN_IF_ERROR(need_graph(n, g, which));
  GLINT_ASSIGN_OR_RETURN(auto results, sub.run(*g, {}));
  if (results.size() != out.size())
    return invalid_model(n.describe() + ": " + which + " has " + std::to_string(results.size()) +
                         " outputs, the node " + std::to_string(out.size()));
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::move(results[i]);
  return Status::Ok();
}

Status loop(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
            const SubgraphRunner& sub) {
  const ir::Graph* body = graph_attr(n, "body");
  GLINT_RETURN_IF_ERROR(need_graph(n, body, "body"));
  int64_t max_trip = std::numeric_limits<int64_t>::max();
  if (in.size() > 0 && in[0]) {
    if (!in[0]->is_tensor() || in[0]->tensor.size() != 1)
      return invalid_argument(n.describe() + ": M must be a one-element tensor");
    max_trip = in[0]->tensor.get_as_int64(0);
  }
  bool keep_going = true;
  bool has_cond = in.size() > 1 && in[1];
  if (has_cond) {
    GLINT_ASSIGN_OR_RETURN(keep_going, scalar_bool(n, in[1], "cond"));
  }
  std::vector<Value> carried;
  for (size_t i = 2; i < in.size(); ++i) {
    if (!in[i]) return invalid_argument(n.describe() + ": loop-carried input " + std::to_string(i) + " is absent");
    carried.push_back(*in[i]);
  }
  size_t n_carried = carried.size();
  if (body->outputs.size() < 1 + n_carried)
    return invalid_model(n.describe() + ": body has " + std::to_string(body->outputs.size()) +
                         " outputs, needs at least " + std::to_string(1 + n_carried));
  size_t n_scan = body->outputs.size() - 1 - n_carried;
  std::vector<std::vector<Value>> scans(n_scan);
  int64_t i = 0;
  for (; i < max_trip && keep_going; ++i) {
    if (!has_cond && in.size() > 0 && !in[0] && i >= kMaxLoopIterations)
      return invalid_argument(n.describe() + ": Loop has no trip count and no condition (it would never end)");
    if (i >= kMaxLoopIterations && max_trip == std::numeric_limits<int64_t>::max())
      return invalid_argument(n.describe() + ": Loop ran " + std::to_string(i) + " iterations without stopping");
    std::vector<Value> body_in;
    body_in.push_back(Value::of(Tensor::from_int64s({}, {i})));
    Tensor c(DataType::kBool, {});
    c.data<uint8_t>()[0] = keep_going ? 1 : 0;
    body_in.push_back(Value::of(c));
    for (auto& v : carried) body_in.push_back(v);
    GLINT_ASSIGN_OR_RETURN(auto outs, sub.run(*body, body_in));
    GLINT_ASSIGN_OR_RETURN(keep_going, scalar_bool(n, &outs[0], "the body's condition output"));
    for (size_t k = 0; k < n_carried; ++k) carried[k] = std::move(outs[1 + k]);
    for (size_t k = 0; k < n_scan; ++k) scans[k].push_back(std::move(outs[1 + n_carried + k]));
  }
  for (size_t k = 0; k < n_carried && k < out.size(); ++k) out[k] = std::move(carried[k]);
  for (size_t k = 0; k < n_scan && n_carried + k < out.size(); ++k) {
    GLINT_ASSIGN_OR_RETURN(out[n_carried + k], stack(n, scans[k], 0));
  }
  return Status::Ok();
}

namespace {
// One Scan (opset >= 9 semantics) over tensors without a batch axis.
Status scan_once(const ir::Node& n, const ir::Graph& body, std::vector<Value> state,
                 const std::vector<Tensor>& scan_in, const std::vector<int64_t>& in_axes,
                 const std::vector<int64_t>& in_dirs, const std::vector<int64_t>& out_axes,
                 const std::vector<int64_t>& out_dirs, std::vector<Value>& out, const SubgraphRunner& sub) {
  size_t n_state = state.size();
  int64_t len = -1;
  for (size_t j = 0; j < scan_in.size(); ++j) {
    int64_t axis = in_axes[j] < 0 ? in_axes[j] + scan_in[j].rank() : in_axes[j];
    if (axis < 0 || axis >= scan_in[j].rank()) return invalid_argument(n.describe() + ": scan_input_axes out of range");
    int64_t l = scan_in[j].shape()[axis];
    if (len >= 0 && l != len) return invalid_argument(n.describe() + ": scan inputs differ in sequence length");
    len = l;
  }
  if (len < 0) len = 0;
  size_t n_scan_out = body.outputs.size() - n_state;
  std::vector<std::vector<Value>> scans(n_scan_out);
  for (int64_t t = 0; t < len; ++t) {
    std::vector<Value> body_in = state;
    for (size_t j = 0; j < scan_in.size(); ++j) {
      int64_t axis = in_axes[j] < 0 ? in_axes[j] + scan_in[j].rank() : in_axes[j];
      int64_t at = in_dirs[j] ? len - 1 - t : t;
      Tensor slice = slice_axis(scan_in[j], axis, at, at + 1);
      Shape sh = slice.shape();
      sh.erase(sh.begin() + axis);
      body_in.push_back(Value::of(slice.reshaped(sh)));
    }
    GLINT_ASSIGN_OR_RETURN(auto outs, sub.run(body, body_in));
    for (size_t k = 0; k < n_state; ++k) state[k] = std::move(outs[k]);
    for (size_t k = 0; k < n_scan_out; ++k) scans[k].push_back(std::move(outs[n_state + k]));
  }
  for (size_t k = 0; k < n_state; ++k) out[k] = std::move(state[k]);
  for (size_t k = 0; k < n_scan_out; ++k) {
    if (out_dirs[k]) std::reverse(scans[k].begin(), scans[k].end());
    GLINT_ASSIGN_OR_RETURN(out[n_state + k], stack(n, scans[k], out_axes[k]));
  }
  return Status::Ok();
}
}  // namespace

Status scan(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
            const SubgraphRunner& sub) {
  const ir::Graph* body = graph_attr(n, "body");
  GLINT_RETURN_IF_ERROR(need_graph(n, body, "body"));
  int64_t m = n.attr_int("num_scan_inputs", 0);
  bool batched = n.opset < 9;  // opset 8: input 0 is sequence_lens, every tensor has a batch axis 0
  size_t first = batched ? 1 : 0;
  if (m <= 0 || static_cast<size_t>(m) > in.size() - first)
    return invalid_model(n.describe() + ": num_scan_inputs " + std::to_string(m) + " does not fit the inputs");
  size_t n_state = in.size() - first - m;
  for (size_t i = first; i < in.size(); ++i)
    if (!in[i] || !in[i]->is_tensor()) return invalid_argument(n.describe() + ": Scan inputs must be tensors");
  size_t n_scan_out = body->outputs.size() - n_state;
  auto ints_or = [&](const char* name, size_t count) {
    std::vector<int64_t> v = n.attr_ints(name);
    if (v.empty()) v.assign(count, 0);
    return v;
  };
  std::vector<int64_t> in_axes = ints_or("scan_input_axes", m);
  std::vector<int64_t> in_dirs = n.has_attr("directions") ? n.attr_ints("directions") : ints_or("scan_input_directions", m);
  std::vector<int64_t> out_axes = ints_or("scan_output_axes", n_scan_out);
  std::vector<int64_t> out_dirs = ints_or("scan_output_directions", n_scan_out);
  if (in_axes.size() != static_cast<size_t>(m) || in_dirs.size() != static_cast<size_t>(m) ||
      out_axes.size() != n_scan_out || out_dirs.size() != n_scan_out)
    return invalid_model(n.describe() + ": scan axis/direction attributes do not match the inputs/outputs");

  if (!batched) {
    std::vector<Value> state;
    for (size_t i = 0; i < n_state; ++i) state.push_back(*in[i]);
    std::vector<Tensor> scan_in;
    for (size_t j = 0; j < static_cast<size_t>(m); ++j) scan_in.push_back(in[n_state + j]->tensor);
    return scan_once(n, *body, state, scan_in, in_axes, in_dirs, out_axes, out_dirs, out, sub);
  }
  // Opset 8: loop over the batch axis; sequence_lens (if given) must be full.
  int64_t batch = in[first]->tensor.rank() > 0 ? in[first]->tensor.shape()[0] : 0;
  std::vector<std::vector<Value>> per_batch(out.size());
  for (int64_t b = 0; b < batch; ++b) {
    std::vector<Value> state;
    std::vector<Tensor> scan_in;
    for (size_t i = first; i < in.size(); ++i) {
      const Tensor& t = in[i]->tensor;
      if (t.rank() == 0 || t.shape()[0] != batch)
        return invalid_argument(n.describe() + ": every input needs batch axis 0 of size " + std::to_string(batch));
      Tensor s = slice_axis(t, 0, b, b + 1);
      Shape sh = s.shape();
      sh.erase(sh.begin());
      (i - first < n_state ? state.push_back(Value::of(s.reshaped(sh))) : scan_in.push_back(s.reshaped(sh)));
    }
    if (in[0] && in[0]->is_tensor()) {
      int64_t full = scan_in.empty() ? 0 : scan_in[0].shape()[0];
      if (in[0]->tensor.get_as_int64(b) != full)
        return unsupported(n.describe() + ": sequence_lens shorter than the scan axis is not supported");
    }
    std::vector<Value> outs(out.size());
    std::vector<int64_t> axes0(m, 0), oaxes0(n_scan_out, 0), odirs0(n_scan_out, 0);
    GLINT_RETURN_IF_ERROR(scan_once(n, *body, state, scan_in, axes0, in_dirs, oaxes0, odirs0, outs, sub));
    for (size_t k = 0; k < outs.size(); ++k) per_batch[k].push_back(std::move(outs[k]));
  }
  for (size_t k = 0; k < out.size(); ++k) {
    GLINT_ASSIGN_OR_RETURN(out[k], stack(n, per_batch[k], 0));
  }
  return Status::Ok();
}

Status sequence_map(const ir::Node& n, const std::vector<const Value*>& in, std::vector<Value>& out,
                    const SubgraphRunner& sub) {
  const ir::Graph* body = graph_attr(n, "body");
  GLINT_RETURN_IF_ERROR(need_graph(n, body, "body"));
  if (in.empty() || !in[0] || in[0]->kind != Value::Kind::kSequence)
    return invalid_argument(n.describe() + ": input 0 must be a sequence");
  size_t len = in[0]->sequence.size();
  for (size_t j = 1; j < in.size(); ++j)
    if (in[j] && in[j]->kind == Value::Kind::kSequence && in[j]->sequence.size() != len)
      return invalid_argument(n.describe() + ": input sequences differ in length");
  std::vector<std::vector<Tensor>> results(out.size());
  std::vector<DataType> dtypes(out.size(), DataType::kUndefined);
  for (size_t i = 0; i < len; ++i) {
    std::vector<Value> body_in;
    for (size_t j = 0; j < in.size(); ++j) {
      if (!in[j]) return invalid_argument(n.describe() + ": input " + std::to_string(j) + " is absent");
      body_in.push_back(in[j]->kind == Value::Kind::kSequence ? Value::of(in[j]->sequence[i]) : *in[j]);
    }
    GLINT_ASSIGN_OR_RETURN(auto outs, sub.run(*body, body_in));
    if (outs.size() != out.size()) return invalid_model(n.describe() + ": body output count differs from the node's");
    for (size_t k = 0; k < outs.size(); ++k) {
      if (!outs[k].is_tensor()) return unsupported(n.describe() + ": body outputs must be tensors");
      dtypes[k] = outs[k].tensor.dtype();
      results[k].push_back(std::move(outs[k].tensor));
    }
  }
  for (size_t k = 0; k < out.size(); ++k) out[k] = Value::of_sequence(std::move(results[k]), dtypes[k]);
  return Status::Ok();
}

}  // namespace glint::values
