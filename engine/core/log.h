// Minimal logging to stderr; GLINT_LOG=debug turns on debug lines.
#pragma once
#include <string>

namespace glint {
enum class LogLevel { kDebug, kInfo, kWarning, kError };
void log(LogLevel level, const std::string& message);
bool debug_logging();
}  // namespace glint
