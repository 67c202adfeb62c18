# Writes OUTPUT, a C++ file defining `std::string_view kp::web_demo::embedded::SYMBOL()` that
# returns INPUT's bytes (any content: they are written as hex escapes).
# Usage: cmake -DINPUT=file -DOUTPUT=file.cpp -DSYMBOL=name -P embed_file.cmake
foreach(var INPUT OUTPUT SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_file.cmake: ${var} is required")
  endif()
endforeach()
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_length)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
math(EXPR size "${hex_length} / 2")
file(WRITE ${OUTPUT}
  "// Generated from ${INPUT} by cmake/embed_file.cmake: do not edit.\n"
  "#include <string_view>\n"
  "namespace kp::web_demo::embedded {\n"
  "namespace { constexpr char data[] = {${bytes} '\\0'}; }\n"
  "std::string_view ${SYMBOL}() { return {data, ${size}}; }\n"
  "}\n")
