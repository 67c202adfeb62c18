#pragma once
// The claim of one process on a history file: an exclusive `flock` on `<path>.lock`, held for
// the object's life (two servers appending to one history would both number events).

#include <string>

namespace kp::store {

class sqlite_file_lock {
public:
    // Takes the lock of the history file `path`, creating `<path>.lock`. Throws store_error
    // when the lock file cannot be opened, or names the file when another process holds it.
    explicit sqlite_file_lock(std::string const& path);
    ~sqlite_file_lock();
    sqlite_file_lock(sqlite_file_lock const&) = delete;
    sqlite_file_lock& operator=(sqlite_file_lock const&) = delete;

private:
    int fd_ = -1;
};

}  // namespace kp::store
