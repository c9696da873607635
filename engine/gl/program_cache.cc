#include "engine/gl/program_cache.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>
#include <sstream>

namespace glint::gl {

namespace {

std::string shader_log(GLuint shader) {
  GLint len = 0;
  glGetShaderiv(shader, GL_INFO_LOG_LENGTH, &len);
  std::string log(static_cast<size_t>(std::max(len, 1)), '\0');
  glGetShaderInfoLog(shader, len, nullptr, log.data());
  log.resize(std::strlen(log.c_str()));
  return log;
}

std::string program_log(GLuint program) {
  GLint len = 0;
  glGetProgramiv(program, GL_INFO_LOG_LENGTH, &len);
  std::string log(static_cast<size_t>(std::max(len, 1)), '\0');
  glGetProgramInfoLog(program, len, nullptr, log.data());
  log.resize(std::strlen(log.c_str()));
  return log;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  std::istringstream is(s);
  std::string line;
  while (std::getline(is, line)) lines.push_back(line);
  return lines;
}

// A compile that has been issued but not yet checked.
struct Pending {
  const ProgramRequest* request;
  Shader fragment;
  Program program;
};

Status check_pending(Pending& p, std::shared_ptr<CompiledProgram>* out) {
  const ProgramRequest& r = *p.request;
  GLint ok = GL_FALSE;
  glGetShaderiv(p.fragment.id(), GL_COMPILE_STATUS, &ok);
  if (!ok) {
    return gl_error("program '" + r.name + "': fragment shader failed to compile:\n" +
                    annotate_compile_log(*r.source, shader_log(p.fragment.id())));
  }
  glGetProgramiv(p.program.id(), GL_LINK_STATUS, &ok);
  if (!ok) {
    return gl_error("program '" + r.name + "': link failed:\n" +
                    annotate_compile_log(*r.source, program_log(p.program.id())));
  }
  // Sampler uniform i reads texture unit i, set once for the program's life.
  glUseProgram(p.program.id());
  for (size_t i = 0; i < r.sampler_names.size(); ++i) {
    GLint loc = glGetUniformLocation(p.program.id(), r.sampler_names[i].c_str());
    if (loc >= 0) glUniform1i(loc, static_cast<GLint>(i));
  }
  glUseProgram(0);
  GLenum err = glGetError();
  if (err != GL_NO_ERROR) {
    return gl_error("program '" + r.name + "': GL error " + std::to_string(err) + " while setting up samplers");
  }
  auto cp = std::make_shared<CompiledProgram>();
  cp->program = std::move(p.program);
  cp->name = r.name;
  *out = std::move(cp);
  return Status::Ok();
}

}  // namespace

std::string annotate_compile_log(const std::string& source, const std::string& log) {
  const std::vector<std::string> lines = split_lines(source);
  std::set<int> error_lines;
  // Find "0:<digits>" at a word start: Mesa "0:12(5): error", ANGLE "ERROR: 0:12:".
  for (size_t p = log.find("0:"); p != std::string::npos; p = log.find("0:", p + 1)) {
    if (p > 0 && std::isalnum(static_cast<unsigned char>(log[p - 1]))) continue;
    size_t q = p + 2;
    int n = 0;
    bool any = false;
    while (q < log.size() && std::isdigit(static_cast<unsigned char>(log[q])) && n < 1000000) {
      n = n * 10 + (log[q] - '0');
      ++q;
      any = true;
    }
    if (any && n >= 1 && n <= static_cast<int>(lines.size())) error_lines.insert(n);
    if (error_lines.size() >= 5) break;
  }
  std::ostringstream os;
  os << log;
  if (!log.empty() && log.back() != '\n') os << "\n";
  std::set<int> shown;
  const int kContext = 3;
  if (error_lines.empty()) {
    os << "source:\n";
    for (int i = 1; i <= static_cast<int>(lines.size()); ++i) shown.insert(i);
  } else {
    os << "source near the error:\n";
    for (int e : error_lines) {
      for (int i = std::max(1, e - kContext); i <= std::min<int>(lines.size(), e + kContext); ++i) shown.insert(i);
    }
  }
  int prev = 0;
  for (int i : shown) {
    if (prev && i != prev + 1) os << "  ...\n";
    os << (error_lines.count(i) ? "> " : "  ") << i << "| " << lines[i - 1] << "\n";
    prev = i;
  }
  return os.str();
}

Status ProgramCache::init(const std::string& vertex_source) {
  if (vertex_source.empty()) return internal_error("shader library lacks quad_vertex.glsl");
  vertex_ = VertexShader::create();
  const char* src = vertex_source.c_str();
  glShaderSource(vertex_.id(), 1, &src, nullptr);
  glCompileShader(vertex_.id());
  GLint ok = GL_FALSE;
  glGetShaderiv(vertex_.id(), GL_COMPILE_STATUS, &ok);
  if (!ok) {
    return gl_error("the full-screen quad vertex shader failed to compile:\n" +
                    annotate_compile_log(vertex_source, shader_log(vertex_.id())));
  }
  return Status::Ok();
}

std::shared_ptr<const CompiledProgram> ProgramCache::find(const std::string& source) {
  auto it = programs_.find(source);
  if (it == programs_.end()) return nullptr;
  it->second->last_use = ++clock_;
  return it->second;
}

Result<std::shared_ptr<const CompiledProgram>> ProgramCache::get(const ProgramRequest& request) {
  if (auto p = find(*request.source)) return p;
  GLINT_RETURN_IF_ERROR(compile_all({request}));
  auto p = find(*request.source);
  if (!p) return internal_error("program '" + request.name + "' compiled but is not in the cache");
  return p;
}

void ProgramCache::free_idle_past_limit() {
  // Idle: only the cache holds it. Usually one program is past the limit
  // (one compiled at a time), so the oldest is found by a scan per program.
  size_t idle = 0;
  for (const auto& entry : programs_) idle += entry.second.use_count() == 1;
  for (; idle > idle_limit_; --idle) {
    auto oldest = programs_.end();
    for (auto it = programs_.begin(); it != programs_.end(); ++it)
      if (it->second.use_count() == 1 && (oldest == programs_.end() || it->second->last_use < oldest->second->last_use))
        oldest = it;
    freed_.push_back(oldest->second->program.id());
    programs_.erase(oldest);
  }
}

Status ProgramCache::compile_all(const std::vector<ProgramRequest>& requests) {
  std::vector<Pending> pending;
  std::set<std::string> seen_sources;
  for (const ProgramRequest& r : requests) {
    if (find(*r.source) || !seen_sources.insert(*r.source).second) continue;
    Pending p{&r, Shader::create(), Program::create()};
    const char* src = r.source->c_str();
    glShaderSource(p.fragment.id(), 1, &src, nullptr);
    glCompileShader(p.fragment.id());
    glAttachShader(p.program.id(), vertex_.id());
    glAttachShader(p.program.id(), p.fragment.id());
    glLinkProgram(p.program.id());
    pending.push_back(std::move(p));
  }
  Status first_error;
  for (Pending& p : pending) {
    std::shared_ptr<CompiledProgram> cp;
    Status s = check_pending(p, &cp);
    if (!s.ok()) {
      if (first_error.ok()) first_error = s;
      continue;
    }
    // The program keeps its code after linking; the shader object can go.
    glDetachShader(cp->program.id(), vertex_.id());
    glDetachShader(cp->program.id(), p.fragment.id());
    cp->last_use = ++clock_;
    programs_.emplace(*p.request->source, std::move(cp));
  }
  if (!pending.empty()) free_idle_past_limit();
  return first_error;
}

}  // namespace glint::gl
