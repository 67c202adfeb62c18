#pragma once
// The web demo's files, embedded at build time (see web-demo/CMakeLists.txt).

#include <string_view>

namespace kp::web_demo {

std::string_view index_html();

}  // namespace kp::web_demo
