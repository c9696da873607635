// Compiled programs keyed by their full fragment source (shapes are baked
// into the source, so equal source means an interchangeable program). All
// programs share one vertex shader (the full-screen quad).
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/status.h"
#include "engine/gl/objects.h"

namespace glint::gl {

struct CompiledProgram {
  Program program;
  std::string name;  // ProgramInfo::name of the first pass that built it
};

struct ProgramRequest {
  const std::string* source = nullptr;
  std::string name;                        // for error messages
  std::vector<std::string> sampler_names;  // uniform i is bound to texture unit i
};

class ProgramCache {
 public:
  ProgramCache() = default;
  ~ProgramCache() = default;  // the owning executor makes its context current
  // Compiles the shared vertex shader.
  Status init(const std::string& vertex_source);

  // The cached program for `source`, or nullptr.
  const CompiledProgram* find(const std::string& source) const;
  // Finds or compiles one program.
  Result<const CompiledProgram*> get(const ProgramRequest& request);
  // Compiles every missing program, issuing all compiles and links before
  // querying any status so the driver may work in parallel
  // (KHR_parallel_shader_compile). Fails on the first program that does not
  // compile or link.
  Status compile_all(const std::vector<ProgramRequest>& requests);

  size_t size() const { return programs_.size(); }

 private:
  VertexShader vertex_;
  std::unordered_map<std::string, std::unique_ptr<CompiledProgram>> programs_;
};

// "<info log>\nsource near the error:\n  41| ...\n> 42| ..." : the numbered
// source lines around each line the log mentions (Mesa "0:42(7): error",
// ANGLE "ERROR: 0:42: ..."); the whole numbered source when none is found.
std::string annotate_compile_log(const std::string& source, const std::string& log);

}  // namespace glint::gl
