// Textures recycled by size and format. A tensor holds a lease
// (PooledTexture); dropping the last reference returns the texture to the idle
// list without any GL call, so tensors may be released anywhere, even while
// another context is current. Idle textures are only deleted by the pool
// (trim / destruction, and eviction when acquire() allocates while idle
// textures exceed a quarter of the bytes in use), always with the context current.
#pragma once
#include <cstdint>
#include <map>
#include <memory>

#include "engine/core/status.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/gl/objects.h"

namespace glint::gl {

struct TextureKey {
  int width = 0;
  int height = 0;
  TextureFormat format = TextureFormat::kR32F;
  int layers = 1;  // > 1: a GL_TEXTURE_2D_ARRAY
  bool operator<(const TextureKey& o) const {
    if (width != o.width) return width < o.width;
    if (height != o.height) return height < o.height;
    if (layers != o.layers) return layers < o.layers;
    return static_cast<int>(format) < static_cast<int>(o.format);
  }
  bool operator==(const TextureKey& o) const {
    return width == o.width && height == o.height && layers == o.layers && format == o.format;
  }
  int64_t byte_size() const;
  static TextureKey of(const TextureLayout& l) { return {l.width, l.height, l.format(), l.layers}; }
  GLenum target() const { return layers > 1 ? GL_TEXTURE_2D_ARRAY : GL_TEXTURE_2D; }
};

GLenum gl_internal_format(TextureFormat f);

class PooledTexture;

class TexturePool {
 public:
  TexturePool();
  ~TexturePool();  // deletes idle textures; leases still out forget theirs
  TexturePool(const TexturePool&) = delete;
  TexturePool& operator=(const TexturePool&) = delete;

  // An idle texture of `key`, or a new one (immutable storage, NEAREST,
  // CLAMP_TO_EDGE). Fails on GL_OUT_OF_MEMORY (checked only when allocating).
  Result<std::shared_ptr<PooledTexture>> acquire(const TextureKey& key);
  // Deletes every idle texture.
  void trim();
  // Total texture bytes past which idle textures are deleted before a new
  // one is made (live textures are never touched). Default: no limit.
  void set_budget(int64_t bytes);
  int64_t budget() const;

  int64_t live_textures() const;
  int64_t pooled_textures() const;
  int64_t live_bytes() const;
  int64_t pooled_bytes() const;
  // The most bytes of textures that existed at once (live + pooled) since
  // the pool was made or reset_peak() was called.
  int64_t peak_bytes() const;
  int64_t created_textures() const;  // made since creation (not reused idle ones)
  // Starts a new peak from the bytes that exist now.
  void reset_peak();

  struct State;

 private:
  std::shared_ptr<State> state_;
};

class PooledTexture {
 public:
  ~PooledTexture();
  PooledTexture(const PooledTexture&) = delete;
  PooledTexture& operator=(const PooledTexture&) = delete;
  GLuint id() const { return texture_.id(); }
  const TextureKey& key() const { return key_; }
  // When the last holder lets go, the texture is deleted instead of going
  // idle (a weight no pass will read again: idle it would only take room
  // from textures that get reused).
  void discard_on_release() { discard_ = true; }

 private:
  friend class TexturePool;
  PooledTexture(Texture t, TextureKey k, std::weak_ptr<TexturePool::State> pool)
      : texture_(std::move(t)), key_(k), pool_(std::move(pool)) {}
  Texture texture_;
  TextureKey key_;
  std::weak_ptr<TexturePool::State> pool_;
  bool discard_ = false;
};

}  // namespace glint::gl
