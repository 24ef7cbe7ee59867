//! A paginated listing (`resources/list`, `resources/templates/list`, `prompts/list`): its
//! pages built once, and pages made per caller when items need scopes the caller may lack.

use bytes::Bytes;
use serde_json::Value;

use super::jsonrpc::{Reply, RpcError};

/// Whether a caller may see an item that needs these scopes (and is public or not).
pub(crate) type Visible<'a> = dyn Fn(&[String], bool) -> bool + 'a;

/// One kind of item's listing.
#[derive(Default)]
pub(crate) struct Listing {
    /// Each entry with the scopes it needs, and whether it is public.
    entries: Vec<(Value, Vec<String>, bool)>,
    /// The pages of every entry.
    pages: Vec<Bytes>,
    page_size: usize,
    /// The key of the items in a page (`resources`, `prompts`, ...).
    key: &'static str,
    method: &'static str,
}

impl Listing {
    pub(crate) fn new(
        entries: Vec<(Value, Vec<String>, bool)>,
        page_size: usize,
        key: &'static str,
        method: &'static str,
    ) -> Self {
        let all: Vec<Value> = entries.iter().map(|(v, _, _)| v.clone()).collect();
        Listing {
            pages: paginate_as(&all, page_size, key),
            entries,
            page_size,
            key,
            method,
        }
    }

    /// The page `params.cursor` names; with `visible`, of the entries this caller may see.
    pub(crate) fn page(&self, params: &Value, visible: Option<&Visible<'_>>) -> Reply {
        let filtered;
        let pages = match visible {
            Some(ok) => {
                let shown: Vec<Value> = self
                    .entries
                    .iter()
                    .filter(|(_, s, public)| ok(s, *public))
                    .map(|(v, _, _)| v.clone())
                    .collect();
                filtered = paginate_as(&shown, self.page_size, self.key);
                &filtered
            }
            _ => &self.pages,
        };
        match page_index(params, pages.len(), self.method) {
            Ok(i) => Reply::Ok(pages[i].clone()),
            Err(e) => Reply::Err(e),
        }
    }
}

/// Pre-serializes `tools/list` pages, once, at build time.
pub(crate) fn paginate(listings: &[serde_json::Value], page_size: usize) -> Vec<Bytes> {
    paginate_as(listings, page_size, "tools")
}

/// Pages of a listing under `key` (`tools`, `resources`, ...), each but the last with a
/// `nextCursor`.
pub(crate) fn paginate_as(
    listings: &[serde_json::Value],
    page_size: usize,
    key: &str,
) -> Vec<Bytes> {
    let chunks: Vec<&[serde_json::Value]> = if listings.is_empty() {
        vec![&[]]
    } else {
        listings.chunks(page_size).collect()
    };
    let count = chunks.len();
    chunks
        .into_iter()
        .enumerate()
        .map(|(i, chunk)| {
            let mut page = serde_json::Map::new();
            page.insert(key.into(), serde_json::Value::Array(chunk.to_vec()));
            if i + 1 < count {
                page.insert("nextCursor".into(), (i + 1).to_string().into());
            }
            Bytes::from(serde_json::Value::Object(page).to_string())
        })
        .collect()
}

/// The page a listing's `cursor` names (the page numbers this server hands out).
pub(crate) fn page_index(params: &Value, pages: usize, method: &str) -> Result<usize, RpcError> {
    match params.get("cursor") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(c)) => match c.parse::<usize>() {
            Ok(n) if n < pages && n > 0 => Ok(n),
            _ => Err(RpcError::invalid_params(format!(
                "{method}: invalid cursor `{c}`"
            ))),
        },
        Some(_) => Err(RpcError::invalid_params(format!(
            "{method}: `cursor` must be a string"
        ))),
    }
}
