// The runtime's only door into GL. It owns the context, the texture pool and
// the program cache; it turns ProgramInfo passes into compiled programs and
// draws. Everything above this header is GL-free.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/core/tuning.h"
#include "engine/core/value.h"
#include "engine/ops/program.h"
#include "engine/gl/layout/texture_layout.h"

namespace glint::gl {

struct Capabilities {
  std::string renderer;     // GL_RENDERER, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
  std::string version;      // GL_VERSION
  int max_texture_size = 0;
  int max_draw_buffers = 0;    // render targets one draw writes (WebGL2 promises 4)
  // EXT_color_buffer_float (R32F/RGBA32F render targets); without them every
  // texture holds float bits in R32UI / RGBA32UI (LayoutPolicy::float_bits).
  bool float_render = false;
  bool half_float_render = false;
  bool fragment_highp = true;     // fragment shaders have highp (32-bit) float
  bool parallel_compile = false;  // KHR_parallel_shader_compile
  bool texel_fetch_reads = false; // shaders read faster with texelFetch than texture() (context.cc)
  bool division_rounded = false;  // GLSL's a / b is the correctly rounded quotient (context.cc)
  int max_texture_units = 16;     // samplers one fragment shader may read
  std::string imposed_limits;     // the GLINT_GL_LIMITS / env.webgl.limits spec in force ("" = none)
};

// A tensor resident on the GPU. The layout (how elements map to texels) is
// chosen by the executor per tensor; callers only see dtype and shape.
class GpuTensor : public DeviceTensor {
 public:
  virtual const TensorDesc& desc() const = 0;
};
using GpuTensorPtr = std::shared_ptr<GpuTensor>;

// A GPU -> CPU read that has been started but not waited for: natively and in
// WebGL2 a pixel-pack buffer filled by glReadPixels plus a fence, so the
// caller can poll between frames instead of stalling on the GPU.
class PendingDownload {
 public:
  virtual ~PendingDownload() = default;
  // True once the data can be read without waiting for the GPU; never blocks.
  // (WebGL updates a fence's status only between tasks: poll from the event loop.)
  virtual bool ready() = 0;
  // The tensor (dtype tag as the GpuTensor's); waits if not ready() yet.
  virtual Result<Tensor> finish() = 0;
};

// A PendingDownload whose data is already on the CPU (or whose read failed).
class CompletedDownload final : public PendingDownload {
 public:
  explicit CompletedDownload(Result<Tensor> r) : result_(std::move(r)) {}
  bool ready() override { return true; }
  Result<Tensor> finish() override {
    if (taken_) return Status(StatusCode::kInternal, "GL download: finish() called twice");
    taken_ = true;
    return std::move(result_);
  }

 private:
  Result<Tensor> result_;
  bool taken_ = false;
};

struct MemoryStats {
  int64_t live_textures = 0;   // textures handed out (in use by tensors)
  int64_t pooled_textures = 0; // idle textures kept for reuse
  int64_t texture_bytes = 0;   // bytes of all textures that exist (live + pooled)
  int64_t peak_texture_bytes = 0;  // the most texture_bytes seen since creation / reset_peak_memory()
  int64_t programs = 0;        // compiled programs in the cache
  // Textures made since creation: a pool that keeps what the runs need stops
  // making them (in WebGL each costs a synchronous glGetError).
  int64_t textures_created = 0;
};

struct CompiledProgram;

// What a node's passes keep between runs (Executor::run). Owned by whoever
// owns the passes; sized to them (resize() when they change).
//  - constant[k]: pass k reads only the model's constants (weights re-laid
//    for the kernel that reads them, say), so its output never changes;
//    outputs[k] holds it once drawn.
//  - programs[k]: the program pass k last ran, the input layouts its
//    source was composed for and its integer uniforms' locations and values
//    (ProgramInfo::int_uniforms and the shape uniforms), so that a run
//    composes no shader source and looks no uniform up.
struct PassCache {
  struct Program {
    std::shared_ptr<const CompiledProgram> program;  // held: the cache keeps it compiled (program_cache.h)
    std::vector<TextureLayout> input_layouts;
    std::vector<std::pair<int, int>> uniforms;  // (location, value): locate_uniforms(), program_uniforms.h
  };
  std::vector<bool> constant;
  std::vector<GpuTensorPtr> outputs;
  std::vector<Program> programs;
  void resize(size_t passes) {
    constant.assign(passes, false);
    outputs.assign(passes, nullptr);
    programs.assign(passes, Program{});
  }
};

class Executor {
 public:
  virtual ~Executor() = default;

  virtual const Capabilities& caps() const = 0;
  // What choose_layout may use of this context, with the layout
  // optimizations of the process (engine/core/tuning.h).
  LayoutPolicy layout_policy() const {
    const OptimizationFlags& flags = optimization_flags();
    return {caps().max_texture_size, caps().max_draw_buffers, flags.packed, flags.planes, flags.half_weights,
            !caps().float_render};
  }

  // CPU -> GPU. float16 tensors arrive widened to float (see dtype.h).
  virtual Result<GpuTensorPtr> upload(const Tensor& t) { return upload(t, false); }
  // `half_exact`: the caller vouches that t is a constant whose values are
  // all exact float16 values (TensorDesc::half_exact); checked again here.
  virtual Result<GpuTensorPtr> upload(const Tensor& t, bool half_exact) = 0;
  // Uploads `t` as the texture `pass` would have drawn (a pass with
  // ProgramInfo::reshape_of, whose input is a constant): `t` holds the
  // pass's output values, in the pass output's layout.
  virtual Result<GpuTensorPtr> upload_as_output(const Tensor& t, const ProgramInfo& pass) = 0;
  // True when `t` is one of this executor's tensors (not one of another
  // context's, such as a context lost since `t` was made).
  virtual bool holds(const GpuTensor& t) const = 0;
  // GPU -> CPU; the result carries the GpuTensor's dtype tag.
  virtual Result<Tensor> download(const GpuTensor& t) = 0;
  // Starts GPU -> CPU reads without waiting for the GPU (the web build polls
  // them so that run() never stalls the page): a run's outputs together, so
  // that the executor can read them into one buffer behind one fence. The
  // default reads each at once.
  virtual Result<std::vector<std::unique_ptr<PendingDownload>>> begin_downloads(
      const std::vector<const GpuTensor*>& ts) {
    std::vector<std::unique_ptr<PendingDownload>> out;
    for (const GpuTensor* t : ts) out.push_back(std::make_unique<CompletedDownload>(download(*t)));
    return out;
  }
  // One tensor's read: begin_downloads of it alone.
  Result<std::unique_ptr<PendingDownload>> begin_download(const GpuTensor& t) {
    GLINT_ASSIGN_OR_RETURN(auto one, begin_downloads({&t}));
    return std::move(one[0]);
  }

  // Compiles (or finds in the cache) every pass but those `uploaded` marks
  // (their outputs will come from upload_as_output; empty: none); no
  // drawing. `inputs` are the node's input descs (nullopt for absent ones).
  // Used at session creation so that the first run does not pay for
  // compiling.
  virtual Status prepare(const std::vector<ProgramInfo>& passes,
                         const std::vector<std::optional<TensorDesc>>& inputs,
                         const std::vector<bool>& uploaded) = 0;

  // Runs the passes of one node. `inputs[i]` is the node's input i (nullptr when
  // absent). Returns the node outputs, indexed as ProgramInfo::node_output says
  // (entries no pass wrote are nullptr). Temporaries go back to the pool,
  // except those `cache` keeps: a pass it marks constant is drawn once and
  // its output reused by every later run with the same cache.
  virtual Result<std::vector<GpuTensorPtr>> run(const std::vector<ProgramInfo>& passes,
                                                const std::vector<GpuTensorPtr>& inputs, size_t node_output_count,
                                                PassCache* cache) = 0;
  Result<std::vector<GpuTensorPtr>> run(const std::vector<ProgramInfo>& passes,
                                        const std::vector<GpuTensorPtr>& inputs, size_t node_output_count) {
    return run(passes, inputs, node_output_count, nullptr);
  }

  // `t`'s texture is deleted when its last holder lets go, instead of going
  // back to the pool: for weights that will not be read again.
  virtual void discard(const GpuTensor& t) { (void)t; }

  virtual MemoryStats memory() const = 0;
  // Passes done by copying texels instead of drawing
  // (ProgramInfo::concat_channel_offsets), since creation.
  virtual int64_t copy_passes() const { return 0; }
  // Tensors read back to the CPU (download, begin_download), since creation.
  virtual int64_t downloads() const { return 0; }
  // Starts peak_texture_bytes again from the bytes that exist now.
  virtual void reset_peak_memory() = 0;

  // See TexturePool::set_budget; sessions raise it to what they need.
  virtual void set_memory_budget(int64_t bytes) { (void)bytes; }
  virtual int64_t memory_budget() const { return 0; }

  // Waits until the GPU has finished every command issued so far (profiling
  // only: never on the run path).
  virtual void finish() {}
};

// Creates the GL context (EGL surfaceless natively, the WebGL2 canvas context
// under Emscripten), probes capabilities and fails with a clear message when
// float render targets are missing.
Result<std::unique_ptr<Executor>> create_executor();

}  // namespace glint::gl
