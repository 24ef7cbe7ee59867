//! Opening the authorization URL: the `BROWSER` environment variable, else the platform's
//! opener; the URL is always printed too, for headless use.

use std::sync::Arc;

use futures_util::future::BoxFuture;

/// How the user is sent to the authorization URL.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Opener {
    /// `$BROWSER` (a `:`-separated list of commands; `%s` stands for the URL, else it is
    /// appended), else `xdg-open` / `open` / `start`; the URL is printed to stderr as well.
    #[default]
    System,
    /// Only print the URL (to stderr), for a machine without a browser.
    Print,
    /// Run this command with the URL (`%s`, or appended).
    Command(String),
    /// Anything else: a function given the URL (tests drive the sign-in this way).
    Custom(Arc<dyn Fn(String) -> BoxFuture<'static, Result<(), String>> + Send + Sync>),
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Opener::System => f.write_str("System"),
            Opener::Print => f.write_str("Print"),
            Opener::Command(c) => f.debug_tuple("Command").field(c).finish(),
            Opener::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Opener {
    /// A function that receives the URL.
    pub fn custom<F, Fut>(f: F) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
    {
        Opener::Custom(Arc::new(move |url| Box::pin(f(url))))
    }

    /// Sends the user to `url`: only an `https` URL, or `http` on a loopback host, reaches a
    /// browser or a command.
    pub(crate) async fn open(&self, url: &str) -> Result<(), String> {
        super::guard::check_url("authorization URL", url).map_err(|e| e.to_string())?;
        match self {
            Opener::Custom(f) => f(url.to_owned()).await,
            Opener::Print => {
                eprintln!("Open this URL in a browser to sign in:\n  {url}");
                Ok(())
            }
            Opener::Command(cmd) => {
                eprintln!("Opening the browser to sign in (or open this URL yourself):\n  {url}");
                run(cmd, url)
            }
            Opener::System => {
                eprintln!("Opening the browser to sign in (or open this URL yourself):\n  {url}");
                if let Some(list) = std::env::var("BROWSER").ok().filter(|b| !b.is_empty()) {
                    let mut last = String::new();
                    for cmd in list.split(':').filter(|c| !c.is_empty()) {
                        match run(cmd, url) {
                            Ok(()) => return Ok(()),
                            Err(e) => last = e,
                        }
                    }
                    return Err(last);
                }
                // Without an opener the printed URL still lets the user go on.
                if let Err(e) = spawn(&platform_command(std::env::consts::OS, url)) {
                    tracing::debug!(target: "mcp_runtime::client", "no browser opened: {e}");
                }
                Ok(())
            }
        }
    }
}

/// The platform's opener for `url` on `os` (`std::env::consts::OS`): a program and its
/// arguments, the URL one argument of its own, never through a shell. On Windows `cmd /C
/// start` would split the URL at `&` and run what follows (CVE-2025-6514's pattern), so the
/// URL goes to the URL protocol handler through `rundll32` instead.
fn platform_command(os: &str, url: &str) -> Vec<String> {
    let program: &[&str] = match os {
        "macos" => &["open"],
        "windows" => &["rundll32.exe", "url.dll,FileProtocolHandler"],
        _ => &["xdg-open"],
    };
    program
        .iter()
        .map(|w| (*w).to_owned())
        .chain(std::iter::once(url.to_owned()))
        .collect()
}

/// Starts `cmd` with the URL, without a shell; does not wait for it.
fn run(cmd: &str, url: &str) -> Result<(), String> {
    let mut words: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() {
        return Err("empty browser command".into());
    }
    if words.iter().any(|w| w.contains("%s")) {
        for w in &mut words {
            *w = w.replace("%s", url);
        }
    } else {
        words.push(url.to_owned());
    }
    spawn(&words)
}

/// Starts a program with its arguments (no shell); does not wait for it.
fn spawn(words: &[String]) -> Result<(), String> {
    let Some(program) = words.first() else {
        return Err("empty browser command".into());
    };
    let mut child = std::process::Command::new(program)
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    // Reap it whenever it ends.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_platform_opener_takes_the_url_as_one_argument_without_a_shell() {
        let url = "https://as.example/authorize?a=1&b=2&calc.exe";
        assert_eq!(
            platform_command("windows", url),
            ["rundll32.exe", "url.dll,FileProtocolHandler", url]
        );
        assert_eq!(platform_command("macos", url), ["open", url]);
        assert_eq!(platform_command("linux", url), ["xdg-open", url]);
        for os in ["windows", "macos", "linux", "freebsd"] {
            let words = platform_command(os, url);
            assert!(
                !words
                    .iter()
                    .any(|w| w == "cmd" || w == "/C" || w.ends_with("sh")),
                "{os}: {words:?}"
            );
            assert_eq!(words.last().map(String::as_str), Some(url), "{os}");
        }
    }

    #[tokio::test]
    async fn only_https_or_loopback_urls_are_opened() {
        let opened = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = opened.clone();
        let opener = Opener::custom(move |u| {
            let seen = seen.clone();
            async move {
                seen.lock().map_err(|e| e.to_string())?.push(u);
                Ok(())
            }
        });
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://evil.example/a",
        ] {
            let e = opener.open(bad).await.expect_err(bad);
            assert!(e.contains("refusing"), "{bad}: {e}");
        }
        opener.open("https://as.example/a").await.expect("https");
        opener.open("http://127.0.0.1:9/a").await.expect("loopback");
        assert_eq!(opened.lock().expect("lock").len(), 2);
    }
}
