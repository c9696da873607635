#include "engine/gl/context.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "engine/gl/device_limits.h"
#include "engine/gl/objects.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/html5.h>
#else
#include <EGL/egl.h>
#include <EGL/eglext.h>
#endif

namespace glint::gl {

namespace {

bool has_extension(const char* list, const char* name) {
  if (!list) return false;
  size_t n = std::strlen(name);
  for (const char* p = list; (p = std::strstr(p, name)) != nullptr; p += n) {
    bool start_ok = p == list || p[-1] == ' ';
    bool end_ok = p[n] == '\0' || p[n] == ' ';
    if (start_ok && end_ok) return true;
  }
  return false;
}

std::string gl_string(GLenum name) {
  const GLubyte* s = glGetString(name);
  return s ? reinterpret_cast<const char*>(s) : "";
}

// Drops the GL errors a probe left behind (queries a context may refuse).
void clear_gl_errors() {
  for (int i = 0; i < 8 && glGetError() != GL_NO_ERROR; ++i) {
  }
}

// A renderer that runs the shaders on the CPU.
bool cpu_rasterizer(const std::string& renderer) {
  for (const char* software : {"llvmpipe", "softpipe", "lavapipe", "SwiftShader"})
    if (renderer.find(software) != std::string::npos) return true;
  return false;
}

// Whether shaders should read their inputs with texelFetch. texture() at texel
// centres is for the CPU rasterizers: SwiftShader's texelFetch pays a bounds
// check per lane (MobileNetV2 1.17x, SqueezeNet 1.25x with texture()), and
// llvmpipe gains as much. A GPU reads texelFetch as fast or faster (NVIDIA
// H200 over EGL, 3 interleaved rounds: BERT 16.6 -> 14.9 ms, MobileNetV2
// 4.49 -> 4.13, SqueezeNet and the GPT step even). In a browser the renderer
// is masked and ANGLE's translation is unmeasured, so WebGL keeps texture().
bool texel_fetch_reads(const std::string& renderer) {
#ifdef __EMSCRIPTEN__
  (void)renderer;
  return false;
#else
  return !cpu_rasterizer(renderer);
#endif
}

#ifndef __EMSCRIPTEN__
std::string egl_error_name(EGLint e) {
  switch (e) {
    case EGL_SUCCESS: return "EGL_SUCCESS";
    case EGL_NOT_INITIALIZED: return "EGL_NOT_INITIALIZED";
    case EGL_BAD_ACCESS: return "EGL_BAD_ACCESS";
    case EGL_BAD_ALLOC: return "EGL_BAD_ALLOC";
    case EGL_BAD_ATTRIBUTE: return "EGL_BAD_ATTRIBUTE";
    case EGL_BAD_CONFIG: return "EGL_BAD_CONFIG";
    case EGL_BAD_CONTEXT: return "EGL_BAD_CONTEXT";
    case EGL_BAD_DISPLAY: return "EGL_BAD_DISPLAY";
    case EGL_BAD_MATCH: return "EGL_BAD_MATCH";
    case EGL_BAD_PARAMETER: return "EGL_BAD_PARAMETER";
    default: return "EGL error 0x" + [&] {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%x", static_cast<unsigned>(e));
      return std::string(buf);
    }();
  }
}

// EGL displays are not reference counted (eglTerminate on one would pull the
// rug from every other context on it), so glint initializes one display per
// process and keeps it for the process's life: contexts come and go, the
// display (and Mesa's driver, which eglTerminate would dlclose, hiding its
// allocations from leak checkers) stays. Re-creating a session then costs a
// context, not a driver load.
struct SharedDisplay {
  std::mutex mu;
  EGLDisplay display = EGL_NO_DISPLAY;
  int users = 0;
};
SharedDisplay& shared_display() {
  static SharedDisplay* d = new SharedDisplay();  // never destroyed: outlives static dtors
  return *d;
}

// Where a display comes from. Mesa offers a surfaceless platform (no GPU
// device to name, llvmpipe or the machine's driver behind it); NVIDIA's and
// other vendors' EGL offer headless rendering through the device platform
// (EGL_EXT_platform_device) instead. GLINT_EGL_PLATFORM=surfaceless|device
// picks one; unset, the surfaceless platform is tried first, then the devices.
Result<EGLDisplay> initialize(EGLDisplay dpy, const std::string& what) {
  if (dpy == EGL_NO_DISPLAY) {
    return gl_error("EGL: " + what + " gave no display (" + egl_error_name(eglGetError()) + ")");
  }
  EGLint major = 0, minor = 0;
  if (!eglInitialize(dpy, &major, &minor)) {
    return gl_error("EGL: eglInitialize on " + what + " failed (" + egl_error_name(eglGetError()) + ")");
  }
  return dpy;
}

PFNEGLGETPLATFORMDISPLAYEXTPROC platform_display_entry() {
  return reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
}

Result<EGLDisplay> surfaceless_display(const char* client_exts) {
  if (!has_extension(client_exts, "EGL_MESA_platform_surfaceless")) {
    return gl_error("EGL: no surfaceless platform (EGL_MESA_platform_surfaceless is not a client extension)");
  }
  auto get_platform_display = platform_display_entry();
  if (!get_platform_display) return gl_error("EGL: eglGetPlatformDisplayEXT is not available");
  return initialize(get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr),
                    "the surfaceless platform");
}

// The first device that initializes, a hardware one before a software
// rasterizer (Mesa lists llvmpipe as a device too).
Result<EGLDisplay> device_display(const char* client_exts) {
  // EGL_EXT_device_base is enumeration and query in one extension.
  if (!has_extension(client_exts, "EGL_EXT_platform_device") ||
      !(has_extension(client_exts, "EGL_EXT_device_enumeration") ||
        has_extension(client_exts, "EGL_EXT_device_base"))) {
    return gl_error("EGL: no device platform (EGL_EXT_platform_device and EGL_EXT_device_enumeration are not both "
                    "client extensions)");
  }
  auto get_platform_display = platform_display_entry();
  auto query_devices = reinterpret_cast<PFNEGLQUERYDEVICESEXTPROC>(eglGetProcAddress("eglQueryDevicesEXT"));
  auto query_device_string =
      reinterpret_cast<PFNEGLQUERYDEVICESTRINGEXTPROC>(eglGetProcAddress("eglQueryDeviceStringEXT"));
  if (!get_platform_display || !query_devices || !query_device_string) {
    return gl_error("EGL: the device platform's entry points are not available");
  }
  constexpr EGLint kMaxDevices = 16;
  EGLDeviceEXT devices[kMaxDevices];
  EGLint count = 0;
  if (!query_devices(kMaxDevices, devices, &count) || count <= 0) {
    return gl_error("EGL: eglQueryDevicesEXT found no device (" + egl_error_name(eglGetError()) + ")");
  }
  std::stable_partition(devices, devices + count, [&](EGLDeviceEXT d) {
    return !has_extension(query_device_string(d, EGL_EXTENSIONS), "EGL_MESA_device_software");
  });
  std::string failures;
  for (EGLint i = 0; i < count; ++i) {
    auto dpy = initialize(get_platform_display(EGL_PLATFORM_DEVICE_EXT, devices[i], nullptr),
                          "EGL device " + std::to_string(i));
    if (dpy.ok()) return dpy;
    failures += (failures.empty() ? "" : "; ") + dpy.status().message();
  }
  return gl_error("EGL: none of " + std::to_string(count) + " devices gave a display: " + failures);
}

// The display GLINT_EGL_PLATFORM asks for, else the first of surfaceless and
// device that works; a failure names the client extensions seen.
Result<EGLDisplay> open_display() {
  const char* client_exts = eglQueryString(EGL_NO_DISPLAY, EGL_EXTENSIONS);
  const char* choice = std::getenv("GLINT_EGL_PLATFORM");
  const std::string wanted = choice ? choice : "";
  if (!wanted.empty() && wanted != "surfaceless" && wanted != "device") {
    return gl_error("GLINT_EGL_PLATFORM is '" + wanted + "'; expected 'surfaceless' or 'device'");
  }
  std::string failures;
  for (const auto& [name, open] : {std::pair{"surfaceless", &surfaceless_display}, std::pair{"device", &device_display}}) {
    if (!wanted.empty() && wanted != name) continue;
    auto dpy = open(client_exts);
    if (dpy.ok()) return dpy;
    failures += (failures.empty() ? "" : "; ") + dpy.status().message();
  }
  return gl_error("EGL: no headless display: " + failures + " (client extensions: '" +
                  (client_exts ? client_exts : "<none>") + "')");
}

Result<EGLDisplay> acquire_display() {
  SharedDisplay& sd = shared_display();
  std::lock_guard<std::mutex> lock(sd.mu);
  if (sd.display != EGL_NO_DISPLAY) {
    ++sd.users;
    return sd.display;
  }
  GLINT_ASSIGN_OR_RETURN(EGLDisplay dpy, open_display());
  sd.display = dpy;
  sd.users = 1;
  return dpy;
}

void release_display() {
  SharedDisplay& sd = shared_display();
  std::lock_guard<std::mutex> lock(sd.mu);
  if (sd.users > 0) --sd.users;  // the display itself stays initialized (see above)
}
#endif  // !__EMSCRIPTEN__

}  // namespace

Result<std::unique_ptr<GlContext>> GlContext::create() {
  std::unique_ptr<GlContext> ctx(new GlContext());
  GLINT_RETURN_IF_ERROR(ctx->init_platform());
  GLINT_RETURN_IF_ERROR(ctx->probe());
  return ctx;
}

#ifndef __EMSCRIPTEN__

Status GlContext::init_platform() {
  GLINT_ASSIGN_OR_RETURN(EGLDisplay dpy, acquire_display());
  display_ = dpy;
  if (!eglBindAPI(EGL_OPENGL_ES_API)) {
    return gl_error("EGL: eglBindAPI(EGL_OPENGL_ES_API) failed (" + egl_error_name(eglGetError()) + ")");
  }
  const char* dpy_exts = eglQueryString(dpy, EGL_EXTENSIONS);
  if (!has_extension(dpy_exts, "EGL_KHR_surfaceless_context")) {
    return gl_error("EGL: the display lacks EGL_KHR_surfaceless_context (needed to draw into "
                    "framebuffer objects without a window)");
  }
  // Any ES3-capable config: we never draw to a window surface, only to FBOs.
  // EGL_SURFACE_TYPE defaults to windows, which a device display (NVIDIA's)
  // has none of, so surfaces are left out of the match.
  const EGLint config_attrs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE, EGL_DONT_CARE,
                                 EGL_NONE};
  EGLConfig config = nullptr;
  EGLint num_configs = 0;
  EGLConfig chosen = EGL_NO_CONFIG_KHR;
  if (eglChooseConfig(dpy, config_attrs, &config, 1, &num_configs) && num_configs > 0) {
    chosen = config;
  } else if (!has_extension(dpy_exts, "EGL_KHR_no_config_context")) {
    return gl_error("EGL: no config with EGL_OPENGL_ES3_BIT and no EGL_KHR_no_config_context");
  }
  const EGLint context_attrs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0, EGL_NONE};
  EGLContext ctx = eglCreateContext(dpy, chosen, EGL_NO_CONTEXT, context_attrs);
  if (ctx == EGL_NO_CONTEXT) {
    return gl_error("EGL: eglCreateContext for OpenGL ES 3.0 failed (" +
                    egl_error_name(eglGetError()) + ")");
  }
  context_ = ctx;
  if (!eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, ctx)) {
    return gl_error("EGL: eglMakeCurrent without a surface failed (" + egl_error_name(eglGetError()) + ")");
  }
  return Status::Ok();
}

Status GlContext::make_current() {
  if (eglGetCurrentContext() == static_cast<EGLContext>(context_)) return Status::Ok();
  if (!eglMakeCurrent(static_cast<EGLDisplay>(display_), EGL_NO_SURFACE, EGL_NO_SURFACE,
                      static_cast<EGLContext>(context_))) {
    return gl_error("EGL: eglMakeCurrent failed (" + egl_error_name(eglGetError()) + ")");
  }
  return Status::Ok();
}

GlContext::~GlContext() {
  if (!display_) return;
  EGLDisplay dpy = static_cast<EGLDisplay>(display_);
  if (context_) {
    if (eglGetCurrentContext() == static_cast<EGLContext>(context_)) {
      eglMakeCurrent(dpy, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    }
    eglDestroyContext(dpy, static_cast<EGLContext>(context_));
  }
  release_display();
}

#else  // __EMSCRIPTEN__

// ---------------------------------------------------------------------------
// WEB: WebGL2 context creation. Not exercised by the native tests; the browser
// issue owns testing it. The canvas is an offscreen-style element selected by
// "#glint-canvas" (the JS glue creates it); nothing is ever presented.
// ---------------------------------------------------------------------------
Status GlContext::init_platform() {
  EmscriptenWebGLContextAttributes attrs;
  emscripten_webgl_init_context_attributes(&attrs);
  attrs.majorVersion = 2;
  attrs.minorVersion = 0;
  attrs.alpha = false;
  attrs.depth = false;
  attrs.stencil = false;
  attrs.antialias = false;
  attrs.premultipliedAlpha = false;
  attrs.preserveDrawingBuffer = false;
  attrs.powerPreference = EM_WEBGL_POWER_PREFERENCE_HIGH_PERFORMANCE;
  EMSCRIPTEN_WEBGL_CONTEXT_HANDLE handle = emscripten_webgl_create_context("#glint-canvas", &attrs);
  if (handle <= 0) {
    return gl_error("WebGL2: emscripten_webgl_create_context('#glint-canvas', WebGL 2.0) failed (" +
                    std::to_string(static_cast<long>(handle)) + ")");
  }
  web_context_ = static_cast<long>(handle);
  if (emscripten_webgl_make_context_current(handle) != EMSCRIPTEN_RESULT_SUCCESS) {
    return gl_error("WebGL2: emscripten_webgl_make_context_current failed");
  }
  // WebGL exposes extensions only once enabled.
  emscripten_webgl_enable_extension(handle, "EXT_color_buffer_float");
  emscripten_webgl_enable_extension(handle, "EXT_color_buffer_half_float");
  emscripten_webgl_enable_extension(handle, "WEBGL_debug_renderer_info");
  emscripten_webgl_enable_extension(handle, "KHR_parallel_shader_compile");
  return Status::Ok();
}

Status GlContext::make_current() {
  auto handle = static_cast<EMSCRIPTEN_WEBGL_CONTEXT_HANDLE>(web_context_);
  if (emscripten_webgl_get_current_context() == handle) return Status::Ok();
  if (emscripten_webgl_make_context_current(handle) != EMSCRIPTEN_RESULT_SUCCESS) {
    return gl_error("WebGL2: emscripten_webgl_make_context_current failed");
  }
  return Status::Ok();
}

GlContext::~GlContext() {
  if (web_context_ > 0) {
    emscripten_webgl_destroy_context(static_cast<EMSCRIPTEN_WEBGL_CONTEXT_HANDLE>(web_context_));
  }
}

#endif  // __EMSCRIPTEN__

Status GlContext::probe() {
  caps_.renderer = gl_string(GL_RENDERER);
  caps_.version = gl_string(GL_VERSION);
  caps_.texel_fetch_reads = texel_fetch_reads(caps_.renderer);
  // GLSL's a / b is the correctly rounded quotient on the CPU rasterizers
  // (the CPU's division), so the shaders take it as it is there. A GPU's may
  // be a reciprocal and a product (NVIDIA's is; GLSL ES allows 2.5 ulp), so
  // anywhere else, and where the renderer is unknown, they divide exactly
  // (shaders/divide.glsl). A browser masks GL_RENDERER: there the renderer is
  // the one WEBGL_debug_renderer_info unmasks, "" where the browser keeps it
  // to itself (the failed query leaves an error, cleared here).
#ifdef __EMSCRIPTEN__
  constexpr GLenum kUnmaskedRenderer = 0x9246;  // WEBGL_debug_renderer_info's UNMASKED_RENDERER_WEBGL
  caps_.division_rounded = cpu_rasterizer(gl_string(kUnmaskedRenderer));
  clear_gl_errors();
#else
  caps_.division_rounded = cpu_rasterizer(caps_.renderer);
#endif
  GLint max_size = 0;
  glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_size);
  // Every texture is also a render target, so the viewport bounds it too.
  GLint viewport[2] = {0, 0};
  glGetIntegerv(GL_MAX_VIEWPORT_DIMS, viewport);
  if (viewport[0] > 0) max_size = std::min(max_size, viewport[0]);
  if (viewport[1] > 0) max_size = std::min(max_size, viewport[1]);
  caps_.max_texture_size = max_size;
  GLint draw_buffers = 0, color_attachments = 0;
  glGetIntegerv(GL_MAX_DRAW_BUFFERS, &draw_buffers);
  glGetIntegerv(GL_MAX_COLOR_ATTACHMENTS, &color_attachments);
  caps_.max_draw_buffers = std::min(draw_buffers, color_attachments);
  GLint units = 0;
  glGetIntegerv(GL_MAX_TEXTURE_IMAGE_UNITS, &units);
  caps_.max_texture_units = units > 0 ? units : 16;

  std::string exts;
  GLint num_exts = 0;
  glGetIntegerv(GL_NUM_EXTENSIONS, &num_exts);
  for (GLint i = 0; i < num_exts; ++i) {
    const GLubyte* e = glGetStringi(GL_EXTENSIONS, static_cast<GLuint>(i));
    if (e) exts += std::string(reinterpret_cast<const char*>(e)) + " ";
  }
  bool ext_float = has_extension(exts.c_str(), "GL_EXT_color_buffer_float") ||
                   has_extension(exts.c_str(), "EXT_color_buffer_float");
  bool ext_half = has_extension(exts.c_str(), "GL_EXT_color_buffer_half_float") ||
                  has_extension(exts.c_str(), "EXT_color_buffer_half_float");
  caps_.parallel_compile = has_extension(exts.c_str(), "GL_KHR_parallel_shader_compile") ||
                           has_extension(exts.c_str(), "KHR_parallel_shader_compile");

  // Ground truth beats extension strings (GLES 3.2 made float color buffers
  // core without always listing the extension): attach a 1x1 R32F texture to
  // a framebuffer and ask whether it is complete.
  auto renderable = [](GLenum internal_format) {
    Texture tex = Texture::create();
    glBindTexture(GL_TEXTURE_2D, tex.id());
    glTexStorage2D(GL_TEXTURE_2D, 1, internal_format, 1, 1);
    Framebuffer fbo = Framebuffer::create();
    glBindFramebuffer(GL_FRAMEBUFFER, fbo.id());
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex.id(), 0);
    bool ok = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
    GLenum read_format = GL_RGBA;
    if (ok) {
      GLint fmt = 0, type = 0;
      glGetIntegerv(GL_IMPLEMENTATION_COLOR_READ_FORMAT, &fmt);
      glGetIntegerv(GL_IMPLEMENTATION_COLOR_READ_TYPE, &type);
      if (fmt == GL_RED && type == GL_FLOAT) read_format = GL_RED;
    }
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
    glBindTexture(GL_TEXTURE_2D, 0);
    return std::make_pair(ok, read_format);
  };
  auto [r32f_ok, read_format] = renderable(GL_R32F);
  auto [r16f_ok, unused] = renderable(GL_R16F);
  // GLES 3.0 and WebGL2 make R32UI color-renderable everywhere: the float
  // bits storage needs nothing else (texture_layout.h, TextureLayout::bits).
  auto [r32ui_ok, unused_ui] = renderable(GL_R32UI);
  (void)unused;
  (void)unused_ui;
  // Every program computes in highp; a fragment stage without 32-bit floats
  // (some old mobile GPUs) would give wrong answers, not errors.
  // (GLES 3.0 requires highp there, but WebGL reports what the GPU has.)
  GLint range[2] = {0, 0}, float_bits = 0;
  glGetShaderPrecisionFormat(GL_FRAGMENT_SHADER, GL_HIGH_FLOAT, range, &float_bits);
  caps_.fragment_highp = float_bits >= 23;
  caps_.float_render = r32f_ok;
  caps_.half_float_render = r16f_ok || ext_half || ext_float;
  r32f_read_format_ = read_format;
  clear_gl_errors();

  // Limits imposed to behave as a smaller device (device_limits.h).
  const std::string spec = device_limits_spec();
  if (!spec.empty()) {
    GLINT_ASSIGN_OR_RETURN(DeviceLimits limits, parse_device_limits(spec));
    caps_ = apply_device_limits(caps_, limits);
    caps_.imposed_limits = spec;
  }
  const std::string imposed = caps_.imposed_limits.empty() ? "" : "; limits imposed: " + caps_.imposed_limits;
  if (!caps_.fragment_highp) {
    const std::string probed = float_bits >= 23 ? "fragment_highp=0 imposed"
                                                 : std::to_string(float_bits) + " bits of precision";
    return unsupported("GL: fragment shaders on '" + caps_.renderer + "' have no highp float (" + probed + ")" +
                       imposed + "; glint's shaders need 32-bit floats");
  }
  if (!caps_.float_render && !r32ui_ok) {
    return unsupported("GL: neither an R32F nor an R32UI texture is color-renderable on '" + caps_.renderer + "' (" +
                       caps_.version + "); EXT_color_buffer_float is " + (ext_float ? "listed" : "not listed") +
                       imposed);
  }
  return Status::Ok();
}

}  // namespace glint::gl
