//! The workspace root: owns the examples, the integration tests and the trybuild cases, and
//! compiles the README and the guides as doctests.
#![doc = include_str!("../README.md")]

#[doc = include_str!("../docs/tools.md")]
pub mod guide_tools {}

#[doc = include_str!("../docs/transport.md")]
pub mod guide_transport {}

#[doc = include_str!("../docs/deployment.md")]
pub mod guide_deployment {}
