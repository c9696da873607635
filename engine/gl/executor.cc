// The GL executor: context, texture pool, program cache, one framebuffer and
// one full-screen quad; runs ProgramInfo passes by composing, compiling
// (cached) and drawing them.
#include "engine/gl/executor.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/core/half.h"
#include "engine/core/tuning.h"
#include "engine/gl/codegen/shader_composer.h"
#include "engine/gl/context.h"
#include "engine/gl/executor_options.h"
#include "engine/gl/gl_tensor.h"
#include "engine/gl/layout/texel_codec.h"
#include "engine/gl/layout/texture_layout.h"
#include "engine/gl/objects.h"
#include "engine/gl/program_cache.h"
#include "engine/gl/program_uniforms.h"
#include "engine/gl/readback.h"
#include "engine/gl/texel_copies.h"
#include "engine/gl/texel_upload.h"
#include "engine/gl/texture_pool.h"

namespace glint::gl {

namespace {

std::string hex(unsigned v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}

// Debug builds check GL errors after every draw and transfer; release builds
// never call glGetError on the hot path (it can stall the pipeline).
#ifndef NDEBUG
Status debug_check(const char* what) {
  GLenum err = glGetError();
  if (err != GL_NO_ERROR) return gl_error(std::string(what) + ": GL error " + hex(err));
  return Status::Ok();
}
// A pass's check: the pass is named only when the check fails, so that
// release builds build no name per draw.
Status debug_check(const ProgramInfo& pass, size_t k) {
  GLenum err = glGetError();
  if (err != GL_NO_ERROR) return gl_error(pass_where(pass, k) + ": GL error " + hex(err));
  return Status::Ok();
}
#else
inline Status debug_check(const char*) { return Status::Ok(); }
inline Status debug_check(const ProgramInfo&, size_t) { return Status::Ok(); }
#endif



class GlExecutor final : public Executor {
 public:
  GlExecutor(std::unique_ptr<GlContext> ctx, const ExecutorOptions& options)
      : ctx_(std::move(ctx)),
        read_format_(options.force_rgba_readback ? GLenum{GL_RGBA} : ctx_->r32f_read_format()),
        texel_fetch_(ctx_->caps().texel_fetch_reads || !optimization_flags().texture_reads),
        shader_device_{ctx_->caps().division_rounded && optimization_flags().native_division} {
    programs_ = std::make_unique<ProgramCache>(options.idle_programs);  // GL-free until init()
  }

  ~GlExecutor() override {
    // GL objects below are deleted by member destructors; they need our
    // context current. ctx_ is declared first, so it is destroyed last.
    if (ctx_) (void)ctx_->make_current();
  }

  Status init() {
    pool_ = std::make_unique<TexturePool>();
    GLINT_RETURN_IF_ERROR(programs_->init(quad_vertex_shader()));

    static const float kQuad[] = {-1.f, -1.f, 1.f, -1.f, -1.f, 1.f, 1.f, 1.f};
    quad_vao_ = VertexArray::create();
    quad_vbo_ = Buffer::create();
    glBindVertexArray(quad_vao_.id());
    glBindBuffer(GL_ARRAY_BUFFER, quad_vbo_.id());
    glBufferData(GL_ARRAY_BUFFER, sizeof kQuad, kQuad, GL_STATIC_DRAW);
    glEnableVertexAttribArray(0);
    glVertexAttribPointer(0, 2, GL_FLOAT, GL_FALSE, 0, nullptr);
    // The VAO and the framebuffer stay bound for the executor's life: this
    // context draws nothing else.
    fbo_ = Framebuffer::create();
    glBindFramebuffer(GL_FRAMEBUFFER, fbo_.id());
    glDisable(GL_DITHER);
    glDisable(GL_BLEND);
    glDisable(GL_DEPTH_TEST);
    glDisable(GL_SCISSOR_TEST);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
    glPixelStorei(GL_PACK_ALIGNMENT, 4);
    GLenum err = glGetError();
    if (err != GL_NO_ERROR) return gl_error("executor setup: GL error " + hex(err));
    copier_ = std::make_unique<TexelCopier>(caps().float_render, fbo_.id());
    return Status::Ok();
  }

  const Capabilities& caps() const override { return ctx_->caps(); }

  using Executor::upload;
  Result<GpuTensorPtr> upload(const Tensor& t, bool half_exact) override {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    if (!gpu_holds_dtype(t.dtype())) {
      return unsupported("GL upload of " + tensor_desc(t) + ": dtype " + dtype_name(t.dtype()) +
                         " is not supported on the GPU (floats, bool and integers up to 2^24)");
    }
    TensorDesc desc{t.dtype(), t.shape()};
    desc.half_exact = half_exact && is_float_storage(t.dtype()) && values_half_exact(t.data<float>(), t.size());
    GLINT_ASSIGN_OR_RETURN(TextureLayout layout, choose_layout(desc, layout_policy()));
    return upload_in(t, std::move(desc), layout);
  }

  Result<GpuTensorPtr> upload_as_output(const Tensor& t, const ProgramInfo& pass) override {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    if (t.dtype() != pass.output.dtype || t.shape() != pass.output.shape || !gpu_holds_dtype(t.dtype())) {
      return invalid_argument("GL upload of " + tensor_desc(t) + " as the output of program '" + pass.name +
                              "' (" + dtype_name(pass.output.dtype) + shape_str(pass.output.shape) +
                              "): dtype or shape differ");
    }
    GLINT_ASSIGN_OR_RETURN(TextureLayout layout, output_layout(pass, 0));
    return upload_in(t, pass.output, layout);
  }

  // `t` into a new texture of `layout` (chosen for `desc`).
  Result<GpuTensorPtr> upload_in(const Tensor& t, TensorDesc desc, const TextureLayout& layout) {
    if (t.byte_size() != static_cast<size_t>(layout.elements) * storage_size(t.dtype())) {
      return invalid_argument("GL upload of " + tensor_desc(t) + ": storage holds " +
                              std::to_string(t.byte_size()) + " bytes, expected " +
                              std::to_string(layout.elements * storage_size(t.dtype())));
    }
    // Integer and bool tensors are encoded as exact floats (texture_layout.h).
    const float* data = nullptr;
    if (is_float_storage(t.dtype())) {
      data = t.data<float>();
    } else {
      GLINT_RETURN_IF_ERROR(encode_integer_texels(t, &encoded_));
      data = encoded_.data();
    }
    GLINT_ASSIGN_OR_RETURN(auto texture, pool_->acquire(TextureKey::of(layout)));
    auto gt = std::make_shared<GlTensor>(std::move(desc), layout, std::move(texture), serial_);
    write_texels(gt->texture(), layout, data, &staging_);
    GLINT_RETURN_IF_ERROR(debug_check("GL upload"));
    return GpuTensorPtr(gt);
  }

  bool holds(const GpuTensor& t) const override { return own(&t, "").ok(); }

  Result<Tensor> download(const GpuTensor& t) override {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    GLINT_ASSIGN_OR_RETURN(const GlTensor* gt, own(&t, "GL download"));
    ++downloads_;
    const TextureLayout& layout = gt->layout();
    Tensor out(gt->desc().dtype, gt->desc().shape);
    if (layout.elements == 0) return out;
    if (layout.channel_packed()) {  // float storage only (choose_layout)
      // Every layer attached, read one read buffer at a time.
      staging_.resize(static_cast<size_t>(layout.texels() * 4));
      const int64_t layer_floats = static_cast<int64_t>(layout.width) * layout.height * 4;
      attach_output(*gt, layout.layers);
      for (int layer = 0; layer < layout.layers; ++layer) {
        glReadBuffer(GL_COLOR_ATTACHMENT0 + layer);
        glReadPixels(0, 0, layout.width, layout.height, rgba_format(layout), pixel_type(layout),
                     staging_.data() + layer * layer_floats);
      }
      glReadBuffer(GL_COLOR_ATTACHMENT0);
      GLINT_RETURN_IF_ERROR(debug_check("GL download"));
      unpack_channels(layout, staging_.data(), out.data<float>());
      GLINT_RETURN_IF_ERROR(decode_texels(out.data<float>(), layout.elements, &out));
      return out;
    }
    attach_output(*gt, 1);
#ifndef NDEBUG
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
      return gl_error("GL download: framebuffer incomplete for " + layout_str(layout));
    }
#endif
    const bool float_storage = is_float_storage(gt->desc().dtype);
    if (layout.half_packed()) {  // constants only; read back for completeness
      std::vector<uint32_t> texels(static_cast<size_t>(layout.texels() * 4));
      glReadPixels(0, 0, layout.width, layout.height, rgba_format(layout), pixel_type(layout), texels.data());
      GLINT_RETURN_IF_ERROR(debug_check("GL download"));
      unpack_half8(layout, texels.data(), out.data<float>());
      GLINT_RETURN_IF_ERROR(decode_texels(out.data<float>(), layout.elements, &out));
      return out;
    }
    if (!float_storage) encoded_.resize(static_cast<size_t>(layout.elements));
    float* dst = float_storage ? out.data<float>() : encoded_.data();
    const int64_t w = layout.width;
    const int full_rows = static_cast<int>(layout.elements / w);
    const int rest = static_cast<int>(layout.elements % w);
    if (read_components(layout) == 1) {
      if (full_rows > 0) glReadPixels(0, 0, layout.width, full_rows, GL_RED, GL_FLOAT, dst);
      if (rest > 0) glReadPixels(0, full_rows, rest, 1, GL_RED, GL_FLOAT, dst + full_rows * w);
    } else {
      // RGBA/FLOAT is what GLES guarantees for float color buffers (and
      // RGBA_INTEGER/UNSIGNED_INT for the float bits' uint ones); keep .r.
      // Read in bands to bound the staging memory.
      const int64_t band_rows = std::max<int64_t>(1, (int64_t{1} << 20) / w);
      staging_.resize(static_cast<size_t>(std::min<int64_t>(band_rows, std::max(full_rows, 1)) * w * 4));
      for (int64_t y = 0; y < full_rows; y += band_rows) {
        const int rows = static_cast<int>(std::min<int64_t>(band_rows, full_rows - y));
        glReadPixels(0, static_cast<GLint>(y), layout.width, rows, rgba_format(layout), pixel_type(layout),
                     staging_.data());
        float* d = dst + y * w;
        for (int64_t i = 0, n = rows * w; i < n; ++i) d[i] = staging_[i * 4];
      }
      if (rest > 0) {
        glReadPixels(0, full_rows, rest, 1, rgba_format(layout), pixel_type(layout), staging_.data());
        float* d = dst + full_rows * w;
        for (int i = 0; i < rest; ++i) d[i] = staging_[i * 4];
      }
    }
    GLINT_RETURN_IF_ERROR(debug_check("GL download"));
    GLINT_RETURN_IF_ERROR(decode_texels(dst, layout.elements, &out));
    return out;
  }

  Result<std::vector<std::unique_ptr<PendingDownload>>> begin_downloads(const std::vector<const GpuTensor*>& ts) override {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    std::vector<std::unique_ptr<PendingDownload>> out(ts.size());
    std::vector<PackRead> reads;
    std::vector<size_t> read_index;  // out's index of each read
    std::vector<const GlTensor*> read_tensors;
    size_t bytes = 0;
    for (size_t i = 0; i < ts.size(); ++i) {
      GLINT_ASSIGN_OR_RETURN(const GlTensor* gt, own(ts[i], "GL download"));
      const TextureLayout& layout = gt->layout();
      const bool read_now = layout.half_packed() || layout.layers > 1;  // by download(), which counts it
      if (!read_now) ++downloads_;
      if (layout.elements == 0) {
        out[i] = std::make_unique<CompletedDownload>(Tensor(gt->desc().dtype, gt->desc().shape));
      } else if (read_now) {
        out[i] = std::make_unique<CompletedDownload>(download(*ts[i]));
      } else {
        // Same reads as download(), each at its own 16-byte aligned offset.
        reads.push_back({gt->desc(), layout, layout.channel_packed() ? 4 : read_components(layout), bytes});
        bytes += (reads.back().bytes() + 15) / 16 * 16;
        read_index.push_back(i);
        read_tensors.push_back(gt);
      }
    }
    if (reads.empty()) return out;
    Buffer pbo = Buffer::create();
    glBindBuffer(GL_PIXEL_PACK_BUFFER, pbo.id());
    glBufferData(GL_PIXEL_PACK_BUFFER, static_cast<GLsizeiptr>(bytes), nullptr, GL_STREAM_READ);
    for (size_t r = 0; r < reads.size(); ++r) {
      attach_output(*read_tensors[r], 1);
#ifndef NDEBUG
      if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
        glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
        return gl_error("GL download: framebuffer incomplete for " + layout_str(reads[r].layout));
      }
#endif
      read_pixels_into_pack_buffer(reads[r]);
    }
    glBindBuffer(GL_PIXEL_PACK_BUFFER, 0);
    Sync fence = Sync::fence();
    glFlush();  // so that the fence can signal while the caller waits elsewhere
    GLINT_RETURN_IF_ERROR(debug_check("GL begin_downloads"));
    auto pending = make_pending_downloads(ctx_.get(), std::move(reads), std::move(pbo), std::move(fence));
    for (size_t r = 0; r < pending.size(); ++r) out[read_index[r]] = std::move(pending[r]);
    return out;
  }

  Status prepare(const std::vector<ProgramInfo>& passes, const std::vector<std::optional<TensorDesc>>& inputs,
                 const std::vector<bool>& uploaded) override {
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    std::vector<ComposedShader> sources(passes.size());
    std::vector<ProgramRequest> requests;
    requests.reserve(passes.size());
    for (size_t k = 0; k < passes.size(); ++k) {
      const ProgramInfo& pass = passes[k];
      if (k < uploaded.size() && uploaded[k]) continue;
      std::vector<ComposerInput> cin;
      for (const ProgramInput& pi : pass.inputs) {
        GLINT_ASSIGN_OR_RETURN(PassSource src, pass_source(pass, k, pi, inputs.size(),
                                                           [&](size_t i) { return inputs[i].has_value(); }));
        const TensorDesc* d = src.from_node ? &*inputs[src.index] : &passes[src.index].output;
        GLINT_ASSIGN_OR_RETURN(TextureLayout l, choose_layout(*d, layout_policy()));
        cin.push_back({pi.name, *d, l, texel_fetch_});
      }
      GLINT_ASSIGN_OR_RETURN(TextureLayout out_layout, output_layout(pass, k));
      if (is_view(pass, cin, out_layout)) continue;  // nothing to draw
      if (!pass.concat_channel_offsets.empty()) {
        std::vector<const TextureLayout*> in_layouts;
        for (const ComposerInput& c : cin) in_layouts.push_back(&c.layout);
        if (copier_->concat(pass, in_layouts, out_layout)) continue;  // no program to draw it with
      }
      GLINT_RETURN_IF_ERROR(check_units(pass, k));
      GLINT_ASSIGN_OR_RETURN(sources[k], compose_fragment_shader(pass, cin, out_layout, shader_device_));
      // GLINT_DUMP_SHADERS=1: every program's source on stderr (debugging).
      static const bool dump = [] {
        const char* e = std::getenv("GLINT_DUMP_SHADERS");
        return e && *e && *e != '0';
      }();
      if (dump) std::fprintf(stderr, "=== program '%s'\n%s\n", pass.name.c_str(), sources[k].source.c_str());
      requests.push_back({&sources[k].source, pass.name, sampler_names(pass)});
    }
    current_program_ = 0;  // compiling changes the bound program
    Status compiled = programs_->compile_all(requests);
    forget_freed_programs();
    return compiled;
  }

  Result<std::vector<GpuTensorPtr>> run(const std::vector<ProgramInfo>& passes,
                                        const std::vector<GpuTensorPtr>& inputs, size_t node_output_count,
                                        PassCache* cache) override {
    if (cache && (cache->constant.size() != passes.size() || cache->outputs.size() != passes.size() ||
                  cache->programs.size() != passes.size()))
      return internal_error("GL executor: a pass cache for " + std::to_string(cache->constant.size()) +
                            " passes given with " + std::to_string(passes.size()));
    GLINT_RETURN_IF_ERROR(ctx_->make_current());
    std::vector<GpuTensorPtr> outputs(node_output_count);
    // Every pass's output, readable by later passes; temporaries die (go back
    // to the pool) when this vector does.
    std::vector<std::shared_ptr<GlTensor>> pass_out(passes.size());
    std::vector<const GlTensor*> bound;
    std::vector<ComposerInput> cin;
    for (size_t k = 0; k < passes.size(); ++k) {
      const ProgramInfo& pass = passes[k];
      if (cache && cache->outputs[k]) {
        pass_out[k] = std::static_pointer_cast<GlTensor>(cache->outputs[k]);
        continue;
      }
      bound.clear();
      cin.clear();
      for (const ProgramInput& pi : pass.inputs) {
        GLINT_ASSIGN_OR_RETURN(PassSource src, pass_source(pass, k, pi, inputs.size(),
                                                           [&](size_t i) { return inputs[i] != nullptr; }));
        const GlTensor* in = nullptr;
        if (src.from_node) {
          GLINT_ASSIGN_OR_RETURN(in, own(inputs[src.index].get(), pass_where(pass, k)));
        } else {
          in = pass_out[src.index].get();
        }
        bound.push_back(in);
        cin.push_back({pi.name, in->desc(), in->layout(), texel_fetch_});
      }
      if (pass.node_output >= 0 && static_cast<size_t>(pass.node_output) >= node_output_count) {
        return invalid_argument(pass_where(pass, k) + ": writes node output " + std::to_string(pass.node_output) +
                                " but the node has " + std::to_string(node_output_count));
      }
      GLINT_ASSIGN_OR_RETURN(TextureLayout out_layout, output_layout(pass, k));
      if (is_view(pass, cin, out_layout)) {
        // The input's texture under the output's shape: the lease is shared,
        // so the texture goes back to the pool when both are gone.
        auto out = std::make_shared<GlTensor>(pass.output, out_layout, bound[0]->lease(), serial_);
        if (pass.node_output >= 0) outputs[pass.node_output] = out;
        if (cache && cache->constant[k]) cache->outputs[k] = out;
        pass_out[k] = std::move(out);
        continue;
      }
      if (!pass.concat_channel_offsets.empty()) {
        std::vector<const TextureLayout*> in_layouts;
        std::vector<GLuint> in_textures;
        for (const GlTensor* in : bound) {
          in_layouts.push_back(&in->layout());
          in_textures.push_back(in->texture());
        }
        if (auto copies = copier_->concat(pass, in_layouts, out_layout)) {
          GLINT_ASSIGN_OR_RETURN(auto texture, pool_->acquire(TextureKey::of(out_layout)));
          auto out = std::make_shared<GlTensor>(pass.output, out_layout, std::move(texture), serial_);
          copier_->copy(in_textures, *copies, out->texture(), out_layout);
          GLINT_RETURN_IF_ERROR(debug_check(pass, k));
          if (pass.node_output >= 0) outputs[pass.node_output] = out;
          if (cache && cache->constant[k]) cache->outputs[k] = out;
          pass_out[k] = std::move(out);
          continue;
        }
      }
      const CompiledProgram* program = nullptr;
      PassCache::Program* cached = cache ? &cache->programs[k] : nullptr;
      if (cached && cached->program && cached->input_layouts.size() == cin.size()) {
        program = cached->program.get();
        for (size_t i = 0; i < cin.size() && program; ++i)
          if (cin[i].layout != cached->input_layouts[i]) program = nullptr;
      }
      PassCache::Program fresh;  // without a cache: this draw's uniforms
      if (!program) {
        GLINT_ASSIGN_OR_RETURN(ComposedShader composed, compose_fragment_shader(pass, cin, out_layout, shader_device_));
        std::shared_ptr<const CompiledProgram> found = programs_->find(composed.source);
        if (!found) {
          GLINT_RETURN_IF_ERROR(check_units(pass, k));
          current_program_ = 0;  // compiling changes the bound program
          auto compiled = programs_->get({&composed.source, pass.name, sampler_names(pass)});
          forget_freed_programs();
          if (!compiled.ok()) return compiled.status();
          found = std::move(compiled).value();
        }
        program = found.get();
        PassCache::Program& entry = cached ? *cached : fresh;
        entry.program = std::move(found);
        entry.input_layouts.clear();
        for (const ComposerInput& c : cin) entry.input_layouts.push_back(c.layout);
        entry.uniforms = locate_uniforms(program->program.id(), composed.uniforms);
      }
      const PassCache::Program& draw = cached ? *cached : fresh;
      GLINT_ASSIGN_OR_RETURN(auto texture, pool_->acquire(TextureKey::of(out_layout)));
      auto out = std::make_shared<GlTensor>(pass.output, out_layout, std::move(texture), serial_);
      if (out_layout.elements > 0) {
        attach_output(*out, out_layout.layers);
#ifndef NDEBUG
        if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) {
          return gl_error(pass_where(pass, k) + ": framebuffer incomplete for " + layout_str(out_layout));
        }
#endif
        // Skip redundant state changes (each is a validated JS call in WebGL).
        if (viewport_w_ != out_layout.width || viewport_h_ != out_layout.height) {
          glViewport(0, 0, out_layout.width, out_layout.height);
          viewport_w_ = out_layout.width;
          viewport_h_ = out_layout.height;
        }
        if (current_program_ != program->program.id()) {
          glUseProgram(program->program.id());
          current_program_ = program->program.id();
        }
        uniforms_.set(program->program.id(), draw.uniforms);
        for (size_t i = 0; i < bound.size(); ++i) {
          glActiveTexture(GL_TEXTURE0 + static_cast<GLenum>(i));
          glBindTexture(bound[i]->lease()->key().target(), bound[i]->texture());
        }
        glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        GLINT_RETURN_IF_ERROR(debug_check(pass, k));
      }
      if (pass.node_output >= 0) outputs[pass.node_output] = out;
      if (cache && cache->constant[k]) cache->outputs[k] = out;
      pass_out[k] = std::move(out);
    }
    return outputs;
  }

  int64_t copy_passes() const override { return copier_->passes(); }
  int64_t downloads() const override { return downloads_; }

  void set_memory_budget(int64_t bytes) override { pool_->set_budget(bytes); }
  int64_t memory_budget() const override { return pool_->budget(); }

  // glFinish alone returns early in a browser (Chrome's command buffer does
  // not wait for the GPU process); reading one pixel of the last output does.
  void finish() override {
    if (!ctx_->make_current().ok()) return;
    glFinish();
    if (glCheckFramebufferStatus(GL_READ_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE) return;
    float pixel[4];  // every texture holds floats, or every one float bits (layout_policy)
    const bool bits = layout_policy().float_bits;
    glReadPixels(0, 0, 1, 1, bits ? GL_RGBA_INTEGER : GL_RGBA, bits ? GL_UNSIGNED_INT : GL_FLOAT, pixel);
  }

  void discard(const GpuTensor& t) override {
    if (auto gt = own(&t, "GL discard"); gt.ok()) gt.value()->lease()->discard_on_release();
  }

  MemoryStats memory() const override {
    MemoryStats m;
    m.live_textures = pool_->live_textures();
    m.pooled_textures = pool_->pooled_textures();
    m.texture_bytes = pool_->live_bytes() + pool_->pooled_bytes();
    m.peak_texture_bytes = pool_->peak_bytes();
    m.textures_created = pool_->created_textures();
    m.programs = static_cast<int64_t>(programs_->size());
    return m;
  }
  void reset_peak_memory() override { pool_->reset_peak(); }

 private:
  // Makes `t` the render target: its texture at attachment 0, or each of its
  // `layers` layers at attachments 0 .. layers-1 with as many draw buffers
  // (always re-attached: a texture name may be reused after the pool deletes
  // one). Attachments a smaller target does not use are detached, so that no
  // stale attachment clips the draw or forms a feedback loop with a texture
  // being sampled.
  void attach_output(const GlTensor& t, int layers) {
    if (layers > 1) {
      for (int p = 0; p < layers; ++p) {
        glFramebufferTextureLayer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0 + p, t.texture(), 0, p);
      }
    } else {
      glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, t.texture(), 0);
    }
    for (int p = layers; p < attached_layers_; ++p) {
      glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0 + p, GL_TEXTURE_2D, 0, 0);
    }
    if (layers != attached_layers_) {
      static const GLenum kBuffers[] = {GL_COLOR_ATTACHMENT0, GL_COLOR_ATTACHMENT1, GL_COLOR_ATTACHMENT2,
                                        GL_COLOR_ATTACHMENT3, GL_COLOR_ATTACHMENT4, GL_COLOR_ATTACHMENT5,
                                        GL_COLOR_ATTACHMENT6, GL_COLOR_ATTACHMENT7};
      glDrawBuffers(layers, kBuffers);
    }
    attached_layers_ = layers;
  }

  // The programs the cache freed (program_cache.h): no uniform values are
  // remembered for their GL names, which new programs may get.
  void forget_freed_programs() {
    for (GLuint id : programs_->take_freed()) uniforms_.forget(id);
  }

  static std::vector<std::string> sampler_names(const ProgramInfo& pass) {
    std::vector<std::string> names;
    for (const ProgramInput& pi : pass.inputs) names.push_back(sampler_uniform_name(pi.name));
    return names;
  }

  // A pass that may hand out its input's texture (ProgramInfo::view_of)
  // whose input already lies as the output would: same layout (so the same
  // texels for the same flat index), same dtype, nothing applied on the way.
  static bool is_view(const ProgramInfo& pass, const std::vector<ComposerInput>& in, const TextureLayout& out_layout) {
    return pass.view_of >= 0 && pass.inputs.size() == 1 && in.size() == 1 && pass.inputs[0].source == pass.view_of &&
           pass.activation.empty() && in[0].desc.dtype == pass.output.dtype && in[0].layout == out_layout;
  }

  Result<TextureLayout> output_layout(const ProgramInfo& pass, size_t k) const {
    auto l = pass_output_layout(pass, layout_policy());
    if (!l.ok()) return l.status().with_context(pass_where(pass, k) + " output");
    return l;
  }

  // Components per texel an unpacked layout is read back with: GL_RED when
  // the driver offers it for float buffers; otherwise the RGBA forms GLES
  // guarantees (also for the float bits' uint buffers).
  int read_components(const TextureLayout& l) const { return !l.bits && read_format_ == GL_RED ? 1 : 4; }

  Status check_units(const ProgramInfo& pass, size_t k) const {
    if (static_cast<int>(pass.inputs.size()) > ctx_->max_texture_units()) {
      return unsupported(pass_where(pass, k) + ": " + std::to_string(pass.inputs.size()) + " inputs exceed the " +
                         std::to_string(ctx_->max_texture_units()) + " texture units of the fragment stage");
    }
    return Status::Ok();
  }

  Result<const GlTensor*> own(const GpuTensor* t, const std::string& what) const {
    auto* gt = dynamic_cast<const GlTensor*>(t);
    if (!gt || gt->owner() != serial_) {
      return invalid_argument(what + ": the GPU tensor belongs to another executor");
    }
    return gt;
  }

  const uint64_t serial_ = next_executor_serial();
  std::unique_ptr<GlContext> ctx_;  // first: destroyed last
  std::unique_ptr<TexturePool> pool_;
  std::unique_ptr<ProgramCache> programs_;
  Framebuffer fbo_;
  Buffer quad_vbo_;
  VertexArray quad_vao_;
  GLenum read_format_;
  const bool texel_fetch_;  // shaders read with texelFetch (the device's choice or GLINT_DISABLE=texture-reads)
  const ComposerDevice shader_device_;  // what the composer may take of the device
  std::vector<float> staging_;
  std::vector<float> encoded_;  // integer/bool tensors as exact floats, on their way up or down
  // GL state this executor last set (its context draws nothing else).
  GLuint current_program_ = 0;
  ProgramUniforms uniforms_;  // what each program's integer uniforms hold
  int viewport_w_ = -1;
  int viewport_h_ = -1;
  int attached_layers_ = 1;  // color attachments (and draw buffers) in use
  std::unique_ptr<TexelCopier> copier_;  // concat passes done as copies
  int64_t downloads_ = 0;                // tensors read back, since creation
};

}  // namespace

Result<std::unique_ptr<Executor>> create_executor() { return create_executor(ExecutorOptions{}); }

Result<std::unique_ptr<Executor>> create_executor(const ExecutorOptions& options) {
  GLINT_ASSIGN_OR_RETURN(auto ctx, GlContext::create());
  auto ex = std::make_unique<GlExecutor>(std::move(ctx), options);
  GLINT_RETURN_IF_ERROR(ex->init());
  return std::unique_ptr<Executor>(std::move(ex));
}

}  // namespace glint::gl
