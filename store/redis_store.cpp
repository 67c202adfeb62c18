#include "store/redis_store.hpp"

#include "store/random_hex.hpp"
#include "store/redis_publish_call.hpp"
#include "store/redis_scripts.hpp"
#include "store/redis_wire_format.hpp"
#include "store/store_error.hpp"
#include "text/unsigned_number.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <unordered_map>

namespace kp::store {

namespace asio = boost::asio;

namespace {

// Indexes in the link's scripts.
constexpr std::size_t publish_script = 0;
constexpr std::size_t trim_script = 1;
constexpr std::size_t position_script = 2;

constexpr std::size_t fill_page = 256;

redis_endpoint with_password(redis_endpoint endpoint, std::optional<std::string> const& password) {
    if (password) endpoint.password = password;
    return endpoint;
}

// HGETALL's flat array as name -> number.
std::optional<std::unordered_map<std::string, std::uint64_t>> numbers_by_name(redis_reply const& reply) {
    if (reply.type != redis_reply::kind::array || reply.elements.size() % 2) return std::nullopt;
    std::unordered_map<std::string, std::uint64_t> out;
    for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2) {
        auto value = text::parse_unsigned(reply.elements[i + 1].text);
        if (!value) return std::nullopt;
        out.emplace(reply.elements[i].text, *value);
    }
    return out;
}

}  // namespace

redis_store::redis_store(redis_endpoint endpoint, retention limits, std::size_t cache_size, redis_options options)
    : endpoint_(with_password(std::move(endpoint), options.password)),
      limits_(limits),
      options_(std::move(options)),
      topic_(options_.prefix + "events:" + std::to_string(endpoint_.db)),
      link_(io_, endpoint_, options_.tls_ca, options_.timeout, topic_,
            {redis_scripts::publish, redis_scripts::trim_by_age, redis_scripts::position_after},
            {[this] { on_subscribed(); }, [this](std::string const& text) { on_message(text); },
             [this](std::string const& why) { return on_lost(why); }}),
      bridge_(io_, options_.timeout, endpoint_.describe()),
      view_(limits, cache_size) {
    work_.emplace(io_.get_executor());
    thread_ = std::thread([this] { io_.run(); });
    asio::post(io_, [this] { link_.connect(); });
    std::unique_lock lock(state_mutex_);
    // A refused login or certificate will not get better by retrying: start-up stops at once.
    auto refused = [this] {
        return last_error_.starts_with("AUTH") || last_error_.starts_with("SELECT") || last_error_.starts_with("TLS");
    };
    if (!state_changed_.wait_for(lock, options_.startup_timeout, [&] { return first_sync_done_ || refused(); }) ||
        !first_sync_done_) {
        std::string const why = last_error_.empty() ? "no answer" : last_error_;
        lock.unlock();
        link_.stop_reconnecting();
        asio::post(io_, [this] { link_.close(); });
        work_.reset();
        io_.stop();
        thread_.join();
        throw store_error(endpoint_.describe() + ": cannot use Redis: " + why);
    }
}

redis_store::~redis_store() {
    link_.stop_reconnecting();
    ready_ = false;
    asio::post(io_, [this] {
        link_.close();
        io_.stop();
    });
    work_.reset();
    if (thread_.joinable()) thread_.join();
}

std::string redis_store::epoch() const {
    std::lock_guard lock(state_mutex_);
    return view_.epoch();
}

void redis_store::set_announcer(event_sink announce, std::function<void()> history_lost) {
    std::lock_guard lock(announcer_mutex_);
    announce_ = std::move(announce);
    history_lost_ = std::move(history_lost);
}

// ---------------------------------------------------------------------------------------------
// The event loop: connecting, syncing, receiving.

void redis_store::on_message(std::string const& text) {
    auto records = redis_wire_format::decode_transaction(text);
    if (!records) {
        // Not ours: the gap it may hide is found with the next event of its channel.
        spdlog::error("redis: ignoring a malformed message on {}", topic_);
        return;
    }
    if (records->empty()) return;
    {
        std::lock_guard lock(state_mutex_);
        view_.arrived(std::move(*records));
    }
    drain();
}

void redis_store::on_subscribed() {
    auto const generation = link_.generation();
    link_.send({"SET", options_.prefix + "epoch", random_hex(4), "NX"}, nullptr);
    link_.send({"GET", options_.prefix + "epoch"}, [this, generation](redis_reply reply) {
        if (generation != link_.generation()) return;
        if (reply.type != redis_reply::kind::string) return link_.lost("cannot read the epoch: " + reply.text);
        bool changed = false;
        {
            std::lock_guard lock(state_mutex_);
            changed = view_.set_epoch(reply.text);
        }
        if (changed) spdlog::warn("redis: the history epoch changed (Redis lost its data): subscribers resync");
        link_.load_scripts([this, generation] { load_heads(generation); });
    });
}

void redis_store::load_heads(std::uint64_t generation) {
    auto offsets = std::make_shared<redis_reply>();
    link_.send({"HGETALL", options_.prefix + "offsets"}, [offsets](redis_reply reply) { *offsets = std::move(reply); });
    link_.send({"HGETALL", options_.prefix + "trimmed"}, [this, generation, offsets](redis_reply reply) {
        if (generation != link_.generation()) return;
        on_heads(generation, *offsets, reply);
    });
}

void redis_store::on_heads(std::uint64_t generation, redis_reply const& offsets, redis_reply const& trimmed) {
    auto lasts = numbers_by_name(offsets);
    auto trims = numbers_by_name(trimmed);
    if (!lasts || !trims) return link_.lost("cannot read the channels' offsets");
    redis_channel_view::sync_result synced;
    {
        std::lock_guard lock(state_mutex_);
        synced = view_.sync(*lasts, *trims);
    }
    if (synced.went_back) {
        // The epoch survived but offsets went back (Redis restored an older snapshot): offsets
        // would be handed out twice. Name a new history, so that every node and client resyncs.
        spdlog::error("redis: offsets went back in {} (an older snapshot?): starting a new epoch",
                      endpoint_.describe());
        link_.send({"SET", options_.prefix + "epoch", random_hex(4)}, nullptr);
        link_.send({"PING"}, [this, generation](redis_reply) {
            if (generation == link_.generation()) link_.lost("the history went back; new epoch");
        });
        return;
    }
    ready_ = true;
    {
        std::lock_guard lock(state_mutex_);
        first_sync_done_ = true;
        last_error_.clear();
    }
    state_changed_.notify_all();
    spdlog::info("redis: connected to {} (epoch {}, {} channels)", endpoint_.describe(), epoch(), lasts->size());
    link_.synced();
    if (synced.history_lost) {
        std::lock_guard lock(announcer_mutex_);
        if (history_lost_) history_lost_();
    }
    drain();
}

bool redis_store::on_lost(std::string const& why) {
    bool const was_ready = ready_.exchange(false);
    {
        std::lock_guard lock(state_mutex_);
        last_error_ = why;
        view_.reset();   // the next sync reads whatever it held from the streams
    }
    state_changed_.notify_all();
    return was_ready;
}

void redis_store::drain() {
    while (ready_) {
        redis_channel_view::step next;
        {
            std::lock_guard lock(state_mutex_);
            next = view_.next();
        }
        switch (next.what) {
        case redis_channel_view::step::kind::wait: return;
        case redis_channel_view::step::kind::read:
            if (next.range.gap)
                spdlog::warn("redis: {} skipped to offset {}: reading the missing events", next.range.channel,
                             next.range.through + 1);
            return fill(link_.generation(), std::move(next.range));
        case redis_channel_view::step::kind::announce: announce(next.records); break;
        }
    }
}

void redis_store::fill(std::uint64_t generation, redis_channel_view::fetch range) {
    link_.send({"XRANGE", options_.prefix + "s:" + range.channel, std::to_string(range.after + 1) + "-0",
          std::to_string(range.through) + "-0", "COUNT", std::to_string(fill_page)},
         [this, generation, range](redis_reply reply) {
             if (generation != link_.generation()) return;
             if (reply.is_error()) return link_.lost("XRANGE: " + reply.text);
             auto records = redis_wire_format::decode_entries(range.channel, reply);
             if (!records) return link_.lost("a malformed stream entry in " + range.channel);
             std::vector<event_record> fresh;
             {
                 std::lock_guard lock(state_mutex_);
                 fresh = view_.filled(range, std::move(*records));
             }
             announce(fresh);
             drain();
         });
}

// The records just added to the view: waiting callers see them, then the announcer.
void redis_store::announce(std::vector<event_record> const& records) {
    state_changed_.notify_all();
    if (records.empty()) return;
    std::lock_guard lock(announcer_mutex_);
    if (announce_) announce_(records);
}

// ---------------------------------------------------------------------------------------------
// Other threads.

redis_reply redis_store::call(std::vector<std::string> args) {
    if (!ready_) throw store_error(endpoint_.describe() + ": Redis unavailable");
    auto replies = bridge_.call(
        1, [this, args = std::move(args)](std::size_t, redis_blocking_bridge::reply_handler done) mutable {
            link_.send(std::move(args), std::move(done));
        });
    return std::move(replies.front());
}

redis_reply redis_store::call_script(std::size_t script, std::vector<std::string> args) {
    auto replies = call_each(script, {std::move(args)});
    return std::move(replies.front());
}

std::vector<redis_reply> redis_store::call_each(std::size_t script, std::vector<std::vector<std::string>> args) {
    if (!ready_) throw store_error(endpoint_.describe() + ": Redis unavailable");
    auto const count = args.size();
    return bridge_.call(
        count, [this, script, args = std::move(args)](std::size_t i, redis_blocking_bridge::reply_handler done) mutable {
            link_.eval(script, std::move(args[i]), std::move(done));
        });
}

std::vector<redis_reply> redis_store::pipeline(std::vector<std::vector<std::string>> commands) {
    if (!ready_) throw store_error(endpoint_.describe() + ": Redis unavailable");
    auto const count = commands.size();
    return bridge_.call(count, [this, commands = std::move(commands)](
                                   std::size_t i, redis_blocking_bridge::reply_handler done) mutable {
        link_.send(std::move(commands[i]), std::move(done));
    });
}

redis_reply redis_store::script(std::string_view source, std::vector<std::string> const& keys,
                                std::vector<std::string> const& args) {
    if (!ready_) throw store_error(endpoint_.describe() + ": Redis unavailable");
    std::vector<std::string> arguments{std::to_string(keys.size())};
    arguments.insert(arguments.end(), keys.begin(), keys.end());
    arguments.insert(arguments.end(), args.begin(), args.end());
    auto replies = bridge_.call(1, [this, source, arguments = std::move(arguments)](
                                       std::size_t, redis_blocking_bridge::reply_handler done) mutable {
        link_.eval_source(source, std::move(arguments), std::move(done));
    });
    return std::move(replies.front());
}

std::vector<std::vector<appended_event>> redis_store::append_group(
    std::span<std::vector<append_event> const> transactions) {
    if (!ready_) {
        std::lock_guard lock(state_mutex_);
        throw store_error(endpoint_.describe() + ": Redis unavailable (" + last_error_ + ")");
    }
    auto args = redis_publish_call::arguments(options_.prefix, epoch(), limits_, topic_, transactions);
    auto reply = call_script(publish_script, std::move(args));
    if (reply.is_error()) {
        if (reply.text.starts_with("EPOCH"))
            asio::post(io_, [this, generation = link_.generation()] {
                if (generation == link_.generation() && ready_) link_.lost("the history epoch changed");
            });
        throw store_error(endpoint_.describe() + ": " + reply.text);
    }
    auto answer = redis_publish_call::read_answer(reply, transactions);
    if (!answer) throw store_error(endpoint_.describe() + ": unexpected answer to the publish script");
    // Stored. Wait (briefly) until this node announced them too, so that what this node
    // answers afterwards (its history, a resume) includes them.
    std::unique_lock lock(state_mutex_);
    state_changed_.wait_for(lock, options_.timeout, [&] { return !ready_ || view_.reached(answer->awaited); });
    return std::move(answer->appended);
}

bool redis_store::read_in_memory(std::string const& channel, std::uint64_t after) {
    std::lock_guard lock(state_mutex_);
    return view_.read_in_memory(channel, after);
}

std::vector<event_record> redis_store::read(std::string const& channel, std::uint64_t after, std::size_t limit) {
    {
        std::lock_guard lock(state_mutex_);
        if (auto records = view_.read_from_memory(channel, after, limit)) return std::move(*records);
    }
    auto reply = call({"XRANGE", options_.prefix + "s:" + channel, std::to_string(after + 1) + "-0", "+", "COUNT",
                       std::to_string(limit)});
    if (reply.is_error()) throw store_error(endpoint_.describe() + ": XRANGE: " + reply.text);
    auto records = redis_wire_format::decode_entries(channel, reply);
    if (!records) throw store_error(endpoint_.describe() + ": a malformed stream entry in " + channel);
    return std::move(*records);
}

channel_span redis_store::span(std::string const& channel) {
    std::lock_guard lock(state_mutex_);
    return view_.span(channel);
}

std::optional<timestamp_position> redis_store::position_in_memory(std::string const& channel,
                                                                 std::int64_t timestamp) {
    std::lock_guard lock(state_mutex_);
    return view_.position_in_memory(channel, timestamp);
}

timestamp_position redis_store::position_after(std::string const& channel, std::int64_t timestamp) {
    if (auto position = position_in_memory(channel, timestamp)) return *position;
    auto const head = span(channel).last;
    auto reply = call_script(position_script,
                             {options_.prefix, channel, std::to_string(timestamp), std::to_string(head)});
    if (reply.is_error()) throw store_error(endpoint_.describe() + ": " + reply.text);
    if (reply.type != redis_reply::kind::array || reply.elements.size() != 2)
        throw store_error(endpoint_.describe() + ": unexpected answer to the position script");
    return {static_cast<std::uint64_t>(reply.elements[0].integer), reply.elements[1].integer == 1};
}

std::vector<std::string> redis_store::channels_with_prefix(std::string const& prefix) {
    std::lock_guard lock(state_mutex_);
    return view_.channels_with_prefix(prefix);
}

void redis_store::trim(std::int64_t now_ms) {
    if (!ready_) return;
    std::vector<std::string> names;
    {
        std::lock_guard lock(state_mutex_);
        names = view_.channels_to_trim();
    }
    if (names.empty()) return;
    std::vector<std::vector<std::string>> args;
    args.reserve(names.size());
    for (auto const& name : names)
        args.push_back({options_.prefix, name, std::to_string(limits_.max_age_ms)});
    std::vector<redis_reply> replies;
    try {
        replies = call_each(trim_script, std::move(args));
    } catch (store_error const& e) {
        spdlog::warn("redis: age trim: {}", e.what());
        return;   // retried at the next trim
    }
    std::lock_guard lock(state_mutex_);
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (replies[i].type == redis_reply::kind::integer)
            view_.trimmed(names[i], static_cast<std::uint64_t>(replies[i].integer), now_ms);
    }
}

}  // namespace kp::store
