// channels::append_compact_json: the same text as nlohmann's dump(), for every kind of value.

#include "channels/compact_json.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <random>
#include <string>

using kp::channels::append_compact_json;
using json = nlohmann::ordered_json;

namespace {

std::string compact(json const& value) {
    std::string out = "kept|";
    append_compact_json(out, value);
    REQUIRE(out.starts_with("kept|"));
    return out.substr(5);
}

// A random value, up to `depth` levels, from the kinds a parse can make.
json random_value(std::mt19937& random, int depth) {
    static constexpr char const* strings[] = {
        "", "plain", "quote \" and backslash \\", "tab\tnew line\ncarriage\rform\fbell\b", "nul \x01 \x1f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "del \x7f", "slash / <script>"};
    switch (std::uniform_int_distribution<int>(0, depth > 0 ? 9 : 7)(random)) {
    case 0: return nullptr;
    case 1: return random() % 2 == 0;
    case 2: return static_cast<std::int64_t>(random()) - (1ll << 31);
    case 3: return std::numeric_limits<std::int64_t>::min();
    case 4: return std::numeric_limits<std::uint64_t>::max() - random();
    case 5: return std::uniform_real_distribution<double>(-1e300, 1e300)(random);
    case 6: return 0.1 * static_cast<double>(random() % 1000);
    case 7: return strings[random() % std::size(strings)];
    case 8: {
        json array = json::array();
        for (int n = static_cast<int>(random() % 4); n > 0; --n) array.push_back(random_value(random, depth - 1));
        return array;
    }
    default: {
        json object = json::object();
        for (int n = static_cast<int>(random() % 4); n > 0; --n)
            object[strings[random() % std::size(strings)]] = random_value(random, depth - 1);
        return object;
    }
    }
}

}  // namespace

TEST_CASE("append_compact_json writes what dump() writes", "[compact_json]") {
    SECTION("a Kinto event, members in their order") {
        auto const event = json::parse(
            R"({"payload": {"timestamp": 1700000000000, "action": "update", "uri": "/buckets/b/collections/c/records/r",
                "resource_name": "record", "bucket_id": "b", "collection_id": "c", "record_id": "r"},
                "impacted_objects": [{"new": {"id": "r", "last_modified": 1700000000000, "title": "caf\u00e9 \"x\"",
                "price": 12.5, "tags": [], "meta": {}, "ok": true, "none": null, "big": 18446744073709551615,
                "neg": -3, "exp": 1e21}}]})");
        REQUIRE(compact(event) == event.dump());
        REQUIRE(compact(event).starts_with(R"({"payload":{"timestamp":1700000000000,"action":"update",)"));
    }
    SECTION("scalars and empty containers") {
        for (auto const& value : {json(nullptr), json(true), json(false), json(0), json(-1), json(0u), json(1.0),
                                  json(-0.0), json(1e-7), json(""), json::array(), json::object()})
            REQUIRE(compact(value) == value.dump());
    }
    SECTION("random values") {
        std::mt19937 random(20261128);
        for (int i = 0; i < 2000; ++i) {
            auto const value = random_value(random, 4);
            INFO(value.dump());
            REQUIRE(compact(value) == value.dump());
        }
    }
}
