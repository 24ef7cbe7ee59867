//! The HTML pages: sign-in and consent, and errors shown to the user.

use std::fmt::Write as _;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

use super::responses::{no_store, origin};

pub(super) fn page(status: StatusCode, html: &str) -> HttpResponse {
    no_store(HttpResponse::build(status))
        .content_type("text/html; charset=utf-8")
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html.to_owned())
}

pub(super) fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    page(
        status,
        &shell(
            "Sign-in failed",
            &format!("<h1>Sign-in failed</h1><p>{}</p>", esc(message)),
        ),
    )
}

pub(super) fn consent_page(
    action: &str,
    request_id: &str,
    client: &str,
    redirect_uri: &str,
    scopes: &[String],
    default_user: &str,
) -> String {
    let items = scope_items(scopes);
    let redirect_origin = origin(redirect_uri);
    shell(
        "Sign in",
        &format!(
            r#"<h1>Sign in to this MCP server</h1>
<p><b>{client}</b> asks to act for you, then return to <code>{redirect}</code>, with these scopes:</p>
<ul>{items}</ul>
<form method="post" action="{action}">
<input type="hidden" name="request" value="{id}">
<label>User name <input name="username" value="{user}" autocomplete="username" maxlength="64"></label>
<p><button name="decision" value="approve">Approve</button> <button name="decision" value="deny">Deny</button></p>
</form>
<p class="note">Development authorization server: any user name signs in, and no password is asked. Never use it in production.</p>"#,
            action = esc(action),
            client = esc(client),
            redirect = esc(&redirect_origin),
            id = esc(request_id),
            user = esc(default_user),
        ),
    )
}

/// The OAuth proxy's consent page: which client, where it sends the user back, which scopes,
/// and where the user will sign in. The form carries the transaction and its CSRF token.
pub(super) fn proxy_consent_page(
    action: &str,
    txn_id: &str,
    csrf: &str,
    client: &str,
    redirect_uri: &str,
    scopes: &[String],
    upstream: &str,
) -> String {
    let items = scope_items(scopes);
    let redirect_host = url::Url::parse(redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| origin(redirect_uri));
    let upstream_host = url::Url::parse(upstream)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    shell(
        "Allow access",
        &format!(
            r#"<h1>Allow access to this MCP server?</h1>
<p><b>{client}</b> asks to use this MCP server for you, with these scopes:</p>
<ul>{items}</ul>
<p>If you allow it, you sign in at <b>{upstream}</b> and are sent back to <b>{redirect}</b>. Allow only clients you started yourself.</p>
<form method="post" action="{action}">
<input type="hidden" name="request" value="{id}">
<input type="hidden" name="csrf" value="{csrf}">
<p><button name="decision" value="approve">Allow</button> <button name="decision" value="deny">Deny</button></p>
</form>"#,
            action = esc(action),
            client = esc(client),
            redirect = esc(&redirect_host),
            upstream = esc(&upstream_host),
            id = esc(txn_id),
            csrf = esc(csrf),
        ),
    )
}

/// The scopes as list items, escaped.
fn scope_items(scopes: &[String]) -> String {
    let mut items = String::new();
    for s in scopes {
        let _ = write!(items, "<li><code>{}</code></li>", esc(s));
    }
    if items.is_empty() {
        items.push_str("<li>no scopes: sign-in only</li>");
    }
    items
}

pub(super) fn shell(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}}button{{padding:.4rem 1rem}}input{{padding:.3rem}}.note{{color:#666;font-size:.9rem}}</style></head><body>{}</body></html>"#,
        esc(title),
        body
    )
}

/// Escapes text for HTML content and attribute values.
pub(super) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_html() {
        assert_eq!(
            esc(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
