// Declarations of every CPU kernel and shape-inference function; the rows
// that bind them to ops are in engine/runtime/registry_cpu.inc and
// registry_shapes.inc.
#pragma once
#include "engine/cpu/kernel.h"

namespace glint::cpu {
}  // namespace glint::cpu
