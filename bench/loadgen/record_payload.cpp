#include "bench/loadgen/record_payload.hpp"

#include <array>
#include <cstdio>
#include <string_view>

namespace kp::loadgen {

namespace {

constexpr std::array<std::string_view, 96> words{
    "the",      "report",   "team",     "review",   "quarter",  "budget",   "meeting",  "customer", "order",
    "delivery", "update",   "status",   "project",  "draft",    "final",    "notes",    "for",      "with",
    "and",      "from",     "about",    "new",      "open",     "closed",   "pending",  "shipping", "invoice",
    "account",  "sync",     "mobile",   "browser",  "settings", "profile",  "photo",    "album",    "travel",
    "plan",     "weekend",  "morning",  "evening",  "kitchen",  "garden",   "book",     "chapter",  "reading",
    "list",     "grocery",  "market",   "price",    "quantity", "item",     "product",  "warehouse", "stock",
    "release",  "version",  "feature",  "bug",      "fix",      "test",     "server",   "client",   "network",
    "storage",  "backup",   "restore",  "user",     "group",    "permission", "share",  "comment",  "reply",
    "message",  "thread",   "channel",  "event",    "calendar", "reminder", "deadline", "task",     "done",
    "priority", "high",     "low",      "medium",   "city",     "street",   "office",   "school",   "library",
    "music",    "playlist", "video",    "recipe",   "dinner",   "lunch"};

class text_source {
public:
    explicit text_source(std::uint64_t seed) : state_(seed * 6364136223846793005ULL + 1442695040888963407ULL) {}
    std::uint32_t next(std::uint32_t bound) {
        state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<std::uint32_t>((state_ >> 33) % bound);
    }
    void words_into(std::string& out, unsigned n) {
        for (unsigned i = 0; i < n; ++i) {
            if (i) out += ' ';
            out += words[next(words.size())];
        }
    }

private:
    std::uint64_t state_;
};

void numbers(std::string& s, std::uint64_t channel, std::uint64_t seq, std::uint64_t sent_ns) {
    s += R"({"lg_ch":)";
    s += std::to_string(channel);
    s += R"(,"lg_seq":)";
    s += std::to_string(seq);
    s += R"(,"lg_ts":)";
    s += std::to_string(sent_ns);
}

void common_fields(std::string& s, text_source& t) {
    static constexpr std::array<std::string_view, 4> statuses{"open", "in-progress", "review", "done"};
    char date[32];
    std::snprintf(date, sizeof date, "2026-%02u-%02u", t.next(12) + 1, t.next(28) + 1);
    s += R"(,"title":")";
    t.words_into(s, 4 + t.next(4));
    s += R"(","status":")";
    s += statuses[t.next(statuses.size())];
    s += R"(","priority":)";
    s += std::to_string(t.next(5));
    s += R"(,"tags":[")";
    t.words_into(s, 1);
    s += R"(",")";
    t.words_into(s, 1);
    s += R"("],"due":")";
    s += date;
    s += R"(","assignee":"user-)";
    s += std::to_string(1000 + t.next(9000));
    s += R"(","done":)";
    s += t.next(2) ? "true" : "false";
}

}  // namespace

std::string record_payload::make(payload_kind kind, std::uint64_t channel, std::uint64_t seq, std::uint64_t sent_ns) {
    text_source t(channel * 1'000'003 + seq);
    std::string s;
    s.reserve(kind == payload_kind::large ? large_bytes + 512 : 320);
    numbers(s, channel, seq, sent_ns);
    common_fields(s, t);
    if (kind == payload_kind::large) {
        s += R"(,"description":")";
        for (unsigned p = 0; p < 6; ++p) {
            if (p) s += "\\n\\n";
            t.words_into(s, 60 + t.next(40));
            s += '.';
        }
        s += R"(","items":[)";
        // line items until the record reaches its size
        for (unsigned i = 0; s.size() + 200 < large_bytes; ++i) {
            char head[96];
            std::snprintf(head, sizeof head, R"(%s{"id":"item-%06u","sku":"SKU-%05u-%c","quantity":%u,"price":%u.%02u,)",
                          i ? "," : "", static_cast<unsigned>(seq % 1000) * 1000 + i, t.next(100000),
                          static_cast<char>('A' + t.next(26)), 1 + t.next(20), t.next(200), t.next(100));
            s += head;
            s += R"("label":")";
            t.words_into(s, 2 + t.next(3));
            s += R"(","notes":")";
            t.words_into(s, 6 + t.next(10));
            s += R"(","in_stock":)";
            s += t.next(4) ? "true}" : "false}";
        }
        s += ']';
    }
    s += '}';
    return s;
}

}  // namespace kp::loadgen
