#pragma once
// A pattern of channel names (PROTOCOL.md sections 3 and 5): a channel path in which a Kinto
// id may be replaced by `*`, matching exactly one id.
//
// Valid patterns have the shapes of channel names:
//   /buckets                          (the firehose itself; public_channels refuses it)
//   /buckets/X
//   /buckets/X/collections/Y
// where X and Y are each a Kinto id ([a-zA-Z0-9_-]{1,64}) or `*`. The literals `buckets` and
// `collections` cannot be replaced by `*`, so `/*` is not a pattern, and no pattern but
// `/buckets` matches the firehose. Partial wildcards (`blog-*`), empty segments, a trailing
// slash and anything else are invalid.
//
// matches(channel) is true when `channel` has as many segments as the pattern and each segment
// equals the pattern's or, where the pattern has `*`, is a Kinto id. It does not need
// `channel` to be validated first: a string that is not a channel name matches nothing.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kp::auth {

class channel_pattern {
public:
    // Nullopt when `text` is not a valid pattern.
    static std::optional<channel_pattern> parse(std::string_view text);

    bool matches(std::string_view channel) const;

    // The pattern as written (valid patterns have one spelling only).
    std::string const& str() const { return text_; }

    bool operator==(channel_pattern const& other) const { return text_ == other.text_; }

private:
    explicit channel_pattern(std::string text, std::vector<std::string> segments)
        : text_(std::move(text)), segments_(std::move(segments)) {}

    std::string text_;
    // Without the leading empty one: "/buckets/*" is {"buckets", "*"}.
    std::vector<std::string> segments_;
};

}  // namespace kp::auth
