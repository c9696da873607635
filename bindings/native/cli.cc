#include "bindings/native/cli.h"

#include <cstdlib>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <sstream>

#include "bindings/native/tensor_io.h"

namespace glint::cli {

std::string Args::get(const std::string& name, const std::string& dflt) const {
  auto it = options.find(name);
  return it == options.end() ? dflt : it->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto range = options.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

Result<Args> parse_args(int argc, char** argv, int first, const std::vector<std::string>& valued,
                        const std::vector<std::string>& switches) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0 || s == "--") {
      a.positional.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    bool is_valued = std::find(valued.begin(), valued.end(), name) != valued.end();
    bool is_switch = std::find(switches.begin(), switches.end(), name) != switches.end();
    if (!is_valued && !is_switch) return invalid_argument("unknown option --" + name);
    if (is_valued && !inline_value) {
      if (i + 1 >= argc) return invalid_argument("option --" + name + " needs a value");
      value = argv[++i];
    }
    a.options.emplace(name, value);
  }
  return a;
}

Result<double> parse_number(const std::string& option, const std::string& text) {
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v)) return v;
  } catch (...) {
  }
  return invalid_argument("--" + option + " expects a number, got '" + text + "'");
}

Result<Tolerance> parse_tolerance(const Args& args) {
  Tolerance t;
  GLINT_ASSIGN_OR_RETURN(t.rtol, parse_number("rtol", args.get("rtol", "1e-3")));
  GLINT_ASSIGN_OR_RETURN(t.atol, parse_number("atol", args.get("atol", "1e-4")));
  if (t.rtol < 0 || t.atol < 0) return invalid_argument("--rtol and --atol must not be negative");
  return t;
}

Result<SessionOptions> session_options(const Args& args) {
  SessionOptions o;
  GLINT_ASSIGN_OR_RETURN(o.backend, parse_backend_mode(args.get("backend", "default")));
  for (auto& n : args.all("force-cpu")) o.force_cpu.insert(n);
  if (args.has("memory-cap")) {
    // Bytes, or with a K, M or G suffix (powers of 1024).
    const std::string v = args.get("memory-cap");
    char* end = nullptr;
    const double n = std::strtod(v.c_str(), &end);
    const std::string unit = end ? std::string(end) : "";
    const double scale = unit.empty() ? 1 : unit == "K" ? 1024.0 : unit == "M" ? 1048576.0 : unit == "G" ? 1073741824.0 : -1;
    if (!(n > 0) || scale < 0) return invalid_argument("--memory-cap takes bytes, e.g. 512M or 2G (got '" + v + "')");
    o.memory_cap = static_cast<int64_t>(n * scale);
  }
  return o;
}

std::string format_tensor(const Tensor& t, int64_t limit) {
  std::ostringstream os;
  os << tensor_desc(t) << " = [";
  int64_t n = std::min<int64_t>(t.size(), limit);
  for (int64_t i = 0; i < n; ++i) {
    if (i) os << ", ";
    if (t.dtype() == DataType::kString) os << '"' << t.strings()[i] << '"';
    else if (is_float(t.dtype())) os << t.get_as_double(i);
    else os << t.get_as_int64(i);
  }
  if (t.size() > n) os << ", ... (" << t.size() << " values)";
  os << "]";
  return os.str();
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string tensor_json(const Tensor& t) {
  std::ostringstream os;
  os.precision(9);
  os << "{\"dtype\": \"" << dtype_name(t.dtype()) << "\", \"shape\": [";
  for (size_t i = 0; i < t.shape().size(); ++i) os << (i ? ", " : "") << t.shape()[i];
  os << "], \"data\": [";
  for (int64_t i = 0; i < t.size(); ++i) {
    if (i) os << ", ";
    if (t.dtype() == DataType::kString) os << '"' << json_escape(t.strings()[i]) << '"';
    else if (is_float(t.dtype())) {
      double v = t.get_as_double(i);
      if (std::isnan(v)) os << "\"NaN\"";
      else if (std::isinf(v)) os << (v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      else os << v;
    } else {
      os << t.get_as_int64(i);
    }
  }
  os << "]}";
  return os.str();
}

Result<std::map<std::string, Tensor>> random_feeds(const Session& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.f, 1.f);
  std::map<std::string, Tensor> feeds;
  for (auto& io : s.inputs()) {
    if (!io.info.has_shape) return invalid_argument("input '" + io.name + "' has no declared shape");
    Shape shape;
    for (auto& d : io.info.dims) shape.push_back(d.known() ? d.value : 1);
    DataType dt = io.info.dtype == DataType::kUndefined ? DataType::kFloat32 : io.info.dtype;
    Tensor t(dt, shape);
    for (int64_t i = 0; i < t.size(); ++i) t.set_from_double(i, dist(rng));
    feeds[io.name] = t;
  }
  return feeds;
}

Result<std::pair<std::string, std::string>> split_binding(const std::string& option, const std::string& s,
                                                          const std::vector<IoInfo>& ios) {
  auto eq = s.find('=');
  if (eq != std::string::npos) return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
  if (ios.size() == 1) return std::make_pair(ios[0].name, s);
  return invalid_argument("--" + option + " '" + s + "': write NAME=FILE (the model has " +
                          std::to_string(ios.size()) + " " + option + "s)");
}

Result<std::map<std::string, Tensor>> feeds_from_files(const Session& s, const std::vector<std::string>& bindings) {
  std::map<std::string, Tensor> feeds;
  for (const std::string& b : bindings) {
    GLINT_ASSIGN_OR_RETURN(auto nb, split_binding("input", b, s.inputs()));
    GLINT_ASSIGN_OR_RETURN(Tensor t, load_tensor_file(nb.second));
    feeds[nb.first] = std::move(t);
  }
  return feeds;
}

int fail(const Status& s) {
  std::fprintf(stderr, "glint: error: %s\n", s.message().c_str());
  return 1;
}

}  // namespace glint::cli
