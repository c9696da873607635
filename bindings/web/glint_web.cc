// Embind glue between the JavaScript package (web/src) and glint::Session.
//
// Data crosses the boundary once each way: JS writes a feed straight into the
// storage of a tensor that C++ allocated (HEAPU8.set at the address
// WasmSession.feedBuffer returns; string and float16 feeds through a
// WasmTensor), and reads an output with one slice of the heap at the
// address runFinish's table gives (string and float16 outputs through a
// WasmTensor). float16 is the exception only in form: the engine holds it
// widened to float32, so JS hands over the halves in a scratch buffer and
// they are widened (or narrowed) here with half.h.
//
// Nothing here throws: failures come back as {error: "..."} objects whose
// message the JS layer turns into an Error.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/half.h"
#include "engine/core/tensor.h"
#include "engine/cpu/threadpool.h"
#include "engine/gl/device_limits.h"
#include "engine/runtime/session.h"

using emscripten::val;

namespace glint::web {

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

val error_object(const Status& s) {
  val o = val::object();
  o.set("error", s.message());
  o.set("code", static_cast<int>(s.code()));  // StatusCode; 5 = kGlError (no usable WebGL2)
  return o;
}

val dims_of(const ir::ValueInfo& vi) {
  val dims = val::array();
  if (!vi.has_shape) return val::null();
  for (auto& d : vi.dims) {
    if (d.known()) dims.call<void>("push", static_cast<double>(d.value));
    else if (!d.symbol.empty()) dims.call<void>("push", d.symbol);
    else dims.call<void>("push", val::null());
  }
  return dims;
}

val io_list(const std::vector<IoInfo>& ios) {
  val list = val::array();
  for (auto& io : ios) {
    val o = val::object();
    o.set("name", io.name);
    o.set("type", io.info.dtype == DataType::kUndefined ? std::string("undefined") : dtype_name(io.info.dtype));
    o.set("dims", dims_of(io.info));
    list.call<void>("push", o);
  }
  return list;
}

// Dim i of a feed as JS gave it (a double): a non-negative integer, else an
// error naming it.
Result<int64_t> feed_dim(double d, size_t i) {
  if (!(d >= 0) || d != static_cast<double>(static_cast<int64_t>(d)))
    return invalid_argument("dimension " + std::to_string(i) + " is not a non-negative integer");
  return static_cast<int64_t>(d);
}

Result<DataType> parse_dtype(const std::string& s) {
  static const std::map<std::string, DataType> kTypes = {
      {"float32", DataType::kFloat32}, {"float16", DataType::kFloat16}, {"int32", DataType::kInt32},
      {"int64", DataType::kInt64},     {"uint8", DataType::kUint8},     {"int8", DataType::kInt8},
      {"bool", DataType::kBool},       {"uint16", DataType::kUint16},   {"int16", DataType::kInt16},
      {"uint32", DataType::kUint32},   {"uint64", DataType::kUint64},   {"float64", DataType::kFloat64},
      {"string", DataType::kString},
  };
  auto it = kTypes.find(s);
  if (it == kTypes.end()) return invalid_argument("unsupported tensor type '" + s + "'");
  return it->second;
}

}  // namespace

// dtype_name() of every DataType, indexed by its value: how JS reads the
// dtype column of WasmSession.runFinish()'s table.
val dtype_names() {
  val list = val::array();
  for (int i = 0; i <= static_cast<int>(DataType::kBFloat16); ++i)  // kBFloat16: the last DataType
    list.call<void>("push", dtype_name(static_cast<DataType>(i)));
  return list;
}

// A string or float16 tensor crossing the boundary (the other dtypes cross
// as bytes: feedBuffer, runFinish's table), or a handle on an output kept
// where the run left it (preferredOutputLocation 'texture': GPU memory, or
// the engine's memory when a CPU kernel made it): fed back with setFeed,
// read with download().
class WasmTensor {
 public:
  explicit WasmTensor(Tensor t) : t_(std::move(t)) {}
  explicit WasmTensor(KeptOutput k) : kept_(std::move(k)) {}

  std::string type() const { return dtype_name(t_.dtype()); }
  val dims() const {
    val d = val::array();
    for (int64_t x : t_.shape()) d.call<void>("push", static_cast<double>(x));
    return d;
  }
  double size() const { return static_cast<double>(t_.size()); }

  // float16: widen `count` halves at `src` into the float32 storage.
  void set_halves(uintptr_t src) {
    const auto* h = reinterpret_cast<const uint16_t*>(src);
    float* f = t_.data<float>();
    for (int64_t i = 0; i < t_.size(); ++i) f[i] = half_to_float(h[i]);
  }
  // float16: narrow the float32 storage into halves at `dst`.
  void get_halves(uintptr_t dst) const {
    auto* h = reinterpret_cast<uint16_t*>(dst);
    const float* f = t_.data<float>();
    for (int64_t i = 0; i < t_.size(); ++i) h[i] = float_to_half(f[i]);
  }

  // string: the elements cross as a JS array of strings (UTF-8 inside);
  // they have no bytes at data_ptr(). Returns false when the counts differ.
  bool set_strings(val list) {
    auto& out = t_.strings();
    if (list["length"].as<unsigned>() != out.size()) return false;
    for (size_t i = 0; i < out.size(); ++i) out[i] = list[i].as<std::string>();
    return true;
  }
  val get_strings() const {
    val list = val::array();
    for (auto& x : t_.strings()) list.call<void>("push", x);
    return list;
  }

  // The bytes (not of string tensors): what JS slices out of the heap.
  uintptr_t data_ptr() const { return reinterpret_cast<uintptr_t>(t_.raw()); }
  double byte_length() const { return static_cast<double>(t_.byte_size()); }

  // A kept handle's values as a CPU WasmTensor: {tensor} or {error} (a lost
  // context's GPU tensor has no data).
  val download() const {
    auto t = kept_ ? read_kept(*kept_) : Result<Tensor>(invalid_argument("not a kept tensor"));
    if (!t.ok()) return error_object(t.status());
    val o = val::object();
    o.set("tensor", val(WasmTensor(std::move(t).value())));
    return o;
  }

  const Tensor& tensor() const { return t_; }
  const std::optional<KeptOutput>& kept() const { return kept_; }

 private:
  Tensor t_;
  std::optional<KeptOutput> kept_;  // set: a kept handle (t_ unused)
};

// Returns {tensor} or {error}; the tensor's bytes are not zero-filled: the
// caller (toWasm in web/src, for string and float16 feeds) writes every one.
val make_tensor(const std::string& type, val dims_js) {
  auto dt = parse_dtype(type);
  if (!dt.ok()) return error_object(dt.status());
  Shape shape;
  const unsigned n = dims_js["length"].as<unsigned>();
  for (unsigned i = 0; i < n; ++i) {
    auto d = feed_dim(dims_js[i].as<double>(), i);
    if (!d.ok()) return error_object(d.status());
    shape.push_back(d.value());
  }
  val o = val::object();
  o.set("tensor", val(WasmTensor(Tensor(dt.value(), std::move(shape), Tensor::kUninitialized))));
  return o;
}

namespace {
// Sessions alive on the process-wide GL executor (not the CPU backend), so
// that releaseGpu() can refuse while one still points at it.
int live_gpu_sessions = 0;

bool uses_gpu(const Session& s) { return s.backend() != BackendMode::kCpu; }
}  // namespace

class WasmSession {
 public:
  explicit WasmSession(std::unique_ptr<Session> s) : s_(std::move(s)) {
    if (s_ && uses_gpu(*s_)) ++live_gpu_sessions;
  }
  // Moved, never copied (embind moves the object into its own heap cell); a
  // moved-from session holds nothing and counts for nothing.
  WasmSession(WasmSession&&) = default;
  ~WasmSession() {
    if (s_ && uses_gpu(*s_)) --live_gpu_sessions;
  }

  val inputs() const { return io_list(s_->inputs()); }
  val outputs() const { return io_list(s_->outputs()); }

  val timings() const {
    val o = val::object();
    o.set("loadMs", s_->timings().load_ms);
    o.set("optimizeMs", s_->timings().optimize_ms);
    o.set("compileMs", s_->timings().compile_ms);
    return o;
  }

  // Where each node runs: [{node, op, gpu, kernel, reason}].
  val placements() const {
    val list = val::array();
    for (auto& p : s_->placements()) {
      val o = val::object();
      o.set("node", p.node);
      o.set("op", p.op);
      o.set("gpu", p.gpu);
      o.set("kernel", p.kernel);
      o.set("reason", p.reason);
      list.call<void>("push", o);
    }
    return list;
  }

  // Profiling: while on, every node of every run is timed (waiting for the
  // GPU after each) and recorded; takeProfile() hands over
  // [{node, op, gpu, startMs, ms}] since the last call.
  void set_profiling(bool on) { s_->set_profiling(on); }
  val take_profile() {
    val list = val::array();
    for (const NodeProfile& e : s_->take_profile()) {
      val o = val::object();
      o.set("node", e.node);
      o.set("op", e.op);
      o.set("gpu", e.gpu);
      o.set("startMs", e.start_ms);
      o.set("ms", e.ms);
      list.call<void>("push", o);
    }
    return list;
  }

  std::string backend() const { return backend_mode_name(s_->backend()); }
  std::string renderer() const { return s_->renderer(); }

  val memory() const {
    auto m = s_->gpu_memory();
    if (!m) return val::null();
    val o = val::object();
    o.set("liveTextures", static_cast<double>(m->live_textures));
    o.set("pooledTextures", static_cast<double>(m->pooled_textures));
    o.set("textureBytes", static_cast<double>(m->texture_bytes));
    o.set("programs", static_cast<double>(m->programs));
    o.set("texturesCreated", static_cast<double>(m->textures_created));
    return o;
  }

  // A kept handle is read where it lies (the engine checks that a GPU one's
  // context still holds it).
  void set_feed(const std::string& name, const WasmTensor& t) {
    if (t.kept()) resident_.feeds[name] = *t.kept();
    else feeds_[name] = t.tensor();
  }
  // The outputs (a JS array of names) kept where the runs leave them from now on.
  void set_kept_outputs(val names) {
    resident_.keep.clear();
    const unsigned n = names["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i) resident_.keep.insert(names[i].as<std::string>());
  }

  // The common feed in one call: a tensor of `type` (not string, not
  // float16) with the `rank` dims JS wrote as doubles at `dims_ptr`, its
  // bytes left for JS to write at the returned address. No WasmTensor handle
  // and no JS objects cross: makeTensor + dataPtr + setFeed + delete cost
  // 60-95 us on a run that follows an idle page (a few us back to back),
  // most of an MNIST run's upload. Returns 0 with last_error() set when the
  // type or a dim is bad (and 0 for a tensor without bytes).
  uintptr_t feed_buffer(const std::string& name, const std::string& type, uintptr_t dims_ptr, int rank) {
    last_error_.clear();
    auto dt = parse_dtype(type);
    if (!dt.ok() || dt.value() == DataType::kString || dt.value() == DataType::kFloat16) {
      last_error_ = dt.ok() ? "feedBuffer does not take " + type + " tensors" : dt.status().message();
      return 0;
    }
    const auto* dims = reinterpret_cast<const double*>(dims_ptr);
    Shape shape;
    for (int i = 0; i < rank; ++i) {
      auto d = feed_dim(dims[i], i);
      if (!d.ok()) {
        last_error_ = d.status().message();
        return 0;
      }
      shape.push_back(d.value());
    }
    Tensor& t = feeds_[name] = Tensor(dt.value(), std::move(shape), Tensor::kUninitialized);
    return reinterpret_cast<uintptr_t>(t.raw());
  }
  std::string last_error() const { return last_error_; }
  void clear_feeds() {
    feeds_.clear();
    resident_.feeds.clear();
  }

  // Runs with the feeds set so far; `fetches` is a JS array of output names
  // (empty = all). Returns {outputs: [{name, tensor}], runMs} or {error}.
  // Waits for the GPU: the JS layer uses runStart / poll / runFinish instead.
  val run(val fetches_js) {
    val started = run_start(fetches_js);
    if (!started["error"].isUndefined()) return started;
    return run_finish();
  }

  // Runs every node and starts reading the outputs back without waiting for
  // the GPU. Returns {} or {error}; then poll() until true, then runFinish().
  val run_start(val fetches_js) {
    fetches_.clear();
    pending_.reset();
    const unsigned n = fetches_js["length"].as<unsigned>();
    for (unsigned i = 0; i < n; ++i) fetches_.push_back(fetches_js[i].as<std::string>());
    t0_ = now_ms();
    auto r = s_->run_async(feeds_, fetches_, resident_);
    feeds_.clear();
    resident_.feeds.clear();
    if (!r.ok()) return error_object(r.status());
    pending_ = std::move(r).value();
    dispatch_ms_ = now_ms() - t0_;
    return val::object();
  }

  // True once runFinish() can read the outputs without stalling on the GPU.
  bool poll() { return !pending_ || pending_->ready(); }

  // {table, count, runMs, dispatchMs} or {error}. The outputs, in the
  // order of the fetches (all outputs when none were named), stay held here
  // until releaseOutputs(); `table` is the heap address of doubles that
  // describe them one after another: dtype (an index into dtypeNames()),
  // rank, the dims, the data's address and its byte length (-1 for an
  // output kept where the run left it: heldOutput(i) is its handle). JS slices each
  // output's bytes out of the heap with that, and fetches string and
  // float16 outputs through heldOutput(i). Why a table: a WasmTensor per
  // output with its type, dims, address and length asked for one call at a
  // time made ~8 boundary crossings per output, each slow on a run that
  // follows an idle page (13 outputs for a decoder step with a KV cache).
  val run_finish() {
    if (!pending_) return error_object(internal_error("runFinish without a started run"));
    auto r = pending_->finish();
    if (!r.ok()) {
      pending_.reset();
      return error_object(r.status());
    }
    std::vector<std::string> order = fetches_;
    if (order.empty())
      for (auto& io : s_->outputs()) order.push_back(io.name);
    held_.clear();
    held_kept_.clear();
    table_.clear();
    auto kept = pending_->take_kept();
    for (auto& name : order) {
      if (auto k = kept.find(name); k != kept.end()) {
        const DataType dtype = k->second.cpu ? k->second.cpu->dtype() : k->second.gpu->desc().dtype;
        const Shape& shape = k->second.cpu ? k->second.cpu->shape() : k->second.gpu->desc().shape;
        table_.push_back(static_cast<double>(static_cast<int>(dtype)));
        table_.push_back(static_cast<double>(shape.size()));
        for (int64_t x : shape) table_.push_back(static_cast<double>(x));
        table_.push_back(0);
        table_.push_back(-1);
        held_kept_.resize(held_.size() + 1);
        held_kept_.back() = k->second;
        held_.emplace_back();
        continue;
      }
      auto it = r.value().find(name);
      if (it == r.value().end()) return error_object(internal_error("the run did not produce output '" + name + "'"));
      const Tensor& t = it->second;
      table_.push_back(static_cast<double>(static_cast<int>(t.dtype())));
      table_.push_back(static_cast<double>(t.shape().size()));
      for (int64_t d : t.shape()) table_.push_back(static_cast<double>(d));
      table_.push_back(static_cast<double>(reinterpret_cast<uintptr_t>(t.raw())));
      table_.push_back(static_cast<double>(t.byte_size()));
      held_.push_back(t);
    }
    pending_.reset();
    val o = val::object();
    o.set("table", reinterpret_cast<uintptr_t>(table_.data()));
    o.set("count", static_cast<double>(held_.size()));
    o.set("runMs", now_ms() - t0_);
    o.set("dispatchMs", dispatch_ms_);
    return o;
  }
  // Output i of the last runFinish() as a WasmTensor (the string and
  // float16 outputs, whose values need converting on the way out, and the
  // handles of those kept where the run left them).
  val held_output(int i) const {
    if (i < 0 || static_cast<size_t>(i) >= held_.size()) return val::null();
    if (static_cast<size_t>(i) < held_kept_.size() && held_kept_[i]) return val(WasmTensor(*held_kept_[i]));
    return val(WasmTensor(held_[i]));
  }
  void release_outputs() {
    held_.clear();
    held_kept_.clear();
    table_.clear();
  }

 private:
  std::unique_ptr<Session> s_;
  std::map<std::string, Tensor> feeds_;
  std::string last_error_;
  std::vector<std::string> fetches_;
  GpuResident resident_;       // the next run's kept feeds, and the outputs to keep
  std::vector<Tensor> held_;   // the last run's outputs until releaseOutputs()
  std::vector<std::optional<KeptOutput>> held_kept_;  // those of them kept where they lie (by index)
  std::vector<double> table_;  // runFinish()'s description of them
  std::unique_ptr<PendingRun> pending_;
  double t0_ = 0, dispatch_ms_ = 0;
};

// Model bytes at `ptr` (the caller frees them afterwards); backend is
// "default" (GPU + CPU fallback), "gpu" or "cpu"; `files`: the model's
// external data, [{path, ptr, size}] in the same memory (the session option
// externalData). Returns {session} or {error}.
val create_session(uintptr_t ptr, double size, const std::string& backend, val files) {
  auto mode = parse_backend_mode(backend);
  if (!mode.ok()) return error_object(mode.status());
  if (mode.value() != BackendMode::kCpu) {
    // A GPU that cannot start here (no WebGL2, no float render targets, ...)
    // says so with kGlError whatever the cause, so that the JS layer tries
    // the next execution provider instead of blaming the model.
    auto gpu = shared_executor();
    if (!gpu.ok()) return error_object(gl_error(gpu.status().message()));
  }
  SessionOptions opts;
  opts.backend = mode.value();
  std::map<std::string, std::string_view> external;
  const int n_files = files.isArray() ? files["length"].as<int>() : 0;
  for (int i = 0; i < n_files; ++i) {
    val f = files[i];
    external[f["path"].as<std::string>()] = std::string_view(
        reinterpret_cast<const char*>(f["ptr"].as<uintptr_t>()), static_cast<size_t>(f["size"].as<double>()));
  }
  if (!external.empty()) opts.external_data = onnx_loader::external_data_in_memory(std::move(external));
  auto s = Session::create(reinterpret_cast<const void*>(ptr), static_cast<size_t>(size), opts);
  if (!s.ok()) return error_object(s.status());
  val o = val::object();
  o.set("session", val(WasmSession(std::move(s).value())));
  return o;
}

// After a lost WebGL context: destroys the process-wide GL executor (every
// GL object made before the loss, the context handle too) so that the next
// GPU session makes a fresh one on the restored context. The JS layer deletes
// every GPU session first; returns {} or {error} when one is still alive.
val release_gpu() {
  if (live_gpu_sessions > 0) {
    return error_object(internal_error(std::to_string(live_gpu_sessions) +
                                       " GPU session(s) still alive; delete them before releasing the GL executor"));
  }
  release_shared_executor();
  return val::object();
}

// Threads of the CPU kernels (the wasm provider) from now on, the caller
// included; returns the count in effect. Only the threaded build
// (glint-threaded.wasm, -pthread) has more than 1 (cpu::num_threads() is 1
// without threads, whatever was set); `max_threads` is its pre-started worker
// pool plus the caller (a thread beyond the pool could only start after
// yielding to the event loop, which the kernels never do). cpu::set_num_threads
// caps the count at 64.
int set_num_threads(int n, int max_threads) {
  cpu::set_num_threads(std::max(1, std::min(n, max_threads)));
  return cpu::num_threads();
}

}  // namespace glint::web

EMSCRIPTEN_BINDINGS(glint) {
  using namespace emscripten;
  using glint::web::WasmSession;
  using glint::web::WasmTensor;
  class_<WasmTensor>("WasmTensor")
      .function("type", &WasmTensor::type)
      .function("dims", &WasmTensor::dims)
      .function("size", &WasmTensor::size)
      .function("setHalves", &WasmTensor::set_halves)
      .function("getHalves", &WasmTensor::get_halves)
      .function("setStrings", &WasmTensor::set_strings)
      .function("getStrings", &WasmTensor::get_strings)
      .function("dataPtr", &WasmTensor::data_ptr)
      .function("byteLength", &WasmTensor::byte_length)
      .function("download", &WasmTensor::download);
  class_<WasmSession>("WasmSession")
      .function("inputs", &WasmSession::inputs)
      .function("outputs", &WasmSession::outputs)
      .function("timings", &WasmSession::timings)
      .function("placements", &WasmSession::placements)
      .function("setProfiling", &WasmSession::set_profiling)
      .function("takeProfile", &WasmSession::take_profile)
      .function("backend", &WasmSession::backend)
      .function("renderer", &WasmSession::renderer)
      .function("memory", &WasmSession::memory)
      .function("setFeed", &WasmSession::set_feed)
      .function("setKeptOutputs", &WasmSession::set_kept_outputs)
      .function("feedBuffer", &WasmSession::feed_buffer)
      .function("lastError", &WasmSession::last_error)
      .function("clearFeeds", &WasmSession::clear_feeds)
      .function("run", &WasmSession::run)
      .function("runStart", &WasmSession::run_start)
      .function("poll", &WasmSession::poll)
      .function("runFinish", &WasmSession::run_finish)
      .function("heldOutput", &WasmSession::held_output)
      .function("releaseOutputs", &WasmSession::release_outputs);
  function("dtypeNames", &glint::web::dtype_names);
  function("makeTensor", &glint::web::make_tensor);
  function("createSession", &glint::web::create_session);
  function("setNumThreads", &glint::web::set_num_threads);
  function("wakeWorkers", &glint::cpu::wake_workers);
  function("releaseGpu", &glint::web::release_gpu);
  // env.webgl.limits, as GLINT_GL_LIMITS natively: read when the page's GL
  // context is made (engine/gl/device_limits.h).
  function("setGlLimits", &glint::gl::set_device_limits);
}
