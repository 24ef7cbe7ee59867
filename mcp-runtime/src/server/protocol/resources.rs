//! Resources: fixed URIs and URI templates (`users://{id}/profile`), each read by an async
//! function, listed with `resources/list` and `resources/templates/list`, read with
//! `resources/read`, and guarded by scopes like tools.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value, json};

use super::completion::{self, CompleteFn};
use super::jsonrpc::{Reply, RpcError};
use super::listing::Listing;
use super::listing::Visible;
use crate::result::{ResourceContents, ToolError};

/// JSON-RPC: no resource at that URI (the MCP spec's code).
pub(crate) const RESOURCE_NOT_FOUND: i32 = -32002;

/// What a resource read gives: text or bytes (sent base64-encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBody {
    /// Text.
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
}

impl From<String> for ResourceBody {
    fn from(s: String) -> Self {
        ResourceBody::Text(s)
    }
}

impl From<&str> for ResourceBody {
    fn from(s: &str) -> Self {
        ResourceBody::Text(s.to_owned())
    }
}

impl From<Vec<u8>> for ResourceBody {
    fn from(b: Vec<u8>) -> Self {
        ResourceBody::Bytes(b)
    }
}

/// One read of a resource: the URI asked for, a template's variables, the caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResourceRequest {
    /// The URI read.
    pub uri: String,
    /// The template's variables, by name (empty for a fixed URI).
    pub params: HashMap<String, String>,
    /// The authenticated caller, on a server with OAuth.
    pub auth: Option<crate::auth::Auth>,
}

type ReadFn = Arc<
    dyn Fn(ResourceRequest) -> BoxFuture<'static, Result<ResourceBody, ToolError>> + Send + Sync,
>;

/// A resource, or a family of them (a URI template), and the async function that reads it.
///
/// ```
/// use mcp_runtime::{McpServer, Resource, ResourceRequest, ToolError};
///
/// let server = McpServer::builder()
///     .resource(
///         Resource::new("file:///logs/today", "today's log")
///             .mime_type("text/plain")
///             .read(|_req: ResourceRequest| async { Ok::<_, ToolError>("all quiet") }),
///     )
///     .resource(
///         Resource::template("users://{id}/profile", "a user's profile")
///             .mime_type("application/json")
///             .read(|req: ResourceRequest| async move {
///                 Ok::<_, ToolError>(format!(r#"{{"id": "{}"}}"#, req.params["id"]))
///             }),
///     )
///     .build();
/// assert!(server.is_ok());
/// ```
#[derive(Clone)]
pub struct Resource {
    pub(crate) uri: String,
    pub(crate) template: Option<UriTemplate>,
    name: String,
    title: Option<String>,
    description: Option<String>,
    pub(crate) mime_type: Option<String>,
    pub(crate) scopes: Vec<String>,
    /// Readable without a token on a server with OAuth.
    pub(crate) public: bool,
    read: Option<ReadFn>,
    completers: HashMap<String, CompleteFn>,
}

impl std::fmt::Debug for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resource")
            .field("uri", &self.uri)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Resource {
    /// The resource at this URI.
    pub fn new(uri: impl Into<String>, name: impl Into<String>) -> Self {
        Resource {
            uri: uri.into(),
            template: None,
            name: name.into(),
            title: None,
            description: None,
            mime_type: None,
            scopes: Vec::new(),
            public: false,
            read: None,
            completers: HashMap::new(),
        }
    }

    /// The resources matching a URI template (RFC 6570 simple `{name}` variables, each matching
    /// up to the next literal part).
    pub fn template(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        let uri: String = uri_template.into();
        Resource {
            template: Some(UriTemplate::parse(&uri)),
            ..Resource::new(uri, name)
        }
    }

    /// A display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// What it holds.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Its media type.
    pub fn mime_type(mut self, mime_type: impl Into<String>) -> Self {
        self.mime_type = Some(mime_type.into());
        self
    }

    /// Scopes a caller needs to read it (a 403 with a step-up challenge otherwise).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Readable without a token on a server with OAuth (listed and read anonymously); a
    /// public resource cannot require scopes. `#[mcp_resource(public)]`.
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }

    /// The function that reads it.
    pub fn read<F, Fut, B>(mut self, f: F) -> Self
    where
        F: Fn(ResourceRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<B, ToolError>> + Send + 'static,
        B: Into<ResourceBody>,
    {
        self.read = Some(Arc::new(move |req| {
            let fut = f(req);
            Box::pin(async move { fut.await.map(Into::into) })
        }));
        self
    }

    /// Suggests values for the template variable `variable` (`completion/complete`), from
    /// what the user typed so far ([`CompletionRequest`](crate::CompletionRequest)).
    pub fn complete<F, Fut, C>(mut self, variable: impl Into<String>, f: F) -> Self
    where
        F: Fn(crate::CompletionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, ToolError>> + Send + 'static,
        C: Into<crate::Completion>,
    {
        self.completers
            .insert(variable.into(), completion::erase(f));
        self
    }

    /// The completer of `variable`: `Err` when the template has no such variable.
    pub(crate) fn completer(&self, variable: &str) -> Result<Option<CompleteFn>, RpcError> {
        if !self.template.as_ref().is_some_and(|t| t.has(variable)) {
            return Err(RpcError::invalid_params(format!(
                "completion/complete: resource template `{}` has no variable `{variable}`",
                self.uri
            )));
        }
        Ok(self.completers.get(variable).cloned())
    }

    /// Its `resources/list` (or `resources/templates/list`) entry.
    fn listing(&self) -> Value {
        let mut m = Map::new();
        let key = if self.template.is_some() {
            "uriTemplate"
        } else {
            "uri"
        };
        m.insert(key.into(), self.uri.clone().into());
        m.insert("name".into(), self.name.clone().into());
        for (k, v) in [
            ("title", &self.title),
            ("description", &self.description),
            ("mimeType", &self.mime_type),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        Value::Object(m)
    }
}

/// A URI template: literal parts and `{name}` variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
}

impl UriTemplate {
    fn parse(s: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = s;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            match rest[open..].find('}') {
                Some(close) => {
                    parts.push(Part::Var(rest[open + 1..open + close].to_owned()));
                    rest = &rest[open + close + 1..];
                }
                None => {
                    parts.push(Part::Literal(rest[open..].to_owned()));
                    rest = "";
                }
            }
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        UriTemplate { parts }
    }

    /// Whether `name` is one of its variables.
    fn has(&self, name: &str) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Var(v) if v == name))
    }

    /// What is wrong with it, if anything.
    fn problem(&self) -> Option<String> {
        let mut seen = Vec::new();
        let mut previous_var = false;
        for p in &self.parts {
            match p {
                Part::Var(v) => {
                    if v.is_empty() || !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Some(format!("`{{{v}}}` is not a variable name"));
                    }
                    if previous_var {
                        return Some("two variables need a literal between them".into());
                    }
                    if seen.contains(v) {
                        return Some(format!("the variable `{v}` appears twice"));
                    }
                    seen.push(v.clone());
                    previous_var = true;
                }
                Part::Literal(l) => {
                    if l.contains('{') || l.contains('}') {
                        return Some("an unmatched brace".into());
                    }
                    previous_var = false;
                }
            }
        }
        seen.is_empty()
            .then(|| "a template needs at least one `{variable}`".into())
    }

    /// The variables if `uri` matches (each non-empty, without `/`).
    fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        for (i, p) in self.parts.iter().enumerate() {
            match p {
                Part::Literal(l) => rest = rest.strip_prefix(l.as_str())?,
                Part::Var(name) => {
                    let end = match self.parts.get(i + 1) {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        _ => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || value.contains('/') {
                        return None;
                    }
                    vars.insert(name.clone(), value.to_owned());
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

/// A server's resources, with their listings built once.
#[derive(Default)]
pub(crate) struct Resources {
    fixed: HashMap<String, Arc<Resource>>,
    templates: Vec<Arc<Resource>>,
    list: Listing,
    template_list: Listing,
    /// Whether any template variable has a completer.
    pub(crate) completes: bool,
}

impl Resources {
    /// Checks and indexes `resources`; problems name the URI.
    pub(crate) fn build(
        resources: Vec<Resource>,
        page_size: usize,
        problems: &mut Vec<String>,
    ) -> Self {
        let mut r = Resources::default();
        let (mut fixed_list, mut template_list) = (Vec::new(), Vec::new());
        for res in resources {
            if res.read.is_none() {
                problems.push(format!(
                    "resource `{}` has no read function: add `.read(|req| async {{ ... }})`",
                    res.uri
                ));
                continue;
            }
            if let Some(t) = &res.template {
                if let Some(p) = t.problem() {
                    problems.push(format!("resource template `{}`: {p}", res.uri));
                    continue;
                }
                if let Some(v) = res.completers.keys().find(|v| !t.has(v)) {
                    problems.push(format!(
                        "resource template `{}` completes `{v}`, which is not one of its variables",
                        res.uri
                    ));
                    continue;
                }
                if r.templates.iter().any(|x| x.uri == res.uri) {
                    problems.push(format!("two resource templates are `{}`", res.uri));
                    continue;
                }
                r.completes |= !res.completers.is_empty();
                template_list.push((res.listing(), res.scopes.clone(), res.public));
                r.templates.push(Arc::new(res));
            } else {
                if let Some(v) = res.completers.keys().next() {
                    problems.push(format!(
                        "resource `{}` completes `{v}`, but only templates have variables",
                        res.uri
                    ));
                    continue;
                }
                if r.fixed.contains_key(&res.uri) {
                    problems.push(format!("two resources have the URI `{}`", res.uri));
                    continue;
                }
                fixed_list.push((res.listing(), res.scopes.clone(), res.public));
                r.fixed.insert(res.uri.clone(), Arc::new(res));
            }
        }
        r.list = Listing::new(fixed_list, page_size, "resources", "resources/list");
        r.template_list = Listing::new(
            template_list,
            page_size,
            "resourceTemplates",
            "resources/templates/list",
        );
        r
    }

    /// Whether there are any (for the `resources` capability).
    pub(crate) fn is_empty(&self) -> bool {
        self.fixed.is_empty() && self.templates.is_empty()
    }

    /// Every scope a resource requires (for `scopes_supported`).
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        self.fixed
            .values()
            .chain(self.templates.iter())
            .flat_map(|r| r.scopes.iter().map(String::as_str))
    }

    /// A page of `resources/list` or `resources/templates/list`.
    pub(crate) fn list(
        &self,
        templates: bool,
        params: &Value,
        visible: Option<&Visible<'_>>,
    ) -> Reply {
        let listing = if templates {
            &self.template_list
        } else {
            &self.list
        };
        listing.page(params, visible)
    }

    /// The template written `uri_template` (`completion/complete`'s `ref/resource`).
    pub(crate) fn template(&self, uri_template: &str) -> Result<Arc<Resource>, RpcError> {
        self.templates
            .iter()
            .find(|t| t.uri == uri_template)
            .cloned()
            .ok_or_else(|| {
                RpcError::invalid_params(format!(
                    "completion/complete: no resource template `{uri_template}`"
                ))
            })
    }

    /// The resource that serves `uri`, with a template's variables.
    pub(crate) fn find(&self, uri: &str) -> Option<(Arc<Resource>, HashMap<String, String>)> {
        if let Some(r) = self.fixed.get(uri) {
            return Some((r.clone(), HashMap::new()));
        }
        self.templates
            .iter()
            .find_map(|t| Some((t.clone(), t.template.as_ref()?.matches(uri)?)))
    }
}

/// The error for a URI no resource serves: `-32002`, with the URI in `data`.
pub(crate) fn not_found(uri: &str) -> RpcError {
    let mut e = RpcError::new(RESOURCE_NOT_FOUND, format!("resource `{uri}` not found"));
    e.data = Some(json!({ "uri": uri }));
    e
}

/// Reads `resource` for `req`: the `resources/read` result, or the error.
pub(crate) async fn read(resource: Arc<Resource>, req: ResourceRequest) -> Reply {
    let Some(read) = resource.read.clone() else {
        return Reply::Err(RpcError::new(RESOURCE_NOT_FOUND, "no read function"));
    };
    let uri = req.uri.clone();
    let mime_type = resource.mime_type.clone();
    match read(req).await {
        Ok(ResourceBody::Text(text)) => Reply::ok(&json!({
            "contents": [ResourceContents::Text { uri, mime_type, text }]
        })),
        Ok(ResourceBody::Bytes(bytes)) => {
            use base64::Engine as _;
            let blob = base64::engine::general_purpose::STANDARD.encode(bytes);
            Reply::ok(&json!({
                "contents": [ResourceContents::Blob { uri, mime_type, blob }]
            }))
        }
        Err(e) => Reply::Err(RpcError::new(
            super::jsonrpc::code::INTERNAL_ERROR,
            format!("reading `{uri}` failed: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_their_variables() {
        let t = UriTemplate::parse("users://{id}/profile");
        assert!(t.problem().is_none());
        let m = t.matches("users://42/profile").expect("matches");
        assert_eq!(m["id"], "42");
        assert!(t.matches("users:///profile").is_none());
        assert!(t.matches("users://4/2/profile").is_none());
        assert!(t.matches("users://42/profile/x").is_none());
        let two = UriTemplate::parse("db://{table}/{row}");
        let m = two.matches("db://users/7").expect("matches");
        assert_eq!((m["table"].as_str(), m["row"].as_str()), ("users", "7"));
        assert!(UriTemplate::parse("x://{a}{b}").problem().is_some());
        assert!(UriTemplate::parse("x://{a b}").problem().is_some());
        assert!(UriTemplate::parse("x://{a}/{a}").problem().is_some());
        assert!(UriTemplate::parse("x://plain").problem().is_some());
    }
}
