// The accessors the composer generates for each input of a program (getX,
// getX4, getX8, getXFlat, getXBroadcast and the X_* constants promised in
// engine/ops/program.h), from the input's layout: the only code that turns
// tensor coordinates into texels. Internal to the composer.
#pragma once
#include <sstream>
#include <string>

#include "engine/gl/codegen/shader_composer.h"
#include "engine/gl/codegen/shape_ints.h"

namespace glint::gl {

// Declares input X's sampler and accessors on `os`; `out_shape_eff` is the
// output's shape (rank >= 1), against which getXBroadcast is generated.
void emit_input(std::ostringstream& os, const ComposerInput& in, const Shape& out_shape_eff, ShapeInts& ints);

// The global holding 1 / the size of input X's texture (set by main()).
std::string inv_size_name(const std::string& input);

// "1, 3, 224, 224" and "float32[1,3,224,224]", for declarations and comments.
std::string int_list(const Shape& s);
std::string desc_str(const TensorDesc& d);

}  // namespace glint::gl
