//! Workspace root: examples and tests.
