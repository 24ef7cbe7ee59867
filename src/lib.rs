//! The workspace root: owns the examples, the integration tests and the trybuild cases, and
//! compiles the README as a doctest (the guides are doctested in `mcp-runtime`, whose
//! `guides` module they are).
#![doc = include_str!("../README.md")]
