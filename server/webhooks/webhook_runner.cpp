#include "server/webhooks/webhook_runner.hpp"

#include "server/telemetry/log_event.hpp"
#include "webhooks/webhook_signature.hpp"

#include <boost/asio/post.hpp>

#include <chrono>

namespace kp::server {

namespace asio = boost::asio;

namespace {

std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

outbound_options options_of(server_config const& config) {
    outbound_options o;
    auto const timeout = std::chrono::milliseconds(config.webhook_timeout_s * 1000);
    o.connect_timeout = std::min(timeout, std::chrono::milliseconds(5000));
    o.response_timeout = timeout;
    o.allow_private = config.webhook_allow_private;
    return o;
}

// The label of kinto_push_webhook_deliveries_total{result}.
std::string result_of(outbound_result const& r) {
    if (r.status >= 200 && r.status < 300) return "success";
    if (r.status == 410) return "gone";
    if (r.status >= 300 && r.status < 400) return "redirect";
    if (r.status != 0) return "http_error";
    if (r.error.starts_with("no answer")) return "timeout";
    return "error";
}

}  // namespace

webhook_runner::webhook_runner(asio::io_context& loop, webhook_context& context)
    : loop_(loop),
      context_(context),
      client_(std::make_shared<outbound_client>(loop.get_executor(), options_of(context.config),
                                                outbound_client::default_tls_context())),
      retries_(std::chrono::milliseconds(context.config.webhook_backoff_initial_ms),
               std::chrono::milliseconds(context.config.webhook_backoff_max_s * 1000)),
      random_(std::random_device{}()) {}

void webhook_runner::start(webhooks::webhook_definition definition, std::vector<store::webhook_position> positions) {
    asio::post(loop_, [self = shared_from_this(), definition = std::move(definition), positions = std::move(positions)] {
        auto const id = definition.id;
        self->runs_.erase(id);
        auto& run = self->runs_[id];
        run.definition = definition;
        run.generation = ++self->generations_;
        if (auto parsed = webhooks::target_url::parse(definition.url); auto* url = std::get_if<webhooks::target_url>(&parsed))
            run.target = *url;
        for (auto const& channel : definition.channels) self->add_channel(run, channel, positions);
        for (auto& [channel, c] : run.channels) self->pump(run, channel);
    });
}

void webhook_runner::add_channel(webhook_run& run, std::string const& channel,
                                 std::vector<store::webhook_position> const& positions) {
    auto& c = run.channels[channel];
    c.retry = std::make_unique<asio::steady_timer>(loop_);
    bool found = false;
    for (auto const& p : positions)
        if (p.channel == channel) {
            c.at = {p.epoch, p.offset, p.timestamp};
            found = true;
        }
    // Without a stored position (a position is written at creation; a crash between the two
    // writes is the only way here): from now on.
    if (!found) c.at = {context_.hub.history().epoch(), context_.hub.history().span(channel).last, 0};
    publish(run, channel);
}

void webhook_runner::update(webhooks::webhook_definition definition, std::vector<store::webhook_position> positions) {
    asio::post(loop_, [self = shared_from_this(), definition = std::move(definition), positions = std::move(positions)] {
        auto it = self->runs_.find(definition.id);
        if (it == self->runs_.end()) return;
        auto& run = it->second;
        auto const seen_revision = run.definition.revision;
        run.definition = definition;
        run.target.reset();
        if (auto parsed = webhooks::target_url::parse(definition.url); auto* url = std::get_if<webhooks::target_url>(&parsed))
            run.target = *url;
        for (auto c = run.channels.begin(); c != run.channels.end();) {
            if (std::find(definition.channels.begin(), definition.channels.end(), c->first) != definition.channels.end()) {
                ++c;
                continue;
            }
            c->second.retry->cancel();
            self->context_.board.drop_channel(definition.id, c->first);
            c = run.channels.erase(c);
        }
        for (auto const& channel : definition.channels)
            if (!run.channels.contains(channel)) self->add_channel(run, channel, positions);
        // Replays asked since this runner last saw the definition (PATCH .../replay).
        for (auto const& [channel, mark] : definition.replays)
            if (mark.revision > seen_revision)
                if (auto c = run.channels.find(channel); c != run.channels.end()) {
                    c->second.replay_to = mark.at;
                    if (c->second.now == phase::idle || c->second.now == phase::waiting)
                        self->apply_replay(run, c->second, channel);
                }
        if (!definition.enabled)
            for (auto& [channel, c] : run.channels) c.retry->cancel();
        for (auto& [channel, c] : run.channels) self->pump(run, channel);
    });
}

bool webhook_runner::apply_replay(webhook_run& run, channel_run& c, std::string const& channel) {
    if (!c.replay_to) return false;
    c.retry->cancel();
    c.at = *c.replay_to;
    c.replay_to.reset();
    c.pending.reset();
    c.failures = 0;
    c.now = phase::idle;
    // Saved as any acknowledged position is, so that a restart goes on from there too.
    auto const id = run.definition.id;
    // (The endpoint wrote it already; if this save fails, the next acknowledgement writes again.)
    context_.saver.save({id, {{channel, c.at.epoch, c.at.offset, c.at.timestamp}}, context_.node}, {});
    publish(run, channel);
    return true;
}

void webhook_runner::stop(std::string id) {
    asio::post(loop_, [self = shared_from_this(), id = std::move(id)] {
        auto it = self->runs_.find(id);
        if (it == self->runs_.end()) return;
        for (auto& [channel, c] : it->second.channels) c.retry->cancel();
        self->context_.board.forget(id, true);
        self->runs_.erase(it);
    });
}

void webhook_runner::poke(std::vector<std::string> channels) {
    asio::post(loop_, [self = shared_from_this(), channels = std::move(channels)] {
        for (auto& [id, run] : self->runs_)
            for (auto const& channel : channels)
                if (run.channels.contains(channel)) self->pump(run, channel);
    });
}

void webhook_runner::poke_all() {
    asio::post(loop_, [self = shared_from_this()] {
        for (auto& [id, run] : self->runs_)
            for (auto& [channel, c] : run.channels) self->pump(run, channel);
    });
}

void webhook_runner::shutdown() {
    asio::post(loop_, [self = shared_from_this()] {
        for (auto& [id, run] : self->runs_)
            for (auto& [channel, c] : run.channels) c.retry->cancel();
        self->runs_.clear();
        self->client_->shutdown();
    });
}

webhook_runner::webhook_run* webhook_runner::find(std::string const& id, std::uint64_t generation) {
    auto it = runs_.find(id);
    if (it == runs_.end() || it->second.generation != generation) return nullptr;
    return &it->second;
}

void webhook_runner::pump(webhook_run& run, std::string const& channel) {
    auto& c = run.channels.at(channel);
    if (!run.definition.enabled) return;
    if (c.now != phase::idle) {
        c.dirty = true;
        return;
    }
    c.now = phase::preparing;
    c.dirty = false;
    asio::post(context_.blocking, [self = shared_from_this(), id = run.definition.id, generation = run.generation, channel,
                                   at = c.at, max_batch = run.definition.max_batch] {
        delivery_lookup lookup;
        try {
            lookup = delivery_builder::prepare(self->context_.hub, id, channel, at, max_batch, now_ms());
        } catch (std::exception const& e) {   // the store is away: the next poke or tick tries again
            log_event(spdlog::level::warn, "webhook.read_failed", {{"webhook", id}, {"channel", channel}, {"error", e.what()}});
        }
        asio::post(self->loop_, [self, id, generation, channel, lookup = std::move(lookup)]() mutable {
            self->on_prepared(id, generation, channel, std::move(lookup));
        });
    });
}

void webhook_runner::on_prepared(std::string const& id, std::uint64_t generation, std::string const& channel,
                                 delivery_lookup lookup) {
    auto* run = find(id, generation);
    if (!run || !run->channels.contains(channel)) return;
    auto& c = run->channels.at(channel);
    c.now = phase::idle;
    c.last_offset = std::max(c.last_offset, lookup.last_offset);
    bool const replayed = apply_replay(*run, c, channel);
    if (replayed || !lookup.next || !run->definition.enabled) {
        publish(*run, channel);
        if (replayed || c.dirty) pump(*run, channel);   // a replay: what was read is not what is next
        return;
    }
    c.pending = std::move(lookup.next);
    publish(*run, channel);
    send(*run, channel);
}

void webhook_runner::send(webhook_run& run, std::string const& channel) {
    auto& c = run.channels.at(channel);
    auto const& d = *c.pending;
    c.now = phase::sending;
    auto const timestamp = now_ms() / 1000;
    auto signature = webhooks::sign(run.definition.secret, d.delivery_id, timestamp, d.body);
    if (!run.target || !signature) {   // not expected: both were checked when stored
        fail(run, c, channel, {0, run.target ? "the secret cannot sign" : "the URL cannot be used", {}});
        return;
    }
    outbound_request request{*run.target, d.body,
                             {{"webhook-id", d.delivery_id},
                              {"webhook-timestamp", std::to_string(timestamp)},
                              {"webhook-signature", *signature}}};
    // A weak reference: the client holds this callback while the request is in flight, and
    // the runner holds the client; a strong one would keep both alive past a shutdown.
    client_->post(std::move(request), [weak = weak_from_this(), id = run.definition.id, generation = run.generation,
                                       channel](outbound_result result) {
        if (auto self = weak.lock()) self->on_sent(id, generation, channel, std::move(result));
    });
}

void webhook_runner::on_sent(std::string const& id, std::uint64_t generation, std::string const& channel,
                             outbound_result result) {
    auto* run = find(id, generation);
    if (!run || !run->channels.contains(channel)) return;
    auto& c = run->channels.at(channel);
    auto const& d = *c.pending;
    auto const outcome = result_of(result);
    context_.metrics.webhook_deliveries.with({outcome}).inc();
    auto const duration_ms = static_cast<std::int64_t>(result.duration.count());
    context_.board.add_attempt(id, {now_ms() - duration_ms, channel, d.first, d.last, d.type, d.delivery_id,
                                    result.status, result.error, duration_ms});
    if (outcome != "success") return fail(*run, c, channel, result);
    context_.metrics.webhook_events.inc(d.events);
    c.now = phase::saving;
    // The position is durable before the next request of the channel leaves (saved in a group
    // with the other webhooks' acknowledgements).
    context_.saver.save({id, {{channel, d.after.epoch, d.after.offset, d.after.timestamp}}, context_.node},
                        [self = shared_from_this(), id, generation, channel](bool kept) {
                            asio::post(self->loop_, [self, id, generation, channel, kept] {
                                self->on_saved(id, generation, channel, kept);
                            });
                        });
}

void webhook_runner::on_saved(std::string const& id, std::uint64_t generation, std::string const& channel, bool kept) {
    auto* run = find(id, generation);
    if (!run || !run->channels.contains(channel)) return;
    auto& c = run->channels.at(channel);
    if (!kept) {
        // Deleted, or the lease went to another node, or the store failed: the service's next
        // sync decides; the acknowledged request may be repeated by whoever goes on.
        c.now = phase::idle;
        c.pending.reset();
        context_.changed(id);
        return;
    }
    if (c.failures > 0)
        log_event(spdlog::level::info, "webhook.recovered",
                  {{"webhook", id}, {"channel", channel}, {"failed_attempts", c.failures}});
    c.at = c.pending->after;
    c.pending.reset();
    c.failures = 0;
    c.failing_since_ms = 0;
    c.now = phase::idle;
    apply_replay(*run, c, channel);
    publish(*run, channel);
    pump(*run, channel);
}

void webhook_runner::fail(webhook_run& run, channel_run& c, std::string const& channel, outbound_result const& result) {
    auto const now = now_ms();
    if (c.failures++ == 0) c.failing_since_ms = now;
    if (apply_replay(run, c, channel)) return pump(run, channel);
    if (result.status == 410) return disable(run, "the target answered 410 Gone");
    if (now - c.failing_since_ms >= context_.config.webhook_disable_after_s * 1000)
        return disable(run, "deliveries failed for " + std::to_string(context_.config.webhook_disable_after_s) + " seconds");
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    auto const delay = retries_.delay(c.failures, unit(random_));
    c.next_attempt_ms = now + delay.count();
    c.now = phase::waiting;
    context_.metrics.webhook_retries.inc();
    if (c.failures == 1)
        log_event(spdlog::level::warn, "webhook.retrying",
                  {{"webhook", run.definition.id}, {"channel", channel}, {"status", result.status},
                   {"error", result.error}, {"retry_in_ms", delay.count()}});
    publish(run, channel);
    c.retry->expires_after(delay);
    c.retry->async_wait([self = shared_from_this(), id = run.definition.id, generation = run.generation,
                         channel](boost::system::error_code ec) {
        if (ec) return;
        auto* current = self->find(id, generation);
        if (!current || !current->channels.contains(channel)) return;
        auto& state = current->channels.at(channel);
        if (state.now != phase::waiting || !state.pending || !current->definition.enabled) return;
        self->send(*current, channel);
    });
}

void webhook_runner::disable(webhook_run& run, std::string reason) {
    if (!run.definition.enabled) return;
    run.definition.enabled = false;
    run.definition.disabled_reason = reason;
    for (auto& [channel, c] : run.channels) {
        c.retry->cancel();
        if (c.now == phase::waiting) c.now = phase::idle;
        publish(run, channel);
    }
    log_event(spdlog::level::warn, "webhook.disabled", {{"webhook", run.definition.id}, {"reason", reason}});
    asio::post(context_.blocking, [&context = context_, definition = run.definition] {
        try {
            context.store.update_definition(definition.id, definition.to_store_text());
        } catch (std::exception const& e) {
            log_event(spdlog::level::err, "webhook.save_failed", {{"webhook", definition.id}, {"error", e.what()}});
        }
        context.changed(definition.id);
    });
}

void webhook_runner::publish(webhook_run const& run, std::string const& channel) {
    auto const& c = run.channels.at(channel);
    channel_progress p;
    p.delivered = c.at;
    p.failures = c.failures;
    p.next_attempt_ms = c.now == phase::waiting ? c.next_attempt_ms : 0;
    p.pending_events = c.last_offset > c.at.offset ? c.last_offset - c.at.offset : 0;
    p.oldest_pending_ms = p.pending_events && c.pending ? c.pending->oldest_ms : 0;
    context_.board.set_channel(run.definition.id, channel, p);
}

}  // namespace kp::server
