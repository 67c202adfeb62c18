#pragma once
// The publishing side, on a thread of its own: P keep-alive connections, each with at most one
// request in flight, issuing the events of a step at a target rate (round-robin over the
// channels: event k goes to channel k mod C with sequence number k div C + 1). The sending
// time is taken when a request is built and travels in the payload. A step ends when every
// event was answered, or its time is up (what was not sent by then is counted, not sent).

#include "bench/loadgen/http_base_url.hpp"
#include "bench/loadgen/latency_histogram.hpp"
#include "bench/loadgen/publisher_connection.hpp"
#include "bench/loadgen/record_payload.hpp"
#include "bench/loadgen/seq_set.hpp"
#include "bench/loadgen/target_protocol.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

namespace kp::loadgen {

class publish_scheduler {
public:
    struct step {
        std::uint32_t index = 0;        // carried in the payload, so that late events of a step are recognized
        double rate = 0;                // events/s; 0 = as fast as the connections go
        std::uint64_t events = 0;
        std::uint32_t channels = 1;
        double max_seconds = 60;
    };
    struct outcome {                    // read after finished()
        std::uint64_t issued = 0;
        std::uint64_t accepted = 0;
        std::uint64_t failed = 0;       // refused by the server, or no answer
        std::map<unsigned, std::uint64_t> refusals;   // status (0 = no answer) -> count
        std::vector<seq_set> accepted_seqs;           // per channel
        latency_histogram round_trip;
        std::uint64_t first_send_ns = 0;
        std::uint64_t last_answer_ns = 0;
        bool cut_short = false;         // the time bound ended the step before every event was sent
    };

    // Publisher connection p posts to urls[p mod N].
    publish_scheduler(target_protocol const& protocol, std::vector<http_base_url> const& urls,
                      std::vector<boost::asio::ip::address_v4> const& sources, unsigned connections,
                      std::size_t payload_bytes, payload_kind payload = payload_kind::bench);
    ~publish_scheduler();
    publish_scheduler(publish_scheduler const&) = delete;
    publish_scheduler& operator=(publish_scheduler const&) = delete;

    void start(step s);
    bool finished() const { return finished_.load(std::memory_order_acquire); }
    std::uint64_t accepted_so_far() const { return accepted_.load(std::memory_order_relaxed); }
    outcome const& result() const { return outcome_; }

private:
    void tick();
    void pump();
    void issue(std::shared_ptr<publisher_connection> const& c);
    std::uint64_t due(std::uint64_t now) const;
    void check_finished();

    target_protocol const& protocol_;
    std::size_t payload_bytes_;
    payload_kind payload_;
    boost::asio::io_context io_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    boost::asio::steady_timer timer_{io_};
    std::vector<std::shared_ptr<publisher_connection>> connections_;

    step step_;
    outcome outcome_;
    std::uint64_t start_ns_ = 0;
    std::uint64_t deadline_ns_ = 0;
    std::uint64_t in_flight_ = 0;
    bool running_ = false;
    std::atomic<bool> finished_{true};
    std::atomic<std::uint64_t> accepted_{0};
    std::thread thread_;
};

}  // namespace kp::loadgen
