// Fuzz target: the body of POST /v1/events, as server/router::publish and the ingest thread
// take it: the nesting check on the raw text, the parse (parse_json_document), then
// channels::kinto_mapping (validation, split per channel, idempotency key).
// Invariants: parse_json_document refuses what nlohmann's parse() refuses and makes the value
// it makes; that value written back by append_compact_json is dump()'s text; an error
// names a field and can be sent back (its JSON dump does not throw); a mapped event has a
// 64-hex-digit key and parts on valid channels, the firehose last, each part a JSON object
// with the original payload.

#include "channels/channel_name.hpp"
#include "channels/compact_json.hpp"
#include "channels/json_depth.hpp"
#include "channels/json_document.hpp"
#include "channels/kinto_mapping.hpp"
#include "fuzz/fuzz_check.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using kp::channels::channel_name;

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    std::string_view const body(reinterpret_cast<char const*>(data), size);
    if (!kp::channels::json_depth_within(body)) return 0;   // 400 before parsing
    auto const parsed = kp::channels::parse_json_document(body);
    auto const reference = nlohmann::ordered_json::parse(body, nullptr, false);
    FUZZ_CHECK(parsed.has_value() == !reference.is_discarded());   // the same texts refused
    if (!parsed) return 0;                                           // 400 invalid JSON
    auto const& doc = *parsed;
    FUZZ_CHECK(doc == reference);                                    // the same value, in order
    std::string compact;
    kp::channels::append_compact_json(compact, doc);   // how the mapping writes the parts back
    FUZZ_CHECK(compact == doc.dump());

    // A bucket delete also goes to the collections kinto-push knows in that bucket.
    kp::channels::kinto_mapping const mapping([](std::string const& bucket) {
        return std::vector<std::string>{channel_name::collection(bucket, "known")};
    });
    auto const result = mapping.map(doc);
    if (auto const* error = std::get_if<kp::channels::mapping_error>(&result)) {
        FUZZ_CHECK(!error->message.empty());
        FUZZ_CHECK(error->message.find(": ") != std::string::npos);
        (void)nlohmann::json{{"message", error->message}}.dump();   // the 400's body
        return 0;
    }
    auto const& events = std::get<std::vector<kp::store::append_event>>(result);
    FUZZ_CHECK(!events.empty());
    for (auto const& event : events) {
        FUZZ_CHECK(event.dedupe_key.size() == 64);
        FUZZ_CHECK(event.dedupe_key.find_first_not_of("0123456789abcdef") == std::string::npos);
        FUZZ_CHECK(!event.entries.empty());
        FUZZ_CHECK(event.entries.back().channel == channel_name::firehose());
        for (auto const& entry : event.entries) {
            FUZZ_CHECK(channel_name::parse(entry.channel).has_value());
            auto const part = nlohmann::ordered_json::parse(entry.body, nullptr, false);
            FUZZ_CHECK(part.is_object());
            FUZZ_CHECK(part.contains("payload") && part["payload"].is_object());
            FUZZ_CHECK(part.contains("impacted_objects") && part["impacted_objects"].is_array());
        }
    }
    return 0;
}
