// A model's external data: tensors whose TensorProto says data_location
// EXTERNAL keep their bytes in another file (torch.onnx.export and
// onnx.save_model write them so past protobuf's 2 GiB, or by choice), named
// by the tensor's `location` relative to the model, at `offset` for
// `length` bytes. The loader asks one of these for a file's bytes.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace glint::onnx_loader {

// The whole of the file `location` names (normalize_location's form: the
// loader checks a tensor's location once, before it asks), valid while the
// model loads; or an error naming the file.
using ExternalDataFn = std::function<Result<std::string_view>(const std::string& location)>;

// `location` as the files are keyed: "./" prefixes and repeated slashes
// dropped; an error when it is absolute or climbs out of the model's folder
// ("..") — a model may read files in its folder, not outside it.
Result<std::string> normalize_location(const std::string& location);

// Files in `dir` (the model's folder), each read into memory once, on first
// use, and released with the last copy of the function; a link that leads
// out of the folder is refused.
ExternalDataFn external_data_in_dir(const std::string& dir);

// Files the caller holds in memory, by name (the browser's externalData
// session option); the bytes must outlive the load.
ExternalDataFn external_data_in_memory(std::map<std::string, std::string_view> files);

}  // namespace glint::onnx_loader
