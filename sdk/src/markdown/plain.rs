//! Plain text for a field that a service renders as Markdown (ServerChan's
//! `desp`, …): every character that Markdown would take as syntax is
//! backslash-escaped (CommonMark lets any ASCII punctuation be), so the text
//! shows as written. Only what would act is escaped, to keep the source
//! readable where the service shows it raw (WeChat's preview).

/// `text` with its Markdown syntax escaped: `\ ` * _ [ ] < ~ |` anywhere,
/// `&` before what reads as an entity, and at a line's start the block
/// markers `#`, `>`, `-`/`+` lists, `1.` lists and `===`/`---` underlines.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let body = line.trim_start_matches([' ', '\t']);
        out.push_str(&line[..line.len() - body.len()]);
        out.push_str(&escape_line_start(body));
    }
    out
}

/// The line without its indent: its block marker escaped, then its inline
/// syntax. `\\` goes before the marker character itself (`\\#`, `1\\.`).
fn escape_line_start(line: &str) -> String {
    match marker_at(line) {
        // No marker character is one `inline` escapes: one `\\` each.
        Some(i) => format!("{}\\{}", &line[..i], inline(&line[i..])),
        None => inline(line),
    }
}

/// Where the line's block marker is, if the line starts with one: `#`
/// (heading), `>` (quote), `-`/`+` and a space (list), a `-`/`=` run
/// (underline, rule), `1.`/`1)` and a space (ordered list).
fn marker_at(line: &str) -> Option<usize> {
    let first = line.chars().next()?;
    let rest = &line[1..];
    let spaced = |s: &str| s.is_empty() || s.starts_with([' ', '\t']);
    match first {
        '#' | '>' => Some(0),
        '-' | '+' if spaced(rest) => Some(0),
        '-' | '=' if rest.chars().all(|c| c == first || c == ' ') => Some(0),
        '0'..='9' => {
            let digits = line.len() - line.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let after = &line[digits..];
            (digits <= 9 && after.starts_with(['.', ')']) && spaced(&after[1..])).then_some(digits)
        }
        _ => None,
    }
}

fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '~' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '&' if looks_like_entity(&s[i + 1..]) => out.push_str("\\&"),
            c => out.push(c),
        }
    }
    out
}

fn looks_like_entity(after: &str) -> bool {
    let name: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '#')
        .collect();
    !name.is_empty() && after[name.len()..].starts_with(';')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_markdown_would_eat() {
        let cases = [
            ("plain words, 100% fine!", "plain words, 100% fine!"),
            ("snake_case_name", "snake\\_case\\_name"),
            ("file/paths_with*stars", "file/paths\\_with\\*stars"),
            ("**not bold**", "\\*\\*not bold\\*\\*"),
            ("`tick` [x](y)", "\\`tick\\` \\[x\\](y)"),
            ("a <b> c", "a \\<b> c"),
            ("C:\\dir", "C:\\\\dir"),
            ("# not a heading", "\\# not a heading"),
            ("issue #14", "issue #14"),
            ("> not a quote", "\\> not a quote"),
            ("a > b", "a > b"),
            ("- not a list\n+ nor this", "\\- not a list\n\\+ nor this"),
            ("-1 degrees", "-1 degrees"),
            ("1. not a list", "1\\. not a list"),
            ("2024. A year", "2024\\. A year"),
            ("3.14 pi", "3.14 pi"),
            ("title\n===", "title\n\\==="),
            ("---", "\\---"),
            ("~~x~~ a|b", "\\~\\~x\\~\\~ a\\|b"),
            ("&amp; & more", "\\&amp; & more"),
            ("  - indented", "  \\- indented"),
        ];
        for (text, want) in cases {
            assert_eq!(escape_markdown(text), want, "for {text:?}");
        }
    }

    /// What the escaping promises: CommonMark shows the text as written.
    #[test]
    fn commonmark_shows_escaped_text_verbatim() {
        use pulldown_cmark::{Event, Options, Parser};
        for text in [
            "snake_case_name and *stars* and `ticks`",
            "# hash\n> quote\n- dash\n1. one\n[link](x) <tag> &amp; ~~s~~",
            "a_b_c\n---",
        ] {
            let escaped = escape_markdown(text);
            let shown: String = Parser::new_ext(&escaped, Options::ENABLE_STRIKETHROUGH)
                .filter_map(|e| match e {
                    Event::Text(t) => Some(t.to_string()),
                    Event::SoftBreak | Event::HardBreak => Some("\n".into()),
                    Event::Start(_) | Event::End(_) => None,
                    other => Some(format!("{other:?}")),
                })
                .collect();
            assert_eq!(shown, text, "escaped as {escaped:?}");
        }
    }
}
