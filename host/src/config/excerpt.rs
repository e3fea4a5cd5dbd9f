//! A config file's syntax error, shown the way toml shows it (the line, a
//! caret under the column) but with the values of secret-looking keys
//! masked: the line that fails to parse is often the one holding a token,
//! and the file is not parsed, so the configured secrets are not known yet.

use regex::Regex;
use std::sync::LazyLock;

/// Besides the names of credentials (`mcp_push_policy::masks::looks_like_credential`:
/// `bot_token`, `secret`, `smtp_password`, ...), a URL setting often holds
/// its key (`webhook`, `url`: DingTalk's `access_token`, a Bark key).
const URL_WORDS: [&str; 2] = ["webhook", "url"];

fn secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    mcp_push_policy::masks::looks_like_credential(&key) || URL_WORDS.iter().any(|w| key.contains(w))
}

/// `key = value` inside a line, bare or in an inline table; the value runs
/// to its closing quote, or to the end of the line when the quote is missing.
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"([A-Za-z0-9_.\-"']+)\s*=\s*("(?:[^"\\]|\\.)*"?|'[^']*'?|[^,}\s]+)"#)
        .expect("a valid pattern")
});

const MASK: &str = "\"***\"";

pub fn parse_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim_end();
    let Some(span) = e.span() else {
        return message.to_string();
    };
    let at = span.start.min(text.len());
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[at..].find('\n').map_or(text.len(), |i| at + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let line = text[line_start..line_end].trim_end_matches('\r');
    let column = text[line_start..at].chars().count();
    let (shown, column) = masked(line, column);
    let gutter = " ".repeat(line_no.to_string().len());
    format!(
        "TOML parse error at line {line_no}, column {}\n{gutter} |\n{line_no} | {shown}\n{gutter} | {}^\n{message}",
        column + 1,
        " ".repeat(column)
    )
}

/// The line with secret values masked, and the caret's column moved to stay
/// on the same token (onto the mask when it pointed inside a masked value).
fn masked(line: &str, column: usize) -> (String, usize) {
    let chars = |byte: usize| line[..byte].chars().count();
    let mut out = String::new();
    let mut last = 0;
    // Output characters minus input characters, so far.
    let mut shift = 0isize;
    let mut caret = None;
    for cap in ASSIGNMENT.captures_iter(line) {
        if !secret_key(&cap[1]) {
            continue;
        }
        let value = cap.get(2).expect("the pattern has a value group");
        out.push_str(&line[last..value.start()]);
        let (from, to) = (chars(value.start()), chars(value.end()));
        if caret.is_none() && column < from {
            caret = Some((column as isize + shift) as usize);
        } else if caret.is_none() && column < to {
            caret = Some(out.chars().count());
        }
        out.push_str(MASK);
        shift += MASK.len() as isize - (to - from) as isize;
        last = value.end();
    }
    out.push_str(&line[last..]);
    let caret = caret.unwrap_or_else(|| (column as isize + shift).max(0) as usize);
    (out, caret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        let e = toml::from_str::<toml::Table>(text).unwrap_err();
        parse_error(text, &e)
    }

    #[test]
    fn a_token_on_the_broken_line_is_masked() {
        let text = "[channels.tg]\nplugin = \"telegram\"\nbot_token = \"123456:AAHsecretsecretsecret\nchat_id = \"42\"\n";
        let shown = error(text);
        assert!(!shown.contains("AAHsecret"), "{shown}");
        assert!(shown.contains("line 3"), "{shown}");
        assert!(shown.contains("3 | bot_token = \"***\""), "{shown}");

        let text = "[channels.tg]\nbot_token = \"123456:AAHsecretsecretsecret\" x\n";
        let shown = error(text);
        assert!(!shown.contains("AAHsecret"), "{shown}");
        // The caret stays under the stray `x`.
        let lines: Vec<&str> = shown.lines().collect();
        let at = lines[3].find('^').unwrap();
        assert_eq!(&lines[2][at..at + 1], "x", "{shown}");

        let text = "[channels]\ndd = { plugin = \"dingtalk\", access_token = \"abcdefabcdef\", secret = \"SECabc\" y }\n";
        let shown = error(text);
        assert!(
            !shown.contains("abcdefabcdef") && !shown.contains("SECabc"),
            "{shown}"
        );
        assert!(
            shown.contains("plugin = \"dingtalk\""),
            "other values stay: {shown}"
        );
    }

    #[test]
    fn other_lines_read_as_written() {
        let text = "[retry]\nbase_delay_secs = = 2\n";
        let shown = error(text);
        assert!(shown.contains("2 | base_delay_secs = = 2"), "{shown}");
    }
}
