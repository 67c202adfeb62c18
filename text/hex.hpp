#pragma once
// Lower-case hexadecimal: digests and MACs (signature headers, idempotency keys), random ids.

#include <optional>
#include <string>
#include <string_view>

namespace kp::text {

// Two lower-case digits per byte.
std::string hex_encode(std::string_view bytes);

// Digits of either case, an even number of them; nullopt otherwise. Runs in time that depends
// only on the length, not on the digits, because it decodes MACs before their comparison.
std::optional<std::string> hex_decode(std::string_view text);

}  // namespace kp::text
