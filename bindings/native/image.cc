#include "bindings/native/image.h"

#include <stb_image.h>  // Debian's libstb ships the implementation in libstb.

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace glint::native {
namespace {

// Index j reflected into [0, n) about the edge samples (d c b | a b c d | c b a),
// which is scipy.ndimage's "mirror" mode, what scikit-image's resize uses.
int mirror_index(int j, int n) {
  if (n == 1) return 0;
  const int period = 2 * (n - 1);
  j = std::abs(j) % period;
  return j < n ? j : period - j;
}

// One output sample as a weighted sum of input samples along an axis.
struct Taps {
  std::vector<int> offsets;    // begin of each output's taps in index/weight
  std::vector<int> index;
  std::vector<float> weight;
};

// Taps for resampling an axis of n_in samples to n_out: a Gaussian prefilter
// (when shrinking with antialias) followed by linear interpolation, folded
// into one filter per output sample. Computed in double, stored as float.
Taps axis_taps(int n_in, int n_out, bool antialias) {
  const double factor = static_cast<double>(n_in) / n_out;
  std::vector<double> gauss{1.0};
  int radius = 0;
  if (antialias && factor > 1.0) {
    const double sigma = (factor - 1.0) / 2.0;
    radius = static_cast<int>(4.0 * sigma + 0.5);  // scipy's truncate = 4.0
    gauss.assign(2 * radius + 1, 0.0);
    double sum = 0;
    for (int t = -radius; t <= radius; ++t) {
      gauss[t + radius] = std::exp(-0.5 * t * t / (sigma * sigma));
      sum += gauss[t + radius];
    }
    for (double& g : gauss) g /= sum;
  }
  Taps taps;
  taps.offsets.reserve(n_out + 1);
  std::vector<double> acc(n_in);
  std::vector<int> touched;
  for (int o = 0; o < n_out; ++o) {
    taps.offsets.push_back(static_cast<int>(taps.index.size()));
    const double x = (o + 0.5) * factor - 0.5;
    const int i0 = static_cast<int>(std::floor(x));
    const double f = x - i0;
    touched.clear();
    const double lin[2] = {1.0 - f, f};
    for (int k = 0; k < 2; ++k) {
      if (lin[k] == 0.0) continue;
      const int center = mirror_index(i0 + k, n_in);  // blurred sample B[center]
      for (int t = -radius; t <= radius; ++t) {
        const int src = mirror_index(center + t, n_in);
        if (acc[src] == 0.0) touched.push_back(src);
        acc[src] += lin[k] * gauss[t + radius];
      }
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (int src : touched) {
      if (acc[src] != 0.0) {
        taps.index.push_back(src);
        taps.weight.push_back(static_cast<float>(acc[src]));
      }
      acc[src] = 0.0;
    }
  }
  taps.offsets.push_back(static_cast<int>(taps.index.size()));
  return taps;
}

}  // namespace

Result<Image> decode_image_memory(const unsigned char* data, size_t size, const std::string& what) {
  if (size == 0) return invalid_argument(what + ": empty file, not an image");
  if (size > static_cast<size_t>(INT32_MAX)) return invalid_argument(what + ": too large to decode");
  int w = 0, h = 0, n = 0;
  unsigned char* pixels = stbi_load_from_memory(data, static_cast<int>(size), &w, &h, &n, 3);
  if (pixels == nullptr) {
    const char* reason = stbi_failure_reason();
    return invalid_argument(what + ": cannot decode as an image (" +
                            (reason ? reason : "unknown reason") +
                            "); PNG, JPEG, BMP, GIF, TGA, PSD and PNM are supported");
  }
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels.assign(pixels, pixels + static_cast<size_t>(w) * h * 3);
  stbi_image_free(pixels);
  return img;
}

Result<Image> decode_image(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return io_error("cannot open image '" + path + "': " + std::strerror(errno));
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) return io_error("cannot read image '" + path + "'");
  return decode_image_memory(bytes.data(), bytes.size(), "image '" + path + "'");
}

Image convert_color(const Image& rgb, ColorOrder order) {
  if (order == ColorOrder::kRGB || rgb.channels != 3) return rgb;
  Image out;
  out.width = rgb.width;
  out.height = rgb.height;
  const size_t n = static_cast<size_t>(rgb.width) * rgb.height;
  if (order == ColorOrder::kBGR) {
    out.channels = 3;
    out.pixels.resize(n * 3);
    for (size_t i = 0; i < n; ++i) {
      out.pixels[i * 3 + 0] = rgb.pixels[i * 3 + 2];
      out.pixels[i * 3 + 1] = rgb.pixels[i * 3 + 1];
      out.pixels[i * 3 + 2] = rgb.pixels[i * 3 + 0];
    }
  } else {
    out.channels = 1;
    out.pixels.resize(n);
    for (size_t i = 0; i < n; ++i) {
      out.pixels[i] = 0.299f * rgb.pixels[i * 3 + 0] + 0.587f * rgb.pixels[i * 3 + 1] +
                      0.114f * rgb.pixels[i * 3 + 2];
    }
  }
  return out;
}

Image resize_bilinear(const Image& in, int out_width, int out_height, bool antialias) {
  if (out_width == in.width && out_height == in.height) return in;
  const int C = in.channels;
  const Taps tx = axis_taps(in.width, out_width, antialias);
  const Taps ty = axis_taps(in.height, out_height, antialias);
  // Horizontal pass: in.height x out_width.
  std::vector<float> mid(static_cast<size_t>(in.height) * out_width * C, 0.0f);
  for (int y = 0; y < in.height; ++y) {
    const float* row = &in.pixels[static_cast<size_t>(y) * in.width * C];
    float* dst = &mid[static_cast<size_t>(y) * out_width * C];
    for (int x = 0; x < out_width; ++x) {
      for (int t = tx.offsets[x]; t < tx.offsets[x + 1]; ++t) {
        const float w = tx.weight[t];
        const float* src = row + static_cast<size_t>(tx.index[t]) * C;
        for (int c = 0; c < C; ++c) dst[x * C + c] += w * src[c];
      }
    }
  }
  // Vertical pass: out_height x out_width.
  Image out;
  out.width = out_width;
  out.height = out_height;
  out.channels = C;
  out.pixels.assign(static_cast<size_t>(out_height) * out_width * C, 0.0f);
  const size_t row_len = static_cast<size_t>(out_width) * C;
  for (int y = 0; y < out_height; ++y) {
    float* dst = &out.pixels[y * row_len];
    for (int t = ty.offsets[y]; t < ty.offsets[y + 1]; ++t) {
      const float w = ty.weight[t];
      const float* src = &mid[static_cast<size_t>(ty.index[t]) * row_len];
      for (size_t i = 0; i < row_len; ++i) dst[i] += w * src[i];
    }
  }
  return out;
}

void short_side_size(int width, int height, int short_side, int* out_width, int* out_height) {
  if (width <= height) {
    *out_width = short_side;
    *out_height = std::max(1, static_cast<int>(std::lround(static_cast<double>(height) * short_side / width)));
  } else {
    *out_height = short_side;
    *out_width = std::max(1, static_cast<int>(std::lround(static_cast<double>(width) * short_side / height)));
  }
}

Image center_crop(const Image& in, int out_width, int out_height) {
  const int x0 = (in.width - out_width) / 2;
  const int y0 = (in.height - out_height) / 2;
  Image out;
  out.width = out_width;
  out.height = out_height;
  out.channels = in.channels;
  out.pixels.resize(static_cast<size_t>(out_width) * out_height * in.channels);
  const size_t row_len = static_cast<size_t>(out_width) * in.channels;
  for (int y = 0; y < out_height; ++y) {
    const float* src = &in.pixels[(static_cast<size_t>(y + y0) * in.width + x0) * in.channels];
    std::copy(src, src + row_len, &out.pixels[y * row_len]);
  }
  return out;
}

Tensor to_nchw(const Image& img, const Preprocess& p) {
  const int C = img.channels, H = img.height, W = img.width;
  Tensor t(DataType::kFloat32, Shape{1, C, H, W});
  float* out = t.data<float>();
  for (int c = 0; c < C; ++c) {
    const float mean = p.mean[c], scale = p.scale[c];
    float* plane = out + static_cast<size_t>(c) * H * W;
    for (int y = 0; y < H; ++y) {
      for (int x = 0; x < W; ++x) {
        float v = img.at(x, y, c);
        if (p.invert) v = 255.0f - v;
        plane[static_cast<size_t>(y) * W + x] = (v - mean) * scale;
      }
    }
  }
  return t;
}

Result<Tensor> preprocess_image(const Image& rgb, const Preprocess& p) {
  if (rgb.channels != 3 || rgb.width <= 0 || rgb.height <= 0 ||
      rgb.pixels.size() != static_cast<size_t>(rgb.width) * rgb.height * 3) {
    return invalid_argument("preprocess: expected a decoded RGB image, got " + std::to_string(rgb.width) + "x" +
                            std::to_string(rgb.height) + "x" + std::to_string(rgb.channels));
  }
  if (p.crop_width <= 0 || p.crop_height <= 0) {
    return invalid_argument("preprocess: output size " + std::to_string(p.crop_width) + "x" +
                            std::to_string(p.crop_height) + " is not positive");
  }
  const Image colored = convert_color(rgb, p.color);
  Image sized;
  if (p.resize == ResizeMode::kExact) {
    sized = resize_bilinear(colored, p.crop_width, p.crop_height, p.antialias);
  } else {
    const int short_side = p.resize_size > 0 ? p.resize_size : std::max(p.crop_width, p.crop_height);
    int w = 0, h = 0;
    short_side_size(colored.width, colored.height, short_side, &w, &h);
    if (p.crop_width > w || p.crop_height > h) {
      return invalid_argument("preprocess: crop " + std::to_string(p.crop_width) + "x" +
                              std::to_string(p.crop_height) + " is larger than the resized image " +
                              std::to_string(w) + "x" + std::to_string(h) + " (short side " +
                              std::to_string(short_side) + ")");
    }
    sized = center_crop(resize_bilinear(colored, w, h, p.antialias), p.crop_width, p.crop_height);
  }
  return to_nchw(sized, p);
}

Result<Tensor> load_and_preprocess(const std::string& path, const Preprocess& p) {
  GLINT_ASSIGN_OR_RETURN(Image img, decode_image(path));
  return preprocess_image(img, p);
}

}  // namespace glint::native
