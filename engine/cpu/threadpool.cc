// Work is handed out in chunks through one atomic counter, so a thread that
// finishes early takes more; workers spin briefly between jobs (a model runs
// hundreds of parallel_for calls back to back) and then sleep on a condition
// variable. The caller busy-waits for the stragglers: the browser's main
// thread may not block, and the tasks are short.
#include "engine/cpu/threadpool.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>

#if !defined(__EMSCRIPTEN__) || defined(__EMSCRIPTEN_PTHREADS__)
#define GLINT_HAVE_THREADS 1
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>
#endif

namespace glint::cpu {

namespace {

// Tells the core this thread is spin-waiting, so a sibling hardware thread
// gets its execution units (no such hint in wasm). Only the pool spins.
#if !GLINT_HAVE_THREADS
#elif defined(__x86_64__) || defined(__i386__)
constexpr bool kCpuRelaxes = true;
inline void cpu_relax() { __builtin_ia32_pause(); }
#elif defined(__aarch64__)
constexpr bool kCpuRelaxes = true;
inline void cpu_relax() { asm volatile("yield"); }
#else
constexpr bool kCpuRelaxes = false;
inline void cpu_relax() {}
#endif

int default_threads() {
#if !GLINT_HAVE_THREADS || defined(__EMSCRIPTEN__)
  return 1;  // the web: JS sets env.wasm.numThreads
#else
  if (const char* s = std::getenv("GLINT_NUM_THREADS")) {
    int n = std::atoi(s);
    if (n > 0) return std::min(n, 64);
  }
  unsigned hw = std::thread::hardware_concurrency();
  return std::max(1, std::min(4, static_cast<int>(hw ? hw : 1)));
#endif
}

std::atomic<int> g_threads{0};  // 0: not yet set

}  // namespace

#if GLINT_HAVE_THREADS
namespace {

thread_local bool t_in_parallel = false;  // nested parallel_for runs inline
thread_local int t_index = 0;             // thread_index()

// The current job is one 64-bit word: generation (16 bits) | index count
// (24) | next unclaimed index (24). A thread claims a chunk with one CAS, so a
// worker that wakes late (or was descheduled) can neither hold up the job nor
// touch the next one: the caller waits for claimed chunks to be done, not for
// every worker to check in, which matters on a busy machine.
class ThreadPool {
 public:
  static constexpr int64_t kMaxCount = (int64_t{1} << 24) - 1;
  // Polls of the job word before a worker sleeps (about a millisecond natively
  // with cpu_relax, a pause of ~30 ns here; a fraction of that in wasm): a
  // model's parallel loops come back to back, with only short serial gaps
  // between nodes, and waking a sleeping worker (futex, Atomics.wait in the
  // browser) costs more than that.
  static constexpr int kSpin = kCpuRelaxes ? 1 << 15 : 1 << 18;
  // A worker whose spins keep running out (one parallel loop per run, as in
  // a GPT decode step, where only the LM head is big enough to split) spins
  // less and less, down to kMinSpin: natively a spinning worker slowed the
  // thread doing the serial work on this 2-vCPU machine (a decode step at 2
  // threads: 2.6-3.5 ms against 2.3-2.8 at 1; with the pause and the
  // back-off, even). In the browser waking a sleeping worker cost more than
  // its spinning (the decode step at 2 threads: 5.67 ms with the back-off,
  // 5.14 without), so there it keeps spinning.
  static constexpr int kMinSpin = kCpuRelaxes ? 1 << 10 : kSpin;

  explicit ThreadPool(int workers) {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this, i] { worker_loop(i + 1); });
  }
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Publishes an empty job (nothing to claim): sleeping workers wake, find
  // no chunk and spin for the next job. Called with no job running.
  void wake() { publish(0); }

  // count <= kMaxCount.
  void run(int64_t count, int64_t grain, detail::TaskFn fn, void* ctx) {
    grain_ = grain;
    fn_ = fn;
    ctx_ = ctx;
    const int64_t chunks = (count + grain - 1) / grain;
    done_.store(0, std::memory_order_relaxed);
    publish(count);
    work();
    while (done_.load(std::memory_order_acquire) != chunks) {
    }
  }

 private:
  // A new generation of the job word with `count` indices, none claimed,
  // and every sleeping worker woken to it.
  void publish(int64_t count) {
    const uint64_t gen = ((state_.load(std::memory_order_relaxed) >> 48) + 1) & 0xffff;
    {
      std::lock_guard<std::mutex> lk(m_);
      state_.store(gen << 48 | static_cast<uint64_t>(count) << 24, std::memory_order_release);
    }
    cv_.notify_all();
  }

  // Claims and runs chunks of the current job until none is left.
  void work() {
    uint64_t s = state_.load(std::memory_order_acquire);
    for (;;) {
      const int64_t count = static_cast<int64_t>(s >> 24 & kMaxCount);
      const int64_t next = static_cast<int64_t>(s & kMaxCount);
      if (next >= count) return;
      // grain_ is written before the state is published; reading it for a
      // state whose chunks are not all claimed is safe for the same reason as fn_.
      const int64_t end = std::min(count, next + grain_);
      const uint64_t claimed = (s & ~static_cast<uint64_t>(kMaxCount)) | static_cast<uint64_t>(end);
      if (!state_.compare_exchange_weak(s, claimed, std::memory_order_acq_rel,
                                        std::memory_order_acquire))
        continue;  // s now holds the fresh state
      // The job's fields stay put while one of its chunks is outstanding.
      fn_(ctx_, next, end);
      done_.fetch_add(1, std::memory_order_release);
      s = state_.load(std::memory_order_acquire);
    }
  }

  void worker_loop(int index) {
    t_in_parallel = true;
    t_index = index;
    uint64_t seen = state_.load(std::memory_order_acquire) >> 48;
    int spin_limit = kSpin;
    for (;;) {
      uint64_t g = state_.load(std::memory_order_acquire) >> 48;
      for (int spin = 0; g == seen && spin < spin_limit; ++spin) {
        cpu_relax();
        g = state_.load(std::memory_order_acquire) >> 48;
      }
      if (g == seen) {
        // Spinning did not pay this time: spin less before the next sleep.
        spin_limit = std::max(kMinSpin, spin_limit / 4);
        std::unique_lock<std::mutex> lk(m_);
        cv_.wait(lk, [&] { return stop_ || (state_.load(std::memory_order_acquire) >> 48) != seen; });
        if (stop_) return;
        g = state_.load(std::memory_order_acquire) >> 48;
      } else {
        spin_limit = std::min(kSpin, spin_limit * 2);
      }
      seen = g;
      work();
    }
  }

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<uint64_t> state_{0};
  std::atomic<int64_t> done_{0};
  int64_t grain_ = 1;
  detail::TaskFn fn_ = nullptr;
  void* ctx_ = nullptr;
};

std::mutex g_pool_mutex;   // one parallel_for at a time uses the pool
ThreadPool* g_pool = nullptr;  // leaked at exit on purpose: workers never outlive it

}  // namespace
#endif

void set_num_threads(int n) { g_threads.store(n > 0 ? std::min(n, 64) : default_threads()); }

int num_threads() {
  int n = g_threads.load();
  if (n == 0) {
    n = default_threads();
    g_threads.store(n);
  }
#if !GLINT_HAVE_THREADS
  n = 1;
#endif
  return n;
}

bool threads_available() {
#if GLINT_HAVE_THREADS
  return true;
#else
  return false;
#endif
}

int thread_index() {
#if GLINT_HAVE_THREADS
  return t_index;
#else
  return 0;
#endif
}

void wake_workers() {
#if GLINT_HAVE_THREADS
  if (t_in_parallel || num_threads() < 2) return;
  std::unique_lock<std::mutex> lk(g_pool_mutex, std::try_to_lock);
  if (lk.owns_lock() && g_pool && g_pool->size() == num_threads()) g_pool->wake();
#endif
}

namespace detail {

void parallel_for_impl(int64_t count, int64_t grain, TaskFn fn, void* ctx) {
#if GLINT_HAVE_THREADS
  const int n = num_threads();
  if (n > 1 && count > grain && count <= ThreadPool::kMaxCount && !t_in_parallel) {
    std::unique_lock<std::mutex> lk(g_pool_mutex, std::try_to_lock);
    if (lk.owns_lock()) {
      if (!g_pool || g_pool->size() != n) {
        delete g_pool;
        g_pool = new ThreadPool(n - 1);
      }
      t_in_parallel = true;
      g_pool->run(count, grain, fn, ctx);
      t_in_parallel = false;
      return;
    }
  }
  const bool outer = t_in_parallel;
  t_in_parallel = true;
  fn(ctx, 0, count);
  t_in_parallel = outer;
#else
  fn(ctx, 0, count);
#endif
}

}  // namespace detail

}  // namespace glint::cpu
