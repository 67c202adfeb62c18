#include "clients/cli/position_store.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

namespace kp::cli {

namespace {

using json = nlohmann::json;

std::string errno_text() { return std::strerror(errno); }

// The whole of `fd` (a regular file).
std::optional<std::string> read_all(int fd) {
    std::string out;
    char buffer[16384];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) return out;
        if (n < 0) {
            if (errno == EINTR) continue;
            return std::nullopt;
        }
        out.append(buffer, static_cast<std::size_t>(n));
        if (out.size() > 64 * 1024 * 1024) {
            errno = EFBIG;
            return std::nullopt;
        }
    }
}

bool write_all(int fd, std::string const& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

}  // namespace

std::variant<position_store::positions, std::string> position_store::load() const {
    int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return positions{};
        return "cannot open " + path_ + ": " + errno_text();
    }
    auto text = read_all(fd);
    int read_errno = errno;
    ::close(fd);
    if (!text) return "cannot read " + path_ + ": " + std::strerror(read_errno);
    if (text->find_first_not_of(" \t\r\n") == std::string::npos) return positions{};

    auto corrupt = [&](std::string const& why) {
        return path_ + " is not a kinto-push tail state file (" + why +
               "); fix or delete it (deleting it starts from live events)";
    };
    auto doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded()) return corrupt("not JSON");
    if (!doc.is_object()) return corrupt("not a JSON object");
    positions out;
    for (auto it = doc.begin(); it != doc.end(); ++it) {
        auto const& entry = it.value();
        std::string where = "\"" + it.key() + "\"";
        if (!entry.is_object()) return corrupt(where + " is not an object");
        auto epoch = entry.find("epoch");
        auto offset = entry.find("offset");
        auto timestamp = entry.find("timestamp");
        if (epoch == entry.end() || !epoch->is_string() || epoch->get_ref<std::string const&>().empty())
            return corrupt(where + ".epoch must be a non-empty string");
        if (offset == entry.end() || !offset->is_number_unsigned())
            return corrupt(where + ".offset must be a non-negative integer");
        position p;
        p.epoch = epoch->get<std::string>();
        p.offset = offset->get<std::uint64_t>();
        if (timestamp != entry.end() && !timestamp->is_null()) {
            if (!timestamp->is_number_integer()) return corrupt(where + ".timestamp must be an integer or null");
            p.timestamp = timestamp->get<std::int64_t>();
        }
        out.emplace(it.key(), std::move(p));
    }
    return out;
}

std::optional<std::string> position_store::save(positions const& all) const {
    json doc = json::object();
    for (auto const& [channel, p] : all) {
        doc[channel] = json{{"epoch", p.epoch},
                            {"offset", p.offset},
                            {"timestamp", p.timestamp ? json(*p.timestamp) : json(nullptr)}};
    }
    std::string text = doc.dump(2) + "\n";

    std::filesystem::path target(path_);
    std::filesystem::path dir = target.parent_path();
    if (dir.empty()) dir = ".";
    // Same directory as the target: rename() is atomic only within one file system.
    std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
    std::vector<char> name(temp.begin(), temp.end());
    name.push_back('\0');
    int fd = ::mkostemp(name.data(), O_CLOEXEC);
    if (fd < 0) return "cannot create a temporary file in " + dir.string() + ": " + errno_text();
    auto fail = [&](std::string const& what) {
        std::string why = what + ": " + errno_text();
        if (fd >= 0) ::close(fd);
        ::unlink(name.data());
        return why;
    };
    if (!write_all(fd, text)) return fail("cannot write " + std::string(name.data()));
    // mkostemp creates the file 0600; a file that exists keeps its mode across the rename.
    struct stat existing {};
    if (::stat(path_.c_str(), &existing) == 0 && ::fchmod(fd, existing.st_mode & 07777) != 0)
        return fail("cannot set the mode of " + std::string(name.data()));
    if (::fsync(fd) != 0) return fail("cannot fsync " + std::string(name.data()));
    if (::close(fd) != 0) {
        fd = -1;
        return fail("cannot close " + std::string(name.data()));
    }
    fd = -1;
    if (::rename(name.data(), path_.c_str()) != 0) return fail("cannot rename the temporary file to " + path_);
    // The rename itself is durable once the directory is synced.
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return std::nullopt;
}

}  // namespace kp::cli
