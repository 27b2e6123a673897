//! A pass-through VFS over SQLite's default one that counts writes and syncs and can fail the
//! n-th of them.
//!
//! Only `xOpen` is wrapped at the VFS level: every file it opens gets our I/O methods, which
//! forward each call to the real file. Counters and the armed fault are process-wide, so a test
//! that injects faults must be the only user of the VFS in its test binary.

use rusqlite::ffi;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;

/// `xSync` calls so far, over all files.
static SYNCS: AtomicU64 = AtomicU64::new(0);
/// `xWrite`, `xSync` and `xTruncate` calls so far: the operations a fault can hit.
static MUTATIONS: AtomicU64 = AtomicU64::new(0);
/// The mutation number (1-based, counted by [`MUTATIONS`]) to fail; 0 = none.
static FAIL_AT: AtomicU64 = AtomicU64::new(0);
/// 0: an I/O error of the operation's kind; 1: `SQLITE_FULL`.
static FAIL_KIND: AtomicU64 = AtomicU64::new(0);

/// What an injected fault returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `SQLITE_IOERR_WRITE`, `SQLITE_IOERR_FSYNC` or `SQLITE_IOERR_TRUNCATE`.
    IoError,
    /// `SQLITE_FULL` (disk full).
    DiskFull,
}

/// Number of `xSync` calls so far.
pub fn syncs() -> u64 {
    SYNCS.load(Ordering::Relaxed)
}

/// Number of writes, syncs and truncates so far.
pub fn mutations() -> u64 {
    MUTATIONS.load(Ordering::Relaxed)
}

/// Fails the `n`-th write/sync/truncate from now (1-based) with `fault`, once.
pub fn arm(n: u64, fault: Fault) {
    FAIL_KIND.store((fault == Fault::DiskFull) as u64, Ordering::Relaxed);
    FAIL_AT.store(mutations() + n, Ordering::Relaxed);
}

/// Cancels an armed fault.
pub fn disarm() {
    FAIL_AT.store(0, Ordering::Relaxed);
}

/// Counts a mutation; returns the error code to fail it with, if it is the armed one.
fn mutation(io_error: c_int) -> Option<c_int> {
    let n = MUTATIONS.fetch_add(1, Ordering::Relaxed) + 1;
    if FAIL_AT.load(Ordering::Relaxed) != n {
        return None;
    }
    FAIL_AT.store(0, Ordering::Relaxed);
    Some(if FAIL_KIND.load(Ordering::Relaxed) == 1 {
        ffi::SQLITE_FULL
    } else {
        io_error
    })
}

/// Our file: SQLite's base struct (pointing at [`METHODS`]), the real file's methods, then the
/// real file's own bytes (`szOsFile` of the wrapped VFS).
#[repr(C)]
struct WrappedFile {
    base: ffi::sqlite3_file,
    real_methods: *const ffi::sqlite3_io_methods,
}

/// The wrapped (default) VFS.
static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

const HEADER: usize = std::mem::size_of::<WrappedFile>();

/// The real file that follows our header.
///
/// # Safety
/// `f` must be a `WrappedFile` allocated by SQLite with our `szOsFile`.
unsafe fn real(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: the caller guarantees the allocation holds HEADER + the real file.
    unsafe { (f as *mut u8).add(HEADER) as *mut ffi::sqlite3_file }
}

/// The real file's methods.
///
/// # Safety
/// `f` must be an opened `WrappedFile`.
unsafe fn methods(f: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    // SAFETY: set by x_open before SQLite can call any method; SQLite's method tables are static.
    unsafe { &*(*(f as *mut WrappedFile)).real_methods }
}

/// Forwards a method call to the real file (every method exists in the unix VFS's tables).
macro_rules! forward {
    ($name:ident, $field:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty) => {
        unsafe extern "C" fn $name(f: *mut ffi::sqlite3_file $(, $arg: $ty)*) -> $ret {
            // SAFETY: SQLite calls our methods only on files opened by x_open.
            unsafe { (methods(f).$field.expect(stringify!($field)))(real(f) $(, $arg)*) }
        }
    };
}

forward!(x_close, xClose() -> c_int);
forward!(x_read, xRead(buf: *mut c_void, amt: c_int, off: i64) -> c_int);
forward!(x_file_size, xFileSize(size: *mut i64) -> c_int);
forward!(x_lock, xLock(level: c_int) -> c_int);
forward!(x_unlock, xUnlock(level: c_int) -> c_int);
forward!(x_check_reserved_lock, xCheckReservedLock(out: *mut c_int) -> c_int);
forward!(x_file_control, xFileControl(op: c_int, arg: *mut c_void) -> c_int);
forward!(x_sector_size, xSectorSize() -> c_int);
forward!(x_device_characteristics, xDeviceCharacteristics() -> c_int);
forward!(x_shm_map, xShmMap(page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void) -> c_int);
forward!(x_shm_lock, xShmLock(offset: c_int, n: c_int, flags: c_int) -> c_int);
forward!(x_shm_unmap, xShmUnmap(delete: c_int) -> c_int);
forward!(x_fetch, xFetch(off: i64, amt: c_int, out: *mut *mut c_void) -> c_int);
forward!(x_unfetch, xUnfetch(off: i64, p: *mut c_void) -> c_int);

unsafe extern "C" fn x_write(f: *mut ffi::sqlite3_file, buf: *const c_void, amt: c_int, off: i64) -> c_int {
    if let Some(rc) = mutation(ffi::SQLITE_IOERR_WRITE) {
        return rc;
    }
    // SAFETY: SQLite calls our methods only on files opened by x_open.
    unsafe { (methods(f).xWrite.expect("xWrite"))(real(f), buf, amt, off) }
}

unsafe extern "C" fn x_truncate(f: *mut ffi::sqlite3_file, size: i64) -> c_int {
    if let Some(rc) = mutation(ffi::SQLITE_IOERR_TRUNCATE) {
        return rc;
    }
    // SAFETY: SQLite calls our methods only on files opened by x_open.
    unsafe { (methods(f).xTruncate.expect("xTruncate"))(real(f), size) }
}

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    SYNCS.fetch_add(1, Ordering::Relaxed);
    if let Some(rc) = mutation(ffi::SQLITE_IOERR_FSYNC) {
        return rc;
    }
    // SAFETY: SQLite calls our methods only on files opened by x_open.
    unsafe { (methods(f).xSync.expect("xSync"))(real(f), flags) }
}

unsafe extern "C" fn x_shm_barrier(f: *mut ffi::sqlite3_file) {
    // SAFETY: SQLite calls our methods only on files opened by x_open.
    unsafe { (methods(f).xShmBarrier.expect("xShmBarrier"))(real(f)) }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(x_close),
    xRead: Some(x_read),
    xWrite: Some(x_write),
    xTruncate: Some(x_truncate),
    xSync: Some(x_sync),
    xFileSize: Some(x_file_size),
    xLock: Some(x_lock),
    xUnlock: Some(x_unlock),
    xCheckReservedLock: Some(x_check_reserved_lock),
    xFileControl: Some(x_file_control),
    xSectorSize: Some(x_sector_size),
    xDeviceCharacteristics: Some(x_device_characteristics),
    xShmMap: Some(x_shm_map),
    xShmLock: Some(x_shm_lock),
    xShmBarrier: Some(x_shm_barrier),
    xShmUnmap: Some(x_shm_unmap),
    xFetch: Some(x_fetch),
    xUnfetch: Some(x_unfetch),
};

unsafe extern "C" fn x_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    f: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    // SAFETY: REAL is set before this VFS is registered; `f` has our szOsFile bytes.
    unsafe {
        let real_vfs = REAL.load(Ordering::Relaxed);
        let inner = real(f);
        (*f).pMethods = std::ptr::null();
        let rc = ((*real_vfs).xOpen.expect("xOpen"))(real_vfs, name, inner, flags, out_flags);
        if !(*inner).pMethods.is_null() {
            (*(f as *mut WrappedFile)).real_methods = (*inner).pMethods;
            (*f).pMethods = &METHODS;
        }
        rc
    }
}

/// The name databases open this VFS by (`Connection::open_with_flags_and_vfs`).
pub const NAME: &str = "powersync-testkit";

/// Registers the VFS (once per process) under [`NAME`], as the default VFS too if
/// `make_default` is true on the first call. Returns [`NAME`].
pub fn install(make_default: bool) -> &'static str {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        // SAFETY: runs once; the VFS struct is leaked so it outlives every connection, and
        // copies the default VFS's other entry points, which only read the struct's
        // mxPathname / pAppData (copied as well).
        unsafe {
            let default = ffi::sqlite3_vfs_find(std::ptr::null());
            assert!(!default.is_null(), "no default VFS");
            REAL.store(default, Ordering::Relaxed);
            let mut vfs: ffi::sqlite3_vfs = std::ptr::read(default);
            vfs.szOsFile = (HEADER + (*default).szOsFile as usize) as c_int;
            vfs.zName = c"powersync-testkit".as_ptr();
            vfs.pNext = std::ptr::null_mut();
            vfs.xOpen = Some(x_open);
            let vfs = Box::leak(Box::new(vfs));
            let rc = ffi::sqlite3_vfs_register(vfs, make_default as c_int);
            assert_eq!(rc, ffi::SQLITE_OK, "registering the test VFS");
        }
    });
    NAME
}
