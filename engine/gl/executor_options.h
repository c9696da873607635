// Knobs of the GL executor that the runtime does not need but tests and
// diagnostics do. `create_executor()` (executor.h) uses the defaults.
#pragma once
#include <memory>

#include "engine/core/status.h"
#include "engine/gl/executor.h"
#include "engine/gl/program_cache.h"

namespace glint::gl {

struct ExecutorOptions {
  // Read R32F textures back as GL_RGBA/GL_FLOAT (the combination GLES
  // guarantees) even when the driver offers GL_RED; lets tests cover the path
  // browsers take.
  bool force_rgba_readback = false;
  // Compiled programs that no session's step holds kept for reuse
  // (program_cache.h); the least recently used past this many are deleted.
  size_t idle_programs = ProgramCache::kDefaultIdleLimit;
};

Result<std::unique_ptr<Executor>> create_executor(const ExecutorOptions& options);

}  // namespace glint::gl
