// Folders in the ONNX backend-test layout (model.onnx + test_data_set_*/
// input_<k>.pb, output_<k>.pb), as `glint node-tests` and `glint zoo` read
// them: finding them, loading a set's feeds and its expected outputs.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/value.h"
#include "engine/runtime/session.h"

namespace glint::cli {

// Every folder holding a model.onnx, under each of `dirs` (or the dir itself), sorted.
std::vector<std::filesystem::path> find_model_folders(const std::vector<std::string>& dirs);
// The folder's test_data_set_* folders, sorted.
std::vector<std::filesystem::path> test_data_sets(const std::filesystem::path& model_folder);

// The set's input_<k>.pb files as feeds of `s`: a file's proto name picks the
// input, an unnamed one goes by position; bfloat16 inputs stored as uint16
// bits are read as bfloat16.
Result<std::map<std::string, Value>> load_feeds(const Session& s, const std::filesystem::path& set);

// Checks the set's output_<k>.pb files against `got`: `compare(name, got,
// want)` returns "" when they agree, else the mismatch. Returns "" when all
// agree, else the first mismatch prefixed with the set and output name.
std::string check_outputs(const Session& s, const std::filesystem::path& set,
                          const std::map<std::string, Value>& got,
                          const std::function<std::string(const std::string&, const Value&, const Value&)>& compare);

// "" when equal within rtol/atol (bfloat16 outputs compared with expected
// uint16 bits as bfloat16), else what differs; sequences element by
// element. `max_abs_diff` (optional) gets the largest difference seen.
std::string compare_values(const Value& got, Value want, double rtol, double atol, double* max_abs_diff = nullptr);

std::string one_line(std::string s);  // newlines to spaces, at most 300 characters

}  // namespace glint::cli
