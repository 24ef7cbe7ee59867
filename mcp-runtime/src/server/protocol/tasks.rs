//! Tasks (2026-07-28's tasks extension, `io.modelcontextprotocol/tasks`, SEP-2663): a tool call
//! the server answers at once with a task handle, then runs on its own. The client polls it
//! (`tasks/get`), answers the tool's questions through it (`tasks/update`) and may cancel it
//! (`tasks/cancel`); listeners that asked for its id get `notifications/tasks` at every change.
//!
//! This module keeps the tasks (`Tasks`, one per server) and answers the three methods; how a
//! call becomes a task and runs is in `task_run`.
//!
//! A task id is 128 random bits, and a task belongs to the caller that made it: another
//! caller gets the same "no such task" as for an id that never existed. A task lives
//! `ttlMs` from its creation (its work is stopped then if it still runs), and at most
//! `max` tasks live at once.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::server::jsonrpc::{Reply, RpcError};
use crate::server::outgoing::ClientCapabilities;
use crate::server::protocol::listen::Listeners;

pub(crate) use super::outgoing::EXTENSION;

/// How tasks are kept: set on the builder.
#[derive(Debug, Clone)]
pub(crate) struct TaskConfig {
    /// How long a task is kept after its creation (`ttlMs`).
    pub(crate) ttl: Duration,
    /// How often clients should poll (`pollIntervalMs`).
    pub(crate) poll_interval: Duration,
    /// At most this many tasks at once.
    pub(crate) max: usize,
    /// This replica's name, which begins every task id it makes (`<replica>.<random>`):
    /// `McpServerBuilder::replica_id` or `MCP_REPLICA_ID`, else this process's random
    /// instance in hex.
    pub(crate) replica: Option<String>,
}

impl Default for TaskConfig {
    fn default() -> Self {
        TaskConfig {
            ttl: Duration::from_secs(3600),
            poll_interval: Duration::from_secs(1),
            max: 10_000,
            replica: None,
        }
    }
}

/// The server's tasks.
pub(crate) struct Tasks {
    config: TaskConfig,
    live: Mutex<HashMap<String, Arc<Task>>>,
    /// When expired tasks were last swept out.
    swept: Mutex<Instant>,
    listeners: Arc<Listeners>,
}

/// Where a call stands with tasks (in its context).
#[derive(Default)]
pub(crate) struct TaskLink {
    /// Where the call registers its task when the tool starts one (`Context::start_task`);
    /// `None` when it cannot become a task.
    pub(crate) registry: Option<Arc<Tasks>>,
    /// The task the call runs as, once it is one.
    pub(crate) task: OnceLock<Arc<Task>>,
    /// The tool started its task: the request's response is the task handle, and the call
    /// goes on without it.
    pub(crate) started: AtomicBool,
}

/// One task.
pub(crate) struct Task {
    pub(crate) id: String,
    /// The caller that made it (the token's subject), when the server authenticates.
    owner: Option<String>,
    created: SystemTime,
    ttl: Duration,
    poll_ms: u64,
    /// What the client that made it can answer (its request's capabilities).
    pub(crate) capabilities: ClientCapabilities,
    /// Stops the work (a cancellation, the task's expiry).
    pub(crate) cancel: CancellationToken,
    state: Mutex<State>,
    listeners: Arc<Listeners>,
}

impl std::fmt::Debug for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// A task's status and what the tool waits for.
struct State {
    status: Status,
    updated: SystemTime,
    /// What the tool asked the client and waits for, by key.
    asked: BTreeMap<String, Asked>,
    /// Keys issued so far, and how many: a key is never used twice in a task.
    issued: std::collections::HashSet<String>,
    keys: usize,
}

/// A question waiting for its answer.
struct Asked {
    request: Value,
    answer: oneshot::Sender<Value>,
}

/// Where a task is; `input_required` is `Working` with questions waiting.
pub(crate) enum Status {
    Working,
    Completed(Value),
    Failed(RpcError),
    Cancelled,
}

impl Status {
    fn terminal(&self) -> bool {
        !matches!(self, Status::Working)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `<replica>.<128 random bits>`, URL-safe (it travels in the `Mcp-Name` header): a gateway
/// can route a task's requests to the replica that runs it by the prefix.
fn new_id(replica: &str) -> Result<String, RpcError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| {
        RpcError::new(
            crate::server::jsonrpc::code::INTERNAL_ERROR,
            format!("no randomness for a task id: {e}"),
        )
    })?;
    Ok(format!("{replica}.{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Whether `name` can name a replica in task ids: 1 to 32 of `A-Z a-z 0-9 - _`.
pub(crate) fn valid_replica(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Tasks {
    pub(crate) fn new(mut config: TaskConfig, listeners: Arc<Listeners>) -> Self {
        config
            .replica
            .get_or_insert_with(|| format!("{:016x}", super::instance()));
        Tasks {
            config,
            live: Mutex::new(HashMap::new()),
            swept: Mutex::new(Instant::now()),
            listeners,
        }
    }

    /// A new task for `owner`, registered before it is returned: a `tasks/get` for its id
    /// succeeds as soon as the client can know it. `None` when the server holds as many
    /// tasks as it may.
    pub(crate) fn create(
        &self,
        owner: Option<String>,
        capabilities: ClientCapabilities,
    ) -> Result<Option<Arc<Task>>, RpcError> {
        self.sweep();
        let task = Arc::new(Task {
            id: new_id(self.replica())?,
            owner,
            created: SystemTime::now(),
            ttl: self.config.ttl,
            poll_ms: u64::try_from(self.config.poll_interval.as_millis())
                .unwrap_or(u64::MAX)
                .max(1),
            capabilities,
            cancel: CancellationToken::new(),
            state: Mutex::new(State {
                status: Status::Working,
                updated: SystemTime::now(),
                asked: BTreeMap::new(),
                issued: std::collections::HashSet::new(),
                keys: 0,
            }),
            listeners: self.listeners.clone(),
        });
        let mut live = lock(&self.live);
        if live.len() >= self.config.max {
            tracing::warn!(target: "mcp_runtime::tasks", max = self.config.max, "task limit reached");
            return Ok(None);
        }
        live.insert(task.id.clone(), task.clone());
        Ok(Some(task))
    }

    /// Drops expired tasks (at most once a second), stopping the work of those still running.
    fn sweep(&self) {
        {
            let mut swept = lock(&self.swept);
            if swept.elapsed() < Duration::from_secs(1) {
                return;
            }
            *swept = Instant::now();
        }
        let now = SystemTime::now();
        lock(&self.live).retain(|_, t| {
            let keep = !t.expired(now);
            if !keep {
                t.cancel.cancel();
            }
            keep
        });
    }

    /// This replica's name in task ids.
    pub(crate) fn replica(&self) -> &str {
        self.config.replica.as_deref().unwrap_or_default()
    }

    /// The task `id` if `owner` made it and it has not expired.
    pub(crate) fn get(&self, id: &str, owner: Option<&str>) -> Result<Arc<Task>, RpcError> {
        if let Some((replica, _)) = id.split_once('.')
            && replica != self.replica()
            && valid_replica(replica)
        {
            return Err(RpcError::invalid_params(format!(
                "task `{id}` runs on replica `{replica}`, not on this one (`{}`): route the \
                 requests whose Mcp-Name begins with `{replica}.` to it",
                self.replica()
            )));
        }
        let unknown = || {
            RpcError::invalid_params(format!(
                "unknown task `{id}`: no task of this caller has that id (it may have expired)"
            ))
        };
        let task = lock(&self.live).get(id).cloned().ok_or_else(unknown)?;
        if task.owner.as_deref() != owner {
            return Err(unknown());
        }
        if task.expired(SystemTime::now()) {
            task.cancel.cancel();
            lock(&self.live).remove(id);
            return Err(unknown());
        }
        Ok(task)
    }

    /// The ids among `ids` that `owner` may follow: its own live tasks.
    pub(crate) fn owned(&self, ids: &[String], owner: Option<&str>) -> Vec<String> {
        ids.iter()
            .filter(|id| self.get(id, owner).is_ok())
            .cloned()
            .collect()
    }

    /// How many tasks are kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        lock(&self.live).len()
    }
}

impl Task {
    /// How long the task has left to live.
    pub(crate) fn remaining(&self) -> Duration {
        let age = self.created.elapsed().unwrap_or_default();
        self.ttl.saturating_sub(age)
    }

    /// The id as logs show it: its first characters, since without authentication the id is
    /// all it takes to read or cancel the task.
    pub(crate) fn log_id(&self) -> &str {
        self.id.get(..6).unwrap_or(&self.id)
    }

    fn expired(&self, now: SystemTime) -> bool {
        now.duration_since(self.created)
            .is_ok_and(|age| age >= self.ttl)
    }

    /// The task's fields and, by status, its questions, result or error (`DetailedTask`).
    pub(crate) fn detailed(&self) -> Map<String, Value> {
        let state = lock(&self.state);
        self.fields(&state, true)
    }

    fn fields(&self, state: &State, detailed: bool) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("taskId".into(), self.id.clone().into());
        let status = match &state.status {
            Status::Working if state.asked.is_empty() => "working",
            Status::Working => "input_required",
            Status::Completed(_) => "completed",
            Status::Failed(_) => "failed",
            Status::Cancelled => "cancelled",
        };
        m.insert("status".into(), status.into());
        m.insert("createdAt".into(), iso8601(self.created).into());
        m.insert("lastUpdatedAt".into(), iso8601(state.updated).into());
        m.insert(
            "ttlMs".into(),
            u64::try_from(self.ttl.as_millis())
                .unwrap_or(u64::MAX)
                .into(),
        );
        m.insert("pollIntervalMs".into(), self.poll_ms.into());
        if !detailed {
            return m;
        }
        match &state.status {
            Status::Working if !state.asked.is_empty() => {
                let requests: Map<String, Value> = state
                    .asked
                    .iter()
                    .map(|(k, a)| (k.clone(), a.request.clone()))
                    .collect();
                m.insert("inputRequests".into(), requests.into());
            }
            Status::Completed(result) => {
                m.insert("result".into(), result.clone());
            }
            Status::Failed(e) => {
                m.insert("statusMessage".into(), e.message.clone().into());
                m.insert("error".into(), json!(e));
            }
            _ => {}
        }
        m
    }

    /// The `CreateTaskResult`: `resultType` first, the task's fields, nothing else.
    pub(crate) fn created_result(&self) -> bytes::Bytes {
        let fields = {
            let state = lock(&self.state);
            Value::Object(self.fields(&state, false)).to_string()
        };
        // `fields` is an object: `{...}`.
        let rest = fields.strip_prefix('{').unwrap_or(&fields);
        bytes::Bytes::from(format!(r#"{{"resultType":"task",{rest}"#))
    }

    /// Tells the listeners following this task where it is now.
    fn changed(&self, state: &State) {
        if !self.listeners.follow_task(&self.id) {
            return;
        }
        let params = Value::Object(self.fields(state, true));
        self.listeners.notify_task(&self.id, params);
    }

    /// Moves the task to a terminal status, unless it is in one already.
    pub(crate) fn finish(&self, status: Status) {
        let mut state = lock(&self.state);
        if state.status.terminal() {
            return;
        }
        state.status = status;
        state.updated = SystemTime::now();
        // The questions still open will never be answered.
        state.asked.clear();
        self.changed(&state);
    }

    /// Whether the task reached a terminal status.
    pub(crate) fn is_terminal(&self) -> bool {
        lock(&self.state).status.terminal()
    }

    /// Records a question from the tool (`input_required` until it is answered): its key
    /// (the tool's, made unique within the task: a key names one question for the task's
    /// whole life) and where its answer arrives. `None` once the task ended.
    pub(crate) fn ask(
        &self,
        named: Option<&str>,
        method: &str,
        params: Value,
    ) -> Option<(String, oneshot::Receiver<Value>)> {
        let mut state = lock(&self.state);
        if state.status.terminal() {
            return None;
        }
        let kind = method.split('/').next().unwrap_or(method);
        let key = loop {
            state.keys += 1;
            let n = state.keys;
            let key = match named {
                Some(k) if !state.issued.contains(k) => k.to_owned(),
                Some(k) => format!("{k}-{n}"),
                None => format!("{kind}-{n}"),
            };
            if state.issued.insert(key.clone()) {
                break key;
            }
        };
        let (tx, rx) = oneshot::channel();
        state.asked.insert(
            key.clone(),
            Asked {
                request: json!({ "method": method, "params": params }),
                answer: tx,
            },
        );
        state.updated = SystemTime::now();
        self.changed(&state);
        Some((key, rx))
    }

    /// Hands the client's answers to the questions they answer; answers to anything not
    /// asked (or answered already) are ignored.
    pub(crate) fn answer(&self, responses: &Map<String, Value>) {
        let mut state = lock(&self.state);
        let before = state.asked.len();
        for (key, answer) in responses {
            if let Some(asked) = state.asked.remove(key) {
                // The tool may have stopped waiting (cancelled): nothing to do then.
                let _ = asked.answer.send(answer.clone());
            }
        }
        if state.asked.len() != before {
            state.updated = SystemTime::now();
            self.changed(&state);
        }
    }

    /// Forgets a question the tool stopped waiting for.
    pub(crate) fn withdraw(&self, key: &str) {
        let mut state = lock(&self.state);
        if state.asked.remove(key).is_some() && !state.status.terminal() {
            state.updated = SystemTime::now();
            self.changed(&state);
        }
    }
}

/// `tasks/get`, `tasks/update` and `tasks/cancel` from a request that declared the extension
/// (`tasks`), by `owner`.
pub(crate) fn handle(
    tasks: &Tasks,
    method: &str,
    params: &Value,
    declared: bool,
    owner: Option<&str>,
) -> Reply {
    if !declared {
        return Reply::Err(missing_extension(method));
    }
    let Some(id) = params.get("taskId").and_then(Value::as_str) else {
        return Reply::Err(RpcError::invalid_params(format!(
            "{method}: `params.taskId` (a string) is required"
        )));
    };
    let task = match tasks.get(id, owner) {
        Ok(t) => t,
        Err(e) => return Reply::Err(e),
    };
    match method {
        "tasks/get" => Reply::ok(&Value::Object(task.detailed())),
        "tasks/update" => {
            let Some(responses) = params.get("inputResponses").and_then(Value::as_object) else {
                return Reply::Err(RpcError::invalid_params(
                    "tasks/update: `params.inputResponses` (an object of answers by key) is \
                     required",
                ));
            };
            task.answer(responses);
            Reply::ok(&json!({}))
        }
        "tasks/cancel" => {
            if !task.is_terminal() {
                task.finish(Status::Cancelled);
                task.cancel.cancel();
            }
            Reply::ok(&json!({}))
        }
        _ => Reply::Err(crate::server::modern::method_not_found(method)),
    }
}

/// Whether `method` is one of the extension's.
pub(crate) fn is_task_method(method: &str) -> bool {
    matches!(method, "tasks/get" | "tasks/update" | "tasks/cancel")
}

/// The error for a request that needs the extension and does not declare it.
pub(crate) fn missing_extension(what: &str) -> RpcError {
    let mut e = RpcError::new(
        crate::server::modern::MISSING_CAPABILITY,
        format!(
            "{what} needs the tasks extension: declare `extensions` \
             `{{\"{EXTENSION}\": {{}}}}` in `_meta` \
             `io.modelcontextprotocol/clientCapabilities`"
        ),
    );
    e.data = Some(json!({ "requiredCapabilities": { "extensions": { EXTENSION: {} } } }));
    e
}

/// An instant as ISO 8601 in UTC, to the millisecond (`2026-07-28T10:30:00.000Z`).
pub(crate) fn iso8601(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days to a civil date (Howard Hinnant's algorithm, for days since 1970-01-01).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

#[cfg(test)]
#[path = "tasks_tests.rs"]
mod tests;
