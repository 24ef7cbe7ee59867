//! `completion/complete`: suggestions for a prompt's arguments and a resource template's
//! variables, from a completer function attached to the argument
//! ([`Prompt::complete`](crate::Prompt::complete),
//! [`Resource::complete`](crate::Resource::complete)).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{Value, json};

use crate::result::ToolError;
use crate::server::jsonrpc::{Reply, RpcError, code};

/// The most values one answer may carry (the specification's limit).
const MAX_VALUES: usize = 100;

/// One `completion/complete`: which argument, what the user typed so far, and the
/// arguments already filled in.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompletionRequest {
    /// The argument (or template variable) being completed.
    pub argument: String,
    /// What the user typed so far.
    pub value: String,
    /// The other arguments, already resolved (`context.arguments`).
    pub context: HashMap<String, String>,
    /// The authenticated caller, on a server with OAuth.
    pub auth: Option<crate::auth::Auth>,
}

/// Suggested values, best first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Completion {
    values: Vec<String>,
    total: Option<u64>,
    has_more: bool,
}

impl Completion {
    /// These values, best first (at most 100 are sent; beyond that `hasMore` is set).
    pub fn new<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Self {
        Completion {
            values: values.into_iter().map(Into::into).collect(),
            total: None,
            has_more: false,
        }
    }

    /// The candidates that start with `typed`, ignoring case, in their order.
    ///
    /// ```
    /// use mcp_runtime::Completion;
    /// let c = Completion::matching("pa", ["paris", "London", "Park", "party"]);
    /// assert_eq!(c, Completion::new(["paris", "Park", "party"]));
    /// ```
    pub fn matching<S: AsRef<str>>(typed: &str, candidates: impl IntoIterator<Item = S>) -> Self {
        let typed = typed.to_lowercase();
        Completion::new(
            candidates
                .into_iter()
                .filter(|c| c.as_ref().to_lowercase().starts_with(&typed))
                .map(|c| c.as_ref().to_owned()),
        )
    }

    /// How many values match in all, when more exist than are sent.
    pub fn total(mut self, total: u64) -> Self {
        self.total = Some(total);
        self
    }

    /// Says that more values exist than are sent.
    pub fn has_more(mut self, has_more: bool) -> Self {
        self.has_more = has_more;
        self
    }

    fn result(mut self) -> Value {
        if self.values.len() > MAX_VALUES {
            self.total = Some(self.total.unwrap_or(self.values.len() as u64));
            self.values.truncate(MAX_VALUES);
            self.has_more = true;
        }
        let mut c = json!({ "values": self.values, "hasMore": self.has_more });
        if let Some(t) = self.total {
            c["total"] = t.into();
        }
        json!({ "completion": c })
    }
}

impl<S: Into<String>> From<Vec<S>> for Completion {
    fn from(values: Vec<S>) -> Self {
        Completion::new(values)
    }
}

/// A completer, type-erased.
pub(crate) type CompleteFn = Arc<
    dyn Fn(CompletionRequest) -> BoxFuture<'static, Result<Completion, ToolError>> + Send + Sync,
>;

/// Erases a completer function.
pub(crate) fn erase<F, Fut, C>(f: F) -> CompleteFn
where
    F: Fn(CompletionRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<C, ToolError>> + Send + 'static,
    C: Into<Completion>,
{
    Arc::new(move |req| {
        let fut = f(req);
        Box::pin(async move { fut.await.map(Into::into) })
    })
}

/// What a `completion/complete` asks for.
pub(crate) enum Target<'a> {
    Prompt(&'a str),
    Template(&'a str),
}

/// `completion/complete` params, read.
pub(crate) struct Params<'a> {
    pub(crate) target: Target<'a>,
    pub(crate) argument: &'a str,
    pub(crate) value: &'a str,
    pub(crate) context: HashMap<String, String>,
}

/// Reads the params; errors say which part is wrong.
pub(crate) fn params(params: &Value) -> Result<Params<'_>, RpcError> {
    let bad = |m: &str| RpcError::invalid_params(format!("completion/complete: {m}"));
    let r = params
        .get("ref")
        .ok_or_else(|| bad("`params.ref` is required"))?;
    let target = match r.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => Target::Prompt(
            r.get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("`ref.name` (a string) is required for ref/prompt"))?,
        ),
        Some("ref/resource") => Target::Template(
            r.get("uri")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("`ref.uri` (a string) is required for ref/resource"))?,
        ),
        _ => return Err(bad("`ref.type` must be \"ref/prompt\" or \"ref/resource\"")),
    };
    let arg = params
        .get("argument")
        .ok_or_else(|| bad("`params.argument` is required"))?;
    let argument = arg
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`argument.name` (a string) is required"))?;
    let value = arg
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("`argument.value` (a string) is required"))?;
    let mut context = HashMap::new();
    if let Some(args) = params.get("context").and_then(|c| c.get("arguments")) {
        let Some(args) = args.as_object() else {
            return Err(bad("`context.arguments` must be an object of strings"));
        };
        for (k, v) in args {
            let Some(v) = v.as_str() else {
                return Err(bad(&format!("`context.arguments.{k}` must be a string")));
            };
            context.insert(k.clone(), v.to_owned());
        }
    }
    Ok(Params {
        target,
        argument,
        value,
        context,
    })
}

/// Runs a completer (none: no suggestions).
pub(crate) async fn complete(
    completer: Option<CompleteFn>,
    what: String,
    req: CompletionRequest,
) -> Reply {
    let Some(completer) = completer else {
        return Reply::ok(&Completion::default().result());
    };
    match completer(req).await {
        Ok(c) => Reply::ok(&c.result()),
        Err(e) => Reply::Err(RpcError::new(
            code::INTERNAL_ERROR,
            format!("completing {what} failed: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_carry_at_most_a_hundred_values() {
        let many = Completion::new((0..150).map(|i| i.to_string())).result();
        assert_eq!(
            many["completion"]["values"].as_array().map(Vec::len),
            Some(100)
        );
        assert_eq!(many["completion"]["total"], 150);
        assert_eq!(many["completion"]["hasMore"], true);
        let few = Completion::new(["a"]).result();
        assert_eq!(
            few,
            json!({"completion": {"values": ["a"], "hasMore": false}})
        );
    }

    #[test]
    fn params_are_checked_part_by_part() {
        let err = |p: Value| params(&p).err().map(|e| e.message).unwrap_or_default();
        assert!(err(json!({})).contains("`params.ref` is required"));
        assert!(err(json!({"ref": {"type": "ref/tool"}})).contains("`ref.type` must be"));
        assert!(err(json!({"ref": {"type": "ref/prompt"}})).contains("`ref.name`"));
        assert!(
            err(json!({"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a"}}))
                .contains("`argument.value`")
        );
        assert!(
            err(json!({"ref": {"type": "ref/resource", "uri": "u"},
                       "argument": {"name": "a", "value": ""}, "context": {"arguments": {"b": 1}}}))
            .contains("`context.arguments.b` must be a string")
        );
        let valid = json!({"ref": {"type": "ref/resource", "uri": "u"},
            "argument": {"name": "a", "value": "x"}, "context": {"arguments": {"b": "y"}}});
        let ok = params(&valid).expect("valid");
        assert!(matches!(ok.target, Target::Template("u")));
        assert_eq!(
            (ok.argument, ok.value, ok.context["b"].as_str()),
            ("a", "x", "y")
        );
    }
}
