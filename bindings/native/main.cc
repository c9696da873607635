// `glint`: the native command-line runner (see DESIGN.md, "The native runner").
#include <cstdio>
#include <cstring>
#include <string>

#include "bindings/native/cli.h"

namespace {
const char* kUsage =
    "usage: glint COMMAND ...\n"
    "  run MODEL.onnx [--input NAME=FILE.pb|.npy ...] [--backend gpu|cpu|default] [--json]\n"
    "                 [--expect NAME=FILE.pb ...] [--rtol R] [--atol A]\n"
    "  classify MODEL.onnx IMAGE [--labels FILE] [--top K] [--backend ...] [--json]\n"
    "  info MODEL.onnx [--backend ...]\n"
    "  node-tests DIR... [--backend gpu|cpu|default] [--known-failures FILE] [--rtol R] [--atol A]\n"
    "                    [--filter TEXT] [--list-failures FILE] [--timeout S]   (a line per test; S per test, default 120)\n"
    "  bench MODEL.onnx [--input NAME=FILE.pb|.npy ...] [--runs N] [--warmup N] [--backend ...] [--json]\n"
    "                   [--profile TRACE.json]\n"
    "                   (create, first, median, p90, GPU memory; per-node times as a Chrome trace)\n"
    "  zoo DIR... [--backend default,cpu,gpu] [--runs N] [--timeout S] [--filter TEXT] [--fast] [--json FILE]\n"
    "             (model zoo: reference check, create / first / median times, runs at new sizes, GPU share of the work)\n"
    "backend: default = GPU with per-node CPU fallback; gpu = GPU only; cpu = CPU only.\n"
    "every command: --memory-cap BYTES (K/M/G): what the session's tensors may hold together (default: half the memory)\n";
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  if (cmd == "run") return glint::cli::cmd_run(argc, argv);
  if (cmd == "info") return glint::cli::cmd_info(argc, argv);
  if (cmd == "node-tests") return glint::cli::cmd_node_tests(argc, argv);
  if (cmd == "bench") return glint::cli::cmd_bench(argc, argv);
  if (cmd == "classify") return glint::cli::cmd_classify(argc, argv);
  if (cmd == "zoo") return glint::cli::cmd_zoo(argc, argv);
  std::fprintf(stderr, "glint: unknown command '%s'\n%s", cmd.c_str(), kUsage);
  return 2;
}
