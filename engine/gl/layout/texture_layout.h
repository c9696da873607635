// How a tensor's elements sit in a texture. A layout is chosen per tensor
// (choose_layout); everything that knows how a flat element index maps to a
// texel lives here and in the sampler generator (engine/gl/codegen), never
// in kernels. GL-free: the executor maps TextureFormat to GL enums.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/ops/program.h"

namespace glint::gl {

enum class LayoutKind {
  // One float per texel in an R32F texture; flat (row-major) element index i
  // is texel (i % width, i / width). Texels past `elements` are padding.
  kUnpackedR32F,
  // Channel-packed RGBA32F for a rank-4 [N, C, H, W] float tensor: one texel
  // holds channels 4*c4 .. 4*c4+3 of one (n, h, w); channels past C are zero.
  // A conv, pool or elementwise fragment then reads four channels with one
  // fetch and writes four outputs (what TFLite's GPU delegate calls PHWC4).
  // Texel (w, (n*C4 + c4)*H + h): activations (N small, H*W large).
  kChannelsRGBA,
  // Texel ((c4*H + h)*W + w, n): weights (N = output channels large, H and W
  // the kernel window), when the first arrangement is too tall.
  kChannelsRowsRGBA,
  // Channel-packed as kChannelsRGBA, over kPlanes = 8 layers of a 2-D array
  // texture: a texel position holds two channel blocks x four pixels of a
  // row, channel block c4 of pixel w in layer (c4 % 2) * 4 + w % 4. A shader
  // writes all eight layers at once (one render target per layer), so one
  // fragment computes 4 pixels x 8 channels: a 1x1 conv fetches each input
  // texel once for eight output channels and each weight texel once for
  // four pixels (128 multiply-adds per 12 fetches, against 16 per 5 with one
  // texel per fragment), which is what decides speed on a software
  // rasterizer, where a 2-D array fetch also costs about two 2-D fetches.
  // Reading stays one fetch (the layer is a coordinate).
  // Texel (w / 4, (n*C8 + c4/2)*H + h, (c4 % 2) * 4 + w % 4), C8 = ceil(C4/2).
  kChannelsPlanes,
  // A rank-4 constant whose values are exact float16 values (TensorDesc::
  // half_exact): channels 8*c8 .. 8*c8+7 of one (n, h, w) as four half
  // pairs in the bits of an RGBA32F texel at ((c8*H + h)*W + w, n). Conv
  // weights then cost half the fetches, bit-exactly. Why RGBA32F bits and
  // not RGBA32UI: SwiftShader fetches an integer texel at about twice the
  // cost of a float one, which ate the whole gain. Each half is stored with
  // bit 14 flipped so that no pair forms a denormal, infinite or NaN float
  // (a zero weight would otherwise make one, and a GPU may flush or
  // canonicalise those); values_half_exact() refuses the few halves
  // ([1.875, 2.25) in magnitude) that still would.
  kChannelsHalf8,
};

// The GL storage of a layout's texels. The *32UI formats hold the same
// float32 values as their bit patterns (TextureLayout::bits).
enum class TextureFormat { kR32F, kRGBA32F, kR32UI, kRGBA32UI };

// A kChannelsPlanes texel position: kPlaneBlocks channel blocks x
// kPlanePixels pixels, one layer (and render target) each.
constexpr int kPlanePixels = 4;
constexpr int kPlaneBlocks = 2;
constexpr int kPlanes = kPlanePixels * kPlaneBlocks;

// What choose_layout may use: the GL context's limits and the layout
// optimizations switched on (engine/core/tuning.h), both given by the caller,
// so that a layout is a pure function of (desc, policy).
struct LayoutPolicy {
  int max_texture_size = 0;
  int max_draw_buffers = 0;  // kChannelsPlanes needs kPlanes
  bool packed = true;        // channel-packed RGBA for rank-4 floats
  bool planes = true;        // kChannelsPlanes where it fits
  bool half_weights = false; // kChannelsHalf8 for exact-half constants
  // The device cannot render to float32 textures (no EXT_color_buffer_float,
  // or float_render=0 imposed): every layout holds its float32 values as
  // their bit patterns in R32UI / RGBA32UI textures (TextureLayout::bits).
  bool float_bits = false;
};

struct TextureLayout {
  LayoutKind kind = LayoutKind::kUnpackedR32F;
  int width = 1;
  int height = 1;
  int64_t elements = 0;  // tensor elements held (<= texels * channels)
  int layers = 1;        // > 1: a 2-D array texture (kChannelsPlanes)
  // For the channel-packed kinds: N, C, H, W of the tensor (else zeros).
  int64_t dims[4] = {0, 0, 0, 0};
  // The texels are 32-bit unsigned integers holding the float32 values'
  // bits (floatBitsToUint when a shader stores, uintBitsToFloat when it
  // reads), for devices without float32 render targets. Why not half-float
  // or RGBA8 targets, as TF.js and ONNX.js do there: R32UI and RGBA32UI are
  // color-renderable and fetchable on every GLES 3.0 / WebGL2 device, so
  // every value (int64 indices, large sums, NaN payloads) stays exactly what
  // float32 storage gives, with the same texel count, and no kernel changes:
  // the accessors and the output store are the only code that sees it.
  bool bits = false;

  // Four float channels per RGBA32F texel (the two kChannels*RGBA kinds).
  bool channel_packed() const {
    return kind == LayoutKind::kChannelsRGBA || kind == LayoutKind::kChannelsRowsRGBA ||
           kind == LayoutKind::kChannelsPlanes;
  }
  bool planar() const { return kind == LayoutKind::kChannelsPlanes; }
  bool half_packed() const { return kind == LayoutKind::kChannelsHalf8; }
  int64_t channel_blocks() const { return (dims[1] + 3) / 4; }  // C4
  int64_t plane_rows() const { return (channel_blocks() + kPlaneBlocks - 1) / kPlaneBlocks; }  // C8
  int64_t half_blocks() const { return (dims[1] + 7) / 8; }     // C8
  TextureFormat format() const {
    const bool four = channel_packed() || half_packed();
    if (bits) return four ? TextureFormat::kRGBA32UI : TextureFormat::kR32UI;
    return four ? TextureFormat::kRGBA32F : TextureFormat::kR32F;
  }
  int channels() const { return kind == LayoutKind::kUnpackedR32F ? 1 : 4; }
  int64_t texels() const { return static_cast<int64_t>(width) * height * layers; }
  int64_t byte_size() const { return texels() * channels() * 4; }
  bool operator==(const TextureLayout& o) const {
    return kind == o.kind && bits == o.bits && width == o.width && height == o.height && layers == o.layers && elements == o.elements &&
           dims[0] == o.dims[0] && dims[1] == o.dims[1] && dims[2] == o.dims[2] && dims[3] == o.dims[3];
  }
  bool operator!=(const TextureLayout& o) const { return !(*this == o); }
};

const char* layout_kind_name(LayoutKind k);
std::string layout_str(const TextureLayout& l);  // "unpacked_r32f 1733x1732 (3000000 elements)"

// The unpacked R32F layout for `elements` floats: a squarish texture within
// `max_texture_size` (an empty tensor still gets one 1x1 texel). Fails as
// unsupported when the tensor does not fit one texture.
Result<TextureLayout> unpacked_r32f_layout(int64_t elements, int max_texture_size);

// How the R32F texels hold each dtype (the encoding lives only here, in the
// composer's output store and in the executor's upload/download):
//  - float32, float16, bfloat16: the float itself (16-bit floats widened).
//  - bool, int8/uint8, int16/uint16, int32/uint32, int64/uint64: the integer
//    as an exact float32, so |v| <= 2^24 (kGpuExactIntLimit); bool is 0 or 1.
// Why R32F rather than R32I/R32UI textures with isampler2D: every accessor
// and every kernel body stays `float`, one program can mix float data with
// integer indices or masks (Gather, Where, NLL loss) without per-dtype
// sampler/output variants, float and integer tensors share one texture pool
// and one readback path, and WebGL2 has no filtering or blending we would
// gain from integer formats. Shape subgraphs, indices, labels and masks are
// far below 2^24; uploads of values beyond it fail as kUnsupported (naming
// the dtype, the value and the limit) so the node can run on the CPU, and
// downloads check the range again before converting back to the exact dtype.
constexpr int64_t kGpuExactIntLimit = int64_t{1} << 24;

// True for the dtypes the GPU holds (the list above).
bool gpu_holds_dtype(DataType t);

// The channel-packed layout of a rank-4 [N, C, H, W] tensor, or nullopt when
// no arrangement fits `limits`.
std::optional<TextureLayout> channels_rgba_layout(const Shape& shape, const LayoutPolicy& limits);

// The layout the executor gives a tensor of `desc`: channel-packed RGBA for
// rank-4 float tensors that fit (the NCHW activations and conv weights of
// vision models, which conv, pool and elementwise kernels read four channels
// at a time), unpacked R32F for every other dtype gpu_holds_dtype() accepts;
// other dtypes are unsupported (named in the message). This must stay a pure
// function of (desc, limits) while Executor::prepare only receives descs.
Result<TextureLayout> choose_layout(const TensorDesc& desc, const LayoutPolicy& limits);

// The layout a pass's output is drawn in: choose_layout under `limits`,
// except that a pass with a scalar body never gets planes. Planes pay off
// only for bodies that share fetches across a texel's outputs (process4,
// processTile); a scalar body would be called once per output, 32 times per
// planes texel, and a driver's compiler, which inlines every call, then
// takes minutes over a MatMul body. The executor and the GPU-plan fuzzer
// lay out pass outputs by this one rule.
Result<TextureLayout> pass_output_layout(const ProgramInfo& pass, LayoutPolicy limits);

// Where the texels of `src` lie in `dst` when src's channels are dst's
// channels [channel_offset, channel_offset + C): both kChannelsPlanes of one
// batch, height and width, float storage, and channel_offset a whole plane
// row (a multiple of 4 * kPlaneBlocks channels), so that src's plane rows are
// a run of dst's rows in every layer alike. One rectangle of whole texture
// rows per image; nullopt when the layouts do not line up so. A channel
// concat is then texel copies instead of a draw (GlExecutor::copy_rows).
// src's padding (channels past C in its last plane row, pixels past W) lands
// on dst's rows of the same channels and pixels: a later part's rows, which
// its own copy writes after, or dst's padding.
struct RowCopy {
  int src_row = 0;
  int dst_row = 0;
  int rows = 0;
};
std::optional<std::vector<RowCopy>> plane_rows_in(const TextureLayout& src, const TextureLayout& dst,
                                                  int64_t channel_offset);

// Host-side conversion between a tensor's row-major floats and the texels of
// a channel-packed layout (texels() * 4 floats; padding channels are zero).
void pack_channels(const TextureLayout& l, const float* src, float* texels);
void unpack_channels(const TextureLayout& l, const float* texels, float* dst);
// The same for kChannelsHalf8 (texels() * 4 uint32 bit patterns, uploaded as
// floats; padding channels are zero). kHalf8Flip is the bit flip.
constexpr uint32_t kHalf8Flip = 0x40004000u;
void pack_half8(const TextureLayout& l, const float* src, uint32_t* texels);
void unpack_half8(const TextureLayout& l, const uint32_t* texels, float* dst);
// True when every value is finite, exactly a float16 value, and packs into
// kChannelsHalf8 texels without forming a denormal, infinite or NaN float.
bool values_half_exact(const float* data, int64_t n);
// True for a constant a session holds as kChannelsHalf8: rank-4 float
// weights whose values are all exact halves, when the policy has
// half_weights (engine/core/tuning.h; off by default: slower on software
// rasterizers).
bool held_as_half_weights(const Tensor& t, const LayoutPolicy& policy);

}  // namespace glint::gl
