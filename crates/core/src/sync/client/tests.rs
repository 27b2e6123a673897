//! Unit tests of the state machine with an in-memory store.
