#pragma once
// The answers every subscription transport (websocket_session, sse_session) gives its
// session_core from the server: authorization through subscriber_access, and the history's
// reads that may touch the disk or Redis, made on the blocking pool and handed back on the
// session's shard. `keep` holds the session alive until its answer has run.

#include "server/server_context.hpp"
#include "session/session_core.hpp"
#include "session/session_port.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace kp::server::session_answers {

// The core's settings from the server's: limits, development mode, the Kinto recheck period
// (none without --kinto-url).
session::session_settings session_settings_of(server_context const& context);

void authorize(server_context& context, boost::asio::any_io_executor executor, std::shared_ptr<void const> keep,
               session::subscriber_identity const& identity, std::string const& channel,
               session::session_port::decided done);

// Asks again about a granted channel (subscriber_access::recheck); the answer runs on `executor`.
void recheck(server_context& context, boost::asio::any_io_executor executor, std::shared_ptr<void const> keep,
             session::subscriber_identity const& identity, std::string const& channel,
             session::session_port::decided done);

// Milliseconds of the steady clock (session_port::steady_ms).
std::int64_t steady_ms();

void locate(server_context& context, boost::asio::any_io_executor executor, std::shared_ptr<void const> keep,
            std::string const& channel, std::int64_t timestamp, session::session_port::located done);

// `deflate`: the session compresses its events (permessage-deflate): the page's compressed
// frames are built on the pool too (pages read from the disk are the session's own).
void read_page(server_context& context, boost::asio::any_io_executor executor, std::shared_ptr<void const> keep,
               std::string const& channel, std::uint64_t after, std::size_t limit, bool deflate,
               session::session_port::paged done);

}  // namespace kp::server::session_answers
