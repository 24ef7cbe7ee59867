//! The benchmark and conformance binaries live in `examples/`; this library is empty.
