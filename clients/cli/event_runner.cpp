#include "clients/cli/event_runner.hpp"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

extern char** environ;

namespace kp::cli {

namespace {

// The environment of the command: ours, with the event's KINTO_PUSH_* variables replacing any
// of the same name.
std::vector<std::string> command_environment(event_runner::event const& e) {
    std::vector<std::string> vars = {
        "KINTO_PUSH_CHANNEL=" + e.channel,
        "KINTO_PUSH_OFFSET=" + std::to_string(e.offset),
        "KINTO_PUSH_ACTION=" + e.action,
        "KINTO_PUSH_TIMESTAMP=" + (e.timestamp ? std::to_string(*e.timestamp) : std::string()),
        "KINTO_PUSH_EPOCH=" + e.epoch,
        "KINTO_PUSH_URI=" + e.uri,
    };
    std::vector<std::string> out;
    for (char** entry = environ; entry && *entry; ++entry) {
        std::string text(*entry);
        bool replaced = false;
        for (auto const& v : vars)
            if (text.compare(0, v.find('=') + 1, v, 0, v.find('=') + 1) == 0) replaced = true;
        if (!replaced) out.push_back(std::move(text));
    }
    out.insert(out.end(), vars.begin(), vars.end());
    return out;
}

void write_all(int fd, std::string const& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;   // EPIPE: the command does not read its stdin, which is its right
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace

event_runner::event_runner(boost::asio::any_io_executor executor, std::string command)
    : executor_(std::move(executor)), command_(std::move(command)) {}

event_runner::~event_runner() {
    if (child_ > 0) ::kill(-child_, SIGKILL);
    if (waiter_.joinable()) waiter_.join();
}

void event_runner::signal(int sig) const {
    // The whole process group: the shell and what it started (a pipeline, a script).
    if (child_ > 0) ::kill(-child_, sig);
}

void event_runner::run(event const& e, handler done) {
    if (waiter_.joinable()) waiter_.join();
    auto fail = [&](std::string const& what) {
        outcome o;
        o.error = what + ": " + std::strerror(errno);
        boost::asio::post(executor_, [done = std::move(done), o = std::move(o)]() mutable { done(std::move(o)); });
    };

    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail("cannot create a pipe");

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], 0);
    // Nothing of ours but stdin, stdout and stderr: not the WebSocket, not the state file.
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD}) sigaddset(&defaults, sig);
    sigset_t no_mask;
    sigemptyset(&no_mask);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setsigmask(&attributes, &no_mask);
    // A process group of its own, so that stopping tail stops every process of the command.
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

    std::vector<std::string> env = command_environment(e);
    std::vector<char*> envp;
    for (auto& v : env) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string shell = "/bin/sh", dash_c = "-c";
    std::vector<char*> argv = {shell.data(), dash_c.data(), command_.data(), nullptr};

    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, shell.c_str(), &actions, &attributes, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(pipe_fds[0]);
    if (rc != 0) {
        ::close(pipe_fds[1]);
        errno = rc;
        return fail("cannot run /bin/sh");
    }
    child_ = pid;

    // A command may take its time reading stdin, or never read it: the write and the wait
    // happen off the event loop, which keeps answering the server's pings meanwhile.
    waiter_ = std::thread([this, pid, fd = pipe_fds[1], input = e.frame + "\n", done = std::move(done)]() mutable {
        write_all(fd, input);
        ::close(fd);
        int status = 0;
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        outcome o;
        o.started = true;
        if (WIFEXITED(status)) {
            o.exited = true;
            o.exit_code = WEXITSTATUS(status);
        } else if (WIFSIGNALED(status)) {
            o.signal = WTERMSIG(status);
        }
        boost::asio::post(executor_, [this, done = std::move(done), o]() mutable {
            child_ = -1;
            if (waiter_.joinable()) waiter_.join();
            done(o);
        });
    });
}

}  // namespace kp::cli
