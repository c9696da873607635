// Compiled programs keyed by their full fragment source (shapes are baked
// into the source, so equal source means an interchangeable program). All
// programs share one vertex shader (the full-screen quad).
//
// A session's steps hold the programs they draw with (PassCache, as
// shared_ptrs); a program no step holds stays cached for the next session
// or shape that composes the same source, up to `idle_limit` of them, the
// least recently used going first. Without the limit the cache only grew:
// the executor lives as long as the page, and a model run at new sizes
// (an OCR line of another width) or a page that loads model after model
// compiled programs that were never freed (found by the default-backend
// fuzzer: its resident memory grew without end).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/status.h"
#include "engine/gl/objects.h"

namespace glint::gl {

struct CompiledProgram {
  Program program;
  std::string name;  // ProgramInfo::name of the first pass that built it
  mutable uint64_t last_use = 0;  // ProgramCache's clock at the last find
};

struct ProgramRequest {
  const std::string* source = nullptr;
  std::string name;                        // for error messages
  std::vector<std::string> sampler_names;  // uniform i is bound to texture unit i
};

class ProgramCache {
 public:
  explicit ProgramCache(size_t idle_limit = kDefaultIdleLimit) : idle_limit_(idle_limit) {}
  // Programs no step holds that stay compiled: many models' worth (a
  // session of the BERT bench model holds 47, of MobileNetV2 17).
  static constexpr size_t kDefaultIdleLimit = 512;
  ~ProgramCache() = default;  // the owning executor makes its context current
  // Compiles the shared vertex shader.
  Status init(const std::string& vertex_source);

  // The cached program for `source`, or null.
  std::shared_ptr<const CompiledProgram> find(const std::string& source);
  // Finds or compiles one program.
  Result<std::shared_ptr<const CompiledProgram>> get(const ProgramRequest& request);
  // Compiles every missing program, issuing all compiles and links before
  // querying any status so the driver may work in parallel
  // (KHR_parallel_shader_compile). Fails on the first program that does not
  // compile or link. Then frees idle programs past the limit (never one of
  // these: they are the most recently used). The GL program bound may be
  // deleted: callers forget which one is bound.
  Status compile_all(const std::vector<ProgramRequest>& requests);

  size_t size() const { return programs_.size(); }
  // The GL names of the programs freed since the last call: GL may give a
  // name to a new program, so what the caller keeps per name (uniform
  // values set) must go.
  std::vector<GLuint> take_freed() { return std::exchange(freed_, {}); }

 private:
  void free_idle_past_limit();

  VertexShader vertex_;
  size_t idle_limit_;
  uint64_t clock_ = 0;
  std::unordered_map<std::string, std::shared_ptr<CompiledProgram>> programs_;
  std::vector<GLuint> freed_;
};

// "<info log>\nsource near the error:\n  41| ...\n> 42| ..." : the numbered
// source lines around each line the log mentions (Mesa "0:42(7): error",
// ANGLE "ERROR: 0:42: ..."); the whole numbered source when none is found.
std::string annotate_compile_log(const std::string& source, const std::string& log);

}  // namespace glint::gl
