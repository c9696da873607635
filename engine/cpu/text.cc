// Text ops: StringNormalizer (opset 10) and TfIdfVectorizer (opset 9).
// Case changes are ASCII-only (the locale attribute is not consulted).
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

std::vector<std::string> attr_strings(const ir::Node& node, const char* name) {
  const ir::Attribute* a = node.attr(name);
  return a ? a->strings : std::vector<std::string>{};
}

std::string change_case(std::string s, bool upper) {
  for (char& ch : s) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (u < 128) ch = static_cast<char>(upper ? std::toupper(u) : std::tolower(u));
  }
  return s;
}

}  // namespace

Status infer_string_normalizer(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                               const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  if (x.dtype != DataType::kString && x.dtype != DataType::kUndefined)
    return node_error(node, "input must be string, given " + x.describe());
  outputs[0].dtype = DataType::kString;
  if (!x.has_shape) return Status::Ok();
  if (x.dims.size() != 1 && !(x.dims.size() == 2 && (!x.dims[0].known() || x.dims[0].value == 1)))
    return node_error(node, "input must be [C] or [1,C], given " + x.describe());
  outputs[0].has_shape = true;
  outputs[0].dims = x.dims;
  outputs[0].dims.back() = ir::Dim{};  // stopwords may remove any number
  return Status::Ok();
}

Status string_normalizer(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                         std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  if (x.dtype() != DataType::kString) return node_error(node, "input must be string, given " + tensor_desc(x));
  if (x.rank() != 1 && !(x.rank() == 2 && x.shape()[0] == 1))
    return node_error(node, "input must be [C] or [1,C], given " + tensor_desc(x));
  const std::string action = node.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER")
    return node_error(node, "case_change_action must be NONE, LOWER or UPPER, given " + action);
  const bool sensitive = node.attr_int("is_case_sensitive", 0) != 0;
  std::set<std::string> stop;
  for (const std::string& w : attr_strings(node, "stopwords")) stop.insert(sensitive ? w : change_case(w, false));
  std::vector<std::string> kept;
  for (const std::string& s : x.strings()) {
    if (stop.count(sensitive ? s : change_case(s, false))) continue;
    kept.push_back(action == "NONE" ? s : change_case(s, action == "UPPER"));
  }
  // Everything filtered out still gives one (empty) string, as ONNX says.
  if (kept.empty()) kept.emplace_back();
  Shape shape = x.shape();
  shape.back() = static_cast<int64_t>(kept.size());
  outputs[0] = Tensor(DataType::kString, shape);
  outputs[0].strings() = std::move(kept);
  return Status::Ok();
}

namespace {

int64_t tfidf_width(const ir::Node& node) {
  int64_t w = 0;
  for (int64_t i : node.attr_ints("ngram_indexes")) w = std::max(w, i + 1);
  return w;
}

}  // namespace

Status infer_tfidf_vectorizer(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                              const std::vector<const Tensor*>&, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = DataType::kFloat32;
  if (!x.has_shape) return Status::Ok();
  if (x.dims.size() != 1 && x.dims.size() != 2)
    return node_error(node, "input must be [C] or [N,C], given " + x.describe());
  outputs[0].has_shape = true;
  outputs[0].dims.clear();
  if (x.dims.size() == 2) outputs[0].dims.push_back(x.dims[0]);
  outputs[0].dims.push_back(ir::Dim{tfidf_width(node), ""});
  return Status::Ok();
}

Status tfidf_vectorizer(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                        std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  const Tensor& x = *inputs[0];
  const bool strings = x.dtype() == DataType::kString;
  if (!strings && !dtype_in(x.dtype(), {DataType::kInt32, DataType::kInt64}))
    return node_error(node, "input must be string, int32 or int64, given " + tensor_desc(x));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_tfidf_vectorizer, node, inputs, outputs));
  const int64_t min_n = node.attr_int("min_gram_length", 1), max_n = node.attr_int("max_gram_length", 1);
  const int64_t max_skip = node.attr_int("max_skip_count", 0);
  const std::string mode = node.attr_string("mode", "TF");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return node_error(node, "mode must be TF, IDF or TFIDF, given " + mode);
  if (min_n < 1 || max_n < min_n)
    return node_error(node, "gram lengths must satisfy 1 <= min <= max, given min " + std::to_string(min_n) +
                                " max " + std::to_string(max_n));
  // Tokens become int64 ids: the value for ints, the pool position of the
  // first equal pool string for strings (-1 when absent from the pool).
  const std::vector<std::string> pool_s = attr_strings(node, "pool_strings");
  const std::vector<int64_t> pool_i = node.attr_ints("pool_int64s");
  std::map<std::string, int64_t> string_id;
  for (size_t i = 0; i < pool_s.size(); ++i) string_id.emplace(pool_s[i], static_cast<int64_t>(i));
  auto pool_token = [&](size_t i) { return strings ? string_id[pool_s[i]] : pool_i[i]; };
  const int64_t pool_size = static_cast<int64_t>(strings ? pool_s.size() : pool_i.size());
  const std::vector<int64_t> counts = node.attr_ints("ngram_counts");
  const std::vector<int64_t> indexes = node.attr_ints("ngram_indexes");
  std::vector<float> weights = node.attr_floats("weights");
  std::map<std::vector<int64_t>, int64_t> ngram_col;  // n-gram -> output column
  size_t g = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const int64_t n = static_cast<int64_t>(i) + 1;
    const int64_t begin = counts[i], end = i + 1 < counts.size() ? counts[i + 1] : pool_size;
    if (begin < 0 || end > pool_size || begin > end)
      return node_error(node, "ngram_counts " + std::to_string(begin) + ".." + std::to_string(end) +
                                  " outside the pool of " + std::to_string(pool_size));
    for (int64_t p = begin; p + n <= end; p += n, ++g) {
      if (g >= indexes.size())
        return node_error(node, "ngram_indexes has " + std::to_string(indexes.size()) + " entries, fewer than the pool's n-grams");
      if (indexes[g] < 0)
        return node_error(node, "ngram_indexes must be non-negative, given " + std::to_string(indexes[g]));
      std::vector<int64_t> key;
      for (int64_t k = 0; k < n; ++k) key.push_back(pool_token(static_cast<size_t>(p + k)));
      ngram_col[key] = indexes[g];
    }
  }
  if (!weights.empty() && weights.size() < indexes.size())
    return node_error(node, "weights has " + std::to_string(weights.size()) + " entries, expected " +
                                std::to_string(indexes.size()));
  std::vector<double> col_weight(static_cast<size_t>(tfidf_width(node)), 1.0);
  for (size_t k = 0; k < indexes.size() && !weights.empty(); ++k)
    if (indexes[k] >= 0) col_weight[indexes[k]] = weights[k];
  Tensor& y = outputs[0];
  const int64_t rows = x.rank() == 2 ? x.shape()[0] : 1, C = x.shape().back(), width = y.shape().back();
  auto token = [&](int64_t i) -> int64_t {
    if (!strings) return x.get_as_int64(i);
    auto it = string_id.find(x.strings()[i]);
    return it == string_id.end() ? -1 : it->second;
  };
  std::vector<double> tf(width);
  for (int64_t r = 0; r < rows; ++r) {
    std::fill(tf.begin(), tf.end(), 0.0);
    for (int64_t start = 0; start < C; ++start) {
      for (int64_t n = min_n; n <= max_n; ++n) {
        for (int64_t skip = 0; skip <= (n == 1 ? 0 : max_skip); ++skip) {
          if (start + (n - 1) * (skip + 1) >= C) break;
          std::vector<int64_t> key;
          for (int64_t k = 0; k < n; ++k) key.push_back(token(r * C + start + k * (skip + 1)));
          auto it = ngram_col.find(key);
          if (it != ngram_col.end() && it->second < width) tf[it->second] += 1;
        }
      }
    }
    for (int64_t c = 0; c < width; ++c) {
      double v = tf[c];
      if (mode == "IDF") v = v > 0 ? col_weight[c] : 0.0;
      else if (mode == "TFIDF") v *= col_weight[c];
      y.set_from_double(r * width + c, v);
    }
  }
  return Status::Ok();
}

}  // namespace glint::cpu
