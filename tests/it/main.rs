//! Integration tests: real servers on 127.0.0.1:0, real HTTP.

mod ask;
mod auth;
mod changes;
mod cli;
mod client;
mod common;
mod completion;
mod deploy;
mod devserver;
mod examples;
mod fixtures;
mod hierarchy;
mod idp;
mod items;
mod modern;
mod observe;
mod presets;
mod prompts;
mod proxy;
mod proxy_presets;
mod resources;
mod resume;
mod store;
mod tasks;
mod tools;
mod transport;
