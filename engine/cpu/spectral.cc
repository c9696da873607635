// Spectral ops (opset 17): DFT, STFT and MelWeightMatrix. Complex values are
// a trailing dim of 2 (real, imaginary); a trailing dim of 1 is a real signal.
// The transforms are the plain O(n^2) sums in double: these ops are rare and
// small in models, and the sum is the definition the tests check against.
#include <cmath>

#include "engine/cpu/kernels.h"
#include "engine/cpu/util.h"

namespace glint::cpu {

namespace {

constexpr double kPi = 3.14159265358979323846;

ir::Dim dim_of(int64_t v) { return ir::Dim{v, ""}; }

// The DFT axis: an attribute up to opset 19, input 2 from opset 20 (default -2).
Status dft_axis(const ir::Node& node, const std::vector<const Tensor*>& constants, int64_t rank,
                int64_t* axis) {
  int64_t a = node.opset >= 20 ? -2 : node.attr_int("axis", 1);
  if (node.opset >= 20 && constants.size() > 2 && constants[2]) a = constants[2]->get_as_int64(0);
  // The last dim holds the complex parts, so it is not a signal axis.
  GLINT_RETURN_IF_ERROR(normalize_axis(node, a, rank, axis));
  if (*axis == rank - 1)
    return node_error(node, "axis must not be the last (complex) dim, given " + std::to_string(a));
  return Status::Ok();
}

// out[k] = sum_n in[n] * exp(sign * 2 pi i k n / len), n < min(count, len).
void dft_1d(const double* re, const double* im, int64_t count, int64_t len, int64_t bins,
            bool inverse, double* out_re, double* out_im) {
  const double sign = inverse ? 1.0 : -1.0;
  const int64_t n_max = std::min(count, len);
  for (int64_t k = 0; k < bins; ++k) {
    double sr = 0, si = 0;
    for (int64_t n = 0; n < n_max; ++n) {
      const double a = sign * 2 * kPi * static_cast<double>((k * n) % len) / len;
      const double c = std::cos(a), s = std::sin(a);
      sr += re[n] * c - im[n] * s;
      si += re[n] * s + im[n] * c;
    }
    if (inverse) { sr /= len; si /= len; }
    out_re[k] = sr;
    out_im[k] = si;
  }
}

}  // namespace

Status infer_dft(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                 const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 1));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  if (!x.has_shape) return Status::Ok();
  const int64_t rank = static_cast<int64_t>(x.dims.size());
  if (rank < 2) return node_error(node, "input must have rank >= 2, given " + x.describe());
  const ir::Dim& last = x.dims[rank - 1];
  if (last.known() && last.value != 1 && last.value != 2)
    return node_error(node, "last dim must be 1 (real) or 2 (complex), given " + x.describe());
  int64_t axis = 0;
  GLINT_RETURN_IF_ERROR(dft_axis(node, constants, rank, &axis));
  outputs[0].has_shape = true;
  outputs[0].dims = x.dims;
  outputs[0].dims[rank - 1] = dim_of(2);
  ir::Dim len = x.dims[axis];
  if (inputs.size() > 1 && inputs[1]) {
    len = ir::Dim{};
    if (constants.size() > 1 && constants[1]) {
      const int64_t l = constants[1]->get_as_int64(0);
      if (l <= 0) return node_error(node, "dft_length must be positive, given " + std::to_string(l));
      len = dim_of(l);
    }
  }
  if (node.attr_int("onesided", 0) != 0) len = len.known() ? dim_of(len.value / 2 + 1) : ir::Dim{};
  outputs[0].dims[axis] = len;
  return Status::Ok();
}

Status dft(const ir::Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 1));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_dft, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const int64_t rank = x.rank();
  int64_t axis = 0;
  GLINT_RETURN_IF_ERROR(dft_axis(node, inputs, rank, &axis));
  const bool complex_in = x.shape()[rank - 1] == 2;
  const int64_t count = x.shape()[axis];
  const int64_t len = inputs.size() > 1 && inputs[1] ? inputs[1]->get_as_int64(0) : count;
  const int64_t bins = y.shape()[axis];
  if (len <= 0) return Status::Ok();
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[d];
  for (int64_t d = axis + 1; d < rank - 1; ++d) inner *= x.shape()[d];
  const int64_t parts = complex_in ? 2 : 1;
  const bool inverse = node.attr_int("inverse", 0) != 0;
  std::vector<double> re(count), im(count), ore(bins), oim(bins);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      for (int64_t n = 0; n < count; ++n) {
        const int64_t at = ((o * count + n) * inner + i) * parts;
        re[n] = x.get_as_double(at);
        im[n] = complex_in ? x.get_as_double(at + 1) : 0.0;
      }
      dft_1d(re.data(), im.data(), count, len, bins, inverse, ore.data(), oim.data());
      for (int64_t k = 0; k < bins; ++k) {
        const int64_t at = ((o * bins + k) * inner + i) * 2;
        y.set_from_double(at, ore[k]);
        y.set_from_double(at + 1, oim[k]);
      }
    }
  }
  round_to_dtype(y);
  return Status::Ok();
}

// STFT inputs: signal [batch, length, 1|2], frame_step, window?, frame_length?.
// Output [batch, frames, bins, 2].
Status infer_stft(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                  const std::vector<const Tensor*>& constants, std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 2));
  const ir::ValueInfo& x = *inputs[0];
  outputs[0].dtype = x.dtype;
  outputs[0].has_shape = true;
  outputs[0].dims = {ir::Dim{}, ir::Dim{}, ir::Dim{}, dim_of(2)};
  if (x.has_shape) {
    if (x.dims.size() != 3) return node_error(node, "signal must be [batch, length, 1|2], given " + x.describe());
    outputs[0].dims[0] = x.dims[0];
  }
  auto known = [&](size_t i) { return constants.size() > i && constants[i] ? constants[i] : nullptr; };
  int64_t frame_length = -1;
  if (inputs.size() > 2 && inputs[2] && inputs[2]->has_shape && inputs[2]->dims.size() == 1)
    frame_length = inputs[2]->dims[0].value;
  if (const Tensor* fl = known(3)) frame_length = fl->get_as_int64(0);
  if (frame_length == 0) return node_error(node, "frame_length must be positive, given 0");
  if (frame_length > 0)
    outputs[0].dims[2] = dim_of(node.attr_int("onesided", 1) != 0 ? frame_length / 2 + 1 : frame_length);
  const Tensor* step = known(1);
  if (step && frame_length > 0 && x.has_shape && x.dims[1].known()) {
    const int64_t s = step->get_as_int64(0);
    if (s <= 0) return node_error(node, "frame_step must be positive, given " + std::to_string(s));
    if (x.dims[1].value < frame_length)
      return node_error(node, "signal length " + std::to_string(x.dims[1].value) +
                                  " is shorter than frame_length " + std::to_string(frame_length));
    outputs[0].dims[1] = dim_of((x.dims[1].value - frame_length) / s + 1);
  }
  return Status::Ok();
}

Status stft(const ir::Node& node, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 2));
  const Tensor* window = inputs.size() > 2 ? inputs[2] : nullptr;
  const Tensor* flen = inputs.size() > 3 ? inputs[3] : nullptr;
  if (!window && !flen) return node_error(node, "needs a window or a frame_length input, given neither");
  if (window && flen && window->size() != flen->get_as_int64(0))
    return node_error(node, "window length " + std::to_string(window->size()) + " differs from frame_length " +
                                std::to_string(flen->get_as_int64(0)));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_stft, node, inputs, outputs));
  const Tensor& x = *inputs[0];
  Tensor& y = outputs[0];
  const int64_t batch = x.shape()[0], length = x.shape()[1], parts = x.shape()[2];
  if (parts != 1 && parts != 2) return node_error(node, "last dim of signal must be 1 or 2, given " + tensor_desc(x));
  const int64_t frame_length = window ? window->size() : flen->get_as_int64(0);
  const int64_t step = inputs[1]->get_as_int64(0);
  const int64_t frames = y.shape()[1], bins = y.shape()[2];
  std::vector<double> re(frame_length), im(frame_length), ore(bins), oim(bins);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t n = 0; n < frame_length; ++n) {
        const int64_t t = f * step + n;
        const double w = window ? window->get_as_double(n) : 1.0;
        const int64_t at = (b * length + t) * parts;
        re[n] = t < length ? x.get_as_double(at) * w : 0.0;
        im[n] = t < length && parts == 2 ? x.get_as_double(at + 1) * w : 0.0;
      }
      dft_1d(re.data(), im.data(), frame_length, frame_length, bins, false, ore.data(), oim.data());
      for (int64_t k = 0; k < bins; ++k) {
        const int64_t at = ((b * frames + f) * bins + k) * 2;
        y.set_from_double(at, ore[k]);
        y.set_from_double(at + 1, oim[k]);
      }
    }
  }
  round_to_dtype(y);
  return Status::Ok();
}

// MelWeightMatrix inputs: num_mel_bins, dft_length, sample_rate,
// lower_edge_hertz, upper_edge_hertz. Output [dft_length / 2 + 1, num_mel_bins].
Status infer_mel_weight_matrix(const ir::Node& node, const std::vector<const ir::ValueInfo*>& inputs,
                               const std::vector<const Tensor*>& constants,
                               std::vector<ir::ValueInfo>& outputs) {
  GLINT_RETURN_IF_ERROR(check_infer_inputs(node, inputs, 5));
  outputs[0].dtype = static_cast<DataType>(node.attr_int("output_datatype", 1));
  outputs[0].has_shape = true;
  outputs[0].dims = {ir::Dim{}, ir::Dim{}};
  if (constants.size() > 1 && constants[1]) {
    const int64_t n = constants[1]->get_as_int64(0);
    if (n <= 0) return node_error(node, "dft_length must be positive, given " + std::to_string(n));
    outputs[0].dims[0] = dim_of(n / 2 + 1);
  }
  if (constants.size() > 0 && constants[0]) {
    const int64_t m = constants[0]->get_as_int64(0);
    if (m <= 0) return node_error(node, "num_mel_bins must be positive, given " + std::to_string(m));
    outputs[0].dims[1] = dim_of(m);
  }
  return Status::Ok();
}

Status mel_weight_matrix(const ir::Node& node, const std::vector<const Tensor*>& inputs,
                         std::vector<Tensor>& outputs) {
  GLINT_RETURN_IF_ERROR(check_inputs(node, inputs, 5));
  GLINT_RETURN_IF_ERROR(alloc_outputs(infer_mel_weight_matrix, node, inputs, outputs));
  Tensor& y = outputs[0];
  const int64_t mel_bins = inputs[0]->get_as_int64(0), dft_length = inputs[1]->get_as_int64(0);
  const double rate = inputs[2]->get_as_double(0);
  const double lower = inputs[3]->get_as_double(0), upper = inputs[4]->get_as_double(0);
  if (rate <= 0) return node_error(node, "sample_rate must be positive, given " + std::to_string(rate));
  const int64_t spec_bins = dft_length / 2 + 1;
  auto to_mel = [](double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); };
  // Band edges as in the ONNX reference: num_mel_bins + 2 points evenly spaced
  // in mel, mapped back to hertz and then to (floored) spectrogram bins.
  const double low_mel = to_mel(lower), high_mel = to_mel(upper);
  const double step = (high_mel - low_mel) / static_cast<double>(mel_bins + 2);
  std::vector<int64_t> edge(mel_bins + 2);
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = 700.0 * (std::pow(10.0, (i * step + low_mel) / 2595.0) - 1.0);
    edge[i] = static_cast<int64_t>(std::floor((dft_length + 1) * hz / rate));
  }
  auto put = [&](int64_t j, int64_t i, double v) {
    if (j >= 0 && j < spec_bins) y.set_from_double(j * mel_bins + i, v);
  };
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t lo = edge[i], mid = edge[i + 1], hi = edge[i + 2];
    if (mid == lo) put(mid, i, 1.0);
    else
      for (int64_t j = lo; j <= mid; ++j) put(j, i, static_cast<double>(j - lo) / (mid - lo));
    for (int64_t j = mid; j < hi; ++j) put(j, i, static_cast<double>(hi - j) / (hi - mid));
  }
  round_to_dtype(y);
  return Status::Ok();
}

}  // namespace glint::cpu
