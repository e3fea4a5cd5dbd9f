//! Slack's mrkdwn (api.slack.com "Formatting text for app surfaces"):
//! `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ```` ``` ```` blocks,
//! `<url|label>` links and `> ` quotes; no headings and no lists, so those
//! become bold lines and `• ` lines. `&`, `<` and `>` are Slack's control
//! characters and are sent as `&amp;`, `&lt;`, `&gt;` everywhere else, code
//! included; nothing else may be entity-encoded. mrkdwn has no escape for
//! `*`, `_` or `~`: Slack only formats them at word boundaries, so
//! `snake_case` and `a*b*c` stay as they are.

use super::Dialect;

/// CommonMark as mrkdwn.
pub fn from_markdown(md: &str) -> String {
    super::render(md, &Mrkdwn)
}

/// `&`, `<` and `>` as the entities Slack decodes.
pub fn escape(s: &str) -> String {
    super::escape_entities(s)
}

/// A URL inside `<…|…>`: `|` and `>` would end it early.
pub fn link_target(url: &str) -> String {
    escape(url.trim()).replace('|', "%7C").replace(' ', "%20")
}

struct Mrkdwn;

impl Dialect for Mrkdwn {
    fn text(&self, s: &str) -> String {
        escape(s)
    }
    fn bold(&self, s: &str) -> String {
        format!("*{s}*")
    }
    fn italic(&self, s: &str) -> String {
        format!("_{s}_")
    }
    fn strike(&self, s: &str) -> String {
        format!("~{s}~")
    }
    fn code(&self, s: &str) -> String {
        format!("`{}`", escape(s))
    }
    /// mrkdwn blocks take no language: a word after the fence would show.
    fn code_block(&self, _lang: Option<&str>, s: &str) -> String {
        format!("```\n{}\n```", escape(s))
    }
    fn link(&self, url: &str, label: &str) -> String {
        if !super::is_openable(url) {
            return match label {
                "" => escape(url),
                l => format!("{l} ({})", escape(url)),
            };
        }
        let target = link_target(url);
        // A label may not hold `|` or `>` (it would end the link).
        let label = label.replace('|', "¦");
        if label.is_empty() || label == escape(url) {
            format!("<{target}>")
        } else {
            format!("<{target}|{label}>")
        }
    }
    fn quote(&self, s: &str) -> String {
        s.split('\n')
            .map(|l| format!("> {l}").trim_end().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_to_mrkdwn() {
        let cases = [
            ("**bold**", "*bold*"),
            ("__bold__", "*bold*"),
            ("*it* and _it_", "_it_ and _it_"),
            ("***both***", "_*both*_"),
            ("**bold _both_ bold**", "*bold _both_ bold*"),
            ("~~old~~", "~old~"),
            ("snake_case_names", "snake_case_names"),
            ("file/paths_with*stars", "file/paths_with*stars"),
            ("`a < b && c > d`", "`a &lt; b &amp;&amp; c &gt; d`"),
            ("x < y & z > w", "x &lt; y &amp; z &gt; w"),
            (
                "```sh\necho <a> && b\n```",
                "```\necho &lt;a&gt; &amp;&amp; b\n```",
            ),
            (
                "[docs](https://x.example/?a=1&b=2)",
                "<https://x.example/?a=1&amp;b=2|docs>",
            ),
            (
                "[a|b](https://x.example/p|q)",
                "<https://x.example/p%7Cq|a¦b>",
            ),
            ("<https://x.example>", "<https://x.example>"),
            ("[rel](docs/x.md)", "rel (docs/x.md)"),
            ("# Title\n\nbody", "*Title*\n\nbody"),
            ("- one\n- two\n  - nested", "• one\n• two\n  • nested"),
            ("1. one\n2. two", "1. one\n2. two"),
            ("> quoted\n>\n> more", "> quoted\n>\n> more"),
            ("a <b>raw</b>", "a &lt;b&gt;raw&lt;/b&gt;"),
        ];
        for (md, want) in cases {
            assert_eq!(from_markdown(md), want, "for {md:?}");
        }
    }
}
