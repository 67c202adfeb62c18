#pragma once
// Credentials that were not accepted: the decision (unauthorized, or unavailable when Kinto did
// not answer) and a short reason for the client and the log (never the token itself).

#include "session/access_decision.hpp"

#include <string>
#include <utility>

namespace kp::session {

struct credential_refusal {
    // Implicit: a bare decision is a refusal with nothing more to say.
    credential_refusal(access_decision d, std::string why = {}) : decision(d), reason(std::move(why)) {}

    access_decision decision;
    std::string reason;   // e.g. "token expired"; empty when there is nothing more to say

    // "invalid credentials", followed by ": <reason>" when there is one (fits a close reason).
    std::string message() const { return reason.empty() ? "invalid credentials" : "invalid credentials: " + reason; }
};

}  // namespace kp::session
