#pragma once
// A channel name as PROTOCOL.md section 1 defines it: /buckets, /buckets/{bid} or
// /buckets/{bid}/collections/{cid}, with Kinto ids [a-zA-Z0-9_-]{1,64}.

#include <optional>
#include <string>
#include <string_view>

namespace kp::channels {

class channel_name {
public:
    enum class kind { firehose, bucket, collection };

    // Nullopt when `text` is not a valid channel name.
    static std::optional<channel_name> parse(std::string_view text);

    static bool valid_id(std::string_view id);
    // What a valid name looks like, for error messages.
    static constexpr std::string_view grammar =
        "/buckets, /buckets/BID or /buckets/BID/collections/CID, ids of 1 to 64 characters among a-z A-Z 0-9 _ -";
    static std::string firehose() { return "/buckets"; }
    static std::string bucket(std::string_view bid);
    static std::string collection(std::string_view bid, std::string_view cid);

    kind type() const { return kind_; }
    std::string const& str() const { return text_; }

private:
    channel_name(kind k, std::string text) : kind_(k), text_(std::move(text)) {}
    kind kind_;
    std::string text_;
};

}  // namespace kp::channels
