//! Test support shared by the workspace's tests and benchmark.

pub mod vfs;
