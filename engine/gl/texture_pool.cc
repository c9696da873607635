#include "engine/gl/texture_pool.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace glint::gl {

namespace {
// Idle textures are kept while their bytes are at most this fraction of the
// bytes in use (counting the texture being allocated); beyond it the least
// recently released go first. A texture is only reused at its exact size, so
// without a limit a model whose activations come in many sizes keeps one idle
// texture of every size it ever used (SqueezeNet: 3x the bytes in use). The
// cost is re-creating some textures on each run. Measured on SqueezeNet
// (test_gpu_memory.cc): 0.25 keeps the state after every run equal to the
// state after the first, and the peak within its bound; 0.5 did not settle
// until the second run. A static per-session texture plan would remove both
// the churn and the limit.
constexpr double kMaxIdleFraction = 0.25;

struct IdleTexture {
  Texture texture;
  uint64_t released = 0;  // State::clock when it went idle
};
}  // namespace

struct TexturePool::State {
  std::multimap<TextureKey, IdleTexture> idle;
  uint64_t clock = 0;
  int64_t live = 0;
  int64_t live_bytes = 0;
  int64_t idle_bytes = 0;
  int64_t peak_bytes = 0;  // of live_bytes + idle_bytes
};

int64_t TextureKey::byte_size() const {
  switch (format) {
    case TextureFormat::kR32F: return static_cast<int64_t>(width) * height * 4;
    case TextureFormat::kRGBA32F: return static_cast<int64_t>(width) * height * 16;
  }
  return 0;
}

GLenum gl_internal_format(TextureFormat f) {
  switch (f) {
    case TextureFormat::kR32F: return GL_R32F;
    case TextureFormat::kRGBA32F: return GL_RGBA32F;
  }
  return GL_R32F;
}

TexturePool::TexturePool() : state_(std::make_shared<State>()) {}

TexturePool::~TexturePool() { trim(); }

Result<std::shared_ptr<PooledTexture>> TexturePool::acquire(const TextureKey& key) {
  State& s = *state_;
  auto it = s.idle.find(key);
  Texture tex;
  if (it != s.idle.end()) {
    tex = std::move(it->second.texture);
    s.idle.erase(it);
    s.idle_bytes -= key.byte_size();
  } else {
    const int64_t in_use = s.live_bytes + key.byte_size();
    while (!s.idle.empty() && static_cast<double>(s.idle_bytes) > kMaxIdleFraction * static_cast<double>(in_use)) {
      auto oldest = s.idle.begin();
      for (auto i = s.idle.begin(); i != s.idle.end(); ++i)
        if (i->second.released < oldest->second.released) oldest = i;
      s.idle_bytes -= oldest->first.byte_size();
      s.idle.erase(oldest);  // deletes the GL texture (the context is current here)
    }
    // Clear stale errors (bounded: a lost context may keep reporting).
    for (int i = 0; i < 8 && glGetError() != GL_NO_ERROR; ++i) {
    }
    tex = Texture::create();
    glBindTexture(GL_TEXTURE_2D, tex.id());
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glTexStorage2D(GL_TEXTURE_2D, 1, gl_internal_format(key.format), key.width, key.height);
    GLenum err = glGetError();
    if (err != GL_NO_ERROR) {
      return gl_error("texture pool: allocating a " + std::to_string(key.width) + "x" +
                      std::to_string(key.height) + " texture failed (GL error 0x" + [&] {
                        char buf[16];
                        std::snprintf(buf, sizeof buf, "%x", err);
                        return std::string(buf);
                      }() + (err == GL_OUT_OF_MEMORY ? ", out of memory)" : ")"));
    }
  }
  s.live += 1;
  s.live_bytes += key.byte_size();
  // Only a new texture raises the total, but checking here covers both paths.
  s.peak_bytes = std::max(s.peak_bytes, s.live_bytes + s.idle_bytes);
  return std::shared_ptr<PooledTexture>(new PooledTexture(std::move(tex), key, state_));
}

void TexturePool::trim() {
  state_->idle.clear();
  state_->idle_bytes = 0;
}

int64_t TexturePool::live_textures() const { return state_->live; }
int64_t TexturePool::pooled_textures() const { return static_cast<int64_t>(state_->idle.size()); }
int64_t TexturePool::live_bytes() const { return state_->live_bytes; }
int64_t TexturePool::pooled_bytes() const { return state_->idle_bytes; }
int64_t TexturePool::peak_bytes() const { return state_->peak_bytes; }
void TexturePool::reset_peak() { state_->peak_bytes = state_->live_bytes + state_->idle_bytes; }

PooledTexture::~PooledTexture() {
  if (auto pool = pool_.lock()) {
    pool->live -= 1;
    pool->live_bytes -= key_.byte_size();
    pool->idle_bytes += key_.byte_size();
    pool->idle.emplace(key_, IdleTexture{std::move(texture_), ++pool->clock});
  } else {
    // The pool (and its context) is gone; destroying the context freed the
    // texture, and its name may now mean something in another context.
    texture_.abandon();
  }
}

}  // namespace glint::gl
