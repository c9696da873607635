// Shared pieces of the `glint` command line: argument parsing, printing.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/runtime/session.h"

namespace glint::cli {

// `--name value` options (repeatable) and positional arguments; `--flag`
// options listed in `switches` take no value.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> options;
  std::string get(const std::string& name, const std::string& dflt = "") const;
  std::vector<std::string> all(const std::string& name) const;
  bool has(const std::string& name) const { return options.count(name) != 0; }
};
Result<Args> parse_args(int argc, char** argv, int first, const std::vector<std::string>& valued,
                        const std::vector<std::string>& switches);
Result<double> parse_number(const std::string& option, const std::string& text);

// --rtol / --atol, defaulting to the ONNX node tests' 1e-3 / 1e-4.
struct Tolerance {
  double rtol = 1e-3, atol = 1e-4;
};
Result<Tolerance> parse_tolerance(const Args& args);

// Session options from --backend and --force-cpu.
Result<SessionOptions> session_options(const Args& args);

// "float32[1,10] = [0.1, 0.2, ...]" with at most `limit` values.
std::string format_tensor(const Tensor& t, int64_t limit);
std::string tensor_json(const Tensor& t);
std::string json_escape(const std::string& s);

// Deterministic pseudo-random feeds for every input (symbolic dims = 1).
Result<std::map<std::string, Tensor>> random_feeds(const Session& s, uint32_t seed);

// "NAME=FILE", or just "FILE" when `ios` (the model's inputs or outputs:
// `option` says which) has exactly one entry.
Result<std::pair<std::string, std::string>> split_binding(const std::string& option, const std::string& s,
                                                          const std::vector<IoInfo>& ios);
// Feeds from --input NAME=FILE bindings (.pb or .npy files).
Result<std::map<std::string, Tensor>> feeds_from_files(const Session& s, const std::vector<std::string>& bindings);

int fail(const Status& s);  // prints "glint: error: ..." and returns 1

int cmd_run(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_node_tests(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_zoo(int argc, char** argv);

}  // namespace glint::cli
