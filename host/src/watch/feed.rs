//! Feeds (RSS, Atom, JSON Feed, parsed by `feed-rs`): the items not seen
//! before, one notification each or kept for a digest sent on a schedule,
//! grouped by feed. Pure: the runner fetches, these functions decide.

use super::model::Plan;
use super::template;
use crate::notification::Notification;
use serde::{Deserialize, Serialize};

/// Item ids remembered per feed. A feed shows its newest items only, so
/// this only needs to cover a few of its pages.
pub const SEEN: usize = 1_000;
/// Items a digest keeps at most: a digest is read, not searched.
pub const DIGEST: usize = 200;

/// One item of a feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The feed's title (its host when it has none).
    pub feed: String,
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// For the keyword filter only; not kept.
    #[serde(skip)]
    pub summary: String,
}

/// The items of a feed document, newest first as the feed lists them.
pub fn items(body: &[u8], url: &url::Url) -> Result<Vec<Item>, String> {
    let feed = feed_rs::parser::parse(body).map_err(|e| {
        format!(
            "{} is not an RSS, Atom or JSON feed: {e}",
            super::model::mask_url(url.as_str())
        )
    })?;
    let name = feed
        .title
        .map(|t| t.content.trim().to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| url.host_str().unwrap_or_default().to_string());
    Ok(feed
        .entries
        .into_iter()
        .map(|e| Item {
            feed: name.clone(),
            title: e
                .title
                .map(|t| t.content.trim().to_string())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "(untitled)".into()),
            link: e.links.first().map(|l| l.href.clone()),
            summary: e.summary.map(|s| s.content).unwrap_or_default(),
            id: e.id,
        })
        .collect())
}

/// What a check keeps of one feed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Seen {
    /// Newest first.
    pub ids: Vec<String>,
}

/// The items not seen before that pass the keyword filter, and the ids to
/// remember. The first check only remembers (a baseline): a new watcher
/// does not send a feed's whole history.
pub fn new_items(prev: Option<&Seen>, items: Vec<Item>, keywords: &[String]) -> (Seen, Vec<Item>) {
    let mut ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
    let Some(prev) = prev else {
        ids.truncate(SEEN);
        return (Seen { ids }, Vec::new());
    };
    let fresh: Vec<Item> = items
        .into_iter()
        .filter(|i| !prev.ids.contains(&i.id))
        .filter(|i| {
            keywords.is_empty() || {
                let text = format!("{} {}", i.title, i.summary).to_lowercase();
                keywords.iter().any(|k| text.contains(k.as_str()))
            }
        })
        .collect();
    for id in &prev.ids {
        if ids.len() >= SEEN {
            break;
        }
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    (Seen { ids }, fresh)
}

fn values<'a>(plan: &'a Plan, item: &'a Item, count: &'a str) -> [(&'static str, &'a str); 5] {
    [
        ("name", plan.spec.name.as_str()),
        ("title", item.title.as_str()),
        ("link", item.link.as_deref().unwrap_or("")),
        ("feed", item.feed.as_str()),
        ("count", count),
    ]
}

/// One item's notification.
pub fn message(plan: &Plan, item: &Item) -> Notification {
    let v = values(plan, item, "1");
    let notify = &plan.spec.notify;
    let title = template::render(notify.title.as_deref().unwrap_or("{name}: {title}"), &v);
    let body = match &notify.body {
        Some(t) => template::render(t, &v),
        None => match &item.link {
            Some(link) => format!("{}\n{link}", item.feed),
            None => item.feed.clone(),
        },
    };
    let mut n = Notification::new(title, body);
    n.format = notify.format;
    n.priority = notify.priority;
    n.tags = notify.tags.clone();
    n.link = item.link.clone();
    n
}

/// The digest of the kept items, grouped by feed in the order the feeds
/// first appear; `None` when there is nothing to send.
pub fn digest(plan: &Plan, kept: &[Item]) -> Option<Notification> {
    let first = kept.first()?;
    let count = kept.len().to_string();
    let v = values(plan, first, &count);
    let notify = &plan.spec.notify;
    let plural = if kept.len() == 1 { "" } else { "s" };
    let default_title = format!("{{name}}: {{count}} new item{plural}");
    let title = template::render(notify.title.as_deref().unwrap_or(&default_title), &v);
    let mut feeds: Vec<&str> = Vec::new();
    for i in kept {
        if !feeds.contains(&i.feed.as_str()) {
            feeds.push(&i.feed);
        }
    }
    let mut body = String::new();
    for feed in feeds {
        body.push_str(feed);
        body.push('\n');
        for i in kept.iter().filter(|i| i.feed == feed) {
            body.push_str("- ");
            body.push_str(&i.title);
            if let Some(link) = &i.link {
                body.push_str("\n  ");
                body.push_str(link);
            }
            body.push('\n');
        }
        body.push('\n');
    }
    let mut n = Notification::new(title, body.trim_end());
    n.format = notify.format;
    n.priority = notify.priority;
    n.tags = notify.tags.clone();
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Tech</title>
        <item><title>New AI chip</title><link>https://t.example/2</link><guid>t2</guid></item>
        <item><title>Old news</title><link>https://t.example/1</link><guid>t1</guid></item>
        </channel></rss>"#;
    const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><id>urn:b</id>
        <updated>2026-11-20T08:00:00Z</updated>
        <entry><title>Hello</title><id>urn:b:1</id><link href="https://b.example/1"/>
        <updated>2026-11-20T08:00:00Z</updated></entry></feed>"#;
    const JSON: &str = r#"{"version": "https://jsonfeed.org/version/1.1", "title": "Notes",
        "items": [{"id": "n1", "title": "A note", "url": "https://n.example/1",
                   "content_text": "about AI"}]}"#;

    fn url() -> url::Url {
        url::Url::parse("https://t.example/feed").unwrap()
    }

    #[test]
    fn rss_atom_and_json_feeds_give_their_items() {
        let rss = items(RSS.as_bytes(), &url()).unwrap();
        assert_eq!(rss.len(), 2);
        assert_eq!(
            (
                rss[0].feed.as_str(),
                rss[0].id.as_str(),
                rss[0].title.as_str()
            ),
            ("Tech", "t2", "New AI chip")
        );
        assert_eq!(rss[0].link.as_deref(), Some("https://t.example/2"));
        let atom = items(ATOM.as_bytes(), &url()).unwrap();
        assert_eq!(
            (atom[0].feed.as_str(), atom[0].id.as_str()),
            ("Blog", "urn:b:1")
        );
        let json = items(JSON.as_bytes(), &url()).unwrap();
        assert_eq!(
            (json[0].feed.as_str(), json[0].title.as_str()),
            ("Notes", "A note")
        );
        assert!(
            items(b"<html>no feed</html>", &url())
                .unwrap_err()
                .contains("not an RSS")
        );
    }

    #[test]
    fn only_items_not_seen_before_and_matching_a_keyword_are_new() {
        let all = items(RSS.as_bytes(), &url()).unwrap();
        let (seen, none) = new_items(None, all[1..].to_vec(), &[]);
        assert!(none.is_empty(), "the first check is a baseline");
        assert_eq!(seen.ids, ["t1"]);
        let (seen2, fresh) = new_items(Some(&seen), all.clone(), &[]);
        assert_eq!(fresh.len(), 1);
        assert_eq!(fresh[0].id, "t2");
        assert_eq!(seen2.ids, ["t2", "t1"]);
        let (_, again) = new_items(Some(&seen2), all.clone(), &[]);
        assert!(again.is_empty());
        let (_, filtered) = new_items(Some(&seen), all, &["sports".into()]);
        assert!(filtered.is_empty());
    }

    #[test]
    fn a_digest_groups_items_by_feed_with_links() {
        let spec = super::super::model::WatcherSpec::from_json(serde_json::json!({
            "name": "morning", "kind": "feed", "urls": ["https://t.example/feed"],
            "every": "15m", "digest": "daily 08:00"
        }))
        .unwrap();
        let plan = spec
            .plan(&Default::default(), crate::store::UnixMillis(0))
            .unwrap();
        let mut kept = items(RSS.as_bytes(), &url()).unwrap();
        kept.extend(items(ATOM.as_bytes(), &url()).unwrap());
        let n = digest(&plan, &kept).unwrap();
        assert_eq!(n.title, "morning: 3 new items");
        assert_eq!(
            n.body,
            "Tech\n- New AI chip\n  https://t.example/2\n- Old news\n  https://t.example/1\n\n\
             Blog\n- Hello\n  https://b.example/1"
        );
        assert_eq!(digest(&plan, &[]), None);
    }
}
