// The one place that includes the GLES 3 headers, so that native (Mesa's
// libGLESv2) and web (Emscripten's WebGL2 emulation) builds see the same names.
#pragma once
#include <GLES3/gl3.h>

