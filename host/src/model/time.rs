use std::time::Duration;

/// Milliseconds since the Unix epoch, UTC: what every time column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

/// Written as RFC 3339 in UTC (`2026-11-21T09:30:00.123Z`), for people and programs alike.
impl serde::Serialize for UnixMillis {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

/// Read back from what [`Serialize`](serde::Serialize) writes (live messages between hubs).
impl<'de> serde::Deserialize<'de> for UnixMillis {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        chrono::DateTime::parse_from_rfc3339(&text)
            .map(|t| UnixMillis(t.timestamp_millis()))
            .map_err(serde::de::Error::custom)
    }
}

impl UnixMillis {
    pub fn to_rfc3339(self) -> String {
        chrono::DateTime::from_timestamp_millis(self.0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }
}

impl UnixMillis {
    pub fn now() -> Self {
        UnixMillis(chrono::Utc::now().timestamp_millis())
    }

    pub fn plus(self, d: Duration) -> Self {
        UnixMillis(
            self.0
                .saturating_add(d.as_millis().min(i64::MAX as u128) as i64),
        )
    }
}
