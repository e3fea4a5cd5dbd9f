//! Titles and bodies with the values a check found: `{value}`, `{url}`,
//! `{title}`. Each kind says which names it fills; a template naming any
//! other is refused when the watcher is made, not when it first fires.

use regex::Regex;
use std::sync::LazyLock;

static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\{([a-z_]+)\}").expect("a valid pattern"));

/// `Err` names the first unknown placeholder and the ones that work.
pub fn check(template: &str, known: &[&str]) -> Result<(), String> {
    for c in PLACEHOLDER.captures_iter(template) {
        let name = &c[1];
        if !known.contains(&name) {
            let list: Vec<String> = known.iter().map(|k| format!("{{{k}}}")).collect();
            return Err(format!(
                "unknown placeholder {{{name}}}: this kind fills {}",
                list.join(", ")
            ));
        }
    }
    Ok(())
}

/// The template with each `{name}` replaced by its value; a name without a
/// value is left as written.
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    PLACEHOLDER
        .replace_all(template, |c: &regex::Captures<'_>| {
            values
                .iter()
                .find(|(k, _)| *k == &c[1])
                .map(|(_, v)| v.to_string())
                .unwrap_or_else(|| c[0].to_string())
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_what_it_knows_and_refuses_what_it_does_not() {
        assert_eq!(
            render(
                "{name}: BTC at {value} (over {threshold})",
                &[("name", "btc"), ("value", "51000"), ("threshold", "50000")]
            ),
            "btc: BTC at 51000 (over 50000)"
        );
        assert_eq!(render("{other} stays", &[("name", "x")]), "{other} stays");
        assert!(check("{name} {value}", &["name", "value"]).is_ok());
        let e = check("{vaule}", &["name", "value"]).unwrap_err();
        assert_eq!(
            e,
            "unknown placeholder {vaule}: this kind fills {name}, {value}"
        );
    }
}
