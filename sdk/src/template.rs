//! The classic `$title` / `$content` templates of notify.py's custom webhook.

/// How the substituted title and content are escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// As they are.
    None,
    /// Percent-encoded, for a URL.
    Url,
    /// Escaped for the inside of a JSON string (without the quotes).
    Json,
}

/// Replace `$title` and `$content` in `template`.
pub fn fill(template: &str, title: &str, content: &str, escape: Escape) -> String {
    let esc = |s: &str| match escape {
        Escape::None => s.to_string(),
        Escape::Url => crate::encode::url_encode(s),
        Escape::Json => {
            let quoted = serde_json::to_string(s).unwrap_or_default();
            quoted[1..quoted.len() - 1].to_string()
        }
    };
    // One pass, so a title that itself contains "$content" is not expanded again.
    let mut out = String::with_capacity(template.len() + title.len() + content.len());
    let mut rest = template;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$title") {
            out.push_str(&esc(title));
            rest = after;
        } else if let Some(after) = tail.strip_prefix("$content") {
            out.push_str(&esc(content));
            rest = after;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Whether `text` mentions `$title` or `$content`.
pub fn has_placeholders(text: &str) -> bool {
    text.contains("$title") || text.contains("$content")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_each_escape() {
        let t = "a $title b $content";
        assert_eq!(fill(t, "x y", "1\n2", Escape::None), "a x y b 1\n2");
        assert_eq!(fill(t, "x y", "1&2", Escape::Url), "a x%20y b 1%262");
        assert_eq!(
            fill(t, "say \"hi\"", "1\n2", Escape::Json),
            "a say \\\"hi\\\" b 1\\n2"
        );
    }

    #[test]
    fn does_not_expand_twice() {
        assert_eq!(fill("$title", "$content", "C", Escape::None), "$content");
        assert_eq!(fill("$5 $titles", "T", "C", Escape::None), "$5 Ts");
    }
}
