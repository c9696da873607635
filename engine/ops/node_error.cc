#include "engine/ops/node_error.h"

namespace glint::ops {

Status node_error(const ir::Node& node, const std::string& msg) {
  return invalid_argument(node.describe() + ": " + msg);
}

Status node_unsupported(const ir::Node& node, const std::string& msg) {
  return unsupported(node.describe() + ": " + msg);
}

}  // namespace glint::ops
