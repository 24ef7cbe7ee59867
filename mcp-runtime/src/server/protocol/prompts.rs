//! Prompts: named message templates with string arguments, each made by an async function,
//! listed with `prompts/list`, got with `prompts/get` (arguments checked against the
//! declared ones first), and guarded by scopes like tools.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::completion::{self, CompleteFn};
use super::jsonrpc::{Reply, RpcError};
use super::listing::{Listing, Visible};
use crate::result::{Content, ToolError};

/// Who a prompt message speaks as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The user.
    User,
    /// The assistant.
    Assistant,
}

/// One message of a prompt: a role and one piece of content (text, an image, an embedded
/// resource).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PromptMessage {
    /// Who speaks.
    pub role: Role,
    /// What is said.
    pub content: Content,
}

impl PromptMessage {
    /// A user message.
    pub fn user(content: Content) -> Self {
        PromptMessage {
            role: Role::User,
            content,
        }
    }

    /// An assistant message.
    pub fn assistant(content: Content) -> Self {
        PromptMessage {
            role: Role::Assistant,
            content,
        }
    }
}

/// One `prompts/get`: the arguments (checked against the declared ones) and the caller.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PromptRequest {
    /// The prompt's name.
    pub name: String,
    /// The arguments given, by name.
    pub arguments: HashMap<String, String>,
    /// The authenticated caller, on a server with OAuth.
    pub auth: Option<crate::auth::Auth>,
    /// What the prompt may ask of the client while it is made: under 2026-07-28,
    /// `context.input("key").elicit...` ends the request with an input-required result until
    /// the client answers (the older revisions have no stream to ask on here).
    pub context: crate::Context,
}

type GetFn = Arc<
    dyn Fn(PromptRequest) -> BoxFuture<'static, Result<Vec<PromptMessage>, ToolError>>
        + Send
        + Sync,
>;

#[derive(Debug, Clone)]
struct Argument {
    name: String,
    description: Option<String>,
    required: bool,
}

/// A prompt and the async function that makes its messages.
///
/// ```
/// use mcp_runtime::{Content, McpServer, Prompt, PromptMessage, PromptRequest, ToolError};
///
/// let server = McpServer::builder()
///     .prompt(
///         Prompt::new("review")
///             .description("Review a change")
///             .argument("diff", "The change to review", true)
///             .get(|req: PromptRequest| async move {
///                 Ok::<_, ToolError>(vec![PromptMessage::user(Content::text(format!(
///                     "Review this change:\n{}",
///                     req.arguments["diff"]
///                 )))])
///             }),
///     )
///     .build();
/// assert!(server.is_ok());
/// ```
#[derive(Clone)]
pub struct Prompt {
    pub(crate) name: String,
    title: Option<String>,
    description: Option<String>,
    arguments: Vec<Argument>,
    pub(crate) scopes: Vec<String>,
    /// Usable without a token on a server with OAuth.
    pub(crate) public: bool,
    get: Option<GetFn>,
    completers: HashMap<String, CompleteFn>,
}

impl std::fmt::Debug for Prompt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prompt")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Prompt {
    /// A prompt named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Prompt {
            name: name.into(),
            title: None,
            description: None,
            arguments: Vec::new(),
            scopes: Vec::new(),
            public: false,
            get: None,
            completers: HashMap::new(),
        }
    }

    /// A display title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// What it is for.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// A string argument.
    pub fn argument(
        mut self,
        name: impl Into<String>,
        description: impl Into<String>,
        required: bool,
    ) -> Self {
        self.arguments.push(Argument {
            name: name.into(),
            description: Some(description.into()).filter(|d: &String| !d.is_empty()),
            required,
        });
        self
    }

    /// Scopes a caller needs to get it (a 403 with a step-up challenge otherwise).
    pub fn scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Usable without a token on a server with OAuth (listed and got anonymously); a public
    /// prompt cannot require scopes. `#[mcp_prompt(public)]`.
    pub fn public(mut self) -> Self {
        self.public = true;
        self
    }

    /// The function that makes its messages.
    pub fn get<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(PromptRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<PromptMessage>, ToolError>> + Send + 'static,
    {
        self.get = Some(Arc::new(move |req| Box::pin(f(req))));
        self
    }

    /// Suggests values for the argument `argument` (`completion/complete`), from what the
    /// user typed so far ([`CompletionRequest`](crate::CompletionRequest)).
    ///
    /// ```
    /// use mcp_runtime::{Completion, CompletionRequest, Prompt, ToolError};
    ///
    /// let prompt = Prompt::new("weather")
    ///     .argument("city", "A city", true)
    ///     .complete("city", |req: CompletionRequest| async move {
    ///         Ok::<_, ToolError>(Completion::matching(&req.value, ["Paris", "Porto", "Oslo"]))
    ///     });
    /// ```
    pub fn complete<F, Fut, C>(mut self, argument: impl Into<String>, f: F) -> Self
    where
        F: Fn(crate::CompletionRequest) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<C, ToolError>> + Send + 'static,
        C: Into<crate::Completion>,
    {
        self.completers
            .insert(argument.into(), completion::erase(f));
        self
    }

    /// The completer of `argument`: `Err` when the prompt has no such argument.
    pub(crate) fn completer(&self, argument: &str) -> Result<Option<CompleteFn>, RpcError> {
        if !self.arguments.iter().any(|a| a.name == argument) {
            return Err(RpcError::invalid_params(format!(
                "completion/complete: prompt `{}` has no argument `{argument}`",
                self.name
            )));
        }
        Ok(self.completers.get(argument).cloned())
    }

    fn listing(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        for (k, v) in [("title", &self.title), ("description", &self.description)] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        if !self.arguments.is_empty() {
            let args: Vec<Value> = self
                .arguments
                .iter()
                .map(|a| {
                    let mut o = json!({"name": a.name, "required": a.required});
                    if let Some(d) = &a.description {
                        o["description"] = d.clone().into();
                    }
                    o
                })
                .collect();
            m.insert("arguments".into(), Value::Array(args));
        }
        Value::Object(m)
    }

    /// The arguments of a `prompts/get`, checked: strings, declared, the required ones given.
    fn check(&self, given: Option<&Value>) -> Result<HashMap<String, String>, RpcError> {
        let name = &self.name;
        let mut out = HashMap::new();
        match given {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    if !self.arguments.iter().any(|a| &a.name == k) {
                        let known: Vec<&str> =
                            self.arguments.iter().map(|a| a.name.as_str()).collect();
                        return Err(RpcError::invalid_params(format!(
                            "prompt `{name}` has no argument `{k}` (it has: {})",
                            if known.is_empty() {
                                "none".into()
                            } else {
                                known.join(", ")
                            }
                        )));
                    }
                    let Some(s) = v.as_str() else {
                        return Err(RpcError::invalid_params(format!(
                            "prompt `{name}`: argument `{k}` must be a string"
                        )));
                    };
                    out.insert(k.clone(), s.to_owned());
                }
            }
            Some(_) => {
                return Err(RpcError::invalid_params(format!(
                    "prompt `{name}`: `arguments` must be an object of strings"
                )));
            }
        }
        if let Some(a) = self
            .arguments
            .iter()
            .find(|a| a.required && !out.contains_key(&a.name))
        {
            return Err(RpcError::invalid_params(format!(
                "prompt `{name}`: the argument `{}` is required",
                a.name
            )));
        }
        Ok(out)
    }
}

/// A server's prompts, with their listing built once.
#[derive(Default)]
pub(crate) struct Prompts {
    by_name: HashMap<String, Arc<Prompt>>,
    listing: Listing,
    /// Whether any argument has a completer.
    pub(crate) completes: bool,
}

impl Prompts {
    /// Checks and indexes `prompts`; problems name the prompt.
    pub(crate) fn build(
        prompts: Vec<Prompt>,
        page_size: usize,
        problems: &mut Vec<String>,
    ) -> Self {
        let mut p = Prompts::default();
        let mut listing = Vec::new();
        for prompt in prompts {
            if prompt.get.is_none() {
                problems.push(format!(
                    "prompt `{}` has no get function: add `.get(|req| async {{ ... }})`",
                    prompt.name
                ));
                continue;
            }
            if p.by_name.contains_key(&prompt.name) {
                problems.push(format!("two prompts are named `{}`", prompt.name));
                continue;
            }
            let mut seen: Vec<&str> = Vec::new();
            if let Some(dup) = prompt.arguments.iter().find(|a| {
                let d = seen.contains(&a.name.as_str());
                seen.push(&a.name);
                d
            }) {
                problems.push(format!(
                    "prompt `{}` declares the argument `{}` twice",
                    prompt.name, dup.name
                ));
                continue;
            }
            if let Some(arg) = prompt
                .completers
                .keys()
                .find(|k| !prompt.arguments.iter().any(|a| &a.name == *k))
            {
                problems.push(format!(
                    "prompt `{}` completes `{arg}`, which is not one of its arguments",
                    prompt.name
                ));
                continue;
            }
            p.completes |= !prompt.completers.is_empty();
            listing.push((prompt.listing(), prompt.scopes.clone(), prompt.public));
            p.by_name.insert(prompt.name.clone(), Arc::new(prompt));
        }
        p.listing = Listing::new(listing, page_size, "prompts", "prompts/list");
        p
    }

    /// Whether there are any (for the `prompts` capability).
    pub(crate) fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Every scope a prompt requires (for `scopes_supported`).
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        self.by_name
            .values()
            .flat_map(|p| p.scopes.iter().map(String::as_str))
    }

    /// A page of `prompts/list`.
    pub(crate) fn list(&self, params: &Value, visible: Option<&Visible<'_>>) -> Reply {
        self.listing.page(params, visible)
    }

    /// The prompt named `name`; the error lists the prompts there are.
    pub(crate) fn named(&self, name: &str, method: &str) -> Result<Arc<Prompt>, RpcError> {
        self.by_name.get(name).cloned().ok_or_else(|| {
            let mut known: Vec<&str> = self.by_name.keys().map(String::as_str).collect();
            known.sort_unstable();
            RpcError::invalid_params(format!(
                "{method}: no prompt named `{name}` (prompts: {})",
                known.join(", ")
            ))
        })
    }

    /// The prompt `params.name` names, with its checked arguments.
    pub(crate) fn find(
        &self,
        params: &Value,
    ) -> Result<(Arc<Prompt>, HashMap<String, String>), RpcError> {
        let Some(name) = params.get("name").and_then(Value::as_str) else {
            return Err(RpcError::invalid_params(
                "prompts/get: `params.name` (a string) is required",
            ));
        };
        let prompt = self.named(name, "prompts/get")?;
        let args = prompt.check(params.get("arguments"))?;
        Ok((prompt, args))
    }
}

/// Makes `prompt`'s messages for `req`: the `prompts/get` result, or the error.
pub(crate) async fn get(prompt: Arc<Prompt>, req: PromptRequest) -> Reply {
    let Some(get) = prompt.get.clone() else {
        return Reply::Err(RpcError::invalid_params("no get function"));
    };
    let name = req.name.clone();
    match get(req).await {
        Ok(messages) => {
            let mut result = Map::new();
            if let Some(d) = &prompt.description {
                result.insert("description".into(), d.clone().into());
            }
            match serde_json::to_value(&messages) {
                Ok(m) => {
                    result.insert("messages".into(), m);
                    Reply::ok(&Value::Object(result))
                }
                Err(e) => Reply::Err(RpcError::new(
                    super::jsonrpc::code::INTERNAL_ERROR,
                    format!("prompt `{name}`: its messages do not serialize ({e})"),
                )),
            }
        }
        Err(e) => Reply::Err(RpcError::new(
            super::jsonrpc::code::INTERNAL_ERROR,
            format!("prompt `{name}` failed: {e}"),
        )),
    }
}
