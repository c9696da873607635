// Session: load -> optimize -> place (GPU or CPU per node) -> compile -> run.
// The one object the runner, the tests and the JS bindings drive.
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
#include "engine/ir/graph.h"

namespace glint {

enum class BackendMode {
  kDefault,  // GPU kernels where they exist, CPU kernels for the rest
  kGpu,      // GPU only: creation fails if any node needs the CPU
  kCpu,      // CPU kernels only; no GL context is made
};
std::string backend_mode_name(BackendMode m);
Result<BackendMode> parse_backend_mode(const std::string& s);  // "default"|"gpu"|"cpu"

struct SessionOptions {
  BackendMode backend = BackendMode::kDefault;
  // Node names (or their first output's name) that must run on their CPU kernel.
  std::set<std::string> force_cpu;
  bool fold_constants = true;
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
};

struct CreationTimings {
  double load_ms = 0, optimize_ms = 0, compile_ms = 0;
};

// A run whose outputs are on their way back from the GPU (pixel-pack buffers
// + fences): poll ready() without blocking, then finish(). The web build uses
// it so that run() never stalls the page; Session::run() waits at once.
class PendingRun {
 public:
  bool ready();  // every output can be read without waiting for the GPU
  Result<std::map<std::string, Tensor>> finish();

 private:
  friend class Session;
  std::map<std::string, Tensor> done_;
  std::set<std::string> round_to_half_;  // float16 outputs computed in float32
  std::vector<std::pair<std::string, std::unique_ptr<gl::PendingDownload>>> pending_;
};

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

  // The same for models whose inputs or outputs are sequences or optionals.
  Result<std::map<std::string, Value>> run_values(const std::map<std::string, Value>& feeds,
                                                  const std::vector<std::string>& fetches = {});

  const std::vector<NodePlacement>& placements() const { return placements_; }
  const ir::Graph& graph() const { return graph_; }
  BackendMode backend() const { return options_.backend; }
  const CreationTimings& timings() const { return timings_; }
  // GPU memory of the (process-wide) executor; nullopt on the CPU backend.
  std::optional<gl::MemoryStats> gpu_memory() const;
  std::string renderer() const;
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
                                                          const std::vector<std::string>& fetches);
  Status init(ir::Graph graph, const SessionOptions& options);
  Status place_nodes();
  Status compile_static();
  Status check_feed(const IoInfo& io, const Tensor& t) const;

  struct NodeState;  // per-node placement, cached programs
  struct Slot;       // a value during a run: CPU tensor and/or GPU texture
  // Runs every node; leaves the slots of `wanted` (the fetched outputs) in `slots`.
  Status execute(const std::map<std::string, Value>& feeds, const std::vector<std::string>& fetches,
                 std::map<std::string, Slot>& slots, std::vector<std::string>& wanted);

  Status run_gpu_node(size_t idx, std::map<std::string, Slot>& slots, bool* fell_back);
  Status run_cpu_node(size_t idx, std::map<std::string, Slot>& slots);
  Status run_value_node(size_t idx, std::map<std::string, Slot>& slots);
  Result<Value> to_value(Slot& slot);
  Result<Tensor> to_cpu(Slot& slot);
  Result<gl::GpuTensorPtr> to_gpu(const std::string& name, Slot& slot);

  SessionOptions options_;
  ir::Graph graph_;
  std::vector<size_t> order_;
  std::vector<IoInfo> inputs_, outputs_;
  std::vector<NodePlacement> placements_;
  std::vector<std::unique_ptr<NodeState>> states_;  // indexed like graph_.nodes
  std::set<std::string> produced_;                  // every node output: what run() may fetch
  std::map<std::string, size_t> last_use_;          // value -> position in order_ of its last reader
  std::map<std::string, gl::GpuTensorPtr> gpu_constants_;  // initializers, uploaded once
  std::set<std::string> half_exact_;  // initializers whose values are exact float16 values
  bool float16_as_float32_ = false;  // passes::compute_float16_in_float32 applied
  // True when output `name` is declared float16 but computed in float32.
  bool output_rounds_to_half(const std::string& name) const;
  gl::Executor* gpu_ = nullptr;  // process-wide executor; null on the CPU backend
  // GLINT_PROFILE=1 in the environment: every node waits for the GPU and its
  // time is summed; the session prints the slowest nodes when destroyed.
  bool profile_ = false;
  std::map<size_t, double> profile_ms_;
  CreationTimings timings_;
};

// The process-wide GL executor (one context per process, made on first use).
Result<gl::Executor*> shared_executor();

}  // namespace glint
