#pragma once
// The --state file: {channel: {epoch, offset, timestamp}} as JSON, replaced atomically (temp
// file in the same directory, fsync, rename, fsync of the directory) so that a crash at any
// moment leaves either the old or the new positions, never a torn file.

#include "clients/cli/position.hpp"

#include <map>
#include <optional>
#include <string>
#include <variant>

namespace kp::cli {

class position_store {
public:
    using positions = std::map<std::string, position>;

    explicit position_store(std::string path) : path_(std::move(path)) {}

    // The saved positions: empty when the file does not exist or is empty; an error message
    // when it cannot be read or is not what save() writes.
    std::variant<positions, std::string> load() const;
    // Replaces the file with `all`. An error message when that failed (the old file is intact).
    std::optional<std::string> save(positions const& all) const;

    std::string const& path() const { return path_; }

private:
    std::string path_;
};

}  // namespace kp::cli
