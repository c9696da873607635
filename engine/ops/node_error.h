// Errors about a node: "node 'x' (Op, opset N): <msg>", the form every
// error that blames a node takes (op readings here, the CPU kernels and
// their shape functions).
#pragma once
#include <string>

#include "engine/core/status.h"
#include "engine/ir/graph.h"

namespace glint::ops {

// Defined out of line: hundreds of error paths call them, and inlined
// each would copy the message building into every one (115 KiB more wasm).
Status node_error(const ir::Node& node, const std::string& msg);
Status node_unsupported(const ir::Node& node, const std::string& msg);

}  // namespace glint::ops
