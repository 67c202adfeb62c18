// Linked with server/main.cpp into kinto-push-faulty-disk, a test-only build of the server
// whose SQLite writes fail (SQLITE_FULL, as on a full disk) while the file named by the
// environment variable KP_FAULTY_DISK_FILE exists. The test creates and removes that file to
// break and repair the "disk" of a running server (tests/integration/faults_store.test.js).

#include "tests/support/faulty_vfs.hpp"

#include <cstdlib>

namespace {

// Before main(): the store opens its database with the default VFS, which this replaces.
struct faulty_disk_setup {
    faulty_disk_setup() {
        if (char const* file = std::getenv("KP_FAULTY_DISK_FILE")) faulty_vfs::control_file = file;
        faulty_vfs::install(true);
    }
} const setup;

}  // namespace
