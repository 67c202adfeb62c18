#pragma once
// What this binary is: the project version (CMake's project(VERSION)), the git commit it was
// built from ("unknown" outside git) and the build type. Shown by --version and /__version__.

namespace kp::server::build_info {

char const* version();
char const* commit();       // generated at build time (cmake/build_commit.cmake)
char const* build_type();   // Debug, Release, …

}  // namespace kp::server::build_info
