//! Telegram's HTML subset (Bot API, "Formatting options", HTML style): only
//! `b strong i em u ins s strike del span.tg-spoiler tg-spoiler a code pre
//! blockquote`, the named entities `&lt; &gt; &amp; &quot;` and numeric ones;
//! everything else, and tags nested against its rules, is refused with
//! "Bad Request: can't parse entities". Nesting rules: bold, italic,
//! underline, strike and spoiler may hold and sit in anything but `pre` and
//! `code`; blockquotes do not nest; the other entities hold none of each
//! other. A message is at most 4096 characters *after* entity parsing, so
//! tags do not count and an entity counts as the character it stands for.
//!
//! [`from_markdown`] renders CommonMark into it, [`sanitize`] rewrites any
//! HTML into it, [`to_text`] reads it back as plain text (for the fallback
//! when Telegram still refuses), [`split`] cuts it into messages that each
//! fit and each parse.

use super::Dialect;
use crate::text::Limit;

/// CommonMark as Telegram HTML: headings and `**bold**` as `<b>`, lists as
/// `• item` lines, links as `<a href>`, code as `<code>`/`<pre>`.
pub fn from_markdown(md: &str) -> String {
    // The walk knows nothing of Telegram's nesting rules (a code span inside
    // a link, a quote inside a quote): the sanitizer enforces them.
    sanitize(&super::render(md, &Html))
}

struct Html;

impl Dialect for Html {
    fn text(&self, s: &str) -> String {
        escape(s)
    }
    fn bold(&self, s: &str) -> String {
        format!("<b>{s}</b>")
    }
    fn italic(&self, s: &str) -> String {
        format!("<i>{s}</i>")
    }
    fn strike(&self, s: &str) -> String {
        format!("<s>{s}</s>")
    }
    fn code(&self, s: &str) -> String {
        format!("<code>{}</code>", escape(s))
    }
    fn code_block(&self, lang: Option<&str>, s: &str) -> String {
        match lang.filter(|l| is_language(l)) {
            Some(l) => format!(
                "<pre><code class=\"language-{l}\">{}</code></pre>",
                escape(s)
            ),
            None => format!("<pre>{}</pre>", escape(s)),
        }
    }
    fn link(&self, url: &str, label: &str) -> String {
        let label = if label.is_empty() {
            escape(url)
        } else {
            label.to_string()
        };
        if super::is_openable(url) {
            format!("<a href=\"{}\">{label}</a>", escape_attr(url))
        } else if label == escape(url) {
            label
        } else {
            format!("{label} ({})", escape(url))
        }
    }
    fn quote(&self, s: &str) -> String {
        format!("<blockquote>{s}</blockquote>")
    }
}

fn is_language(l: &str) -> bool {
    l.len() <= 32
        && l.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-#._".contains(c))
}

/// `&`, `<` and `>` as entities: all Telegram needs in text.
pub fn escape(s: &str) -> String {
    super::escape_entities(s)
}

fn escape_attr(s: &str) -> String {
    escape(s).replace('"', "&quot;")
}

// --- tokens ------------------------------------------------------------------

/// One piece of HTML source.
#[derive(Debug, PartialEq)]
enum Token<'a> {
    /// Text without `<` or `&` (a `>` may be in it).
    Text(&'a str),
    /// `&…;`, decoded: `None` when Telegram would not know it.
    Entity(&'a str, Option<char>),
    /// A `&` or `<` that starts nothing: literal.
    Literal(char),
    Open {
        name: String,
        attrs: Vec<(String, String)>,
        closed: bool,
    },
    Close(String),
    /// Comments, doctypes, processing instructions.
    Ignored,
}

fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut rest = html;
    while !rest.is_empty() {
        let stop = rest.find(['<', '&']).unwrap_or(rest.len());
        if stop > 0 {
            out.push(Token::Text(&rest[..stop]));
            rest = &rest[stop..];
            continue;
        }
        let (token, len) = if rest.starts_with('&') {
            entity(rest)
        } else {
            tag(rest)
        };
        out.push(token);
        rest = &rest[len..];
    }
    out
}

/// The entity at the start of `s` (which starts with `&`), and its length.
fn entity(s: &str) -> (Token<'_>, usize) {
    let body: String = s[1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
        .take(33)
        .collect();
    if body.is_empty() || !s[1 + body.len()..].starts_with(';') {
        return (Token::Literal('&'), 1);
    }
    let len = body.len() + 2;
    (Token::Entity(&s[..len], decode_entity(&body)), len)
}

fn decode_entity(body: &str) -> Option<char> {
    if let Some(num) = body.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(n).filter(|c| *c != '\0');
    }
    Some(match body {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "deg" => '°',
        "euro" => '€',
        _ => return None,
    })
}

/// The tag at the start of `s` (which starts with `<`), and its length.
fn tag(s: &str) -> (Token<'_>, usize) {
    let literal = (Token::Literal('<'), 1);
    if let Some(rest) = s.strip_prefix("<!--") {
        let end = rest.find("-->").map_or(s.len(), |i| i + 7);
        return (Token::Ignored, end);
    }
    if s.starts_with("<!") || s.starts_with("<?") {
        return match s.find('>') {
            Some(i) => (Token::Ignored, i + 1),
            None => literal,
        };
    }
    let (closing, name_at) = match s.strip_prefix("</") {
        Some(_) => (true, 2),
        None => (false, 1),
    };
    let name: String = s[name_at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return literal;
    }
    let mut i = name_at + name.len();
    let bytes = s.as_bytes();
    let mut attrs = Vec::new();
    // Attributes up to `>`, quotes honoured: `<a href="x>y">` is one tag.
    loop {
        while i < s.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= s.len() {
            return literal;
        }
        if bytes[i] == b'>' {
            let closed = s[..i].ends_with('/');
            let name = name.to_ascii_lowercase();
            let token = if closing {
                Token::Close(name)
            } else {
                Token::Open {
                    name,
                    attrs,
                    closed,
                }
            };
            return (token, i + 1);
        }
        let start = i;
        while i < s.len()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
            && !bytes[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let key = s[start..i].to_ascii_lowercase();
        let mut value = String::new();
        if i < s.len() && bytes[i] == b'=' {
            i += 1;
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let Some(len) = s[i + 1..].find(q as char) else {
                        return literal;
                    };
                    value = s[i + 1..i + 1 + len].to_string();
                    i += len + 2;
                }
                _ => {
                    let start = i;
                    while i < s.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = s[start..i].to_string();
                }
            }
        }
        attrs.push((key, decode_text(&value)));
    }
}

/// Entities in an attribute value, decoded.
fn decode_text(s: &str) -> String {
    tokens(s)
        .into_iter()
        .map(|t| match t {
            Token::Text(t) => t.to_string(),
            Token::Entity(raw, c) => c.map_or(raw.to_string(), String::from),
            Token::Literal(c) => c.to_string(),
            _ => String::new(),
        })
        .collect()
}

// --- sanitizing --------------------------------------------------------------

/// Any HTML rewritten into Telegram's subset, so that Telegram parses it:
/// `<br>` becomes a line break, `<p>` a paragraph break, `<li>` a `• ` line
/// (`1. ` in `<ol>`), headings `<b>` lines, `<hr>` a rule, `<img>` its alt
/// text; other tags are dropped with their content kept (`<script>` and
/// `<style>` with it); tags nested against Telegram's rules are dropped;
/// unclosed tags are closed; stray `<`, `>`, `&` and unknown entities are
/// escaped. Text keeps its own line breaks, as Telegram shows them.
pub fn sanitize(html: &str) -> String {
    let mut w = Writer::default();
    let mut skip_until: Option<String> = None;
    for token in tokens(html) {
        if let Some(name) = &skip_until {
            if matches!(&token, Token::Close(n) if n == name) {
                skip_until = None;
            }
            continue;
        }
        match token {
            Token::Text(t) => w.text(t),
            Token::Entity(raw, c) => match c {
                // Telegram's own four and numeric ones pass as written.
                Some(_) if raw.starts_with("&#") || KEPT.contains(&raw) => w.visible(raw),
                Some(c) => w.visible(&escape(&c.to_string())),
                None => w.visible(&format!("&amp;{}", &raw[1..])),
            },
            Token::Literal(c) => w.visible(&escape(&c.to_string())),
            Token::Open {
                name,
                attrs,
                closed,
            } => {
                if ["script", "style", "head", "title", "template"].contains(&name.as_str()) {
                    if !closed {
                        skip_until = Some(name);
                    }
                    continue;
                }
                w.open(&name, &attrs, closed)
            }
            Token::Close(name) => w.close(&name),
            Token::Ignored => {}
        }
    }
    w.finish()
}

const KEPT: [&str; 4] = ["&lt;", "&gt;", "&amp;", "&quot;"];

/// An element still open in the source, and the Telegram tag it became.
struct Open {
    name: String,
    /// The closing tag's name, when the element was kept as a tag.
    emitted: Option<&'static str>,
}

#[derive(Default)]
struct Writer {
    out: String,
    stack: Vec<Open>,
    /// Open lists: the next number of each (`None` for bullets).
    lists: Vec<Option<u64>>,
    /// Line breaks owed before the next visible content (1, or 2 for a
    /// paragraph break).
    owed: usize,
    /// Just after a block boundary: whitespace here is the source's layout.
    after_block: bool,
    cells: usize,
}

impl Writer {
    fn inside(&self, tag: &str) -> bool {
        self.stack.iter().any(|o| o.emitted == Some(tag))
    }

    fn in_code(&self) -> bool {
        self.inside("pre") || self.inside("code")
    }

    fn block(&mut self, breaks: usize) {
        if !self.in_code() {
            self.owed = self.owed.max(breaks);
            self.after_block = true;
        }
    }

    /// Pay the line breaks owed (none at the very start).
    fn flush(&mut self) {
        if self.owed > 0 && !self.out.is_empty() {
            // The source's own layout before a block (`b\n    <ul>`) gives
            // way to the break, but a blank line the author typed stays.
            let kept = self.out.trim_end_matches([' ', '\t', '\r', '\n']).len();
            let typed = self.out[kept..].matches('\n').count().min(2);
            self.out.truncate(kept);
            for _ in 0..self.owed.max(typed) {
                self.out.push('\n');
            }
        }
        self.owed = 0;
    }

    fn text(&mut self, t: &str) {
        let mut t = t;
        if self.after_block && !self.in_code() {
            let trimmed = t.trim_start_matches([' ', '\t', '\r', '\n']);
            let newlines = t[..t.len() - trimmed.len()].matches('\n').count();
            if newlines > 0 {
                self.owed = self.owed.max(newlines.min(2));
            }
            t = trimmed;
        }
        if !t.is_empty() {
            self.visible(&escape_gt(t));
        }
    }

    fn visible(&mut self, s: &str) {
        self.flush();
        self.out.push_str(s);
        self.after_block = false;
    }

    fn open(&mut self, name: &str, attrs: &[(String, String)], closed: bool) {
        let attr = |k: &str| attr(attrs, k);
        match name {
            "br" => {
                self.flush();
                self.out.push('\n');
                self.after_block = true;
                return;
            }
            "hr" => {
                self.block(1);
                self.visible("———");
                self.block(1);
                return;
            }
            "img" => {
                if let Some(alt) = attr("alt").filter(|a| !a.trim().is_empty()) {
                    self.visible(&escape(alt));
                }
                return;
            }
            "wbr" | "input" | "meta" | "link" | "source" | "col" | "area" | "base" | "embed"
            | "param" | "track" => return,
            _ => {}
        }
        let emitted = self.open_tag(name, attrs);
        if !closed {
            self.stack.push(Open {
                name: name.to_string(),
                emitted,
            });
        } else if let Some(close) = emitted {
            self.out.push_str(&format!("</{close}>"));
        }
    }

    /// Write what opening `name` means; the Telegram tag it opened, if any.
    fn open_tag(&mut self, name: &str, attrs: &[(String, String)]) -> Option<&'static str> {
        let attr = |k: &str| attr(attrs, k);
        let in_code = self.in_code();
        let simple = match name {
            "b" | "strong" => Some("b"),
            "i" | "em" => Some("i"),
            "u" | "ins" => Some("u"),
            "s" | "strike" | "del" => Some("s"),
            "tg-spoiler" => Some("tg-spoiler"),
            _ => None,
        };
        if let Some(tag) = simple {
            if in_code {
                return None;
            }
            self.flush();
            self.out.push_str(&format!("<{tag}>"));
            return Some(tag);
        }
        match name {
            "span"
                if attr("class")
                    .is_some_and(|c| c.split_whitespace().any(|c| c == "tg-spoiler")) =>
            {
                if in_code {
                    return None;
                }
                self.flush();
                self.out.push_str("<span class=\"tg-spoiler\">");
                Some("span")
            }
            "a" => {
                let href = attr("href")
                    .map(str::trim)
                    .filter(|h| super::is_openable(h))?;
                if in_code || self.inside("a") {
                    return None;
                }
                self.flush();
                self.out
                    .push_str(&format!("<a href=\"{}\">", escape_attr(href)));
                Some("a")
            }
            "code" => {
                let in_pre = self.inside("pre");
                if self.inside("code")
                    || self.inside("a")
                    || (in_pre && self.stack.last().is_none_or(|o| o.emitted != Some("pre")))
                {
                    return None;
                }
                self.flush();
                let lang = attr("class")
                    .and_then(|c| {
                        c.split_whitespace()
                            .find_map(|c| c.strip_prefix("language-"))
                    })
                    .filter(|l| in_pre && is_language(l));
                match lang {
                    Some(l) => self.out.push_str(&format!("<code class=\"language-{l}\">")),
                    None => self.out.push_str("<code>"),
                }
                Some("code")
            }
            "pre" => {
                if in_code || self.inside("a") {
                    return None;
                }
                self.block(1);
                self.flush();
                self.out.push_str("<pre>");
                Some("pre")
            }
            "blockquote" => {
                if in_code || self.inside("a") || self.inside("blockquote") {
                    self.block(1);
                    return None;
                }
                self.block(1);
                self.flush();
                if attr("expandable").is_some() {
                    self.out.push_str("<blockquote expandable>");
                } else {
                    self.out.push_str("<blockquote>");
                }
                self.after_block = true;
                Some("blockquote")
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.block(2);
                if in_code {
                    return None;
                }
                self.flush();
                self.out.push_str("<b>");
                self.after_block = true;
                Some("b")
            }
            "p" => {
                self.block(2);
                None
            }
            "ul" | "ol" => {
                self.block(1);
                let start = attr("start")
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(1);
                self.lists.push((name == "ol").then_some(start));
                None
            }
            "li" => {
                self.block(1);
                if !in_code {
                    let depth = self.lists.len().max(1) - 1;
                    let marker = match self.lists.last_mut() {
                        Some(Some(n)) => {
                            *n += 1;
                            format!("{}. ", *n - 1)
                        }
                        _ => "• ".to_string(),
                    };
                    self.visible(&format!("{}{marker}", "  ".repeat(depth)));
                    self.after_block = true;
                }
                None
            }
            "tr" => {
                self.block(1);
                self.cells = 0;
                None
            }
            "td" | "th" => {
                if self.cells > 0 && !in_code {
                    self.visible(" | ");
                    self.after_block = true;
                }
                self.cells += 1;
                None
            }
            "div" | "section" | "article" | "header" | "footer" | "main" | "nav" | "aside"
            | "table" | "thead" | "tbody" | "tfoot" | "dl" | "dt" | "dd" | "figure"
            | "figcaption" | "address" | "details" | "summary" | "body" | "html" => {
                self.block(1);
                None
            }
            _ => None,
        }
    }

    fn close(&mut self, name: &str) {
        let Some(at) = self.stack.iter().rposition(|o| o.name == name) else {
            return;
        };
        // Elements left open inside it end with it (`<b><i>x</b>`).
        while self.stack.len() > at {
            let open = self.stack.pop().expect("at is within the stack");
            self.end(&open);
        }
    }

    fn end(&mut self, open: &Open) {
        if let Some(tag) = open.emitted {
            self.out.push_str(&format!("</{tag}>"));
        }
        match open.name.as_str() {
            "p" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => self.block(2),
            "ul" | "ol" => {
                self.lists.pop();
                self.block(1);
            }
            "li" | "tr" | "pre" | "blockquote" | "div" | "section" | "article" | "header"
            | "footer" | "main" | "nav" | "aside" | "table" | "thead" | "tbody" | "tfoot"
            | "dl" | "dt" | "dd" | "figure" | "figcaption" | "address" | "details" | "summary" => {
                self.block(1)
            }
            _ => {}
        }
    }

    fn finish(mut self) -> String {
        while let Some(open) = self.stack.pop() {
            if let Some(tag) = open.emitted {
                self.out.push_str(&format!("</{tag}>"));
            }
        }
        self.out
    }
}

fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn escape_gt(s: &str) -> String {
    s.replace('>', "&gt;")
}

// --- reading back, splitting ----------------------------------------------------

/// Telegram HTML as the plain text it shows: tags dropped, entities decoded.
pub fn to_text(html: &str) -> String {
    tokens(html)
        .into_iter()
        .map(|t| match t {
            Token::Text(t) => t.to_string(),
            Token::Entity(raw, c) => c.map_or(raw.to_string(), String::from),
            Token::Literal(c) => c.to_string(),
            _ => String::new(),
        })
        .collect()
}

/// One indivisible unit of Telegram HTML: a tag, or one visible character
/// (an entity counts as the character it stands for).
enum Unit<'a> {
    Open(&'a str, String),
    Close(&'a str, String),
    Char(&'a str, char),
}

fn units(html: &str) -> Vec<Unit<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let len = if rest.starts_with('<') {
            let len = rest.find('>').map_or(rest.len(), |e| e + 1);
            let raw = &rest[..len];
            let name: String = raw
                .trim_start_matches(['<', '/'])
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if raw.starts_with("</") {
                out.push(Unit::Close(raw, name));
            } else {
                out.push(Unit::Open(raw, name));
            }
            len
        } else if rest.starts_with('&') {
            let len = rest.find(';').map_or(1, |e| e + 1);
            let raw = &rest[..len];
            let c = to_text(raw).chars().next().unwrap_or('&');
            out.push(Unit::Char(raw, c));
            len
        } else {
            let c = rest.chars().next().expect("rest is not empty");
            out.push(Unit::Char(&rest[..c.len_utf8()], c));
            c.len_utf8()
        };
        i += len;
    }
    out
}

/// Telegram HTML (as [`sanitize`] writes it) in messages that each fit
/// `limit` counted after entity parsing, as Telegram counts, and each parse:
/// tags open at a cut are closed and opened again in the next message.
/// Breaks after a line where it can (not before a quarter of the message);
/// pieces after the first are numbered `(2/3) `, as plain text splits are.
pub fn split(html: &str, limit: Limit) -> Vec<String> {
    let max = match limit {
        Limit::Bytes(n) | Limit::Chars(n) | Limit::Utf16(n) => n,
    };
    let cost = |c: char| limit.measure(c.encode_utf8(&mut [0; 4]));
    let units = units(html);
    let total: usize = units
        .iter()
        .map(|u| match u {
            Unit::Char(_, c) => cost(*c),
            _ => 0,
        })
        .sum();
    if total <= max {
        return vec![html.to_string()];
    }
    // Room for the widest counter, "(NN/NN) ".
    let budget = max.saturating_sub(10).max(1);
    let mut pieces = Vec::new();
    let mut open: Vec<(&str, String)> = Vec::new();
    let mut start = 0;
    while start < units.len() {
        let (mut used, mut end, mut newline) = (0, start, None);
        while end < units.len() {
            if let Unit::Char(_, c) = units[end] {
                if used + cost(c) > budget && end > start {
                    break;
                }
                used += cost(c);
                if c == '\n' && used >= budget / 4 {
                    newline = Some(end);
                }
            }
            end += 1;
        }
        let (stop, next) = match newline {
            Some(nl) if end < units.len() => (nl, nl + 1),
            _ => (end, end),
        };
        let mut piece: String = open.iter().map(|(raw, _)| *raw).collect();
        for unit in &units[start..stop] {
            match unit {
                Unit::Open(raw, name) => {
                    open.push((raw, name.clone()));
                    piece.push_str(raw);
                }
                Unit::Close(raw, name) => {
                    if let Some(at) = open.iter().rposition(|(_, n)| n == name) {
                        open.remove(at);
                    }
                    piece.push_str(raw);
                }
                Unit::Char(raw, _) => piece.push_str(raw),
            }
        }
        for (_, name) in open.iter().rev() {
            piece.push_str(&format!("</{name}>"));
        }
        pieces.push(piece);
        start = next;
    }
    let n = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| format!("({}/{n}) {p}", i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_to_telegram_html() {
        let cases = [
            ("**bold**", "<b>bold</b>"),
            ("*it* and _it_", "<i>it</i> and <i>it</i>"),
            ("snake_case_names", "snake_case_names"),
            ("file/paths_with*stars", "file/paths_with*stars"),
            ("a_b and c*d*e", "a_b and c<i>d</i>e"),
            ("**bold _both_ bold**", "<b>bold <i>both</i> bold</b>"),
            ("~~old~~", "<s>old</s>"),
            (
                "`a < b && c > d`",
                "<code>a &lt; b &amp;&amp; c &gt; d</code>",
            ),
            ("x < y & z > w", "x &lt; y &amp; z &gt; w"),
            (
                "```rust\nlet a = b < c;\n```",
                "<pre><code class=\"language-rust\">let a = b &lt; c;</code></pre>",
            ),
            ("```\nplain\n```", "<pre>plain</pre>"),
            (
                "[docs](https://x.example/?a=1&b=\"2\")",
                "<a href=\"https://x.example/?a=1&amp;b=&quot;2&quot;\">docs</a>",
            ),
            ("[rel](docs/x.md)", "rel (docs/x.md)"),
            (
                "<https://x.example>",
                "<a href=\"https://x.example\">https://x.example</a>",
            ),
            (
                "[`code` link](https://x.example)",
                "<a href=\"https://x.example\">code link</a>",
            ),
            ("# Title\n\nbody", "<b>Title</b>\n\nbody"),
            ("## Sub\ntext", "<b>Sub</b>\n\ntext"),
            ("- one\n- two\n  - nested", "• one\n• two\n  • nested"),
            ("1. one\n1. two", "1. one\n2. two"),
            (
                "> quoted\n> > deeper",
                "<blockquote>quoted\n\ndeeper</blockquote>",
            ),
            ("a <span>raw</span>", "a &lt;span&gt;raw&lt;/span&gt;"),
            ("line one\nline two", "line one\nline two"),
            ("p1\n\n\n\np2", "p1\n\np2"),
        ];
        for (md, want) in cases {
            assert_eq!(from_markdown(md), want, "for {md:?}");
        }
    }

    #[test]
    fn sanitizes_html_into_the_subset() {
        let cases = [
            ("<b>ok</b> <strong>ok</strong>", "<b>ok</b> <b>ok</b>"),
            ("<p>one</p><p>two</p>", "one\n\ntwo"),
            ("a<br>b<br/>c", "a\nb\nc"),
            ("<h1>Title</h1><p>text</p>", "<b>Title</b>\n\ntext"),
            ("<ul><li>a</li><li>b</li></ul>", "• a\n• b"),
            (
                "<ul>\n  <li>a</li>\n  <li>b\n    <ul><li>c</li></ul></li>\n</ul>",
                "• a\n• b\n  • c",
            ),
            ("<ol start=\"3\"><li>x</li><li>y</li></ol>", "3. x\n4. y"),
            ("<div>a</div><div>b</div>", "a\nb"),
            ("<font color=red>red</font>", "red"),
            (
                "<span class=\"tg-spoiler\">s</span><span>t</span>",
                "<span class=\"tg-spoiler\">s</span>t",
            ),
            (
                "<a href=\"https://x.example/?a=1&amp;b=2\" target=_blank>x</a>",
                "<a href=\"https://x.example/?a=1&amp;b=2\">x</a>",
            ),
            ("<a href=\"javascript:alert(1)\">x</a>", "x"),
            ("<a>no href</a>", "no href"),
            ("<code><b>x</b></code>", "<code>x</code>"),
            (
                "<pre><code class=\"language-py\">a < b</code></pre>",
                "<pre><code class=\"language-py\">a &lt; b</code></pre>",
            ),
            (
                "<a href=\"https://a.example\"><code>c</code></a>",
                "<a href=\"https://a.example\">c</a>",
            ),
            (
                "<blockquote>a<blockquote>b</blockquote></blockquote>",
                "<blockquote>a\nb</blockquote>",
            ),
            ("<b>open <i>both", "<b>open <i>both</i></b>"),
            ("<b>x <i>y</b> z</i>", "<b>x <i>y</i></b> z"),
            ("stray </b> end", "stray  end"),
            ("1 < 2 & 3 > 2", "1 &lt; 2 &amp; 3 &gt; 2"),
            (
                "&nbsp;&copy;&bogus;&#169;&lt;",
                "\u{a0}©&amp;bogus;&#169;&lt;",
            ),
            ("<script>alert(1)</script>after", "after"),
            ("<!-- note -->shown", "shown"),
            ("<img src=x alt=\"a picture\">", "a picture"),
            ("a<hr>b", "a\n———\nb"),
            (
                "<table><tr><th>h</th><th>k</th></tr><tr><td>1</td><td>2</td></tr></table>",
                "h | k\n1 | 2",
            ),
            ("keep\nnewlines", "keep\nnewlines"),
        ];
        for (html, want) in cases {
            assert_eq!(sanitize(html), want, "for {html:?}");
        }
    }

    #[test]
    fn sanitizing_is_stable() {
        for html in [
            "<p>a <b>b</b></p><ul><li>c</li></ul>",
            "<pre>x\n\ny</pre>\n\nafter",
            "<blockquote>q</blockquote>\n\nafter",
        ] {
            let once = sanitize(html);
            assert_eq!(sanitize(&once), once, "for {html:?}");
        }
    }

    #[test]
    fn reads_back_as_text() {
        assert_eq!(
            to_text("<b>a &amp; b</b> &lt;c&gt; &#128512;"),
            "a & b <c> 😀"
        );
    }

    #[test]
    fn splits_by_visible_length_and_keeps_tags_balanced() {
        // Short: untouched, however many tags and entities.
        let short = format!("<b>{}</b>", "&amp;".repeat(4000));
        assert_eq!(split(&short, Limit::Utf16(4096)), vec![short.clone()]);

        let line = "<b>bold</b> &amp; <i>it</i>\n"; // 13 visible
        let html = line.repeat(100);
        let parts = split(&html, Limit::Utf16(200));
        assert!(parts.len() > 1);
        for p in &parts {
            let visible = to_text(p).encode_utf16().count();
            assert!(visible <= 200, "{visible}: {p}");
            assert_eq!(sanitize(p), *p, "balanced and in the subset: {p}");
        }
        assert!(parts[1].starts_with("(2/"));
        // Nothing lost but the line breaks at the cuts and the counters.
        let joined: String = parts
            .iter()
            .map(|p| to_text(p.split_once(") ").unwrap().1))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(joined.trim_end(), to_text(&html).trim_end());

        // One long bold run is cut inside and the tag reopened.
        let html = format!("<b>{}</b>", "x".repeat(500));
        let parts = split(&html, Limit::Utf16(100));
        assert!(
            parts
                .iter()
                .all(|p| p.contains("<b>") && p.ends_with("</b>")),
            "{parts:?}"
        );
    }
}
