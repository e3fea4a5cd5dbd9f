//! Web pages: a page reduced to lines of text (one part of it with a CSS
//! selector), compared with the lines the last check kept. Pure: the
//! runner fetches, these functions decide.

use super::model::Plan;
use super::template;
use crate::notification::Notification;
use scraper::{Html, Node, Selector};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a check keeps of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// SHA-256 of the lines: an unchanged page is told without a diff.
    pub hash: String,
    pub lines: Vec<String>,
}

impl Page {
    pub fn new(lines: Vec<String>) -> Page {
        let mut h = Sha256::new();
        for l in &lines {
            h.update(l.as_bytes());
            h.update(b"\n");
        }
        Page {
            hash: hex::encode(h.finalize()),
            lines,
        }
    }
}

/// Elements whose text is not what a reader sees.
const UNSEEN: &[&str] = &["script", "style", "noscript", "template", "head"];

/// The page's text, one line per text node, whitespace collapsed. HTML is
/// parsed (by content type, or by its first character when there is none);
/// anything else is taken as lines of text.
pub fn page_lines(
    body: &[u8],
    content_type: Option<&str>,
    selector: Option<&Selector>,
) -> Result<Vec<String>, String> {
    let text = String::from_utf8_lossy(body);
    let html = match content_type {
        Some(ct) => ct.to_ascii_lowercase().contains("html"),
        None => text.trim_start().starts_with('<'),
    };
    if !html {
        if selector.is_some() {
            return Err(format!(
                "the page is {}, not HTML: a selector needs HTML",
                content_type.unwrap_or("not HTML")
            ));
        }
        return Ok(text.lines().filter_map(clean).collect());
    }
    let doc = Html::parse_document(&text);
    let roots: Vec<_> = match selector {
        Some(sel) => doc.select(sel).collect(),
        None => vec![doc.root_element()],
    };
    if roots.is_empty() {
        return Err("the selector matched nothing on the page".into());
    }
    let mut lines = Vec::new();
    for root in roots {
        for node in root.descendants() {
            let Node::Text(t) = node.value() else {
                continue;
            };
            let hidden = node.ancestors().any(|a| {
                a.value()
                    .as_element()
                    .is_some_and(|e| UNSEEN.contains(&e.name()))
            });
            if !hidden && let Some(line) = clean(t) {
                lines.push(line);
            }
        }
    }
    Ok(lines)
}

fn clean(s: &str) -> Option<String> {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then_some(line)
}

/// What changed on a page since the last check.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// With keywords: the added lines that mention one, and which ones.
    pub hits: Vec<String>,
    pub keywords: Vec<String>,
}

/// The page now, and what to say about it: nothing on the first check (a
/// baseline), nothing when unchanged, and with keywords nothing unless an
/// added line mentions one. A line counts as new when it was not on the
/// page before, so a headline that moves does not fire.
pub fn compare(
    prev: Option<&Page>,
    lines: Vec<String>,
    keywords: &[String],
) -> (Page, Option<Change>) {
    let page = Page::new(lines);
    let Some(prev) = prev else {
        return (page, None);
    };
    if prev.hash == page.hash {
        return (page, None);
    }
    let old: Vec<&str> = prev.lines.iter().map(String::as_str).collect();
    let new: Vec<&str> = page.lines.iter().map(String::as_str).collect();
    let diff = similar::TextDiff::configure().diff_slices(&old, &new);
    let (mut added, mut removed) = (Vec::new(), Vec::new());
    for change in diff.iter_all_changes() {
        match change.tag() {
            similar::ChangeTag::Insert => added.push(change.value().to_string()),
            similar::ChangeTag::Delete => removed.push(change.value().to_string()),
            similar::ChangeTag::Equal => {}
        }
    }
    // A moved line is deleted in one place and inserted in another: not news.
    let moved: Vec<String> = added
        .iter()
        .filter(|l| removed.contains(l))
        .cloned()
        .collect();
    added.retain(|l| !moved.contains(l) && !prev.lines.contains(l));
    removed.retain(|l| !moved.contains(l) && !page.lines.contains(l));
    if added.is_empty() && removed.is_empty() {
        return (page, None);
    }
    if keywords.is_empty() {
        let change = Change {
            added,
            removed,
            hits: Vec::new(),
            keywords: Vec::new(),
        };
        return (page, Some(change));
    }
    let mut found = Vec::new();
    let hits: Vec<String> = added
        .iter()
        .filter(|l| {
            let lower = l.to_lowercase();
            let mut any = false;
            for k in keywords {
                if lower.contains(k.as_str()) {
                    any = true;
                    if !found.contains(k) {
                        found.push(k.clone());
                    }
                }
            }
            any
        })
        .cloned()
        .collect();
    if hits.is_empty() {
        return (page, None);
    }
    let change = Change {
        added,
        removed,
        hits,
        keywords: found,
    };
    (page, Some(change))
}

/// Lines quoted in a message at most, and characters per line.
const QUOTED: usize = 20;
const LINE: usize = 300;

/// The notification for a change of the page at `url`.
pub fn message(plan: &Plan, url: &url::Url, change: &Change) -> Notification {
    let spec = &plan.spec;
    let host = url.host_str().unwrap_or_default();
    let shown_url = super::model::mask_url(url.as_str());
    let (added, removed) = (
        change.added.len().to_string(),
        change.removed.len().to_string(),
    );
    let keyword = change.keywords.join(", ");
    let values = [
        ("name", spec.name.as_str()),
        ("url", shown_url.as_str()),
        ("host", host),
        ("added", added.as_str()),
        ("removed", removed.as_str()),
        ("keyword", keyword.as_str()),
    ];
    let default_title = if change.keywords.is_empty() {
        "{name}: {host} changed"
    } else {
        "{name}: {keyword} on {host}"
    };
    let title = template::render(
        spec.notify.title.as_deref().unwrap_or(default_title),
        &values,
    );
    let body = match &spec.notify.body {
        Some(t) => template::render(t, &values),
        None if !change.keywords.is_empty() => {
            let mut b = format!("New on {shown_url} ({keyword}):\n");
            quote(&mut b, "> ", &change.hits);
            b
        }
        None => {
            let mut b = format!("{shown_url} changed:\n");
            quote(&mut b, "+ ", &change.added);
            quote(&mut b, "- ", &change.removed);
            b
        }
    };
    let mut n = Notification::new(title, body.trim_end());
    n.format = spec.notify.format;
    n.priority = spec.notify.priority;
    n.tags = spec.notify.tags.clone();
    n.link = Some(url.to_string());
    n
}

fn quote(out: &mut String, mark: &str, lines: &[String]) {
    for l in lines.iter().take(QUOTED) {
        out.push_str(mark);
        out.push_str(&crate::notification::preview(l, LINE));
        out.push('\n');
    }
    if lines.len() > QUOTED {
        out.push_str(&format!("{mark}… and {} more\n", lines.len() - QUOTED));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_page_is_its_visible_text_or_one_part_of_it() {
        let html = br#"<html><head><title>T</title><style>p{}</style></head>
            <body><nav>Menu</nav><main><h2>First  story</h2><script>var x=1;</script>
            <h2>Second
            story</h2></main></body></html>"#;
        assert_eq!(
            page_lines(html, Some("text/html; charset=utf-8"), None).unwrap(),
            lines(&["Menu", "First story", "Second story"])
        );
        let sel = Selector::parse("main h2").unwrap();
        assert_eq!(
            page_lines(html, None, Some(&sel)).unwrap(),
            lines(&["First story", "Second story"])
        );
        let none = Selector::parse("article").unwrap();
        assert!(
            page_lines(html, None, Some(&none))
                .unwrap_err()
                .contains("matched nothing")
        );
        assert_eq!(
            page_lines(b"a\n\n  b  c \n", Some("text/plain"), None).unwrap(),
            lines(&["a", "b c"])
        );
    }

    #[test]
    fn the_first_check_is_a_baseline_and_then_changes_fire() {
        let (base, first) = compare(None, lines(&["a", "b"]), &[]);
        assert_eq!(first, None);
        let (same, none) = compare(Some(&base), lines(&["a", "b"]), &[]);
        assert_eq!((none, &same.hash), (None, &base.hash));
        let (_, change) = compare(Some(&base), lines(&["a", "c", "b2"]), &[]);
        let change = change.unwrap();
        assert_eq!(change.added, lines(&["c", "b2"]));
        assert_eq!(change.removed, lines(&["b"]));
        // Moved lines are not news.
        let (_, moved) = compare(Some(&base), lines(&["b", "a"]), &[]);
        assert_eq!(moved, None);
    }

    #[test]
    fn with_keywords_only_new_lines_that_mention_one_fire() {
        let kw = vec!["ai".to_string()];
        let (base, _) = compare(None, lines(&["AI is old news", "Weather"]), &kw);
        let (p, quiet) = compare(Some(&base), lines(&["AI is old news", "Sports"]), &kw);
        assert_eq!(quiet, None, "a change without the keyword");
        let (_, hit) = compare(Some(&p), lines(&["New AI model", "Sports"]), &kw);
        let hit = hit.unwrap();
        assert_eq!(hit.hits, lines(&["New AI model"]));
        assert_eq!(hit.keywords, kw);
    }

    #[test]
    fn the_message_says_what_changed_and_links_the_page() {
        let spec = super::super::model::WatcherSpec::from_json(serde_json::json!({
            "name": "news", "kind": "web", "urls": ["https://example.org/"], "every": "5m"
        }))
        .unwrap();
        let plan = spec
            .plan(&Default::default(), crate::store::UnixMillis(0))
            .unwrap();
        let url = url::Url::parse("https://example.org/").unwrap();
        let change = Change {
            added: lines(&["new"]),
            removed: lines(&["old"]),
            hits: vec![],
            keywords: vec![],
        };
        let n = message(&plan, &url, &change);
        assert_eq!(n.title, "news: example.org changed");
        assert_eq!(n.body, "https://example.org/ changed:\n+ new\n- old");
        assert_eq!(n.link.as_deref(), Some("https://example.org/"));
    }
}
