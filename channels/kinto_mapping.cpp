#include "channels/kinto_mapping.hpp"

#include "channels/channel_name.hpp"
#include "channels/compact_json.hpp"
#include "channels/json_string.hpp"
#include "channels/kinto_uri.hpp"
#include "text/hex.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

namespace kp::channels {

namespace {
// An id that names a channel: said as channel_name::grammar says it.
constexpr char const* id_grammar =
    "must be an id of 1 to 64 characters among a-z A-Z 0-9 _ - (channels: /buckets/BID/collections/CID)";
}  // namespace

namespace {

using json = nlohmann::ordered_json;

// Thrown inside this file only, to unwind a validation to map(), which returns it as a value.
struct invalid {
    std::string message;
};

[[noreturn]] void fail(std::string const& path, std::string const& why) {
    throw invalid{path + ": " + why};
}

std::string const& require_string(json const& object, char const* key, std::string const& path) {
    auto it = object.find(key);
    if (it == object.end()) fail(path + "." + key, "is required");
    if (!it->is_string()) fail(path + "." + key, "must be a string");
    return it->get_ref<std::string const&>();
}

std::string const& require_id(json const& object, char const* key, std::string const& path) {
    auto const& id = require_string(object, key, path);
    if (!channel_name::valid_id(id)) fail(path + "." + key, id_grammar);
    return id;
}

std::optional<std::string> optional_id(json const& object, char const* key, std::string const& path) {
    if (!object.contains(key) || object[key].is_null()) return std::nullopt;
    return require_id(object, key, path);
}

// One impacted object, validated: the id it concerns and the new last_modified if any.
struct impacted {
    std::string id;
    std::optional<std::int64_t> new_last_modified;
    std::int64_t identity_last_modified = 0;   // from new, or from old where there is no new
};

impacted check_impacted(json const& element, std::string const& path) {
    if (!element.is_object()) fail(path, "must be an object");
    impacted out;
    bool any = false;
    for (char const* side : {"new", "old"}) {
        auto it = element.find(side);
        if (it == element.end() || it->is_null()) continue;
        std::string const side_path = path + "." + side;
        if (!it->is_object()) fail(side_path, "must be an object");
        auto const& id = require_string(*it, "id", side_path);
        auto lm = it->find("last_modified");
        if (lm == it->end()) fail(side_path + ".last_modified", "is required");
        if (!lm->is_number_integer()) fail(side_path + ".last_modified", "must be an integer");
        if (any && id != out.id) fail(side_path + ".id", "must equal new.id");
        if (!any) {
            out.id = id;
            out.identity_last_modified = lm->get<std::int64_t>();
        }
        if (std::string_view(side) == "new") out.new_last_modified = lm->get<std::int64_t>();
        any = true;
    }
    if (!any) fail(path, "must have new or old");
    return out;
}

// SHA-256 fetched from OpenSSL's provider once, not looked up again for every event (an
// implicit fetch takes locks and allocations), and a digest context kept per thread.
std::string sha256_hex(std::string const& text) {
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    static thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(),
                                                                                        &EVP_MD_CTX_free};
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (sha256 == nullptr || !context || EVP_DigestInit_ex2(context.get(), sha256, nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &size) != 1)
        throw std::runtime_error("SHA-256 is not available from OpenSSL");
    return text::hex_encode(std::string_view(reinterpret_cast<char const*>(digest), size));
}

// The identity of an event for idempotent publishing (PROTOCOL.md section 2): the SHA-256 of
// the JSON text [uri, action, resource_name, timestamp, [[id, last_modified], …]] (pairs sorted,
// without repeats). Stores keep these keys, so the text must not change from one version to
// the next; it is written directly, as nlohmann's dump() of that array writes it.
std::string dedupe_key(json const& payload, std::vector<impacted> const& objects) {
    std::vector<std::pair<std::string_view, std::int64_t>> pairs;
    for (auto const& o : objects) pairs.emplace_back(o.id, o.identity_last_modified);
    std::sort(pairs.begin(), pairs.end());
    pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
    std::string identity = "[";
    for (char const* key : {"uri", "action", "resource_name"}) {
        append_json_string(identity, payload[key].get_ref<std::string const&>());
        identity += ',';
    }
    append_compact_json(identity, payload["timestamp"]);
    identity += ",[";
    for (std::size_t i = 0; i < pairs.size(); ++i) {
        identity += i == 0 ? "[" : ",[";
        append_json_string(identity, pairs[i].first);
        identity += ',';
        identity += std::to_string(pairs[i].second);
        identity += ']';
    }
    identity += "]]";
    return sha256_hex(identity);
}

// Builds the channels' parts of one validated event, in delivery order.
class event_splitter {
public:
    // Serializes the payload, each impacted object and the other members once; every
    // channel's part is then a concatenation of those pieces (no copy of the JSON tree).
    event_splitter(json const& event, std::vector<impacted> objects) : objects_(std::move(objects)) {
        payload_timestamp_ = event["payload"]["timestamp"].get<std::int64_t>();
        head_ = "{\"payload\":";
        append_compact_json(head_, event["payload"]);
        head_ += ",\"impacted_objects\":[";
        if (auto list = event.find("impacted_objects"); list != event.end()) {
            pieces_.reserve(list->size());
            for (auto const& element : *list) append_compact_json(pieces_.emplace_back(), element);
        }
        tail_ = "]";
        for (auto it = event.begin(); it != event.end(); ++it) {
            if (it.key() == "payload" || it.key() == "impacted_objects") continue;
            tail_ += ',';
            append_json_string(tail_, it.key());
            tail_ += ':';
            append_compact_json(tail_, it.value());
        }
        tail_ += "}";
    }

    // The part of the event that concerns the objects for which `keep(i)` holds:
    // {"payload": …, "impacted_objects": [those], other members as given}.
    template <class Keep>
    void add(std::string channel, Keep keep) {
        std::string body = head_;
        std::int64_t timestamp = 0;
        bool has_new = false;
        bool first = true;
        for (std::size_t i = 0; i < objects_.size(); ++i) {
            if (!keep(i)) continue;
            if (!first) body += ',';
            body += pieces_[i];
            first = false;
            if (objects_[i].new_last_modified) {
                timestamp = has_new ? std::max(timestamp, *objects_[i].new_last_modified)
                                    : *objects_[i].new_last_modified;
                has_new = true;
            }
        }
        body += tail_;
        entries_.push_back({std::move(channel), has_new ? timestamp : payload_timestamp_, std::move(body)});
    }

    void add_all(std::string channel) {
        add(std::move(channel), [](std::size_t) { return true; });
    }

    std::vector<store::append_entry> take() { return std::move(entries_); }

private:
    std::vector<impacted> objects_;
    std::int64_t payload_timestamp_ = 0;
    std::string head_;                  // {"payload":…,"impacted_objects":[
    std::vector<std::string> pieces_;   // each impacted object, serialized
    std::string tail_;                  // ], the other members}
    std::vector<store::append_entry> entries_;
};

}  // namespace

std::variant<std::vector<store::append_event>, mapping_error> kinto_mapping::map(json const& body) const {
    try {
        if (!body.is_object()) fail("body", "must be a JSON object");
        std::vector<std::pair<json const*, std::string>> events;
        if (auto list = body.find("events"); list != body.end()) {
            if (!list->is_array()) fail("events", "must be a list");
            if (list->empty()) fail("events", "must not be empty");
            for (std::size_t i = 0; i < list->size(); ++i)
                events.emplace_back(&(*list)[i], "events[" + std::to_string(i) + "]");
        } else {
            events.emplace_back(&body, "");
        }

        std::vector<store::append_event> out;
        for (auto const& [event_ptr, prefix] : events) {
            json const& event = *event_ptr;
            std::string const at = prefix.empty() ? "" : prefix + ".";
            if (!event.is_object()) fail(prefix.empty() ? "body" : prefix, "must be an object");
            auto payload_it = event.find("payload");
            if (payload_it == event.end()) fail(at + "payload", "is required");
            json const& payload = *payload_it;
            std::string const ppath = at + "payload";
            if (!payload.is_object()) fail(ppath, "must be an object");

            auto const& action = require_string(payload, "action", ppath);
            if (action != "create" && action != "update" && action != "delete")
                fail(ppath + ".action", "must be one of create, update, delete");
            auto const& resource = require_string(payload, "resource_name", ppath);
            auto const& uri = require_string(payload, "uri", ppath);
            auto ts = payload.find("timestamp");
            if (ts == payload.end()) fail(ppath + ".timestamp", "is required");
            if (!ts->is_number_integer()) fail(ppath + ".timestamp", "must be an integer");

            std::vector<impacted> objects;
            if (auto list = event.find("impacted_objects"); list != event.end()) {
                if (!list->is_array()) fail(at + "impacted_objects", "must be a list");
                for (std::size_t i = 0; i < list->size(); ++i)
                    objects.push_back(check_impacted((*list)[i], at + "impacted_objects[" + std::to_string(i) + "]"));
            }

            event_splitter split(event, objects);
            // The objects' own ids: from each impacted object (Kinto merges a batch's events and
            // keeps the first sub-request's payload, so the payload's id may name only one of
            // them); from the payload only when there are no impacted objects.
            auto object_ids = [&](char const* own_key) {
                std::vector<std::string> ids;
                for (std::size_t i = 0; i < objects.size(); ++i) {
                    if (!channel_name::valid_id(objects[i].id))
                        fail(at + "impacted_objects[" + std::to_string(i) + "].id",
                             id_grammar);
                    if (std::find(ids.begin(), ids.end(), objects[i].id) == ids.end())
                        ids.push_back(objects[i].id);
                }
                if (ids.empty()) {
                    auto own = optional_id(payload, own_key, ppath);
                    if (!own) fail(ppath + "." + own_key, "is required when impacted_objects is empty");
                    ids.push_back(*own);
                }
                return ids;
            };
            auto belongs = [&objects](std::string const& id) {
                return [&objects, id](std::size_t i) { return objects[i].id == id; };
            };

            if (resource == "record") {
                auto const& bid = require_id(payload, "bucket_id", ppath);
                auto const& cid = require_id(payload, "collection_id", ppath);
                split.add_all(channel_name::collection(bid, cid));
                split.add_all(channel_name::bucket(bid));
            } else if (resource == "collection") {
                auto const& bid = require_id(payload, "bucket_id", ppath);
                for (auto const& cid : object_ids("collection_id"))
                    split.add(channel_name::collection(bid, cid), belongs(cid));
                split.add_all(channel_name::bucket(bid));
            } else if (resource == "group") {
                auto const& bid = require_id(payload, "bucket_id", ppath);
                split.add_all(channel_name::bucket(bid));
            } else if (resource == "bucket") {
                for (auto const& bid : object_ids("bucket_id")) {
                    split.add(channel_name::bucket(bid), belongs(bid));
                    if (action == "delete" && known_) {
                        for (auto const& collection : known_(bid))
                            split.add(collection, belongs(bid));
                    }
                }
            }
            // Once the ids themselves are valid: does the uri name the same ones?
            if (auto off = kinto_uri::check(uri, payload)) {
                auto shown = [](std::string const& id) { return channel_name::valid_id(id) ? "'" + id + "'" : "another id"; };
                fail(ppath + ".uri", "names " + off->field + " " + shown(off->uri_id) + ", but " + ppath + "." +
                                         off->field + " is " + shown(payload[off->field].get<std::string>()));
            }
            split.add_all(channel_name::firehose());
            out.push_back({dedupe_key(payload, objects), split.take()});
        }
        return out;
    } catch (invalid const& e) {
        return mapping_error{e.message};
    }
}

}  // namespace kp::channels
