#include "websocket/extension_offers.hpp"

namespace kp::websocket {

namespace {

// tchar (RFC 9110 section 5.6.2).
bool token_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-': case '.':
    case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (!token_char(c)) return false;
    return true;
}

class cursor {
public:
    explicit cursor(std::string_view text) : text_(text) {}

    bool done() const { return pos_ >= text_.size(); }
    char peek() const { return done() ? '\0' : text_[pos_]; }
    void skip() { ++pos_; }

    void skip_spaces() {
        while (!done() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }

    std::optional<std::string> token() {
        std::size_t const start = pos_;
        while (!done() && token_char(text_[pos_])) ++pos_;
        if (pos_ == start) return std::nullopt;
        return std::string(text_.substr(start, pos_ - start));
    }

    // A quoted string (the opening quote is next), unescaped.
    std::optional<std::string> quoted() {
        ++pos_;
        std::string out;
        while (!done()) {
            char const c = text_[pos_++];
            if (c == '"') return out;
            if (c == '\\') {
                if (done()) return std::nullopt;
                out += text_[pos_++];
            } else {
                out += c;
            }
        }
        return std::nullopt;   // no closing quote
    }

    // After a malformed offer: past the next comma that is not inside a quoted string.
    void skip_offer() {
        bool in_quotes = false;
        while (!done()) {
            char const c = text_[pos_++];
            if (in_quotes && c == '\\' && !done()) {
                ++pos_;
            } else if (c == '"') {
                in_quotes = !in_quotes;
            } else if (c == ',' && !in_quotes) {
                return;
            }
        }
    }

private:
    std::string_view text_;
    std::size_t pos_ = 0;
};

// One offer, up to (not including) the comma that ends it; nullopt when malformed.
std::optional<extension_offer> parse_offer(cursor& in) {
    extension_offer offer;
    auto name = in.token();
    if (!name) return std::nullopt;
    offer.name = std::move(*name);
    for (;;) {
        in.skip_spaces();
        if (in.done() || in.peek() == ',') return offer;
        if (in.peek() != ';') return std::nullopt;
        in.skip();
        in.skip_spaces();
        extension_param param;
        auto param_name = in.token();
        if (!param_name) return std::nullopt;
        param.name = std::move(*param_name);
        in.skip_spaces();
        if (in.peek() == '=') {
            in.skip();
            in.skip_spaces();
            auto value = in.peek() == '"' ? in.quoted() : in.token();
            // A quoted value must still be a token once unescaped (RFC 6455 section 9.1).
            if (!value || !is_token(*value)) return std::nullopt;
            param.value = std::move(*value);
        }
        offer.params.push_back(std::move(param));
    }
}

}  // namespace

std::vector<extension_offer> parse_extension_offers(std::string_view header) {
    std::vector<extension_offer> offers;
    cursor in(header);
    while (!in.done()) {
        in.skip_spaces();
        if (in.peek() == ',') {   // an empty list element
            in.skip();
            continue;
        }
        if (in.done()) break;
        if (auto offer = parse_offer(in)) {
            offers.push_back(std::move(*offer));
            if (!in.done()) in.skip();   // the comma
        } else {
            in.skip_offer();
        }
    }
    return offers;
}

}  // namespace kp::websocket
