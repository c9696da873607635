// The shape integers of one composed program (internal to the composer):
// literals, or with ProgramInfo::shape_uniforms the names of globals that
// main() sets from uniforms, so that programs differing only in sizes are
// one program. See shader_composer.h.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace glint::gl {

// The integers of the shapes in a program's source. Baked, each is a
// literal. With ProgramInfo::shape_uniforms each is the name of a uniform
// the executor sets for each draw, so that passes whose shapes differ only
// in these extents share one program (one compile, and in a browser one
// JIT of the pipeline at its first draw). Which extents are 1, and
// remainders that decide guards, shape the text either way, so the source
// stays the program's cache key.
class ShapeInts {
 public:
  explicit ShapeInts(bool as_uniforms) : as_uniforms_(as_uniforms) {}
  bool as_uniforms() const { return as_uniforms_; }
  // `value` as GLSL: the literal, or the uniform `name` (declared later).
  std::string operator()(const std::string& name, int64_t value);
  const std::vector<std::pair<std::string, int>>& uniforms() const { return uniforms_; }
  // A name given two values (a composer or kernel bug), or "".
  const std::string& conflict() const { return conflict_; }

 private:
  bool as_uniforms_;
  std::vector<std::pair<std::string, int>> uniforms_;
  std::string conflict_;
};

// The uniform holding extent `what` of input X (or of the output, "OUT").
std::string extent_name(const std::string& tensor, const char* what);

// Statements setting `target` to `rest` % `extent` and `rest` to
// `rest` / `extent` (non-negative ints; `extent` a literal or a uniform).
// By a literal the compiler divides with a multiply; by a uniform an int
// division is scalar code per lane on a CPU rasterizer (no SIMD integer
// divide), so the quotient comes from a float division instead: exact
// while `rest` < 2^20 (the true quotient is at least 0.5 / extent from an
// integer; highp division errs by a few ulps). Callers pass a texel row or
// column, below the largest texture side (16384 here, 65536 anywhere).
std::string split_off(const std::string& target, const std::string& rest, const std::string& extent, bool uniform);

}  // namespace glint::gl
