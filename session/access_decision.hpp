#pragma once
// The answer to "may this subscriber hear this channel?" (or "are these credentials good?").

namespace kp::session {

enum class access_decision { allowed, forbidden, unauthorized, unavailable };

}  // namespace kp::session
