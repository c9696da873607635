# Writes OUT: a C++ file mapping each shaders/NAME.glsl to its text, so the
# binary carries its shader library (no files to find at run time).
file(GLOB files ${SHADER_DIR}/*.glsl)
list(SORT files)
set(body "// Generated from shaders/*.glsl by tools/embed_shaders.cmake. Do not edit.\n#include <map>\n#include <string>\nnamespace glint::gl {\nconst std::map<std::string, std::string>& embedded_shaders() {\n  static const std::map<std::string, std::string> shaders = {\n")
foreach(f ${files})
  get_filename_component(name ${f} NAME_WE)
  file(READ ${f} text)
  string(APPEND body "    {\"${name}\", R\"glint_glsl(${text})glint_glsl\"},\n")
endforeach()
string(APPEND body "  };\n  return shaders;\n}\n}  // namespace glint::gl\n")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
