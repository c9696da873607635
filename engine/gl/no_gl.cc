// The CPU-only engine (GLINT_WITH_GL=OFF; built instead of the rest of
// this folder): no GL executor, so sessions on a
// GPU backend fail at creation with this message and `cpu` works.
#include "engine/gl/executor.h"

namespace glint::gl {

Result<std::unique_ptr<Executor>> create_executor() {
  return unsupported("this glint was built without GL (GLINT_WITH_GL=OFF): use the cpu backend");
}

}  // namespace glint::gl
