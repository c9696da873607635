// Image decoding (PNG, JPEG, … through stb_image) and the preprocessing that
// turns a photo into a model's input tensor, as models/models.json describes.
//
// Pipeline: decode to 8-bit RGB → colour order (RGB, BGR or one gray channel)
// → resize → centre crop → optional invert → (v - mean[c]) * scale[c] →
// float32 NCHW [1, C, H, W]. Resizing is bilinear on pixel centres; when it
// shrinks an axis it first low-pass filters that axis with a Gaussian of
// sigma = (factor - 1) / 2, as scikit-image's resize(..., anti_aliasing=True)
// does, so a photo scores as it does under that reference.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"

namespace glint::native {

// Interleaved (HWC) pixels as float, values nominally 0..255.
struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 or 3
  std::vector<float> pixels;  // size width * height * channels

  float& at(int x, int y, int c) { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
  float at(int x, int y, int c) const { return pixels[(static_cast<size_t>(y) * width + x) * channels + c]; }
};

enum class ColorOrder { kRGB, kBGR, kGray };
enum class ResizeMode {
  kShortSide,  // shorter side becomes resize_size (aspect kept), then centre crop
  kExact,      // straight to crop_width x crop_height (aspect not kept)
};

struct Preprocess {
  ResizeMode resize = ResizeMode::kShortSide;
  int resize_size = 0;    // kShortSide: target of the shorter side; 0 = the larger crop side
  int crop_width = 0;     // output width
  int crop_height = 0;    // output height
  bool antialias = true;  // low-pass before shrinking
  ColorOrder color = ColorOrder::kRGB;
  bool invert = false;                  // v = 255 - v before mean/scale
  std::array<float, 3> mean{0, 0, 0};   // per output channel, in output channel order
  std::array<float, 3> scale{1, 1, 1};  // per output channel, applied after the mean

  int channels() const { return color == ColorOrder::kGray ? 1 : 3; }
};

// Decodes a PNG/JPEG/BMP/GIF/TGA/PSD/PNM file into 3-channel RGB 0..255
// (gray images are replicated, alpha is dropped). kIoError when the file
// cannot be read, kInvalidArgument when it is not a decodable image.
Result<Image> decode_image(const std::string& path);
// The same from bytes in memory (`what` names the source in errors).
Result<Image> decode_image_memory(const unsigned char* data, size_t size,
                                  const std::string& what = "image");

// RGB → BGR / gray (BT.601 luma: 0.299 R + 0.587 G + 0.114 B); kRGB is a copy.
Image convert_color(const Image& rgb, ColorOrder order);

// Bilinear resize on pixel centres (source x = (x' + 0.5) * in/out - 0.5,
// mirrored at the borders). With `antialias`, each axis that shrinks is first
// blurred with a Gaussian of sigma = (in/out - 1) / 2 (truncated at 4 sigma).
Image resize_bilinear(const Image& in, int out_width, int out_height, bool antialias);

// The size the shorter side becomes `short_side` at, aspect kept (rounded).
void short_side_size(int width, int height, int short_side, int* out_width, int* out_height);

// The centred out_width x out_height window (offsets rounded down). Requires
// out_width <= in.width and out_height <= in.height.
Image center_crop(const Image& in, int out_width, int out_height);

// Invert, mean, scale and transpose to float32 NCHW [1, C, H, W].
Tensor to_nchw(const Image& img, const Preprocess& p);

// The whole pipeline on a decoded RGB image. kInvalidArgument for a
// Preprocess that makes no sense (no output size, crop larger than resize).
Result<Tensor> preprocess_image(const Image& rgb, const Preprocess& p);
// decode_image + preprocess_image.
Result<Tensor> load_and_preprocess(const std::string& path, const Preprocess& p);

}  // namespace glint::native
