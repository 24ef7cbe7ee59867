//! Opening the authorization URL: the `BROWSER` environment variable, else the platform's
//! opener; the URL is always printed too, for headless use.

use std::sync::Arc;

use futures_util::future::BoxFuture;

/// How the user is sent to the authorization URL.
#[derive(Clone, Default)]
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

    /// Sends the user to `url`.
    pub(crate) async fn open(&self, url: &str) -> Result<(), String> {
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
                let platform = if cfg!(target_os = "macos") {
                    "open"
                } else if cfg!(windows) {
                    "cmd /C start \"\""
                } else {
                    "xdg-open"
                };
                // Without an opener the printed URL still lets the user go on.
                if let Err(e) = run(platform, url) {
                    tracing::debug!(target: "mcp_runtime::client", "no browser opened: {e}");
                }
                Ok(())
            }
        }
    }
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
    let mut child = std::process::Command::new(&words[0])
        .args(&words[1..])
        .stdin(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", words[0]))?;
    // Reap it whenever it ends.
    std::thread::spawn(move || {
        let _ = child.wait();
    });
    Ok(())
}
