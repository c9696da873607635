#include "bindings/native/tensor_io.h"

#include <cstring>
#include <fstream>
#include <map>
#include <regex>

#include "engine/core/half.h"
#include "engine/onnx/loader.h"

namespace glint::cli {

namespace {
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<DataType> npy_dtype(const std::string& descr, const std::string& what) {
  static const std::map<std::string, DataType> kinds = {
      {"f4", DataType::kFloat32}, {"f2", DataType::kFloat16}, {"f8", DataType::kFloat64},
      {"i8", DataType::kInt64},   {"i4", DataType::kInt32},   {"i2", DataType::kInt16},
      {"i1", DataType::kInt8},    {"u1", DataType::kUint8},   {"u2", DataType::kUint16},
      {"u4", DataType::kUint32},  {"u8", DataType::kUint64},  {"b1", DataType::kBool}};
  if (descr.size() < 3 || descr[0] == '>')
    return unsupported(what + ": .npy dtype '" + descr + "' is not supported (little-endian numeric only)");
  auto it = kinds.find(descr.substr(1));
  if (it == kinds.end()) return unsupported(what + ": .npy dtype '" + descr + "' is not supported");
  return it->second;
}
}  // namespace

Result<Tensor> load_npy(const std::string& bytes, const std::string& what) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return invalid_argument(what + ": not a .npy file (no \\x93NUMPY magic)");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else {
    if (bytes.size() < 12) return invalid_argument(what + ": truncated .npy header");
    uint32_t len;
    std::memcpy(&len, bytes.data() + 8, 4);
    header_len = len;
    offset = 12;
  }
  if (offset + header_len > bytes.size()) return invalid_argument(what + ": truncated .npy header");
  std::string header = bytes.substr(offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']+)'")))
    return invalid_argument(what + ": .npy header has no descr");
  GLINT_ASSIGN_OR_RETURN(DataType dtype, npy_dtype(m[1].str(), what));
  if (std::regex_search(header, std::regex("'fortran_order':\\s*True")))
    return unsupported(what + ": Fortran-ordered .npy arrays are not supported");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    return invalid_argument(what + ": .npy header has no shape");
  Shape shape;
  std::string dims = m[1].str();
  std::regex num("\\d+");
  for (auto it = std::sregex_iterator(dims.begin(), dims.end(), num); it != std::sregex_iterator(); ++it)
    shape.push_back(std::stoll(it->str()));
  Tensor t(dtype, shape);
  size_t elem = dtype == DataType::kFloat16 ? 2 : storage_size(dtype);
  size_t need = static_cast<size_t>(t.size()) * elem;
  size_t data_at = offset + header_len;
  if (bytes.size() - data_at != need)
    return invalid_argument(what + ": .npy data has " + std::to_string(bytes.size() - data_at) + " bytes, " +
                            tensor_desc(t) + " needs " + std::to_string(need));
  if (dtype == DataType::kFloat16) {
    for (int64_t i = 0; i < t.size(); ++i) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + data_at + 2 * i, 2);
      t.data<float>()[i] = half_to_float(h);
    }
  } else if (need) {
    std::memcpy(t.raw(), bytes.data() + data_at, need);
  }
  return t;
}

Result<Tensor> load_tensor_file(const std::string& path, std::string* proto_name) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, onnx_loader::read_file(path));
  if (ends_with(path, ".npy")) return load_npy(bytes, path);
  auto t = onnx_loader::load_tensor_pb(bytes.data(), bytes.size(), proto_name);
  if (!t.ok()) return t.status().with_context(path);
  return t;
}

Status save_tensor_file(const Tensor& t, const std::string& name, const std::string& path) {
  GLINT_ASSIGN_OR_RETURN(std::string bytes, onnx_loader::save_tensor_pb(t, name));
  std::ofstream f(path, std::ios::binary);
  if (!f || !f.write(bytes.data(), static_cast<std::streamsize>(bytes.size())))
    return io_error("cannot write '" + path + "'");
  return Status::Ok();
}

}  // namespace glint::cli
