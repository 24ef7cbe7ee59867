use mcp_runtime::prelude::*;
use mcp_runtime::{Completion, CompletionRequest, ResourceRequest};

async fn ids(req: CompletionRequest) -> Result<Completion, ToolError> {
    Ok(Completion::matching(&req.value, ["1", "2"]))
}

/// A fixed resource.
#[mcp_resource(uri = "file:///a", mime_type = "text/plain")]
async fn fixed() -> &'static str {
    "a"
}

/// A template with every kind of parameter.
#[mcp_resource(uri = "things://{id}/{name}", scopes = ["things:read"])]
async fn thing(#[complete(ids)] id: u64, name: String, auth: Auth, req: ResourceRequest) -> Json<(u64, String, String, String)> {
    Json((id, name, auth.user.user_id.clone(), req.uri))
}

/// A prompt.
#[mcp_prompt(name = "ask", scopes = "things:read")]
async fn ask(
    /// What to ask
    question: String,
    /// Optional context
    context: Option<String>,
    auth: Auth,
) -> Result<PromptMessage, String> {
    let _ = (context, auth);
    Ok(PromptMessage::user(Content::text(question)))
}

#[mcp_server(name = "things", oauth = "custom", scopes = ["things:read"], resources = [fixed, thing], prompts = [ask])]
struct Things;

fn main() {
    let _ = Things::builder();
}
