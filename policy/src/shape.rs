//! Shapes: what a plugin declares, once and statically, about the values of
//! its secret settings, so that the host (never the component) looks at a
//! value and hands the component only what was declared.
//!
//! A shape can say that a value is a list (`separator`: each item gets a
//! placeholder of its own) and which forms it may take (`forms`: regular
//! expressions tried in order; the first that matches the whole value names
//! its form, and its named groups become settings `KEY.GROUP`, in clear when
//! declared public, else placeholders). notify.py packs `QYWX_AM` as
//! `corpid,corpsecret,touser,agentid`; `BARK_PUSH` is a device key or a URL;
//! a Discord webhook URL's origin is public and its path a token. What a
//! shape reveals is part of what the user approves (`mcp-push plugin check`
//! shows it).

use crate::secrets::Secrets;
use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// At most this many forms per setting, and named groups per form: a shape is
/// a description, not a way to ask many questions about a value.
pub const MAX_FORMS: usize = 8;
pub const MAX_GROUPS: usize = 8;
/// At most this many list items get placeholders; the rest stay in the last.
pub const MAX_ITEMS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Form {
    pub name: String,
    /// A regular expression that must match the whole value.
    pub pattern: String,
    /// Named groups given to the component in clear.
    pub public: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shape {
    pub key: String,
    pub separator: Option<String>,
    pub forms: Vec<Form>,
}

/// A plugin's shapes, checked once at load.
#[derive(Debug, Clone, Default)]
pub struct Shapes {
    list: Vec<Declared>,
}

#[derive(Debug, Clone)]
struct Declared {
    shape: Shape,
    /// One per form; `None` for a form that does not compile (only possible
    /// for a kept description, see [`Shapes::described`]: it never matches).
    regexes: OnceLock<Vec<Option<Regex>>>,
}

impl Declared {
    fn regexes(&self) -> &[Option<Regex>] {
        self.regexes.get_or_init(|| {
            let key = &self.shape.key;
            self.shape
                .forms
                .iter()
                .map(|f| compile(key, f).ok())
                .collect()
        })
    }
}

impl Shapes {
    /// Check what a plugin declared against its secret settings
    /// (`secret(key)`: whether the plugin declares `key` as a secret), and
    /// compile its forms.
    pub fn new(shapes: Vec<Shape>, secret: impl Fn(&str) -> bool) -> Result<Shapes, String> {
        let shapes = Shapes::described(shapes, secret)?;
        for declared in &shapes.list {
            let key = &declared.shape.key;
            let mut regexes = Vec::new();
            for form in &declared.shape.forms {
                regexes.push(Some(compile(key, form)?));
            }
            let _ = declared.regexes.set(regexes);
        }
        Ok(shapes)
    }

    /// Shapes that [`Shapes::new`] accepted on an earlier start (a kept
    /// description): checked again, but their forms are compiled on first
    /// use. Compiling every bundled plugin's patterns was the largest part
    /// of a one-shot `send`'s own CPU time, for the one channel it uses.
    pub fn described(shapes: Vec<Shape>, secret: impl Fn(&str) -> bool) -> Result<Shapes, String> {
        let mut list: Vec<Declared> = Vec::new();
        for shape in shapes {
            let key = &shape.key;
            if !secret(key) {
                return Err(format!(
                    "shape for {key:?}: shapes describe secret settings, and {key:?} is not one"
                ));
            }
            if list.iter().any(|d| &d.shape.key == key) {
                return Err(format!("setting {key:?} has two shapes"));
            }
            if let Some(sep) = &shape.separator
                && (sep.is_empty() || sep.chars().any(|c| c.is_ascii_alphanumeric() || c == '_'))
            {
                return Err(format!(
                    "shape for {key:?}: separator {sep:?} must be punctuation (placeholders are letters, digits and `_`)"
                ));
            }
            if shape.forms.len() > MAX_FORMS {
                return Err(format!("shape for {key:?}: more than {MAX_FORMS} forms"));
            }
            list.push(Declared {
                shape,
                regexes: OnceLock::new(),
            });
        }
        Ok(Shapes { list })
    }

    pub fn declared(&self) -> impl Iterator<Item = &Shape> {
        self.list.iter().map(|d| &d.shape)
    }

    fn get(&self, key: &str) -> Option<&Declared> {
        self.list.iter().find(|d| d.shape.key == key)
    }

    /// The public groups of `key`'s forms: what `setting:KEY.GROUP` may name.
    pub fn is_public_part(&self, key: &str, group: &str) -> bool {
        self.get(key).is_some_and(|d| {
            d.shape
                .forms
                .iter()
                .any(|f| f.public.iter().any(|p| p == group))
        })
    }

    /// What the component gets for secret setting `key` with `value`: the
    /// setting's own value (one placeholder, or one per item of a list) and
    /// the settings derived from its form (`KEY.form`, `KEY.GROUP`). Secret
    /// parts are registered in `secrets`.
    pub fn apply(&self, key: &str, value: &str, secrets: &mut Secrets) -> Vec<(String, String)> {
        let Some(declared) = self.get(key) else {
            return vec![(key.to_string(), secrets.add(key, value))];
        };
        let shape = &declared.shape;
        let whole = match &shape.separator {
            Some(sep) => {
                let items: Vec<String> = value
                    .splitn(MAX_ITEMS, sep.as_str())
                    .enumerate()
                    // An empty item stays empty, so `a,,b` keeps its shape.
                    .map(|(i, item)| match item {
                        "" => String::new(),
                        _ => secrets.add(&format!("{key}[{i}]"), item),
                    })
                    .collect();
                // The whole value stays masked as one secret too.
                secrets.add(key, value);
                items.join(sep)
            }
            None => secrets.add(key, value),
        };
        let mut out = vec![(key.to_string(), whole)];
        for (form, re) in shape.forms.iter().zip(declared.regexes()) {
            let Some(re) = re else { continue };
            let Some(caps) = re.captures(value) else {
                continue;
            };
            out.push((format!("{key}.form"), form.name.clone()));
            for name in re.capture_names().flatten() {
                let Some(m) = caps.name(name) else { continue };
                let part = format!("{key}.{name}");
                let shown = if form.public.iter().any(|p| p == name) {
                    m.as_str().to_string()
                } else {
                    secrets.add(&part, m.as_str())
                };
                out.push((part, shown));
            }
            break;
        }
        out
    }

    /// The public parts of `key`'s value, for showing a channel's settings
    /// and resolving `setting:KEY.GROUP` hosts outside a call.
    pub fn public_parts(&self, key: &str, value: &str) -> Vec<(String, String)> {
        let Some(declared) = self.get(key) else {
            return Vec::new();
        };
        for (form, re) in declared.shape.forms.iter().zip(declared.regexes()) {
            if let Some(caps) = re.as_ref().and_then(|re| re.captures(value)) {
                let mut out = vec![(format!("{key}.form"), form.name.clone())];
                for name in &form.public {
                    if let Some(m) = caps.name(name) {
                        out.push((format!("{key}.{name}"), m.as_str().to_string()));
                    }
                }
                return out;
            }
        }
        Vec::new()
    }

    /// Whether the legacy `secrets.starts-with(KEY, prefix)` may be answered:
    /// only for a prefix one of `key`'s declared forms starts with.
    pub fn declares_prefix(&self, key: &str, prefix: &str) -> bool {
        let escaped = regex::escape(prefix);
        self.get(key).is_some_and(|d| {
            d.shape
                .forms
                .iter()
                .any(|f| !prefix.is_empty() && literal_start(&f.pattern).starts_with(&escaped))
        })
    }

    /// Whether the legacy `secrets.split(KEY, separator)` may be answered:
    /// only at the separator declared for `key`.
    pub fn declares_separator(&self, key: &str, separator: &str) -> bool {
        self.get(key)
            .is_some_and(|d| d.shape.separator.as_deref() == Some(separator))
    }
}

/// `pattern` without the anchor and group openings it starts with, so that
/// `(?P<origin>https?://…)` is seen to start with `http`.
fn literal_start(mut pattern: &str) -> &str {
    loop {
        let before = pattern.len();
        pattern = pattern.strip_prefix('^').unwrap_or(pattern);
        pattern = pattern.strip_prefix("(?:").unwrap_or(pattern);
        for open in ["(?P<", "(?<"] {
            if let Some(rest) = pattern.strip_prefix(open)
                && let Some((_, after)) = rest.split_once('>')
            {
                pattern = after;
            }
        }
        if pattern.starts_with('(') && !pattern.starts_with("(?") {
            pattern = &pattern[1..];
        }
        if pattern.len() == before {
            return pattern;
        }
    }
}

fn compile(key: &str, form: &Form) -> Result<Regex, String> {
    let name_ok = |n: &str| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    if !name_ok(&form.name) {
        return Err(format!(
            "shape for {key:?}: form name {:?} must be lowercase letters, digits or `_`",
            form.name
        ));
    }
    let re = regex::RegexBuilder::new(&format!("^(?:{})$", form.pattern))
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("shape for {key:?}, form {:?}: {e}", form.name))?;
    let groups: Vec<&str> = re.capture_names().flatten().collect();
    if groups.len() > MAX_GROUPS {
        return Err(format!(
            "shape for {key:?}, form {:?}: more than {MAX_GROUPS} named groups",
            form.name
        ));
    }
    if let Some(bad) = groups.iter().find(|g| !name_ok(g) || **g == "form") {
        return Err(format!(
            "shape for {key:?}, form {:?}: group name {bad:?} must be lowercase letters, digits or `_` (and not `form`)",
            form.name
        ));
    }
    if let Some(bad) = form.public.iter().find(|p| !groups.contains(&p.as_str())) {
        return Err(format!(
            "shape for {key:?}, form {:?}: public part {bad:?} is not a named group of its pattern",
            form.name
        ));
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(name: &str, pattern: &str, public: &[&str]) -> Form {
        Form {
            name: name.into(),
            pattern: pattern.into(),
            public: public.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn shapes() -> Shapes {
        Shapes::new(
            vec![
                Shape {
                    key: "am".into(),
                    separator: None,
                    forms: vec![form(
                        "am",
                        r"(?P<corpid>[^,]*),(?P<corpsecret>[^,]*),(?P<touser>[^,]*),(?P<agentid>[^,]*)(?:,(?P<media>.*))?",
                        &["touser", "agentid", "media"],
                    )],
                },
                Shape {
                    key: "list".into(),
                    separator: Some(",".into()),
                    forms: vec![],
                },
                Shape {
                    key: "push".into(),
                    separator: None,
                    forms: vec![
                        form("url", r"(?P<origin>https?://[^/?#]+)(?P<path>.*)", &["origin"]),
                        form("key", r"[A-Za-z0-9]+", &[]),
                    ],
                },
            ],
            |_| true,
        )
        .unwrap()
    }

    #[test]
    fn parts_are_public_only_when_declared() {
        let shapes = shapes();
        let mut secrets = Secrets::new();
        let got = shapes.apply("am", "wwcorp,s3cr3t-part,@all,1000002", &mut secrets);
        let get = |k: &str| got.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        assert_eq!(get("am.form").as_deref(), Some("am"));
        assert_eq!(get("am.touser").as_deref(), Some("@all"));
        assert_eq!(get("am.agentid").as_deref(), Some("1000002"));
        assert!(get("am.corpsecret").unwrap().starts_with(crate::PREFIX));
        assert_eq!(secrets.fill(&get("am.corpsecret").unwrap()), "s3cr3t-part");
        assert_eq!(get("am.media"), None);
        assert!(get("am").unwrap().starts_with(crate::PREFIX));
    }

    #[test]
    fn lists_get_a_placeholder_per_item() {
        let shapes = shapes();
        let mut secrets = Secrets::new();
        let got = shapes.apply("list", "aaaa,bbbb,cccc", &mut secrets);
        let items: Vec<&str> = got[0].1.split(',').collect();
        assert_eq!(items.len(), 3);
        assert_eq!(secrets.fill(items[1]), "bbbb");
        assert!(!got[0].1.contains("bbbb"));
    }

    #[test]
    fn forms_classify_and_legacy_questions_need_a_declaration() {
        let shapes = shapes();
        let mut secrets = Secrets::new();
        let got = shapes.apply("push", "https://bark.example:8080/DEVKEY", &mut secrets);
        assert!(got.contains(&("push.form".into(), "url".into())));
        assert!(got.contains(&("push.origin".into(), "https://bark.example:8080".into())));
        let got = shapes.apply("push", "DEVKEY", &mut Secrets::new());
        assert!(got.contains(&("push.form".into(), "key".into())));
        assert!(shapes.declares_prefix("push", "http"));
        assert!(!shapes.declares_prefix("push", "x"));
        assert!(!shapes.declares_prefix("am", "ww"));
        assert!(shapes.declares_separator("list", ","));
        assert!(!shapes.declares_separator("am", ","));
        assert!(shapes.is_public_part("push", "origin"));
        assert!(!shapes.is_public_part("push", "path"));
    }

    #[test]
    fn kept_descriptions_compile_on_first_use_and_act_the_same() {
        let declared: Vec<Shape> = shapes().declared().cloned().collect();
        let kept = Shapes::described(declared, |_| true).unwrap();
        let value = "https://bark.example:8080/DEVKEY";
        let (mut a, mut b) = (Secrets::new(), Secrets::new());
        let eager = shapes().apply("push", value, &mut a);
        let lazy = kept.apply("push", value, &mut b);
        let shown = |got: &[(String, String)], s: &Secrets| -> Vec<(String, String)> {
            got.iter().map(|(k, v)| (k.clone(), s.fill(v))).collect()
        };
        assert_eq!(shown(&eager, &a), shown(&lazy, &b));
        assert_eq!(
            kept.public_parts("push", value),
            shapes().public_parts("push", value)
        );
        // A kept pattern that does not compile (a damaged cache) reveals
        // nothing: the value stays one placeholder.
        let damaged = Shapes::described(
            vec![Shape {
                key: "k".into(),
                separator: None,
                forms: vec![form("f", r"(?P<origin>.*", &["origin"])],
            }],
            |_| true,
        )
        .unwrap();
        let got = damaged.apply("k", "s3cr3t", &mut Secrets::new());
        assert_eq!(got.len(), 1);
        assert!(got[0].1.starts_with(crate::PREFIX));
        assert!(damaged.public_parts("k", "s3cr3t").is_empty());
    }

    #[test]
    fn bad_declarations_are_refused() {
        let not_secret = Shapes::new(
            vec![Shape {
                key: "url".into(),
                separator: None,
                forms: vec![],
            }],
            |_| false,
        );
        assert!(not_secret.unwrap_err().contains("not one"));
        let bad_sep = Shapes::new(
            vec![Shape {
                key: "k".into(),
                separator: Some("t".into()),
                forms: vec![],
            }],
            |_| true,
        );
        assert!(bad_sep.unwrap_err().contains("punctuation"));
        let bad_public = Shapes::new(
            vec![Shape {
                key: "k".into(),
                separator: None,
                forms: vec![form("f", r"(?P<a>.*)", &["b"])],
            }],
            |_| true,
        );
        assert!(bad_public.unwrap_err().contains("not a named group"));
    }
}
