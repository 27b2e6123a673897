//! Robustness: injected I/O faults, re-entrant calls, the doctor's checks and repairs, invalid
//! UTF-8 and SQLITE_BUSY. One test binary; each module was a test binary of its own before.
//! (SIGKILL mid-sync is `tests/sigkill.rs`: it re-runs its own binary as the child it kills.)
#[path = "../common/mod.rs"]
mod common;
#[path = "../sync_common/mod.rs"]
mod sync_common;

mod crud_utf8;
mod doctor;
mod faults;
mod reentrancy;
mod sync_busy;
mod sync_utf8;
