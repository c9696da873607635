#include "engine/onnx/external_data.h"

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "engine/onnx/loader.h"

namespace glint::onnx_loader {

Result<std::string> normalize_location(const std::string& location) {
  if (location.empty()) return invalid_model("an external data location is empty");
  if (location.find('\0') != std::string::npos)
    return invalid_model("external data location '" + location.substr(0, location.find('\0')) +
                         "...' holds a NUL byte");
  if (location[0] == '/' || location[0] == '\\' || (location.size() > 1 && location[1] == ':'))
    return invalid_model("external data location '" + location + "' is an absolute path; it must name a file "
                         "relative to the model");
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= location.size()) {
    size_t j = location.find_first_of("/\\", i);
    if (j == std::string::npos) j = location.size();
    const std::string part = location.substr(i, j - i);
    if (part == "..")
      return invalid_model("external data location '" + location + "' climbs out of the model's folder ('..')");
    if (!part.empty() && part != ".") parts.push_back(part);
    i = j + 1;
  }
  if (parts.empty()) return invalid_model("external data location '" + location + "' names no file");
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

ExternalDataFn external_data_in_dir(const std::string& dir) {
  struct Files {
    std::mutex m;
    std::map<std::string, std::string> bytes;
  };
  auto files = std::make_shared<Files>();
  const std::string base = dir.empty() ? "." : dir;
  return [files, base](const std::string& name) -> Result<std::string_view> {
    std::lock_guard<std::mutex> lk(files->m);
    auto it = files->bytes.find(name);
    if (it == files->bytes.end()) {
      // Past the name's own check, a link inside the folder must not lead
      // out of it either.
      namespace fs = std::filesystem;
      std::error_code ec;
      const fs::path root = fs::weakly_canonical(base, ec);
      const fs::path file = fs::weakly_canonical(fs::path(base) / name, ec);
      const fs::path rel = file.lexically_relative(root);
      if (ec || rel.empty() || *rel.begin() == "..")
        return invalid_model("external data location '" + name + "' leads out of the model's folder (" + base +
                             ") through a link");
      auto read = read_file(base + "/" + name);
      if (!read.ok())
        return read.status().with_context("external data '" + name + "' (beside the model, in " + base + ")");
      it = files->bytes.emplace(name, std::move(read).value()).first;
    }
    return std::string_view(it->second);
  };
}

ExternalDataFn external_data_in_memory(std::map<std::string, std::string_view> given) {
  auto files = std::make_shared<std::map<std::string, std::string_view>>();
  for (auto& [path, bytes] : given) {
    auto name = normalize_location(path);
    if (name.ok()) (*files)[name.value()] = bytes;  // a name no location can have never matches
  }
  return [files](const std::string& name) -> Result<std::string_view> {
    auto it = files->find(name);
    if (it != files->end()) return it->second;
    std::string known;
    for (auto& [k, v] : *files) known += (known.empty() ? "'" : ", '") + k + "'";
    return invalid_argument("the model keeps tensors in external data '" + name + "', which was not given" +
                            (known.empty() ? " (no external data files were given)" : " (given: " + known + ")"));
  };
}

}  // namespace glint::onnx_loader
