// A tensor in a texture of one GL executor: what the executor sees of it,
// and nothing above engine/gl does.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>

#include "engine/gl/executor.h"
#include "engine/gl/texture_pool.h"

namespace glint::gl {

class GlTensor : public GpuTensor {
 public:
  GlTensor(TensorDesc desc, TextureLayout layout, std::shared_ptr<PooledTexture> texture, uint64_t owner)
      : desc_(std::move(desc)), layout_(layout), texture_(std::move(texture)), owner_(owner) {}
  const TensorDesc& desc() const override { return desc_; }
  const TextureLayout& layout() const { return layout_; }
  GLuint texture() const { return texture_->id(); }
  // The serial of the executor that made it (GlExecutor::serial_).
  uint64_t owner() const { return owner_; }
  const std::shared_ptr<PooledTexture>& lease() const { return texture_; }

 private:
  TensorDesc desc_;
  TextureLayout layout_;
  std::shared_ptr<PooledTexture> texture_;
  uint64_t owner_;
};

// Executors are told apart by a serial, not their address: one made after
// a lost context may sit where the lost one did, and a tensor of the lost
// one (its texture gone with the context) must not pass for its own.
inline uint64_t next_executor_serial() {
  static std::atomic<uint64_t> next{1};
  return next++;
}

}  // namespace glint::gl
