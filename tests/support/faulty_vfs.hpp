#pragma once
// Test support: a SQLite VFS whose files fail every write with SQLITE_FULL on demand (a disk
// that is full), a thin shim over the default VFS. Used by the unit tests of the SQLite store
// (faulty_vfs::failing_writes) and by the test-only binary kinto-push-faulty-disk, where writes
// fail while a control file exists (tests/integration/faults_store.test.js). Never linked into
// the kinto-push binary.

#include <sqlite3.h>

#include <atomic>

namespace faulty_vfs {

// Writes fail while this is set...
extern std::atomic<bool> fail_writes;
// ...or while the file named here exists (null: no control file). Set before opening a store.
// A plain pointer: constant-initialized, so it may be set from another file's static
// initializer (kinto-push-faulty-disk sets it before main).
extern char const* control_file;
// Writes refused so far.
extern std::atomic<int> refused_writes;

// Registers the VFS once and returns its name; with `as_default`, SQLite uses it for every
// database opened without a VFS name. Throws std::runtime_error when SQLite has no default VFS.
char const* install(bool as_default = false);

// Writes fail while one of these lives (cleared even when a test throws).
struct failing_writes {
    failing_writes() { fail_writes = true; }
    ~failing_writes() { fail_writes = false; }
    failing_writes(failing_writes const&) = delete;
    failing_writes& operator=(failing_writes const&) = delete;
};

}  // namespace faulty_vfs
