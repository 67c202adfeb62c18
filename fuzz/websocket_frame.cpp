// Fuzz target: a text frame from a WebSocket client, as websocket_session::handle_frame takes
// it (server/client_frame::parse), and the answer the session would queue for it.
// Invariants: every answer serializes (dump() would throw out of a shard's handler
// otherwise); a subscribe names a valid channel of the kind it says, with a since.timestamp
// that is non-negative and only on a collection channel; ids are null, strings or integers.

#include "channels/channel_name.hpp"
#include "fuzz/fuzz_check.hpp"
#include "session/client_frame.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <variant>

namespace cf = kp::session::client_frame;
using json = nlohmann::ordered_json;
using kp::channels::channel_name;

namespace {

void check_id(json const& id) {
    FUZZ_CHECK(id.is_null() || id.is_string() || id.is_number_integer());
}

// What websocket_session::reply sends.
void answer(json frame, json const& id) {
    if (!id.is_null()) frame["id"] = id;
    FUZZ_CHECK(!frame.dump().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const text(reinterpret_cast<char const*>(data), size);
    std::visit(
        [](auto const& request) {
            using kind = std::decay_t<decltype(request)>;
            if constexpr (std::is_same_v<kind, cf::protocol_violation>) {
                FUZZ_CHECK(!request.reason.empty() && request.reason.size() <= 123);   // fits a close frame
            } else if constexpr (std::is_same_v<kind, cf::bad_request>) {
                check_id(request.id);
                answer(json{{"type", "error"}, {"code", request.code}, {"message", request.message}}, request.id);
            } else if constexpr (std::is_same_v<kind, cf::subscribe>) {
                check_id(request.id);
                auto const channel = channel_name::parse(request.channel);
                FUZZ_CHECK(channel && channel->type() == request.kind && channel->str() == request.channel);
                FUZZ_CHECK(!(request.since_timestamp && request.since_position));
                if (request.since_timestamp) {
                    FUZZ_CHECK(*request.since_timestamp >= 0);
                    FUZZ_CHECK(request.kind == channel_name::kind::collection);
                }
                json epoch = request.since_position ? json(request.since_position->epoch) : json("e");
                answer(json{{"type", "subscribed"}, {"channel", request.channel}, {"epoch", epoch},
                            {"offset", 0}, {"recovered", true}},
                       request.id);
            } else if constexpr (std::is_same_v<kind, cf::unsubscribe>) {
                check_id(request.id);
                answer(json{{"type", "unsubscribed"}, {"channel", request.channel}}, request.id);
            } else if constexpr (std::is_same_v<kind, cf::ping>) {
                check_id(request.id);
                answer(json{{"type", "pong"}}, request.id);
            } else {
                check_id(request.id);
                answer(json{{"type", "authenticated"}, {"sub", nullptr}, {"expires", nullptr}}, request.id);
            }
        },
        cf::parse(text));
    return 0;
}
