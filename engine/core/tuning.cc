#include "engine/core/tuning.h"

#include <cstdlib>
#include <set>
#include <sstream>
#include <string>

namespace glint {

namespace {
std::set<std::string> names_in(const char* variable) {
  std::set<std::string> out;
  const char* env = std::getenv(variable);
  std::stringstream ss(env ? env : "");
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.insert(item);
  }
  return out;
}
}  // namespace

bool optimization_enabled(const char* name) {
  static const std::set<std::string> disabled = names_in("GLINT_DISABLE");
  return disabled.count(name) == 0;
}

bool optimization_opted_in(const char* name) {
  static const std::set<std::string> enabled = names_in("GLINT_ENABLE");
  return enabled.count(name) > 0;
}

}  // namespace glint
