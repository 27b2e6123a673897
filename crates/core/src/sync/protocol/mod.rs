//! Sync lines and their decoding (see the parent module).
