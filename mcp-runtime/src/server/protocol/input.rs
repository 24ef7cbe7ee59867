//! Input-required results (2026-07-28, SEP-2322): how a tool asks the client for sampling,
//! elicitation or roots within one request, with the same `ctx.sample`/`ctx.elicit`/`ctx.roots`
//! calls it makes under the older revisions.
//!
//! A tool runs; when it asks for something the request does not carry an answer to, the ask
//! is recorded under a key and never resolves; once the tool waits on nothing else, the call
//! ends with `resultType: "input_required"`, the recorded `inputRequests` and a
//! `requestState`. The client answers them and sends the request again with `inputResponses`
//! and the state: the tool runs again from the start, and this time its asks find their
//! answers by key. The state carries the answers of earlier rounds, signed (HMAC-SHA256 with
//! the server's key), bound to the tool and bounded in time, so the client cannot alter
//! them or use them elsewhere.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::server::jsonrpc::RpcError;

/// How long a `requestState` may be sent back.
const STATE_LIFETIME: Duration = Duration::from_secs(3600);

/// The server's key for `requestState`.
#[derive(Clone)]
pub(crate) struct StateKey([u8; 32]);

impl StateKey {
    /// A random key (per process; replicas share one through their shared store, or
    /// `McpServerBuilder::request_state_key`).
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut k = [0u8; 32];
        getrandom::fill(&mut k)?;
        Ok(StateKey(k))
    }

    pub(crate) fn from_bytes(k: [u8; 32]) -> Self {
        StateKey(k)
    }

    /// The key derived from the replicas' shared `MCP_STORE_ENCRYPTION_KEY` (HMAC-SHA256 of a
    /// fixed label): the same on every replica, and nothing to store.
    pub(crate) fn derived(encryption_key: &[u8; 32]) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(encryption_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(b"mcp-runtime request state");
        StateKey(mac.finalize().into_bytes().into())
    }

    /// The key every replica sharing `store` uses: the first to start saves a random one
    /// (first writer wins, as with the signing keys), the others read it. Runs at build time.
    pub(crate) fn shared(store: &dyn crate::store::Store) -> Result<Self, String> {
        let raw =
            crate::store::get_or_put_new(store, crate::store::Space::Keys, "request-state", || {
                let key = Self::random().map_err(|e| format!("no secure random source: {e}"))?;
                Ok(URL_SAFE_NO_PAD.encode(key.0).into_bytes())
            })
            .map_err(|e| crate::model::Report(&e).to_string())?;
        URL_SAFE_NO_PAD
            .decode(&raw)
            .ok()
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .map(StateKey)
            .ok_or_else(|| "the stored request-state key is not 32 bytes of base64url".into())
    }

    fn mac(&self, data: &[u8]) -> Vec<u8> {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// The state for `tool`, bound to the request (`binding`: its arguments and caller),
    /// carrying `answers`.
    pub(crate) fn seal(&self, tool: &str, binding: &str, answers: &Map<String, Value>) -> String {
        let issued = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let body = json!({ "t": tool, "b": binding, "i": issued, "a": answers }).to_string();
        let payload = URL_SAFE_NO_PAD.encode(body.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(self.mac(payload.as_bytes()));
        format!("{payload}.{tag}")
    }

    /// The answers a state carries, if this server issued it for `tool` and the same
    /// arguments and caller (`binding`), and it is recent.
    pub(crate) fn open(
        &self,
        tool: &str,
        binding: &str,
        state: &str,
    ) -> Result<Map<String, Value>, RpcError> {
        let invalid = |why: &str| {
            RpcError::invalid_params(format!(
                "`requestState` is not valid: {why}; send the requestState of this server's \
                 last input-required result unchanged, or start the request again without it"
            ))
        };
        let (payload, tag) = state
            .split_once('.')
            .ok_or_else(|| invalid("it is not a state this server issued"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| invalid("it is not a state this server issued"))?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| invalid("it was altered, or another server issued it"))?;
        let body: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| invalid("it is not a state this server issued"))?;
        if body.get("t").and_then(Value::as_str) != Some(tool)
            || body.get("b").and_then(Value::as_str) != Some(binding)
        {
            return Err(invalid(
                "it was issued for another request (another tool, other arguments or another \
                 caller)",
            ));
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let issued = body.get("i").and_then(Value::as_u64).unwrap_or(0);
        if now.saturating_sub(issued) > STATE_LIFETIME.as_secs() {
            return Err(invalid("it has expired (a state lives one hour)"));
        }
        Ok(body
            .get("a")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default())
    }
}

/// One request's input rounds: the answers it carries and what its tool asked anew.
#[derive(Default)]
pub(crate) struct Inputs {
    /// The tool the state is bound to, the request's binding, and the key that signs it.
    tool: std::borrow::Cow<'static, str>,
    /// The arguments and caller the state is bound to, digested when a state is sealed.
    bound: (Value, Option<String>),
    key: Option<StateKey>,
    /// Answers from earlier rounds (the state) and this one (`inputResponses`).
    pub(crate) answers: Map<String, Value>,
    /// What the tool asked that no answer covers, by key, in order.
    asked: Mutex<BTreeMap<String, Value>>,
    /// Asks so far, for keys the tool did not name.
    next: AtomicUsize,
}

impl Inputs {
    /// The answers a request carries: those of its `requestState` (checked) and its
    /// `inputResponses`.
    pub(crate) fn for_request(
        key: &StateKey,
        tool: impl Into<std::borrow::Cow<'static, str>>,
        bound: (Value, Option<String>),
        state: Option<&str>,
        responses: &Map<String, Value>,
    ) -> Result<Self, RpcError> {
        let tool = tool.into();
        let mut answers = match state {
            Some(s) => key.open(&tool, &binding(&bound.0, bound.1.as_deref()), s)?,
            None => Map::new(),
        };
        answers.extend(responses.iter().map(|(k, v)| (k.clone(), v.clone())));
        Ok(Inputs {
            tool,
            bound,
            key: Some(key.clone()),
            answers,
            ..Inputs::default()
        })
    }

    /// The `input_required` result, when the tool asked for something: written with
    /// `resultType` first, so that framing adds no second one.
    pub(crate) fn result(&self) -> Option<bytes::Bytes> {
        let requests = self.asked()?;
        let bound = binding(&self.bound.0, self.bound.1.as_deref());
        let state = self.key.as_ref()?.seal(&self.tool, &bound, &self.answers);
        Some(input_required(&requests, &state))
    }

    /// The key of an ask: the tool's own, or the method's kind and the ask's number (the same
    /// in every round, since the tool runs the same way again).
    pub(crate) fn key(&self, named: Option<&str>, method: &str) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        named.map_or_else(
            || {
                let kind = method.split('/').next().unwrap_or(method);
                format!("{kind}-{n}")
            },
            str::to_owned,
        )
    }

    /// Records an ask no answer covers.
    pub(crate) fn ask(&self, key: String, method: &str, params: Value) {
        let mut asked = self
            .asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        asked.insert(key, json!({ "method": method, "params": params }));
    }

    /// What was asked, if anything.
    pub(crate) fn asked(&self) -> Option<Map<String, Value>> {
        let asked = self
            .asked
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (!asked.is_empty()).then(|| asked.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// The `input_required` result, `resultType` first.
pub(crate) fn input_required(requests: &Map<String, Value>, state: &str) -> bytes::Bytes {
    let requests = serde_json::to_string(requests).unwrap_or_else(|_| "{}".to_owned());
    let state = serde_json::to_string(state).unwrap_or_else(|_| "\"\"".to_owned());
    bytes::Bytes::from(format!(
        r#"{{"resultType":"input_required","inputRequests":{requests},"requestState":{state}}}"#
    ))
}

/// What a request's state is bound to besides its tool: a digest of its arguments and of the
/// caller, so that a state cannot be replayed with other arguments or by someone else.
pub(crate) fn binding(arguments: &Value, subject: Option<&str>) -> String {
    use sha2::Digest as _;
    let mut h = Sha256::new();
    h.update(arguments.to_string().as_bytes());
    h.update([0]);
    h.update(subject.unwrap_or("").as_bytes());
    URL_SAFE_NO_PAD.encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_derived_key_is_the_same_for_the_same_secret_only() {
        let a = StateKey::derived(&[1; 32]);
        assert_eq!(a.0, StateKey::derived(&[1; 32]).0);
        assert_ne!(a.0, StateKey::derived(&[2; 32]).0);
        assert_ne!(a.0, [1; 32], "not the encryption key itself");
    }

    #[test]
    fn states_open_only_unaltered_for_their_request() {
        let key = StateKey::random().expect("random");
        let mut answers = Map::new();
        answers.insert("user_name".into(), json!({"action": "accept"}));
        let state = key.seal("greet", "b1", &answers);
        assert_eq!(key.open("greet", "b1", &state).expect("valid"), answers);
        let refused =
            |tool: &str, b: &str, st: &str| key.open(tool, b, st).expect_err("refused").message;
        assert!(refused("other", "b1", &state).contains("another request"));
        assert!(refused("greet", "b2", &state).contains("other arguments"));
        let mut tampered = state.clone().into_bytes();
        tampered[3] ^= 1;
        let tampered = String::from_utf8(tampered).expect("ascii");
        assert!(refused("greet", "b1", &tampered).contains("altered"));
        let other = StateKey::random().expect("random");
        assert!(
            other.open("greet", "b1", &state).is_err(),
            "another server's key"
        );
        assert!(key.open("greet", "b1", "garbage").is_err());
        assert_ne!(
            binding(&json!({"a": 1}), None),
            binding(&json!({"a": 2}), None)
        );
        assert_ne!(
            binding(&json!({}), Some("ann")),
            binding(&json!({}), Some("bob"))
        );
        let bytes = input_required(&answers, &state);
        let text = std::str::from_utf8(&bytes).expect("utf8");
        assert!(
            text.starts_with(r#"{"resultType":"input_required","#),
            "{text}"
        );
        assert_eq!(text.matches("resultType").count(), 1, "{text}");
    }

    #[test]
    fn unnamed_asks_get_stable_keys() {
        let inputs = Inputs::default();
        assert_eq!(inputs.key(None, "elicitation/create"), "elicitation-0");
        assert_eq!(inputs.key(Some("step2"), "sampling/createMessage"), "step2");
        assert_eq!(inputs.key(None, "roots/list"), "roots-2");
        assert!(inputs.asked().is_none());
        inputs.ask("b".into(), "roots/list", json!({}));
        inputs.ask("a".into(), "roots/list", json!({}));
        assert_eq!(inputs.asked().expect("asked").len(), 2);
    }
}
