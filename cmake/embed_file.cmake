# Writes OUTPUT, a C++ file defining kp::web_demo::SYMBOL() that returns INPUT's bytes.
file(READ ${INPUT} hex HEX)
string(LENGTH "${hex}" hex_length)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
math(EXPR size "${hex_length} / 2")
file(WRITE ${OUTPUT}
  "#include \"web-demo/web_demo_assets.hpp\"\n"
  "namespace kp::web_demo {\n"
  "namespace { constexpr char data[] = {${bytes} '\\0'}; }\n"
  "std::string_view ${SYMBOL}() { return {data, ${size}}; }\n"
  "}\n")
