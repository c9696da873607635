#include "engine/gl/texture_pool.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "engine/core/tuning.h"

namespace glint::gl {

namespace {
// Idle textures are kept for reuse — at their size, or a larger one that
// wastes at most 2x (best fit) — so that later runs allocate nothing: a new
// WebGL texture costs an allocation, a clear and two synchronous glGetError
// calls. Only when a new texture would take the total past the budget (set
// by the session from its graph: Session::memory_budget) is it avoided or
// made room for:
//  - first, the smallest idle texture that holds the layout is taken
//    whatever it wastes: it adds no bytes, where a new one would;
//  - else idle textures go, the most recently released first. Every run
//    asks for the same textures in the same order, so a pool a little
//    smaller than a run's working set evicting the least recently released
//    (what it did before) threw out just the texture the next run wanted
//    first, and again for each after it: SqueezeNet re-created 19 textures a
//    run, MobileNetV2 28. With both rules: 0 and 6.

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
  int64_t created = 0;     // textures made (not taken from the idle ones)
  int64_t budget = std::numeric_limits<int64_t>::max();
};

void TexturePool::set_budget(int64_t bytes) { state_->budget = bytes; }
int64_t TexturePool::budget() const { return state_->budget; }

int64_t TextureKey::byte_size() const {
  switch (format) {
    case TextureFormat::kR32F:
    case TextureFormat::kR32UI: return static_cast<int64_t>(width) * height * layers * 4;
    case TextureFormat::kRGBA32F:
    case TextureFormat::kRGBA32UI: return static_cast<int64_t>(width) * height * layers * 16;
  }
  return 0;
}

GLenum gl_internal_format(TextureFormat f) {
  switch (f) {
    case TextureFormat::kR32F: return GL_R32F;
    case TextureFormat::kRGBA32F: return GL_RGBA32F;
    case TextureFormat::kR32UI: return GL_R32UI;
    case TextureFormat::kRGBA32UI: return GL_RGBA32UI;
  }
  return GL_R32F;
}

TexturePool::TexturePool() : state_(std::make_shared<State>()) {}

TexturePool::~TexturePool() { trim(); }

Result<std::shared_ptr<PooledTexture>> TexturePool::acquire(const TextureKey& key) {
  State& s = *state_;
  auto it = s.idle.find(key);
  static const bool fit = optimization_flags().pool_fit;
  if (it == s.idle.end() && fit) {
    // Best fit: the smallest idle texture of the same format and layers that
    // holds the layout (layouts address texels by their own dims, so a larger
    // texture serves), unless it would waste more than it holds.
    for (auto i = s.idle.begin(); i != s.idle.end(); ++i) {
      const TextureKey& k = i->first;
      if (k.format != key.format || k.layers != key.layers || k.width < key.width || k.height < key.height) continue;
      if (k.byte_size() > 2 * key.byte_size()) continue;
      if (it == s.idle.end() || k.byte_size() < it->first.byte_size()) it = i;
    }
  }
  if (it == s.idle.end() && fit && s.live_bytes + s.idle_bytes + key.byte_size() > s.budget) {
    for (auto i = s.idle.begin(); i != s.idle.end(); ++i) {
      const TextureKey& k = i->first;
      if (k.format != key.format || k.layers != key.layers || k.width < key.width || k.height < key.height) continue;
      if (it == s.idle.end() || k.byte_size() < it->first.byte_size()) it = i;
    }
  }
  Texture tex;
  TextureKey got = key;
  if (it != s.idle.end()) {
    got = it->first;
    tex = std::move(it->second.texture);
    s.idle.erase(it);
    s.idle_bytes -= got.byte_size();
  } else {
    // Over the budget, idle textures go, the most recently released first.
    // (pool-fit off: the earlier policy, idle bytes at most a quarter of
    // those in use, least recently released first.)
    while (!s.idle.empty() && (fit ? s.live_bytes + s.idle_bytes + got.byte_size() > s.budget
                                   : s.idle_bytes * 4 > s.live_bytes + got.byte_size())) {
      auto victim = s.idle.begin();
      for (auto i = s.idle.begin(); i != s.idle.end(); ++i)
        if (fit ? i->second.released > victim->second.released : i->second.released < victim->second.released)
          victim = i;
      s.idle_bytes -= victim->first.byte_size();
      s.idle.erase(victim);  // deletes the GL texture (the context is current here)
    }
    // Clear stale errors (bounded: a lost context may keep reporting).
    for (int i = 0; i < 8 && glGetError() != GL_NO_ERROR; ++i) {
    }
    // New textures get their height rounded up to one of four classes per
    // octave (at most a quarter wasted), so that tensors of nearby sizes can
    // later share them (best fit above).
    if (got.height > 8) {
      int step = 1;
      while (step * 8 <= got.height) step *= 2;
      got.height = (got.height + step - 1) / step * step;
    }
    tex = Texture::create();
    s.created += 1;
    const GLenum target = key.target();
    glBindTexture(target, tex.id());
    glTexParameteri(target, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(target, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glTexParameteri(target, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(target, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    if (key.layers > 1) {
      glTexStorage3D(target, 1, gl_internal_format(got.format), got.width, got.height, got.layers);
    } else {
      glTexStorage2D(target, 1, gl_internal_format(got.format), got.width, got.height);
    }
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
  s.live_bytes += got.byte_size();
  // Only a new texture raises the total, but checking here covers both paths.
  s.peak_bytes = std::max(s.peak_bytes, s.live_bytes + s.idle_bytes);
  return std::shared_ptr<PooledTexture>(new PooledTexture(std::move(tex), got, state_));
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
int64_t TexturePool::created_textures() const { return state_->created; }
void TexturePool::reset_peak() { state_->peak_bytes = state_->live_bytes + state_->idle_bytes; }

PooledTexture::~PooledTexture() {
  if (auto pool = pool_.lock()) {
    pool->live -= 1;
    pool->live_bytes -= key_.byte_size();
    if (discard_) return;  // texture_ deletes the GL texture
    pool->idle_bytes += key_.byte_size();
    pool->idle.emplace(key_, IdleTexture{std::move(texture_), ++pool->clock});
  } else {
    // The pool (and its context) is gone; destroying the context freed the
    // texture, and its name may now mean something in another context.
    texture_.abandon();
  }
}

}  // namespace glint::gl
