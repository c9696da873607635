// Switches for measuring what each optimization buys: GLINT_DISABLE, a
// comma-separated list of names, turns the named ones off for the process
// (read once); GLINT_ENABLE turns on those that are off by default. Names:
// packed (channel-packed RGBA layouts: off = one float per texel
// everywhere), fuse (activation fusion), planes (a tile of 4 pixels x 8
// channels per fragment), pool-fit (texture reuse by best fit within the
// session budget), texture-reads (texture() at texel centres: off =
// texelFetch), pass-cache (passes over constants drawn once, programs
// found once per node), packed-matmul (MatMul/Gemm operands four to a
// texel along K), and,
// off by default, half-weights (exact-half conv weights eight to a texel:
// measured 1.15x slower on SwiftShader and 1.18x on llvmpipe, where fetches
// are not bandwidth-bound; kept for GPUs that are). The switches exist to
// measure what each optimization buys, not as user options.
#pragma once

namespace glint {

bool optimization_enabled(const char* name);      // on unless in GLINT_DISABLE
bool optimization_opted_in(const char* name);     // off unless in GLINT_ENABLE

}  // namespace glint
