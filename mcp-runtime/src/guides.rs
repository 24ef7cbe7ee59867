//! The guides: how to write, protect, run and call MCP servers with this crate, one page per
//! subject. Their Rust examples are compiled and run as doctests, so they stay true.
//!
//! | guide | what it covers |
//! | --- | --- |
//! | [`tools`] | `#[mcp_tool]`: parameters and schemas, results, progress, logging, cancellation, tasks, tools without the macro |
//! | [`resources_and_prompts`] | `#[mcp_resource]`, `#[mcp_prompt]`, subscriptions, changing the catalog at run time, sampling, elicitation, roots |
//! | [`server`] | `#[mcp_server]` and the builder: state, your own routes, build errors, starting and stopping |
//! | [`oauth`] | bearer tokens, scopes and step-up, discovery documents, and each identity-provider preset |
//! | [`proxy`] | the OAuth proxy for identity providers without dynamic client registration |
//! | [`dev_server`] | the embedded development authorization server (`oauth = "dev"`) |
//! | [`client`] | [`client`](crate::client) and the `mcp` command line: connecting, signing in, calling tools |
//! | [`transport`] | Streamable HTTP, sessions, the protocol revisions, the security checks |
//! | [`deployment`] | the public URL, reverse proxies, mounting into an actix-web app, replicas, health, observability |
//!
//! The cargo features are listed in the [crate documentation](crate#cargo-features).

#[doc = include_str!("../guides/tools.md")]
pub mod tools {}

#[doc = include_str!("../guides/resources_and_prompts.md")]
pub mod resources_and_prompts {}

#[doc = include_str!("../guides/server.md")]
pub mod server {}

#[doc = include_str!("../guides/oauth.md")]
pub mod oauth {}

#[doc = include_str!("../guides/proxy.md")]
pub mod proxy {}

#[doc = include_str!("../guides/dev_server.md")]
pub mod dev_server {}

#[doc = include_str!("../guides/client.md")]
pub mod client {}

#[doc = include_str!("../guides/transport.md")]
pub mod transport {}

#[doc = include_str!("../guides/deployment.md")]
pub mod deployment {}
