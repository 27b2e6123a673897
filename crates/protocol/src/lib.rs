// The crate documentation is the README: its example is a doc test, so it cannot drift from
// the code (and `examples/decode.rs` is the same program, checked by a test below).
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bson;
pub mod client;
pub mod error;
pub mod instructions;
pub mod line;
pub mod options;
pub mod schema;
pub mod status;

pub use error::{Error, Result};

#[cfg(test)]
mod tests {
    /// The README's example (the crate documentation's, run as a doc test) is
    /// `examples/decode.rs` word for word, after the example's header comment.
    #[test]
    fn readme_example_is_the_decode_program() {
        let example = include_str!("../examples/decode.rs");
        let header_end = example.find("\n\n").expect("a header comment") + 2;
        let readme = include_str!("../README.md");
        assert!(
            readme.contains(&format!("```rust\n{}```\n", &example[header_end..])),
            "crates/protocol/README.md must show examples/decode.rs"
        );
    }
}
