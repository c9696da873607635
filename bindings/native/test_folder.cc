#include "bindings/native/test_folder.h"

#include <algorithm>
#include <cstdlib>

#include "engine/core/compare.h"
#include "engine/core/half.h"
#include "engine/onnx/loader.h"

namespace fs = std::filesystem;

namespace glint::cli {

namespace {

std::vector<fs::path> numbered(const fs::path& dir, const std::string& prefix) {
  std::vector<std::pair<int, fs::path>> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && e.path().extension() == ".pb")
      files.push_back({std::atoi(name.c_str() + prefix.size()), e.path()});
  }
  std::sort(files.begin(), files.end());
  std::vector<fs::path> out;
  for (auto& f : files) out.push_back(f.second);
  return out;
}

// ONNX 1.12's test data stores bfloat16 tensors as their uint16 bit patterns;
// read them as the bfloat16 the model declares (and compare outputs likewise).
Tensor bfloat16_from_bits(const Tensor& bits) {
  Tensor t(DataType::kBFloat16, bits.shape());
  for (int64_t i = 0; i < t.size(); ++i) t.data<float>()[i] = bfloat16_to_float(bits.data<uint16_t>()[i]);
  return t;
}

ir::TypeKind kind_of(const std::vector<IoInfo>& ios, size_t k) {
  return k < ios.size() ? ios[k].info.kind : ir::TypeKind::kTensor;
}

}  // namespace

std::vector<fs::path> find_model_folders(const std::vector<std::string>& dirs) {
  std::vector<fs::path> out;
  for (auto& d : dirs) {
    fs::path p(d);
    if (fs::exists(p / "model.onnx")) {
      out.push_back(p);
      continue;
    }
    std::error_code ec;
    for (auto& e : fs::directory_iterator(p, ec))
      if (e.is_directory() && fs::exists(e.path() / "model.onnx")) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<fs::path> test_data_sets(const fs::path& model_folder) {
  std::vector<fs::path> sets;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(model_folder, ec))
    if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0) sets.push_back(e.path());
  std::sort(sets.begin(), sets.end());
  return sets;
}

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

Result<std::map<std::string, Value>> load_feeds(const Session& s, const fs::path& set) {
  std::map<std::string, Value> feeds;
  auto inputs = numbered(set, "input_");
  for (size_t k = 0; k < inputs.size(); ++k) {
    std::string name;
    GLINT_ASSIGN_OR_RETURN(Value v, onnx_loader::load_value_pb_file(inputs[k].string(), kind_of(s.inputs(), k), &name));
    bool named = false;
    for (auto& io : s.inputs()) named = named || io.name == name;
    if (!named) {
      if (k >= s.inputs().size()) return invalid_argument(set.string() + ": more input files than model inputs");
      name = s.inputs()[k].name;
    }
    for (auto& io : s.inputs())
      if (io.name == name && io.info.dtype == DataType::kBFloat16 && v.is_tensor() &&
          v.tensor.dtype() == DataType::kUint16)
        v.tensor = bfloat16_from_bits(v.tensor);
    feeds[name] = std::move(v);
  }
  return feeds;
}

std::string check_outputs(const Session& s, const fs::path& set, const std::map<std::string, Value>& got,
                          const std::function<std::string(const std::string&, const Value&, const Value&)>& compare) {
  auto outputs = numbered(set, "output_");
  for (size_t k = 0; k < outputs.size(); ++k) {
    std::string name;
    auto want = onnx_loader::load_value_pb_file(outputs[k].string(), kind_of(s.outputs(), k), &name);
    if (!want.ok()) return one_line(want.status().message());
    if (!got.count(name)) {
      if (k >= s.outputs().size()) return "more output files than model outputs";
      name = s.outputs()[k].name;
    }
    if (!got.count(name)) return "output '" + name + "' was not produced";
    std::string mismatch = compare(name, got.at(name), want.value());
    if (!mismatch.empty()) return set.filename().string() + " output '" + name + "': " + one_line(mismatch);
  }
  return "";
}

std::string compare_values(const Value& got, Value want, double rtol, double atol, double* max_abs_diff) {
  auto note = [&](const Comparison& c) {
    if (max_abs_diff) *max_abs_diff = std::max(*max_abs_diff, c.max_abs_diff);
  };
  if (got.is_tensor() && want.is_tensor()) {
    if (got.tensor.dtype() == DataType::kBFloat16 && want.tensor.dtype() == DataType::kUint16)
      want.tensor = bfloat16_from_bits(want.tensor);
    Comparison c = compare_tensors(got.tensor, want.tensor, rtol, atol);
    note(c);
    return c.equal ? "" : c.mismatch;
  }
  if (got.kind != want.kind) return "got " + got.describe() + ", expected " + want.describe();
  if (got.kind == Value::Kind::kNone) return "";
  if (got.sequence.size() != want.sequence.size())
    return "sequence of " + std::to_string(got.sequence.size()) + ", expected " + std::to_string(want.sequence.size());
  for (size_t i = 0; i < got.sequence.size(); ++i) {
    Comparison c = compare_tensors(got.sequence[i], want.sequence[i], rtol, atol);
    note(c);
    if (!c.equal) return "element " + std::to_string(i) + ": " + c.mismatch;
  }
  return "";
}

}  // namespace glint::cli
