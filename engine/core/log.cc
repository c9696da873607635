#include "engine/core/log.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace glint {

bool debug_logging() {
  static const bool on = [] {
    const char* v = std::getenv("GLINT_LOG");
    return v != nullptr && std::strcmp(v, "debug") == 0;
  }();
  return on;
}

void log(LogLevel level, const std::string& message) {
  if (level == LogLevel::kDebug && !debug_logging()) return;
  static const char* names[] = {"debug", "info", "warning", "error"};
  std::fprintf(stderr, "glint %s: %s\n", names[static_cast<int>(level)], message.c_str());
}

}  // namespace glint
