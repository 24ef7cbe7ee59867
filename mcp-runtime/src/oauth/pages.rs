//! The HTML pages: sign-in and consent, and errors shown to the user. They name the server
//! (or the product, with [`Branding`]), run no script, and are built to pass an automated
//! accessibility check (a `main` landmark, one `h1`, labelled fields).

use std::fmt::Write as _;
use std::sync::LazyLock;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;

use super::responses::{no_store, origin};
use crate::config::{Branding, asset_origin};

/// How the pages look: the name they show, the branding's assets, and the
/// Content-Security-Policy that admits exactly those assets. Made once, at build.
#[derive(Debug)]
pub(crate) struct Look {
    /// The product name, else the server's title, else its name.
    name: String,
    logo: Option<String>,
    stylesheet: Option<String>,
    csp: header::HeaderValue,
}

/// The look of a server that was never told its name (unit tests, early errors).
pub(super) static PLAIN: LazyLock<Look> = LazyLock::new(|| Look::new("this MCP server", None));

impl Look {
    /// `server` is the server's title or name; `branding` was checked at build (an asset
    /// whose URL is refused is left out).
    pub(crate) fn new(server: &str, branding: Option<&Branding>) -> Self {
        let name = branding
            .and_then(Branding::product)
            .unwrap_or(server)
            .to_owned();
        let logo = branding
            .and_then(Branding::logo)
            .filter(|u| asset_origin(u).is_ok())
            .map(str::to_owned);
        let stylesheet = branding
            .and_then(Branding::stylesheet)
            .filter(|u| asset_origin(u).is_ok())
            .map(str::to_owned);
        let mut csp = String::from("default-src 'none'; style-src 'unsafe-inline'");
        if let Some(origin) = stylesheet.as_deref().and_then(|u| asset_origin(u).ok()) {
            csp.push(' ');
            csp.push_str(&origin);
        }
        if let Some(origin) = logo.as_deref().and_then(|u| asset_origin(u).ok()) {
            csp.push_str("; img-src ");
            csp.push_str(&origin);
        }
        csp.push_str("; frame-ancestors 'none'");
        Look {
            name,
            logo,
            stylesheet,
            // The origins are ASCII serializations of parsed URLs: always a valid value.
            csp: header::HeaderValue::from_str(&csp)
                .unwrap_or_else(|_| header::HeaderValue::from_static("default-src 'none'")),
        }
    }
}

pub(super) fn page(look: &Look, status: StatusCode, html: &str) -> HttpResponse {
    no_store(HttpResponse::build(status))
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, look.csp.clone()))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .body(html.to_owned())
}

pub(super) fn error_page(look: &Look, status: StatusCode, message: &str) -> HttpResponse {
    page(
        look,
        status,
        &shell(
            look,
            &format!("Sign-in failed: {}", look.name),
            &format!(
                "<h1>Sign-in to {} failed</h1><p>{}</p>",
                esc(&look.name),
                esc(message)
            ),
        ),
    )
}

pub(super) fn consent_page(
    look: &Look,
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
        look,
        &format!("Sign in to {}", look.name),
        &format!(
            r#"<h1>Sign in to {server}</h1>
<p><b>{client}</b> asks to act for you, then return to <code>{redirect}</code>, with these scopes:</p>
<ul>{items}</ul>
<form method="post" action="{action}">
<input type="hidden" name="request" value="{id}">
{no_enter}
<p><label for="username">User name</label> <input id="username" name="username" value="{user}" autocomplete="username" maxlength="64"></p>
<p><button type="submit" name="decision" value="approve">Approve</button> <button type="submit" name="decision" value="deny">Deny</button></p>
</form>
<p class="note">Development authorization server: any user name signs in, and no password is asked. Never use it in production.</p>"#,
            server = esc(&look.name),
            no_enter = NO_IMPLICIT_SUBMIT,
            action = esc(action),
            client = esc(client),
            redirect = esc(&redirect_origin),
            id = esc(request_id),
            user = esc(default_user),
        ),
    )
}

impl Look {
    /// The OAuth proxy's consent page: which client, where it sends the user back, which scopes,
    /// and where the user will sign in. The form (its action, transaction and CSRF token)
    /// carries the transaction and its CSRF token.
    pub(super) fn proxy_consent_page(
        &self,
        (action, txn_id, csrf): (&str, &str, &str),
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
            self,
            &format!("Allow access to {}", self.name),
            &format!(
                r#"<h1>Allow access to {server}?</h1>
    <p><b>{client}</b> asks to use {server} for you, with these scopes:</p>
    <ul>{items}</ul>
    <p>If you allow it, you sign in at <b>{upstream}</b> and are sent back to <b>{redirect}</b>. Allow only clients you started yourself.</p>
    <form method="post" action="{action}">
    <input type="hidden" name="request" value="{id}">
    <input type="hidden" name="csrf" value="{csrf}">
    {no_enter}
    <p><button type="submit" name="decision" value="approve">Allow</button> <button type="submit" name="decision" value="deny">Deny</button></p>
    </form>"#,
                server = esc(&self.name),
                no_enter = NO_IMPLICIT_SUBMIT,
                action = esc(action),
                client = esc(client),
                redirect = esc(&redirect_host),
                upstream = esc(&upstream_host),
                id = esc(txn_id),
                csrf = esc(csrf),
            ),
        )
    }
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

/// The form's first submit button, disabled: pressing Enter in a field submits a form through
/// its first submit button (HTML's implicit submission), and a disabled one makes Enter do
/// nothing, so only a deliberate click (or a keyboard activation) on Approve approves.
const NO_IMPLICIT_SUBMIT: &str =
    r#"<button type="submit" disabled hidden aria-hidden="true" tabindex="-1"></button>"#;

pub(super) fn shell(look: &Look, title: &str, body: &str) -> String {
    let stylesheet = look
        .stylesheet
        .as_deref()
        .map(|u| format!(r#"<link rel="stylesheet" href="{}">"#, esc(u)))
        .unwrap_or_default();
    let logo = look
        .logo
        .as_deref()
        .map(|u| {
            format!(
                r#"<img class="logo" src="{}" alt="{} logo" height="48">"#,
                esc(u),
                esc(&look.name)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a;background:#fff}}button{{padding:.4rem 1rem}}input{{padding:.3rem}}.note{{color:#555;font-size:.9rem}}.logo{{display:block;margin-bottom:1rem}}</style>{stylesheet}</head><body><main>{logo}{body}</main></body></html>"#,
        title = esc(title),
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
