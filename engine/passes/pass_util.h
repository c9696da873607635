// What the rewriting passes (fold_batch_norm, fuse_activations) ask of a
// graph while they rewrite it: who produces a value, how often it is read,
// and fresh names for new constants.
#pragma once
#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace glint::passes {

class ValueIndex {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  explicit ValueIndex(ir::Graph& g);

  // The index in g.nodes of the node writing `value`, or kNone.
  size_t producer(const std::string& value) const;
  // How many times `value` is read: node inputs, implicit (subgraph) inputs,
  // graph outputs. A value read once, by one node, is private to that node.
  int readers(const std::string& value) const;
  // `base`, or `base` with a numeric suffix: no value, initializer or input
  // of the graph has that name (nor any name fresh_name gave before).
  std::string fresh_name(const std::string& base);
  // Node `node` writes its output `output` under `name` from now on.
  void rename_output(size_t node, size_t output, const std::string& name);

 private:
  ir::Graph& g_;
  std::map<std::string, size_t> producer_;
  std::map<std::string, int> readers_;
  std::set<std::string> names_;
};

// The node (index in g.nodes) writing `x` as its output 0 when `x` has no
// other reader than the one node about to absorb it, else ValueIndex::kNone.
size_t private_producer(const ir::Graph& g, const ValueIndex& index, const std::string& x);
// Node `p` absorbs node `idx`, which reads p's output 0: p writes idx's
// output 0 from now on, p's old output value goes, idx is marked removed.
void absorb_into_producer(ir::Graph& g, ValueIndex& index, size_t p, size_t idx, std::vector<bool>& removed);

// The driver of the passes that fold a node into the producer of one of its
// inputs (an activation, a bias or residual Add, a constant scale): every
// node not kept, in topological order; for each position `inputs(n)` lists,
// in order, whose producer writes that input for n alone: when `attach(n, position, producer)` records n's work on the
// producer, the producer writes n's output 0 and n goes (absorb_into_producer).
Status fold_into_producers(ir::Graph& g, const std::set<std::string>& keep,
                           const std::function<std::vector<int>(const ir::Node& n)>& inputs,
                           const std::function<bool(const ir::Node& n, int input, ir::Node& producer)>& attach);

// An ONNX MatMul or a com.microsoft FusedMatMul.
bool is_matmul_product(const ir::Node& n);
// `mm` (a MatMul, or a FusedMatMul already) becomes com.microsoft
// FusedMatMul, keeping its attributes: the form whose transA / transB /
// alpha the passes set.
void make_fused_matmul(ir::Node& mm);

// True when `keep` names `n` (its name, or its first output when unnamed).
bool is_kept(const ir::Node& n, const std::set<std::string>& keep);
// Drops the nodes marked in `removed` (indexed like g.nodes).
void erase_nodes(ir::Graph& g, const std::vector<bool>& removed);
// Erases those of `names` that are initializers nothing reads any more.
void erase_unread_initializers(ir::Graph& g, const std::set<std::string>& names);

// The constants every reader of which is an input `takes(node, input index)`
// accepts, each with those readers (indices in g.nodes): a pass may swap
// such a constant for a rewritten copy without a second copy staying alive.
// A graph output or a subgraph's read is a reader no pass may rewrite for.
std::map<std::string, std::vector<size_t>> constants_read_only_by(
    const ir::Graph& g, const std::function<bool(const ir::Node&, size_t input)>& takes);

}  // namespace glint::passes
