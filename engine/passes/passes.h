// Graph passes: each is a function that rewrites the graph in place and
// returns a Status. `optimize` runs them in the order they depend on.
#pragma once
#include <set>
#include <string>

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
// fold_constants inside If / Loop / Scan bodies, nested ones too: the
// enclosing graphs' constants a body reads become its own initializers (the
// tensors share storage), so its nodes on them fold (an exported LSTM's gate
// reordering: Slices and Concats of weights on every run otherwise); the
// constants a body no longer reads leave it, and the node's implicit inputs
// are what its bodies still read from outside.
Status fold_body_constants(ir::Graph& g);
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

// Conv / ConvTranspose followed by an inference BatchNormalization with
// constant statistics becomes one Conv (scaled weights, new bias) that writes
// the BN's output.
// Nodes named in `keep` (by name, or first output when unnamed; e.g.
// SessionOptions::force_cpu) are never removed.
Status fold_batch_norm(ir::Graph& g, const std::set<std::string>& keep = {});
// Conv followed by an Add of a constant that varies along the output
// channels alone ([M,1,1], [1,M,1,1]) takes it into its bias.
Status fold_conv_add(ir::Graph& g, const std::set<std::string>& keep = {});
// Conv / ConvTranspose / Gemm / MatMul whose output only an activation reads
// (Relu, Clip with constant bounds, LeakyRelu, Sigmoid, HardSigmoid, Tanh)
// takes the activation as internal attributes (engine/ops/fused_activation.h)
// and writes the activation's output; the activation node is removed. Only
// valid where the runtime applies fused_activation_of() to output 0.
// Activations named in `keep` (as for fold_batch_norm) stay nodes.
Status fuse_activations(ir::Graph& g, const std::set<std::string>& keep = {});
// A float32 Add without broadcasting whose one operand only a Conv writes
// and only the Add reads: the Conv takes the other operand as a fused
// residual (input 3, engine/ops/fused_activation.h) and writes the Add's
// output; the Add is removed. Run before fuse_activations, so that an
// activation after the Add fuses too (applied after the residual). Only
// valid where the runtime's Conv kernels read the residual (Session: CPU
// and GPU). Adds named in `keep` stay nodes.
Status fuse_residual_add(ir::Graph& g, const std::set<std::string>& keep = {});
// A float32 Add whose one operand only a MatMul / FusedMatMul writes and
// only the Add reads, the other of a shape that broadcasts to the
// product's without growing it (a bias [N], a residual of its shape;
// symbolic dims count as equal where their names are): the
// product takes the other operand as an addend (engine/ops/fused_activation.h,
// at most 2: a linear layer's bias and the residual after it) and writes
// the Add's output. Run before fuse_activations, which then fuses an
// activation after the Adds. Only valid where the runtime's MatMul kernels
// read the addends (Session: CPU and GPU). Adds named in `keep` stay nodes.
Status fuse_matmul_add(ir::Graph& g, const std::set<std::string>& keep = {});

// ReduceMean / Sub / Pow / ReduceMean / Add / Sqrt / Div over the last axis
// (torch's LayerNorm below opset 17), with the Mul and Add by [C] constants
// after it when they are there, becomes one LayerNormalization (opset 17).
// Chains with a node named in `keep` stay as they are.
Status fuse_layer_norm(ir::Graph& g, const std::set<std::string>& keep = {});
// x * 0.5 * (1 + Erf(x / sqrt 2)) (either order of the two Muls; the
// division may be a Mul by 1 / sqrt 2) becomes com.microsoft Gelu.
Status fuse_gelu(ir::Graph& g, const std::set<std::string>& keep = {});

// MatMul reading a Transpose of the last two dims that nothing else reads
// becomes com.microsoft FusedMatMul with transA / transB on that operand.
Status fuse_matmul_transpose(ir::Graph& g, const std::set<std::string>& keep = {});
// A float32 MatMul / FusedMatMul output read only by a Div or Mul by a
// one-element constant: the product becomes FusedMatMul with the factor in
// alpha and writes the Div's / Mul's output. Before fuse_matmul_add (which
// then takes a mask Add after it) and fuse_activations.
Status fold_matmul_scale(ir::Graph& g, const std::set<std::string>& keep = {});
// Chains of Reshape / Flatten / Squeeze / Unsqueeze, and Transposes that
// move only dims of size 1, each link read by the next alone, become one
// Reshape to the chain's static output shape (a lone such Transpose too);
// then drops what no longer reaches an output. Needs inferred shapes.
Status collapse_reshapes(ir::Graph& g, const std::set<std::string>& keep = {});

// On the CPU backend: a constant 2-D float32 B read only by MatMuls is
// stored transposed and the MatMuls become FusedMatMul transB (the GEMV
// streams contiguous rows); where every reader's A has at least 4 rows
// (static) and N is a multiple of cpu::kGemmNr, stored as the GEMM's
// packed panels instead, the FusedMatMuls marked cpu::kPackedWeightsAttr.
Status transpose_matmul_weights(ir::Graph& g, const std::set<std::string>& keep = {});

// On the CPU backend: a constant float32 W read only by 3x3 stride-1 Convs
// (cpu::winograd_conv_applies) is stored as Winograd F(2x2, 3x3) weights
// [16, M, C] and the Convs carry cpu::kWinogradAttr.
Status winograd_conv_weights(ir::Graph& g, const std::set<std::string>& keep = {});

// On the GPU backends: a 2-D 1x1 stride-1 unpadded float Conv whose output
// only GlobalAveragePool / GlobalMaxPool read, over a static [N, C, H, W]
// whose pixels the GPU tiles wastefully (W not a multiple of its 4-pixel
// tile), reads its input through a Reshape to [N, C, 1, H*W] and writes
// [N, M, 1, H*W]: the pools' outputs do not change.
Status flatten_pooled_convs(ir::Graph& g, const std::set<std::string>& keep = {});

struct OptimizeOptions {
  bool fold = true;  // constant folding; off means no folding passes at all
  bool fold_batch_norm = true;
  // Only for a runtime that applies fused activations (Session does, CPU
  // and GPU: it turns this on unless GLINT_DISABLE=fuse).
  bool fuse_activations = false;
  // The MatMul Adds (fuse_matmul_add), with fuse_activations.
  bool fuse_matmul_adds = true;
  // Only for the CPU backend (transpose_matmul_weights): the GPU kernels
  // read B as the model lays it out.
  bool transpose_matmul_weights = false;
  // Only for the CPU backend too (winograd_conv_weights): the GPU convs read
  // W as the model lays it out.
  bool winograd_conv_weights = false;
  // Only for the GPU backends (flatten_pooled_convs): on the CPU the pixels'
  // arrangement costs nothing.
  bool flatten_pooled_convs = false;
  // Nodes (name, or first output when unnamed) the rewrites must not remove,
  // e.g. SessionOptions::force_cpu.
  std::set<std::string> keep_nodes;
};
Status optimize(ir::Graph& g, const OptimizeOptions& options = {});
// The passes If / Loop / Scan bodies get, nested ones too (body_passes.cc):
// Constant nodes to initializers, and with options.fuse_activations the
// activation fusion over dtypes inferred with the enclosing graphs' values.
Status optimize_bodies(ir::Graph& g, const OptimizeOptions& options);

}  // namespace glint::passes
