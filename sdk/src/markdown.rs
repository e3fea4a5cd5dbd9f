//! Markdown (CommonMark, as agents write it) turned into a service's own
//! dialect: one parser ([`pulldown_cmark`]) and one walk over its events, with
//! a [`Dialect`] saying how each element looks on the service. Channels
//! that show no markup at all get [`escape_markdown`] for plain text that goes
//! into a Markdown field.
//!
//! Raw HTML inside Markdown is shown as the text it is (escaped): each
//! service accepts a different subset, and a tag the service refuses would
//! lose the whole message. Line breaks inside a paragraph are kept, as chat
//! apps show them, rather than joined as CommonMark's HTML output would.
//!
//! Where this stops: fitting the result into a service's length limit is
//! [`crate::text`]'s job (and [`telegram::split`]'s for markup that a cut
//! could break).

pub mod plain;
pub mod slack;
pub mod telegram;

pub use plain::escape_markdown;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

/// How one service writes each Markdown element. The text handed to the
/// methods that wrap content (`bold`, `link`, …) is already rendered.
pub trait Dialect {
    /// Literal text, escaped for the service.
    fn text(&self, s: &str) -> String;
    fn bold(&self, inner: &str) -> String;
    fn italic(&self, inner: &str) -> String;
    fn strike(&self, inner: &str) -> String;
    /// An inline code span; `code` is the raw code.
    fn code(&self, code: &str) -> String;
    /// A fenced or indented block; `code` is raw, without its last newline.
    fn code_block(&self, lang: Option<&str>, code: &str) -> String;
    /// A link; `label` is rendered (empty for `[](url)`), `url` is raw.
    fn link(&self, url: &str, label: &str) -> String;
    /// A block quote around already rendered blocks.
    fn quote(&self, inner: &str) -> String;

    /// Services without headings show them as a bold line.
    fn heading(&self, inner: &str) -> String {
        self.bold(inner)
    }

    /// An image cannot be shown inline in a message: link to it.
    fn image(&self, url: &str, alt: &str) -> String {
        self.link(url, alt)
    }

    fn rule(&self) -> String {
        self.text("———")
    }
}

/// `md` rendered in `dialect`: blocks separated by a blank line, list items
/// as `• item` (or `1. item`) lines, nested lists indented by two spaces.
pub fn render(md: &str, dialect: &dyn Dialect) -> String {
    let options =
        Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS;
    let mut stack = vec![Frame::new(Kind::Document)];
    for event in Parser::new_ext(md, options) {
        match event {
            Event::Start(tag) => stack.push(Frame::new(Kind::of(tag))),
            Event::End(_) => {
                let frame = stack.pop().expect("the parser balances tags");
                let parent = stack.last_mut().expect("the document is never ended");
                frame.close(parent, dialect);
            }
            Event::Text(t) => top(&mut stack).text(&t, dialect),
            Event::Code(c) => top(&mut stack).buf.push_str(&dialect.code(&c)),
            // Shown as written: see the module comment.
            Event::Html(h) | Event::InlineHtml(h) => top(&mut stack).text(&h, dialect),
            Event::SoftBreak | Event::HardBreak => top(&mut stack).buf.push('\n'),
            Event::Rule => top(&mut stack).block(&dialect.rule()),
            Event::TaskListMarker(done) => {
                top(&mut stack).buf.push_str(if done { "☑ " } else { "☐ " })
            }
            // Math and footnotes are not enabled; keep their text if any.
            Event::InlineMath(t) | Event::DisplayMath(t) | Event::FootnoteReference(t) => {
                top(&mut stack).text(&t, dialect)
            }
        }
    }
    stack.swap_remove(0).buf
}

/// `&`, `<` and `>` as entities: what both Telegram's HTML and Slack's
/// mrkdwn need escaped in text.
fn escape_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn top(stack: &mut [Frame]) -> &mut Frame {
    stack
        .last_mut()
        .expect("the document frame is always there")
}

/// What an open element becomes when it ends.
enum Kind {
    Document,
    Paragraph,
    Heading,
    Quote,
    CodeBlock(Option<String>),
    /// A list and the number of its next item (`None` for bullets).
    List(Option<u64>),
    Item,
    Table,
    TableHead,
    TableRow,
    TableCell,
    Emphasis,
    Strong,
    Strike,
    Link(String),
    Image(String),
    /// HTML blocks and the rare rest: their content as is.
    Other,
}

impl Kind {
    fn of(tag: Tag<'_>) -> Kind {
        match tag {
            Tag::Paragraph => Kind::Paragraph,
            Tag::Heading { .. } => Kind::Heading,
            Tag::BlockQuote(_) => Kind::Quote,
            Tag::CodeBlock(CodeBlockKind::Fenced(info)) => Kind::CodeBlock(
                info.split_whitespace()
                    .next()
                    .filter(|l| !l.is_empty())
                    .map(str::to_string),
            ),
            Tag::CodeBlock(CodeBlockKind::Indented) => Kind::CodeBlock(None),
            Tag::List(start) => Kind::List(start),
            Tag::Item => Kind::Item,
            Tag::Table(_) => Kind::Table,
            Tag::TableHead => Kind::TableHead,
            Tag::TableRow => Kind::TableRow,
            Tag::TableCell => Kind::TableCell,
            Tag::Emphasis => Kind::Emphasis,
            Tag::Strong => Kind::Strong,
            Tag::Strikethrough => Kind::Strike,
            Tag::Link { dest_url, .. } => Kind::Link(dest_url.into_string()),
            Tag::Image { dest_url, .. } => Kind::Image(dest_url.into_string()),
            _ => Kind::Other,
        }
    }
}

/// An open element and what was rendered inside it so far.
struct Frame {
    kind: Kind,
    buf: String,
}

impl Frame {
    fn new(kind: Kind) -> Frame {
        Frame {
            kind,
            buf: String::new(),
        }
    }

    fn text(&mut self, s: &str, dialect: &dyn Dialect) {
        match self.kind {
            // Code is escaped once, by `code_block`, when the block ends.
            Kind::CodeBlock(_) => self.buf.push_str(s),
            _ => self.buf.push_str(&dialect.text(s)),
        }
    }

    /// Add a finished block: a blank line between the blocks of a document
    /// or quote, a line break inside lists, items and tables.
    fn block(&mut self, block: &str) {
        if block.is_empty() {
            return;
        }
        if !self.buf.is_empty() {
            let sep = match self.kind {
                Kind::Document | Kind::Quote => "\n\n",
                _ => "\n",
            };
            while self.buf.ends_with('\n') {
                self.buf.pop();
            }
            self.buf.push_str(sep);
        }
        self.buf.push_str(block);
    }

    /// This element has ended: render it into its parent.
    fn close(self, parent: &mut Frame, d: &dyn Dialect) {
        let inner = self.buf;
        match self.kind {
            Kind::Document => parent.buf.push_str(&inner),
            Kind::Paragraph => parent.block(&inner),
            Kind::Heading => parent.block(&d.heading(&inner)),
            Kind::Quote => parent.block(&d.quote(&inner)),
            Kind::CodeBlock(lang) => {
                let code = inner.strip_suffix('\n').unwrap_or(&inner);
                parent.block(&d.code_block(lang.as_deref(), code))
            }
            Kind::List(_) | Kind::Table => parent.block(&inner),
            Kind::Item => {
                let marker = match &mut parent.kind {
                    Kind::List(Some(n)) => {
                        *n += 1;
                        format!("{}. ", *n - 1)
                    }
                    _ => "• ".to_string(),
                };
                parent.block(&hang(&marker, inner.trim_end()));
            }
            Kind::TableHead => parent.block(&inner),
            Kind::TableRow => parent.block(&inner),
            Kind::TableCell => {
                if !parent.buf.is_empty() {
                    parent.buf.push_str(" | ");
                }
                match parent.kind {
                    Kind::TableHead if !inner.is_empty() => parent.buf.push_str(&d.bold(&inner)),
                    _ => parent.buf.push_str(&inner),
                }
            }
            Kind::Emphasis => parent.buf.push_str(&wrap(&inner, |s| d.italic(s))),
            Kind::Strong => parent.buf.push_str(&wrap(&inner, |s| d.bold(s))),
            Kind::Strike => parent.buf.push_str(&wrap(&inner, |s| d.strike(s))),
            Kind::Link(url) => parent.buf.push_str(&d.link(&url, &inner)),
            Kind::Image(url) => parent.buf.push_str(&d.image(&url, &inner)),
            Kind::Other => parent.block(inner.trim_end_matches('\n')),
        }
    }
}

/// `marker` before the first line, the others indented to line up under it.
fn hang(marker: &str, text: &str) -> String {
    let indent = " ".repeat(marker.chars().count());
    let mut out = String::with_capacity(text.len() + marker.len());
    for (i, line) in text.split('\n').enumerate() {
        if i == 0 {
            out.push_str(marker);
        } else {
            out.push('\n');
            if !line.is_empty() {
                out.push_str(&indent);
            }
        }
        out.push_str(line);
    }
    out
}

/// Emphasis that is empty stays empty (a service may refuse `<b></b>` or
/// show `**`).
fn wrap(inner: &str, f: impl Fn(&str) -> String) -> String {
    if inner.is_empty() {
        String::new()
    } else {
        f(inner)
    }
}

/// Whether a link target is something a service can open: an absolute URL
/// with a scheme that chat clients follow. Relative links (`docs/x.md`) have
/// no base in a notification.
pub fn is_openable(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    ["http://", "https://", "mailto:", "tg://"]
        .iter()
        .any(|s| lower.starts_with(s) && lower.len() > s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dialect that shows structure plainly, to test the walk itself.
    struct Probe;

    impl Dialect for Probe {
        fn text(&self, s: &str) -> String {
            s.to_string()
        }
        fn bold(&self, s: &str) -> String {
            format!("B({s})")
        }
        fn italic(&self, s: &str) -> String {
            format!("I({s})")
        }
        fn strike(&self, s: &str) -> String {
            format!("S({s})")
        }
        fn code(&self, s: &str) -> String {
            format!("C({s})")
        }
        fn code_block(&self, lang: Option<&str>, s: &str) -> String {
            format!("PRE[{}]({s})", lang.unwrap_or(""))
        }
        fn link(&self, url: &str, label: &str) -> String {
            format!("L({label}->{url})")
        }
        fn quote(&self, s: &str) -> String {
            format!("Q({s})")
        }
    }

    #[test]
    fn walks_blocks_and_inlines() {
        let cases = [
            ("plain", "plain"),
            ("a\nb", "a\nb"),
            ("p1\n\np2", "p1\n\np2"),
            ("# Title\ntext", "B(Title)\n\ntext"),
            ("**b** and *i* and _i_", "B(b) and I(i) and I(i)"),
            ("***both***", "I(B(both))"),
            ("~~gone~~", "S(gone)"),
            ("`x`", "C(x)"),
            ("[l](http://u)", "L(l->http://u)"),
            ("![alt](http://img)", "L(alt->http://img)"),
            ("- a\n- b", "• a\n• b"),
            ("1. a\n2. b", "1. a\n2. b"),
            ("3. a\n1. b", "3. a\n4. b"),
            ("- a\n  - b\n- c", "• a\n  • b\n• c"),
            ("- a\n\n- b", "• a\n• b"),
            ("- a\n\n  more", "• a\n  more"),
            ("- [x] done\n- [ ] todo", "• ☑ done\n• ☐ todo"),
            ("> q\n>\n> r", "Q(q\n\nr)"),
            ("```rust\nfn x() {}\n```", "PRE[rust](fn x() {})"),
            ("    indented", "PRE[](indented)"),
            ("a\n\n---\n\nb", "a\n\n———\n\nb"),
            ("| h | k |\n|---|---|\n| 1 | 2 |", "B(h) | B(k)\n1 | 2"),
            ("snake_case_name", "snake_case_name"),
            ("a <b>x</b>", "a <b>x</b>"),
            ("intro\n- a\n- b\n\nafter", "intro\n\n• a\n• b\n\nafter"),
        ];
        for (md, want) in cases {
            assert_eq!(render(md, &Probe), want, "for {md:?}");
        }
    }

    #[test]
    fn openable_links() {
        assert!(is_openable("https://x.example/a"));
        assert!(is_openable("mailto:a@b.c"));
        assert!(!is_openable("docs/readme.md"));
        assert!(!is_openable("https://"));
        assert!(!is_openable("javascript:alert(1)"));
    }
}
