#include "store/sqlite_file_lock.hpp"

#include "store/store_error.hpp"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kp::store {

sqlite_file_lock::sqlite_file_lock(std::string const& path) {
    std::string const lock_path = path + ".lock";
    fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw store_error(lock_path + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        throw store_error(path + ": in use by another kinto-push process (lock file " + lock_path + ")");
    }
}

sqlite_file_lock::~sqlite_file_lock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace kp::store
