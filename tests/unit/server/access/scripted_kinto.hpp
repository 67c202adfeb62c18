#pragma once
// Kinto as a unit test scripts it, behind kinto_api: an answer per path, every GET recorded.
// No sockets: answers are posted to the caller's executor, never run inline, as kinto_client's.

#include "server/access/kinto_api.hpp"

#include <boost/asio/post.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kp::test {

struct kinto_reply {
    unsigned status = 0;
    std::string body;
};

struct kinto_call {
    std::string path;
    std::string authorization;
};

// What the scripted Kinto answers per path (unscripted paths: 404), and every GET it was asked.
struct kinto_script {
    std::map<std::string, kinto_reply> replies;
    std::vector<kinto_call> calls;
    std::vector<std::string> made_for;   // base URLs the factory was called with
};

// The kinto_api subscriber_access is given; what it answers and records lives in the shared script.
class scripted_kinto final : public server::kinto_api {
public:
    explicit scripted_kinto(std::shared_ptr<kinto_script> script) : script_(std::move(script)) {}

    void get(boost::asio::any_io_executor executor, std::string const& path, std::string const& authorization,
             completion done) const override {
        script_->calls.push_back({path, authorization});
        auto const found = script_->replies.find(path);
        kinto_reply reply = found != script_->replies.end() ? found->second : kinto_reply{404, "{}"};
        boost::asio::post(executor, [done = std::move(done), reply = std::move(reply)] {
            done(reply.status, reply.body);
        });
    }

private:
    std::shared_ptr<kinto_script> script_;
};

}  // namespace kp::test
