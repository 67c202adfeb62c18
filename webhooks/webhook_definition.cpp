#include "webhooks/webhook_definition.hpp"

#include "channels/channel_name.hpp"
#include "text/hex.hpp"
#include "webhooks/delivery_body.hpp"
#include "webhooks/webhook_signature.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <set>
#include <stdexcept>

namespace kp::webhooks {

namespace {

constexpr std::string_view id_prefix = "wh_";
constexpr std::size_t id_random_bytes = 16;

}  // namespace

std::string webhook_definition::new_id() {
    std::array<unsigned char, id_random_bytes> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("RAND_bytes failed: no webhook id");
    return std::string(id_prefix) +
           text::hex_encode(std::string_view(reinterpret_cast<char const*>(bytes.data()), bytes.size()));
}

bool webhook_definition::valid_id(std::string_view id) {
    if (id.size() != id_prefix.size() + 2 * id_random_bytes || id.substr(0, id_prefix.size()) != id_prefix)
        return false;
    return std::all_of(id.begin() + static_cast<std::ptrdiff_t>(id_prefix.size()), id.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The fields the store's text and the public JSON share, in that order.
nlohmann::ordered_json webhook_definition::shared_json() const {
    nlohmann::ordered_json out;
    out["id"] = id;
    out["url"] = url;
    out["channels"] = channels;
    out["description"] = description;
    out["max_batch"] = max_batch;
    out["enabled"] = enabled;
    out["disabled_reason"] = disabled_reason ? nlohmann::ordered_json(*disabled_reason) : nlohmann::ordered_json(nullptr);
    return out;
}

std::string webhook_definition::to_store_text() const {
    auto out = shared_json();
    out["secret"] = secret;
    out["created_ms"] = created_ms;
    if (revision) {
        out["revision"] = revision;
        auto& marks = out["replays"] = nlohmann::ordered_json::object();
        for (auto const& [channel, mark] : replays)
            marks[channel] = {{"epoch", mark.at.epoch}, {"offset", mark.at.offset}, {"timestamp", mark.at.timestamp},
                              {"revision", mark.revision}};
    }
    return out.dump();
}

std::optional<webhook_definition> webhook_definition::from_store_text(std::string_view text) {
    auto const doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object()) return std::nullopt;
    auto field = [&](char const* name) -> nlohmann::json const* {
        auto it = doc.find(name);
        return it == doc.end() ? nullptr : &*it;
    };
    auto const* id = field("id");
    auto const* url = field("url");
    auto const* channel_list = field("channels");
    auto const* description = field("description");
    auto const* max_batch = field("max_batch");
    auto const* enabled = field("enabled");
    auto const* reason = field("disabled_reason");
    auto const* secret = field("secret");
    auto const* created = field("created_ms");
    if (!id || !id->is_string() || !url || !url->is_string() || !channel_list || !channel_list->is_array() ||
        !description || !description->is_string() || !max_batch || !max_batch->is_number_unsigned() || !enabled ||
        !enabled->is_boolean() || !reason || !(reason->is_null() || reason->is_string()) || !secret ||
        !secret->is_string() || !created || !created->is_number_integer())
        return std::nullopt;

    webhook_definition out;
    out.id = id->get<std::string>();
    if (!valid_id(out.id)) return std::nullopt;
    out.url = url->get<std::string>();
    if (out.url.empty()) return std::nullopt;
    if (channel_list->empty()) return std::nullopt;
    std::set<std::string> seen;
    for (auto const& channel : *channel_list) {
        if (!channel.is_string()) return std::nullopt;
        auto const name = channels::channel_name::parse(channel.get<std::string>());
        if (!name || !seen.insert(name->str()).second) return std::nullopt;
        out.channels.push_back(name->str());
    }
    out.description = description->get<std::string>();
    auto const batch = max_batch->get<std::uint64_t>();
    if (batch < 1 || batch > max_batch_limit) return std::nullopt;
    out.max_batch = static_cast<unsigned>(batch);
    out.enabled = enabled->get<bool>();
    if (reason->is_string()) out.disabled_reason = reason->get<std::string>();
    out.secret = secret->get<std::string>();
    if (!valid_secret(out.secret)) return std::nullopt;
    if (created->is_number_unsigned() && created->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return std::nullopt;
    out.created_ms = created->get<std::int64_t>();
    // Absent before the first replay.
    if (auto const* revision = field("revision")) {
        auto const* marks = field("replays");
        if (!revision->is_number_unsigned() || !marks || !marks->is_object()) return std::nullopt;
        out.revision = revision->get<std::uint64_t>();
        for (auto it = marks->begin(); it != marks->end(); ++it) {
            auto const& m = it.value();
            if (!m.is_object() || !m.contains("epoch") || !m["epoch"].is_string() || !m.contains("offset") ||
                !m["offset"].is_number_unsigned() || !m.contains("timestamp") || !m["timestamp"].is_number_integer() ||
                !m.contains("revision") || !m["revision"].is_number_unsigned())
                return std::nullopt;
            out.replays[it.key()] = {{m["epoch"].get<std::string>(), m["offset"].get<std::uint64_t>(),
                                      m["timestamp"].get<std::int64_t>()},
                                     m["revision"].get<std::uint64_t>()};
        }
    }
    return out;
}

nlohmann::ordered_json webhook_definition::public_json() const {
    auto out = shared_json();
    out["created"] = iso8601_utc(created_ms);
    return out;
}

}  // namespace kp::webhooks
