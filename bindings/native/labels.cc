#include "bindings/native/labels.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace glint::native {
namespace {

// Length of the "123," prefix of `line`, or 0 when it has none.
size_t index_prefix(const std::string& line) {
  size_t i = 0;
  while (i < line.size() && std::isdigit(static_cast<unsigned char>(line[i]))) ++i;
  if (i == 0 || i > 9 || i >= line.size() || line[i] != ',') return 0;
  return i + 1;
}

}  // namespace

Result<std::vector<std::string>> parse_labels(const std::string& text, const std::string& source) {
  std::vector<std::string> lines;
  {
    std::string body = text;
    if (body.compare(0, 3, "\xEF\xBB\xBF") == 0) body.erase(0, 3);
    std::istringstream in(body);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  if (lines.empty()) return invalid_argument(source + ": no labels (empty file)");

  bool indexed = true;
  for (const std::string& line : lines) {
    if (!line.empty() && index_prefix(line) == 0) {
      indexed = false;
      break;
    }
  }
  if (!indexed) return lines;

  std::vector<std::string> labels;
  std::vector<bool> seen;
  for (size_t n = 0; n < lines.size(); ++n) {
    const std::string& line = lines[n];
    if (line.empty()) continue;
    const size_t p = index_prefix(line);
    const size_t index = std::stoul(line.substr(0, p - 1));
    if (index >= 1000000) {
      return invalid_argument(source + ":" + std::to_string(n + 1) + ": index " + std::to_string(index) +
                              " is implausibly large");
    }
    if (index >= labels.size()) {
      labels.resize(index + 1);
      seen.resize(index + 1, false);
    }
    if (seen[index]) {
      return invalid_argument(source + ":" + std::to_string(n + 1) + ": index " + std::to_string(index) +
                              " appears twice");
    }
    seen[index] = true;
    labels[index] = line.substr(p);
  }
  return labels;
}

Result<std::vector<std::string>> load_labels(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot open labels file '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_labels(ss.str(), "labels file '" + path + "'");
}

}  // namespace glint::native
