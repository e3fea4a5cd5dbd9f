//! Thresholds: a number read from an answer (a JSON pointer, or a regex on
//! text), compared with a level. It fires once when the value crosses and
//! once when it comes back (past the hysteresis), never on every check
//! while it stays over. Pure: the runner fetches, these functions decide.

use super::model::{Direction, Plan, Reading};
use super::template;
use crate::notification::Notification;
use serde::{Deserialize, Serialize};

/// What a check keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub last: Option<f64>,
    /// The value is past the level (and has not come back yet).
    pub crossed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crossing {
    Crossed,
    Recovered,
}

/// The number in `body`.
pub fn read(body: &[u8], reading: &Reading) -> Result<f64, String> {
    match reading {
        Reading::Pointer(p) => {
            let v: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| format!("the answer is not JSON ({e})"))?;
            let found = v
                .pointer(p)
                .ok_or_else(|| format!("nothing at {p} in the answer"))?;
            match found {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::String(s) => number(s),
                _ => None,
            }
            .ok_or_else(|| format!("{p} is {found}, not a number"))
        }
        Reading::Regex(re) => {
            let text = String::from_utf8_lossy(body);
            let caps = re
                .captures(&text)
                .ok_or_else(|| format!("the regex {} does not match the answer", re.as_str()))?;
            let m = caps
                .get(1)
                .or_else(|| caps.get(0))
                .map(|m| m.as_str())
                .unwrap_or("");
            number(m).ok_or_else(|| format!("{m:?} (matched by the regex) is not a number"))
        }
    }
}

/// `51,234.5` and ` 12 ` read as numbers.
fn number(s: &str) -> Option<f64> {
    s.trim()
        .replace(',', "")
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The new state, and whether this value crossed or came back.
pub fn judge(
    level: (Direction, f64),
    hysteresis: f64,
    prev: Level,
    value: f64,
) -> (Level, Option<Crossing>) {
    let (dir, at) = level;
    let (over, back) = match dir {
        Direction::Above => (value > at, value <= at - hysteresis),
        Direction::Below => (value < at, value >= at + hysteresis),
    };
    let (crossed, event) = match (prev.crossed, over, back) {
        (false, true, _) => (true, Some(Crossing::Crossed)),
        (true, _, true) => (false, Some(Crossing::Recovered)),
        (c, _, _) => (c, None),
    };
    (
        Level {
            last: Some(value),
            crossed,
        },
        event,
    )
}

/// Numbers as people write them: no `.0` on whole values.
fn show(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The notification for a crossing or a recovery.
pub fn message(plan: &Plan, url: &url::Url, value: f64, event: Crossing) -> Notification {
    let Some((dir, at)) = plan.level else {
        return Notification::new(plan.spec.name.clone(), show(value));
    };
    let direction = match (event, dir) {
        (Crossing::Crossed, d) => d.word().to_string(),
        (Crossing::Recovered, Direction::Above) => "back below".to_string(),
        (Crossing::Recovered, Direction::Below) => "back above".to_string(),
    };
    let (value_s, at_s) = (show(value), show(at));
    let shown_url = super::model::mask_url(url.as_str());
    let v = [
        ("name", plan.spec.name.as_str()),
        ("value", value_s.as_str()),
        ("threshold", at_s.as_str()),
        ("direction", direction.as_str()),
        ("url", shown_url.as_str()),
    ];
    let notify = &plan.spec.notify;
    let title = template::render(
        notify
            .title
            .as_deref()
            .unwrap_or("{name}: {value} is {direction} {threshold}"),
        &v,
    );
    let body = match &notify.body {
        Some(t) => template::render(t, &v),
        None => template::render("{value} is {direction} {threshold} at {url}", &v),
    };
    let mut n = Notification::new(title, body);
    n.format = notify.format;
    n.priority = notify.priority;
    n.tags = notify.tags.clone();
    n.link = Some(url.to_string());
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_read_by_pointer_or_regex() {
        let p = |s: &str| Reading::Pointer(s.into());
        let body = br#"{"bitcoin": {"usd": 51234.5, "text": "1,200"}, "name": "x"}"#;
        assert_eq!(read(body, &p("/bitcoin/usd")), Ok(51234.5));
        assert_eq!(read(body, &p("/bitcoin/text")), Ok(1200.0));
        assert!(
            read(body, &p("/bitcoin/eur"))
                .unwrap_err()
                .contains("nothing at /bitcoin/eur")
        );
        assert!(
            read(body, &p("/name"))
                .unwrap_err()
                .contains("not a number")
        );
        assert!(read(b"<html>", &p("/a")).unwrap_err().contains("not JSON"));
        let re = Reading::Regex(regex::Regex::new(r"Price: \$([\d,.]+)").unwrap());
        assert_eq!(read(b"<b>Price: $49,999.99</b>", &re), Ok(49999.99));
        assert!(
            read(b"sold out", &re)
                .unwrap_err()
                .contains("does not match")
        );
    }

    #[test]
    fn fires_once_on_crossing_and_once_on_recovery() {
        let above = (Direction::Above, 100.0);
        let mut state = Level::default();
        let mut fired = Vec::new();
        for v in [90.0, 101.0, 120.0, 101.0, 99.0, 98.0, 150.0] {
            let (s, e) = judge(above, 0.0, state, v);
            state = s;
            fired.extend(e.map(|e| (v, e)));
        }
        assert_eq!(
            fired,
            [
                (101.0, Crossing::Crossed),
                (99.0, Crossing::Recovered),
                (150.0, Crossing::Crossed)
            ]
        );
        // With hysteresis, hovering near the level does not recover.
        let (s, _) = judge(above, 5.0, Level::default(), 101.0);
        let (s, e) = judge(above, 5.0, s, 97.0);
        assert_eq!((s.crossed, e), (true, None));
        let (s, e) = judge(above, 5.0, s, 95.0);
        assert_eq!((s.crossed, e), (false, Some(Crossing::Recovered)));
        // Below works the other way round.
        let below = (Direction::Below, 10.0);
        let (s, e) = judge(below, 0.0, Level::default(), 9.0);
        assert_eq!(e, Some(Crossing::Crossed));
        let (_, e) = judge(below, 0.0, s, 10.0);
        assert_eq!(e, Some(Crossing::Recovered));
    }
}
