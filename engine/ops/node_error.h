// Errors about a node: "node 'x' (Op, opset N): <msg>", the form every
// error that blames a node takes (op readings here, the CPU kernels and
// their shape functions).
#pragma once
#include <string>

#include "engine/core/status.h"
#include "engine/ir/graph.h"

namespace glint::ops {

inline Status node_error(const ir::Node& node, const std::string& msg) {
  return invalid_argument(node.describe() + ": " + msg);
}
inline Status node_unsupported(const ir::Node& node, const std::string& msg) {
  return unsupported(node.describe() + ": " + msg);
}

}  // namespace glint::ops
