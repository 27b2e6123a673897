//! Registration of scalar SQL functions: the FFI edge between SQLite and our Rust closures.
//!
//! rusqlite's `create_scalar_function` reports errors by setting the result code *before*
//! the message, and `sqlite3_result_error` then resets the code to `SQLITE_ERROR`. The
//! reference reports specific extended codes (3091, 21, 4, …) that SDKs check, so we register
//! functions through this small wrapper instead, which sets the message first and the code
//! second, and can tag results with the JSON subtype.

use crate::error::{PowerSyncError, Result};
use rusqlite::ffi;
use rusqlite::types::ValueRef;
use rusqlite::Connection;
use std::ffi::{c_char, c_int, c_void, CString};

/// `SQLITE_RESULT_SUBTYPE` (3.45+). Older SQLite versions ignore unknown flag bits.
pub(crate) const RESULT_SUBTYPE: c_int = 0x0100_0000;
/// `SQLITE_SUBTYPE`.
pub(crate) const SUBTYPE: c_int = 0x0010_0000;
/// `SQLITE_DIRECTONLY`.
pub(crate) const DIRECTONLY: c_int = 0x0008_0000;
/// `SQLITE_DETERMINISTIC`.
pub(crate) const DETERMINISTIC: c_int = 0x0000_0800;
/// The subtype SQLite's JSON functions use for JSON text (`'J'`).
pub(crate) const JSON_SUBTYPE: u32 = 74;

/// The value a function returns.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// SQL NULL.
    Null,
    /// INTEGER.
    Integer(i64),
    /// TEXT without subtype.
    Text(String),
    /// TEXT tagged with the JSON subtype.
    Json(String),
    /// TEXT built in an [`OwnedText`] (need not be valid UTF-8), handed to SQLite without a
    /// copy: for results as large as the rows they come from.
    OwnedText(OwnedText),
    /// Argument `n`, unchanged, with its subtype cleared.
    Arg(usize),
}

/// One invocation of a registered function.
pub(crate) struct Call<'a> {
    db: *mut ffi::sqlite3,
    argv: &'a [*mut ffi::sqlite3_value],
}

impl Call<'_> {
    /// Number of arguments.
    pub(crate) fn len(&self) -> usize {
        self.argv.len()
    }

    /// Argument `i` (must be < `len()`).
    pub(crate) fn arg(&self, i: usize) -> ValueRef<'_> {
        let v = self.argv[i];
        // SAFETY: `v` is a protected sqlite3_value handed to xFunc by SQLite, valid for the
        // duration of the call; the returned slices borrow `self`, which lives no longer.
        unsafe {
            match ffi::sqlite3_value_type(v) {
                ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_value_int64(v)),
                ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_value_double(v)),
                ffi::SQLITE_TEXT => {
                    let p = ffi::sqlite3_value_text(v);
                    let n = ffi::sqlite3_value_bytes(v) as usize;
                    if p.is_null() {
                        ValueRef::Text(&[])
                    } else {
                        ValueRef::Text(std::slice::from_raw_parts(p, n))
                    }
                }
                ffi::SQLITE_BLOB => {
                    let p = ffi::sqlite3_value_blob(v) as *const u8;
                    let n = ffi::sqlite3_value_bytes(v) as usize;
                    if p.is_null() || n == 0 {
                        ValueRef::Blob(&[])
                    } else {
                        ValueRef::Blob(std::slice::from_raw_parts(p, n))
                    }
                }
                _ => ValueRef::Null,
            }
        }
    }

    /// Argument `i` read as text the way SQLite's `sqlite3_value_text` converts it
    /// (NULL → empty string, numbers → their text form).
    pub(crate) fn text_lossy(&self, i: usize) -> String {
        let v = self.argv[i];
        // SAFETY: as in `arg`; sqlite3_value_text converts in place and returns a pointer
        // valid until the next conversion of the same value, and we copy immediately.
        unsafe {
            let p = ffi::sqlite3_value_text(v);
            if p.is_null() {
                return String::new();
            }
            let n = ffi::sqlite3_value_bytes(v) as usize;
            String::from_utf8_lossy(std::slice::from_raw_parts(p, n)).into_owned()
        }
    }

    /// A non-owning rusqlite connection for the database this function runs on.
    pub(crate) fn connection(&self) -> Connection {
        // SAFETY: `db` is the live connection executing this function; `from_handle` does not
        // take ownership, so dropping the returned value never closes it.
        unsafe { Connection::from_handle(self.db) }.expect("from_handle never fails")
    }

    /// Fails unless the connection is inside an explicit transaction.
    pub(crate) fn require_transaction(&self) -> Result<()> {
        // SAFETY: `db` is the live connection executing this function.
        if unsafe { ffi::sqlite3_get_autocommit(self.db) } == 0 {
            Ok(())
        } else {
            Err(PowerSyncError::NotInTransaction)
        }
    }
}

type BoxedFn = Box<dyn Fn(&Call<'_>) -> Result<Output> + 'static>;

struct Registered {
    name: String,
    /// Whether errors get the `<name>: ` prefix (the reference omits it in a few places).
    prefix_errors: bool,
    func: BoxedFn,
}

/// Registers a scalar function. `flags` are OR-ed with `SQLITE_UTF8`. Error messages get the
/// reference's `<name>: ` prefix unless the error is [`PowerSyncError::Plain`].
pub(crate) fn register<F>(conn: &Connection, name: &str, n_args: c_int, flags: c_int, func: F) -> Result<()>
where
    F: Fn(&Call<'_>) -> Result<Output> + 'static,
{
    let c_name = CString::new(name).map_err(|_| PowerSyncError::Internal(None))?;
    let data = Box::new(Registered {
        name: name.to_string(),
        prefix_errors: true,
        func: Box::new(func),
    });
    let ptr = Box::into_raw(data);
    // SAFETY: the connection handle is valid; `ptr` is a leaked Box that SQLite owns from here
    // on and releases through `destroy` (also when registration fails).
    let rc = unsafe {
        ffi::sqlite3_create_function_v2(
            conn.handle(),
            c_name.as_ptr(),
            n_args,
            ffi::SQLITE_UTF8 | flags,
            ptr as *mut c_void,
            Some(trampoline),
            None,
            None,
            Some(destroy),
        )
    };
    if rc != ffi::SQLITE_OK {
        return Err(PowerSyncError::Plain {
            code: rc,
            message: format!("could not register {name}"),
        });
    }
    Ok(())
}

unsafe extern "C" fn destroy(p: *mut c_void) {
    // SAFETY: `p` is the pointer produced by Box::into_raw in `register`; SQLite calls this
    // exactly once.
    drop(unsafe { Box::from_raw(p as *mut Registered) });
}

unsafe extern "C" fn trampoline(
    ctx: *mut ffi::sqlite3_context,
    argc: c_int,
    argv: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes the user data we registered, a valid context and `argc` values.
    unsafe {
        let reg = &*(ffi::sqlite3_user_data(ctx) as *const Registered);
        let args: &[*mut ffi::sqlite3_value] = if argc <= 0 || argv.is_null() {
            &[]
        } else {
            std::slice::from_raw_parts(argv, argc as usize)
        };
        let call = Call {
            db: ffi::sqlite3_context_db_handle(ctx),
            argv: args,
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (reg.func)(&call)))
            .unwrap_or_else(|_| Err(PowerSyncError::Internal(Some("panic".into()))));
        match result {
            Ok(out) => set_output(ctx, args, out),
            Err(err) => report_error(ctx, &reg.name, reg.prefix_errors, &err),
        }
    }
}

unsafe fn set_output(ctx: *mut ffi::sqlite3_context, args: &[*mut ffi::sqlite3_value], out: Output) {
    // SAFETY: `ctx` is the live context of the current call; text is copied (TRANSIENT).
    unsafe {
        match out {
            Output::Null => ffi::sqlite3_result_null(ctx),
            Output::Integer(i) => ffi::sqlite3_result_int64(ctx, i),
            Output::Text(s) => result_text(ctx, s.as_bytes()),
            Output::OwnedText(t) => result_owned_text(ctx, t),
            Output::Json(s) => {
                result_text(ctx, s.as_bytes());
                ffi::sqlite3_result_subtype(ctx, JSON_SUBTYPE);
            }
            Output::Arg(i) => {
                ffi::sqlite3_result_value(ctx, args[i]);
                ffi::sqlite3_result_subtype(ctx, 0);
            }
        }
    }
}

/// Bytes of a result that SQLite takes over instead of copying. The first 8 bytes of the
/// buffer hold its total length, which the destructor (given only the text pointer) needs to
/// give the allocation back to Rust's allocator.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OwnedText {
    buf: Vec<u8>,
}

const OWNED_HEADER: usize = std::mem::size_of::<u64>();

impl OwnedText {
    /// An empty text with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(OWNED_HEADER + capacity);
        buf.extend_from_slice(&[0; OWNED_HEADER]);
        OwnedText { buf }
    }

    /// Appends bytes.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The text so far (what the unit tests read back).
    #[cfg(test)]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[OWNED_HEADER..]
    }
}

impl std::io::Write for OwnedText {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

unsafe extern "C" fn free_owned_text(text: *mut c_void) {
    // SAFETY: `text` is OWNED_HEADER bytes into a boxed slice leaked by `result_owned_text`,
    // whose first bytes hold the slice's length; SQLite calls this once.
    unsafe {
        let base = (text as *mut u8).sub(OWNED_HEADER);
        let len = std::ptr::read_unaligned(base as *const u64) as usize;
        drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(base, len)));
    }
}

unsafe fn result_owned_text(ctx: *mut ffi::sqlite3_context, text: OwnedText) {
    let mut buf = text.buf;
    if buf.len() < 4096 {
        // Small: a copy is cheaper than giving the allocation away.
        // SAFETY: as in `result_text`.
        return unsafe { result_text(ctx, &buf[OWNED_HEADER..]) };
    }
    let total = buf.len();
    buf[..OWNED_HEADER].copy_from_slice(&(total as u64).to_ne_bytes());
    let base = Box::into_raw(buf.into_boxed_slice()) as *mut u8;
    // SAFETY: the text starts after the header and runs to the end of the leaked slice;
    // SQLite frees it exactly once through `free_owned_text` (also on error paths).
    unsafe {
        ffi::sqlite3_result_text64(
            ctx,
            base.add(OWNED_HEADER) as *const c_char,
            (total - OWNED_HEADER) as ffi::sqlite3_uint64,
            Some(free_owned_text),
            ffi::SQLITE_UTF8 as _,
        );
    }
}

unsafe fn result_text(ctx: *mut ffi::sqlite3_context, s: &[u8]) {
    // SAFETY: SQLITE_TRANSIENT makes SQLite copy the bytes before we return.
    unsafe {
        ffi::sqlite3_result_text(
            ctx,
            s.as_ptr() as *const _,
            s.len() as c_int,
            ffi::SQLITE_TRANSIENT(),
        );
    }
}

unsafe fn report_error(ctx: *mut ffi::sqlite3_context, name: &str, prefix: bool, err: &PowerSyncError) {
    let msg = match err {
        PowerSyncError::Plain { message, .. } => message.clone(),
        _ if prefix => format!("{name}: {err}"),
        _ => err.to_string(),
    };
    // SAFETY: valid context; the message is copied by SQLite. The message must be set before
    // the code: sqlite3_result_error resets the code to SQLITE_ERROR.
    unsafe {
        ffi::sqlite3_result_error(ctx, msg.as_ptr() as *const _, msg.len() as c_int);
        ffi::sqlite3_result_error_code(ctx, err.code());
    }
}
