//! `server/discover` (2026-07-28): the versions, capabilities and identity of the server.

use serde_json::{Map, Value, json};

use super::jsonrpc::Reply;
use super::modern::supported_versions;
use super::state::Inner;
use crate::server::catalog::Catalog;

/// The capabilities the server has now (those of the catalog in use). List changes and
/// resource updates reach clients of this revision through `subscriptions/listen`.
pub(crate) fn capabilities(catalog: &Catalog) -> Value {
    let mut caps = json!({ "tools": { "listChanged": true } });
    if !catalog.resources.is_empty() {
        caps["resources"] = json!({ "listChanged": true, "subscribe": true });
    }
    if !catalog.prompts.is_empty() {
        caps["prompts"] = json!({ "listChanged": true });
    }
    if catalog.prompts.completes || catalog.resources.completes {
        caps["completions"] = json!({});
    }
    if catalog
        .tools
        .values()
        .any(|t| t.meta.task != crate::tool::TaskSupport::Never)
    {
        caps["extensions"] = json!({ super::tasks::EXTENSION: {} });
    }
    caps
}

/// `server/discover`.
pub(crate) fn discover(inner: &Inner) -> Reply {
    let catalog = inner.catalog.load();
    let mut result = Map::new();
    result.insert("supportedVersions".into(), json!(supported_versions()));
    result.insert("capabilities".into(), capabilities(&catalog));
    let info = server_info(inner);
    result.insert("serverInfo".into(), info.clone());
    if let Some(i) = &inner.info.instructions {
        result.insert("instructions".into(), i.clone().into());
    }
    result.insert(
        "_meta".into(),
        json!({ "io.modelcontextprotocol/serverInfo": info }),
    );
    Reply::ok(&Value::Object(result))
}

fn server_info(inner: &Inner) -> Value {
    inner.info.implementation.to_json()
}
