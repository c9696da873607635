// Session: the façade the native runner, the tests and the JS bindings
// drive. create = load (engine/onnx) -> passes (engine/passes) -> plan
// (engine/plan) -> compile and upload weights; run = check the feeds, let
// the GraphRunner (runner.h) walk the plan, hand back the outputs.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/status.h"
#include "engine/core/tensor.h"
#include "engine/core/value.h"
#include "engine/gl/executor.h"
#include "engine/onnx/external_data.h"
#include "engine/ir/graph.h"
#include "engine/plan/plan.h"

namespace glint {

struct SessionOptions {
  BackendMode backend = BackendMode::kDefault;
  // Node names (or their first output's name) that must run on their CPU kernel.
  std::set<std::string> force_cpu;
  bool fold_constants = true;
  // Bytes the session's CPU tensors may hold together (weights, feeds,
  // intermediate values, outputs); 0: default_memory_cap() (half the
  // machine's memory natively, 2 GiB in wasm). A model that would need more
  // fails with an error naming the node, instead of exhausting memory.
  int64_t memory_cap = 0;
  // Where tensors kept outside the model (external data) are read from;
  // create_from_file reads them from the model's folder when this is unset.
  // Used while the model loads only (the session does not keep it).
  onnx_loader::ExternalDataFn external_data;
};

struct IoInfo {
  std::string name;
  ir::ValueInfo info;  // declared dtype and dims (dims may be symbolic)
};

struct NodePlacement {
  std::string node;    // node name, or its first output when unnamed
  std::string op;
  bool gpu = false;
  std::string kernel;  // the winning candidate's name
  std::string reason;  // why it runs on the CPU (empty on the GPU)
  std::vector<plan::Declined> declined;  // GPU candidates that declined it, and why
};

// One node's run, as recorded while profiling (Session::set_profiling):
// fenced wall time (the step waits for the GPU before the clock stops).
struct NodeProfile {
  std::string node;  // node name, or its first output when unnamed
  std::string op;
  bool gpu = false;      // ran on the GPU (false: its CPU kernel)
  double start_ms = 0;   // since the session was created
  double ms = 0;
};

struct CreationTimings {
  double load_ms = 0, optimize_ms = 0, compile_ms = 0;
};

// An output kept where the run left it: in GPU memory, in the engine's
// memory when a CPU kernel made it (a decode loop's attention, whose sizes
// change every step, runs there: runner.cc), or both when a later step had
// it moved. Moving it to the GPU only for the next step's CPU kernel to read
// it back would cost two transfers.
struct KeptOutput {
  gl::GpuTensorPtr gpu;
  std::optional<Tensor> cpu;
};

// Tensors that stay where a run left them until the next (a decoder's KV
// cache on webgl): outputs handed out without a read-back, fed back without
// an upload. Only the session's GL context reads a GPU one: one made before
// a lost context is refused with an error.
struct GpuResident {
  std::map<std::string, KeptOutput> feeds;  // inputs as kept from a run (a GPU one on this session's GPU)
  std::set<std::string> keep;  // outputs handed out where they lie (PendingRun::take_kept)
};

// A run whose outputs are on their way back from the GPU (pixel-pack buffers
// + fences): poll ready() without blocking, then finish(). The web build uses
// it so that run() never stalls the page; Session::run() waits at once.
class PendingRun {
 public:
  bool ready();  // every output can be read without waiting for the GPU
  // The outputs read back (those kept on the GPU are not among them).
  Result<std::map<std::string, Tensor>> finish();
  // The outputs GpuResident::keep asked for. A float16 output computed in
  // float32 is not kept: it is rounded and read back.
  std::map<std::string, KeptOutput> take_kept() { return std::move(kept_); }

 private:
  friend class Session;
  std::map<std::string, KeptOutput> kept_;
  std::map<std::string, Tensor> done_;
  std::set<std::string> round_to_half_;  // float16 outputs computed in float32
  std::vector<std::pair<std::string, std::unique_ptr<gl::PendingDownload>>> pending_;
};

struct Slot;
struct WorkTally;
class GraphRunner;

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(const void* data, size_t size,
                                                 const SessionOptions& options = {});
  static Result<std::unique_ptr<Session>> create_from_file(const std::string& path,
                                                           const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::vector<IoInfo>& inputs() const { return inputs_; }
  const std::vector<IoInfo>& outputs() const { return outputs_; }

  // Runs the model. `fetches` empty = every graph output. Feeds are checked
  // against the declared inputs (name, dtype, rank and fixed dims).
  Result<std::map<std::string, Tensor>> run(const std::map<std::string, Tensor>& feeds,
                                            const std::vector<std::string>& fetches = {});
  // The same, but the outputs still on the GPU are only started on their way
  // back: see PendingRun.
  Result<std::unique_ptr<PendingRun>> run_async(const std::map<std::string, Tensor>& feeds,
                                                const std::vector<std::string>& fetches = {});
  // The same, with inputs fed from and outputs kept in GPU memory.
  Result<std::unique_ptr<PendingRun>> run_async(const std::map<std::string, Tensor>& feeds,
                                                const std::vector<std::string>& fetches,
                                                const GpuResident& resident);

  // The same for models whose inputs or outputs are sequences or optionals.
  Result<std::map<std::string, Value>> run_values(const std::map<std::string, Value>& feeds,
                                                  const std::vector<std::string>& fetches = {});

  const std::vector<NodePlacement>& placements() const { return placements_; }
  const plan::Plan& plan() const;
  const ir::Graph& graph() const { return graph_; }
  BackendMode backend() const { return options_.backend; }
  const CreationTimings& timings() const { return timings_; }
  // Profiling: while on, every node of every run is timed (each waits for
  // the GPU, so runs are slower) and recorded; take_profile() hands the
  // records over and clears them.
  void set_profiling(bool on);
  std::vector<NodeProfile> take_profile();
  // Work accounting: while a tally is set, every tensor step of every run
  // (bodies' steps included) adds its estimated FLOPs to the GPU or the CPU
  // side of it (runner.h's WorkTally); null stops.
  void set_work_tally(std::shared_ptr<WorkTally> tally);
  // GPU memory of the (process-wide) executor; nullopt on the CPU backend.
  std::optional<gl::MemoryStats> gpu_memory() const;
  std::string renderer() const;
  // The GPU's capabilities as the engine uses them (limits imposed by
  // GLINT_GL_LIMITS / env.webgl.limits applied); nullopt on the CPU backend.
  std::optional<gl::Capabilities> gpu_caps() const;
  // Texture bytes this session's runs should need at most: 1.5 x (weights
  // as stored + the two largest activations live at any step). The texture
  // pool keeps idle textures within it (0 on the CPU backend).
  int64_t memory_budget() const;

 private:
  Session() = default;
  static Result<std::unique_ptr<Session>> create_unguarded(const void* data, size_t size,
                                                           const SessionOptions& options);
  Result<std::map<std::string, Value>> run_values_unguarded(const std::map<std::string, Value>& feeds,
                                                            const std::vector<std::string>& fetches);
  Result<std::unique_ptr<PendingRun>> run_async_unguarded(const std::map<std::string, Tensor>& feeds,
                                                          const std::vector<std::string>& fetches,
                                                          const GpuResident& resident);
  Status init(ir::Graph graph, const SessionOptions& options);
  Status check_feed(const IoInfo& io, const Tensor& t) const;
  Status check_feed_shape(const IoInfo& io, DataType dtype, const Shape& shape) const;
  // The declared input `name`, or an error naming the inputs there are.
  Result<const IoInfo*> find_input(const std::string& name) const;
  // Binds feeds (`kept_feeds`: those kept from a run; may be null) and
  // constants into fresh slots, runs, and leaves the fetched values' ids in
  // `wanted`.
  Status execute(const std::map<std::string, Value>& feeds, const std::vector<std::string>& fetches,
                 std::vector<Slot>& slots, std::vector<int>& wanted,
                 const std::map<std::string, KeptOutput>* kept_feeds = nullptr);
  Status bind_feeds(const std::map<std::string, Value>& feeds, const std::map<std::string, KeptOutput>* kept_feeds,
                    std::vector<Slot>& slots) const;
  // True when output `name` is declared float16 but computed in float32.
  bool output_rounds_to_half(const std::string& name) const;

  SessionOptions options_;
  ir::Graph graph_;
  std::vector<IoInfo> inputs_, outputs_;
  std::vector<NodePlacement> placements_;
  std::unique_ptr<GraphRunner> runner_;
  bool float16_as_float32_ = false;  // passes::compute_float16_in_float32 applied
  gl::Executor* gpu_ = nullptr;      // process-wide executor; null on the CPU backend
  std::shared_ptr<MemoryBudget> memory_;  // SessionOptions::memory_cap, charged while creating and running
  CreationTimings timings_;
  double created_ms_ = 0;  // steady clock at creation, ms
};

// The process-wide GL executor (one context per process, made on first use).
Result<gl::Executor*> shared_executor();
// Destroys the process-wide executor (its context and every GL object it
// made), so that the next GPU session makes a fresh one: after a lost WebGL
// context nothing made before the loss can be used again. No session made on
// the old executor may be alive (each holds a pointer to it).
void release_shared_executor();
// Reads a GPU tensor kept from a run (GpuResident::keep) back; an error when
// the executor that made it is gone (a lost context), never a read of
// whatever holds its texture's name now.
Result<Tensor> download_gpu_tensor(const gl::GpuTensor& t);
// A kept output's values on the CPU (its CPU copy, else read back).
Result<Tensor> read_kept(const KeptOutput& kept);

}  // namespace glint
