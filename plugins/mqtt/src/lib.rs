//! MQTT publish (`MQTT_BROKER`, `MQTT_TOPIC`, `MQTT_USER`, `MQTT_PASSWORD`;
//! Apprise's `mqtt://` and `mqtts://`): the message is published to one or
//! more topics of your broker, for home automation (Home Assistant,
//! Node-RED) and whatever else subscribes. The host speaks MQTT (its `mqtt`
//! import): this file only builds the request.
//!
//! Sources: Apprise's `mqtt.py` for the URL form
//! (`mqtt[s]://[user[:password]@]host[:port]/topic[,topic2...]`: topics are
//! separated by commas, a `/` is a level inside a topic; `?to=` adds more),
//! its parameters (`qos` 0 to 2, default 0; `version` v3.1, v3.1.1 or v5,
//! default v3.1.1; `client_id`; `session`, only with a client id; `retain`),
//! its defaults (ports 1883 and 8883, keepalive 30 s) and its payload (MQTT
//! has no title: the title is folded into the body); the MQTT 3.1.1 and 5.0
//! specifications for what the broker signals: a CONNACK return code (3.1.1
//! section 3.2.2.3: 4 bad username or password, 5 not authorized) or reason
//! code (5.0 section 3.2.2.2: 0x86, 0x87), and PUBACK (QoS 1) or PUBCOMP
//! (QoS 2) for a message it took; the host waits for them. MQTT 3.1 (the
//! protocol name `MQIsdp`) is not spoken: brokers that speak it speak
//! 3.1.1 as well. Not in qinglong's notify.py: the `MQTT_*` names are
//! mcp-push's own.

use mcp_push_sdk::delivery;
use mcp_push_sdk::mqtt::{self, Broker, Protocol, PublishRequest, Qos, Scheme};
use mcp_push_sdk::prelude::*;

struct Mqtt;

const SCHEMES: &[&str] = &["mqtt", "mqtts"];

/// Apprise's keepalive; one publish per connection never waits that long.
const KEEPALIVE_SECS: u16 = 30;

impl Channel for Mqtt {
    fn info() -> ChannelInfo {
        ChannelInfo::new(
            "mqtt",
            "MQTT",
            env!("CARGO_PKG_VERSION"),
            "Publishes the message to topics of your MQTT broker",
        )
        .formats(&["text"])
        .setting(
            Setting::new(
                "broker",
                "The broker: mqtt://host[:port] (1883) or mqtts://host[:port] (TLS, 8883)",
            )
            .env(&["MQTT_BROKER"])
            .required(),
        )
        .setting(
            Setting::new(
                "topic",
                "Topics to publish to, `,`-separated (a `/` is a level: home/alerts)",
            )
            .env(&["MQTT_TOPIC"])
            .required(),
        )
        .setting(Setting::new("user", "Username of the broker's login").env(&["MQTT_USER"]))
        .setting(
            Setting::new("password", "Password of the broker's login")
                .env(&["MQTT_PASSWORD"])
                .secret(),
        )
        .setting(
            Setting::new(
                "qos",
                "0: at most once, 1: at least once, 2: exactly once (the broker acknowledges 1 and 2)",
            )
            .env(&["MQTT_QOS"])
            .default_value("0"),
        )
        .setting(
            Setting::new("version", "MQTT version: v3.1.1 or v5")
                .env(&["MQTT_VERSION"])
                .default_value("v3.1.1"),
        )
        .setting(
            Setting::new("client_id", "Client identifier (default: a new one per publish)")
                .env(&["MQTT_CLIENT_ID"]),
        )
        .setting(
            Setting::new(
                "session",
                "true: keep the broker's session of the client id (clean session off)",
            )
            .env(&["MQTT_SESSION"])
            .default_value("false"),
        )
        .setting(
            Setting::new(
                "retain",
                "true: the broker keeps the message for later subscribers",
            )
            .env(&["MQTT_RETAIN"])
            .default_value("false"),
        )
        .allow_host("setting:broker")
        .schemes(SCHEMES)
    }

    /// `mqtt[s]://[USER[:PASSWORD]@]HOST[:PORT]/TOPIC[,TOPIC2...]` with
    /// `?qos=`, `?version=`, `?client_id=`, `?session=`, `?retain=`, `?to=`.
    fn parse_url(url: &str) -> Result<Vec<(String, String)>, String> {
        let u = OneLine::parse(url, SCHEMES)?;
        if u.host.is_empty() {
            return Err(format!("{}:// needs the broker's host", u.scheme));
        }
        let mut topics: Vec<String> = topics(&u.path.join("/"));
        if let Some(to) = u.param("to") {
            topics.extend(self::topics(to));
        }
        if topics.is_empty() {
            return Err(format!("{}://HOST/TOPIC needs a topic", u.scheme));
        }
        let broker = match u.port {
            Some(port) => format!("{}://{}:{port}", u.scheme, u.host),
            None => format!("{}://{}", u.scheme, u.host),
        };
        Pairs::new()
            .set("broker", broker)
            .set("topic", topics.join(","))
            .maybe("user", u.user.clone())
            .maybe("password", u.password.clone())
            .maybe("qos", u.param("qos"))
            .maybe("version", u.param("version"))
            .maybe("client_id", u.param("client_id"))
            .maybe("session", u.param("session"))
            .maybe("retain", u.param("retain"))
            .done()
    }

    fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
        let (scheme, host, port) = broker(settings.require("broker")?)?;
        let topics = topics(settings.require("topic")?);
        if topics.is_empty() {
            return Err(SendError::Config(
                "setting `topic` (MQTT_TOPIC) names no topic".into(),
            ));
        }
        let qos = match settings.choice("qos", &["0", "1", "2"], "0")? {
            "0" => Qos::AtMostOnce,
            "1" => Qos::AtLeastOnce,
            _ => Qos::ExactlyOnce,
        };
        let protocol = protocol(settings.get_or("version", "v3.1.1"))?;
        let client_id = settings.get_or("client_id", "").trim().to_string();
        // Apprise keeps a session only for a named client.
        let keep_session = settings.flag("session")?.unwrap_or(false) && !client_id.is_empty();
        let retain = settings.flag("retain")?.unwrap_or(false);
        let user = settings.get("user").filter(|u| !u.is_empty());
        let broker = Broker {
            scheme,
            host,
            port,
            protocol,
            client_id,
            keep_session,
            keepalive_secs: KEEPALIVE_SECS,
            username: user.map(str::to_string),
            password: user.and(settings.get("password")).map(str::to_string),
        };
        let payload = msg.text_with_link().into_bytes();
        let mut acked = Vec::new();
        delivery::send_parts(&topics, 0, |topic| {
            let reply = mqtt::publish(&PublishRequest {
                broker: broker.clone(),
                topic: topic.clone(),
                payload: payload.clone(),
                qos,
                retain,
            })?;
            if let Some(id) = reply.packet_id {
                acked.push(format!("{topic}#{id}"));
            }
            Ok(())
        })?;
        Ok(Receipt::maybe((!acked.is_empty()).then(|| acked.join(","))))
    }
}

/// Topics written in one value: `,`-separated (Apprise's form), each trimmed
/// of spaces and of the `/` a URL path leaves at its ends.
fn topics(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|t| t.trim().trim_matches('/'))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `mqtt://host[:port]` or `mqtts://host[:port]` → scheme, host, port.
fn broker(value: &str) -> Result<(Scheme, String, u16), SendError> {
    let bad = || {
        SendError::Config(format!(
            "setting `broker` (MQTT_BROKER) must be mqtt://host[:port] or mqtts://host[:port], \
             not {value:?}"
        ))
    };
    let (scheme, rest) = value.trim().split_once("://").ok_or_else(bad)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "mqtt" => Scheme::Mqtt,
        "mqtts" => Scheme::Mqtts,
        _ => return Err(bad()),
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
            (h, p.parse::<u16>().map_err(|_| bad())?)
        }
        _ => (authority, mqtt::default_port(scheme)),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains('@') {
        return Err(bad());
    }
    Ok((scheme, host.to_string(), port))
}

/// Apprise's names for the versions (digits only compared: `v3.1.1`, `311`,
/// `v5.0`, `5`).
fn protocol(value: &str) -> Result<Protocol, SendError> {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    match digits.as_str() {
        "311" => Ok(Protocol::V311),
        "5" | "50" => Ok(Protocol::V5),
        "31" => Err(SendError::Config(
            "MQTT 3.1 is not supported: use version=v3.1.1 (brokers that speak 3.1 speak 3.1.1 \
             too) or v5"
                .into(),
        )),
        _ => Err(SendError::Config(format!(
            "setting `version` (MQTT_VERSION) must be v3.1.1 or v5, not {value:?}"
        ))),
    }
}

export_channel!(Mqtt);

#[cfg(test)]
mod tests {
    use super::*;
    use mcp_push_sdk::bindings::mcp_push::channel::mqtt::Error;
    use mcp_push_sdk::testing::{Harness, message};

    fn harness() -> Harness {
        Harness::new::<Mqtt>()
            .setting("broker", "mqtt://broker.lan")
            .setting("topic", "home/alerts")
    }

    #[test]
    fn publishes_title_and_body_once_per_topic() {
        let h = harness()
            .setting("topic", "home/alerts, ops")
            .setting("qos", "1")
            .setting("retain", "yes");
        let mut msg = message("Deploy done", "v2.0.1 is live");
        msg.link = Some("https://ci.example/42".into());
        let receipt = h.send(&msg).unwrap();
        assert_eq!(receipt.remote_id.as_deref(), Some("home/alerts#1,ops#2"));
        let sent = h.published();
        assert_eq!(sent.len(), 2);
        assert_eq!(
            (sent[0].topic.as_str(), sent[1].topic.as_str()),
            ("home/alerts", "ops")
        );
        assert_eq!(
            String::from_utf8(sent[0].payload.clone()).unwrap(),
            "Deploy done\n\nv2.0.1 is live\n\nhttps://ci.example/42"
        );
        let b = &sent[0].broker;
        assert_eq!(
            (b.host.as_str(), b.port, b.scheme),
            ("broker.lan", 1883, Scheme::Mqtt)
        );
        assert_eq!((sent[0].qos, sent[0].retain), (Qos::AtLeastOnce, true));
        assert_eq!((b.protocol, b.keepalive_secs), (Protocol::V311, 30));
        assert_eq!((b.username.as_deref(), b.keep_session), (None, false));
    }

    #[test]
    fn the_password_goes_only_into_the_login() {
        let h = harness()
            .setting("broker", "mqtts://broker.example:8884")
            .setting("user", "hub")
            .setting("password", "s3cret-pass-word")
            .setting("version", "v5")
            .setting("client_id", "agent-1")
            .setting("session", "true");
        h.send(&message("t", "b")).unwrap();
        let b = &h.published()[0].broker;
        assert_eq!(
            (b.scheme, b.port, b.protocol),
            (Scheme::Mqtts, 8884, Protocol::V5)
        );
        assert_eq!(b.username.as_deref(), Some("hub"));
        assert_eq!(b.password.as_deref(), Some("s3cret-pass-word"));
        assert_eq!((b.client_id.as_str(), b.keep_session), ("agent-1", true));
    }

    #[test]
    fn a_refusal_is_typed_and_an_unlisted_broker_denied() {
        let h = harness();
        h.refuse_mqtt(Error::Rejected("bad username or password".into()));
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Rejected(_))
        ));
        h.refuse_mqtt(Error::Unavailable("connection refused".into()));
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Unavailable(_))
        ));
        let h = harness().setting("broker", "mqtt://broker.lan:1884");
        h.send(&message("t", "b")).unwrap();
        assert_eq!(
            h.published()[0].broker.port,
            1884,
            "the declared port is the setting's"
        );
    }

    #[test]
    fn settings_that_cannot_work_are_config_errors() {
        for (key, value) in [
            ("broker", "broker.lan"),
            ("broker", "http://broker.lan"),
            ("qos", "3"),
            ("version", "v3.1"),
            ("version", "v4"),
            ("topic", " , "),
        ] {
            let h = harness().setting(key, value);
            assert!(
                matches!(h.send(&message("t", "b")), Err(SendError::Config(_))),
                "{key}={value}"
            );
        }
    }

    #[test]
    fn reads_apprises_urls() {
        let pairs = |url: &str| Mqtt::parse_url(url).unwrap();
        assert_eq!(
            pairs("mqtt://user:pass@broker.lan/home/alerts,ops?qos=1&retain=yes"),
            vec![
                ("broker".to_string(), "mqtt://broker.lan".to_string()),
                ("topic".into(), "home/alerts,ops".into()),
                ("user".into(), "user".into()),
                ("password".into(), "pass".into()),
                ("qos".into(), "1".into()),
                ("retain".into(), "yes".into()),
            ]
        );
        assert_eq!(
            pairs("mqtts://broker.lan:8884/a?to=b&version=v5&client_id=me&session=yes"),
            vec![
                ("broker".to_string(), "mqtts://broker.lan:8884".to_string()),
                ("topic".into(), "a,b".into()),
                ("version".into(), "v5".into()),
                ("client_id".into(), "me".into()),
                ("session".into(), "yes".into()),
            ]
        );
        assert!(Mqtt::parse_url("mqtt://broker.lan").is_err(), "no topic");
    }
}
