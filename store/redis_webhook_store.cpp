#include "store/redis_webhook_store.hpp"

#include "store/redis_store.hpp"
#include "store/redis_webhook_scripts.hpp"
#include "store/store_error.hpp"
#include "text/unsigned_number.hpp"

#include <algorithm>
#include <charconv>

namespace kp::store {

namespace scripts = redis_webhook_scripts;

namespace {

void append_positions(std::vector<std::string>& args, std::vector<webhook_position> const& positions) {
    for (auto const& p : positions) {
        args.push_back(p.channel);
        args.push_back(redis_webhook_store::encode_position(p));
    }
}

}  // namespace

redis_webhook_store::redis_webhook_store(redis_store& redis)
    : redis_(redis), webhooks_key_(redis.key_prefix() + "webhooks") {}

std::string redis_webhook_store::positions_key(std::string const& id) const {
    return redis_.key_prefix() + "webhook:" + id + ":positions";
}

std::string redis_webhook_store::lease_key(std::string const& id) const {
    return redis_.key_prefix() + "webhook:" + id + ":lease";
}

std::string redis_webhook_store::encode_position(webhook_position const& position) {
    return position.epoch + ' ' + std::to_string(position.offset) + ' ' + std::to_string(position.timestamp);
}

std::optional<webhook_position> redis_webhook_store::decode_position(std::string channel, std::string const& text) {
    auto const first = text.find(' ');
    if (first == std::string::npos) return std::nullopt;
    auto const second = text.find(' ', first + 1);
    if (second == std::string::npos) return std::nullopt;
    auto offset = text::parse_unsigned(std::string_view(text).substr(first + 1, second - first - 1));
    std::int64_t timestamp = 0;
    auto const* begin = text.data() + second + 1;
    auto const* end = text.data() + text.size();
    auto [stop, ec] = std::from_chars(begin, end, timestamp);
    if (!offset || ec != std::errc() || stop != end || begin == end) return std::nullopt;
    return webhook_position{std::move(channel), text.substr(0, first), *offset, timestamp};
}

bool redis_webhook_store::yes_or_no(std::string_view script, std::vector<std::string> const& keys,
                                    std::vector<std::string> const& args) {
    auto reply = redis_.script(script, keys, args);
    if (reply.type != redis_reply::kind::integer)
        throw store_error(redis_.describe() + ": webhooks: " + (reply.is_error() ? reply.text : "unexpected answer"));
    return reply.integer == 1;
}

std::vector<webhook_position> redis_webhook_store::positions_from(std::string const& id,
                                                                  redis_reply const& reply) const {
    if (reply.type != redis_reply::kind::array || reply.elements.size() % 2)
        throw store_error(redis_.describe() + ": webhook " + id + ": cannot read its positions" +
                          (reply.is_error() ? ": " + reply.text : ""));
    std::vector<webhook_position> out;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        auto position = decode_position(reply.elements[i].text, reply.elements[i + 1].text);
        if (!position)
            throw store_error(redis_.describe() + ": webhook " + id + ": a malformed position for " +
                              reply.elements[i].text);
        out.push_back(std::move(*position));
    }
    std::sort(out.begin(), out.end(), [](auto const& a, auto const& b) { return a.channel < b.channel; });
    return out;
}

std::vector<stored_webhook> redis_webhook_store::load_all() {
    auto all = redis_.pipeline({{"HGETALL", webhooks_key_}}).front();
    if (all.type != redis_reply::kind::array || all.elements.size() % 2)
        throw store_error(redis_.describe() + ": cannot read the webhooks" + (all.is_error() ? ": " + all.text : ""));
    std::vector<stored_webhook> out;
    for (std::size_t i = 0; i + 1 < all.elements.size(); i += 2)
        out.push_back({std::move(all.elements[i].text), std::move(all.elements[i + 1].text), {}});
    std::sort(out.begin(), out.end(), [](auto const& a, auto const& b) { return a.id < b.id; });
    std::vector<std::vector<std::string>> reads;
    reads.reserve(out.size());
    for (auto const& webhook : out) reads.push_back({"HGETALL", positions_key(webhook.id)});
    auto replies = redis_.pipeline(std::move(reads));
    for (std::size_t i = 0; i < out.size(); ++i) out[i].positions = positions_from(out[i].id, replies[i]);
    return out;
}

std::optional<stored_webhook> redis_webhook_store::load(std::string const& id) {
    auto replies = redis_.pipeline({{"HGET", webhooks_key_, id}, {"HGETALL", positions_key(id)}});
    if (replies[0].type == redis_reply::kind::nil) return std::nullopt;
    if (replies[0].type != redis_reply::kind::string)
        throw store_error(redis_.describe() + ": cannot read webhook " + id +
                          (replies[0].is_error() ? ": " + replies[0].text : ""));
    return stored_webhook{id, std::move(replies[0].text), positions_from(id, replies[1])};
}

bool redis_webhook_store::create(stored_webhook const& webhook) {
    std::vector<std::string> args{webhook.id, webhook.definition};
    append_positions(args, webhook.positions);
    return yes_or_no(scripts::create, {webhooks_key_, positions_key(webhook.id)}, args);
}

bool redis_webhook_store::update_definition(std::string const& id, std::string const& definition) {
    return yes_or_no(scripts::update_definition, {webhooks_key_}, {id, definition});
}

bool redis_webhook_store::save_positions(std::string const& id, std::vector<webhook_position> const& positions,
                                         std::optional<std::string> const& holder) {
    std::vector<std::string> args{id, holder ? "1" : "0", holder.value_or("")};
    append_positions(args, positions);
    return yes_or_no(scripts::save_positions, {webhooks_key_, positions_key(id), lease_key(id)}, args);
}

void redis_webhook_store::forget_positions(std::string const& id, std::vector<std::string> const& channels) {
    if (channels.empty()) return;
    std::vector<std::string> command{"HDEL", positions_key(id)};
    command.insert(command.end(), channels.begin(), channels.end());
    auto reply = redis_.pipeline({std::move(command)}).front();
    if (reply.is_error()) throw store_error(redis_.describe() + ": webhook " + id + ": HDEL: " + reply.text);
}

bool redis_webhook_store::remove(std::string const& id) {
    return yes_or_no(scripts::remove, {webhooks_key_, positions_key(id), lease_key(id)}, {id});
}

bool redis_webhook_store::hold_lease(std::string const& id, std::string const& node, std::chrono::milliseconds ttl) {
    return yes_or_no(scripts::hold_lease, {lease_key(id)}, {node, std::to_string(std::max<long long>(1, ttl.count()))});
}

void redis_webhook_store::release_lease(std::string const& id, std::string const& node) {
    auto reply = redis_.script(scripts::release_lease, {lease_key(id)}, {node});
    if (reply.is_error()) throw store_error(redis_.describe() + ": webhook " + id + ": lease: " + reply.text);
}

}  // namespace kp::store
