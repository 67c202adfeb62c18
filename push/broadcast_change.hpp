#pragma once
// Broadcasts that got a new version together: what crosses to every shard, once, with the
// `broadcast` frame naming all of them serialized once and shared by every connection.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kp::push {

using frame_ptr = std::shared_ptr<std::string const>;

class broadcast_change {
public:
    struct entry {
        std::size_t index;     // the broadcast's position in the registry (bit `index` of a mask)
        std::string id;
        std::string version;
    };

    explicit broadcast_change(std::vector<entry> entries);

    std::vector<entry> const& entries() const { return entries_; }
    // One bit per changed broadcast.
    std::uint64_t mask() const { return mask_; }
    // {"messageType":"broadcast","broadcasts":{id: version, …}} for the entries in `mask`, as a
    // whole WebSocket text frame; the whole change's frame is built once, a subset's on request.
    frame_ptr frame() const { return frame_; }
    frame_ptr frame_for(std::uint64_t mask) const;

private:
    std::vector<entry> entries_;
    std::uint64_t mask_ = 0;
    frame_ptr frame_;
};

using broadcast_change_ptr = std::shared_ptr<broadcast_change const>;

}  // namespace kp::push
