#include "bindings/native/model_config.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace glint::native {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Typed field readers: `where` is the JSON path used in error messages.
Status get_string(const json& obj, const char* key, const std::string& where, std::string* out, bool required) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    return required ? invalid_argument(where + "." + key + " is missing") : Status::Ok();
  }
  if (!it->is_string()) return invalid_argument(where + "." + key + " must be a string, got " + it->dump());
  *out = it->get<std::string>();
  return Status::Ok();
}

Status get_bool(const json& obj, const char* key, const std::string& where, bool* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_boolean()) return invalid_argument(where + "." + key + " must be true or false, got " + it->dump());
  *out = it->get<bool>();
  return Status::Ok();
}

Status get_int(const json& obj, const char* key, const std::string& where, int* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1000000) {
    return invalid_argument(where + "." + key + " must be a non-negative integer, got " + it->dump());
  }
  *out = it->get<int>();
  return Status::Ok();
}

// A number, or an array of `channels` numbers (one number applies to all).
Status get_per_channel(const json& obj, const char* key, const std::string& where, int channels,
                       std::array<float, 3>* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return Status::Ok();
  const std::string path = where + "." + key;
  if (it->is_number()) {
    out->fill(it->get<float>());
    return Status::Ok();
  }
  if (!it->is_array() || static_cast<int>(it->size()) != channels) {
    return invalid_argument(path + " must be a number or an array of " + std::to_string(channels) +
                            " numbers (one per channel), got " + it->dump());
  }
  for (int c = 0; c < channels; ++c) {
    if (!(*it)[c].is_number()) return invalid_argument(path + "[" + std::to_string(c) + "] is not a number");
    (*out)[c] = (*it)[c].get<float>();
  }
  return Status::Ok();
}

Status parse_preprocess(const json& j, const std::string& where, Preprocess* p) {
  if (!j.is_object()) return invalid_argument(where + " must be an object");
  std::string s;
  GLINT_RETURN_IF_ERROR(get_string(j, "color", where, &s, true));
  const std::string color = upper(s);
  if (color == "RGB") p->color = ColorOrder::kRGB;
  else if (color == "BGR") p->color = ColorOrder::kBGR;
  else if (color == "GRAY" || color == "GREY" || color == "L") p->color = ColorOrder::kGray;
  else return invalid_argument(where + ".color must be RGB, BGR or GRAY, got '" + s + "'");

  s = "short_side";
  GLINT_RETURN_IF_ERROR(get_string(j, "resize", where, &s, false));
  if (s == "short_side") p->resize = ResizeMode::kShortSide;
  else if (s == "exact") p->resize = ResizeMode::kExact;
  else return invalid_argument(where + ".resize must be 'short_side' or 'exact', got '" + s + "'");
  GLINT_RETURN_IF_ERROR(get_int(j, "resize_size", where, &p->resize_size));

  auto crop = j.find("crop");
  if (crop == j.end()) return invalid_argument(where + ".crop ([height, width]) is missing");
  if (crop->is_number_integer()) {
    p->crop_height = p->crop_width = crop->get<int>();
  } else if (crop->is_array() && crop->size() == 2 && (*crop)[0].is_number_integer() &&
             (*crop)[1].is_number_integer()) {
    p->crop_height = (*crop)[0].get<int>();
    p->crop_width = (*crop)[1].get<int>();
  } else {
    return invalid_argument(where + ".crop must be [height, width], got " + crop->dump());
  }
  if (p->crop_height <= 0 || p->crop_width <= 0 || p->crop_height > 65536 || p->crop_width > 65536) {
    return invalid_argument(where + ".crop must be positive, got " + crop->dump());
  }
  if (p->resize == ResizeMode::kShortSide && p->resize_size > 0 &&
      (p->resize_size < p->crop_height || p->resize_size < p->crop_width)) {
    return invalid_argument(where + ".resize_size " + std::to_string(p->resize_size) +
                            " is smaller than the crop " + crop->dump());
  }

  GLINT_RETURN_IF_ERROR(get_bool(j, "antialias", where, &p->antialias));
  GLINT_RETURN_IF_ERROR(get_bool(j, "invert", where, &p->invert));
  GLINT_RETURN_IF_ERROR(get_per_channel(j, "mean", where, p->channels(), &p->mean));
  GLINT_RETURN_IF_ERROR(get_per_channel(j, "scale", where, p->channels(), &p->scale));

  s = "NCHW";
  GLINT_RETURN_IF_ERROR(get_string(j, "layout", where, &s, false));
  if (upper(s) != "NCHW") return unsupported(where + ".layout '" + s + "': only NCHW is supported");
  auto range = j.find("value_range");
  if (range != j.end() && *range != json::array({0, 255})) {
    return unsupported(where + ".value_range " + range->dump() +
                       ": pixels are 0..255; express other ranges with mean and scale");
  }
  return Status::Ok();
}

Status parse_entry(const json& j, const std::string& where, ModelConfig* m) {
  if (!j.is_object()) return invalid_argument(where + " must be an object");
  GLINT_RETURN_IF_ERROR(get_string(j, "file", where, &m->file, true));
  m->name = fs::path(m->file).stem().string();
  GLINT_RETURN_IF_ERROR(get_string(j, "name", where, &m->name, false));

  auto input = j.find("input");
  if (input == j.end() || !input->is_object()) return invalid_argument(where + ".input (an object) is missing");
  GLINT_RETURN_IF_ERROR(get_string(*input, "name", where + ".input", &m->input_name, true));
  if (auto shape = input->find("shape"); shape != input->end()) {
    if (!shape->is_array()) return invalid_argument(where + ".input.shape must be an array");
    for (const json& d : *shape) {
      if (!d.is_number_integer()) return invalid_argument(where + ".input.shape has a non-integer " + d.dump());
      m->input_shape.push_back(d.get<int64_t>());
    }
  }
  std::string dtype = "float32";
  GLINT_RETURN_IF_ERROR(get_string(*input, "dtype", where + ".input", &dtype, false));
  if (dtype == "float32") m->input_dtype = DataType::kFloat32;
  else if (dtype == "float16") m->input_dtype = DataType::kFloat16;
  else return unsupported(where + ".input.dtype '" + dtype + "': only float32 and float16 image inputs");

  auto pre = j.find("preprocess");
  if (pre == j.end()) return invalid_argument(where + ".preprocess is missing");
  GLINT_RETURN_IF_ERROR(parse_preprocess(*pre, where + ".preprocess", &m->preprocess));
  const Preprocess& p = m->preprocess;
  if (m->input_shape.size() == 4) {
    const Shape want{1, p.channels(), p.crop_height, p.crop_width};
    for (size_t i = 1; i < 4; ++i) {
      if (m->input_shape[i] > 0 && m->input_shape[i] != want[i]) {
        return invalid_argument(where + ": input.shape " + shape_str(m->input_shape) +
                                " does not match the preprocessing output " + shape_str(want));
      }
    }
  }

  auto output = j.find("output");
  if (output == j.end() || !output->is_object()) return invalid_argument(where + ".output (an object) is missing");
  GLINT_RETURN_IF_ERROR(get_string(*output, "name", where + ".output", &m->output_name, true));
  GLINT_RETURN_IF_ERROR(get_bool(*output, "softmaxed", where + ".output", &m->output_softmaxed));

  if (auto labels = j.find("labels"); labels != j.end()) {
    if (labels->is_string()) {
      m->labels_file = labels->get<std::string>();
    } else if (labels->is_array()) {
      for (const json& l : *labels) {
        if (!l.is_string()) return invalid_argument(where + ".labels has a non-string " + l.dump());
        m->labels.push_back(l.get<std::string>());
      }
    } else {
      return invalid_argument(where + ".labels must be a file name or an array of names");
    }
  }
  return Status::Ok();
}

// "a/b/c.onnx" → {"a","b","c.onnx"} (lexically normalised, no "." parts).
std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  for (const fs::path& part : fs::path(path).lexically_normal()) {
    const std::string s = part.string();
    if (!s.empty() && s != "." && s != "/") out.push_back(s);
  }
  return out;
}

bool is_suffix(const std::vector<std::string>& suffix, const std::vector<std::string>& whole) {
  if (suffix.empty() || suffix.size() > whole.size()) return false;
  return std::equal(suffix.rbegin(), suffix.rend(), whole.rbegin());
}

}  // namespace

Result<std::vector<ModelConfig>> parse_model_configs(const std::string& json_text, const std::string& source) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    return invalid_argument(source + ": malformed JSON: " + e.what());
  }
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array()) {
    return invalid_argument(source + ": expected an object with a \"models\" array");
  }
  std::vector<ModelConfig> out;
  const json& models = doc["models"];
  for (size_t i = 0; i < models.size(); ++i) {
    ModelConfig m;
    try {
      GLINT_RETURN_IF_ERROR(
          parse_entry(models[i], "models[" + std::to_string(i) + "]", &m).with_context(source));
    } catch (const json::exception& e) {  // e.g. a number out of range for its type
      return invalid_argument(source + ": models[" + std::to_string(i) + "]: " + e.what());
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<ModelConfig>> load_model_configs(const std::string& json_path) {
  std::ifstream f(json_path, std::ios::binary);
  if (!f) return io_error("cannot open model config '" + json_path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << f.rdbuf();
  return parse_model_configs(ss.str(), json_path);
}

Result<ModelConfig> find_model_config(const std::vector<ModelConfig>& configs, const std::string& model_path) {
  const std::vector<std::string> model = components(model_path);
  if (model.empty()) return invalid_argument("no model path given");
  const ModelConfig* best = nullptr;
  size_t best_len = 0;
  for (const ModelConfig& c : configs) {
    const std::vector<std::string> file = components(c.file);
    if (is_suffix(file, model) && file.size() > best_len) {
      best = &c;
      best_len = file.size();
    }
  }
  if (best) return *best;
  const ModelConfig* by_name = nullptr;
  int count = 0;
  for (const ModelConfig& c : configs) {
    if (fs::path(c.file).filename() == fs::path(model_path).filename()) {
      by_name = &c;
      ++count;
    }
  }
  if (count == 1) return *by_name;
  std::string known;
  for (const ModelConfig& c : configs) known += (known.empty() ? "" : ", ") + c.file;
  if (count > 1) {
    return invalid_argument("model '" + model_path + "': its file name matches several models.json entries (" +
                            known + "); use the path under models/data");
  }
  return invalid_argument("model '" + model_path + "' is not in models.json (known: " +
                          (known.empty() ? std::string("none") : known) + ")");
}

Result<ModelConfig> load_model_config(const std::string& json_path, const std::string& model_path) {
  GLINT_ASSIGN_OR_RETURN(auto configs, load_model_configs(json_path));
  auto found = find_model_config(configs, model_path);
  if (!found.ok()) return found.status().with_context(json_path);
  return found;
}

std::string locate_models_json(const std::string& model_path) {
  if (const char* env = std::getenv("GLINT_MODELS_JSON"); env && *env) return env;
  std::error_code ec;
  fs::path dir = fs::absolute(fs::path(model_path), ec).lexically_normal().parent_path();
  while (!ec && !dir.empty()) {
    fs::path candidate = dir / "models.json";
    std::error_code missing;  // a directory without models.json is not an error
    if (fs::is_regular_file(candidate, missing)) return candidate.string();
    if (dir == dir.root_path()) break;
    dir = dir.parent_path();
  }
  if (fs::is_regular_file("models/models.json", ec)) return "models/models.json";
  return "";
}

std::string resolve_labels_path(const ModelConfig& config, const std::string& model_path) {
  if (config.labels_file.empty()) return "";
  fs::path base = fs::path(model_path).lexically_normal().parent_path();
  const std::vector<std::string> file = components(config.file);
  if (is_suffix(file, components(model_path))) {
    for (size_t i = 1; i < file.size(); ++i) base = base.parent_path();
  }
  return (base / config.labels_file).lexically_normal().string();
}

}  // namespace glint::native
