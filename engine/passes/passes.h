// Graph passes: each is a function that rewrites the graph in place and
// returns a Status. `optimize` runs them in the order they depend on.
#pragma once
#include "engine/core/status.h"
#include "engine/ir/graph.h"

namespace glint::passes {

// Constant nodes become initializers.
Status constant_nodes_to_initializers(ir::Graph& g);
// Identity and inference-mode Dropout are removed; their consumers read the
// input directly (a graph output keeps its name).
Status remove_identity(ir::Graph& g);
// Nodes whose inputs are all constants are evaluated with the CPU kernels and
// become initializers (random ops excepted).
Status fold_constants(ir::Graph& g);
// Fills g.values with the dtype and shape of every value that the shape
// functions can derive (symbolic dims allowed).
Status infer_shapes(ir::Graph& g);
// Drops nodes none of whose outputs reach a graph output, and initializers
// nothing reads.
Status remove_dead_nodes(ir::Graph& g);

// float16 tensors computed in float32 end to end (initializers, values and
// Cast-to-float16 retyped), when no op carries other typed attributes. Sets
// `applied`; the caller rounds declared float16 outputs.
Status compute_float16_in_float32(ir::Graph& g, bool* applied);

struct OptimizeOptions {
  bool fold = true;
};
Status optimize(ir::Graph& g, const OptimizeOptions& options = {});

}  // namespace glint::passes
