// websocket/extension_offers and websocket/deflate_negotiation: the Sec-WebSocket-Extensions
// grammar, and which permessage-deflate offers the server accepts (RFC 7692 section 7).

#include "websocket/deflate_negotiation.hpp"
#include "websocket/extension_offers.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using kp::websocket::deflate_negotiation;
using kp::websocket::extension_offer;
using kp::websocket::extension_param;
using kp::websocket::parse_extension_offers;

namespace {

constexpr char const* plain_answer = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

}  // namespace

TEST_CASE("extension offers: tokens, parameters, values, quoted values, spaces", "[websocket][deflate]") {
    CHECK(parse_extension_offers("").empty());
    CHECK(parse_extension_offers(" , ,, ").empty());
    CHECK(parse_extension_offers("permessage-deflate") == std::vector{extension_offer{"permessage-deflate", {}}});
    CHECK(parse_extension_offers("permessage-deflate; client_max_window_bits") ==
          std::vector{extension_offer{"permessage-deflate", {{"client_max_window_bits", std::nullopt}}}});
    CHECK(parse_extension_offers("permessage-deflate;client_max_window_bits=10;server_no_context_takeover") ==
          std::vector{extension_offer{"permessage-deflate",
                                      {{"client_max_window_bits", "10"}, {"server_no_context_takeover", std::nullopt}}}});
    CHECK(parse_extension_offers("permessage-deflate ;\tclient_max_window_bits = \"1\\0\" ") ==
          std::vector{extension_offer{"permessage-deflate", {{"client_max_window_bits", "10"}}}});
    // Several offers, as browsers send them, and empty elements between them.
    auto const offers = parse_extension_offers(
        "permessage-deflate; client_max_window_bits=15, , x-webkit-deflate-frame,permessage-deflate");
    REQUIRE(offers.size() == 3);
    CHECK(offers[0].params == std::vector{extension_param{"client_max_window_bits", "15"}});
    CHECK(offers[1] == extension_offer{"x-webkit-deflate-frame", {}});
    CHECK(offers[2] == extension_offer{"permessage-deflate", {}});
}

TEST_CASE("extension offers: a malformed offer is dropped alone", "[websocket][deflate]") {
    // A quoted value that is not a token once unescaped, an unclosed quote, a missing name, a
    // stray character, a comma inside quotes: the other offers survive.
    struct one_case {
        char const* header;
        std::size_t offers;
    };
    for (auto const& c : {one_case{R"(permessage-deflate; a="x y", b)", 1},
                          one_case{R"(permessage-deflate; a="x,y" stray, b)", 1},
                          one_case{"permessage-deflate; =1, b", 1},
                          one_case{"permessage-deflate; ; a, b", 1},
                          one_case{"permessage-deflate; a=, b", 1},
                          one_case{"@deflate, b", 1},
                          one_case{"permessage-deflate x, b", 1},
                          one_case{R"(permessage-deflate; a="unclosed, b)", 0},
                          one_case{R"(permessage-deflate; a="", b)", 1}}) {
        INFO(c.header);
        auto const offers = parse_extension_offers(c.header);
        REQUIRE(offers.size() == c.offers);
        if (c.offers == 1) CHECK(offers[0] == extension_offer{"b", {}});
    }
}

TEST_CASE("permessage-deflate: offers the server accepts", "[websocket][deflate]") {
    for (auto const* header : {"permessage-deflate",
                               "permessage-deflate; client_max_window_bits",                         // browsers
                               "permessage-deflate; client_max_window_bits=8",
                               "permessage-deflate; client_max_window_bits=\"12\"",
                               "permessage-deflate; server_no_context_takeover",
                               "permessage-deflate; client_no_context_takeover",
                               "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                               "client_max_window_bits=15",
                               "PerMessage-Deflate; Client_Max_Window_Bits",
                               "x-webkit-deflate-frame, permessage-deflate",
                               "permessage-deflate; frobnicate, permessage-deflate"}) {
        INFO(header);
        CHECK(deflate_negotiation::answer(header) == std::optional<std::string>(plain_answer));
    }
    // server_max_window_bits=15 is echoed (RFC 7692 section 7.1.2.1).
    for (auto const* header : {"permessage-deflate; server_max_window_bits=15",
                               "permessage-deflate; server_max_window_bits=\"15\"; client_max_window_bits"}) {
        INFO(header);
        CHECK(deflate_negotiation::answer(header) ==
              std::optional<std::string>(std::string(plain_answer) + "; server_max_window_bits=15"));
    }
}

TEST_CASE("permessage-deflate: offers the server declines (the connection stays plain)", "[websocket][deflate]") {
    struct one_case {
        char const* header;
        char const* why;
    };
    for (auto const& c : {
             one_case{"", ""},
             one_case{"x-webkit-deflate-frame", "not permessage-deflate"},
             one_case{"permessage-deflate; frobnicate", "unknown parameter"},
             one_case{"permessage-deflate; frobnicate=1", "unknown parameter"},
             one_case{"permessage-deflate; server_no_context_takeover; server_no_context_takeover", "duplicate"},
             one_case{"permessage-deflate; client_no_context_takeover; client_no_context_takeover", "duplicate"},
             one_case{"permessage-deflate; client_max_window_bits; client_max_window_bits=10", "duplicate"},
             one_case{"permessage-deflate; server_max_window_bits=15; server_max_window_bits=15", "duplicate"},
             one_case{"permessage-deflate; server_max_window_bits=10", "below 15"},
             one_case{"permessage-deflate; server_max_window_bits=8", "below 15"},
             one_case{"permessage-deflate; server_max_window_bits", "needs a value"},
             one_case{"permessage-deflate; server_max_window_bits=16", "8 to 15"},
             one_case{"permessage-deflate; server_max_window_bits=015", "8 to 15"},
             one_case{"permessage-deflate; client_max_window_bits=7", "8 to 15"},
             one_case{"permessage-deflate; client_max_window_bits=16", "8 to 15"},
             one_case{"permessage-deflate; client_max_window_bits=09", "8 to 15"},
             one_case{"permessage-deflate; client_max_window_bits=abc", "8 to 15"},
             one_case{"permessage-deflate; server_no_context_takeover=1", "takes no value"},
             one_case{"permessage-deflate; client_no_context_takeover=\"x\"", "takes no value"},
             one_case{"permessage-deflate; client_max_window_bits=\"1 5\"", ""},   // malformed: not a token
         }) {
        INFO(c.header);
        CHECK_FALSE(deflate_negotiation::answer(c.header));
        auto const offers = parse_extension_offers(c.header);
        if (*c.why) {
            REQUIRE(offers.size() == 1);
            CHECK_THAT(deflate_negotiation::refusal(offers[0]), Catch::Contains(c.why));
        }
    }
}
