#pragma once
// KINTO_PUSH_* environment variables that name no option: ignored, but each gets a start-up
// warning naming the known variables closest to it (a misspelling should not pass silently).

#include <map>
#include <string>
#include <vector>

namespace kp::server {

class unknown_variables {
public:
    // One warning per KINTO_PUSH_* name in `env` that is neither an option's variable nor
    // KINTO_PUSH_CONFIG, in name order: "KINTO_PUSH_SHARD is not a kinto-push variable (ignored);
    // did you mean KINTO_PUSH_SHARDS?" (the closest known names, when some are close).
    static std::vector<std::string> warnings(std::map<std::string, std::string> const& env);

    // The names of `known` at the least edit distance from `name`, if that distance is at most
    // a third of `name`'s length (and at least 1); in `known`'s order.
    static std::vector<std::string> closest(std::string const& name, std::vector<std::string> const& known);
};

}  // namespace kp::server
