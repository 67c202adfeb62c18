#pragma once
// What the store tests that need a disk or a Redis share: a temp dir removed at the end, and a
// redis-server of their own (Debian's, from scripts/install-deps test) on a free loopback port,
// without persistence, killed by its PID at the end.

#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <system_error>
#include <vector>

namespace store_test {

namespace fs = std::filesystem;

// A directory under the system temp dir, removed with everything in it at the end.
class temp_dir {
public:
    temp_dir() {
        std::random_device rd;
        std::uniform_int_distribution<std::uint64_t> dist;
        path_ = fs::temp_directory_path() / ("kp-store-test-" + std::to_string(dist(rd)));
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    temp_dir(temp_dir const&) = delete;
    temp_dir& operator=(temp_dir const&) = delete;
    fs::path const& path() const { return path_; }

private:
    fs::path path_;
};

// A free loopback port: bound to port 0, read back, released.
inline std::uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    bool const ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    ::close(fd);
    REQUIRE(ok);
    return ntohs(address.sin_port);
}

// A redis-server of its own, without persistence, in a temp dir; killed by its PID at the end.
class redis_server {
public:
    redis_server() : port_(free_port()) {
        std::vector<std::string> args{"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                      "--dir", dir_.path().string(), "--save", "", "--appendonly", "no",
                                      "--logfile", (dir_.path() / "redis.log").string()};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        INFO("redis-server must be installed (scripts/install-deps test)");
        REQUIRE(::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ) == 0);
    }
    ~redis_server() {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    redis_server(redis_server const&) = delete;
    redis_server& operator=(redis_server const&) = delete;
    std::uint16_t port() const { return port_; }

private:
    temp_dir dir_;
    std::uint16_t port_;
    pid_t pid_ = -1;
};

}  // namespace store_test
