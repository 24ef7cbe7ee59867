//! Server-sent events, read incrementally (the WHATWG event-stream format): `data` lines
//! joined by newlines, `id`, `event` and `retry`, comments ignored, any line ending.

/// One dispatched event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Event {
    /// The `event` field (`message` when absent).
    pub(crate) event: String,
    /// The `data` lines, joined.
    pub(crate) data: String,
    /// The `id` field, if this event had one.
    pub(crate) id: Option<String>,
    /// The `retry` field in milliseconds, if this event had one.
    pub(crate) retry: Option<u64>,
}

/// Longest line kept (1 MiB): a server that never ends a line cannot exhaust memory.
const MAX_LINE: usize = 1 << 20;
/// Largest event kept (16 MiB).
const MAX_EVENT: usize = 16 << 20;

/// An incremental parser: feed bytes, take events.
#[derive(Debug, Default)]
pub(crate) struct Parser {
    line: Vec<u8>,
    /// The last byte was `\r`: a following `\n` belongs to the same line ending.
    after_cr: bool,
    current: Event,
    has_data: bool,
}

/// The stream broke the format's limits.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl Parser {
    /// Feeds bytes; returns the events they complete.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Result<Vec<Event>, TooLarge> {
        let mut out = Vec::new();
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(e) = self.line_done(&line)? {
                        out.push(e);
                    }
                }
                _ => {
                    if self.line.len() >= MAX_LINE {
                        return Err(TooLarge);
                    }
                    self.line.push(b);
                }
            }
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &[u8]) -> Result<Option<Event>, TooLarge> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.current);
            let had = std::mem::take(&mut self.has_data);
            // An event without data is not dispatched, but its id and retry still count.
            return Ok(Some(Event {
                event: if event.event.is_empty() {
                    "message".into()
                } else {
                    event.event
                },
                ..event
            })
            .filter(|e| had || e.id.is_some() || e.retry.is_some()));
        }
        if line[0] == b':' {
            return Ok(None);
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.find(':') {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
                if self.current.data.len() > MAX_EVENT {
                    return Err(TooLarge);
                }
            }
            "event" => self.current.event = value.to_owned(),
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            "retry" => {
                if let Ok(ms) = value.parse() {
                    self.current.retry = Some(ms);
                }
            }
            _ => {}
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_across_chunks_and_line_endings() {
        let mut p = Parser::default();
        let mut all = p.feed(b"id: 1\r\ndata: {\"a\"").expect("ok");
        assert!(all.is_empty());
        all.extend(
            p.feed(b":1}\r\n\r\n: comment\nevent: x\ndata: l1\ndata: l2\n\n")
                .expect("ok"),
        );
        all.extend(p.feed(b"retry: 500\rid: 7\r\r").expect("ok"));
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].id.as_deref(), Some("1"));
        assert_eq!(all[0].data, "{\"a\":1}");
        assert_eq!(all[0].event, "message");
        assert_eq!(all[1].event, "x");
        assert_eq!(all[1].data, "l1\nl2");
        assert_eq!(all[2].retry, Some(500));
        assert_eq!(all[2].id.as_deref(), Some("7"));
        assert!(all[2].data.is_empty());
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = Parser::default();
        let big = vec![b'a'; MAX_LINE + 1];
        assert_eq!(p.feed(&big), Err(TooLarge));
    }
}
