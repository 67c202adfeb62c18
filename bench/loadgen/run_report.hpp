#pragma once
// The human-readable form of a run's JSON report (load_run::execute()).

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace kp::loadgen {

class run_report {
public:
    static std::string text(nlohmann::json const& report);
};

}  // namespace kp::loadgen
