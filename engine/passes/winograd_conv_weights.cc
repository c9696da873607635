// winograd_conv_weights, for the CPU backend alone: a 3x3 stride-1 Conv
// whose constant float32 weights only such Convs read has them transformed
// here, once, into the 16 matrices Winograd F(2x2, 3x3) multiplies by
// (cpu/conv_winograd.h), and is marked to run that way. Transforming them in
// the kernel instead would redo ~40 flops per weight on every run.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/cpu/conv_winograd.h"
#include "engine/passes/pass_util.h"
#include "engine/passes/passes.h"

namespace glint::passes {

namespace {

// H x W of a 2-D Conv's output when shape inference knew them, else -1.
int64_t output_pixels(const ir::Graph& g, const ir::Node& conv) {
  const ir::ValueInfo* y = conv.outputs.empty() ? nullptr : g.info(conv.outputs[0]);
  if (y == nullptr || !y->has_shape || y->dims.size() != 4 || !y->dims[2].known() || !y->dims[3].known()) return -1;
  return y->dims[2].value * y->dims[3].value;
}

}  // namespace

Status winograd_conv_weights(ir::Graph& g, const std::set<std::string>& keep) {
  // Rewritten only when every reader is a Conv that can take it, so the
  // transformed copy replaces it.
  const auto readers = constants_read_only_by(g, [&](const ir::Node& n, size_t k) {
    const auto it = g.initializers.find(n.inputs[k]);
    return k == 1 && it != g.initializers.end() && it->second.dtype() == DataType::kFloat32 &&
           n.inputs[0] != n.inputs[1] && !is_kept(n, keep) &&
           cpu::winograd_conv_applies(n, it->second.shape(), output_pixels(g, n));
  });
  ValueIndex index(g);
  for (auto& [name, nodes] : readers) {
    Tensor u = cpu::winograd_weights(g.initializers.at(name));
    const std::string u_name = index.fresh_name(name + "_winograd");
    g.values[u_name] = ir::ValueInfo::of(u);
    g.initializers[u_name] = std::move(u);
    for (size_t i : nodes) {
      g.nodes[i].inputs[1] = u_name;
      g.nodes[i].attrs[cpu::kWinogradAttr] = ir::Attribute::of_int(1);
    }
    g.initializers.erase(name);
    g.values.erase(name);
  }
  return Status::Ok();
}

}  // namespace glint::passes
