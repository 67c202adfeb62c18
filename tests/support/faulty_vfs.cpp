// A SQLite VFS whose files fail every write with SQLITE_FULL on demand: a thin shim over the
// default VFS. Each shim file is followed, in the same allocation, by the real file it forwards
// to. WAL needs the v2 methods (shared memory), so all v1-v3 methods forward.

#include "tests/support/faulty_vfs.hpp"

#include <unistd.h>

#include <stdexcept>

namespace faulty_vfs {

std::atomic<bool> fail_writes{false};
char const* control_file = nullptr;
std::atomic<int> refused_writes{0};

namespace {

sqlite3_vfs* base = nullptr;
sqlite3_vfs vfs{};
char const* const vfs_name = "kp-test-faulty";

struct shim_file {
    sqlite3_file base;   // first: SQLite sees this
    sqlite3_file* real;  // points just after this struct
};

sqlite3_file* real(sqlite3_file* f) {
    return reinterpret_cast<shim_file*>(f)->real;
}
sqlite3_io_methods const& methods(sqlite3_file* f) {
    return *real(f)->pMethods;
}

int x_close(sqlite3_file* f) {
    return methods(f).xClose(real(f));
}
int x_read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
    return methods(f).xRead(real(f), buffer, amount, offset);
}
int x_write(sqlite3_file* f, void const* buffer, int amount, sqlite3_int64 offset) {
    if (fail_writes || (control_file != nullptr && ::access(control_file, F_OK) == 0)) {
        ++refused_writes;
        return SQLITE_FULL;
    }
    return methods(f).xWrite(real(f), buffer, amount, offset);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    return methods(f).xTruncate(real(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
    return methods(f).xSync(real(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
    return methods(f).xFileSize(real(f), size);
}
int x_lock(sqlite3_file* f, int level) {
    return methods(f).xLock(real(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
    return methods(f).xUnlock(real(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
    return methods(f).xCheckReservedLock(real(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
    return methods(f).xFileControl(real(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
    return methods(f).xSectorSize(real(f));
}
int x_device_characteristics(sqlite3_file* f) {
    return methods(f).xDeviceCharacteristics(real(f));
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    if (methods(f).iVersion < 2 || !methods(f).xShmMap) return SQLITE_IOERR_SHMMAP;
    return methods(f).xShmMap(real(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    if (methods(f).iVersion < 2 || !methods(f).xShmLock) return SQLITE_IOERR_SHMLOCK;
    return methods(f).xShmLock(real(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
    if (methods(f).iVersion >= 2 && methods(f).xShmBarrier) methods(f).xShmBarrier(real(f));
}
int x_shm_unmap(sqlite3_file* f, int delete_flag) {
    if (methods(f).iVersion < 2 || !methods(f).xShmUnmap) return SQLITE_OK;
    return methods(f).xShmUnmap(real(f), delete_flag);
}
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
    if (methods(f).iVersion < 3 || !methods(f).xFetch) {
        *out = nullptr;
        return SQLITE_OK;
    }
    return methods(f).xFetch(real(f), offset, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
    if (methods(f).iVersion < 3 || !methods(f).xUnfetch) return SQLITE_OK;
    return methods(f).xUnfetch(real(f), offset, page);
}

sqlite3_io_methods const io_methods = {
    3,
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

int x_open(sqlite3_vfs*, char const* name, sqlite3_file* file, int flags, int* out_flags) {
    auto* shim = reinterpret_cast<shim_file*>(file);
    shim->real = reinterpret_cast<sqlite3_file*>(shim + 1);
    shim->real->pMethods = nullptr;
    int const rc = base->xOpen(base, name, shim->real, flags, out_flags);
    // SQLite calls xClose whenever pMethods is set, even if xOpen failed.
    shim->base.pMethods = shim->real->pMethods ? &io_methods : nullptr;
    return rc;
}

}  // namespace

char const* install(bool as_default) {
    static char const* const name = [as_default] {
        base = sqlite3_vfs_find(nullptr);
        if (base == nullptr) throw std::runtime_error("SQLite has no default VFS");
        vfs = *base;   // every other method, and pAppData, as the default VFS has them
        vfs.pNext = nullptr;
        vfs.zName = vfs_name;
        vfs.szOsFile = static_cast<int>(sizeof(shim_file)) + base->szOsFile;
        vfs.xOpen = x_open;
        if (sqlite3_vfs_register(&vfs, as_default ? 1 : 0) != SQLITE_OK)
            throw std::runtime_error("cannot register the faulty VFS");
        return vfs_name;
    }();
    return name;
}

}  // namespace faulty_vfs
