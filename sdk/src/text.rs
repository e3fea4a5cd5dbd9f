//! Fitting a message into a service's length limit: cut with a marker, or split
//! into several messages, never inside a UTF-8 character.

use crate::{Format, Message};

/// How a service counts length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// UTF-8 bytes (WeCom's 2048 bytes).
    Bytes(usize),
    /// Unicode scalar values (Discord's 2000 characters).
    Chars(usize),
    /// UTF-16 code units (Telegram's 4096, which counts like JavaScript).
    Utf16(usize),
}

impl Limit {
    fn max(self) -> usize {
        match self {
            Limit::Bytes(n) | Limit::Chars(n) | Limit::Utf16(n) => n,
        }
    }

    fn cost(self, c: char) -> usize {
        match self {
            Limit::Bytes(_) => c.len_utf8(),
            Limit::Chars(_) => 1,
            Limit::Utf16(_) => c.len_utf16(),
        }
    }

    /// The length of `s` as this service counts it.
    pub fn measure(self, s: &str) -> usize {
        match self {
            Limit::Bytes(_) => s.len(),
            Limit::Chars(_) => s.chars().count(),
            Limit::Utf16(_) => s.encode_utf16().count(),
        }
    }

    pub fn fits(self, s: &str) -> bool {
        self.measure(s) <= self.max()
    }

    /// The byte index where the longest prefix of `s` costing at most
    /// `budget` ends (always a character boundary).
    fn prefix_end(self, s: &str, budget: usize) -> usize {
        let mut used = 0;
        for (i, c) in s.char_indices() {
            used += self.cost(c);
            if used > budget {
                return i;
            }
        }
        s.len()
    }
}

/// The marker put where text was cut.
pub const CUT_MARKER: &str = "…";

/// `text` if it fits; else its longest prefix that fits together with
/// `marker`, followed by the marker.
pub fn truncate(text: &str, limit: Limit, marker: &str) -> String {
    if limit.fits(text) {
        return text.to_string();
    }
    let budget = limit.max().saturating_sub(limit.measure(marker));
    let end = limit.prefix_end(text, budget);
    format!("{}{marker}", &text[..end])
}

/// Split `text` into pieces that each fit, preferring to break after a
/// newline, then after a space, and only then between two characters.
pub fn split(text: &str, limit: Limit) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while !limit.fits(rest) {
        let hard = limit
            .prefix_end(rest, limit.max())
            .max(first_char_len(rest));
        let head = &rest[..hard];
        // Break after the last newline, else the last space, if that keeps
        // at least a quarter of the piece (no slivers).
        let soft = head
            .rfind('\n')
            .or_else(|| head.rfind(' '))
            .map(|i| i + 1)
            .filter(|&i| i >= hard / 4);
        let end = soft.unwrap_or(hard);
        out.push(rest[..end].trim_end_matches('\n').to_string());
        rest = &rest[end..];
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// Like [`split`], but each piece after the first starts with `(2/3) ` and so
/// on, counted within the limit. A single piece has no counter.
pub fn split_numbered(text: &str, limit: Limit) -> Vec<String> {
    let first = split(text, limit);
    if first.len() == 1 {
        return first;
    }
    // Leave room for the widest counter, "(NN/NN) ".
    let width = format!("({n}/{n}) ", n = first.len() + 1).len();
    let room = match limit {
        Limit::Bytes(n) => Limit::Bytes(n.saturating_sub(width).max(8)),
        Limit::Chars(n) => Limit::Chars(n.saturating_sub(width).max(2)),
        Limit::Utf16(n) => Limit::Utf16(n.saturating_sub(width).max(2)),
    };
    let pieces = split(text, room);
    let total = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("({}/{total}) {p}", i + 1))
        .collect()
}

fn first_char_len(s: &str) -> usize {
    s.chars().next().map_or(0, char::len_utf8)
}

impl Message {
    /// Title and body as one plain text: `title\n\nbody`, leaving out an
    /// empty part.
    pub fn text(&self) -> String {
        join_title(&self.title, &self.body, "\n\n")
    }

    /// Title and body as one Markdown text, the title in bold on its own line.
    pub fn markdown(&self) -> String {
        join_title(&Bold::Markdown.title(&self.title), &self.body, "\n\n")
    }

    /// [`Message::text`], then the link (see [`Message::with_link`]).
    pub fn text_with_link(&self) -> String {
        self.with_link(self.text())
    }

    /// The body alone, then the link (see [`Message::with_link`]).
    pub fn body_with_link(&self) -> String {
        self.with_link(self.body.clone())
    }

    /// `text`, then the message's link (if any) on a line of its own.
    pub fn with_link(&self, mut text: String) -> String {
        if let Some(link) = self.link.as_deref().filter(|l| !l.is_empty()) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(link);
        }
        text
    }

    /// A short title for services that need one: the title, else the start of
    /// the body's first line, at most `max_chars` characters.
    pub fn headline(&self, max_chars: usize) -> String {
        let source = if self.title.trim().is_empty() {
            self.body
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
        } else {
            self.title.as_str()
        };
        truncate(source.trim(), Limit::Chars(max_chars), CUT_MARKER)
    }

    pub fn is_markdown(&self) -> bool {
        self.format == Format::Markdown
    }

    pub fn is_html(&self) -> bool {
        self.format == Format::Html
    }

    /// Title and body as HTML: the title as a small heading (`<h4>`), then
    /// [`Message::body_html`].
    pub fn html(&self) -> String {
        let title = escape_html(self.title.trim());
        if title.is_empty() {
            self.body_html()
        } else {
            format!("<h4>{title}</h4>{}", self.body_html())
        }
    }

    /// The body as HTML: itself when it is HTML, else escaped with line breaks.
    pub fn body_html(&self) -> String {
        if self.is_html() {
            self.body.clone()
        } else {
            escape_html(&self.body).replace('\n', "<br>")
        }
    }
}

/// How a format sets a title in bold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bold {
    /// `**title**` (CommonMark, Discord).
    Markdown,
    /// `*title*` (Slack's mrkdwn).
    Mrkdwn,
    /// `<b>title</b>` (HTML, Telegram's and Matrix's HTML).
    Html,
}

impl Bold {
    /// The title trimmed and set in bold; `""` when it is blank (so
    /// [`join_title`] and [`heading`] leave it out).
    pub fn title(self, title: &str) -> String {
        self.title_escaped(title, str::to_string)
    }

    /// Like [`Bold::title`], the trimmed title's text escaped for the format
    /// first (`escape_html`, mrkdwn's escape).
    pub fn title_escaped(self, title: &str, escape: impl Fn(&str) -> String) -> String {
        let title = title.trim();
        if title.is_empty() {
            return String::new();
        }
        let text = escape(title);
        match self {
            Bold::Markdown => format!("**{text}**"),
            Bold::Mrkdwn => format!("*{text}*"),
            Bold::Html => format!("<b>{text}</b>"),
        }
    }
}

/// `title`, `sep`, `body`, leaving out a blank title (with its separator),
/// and a blank body likewise: the rule of [`Message::text`] and
/// [`Message::markdown`].
pub fn join_title(title: &str, body: &str, sep: &str) -> String {
    match (title.trim().is_empty(), body.trim().is_empty()) {
        (true, _) => body.to_string(),
        (false, true) => title.to_string(),
        (false, false) => format!("{title}{sep}{body}"),
    }
}

/// `title`, `sep`, `body`, leaving out a blank title (with its separator);
/// the body is kept even when blank (`**title**\n` on Discord).
pub fn heading(title: &str, body: &str, sep: &str) -> String {
    if title.trim().is_empty() {
        body.to_string()
    } else {
        format!("{title}{sep}{body}")
    }
}

/// `&`, `<`, `>` and `"` escaped for HTML text and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_on_char_boundaries_with_a_marker() {
        assert_eq!(truncate("short", Limit::Bytes(10), "…"), "short");
        // "é" is 2 bytes: 7 bytes hold "aé" + "…" (3 bytes) but not "aéé".
        let t = truncate("aéééé", Limit::Bytes(7), "…");
        assert_eq!(t, "aé…");
        assert!(t.len() <= 7);
        assert_eq!(truncate("abcdef", Limit::Chars(4), "…"), "abc…");
        // An emoji is two UTF-16 units.
        assert_eq!(truncate("😀😀😀", Limit::Utf16(5), "…"), "😀😀…");
        assert_eq!(truncate("abc", Limit::Chars(1), "[cut]"), "[cut]");
    }

    #[test]
    fn splits_at_lines_then_spaces_then_chars() {
        let text = "line one\nline two\nline three";
        assert_eq!(
            split(text, Limit::Bytes(18)),
            vec!["line one\nline two", "line three"]
        );
        assert_eq!(split("aaaa bbbb", Limit::Chars(6)), vec!["aaaa ", "bbbb"]);
        let cjk = "中文字符很多很多";
        let parts = split(cjk, Limit::Bytes(7));
        assert!(parts.iter().all(|p| p.len() <= 7), "{parts:?}");
        assert_eq!(parts.concat(), cjk);
        assert_eq!(split("", Limit::Bytes(5)), vec![""]);
        // A limit smaller than one character still makes progress.
        assert_eq!(split("é", Limit::Bytes(1)), vec!["é"]);
    }

    #[test]
    fn numbered_pieces_fit_too() {
        let text = "word ".repeat(100);
        let parts = split_numbered(&text, Limit::Bytes(100));
        assert!(parts.len() > 1);
        assert!(parts.iter().all(|p| p.len() <= 100), "{parts:?}");
        assert!(parts[0].starts_with("(1/"));
        assert_eq!(split_numbered("one", Limit::Bytes(100)), vec!["one"]);
    }

    #[test]
    fn titles_in_bold_per_format() {
        assert_eq!(Bold::Markdown.title("  Deploy "), "**Deploy**");
        assert_eq!(Bold::Mrkdwn.title("Deploy"), "*Deploy*");
        assert_eq!(
            Bold::Html.title_escaped("a<b", escape_html),
            "<b>a&lt;b</b>"
        );
        assert_eq!(Bold::Html.title("   "), "");
        assert_eq!(join_title("**T**", "body", "\n\n"), "**T**\n\nbody");
        assert_eq!(join_title("", "body", "\n\n"), "body");
        assert_eq!(join_title("**T**", " \n", "\n\n"), "**T**");
        assert_eq!(heading("**T**", "", "\n"), "**T**\n");
        assert_eq!(heading(" ", "body", "\n"), "body");
        let mut m = crate::testing::message("T", "b");
        m.link = Some("https://x.example".into());
        assert_eq!(m.text_with_link(), "T\n\nb\n\nhttps://x.example");
        assert_eq!(m.body_with_link(), "b\n\nhttps://x.example");
    }

    #[test]
    fn html_escape() {
        assert_eq!(
            escape_html("<a href=\"x\">&</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
