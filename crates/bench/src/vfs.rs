//! A pass-through VFS over SQLite's default one that counts `xSync` calls (fsyncs), so the
//! benchmark can report them for both libraries: both run on this process's SQLite, and this
//! VFS is registered as the default before any database is opened.
//!
//! Only `xOpen` is wrapped at the VFS level: every file it opens gets our I/O methods, which
//! forward each call to the real file and count the syncs.

use rusqlite::ffi;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// `xSync` calls since the process started, over all files.
static SYNCS: AtomicU64 = AtomicU64::new(0);

/// Number of `xSync` calls so far.
pub fn syncs() -> u64 {
    SYNCS.load(Ordering::Relaxed)
}

/// Our file: SQLite's base struct (pointing at [`METHODS`]), the real file's methods, then the
/// real file's own bytes (`szOsFile` of the wrapped VFS).
#[repr(C)]
struct CountingFile {
    base: ffi::sqlite3_file,
    real_methods: *const ffi::sqlite3_io_methods,
}

/// The wrapped (default) VFS, set once by [`install`].
static REAL: AtomicPtr<ffi::sqlite3_vfs> = AtomicPtr::new(std::ptr::null_mut());

const HEADER: usize = std::mem::size_of::<CountingFile>();

/// The real file that follows our header.
///
/// # Safety
/// `f` must be a `CountingFile` allocated by SQLite with our `szOsFile`.
unsafe fn real(f: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    // SAFETY: the caller guarantees the allocation holds HEADER + the real file.
    unsafe { (f as *mut u8).add(HEADER) as *mut ffi::sqlite3_file }
}

/// The real file's methods.
///
/// # Safety
/// `f` must be an opened `CountingFile`.
unsafe fn methods(f: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    // SAFETY: set by x_open before SQLite can call any method; SQLite's method tables are static.
    unsafe { &*(*(f as *mut CountingFile)).real_methods }
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
forward!(x_write, xWrite(buf: *const c_void, amt: c_int, off: i64) -> c_int);
forward!(x_truncate, xTruncate(size: i64) -> c_int);
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

unsafe extern "C" fn x_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    SYNCS.fetch_add(1, Ordering::Relaxed);
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
            (*(f as *mut CountingFile)).real_methods = (*inner).pMethods;
            (*f).pMethods = &METHODS;
        }
        rc
    }
}

/// Registers the counting VFS as the default. Call once, before opening any database.
pub fn install() {
    // SAFETY: called once at startup before any connection exists; the VFS struct is leaked so
    // it outlives every connection, and copies the default VFS's other entry points (which only
    // read the struct's mxPathname / pAppData, copied as well).
    unsafe {
        let default = ffi::sqlite3_vfs_find(std::ptr::null());
        assert!(!default.is_null(), "no default VFS");
        REAL.store(default, Ordering::Relaxed);
        let mut vfs: ffi::sqlite3_vfs = std::ptr::read(default);
        vfs.szOsFile = (HEADER + (*default).szOsFile as usize) as c_int;
        vfs.zName = c"counting".as_ptr();
        vfs.pNext = std::ptr::null_mut();
        vfs.xOpen = Some(x_open);
        let vfs = Box::leak(Box::new(vfs));
        let rc = ffi::sqlite3_vfs_register(vfs, 1);
        assert_eq!(rc, ffi::SQLITE_OK, "registering the counting VFS");
    }
}
