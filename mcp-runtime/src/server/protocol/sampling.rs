//! `sampling/createMessage`: a tool asks the client's LLM for a completion
//! ([`Context::sample`](crate::Context::sample)).

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::result::Content;
use crate::server::prompts::Role;

/// A sampling request, built from messages and options.
///
/// ```
/// use mcp_runtime::Sampling;
///
/// let request = Sampling::new(200)
///     .system_prompt("You are terse.")
///     .user("Summarize: the build is green.")
///     .temperature(0.2)
///     .model_hint("claude");
/// ```
#[derive(Debug, Clone)]
pub struct Sampling {
    messages: Vec<Value>,
    params: Map<String, Value>,
}

impl Sampling {
    /// A request for at most `max_tokens` tokens; add messages with [`user`](Self::user) and
    /// [`assistant`](Self::assistant).
    pub fn new(max_tokens: u32) -> Self {
        let mut params = Map::new();
        params.insert("maxTokens".into(), max_tokens.into());
        Sampling {
            messages: Vec::new(),
            params,
        }
    }

    /// A user message of text.
    pub fn user(self, text: impl Into<String>) -> Self {
        self.message(Role::User, Content::text(text))
    }

    /// An assistant message of text (an earlier turn).
    pub fn assistant(self, text: impl Into<String>) -> Self {
        self.message(Role::Assistant, Content::text(text))
    }

    /// A message of any content (text, image, audio).
    pub fn message(mut self, role: Role, content: Content) -> Self {
        self.messages
            .push(json!({ "role": role, "content": content }));
        self
    }

    /// The system prompt the client may use.
    pub fn system_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.params
            .insert("systemPrompt".into(), prompt.into().into());
        self
    }

    /// The sampling temperature.
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.params.insert("temperature".into(), temperature.into());
        self
    }

    /// Sequences that stop the generation.
    pub fn stop_sequences<S: Into<String>>(mut self, stops: impl IntoIterator<Item = S>) -> Self {
        let stops: Vec<Value> = stops.into_iter().map(|s| Value::String(s.into())).collect();
        self.params.insert("stopSequences".into(), stops.into());
        self
    }

    /// A model name the client should prefer (`modelPreferences.hints`); hints add up, in
    /// order of preference.
    pub fn model_hint(mut self, name: impl Into<String>) -> Self {
        let prefs = self
            .params
            .entry("modelPreferences")
            .or_insert_with(|| json!({ "hints": [] }));
        if let Some(hints) = prefs.get_mut("hints").and_then(Value::as_array_mut) {
            hints.push(json!({ "name": name.into() }));
        }
        self
    }

    /// How much the client should favour cost, speed and intelligence (each 0 to 1,
    /// `modelPreferences`).
    pub fn priorities(mut self, cost: f64, speed: f64, intelligence: f64) -> Self {
        let prefs = self
            .params
            .entry("modelPreferences")
            .or_insert_with(|| json!({ "hints": [] }));
        if let Some(prefs) = prefs.as_object_mut() {
            prefs.insert("costPriority".into(), cost.clamp(0.0, 1.0).into());
            prefs.insert("speedPriority".into(), speed.clamp(0.0, 1.0).into());
            prefs.insert(
                "intelligencePriority".into(),
                intelligence.clamp(0.0, 1.0).into(),
            );
        }
        self
    }

    /// The request's params, as sent.
    pub(crate) fn into_params(self) -> Result<Value, String> {
        if self.messages.is_empty() {
            return Err(
                "a sampling request needs at least one message; add one with \
                        `Sampling::user`"
                    .into(),
            );
        }
        let mut params = self.params;
        params.insert("messages".into(), Value::Array(self.messages));
        Ok(Value::Object(params))
    }
}

/// The client's completion.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct SamplingResult {
    /// Who speaks (the assistant).
    pub role: Role,
    /// What the model wrote.
    #[serde(deserialize_with = "one_or_many")]
    pub content: Vec<Content>,
    /// The model that wrote it.
    pub model: String,
    /// Why it stopped (`endTurn`, `stopSequence`, `maxTokens`, or the client's own reason).
    #[serde(default, rename = "stopReason")]
    pub stop_reason: Option<String>,
}

impl SamplingResult {
    /// The text of the answer: its text contents, joined.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|c| match c {
                Content::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }
}

/// One content object (every revision) or an array of them (2025-11-25).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Content>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        // An array first: `Content` keeps any value it does not know, an array too.
        Many(Vec<Content>),
        One(Content),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(c) => vec![c],
        OneOrMany::Many(v) => v,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_what_the_specification_shows() {
        let params = Sampling::new(100)
            .user("hi")
            .system_prompt("terse")
            .model_hint("claude")
            .priorities(0.1, 2.0, 0.9)
            .into_params()
            .expect("params");
        assert_eq!(
            params,
            json!({
                "maxTokens": 100,
                "messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                "systemPrompt": "terse",
                "modelPreferences": {"hints": [{"name": "claude"}], "costPriority": 0.1,
                                     "speedPriority": 1.0, "intelligencePriority": 0.9},
            })
        );
        assert!(Sampling::new(1).into_params().is_err());
    }

    #[test]
    fn results_read_one_content_or_many() {
        let one: SamplingResult = serde_json::from_value(json!({
            "role": "assistant", "model": "m", "stopReason": "endTurn",
            "content": {"type": "text", "text": "hello"}
        }))
        .expect("one");
        assert_eq!(one.text(), "hello");
        let many: SamplingResult = serde_json::from_value(json!({
            "role": "assistant", "model": "m",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
        }))
        .expect("many");
        assert_eq!((many.text().as_str(), many.stop_reason), ("ab", None));
    }
}
