//! The `mqtt` channel and the host's `mqtt` import against a real broker: a
//! private mosquitto per test (tests/support/mqtt.rs), a subscriber that
//! records what arrives, and `mcp-push send` publishing through rumqttc.
//! Without mosquitto the tests print `skipped` and return, except under
//! `CI`, where they fail.

mod support;

use support::mqtt::{Mosquitto, Options};
use support::{Sandbox, failure_of, hostile_wasm, send_ok};

const PASSWORD: &str = "mqtt-broker-pass-4821";

fn home(broker_url: &str, topic: &str) -> Sandbox {
    Sandbox::new()
        .env("MQTT_BROKER", broker_url)
        .env("MQTT_TOPIC", topic)
}

/// The delivery rows of the last sends, as JSON text (what `deliveries`
/// keeps: receipts and errors).
fn deliveries(home: &Sandbox) -> String {
    serde_json::to_string(&home.json_list(&["deliveries", "--json"])).unwrap()
}

#[test]
fn a_send_arrives_on_every_topic_acknowledged_and_retained() {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    let sub = broker.subscribe("#");
    let home = home(&broker.url(), "home/alerts, ops/builds")
        .env("MQTT_QOS", "1")
        .env("MQTT_RETAIN", "true");
    let run = send_ok(&home, &["send", "Deploy done", "v2.0.1 is live"], &[]);
    assert!(run.stdout.starts_with("mqtt "), "{run:?}");
    let got = sub.wait_for(2);
    assert_eq!(got.len(), 2, "{got:?}\n{}", broker.log());
    let mut topics: Vec<&str> = got.iter().map(|g| g.topic.as_str()).collect();
    topics.sort();
    assert_eq!(topics, ["home/alerts", "ops/builds"]);
    for g in &got {
        // MQTT has no title: Apprise folds it into the body, and so do we.
        assert_eq!(g.payload, "Deploy done\n\nv2.0.1 is live");
        // Delivered at the QoS it was published with (the subscription
        // allows 2), and not as a retained message to a live subscriber.
        assert_eq!((g.qos, g.retain), (1, false), "{g:?}");
    }
    // The broker acknowledged each publish: the receipt names the packets.
    let rows = deliveries(&home);
    assert!(
        rows.contains("home/alerts#") && rows.contains("ops/builds#"),
        "{rows}"
    );
    // Retained: a subscriber that comes later still gets it, flagged.
    let late = broker.subscribe("home/#").wait_for(1);
    assert_eq!(late.len(), 1, "{late:?}");
    assert!(late[0].retain && late[0].payload.ends_with("v2.0.1 is live"));
}

#[test]
fn version_5_exactly_once_over_tls_without_retain() {
    let Some(broker) = Mosquitto::start(Options {
        tls: true,
        ..Options::default()
    }) else {
        return;
    };
    let sub = broker.subscribe("#");
    let home = home(&format!("mqtts://127.0.0.1:{}", broker.tls_port), "alerts")
        .env("MQTT_QOS", "2")
        .env("MQTT_VERSION", "v5")
        .env("MQTT_CLIENT_ID", "mcp-push-test")
        // The test CA, trusted through the standard variable, as for HTTPS.
        .env(
            "SSL_CERT_FILE",
            broker.ca_file.as_ref().unwrap().display().to_string(),
        );
    send_ok(&home, &["send", "Nightly", "all green"], &[]);
    let got = sub.wait_for(1);
    assert_eq!(got.len(), 1, "{got:?}\n{}", broker.log());
    assert_eq!(
        (got[0].topic.as_str(), got[0].payload.as_str(), got[0].qos),
        ("alerts", "Nightly\n\nall green", 2)
    );
    assert!(broker.log().contains("mcp-push-test"), "the client id");
    // Not retained: a later subscriber gets nothing.
    let late = broker.subscribe("#");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(late.got().is_empty(), "{:?}", late.got());

    // Without the test CA the broker's certificate is not trusted: nothing
    // goes out, and the send is retried (the certificate may be renewed).
    let untrusted = self::home(&format!("mqtts://127.0.0.1:{}", broker.tls_port), "alerts");
    let run = untrusted.run(&["send", "--wait", "0", "t", "b"]);
    let line = failure_of(&run, "mqtt");
    assert!(
        line.contains("retrying") && line.contains("certificate"),
        "{run:?}"
    );
    assert_eq!(sub.got().len(), 1);
}

#[test]
fn the_login_delivers_and_a_wrong_password_is_rejected_unshown() {
    let Some(broker) = Mosquitto::start(Options {
        login: Some(("hub", PASSWORD)),
        ..Options::default()
    }) else {
        return;
    };
    let sub = broker.subscribe("#");
    let good = home(&broker.url(), "alerts")
        .env("MQTT_USER", "hub")
        .env("MQTT_PASSWORD", PASSWORD);
    send_ok(&good, &["send", "-vv", "Deploy done", "v2"], &[PASSWORD]);
    assert_eq!(sub.wait_for(1).len(), 1, "{}", broker.log());
    assert!(!deliveries(&good).contains(PASSWORD));

    let wrong = "wrong-mqtt-pass-9377";
    let bad = home(&broker.url(), "alerts")
        .env("MQTT_USER", "hub")
        .env("MQTT_PASSWORD", wrong);
    let run = bad.run(&["send", "-vv", "--wait", "0", "t", "b"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure_of(&run, "mqtt");
    // Mosquitto answers a wrong password with 3.1.1's return code 5 (not
    // authorized), others with 4 (bad username or password): both are for
    // good.
    assert!(
        line.contains("failed  rejected") && line.contains("CONNACK 5"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(wrong), "{run:?}");
    assert!(!deliveries(&bad).contains(wrong));
    // No login at all: not authorized, for good too.
    let run = home(&broker.url(), "alerts").run(&["send", "--wait", "0", "t", "b"]);
    let line = failure_of(&run, "mqtt");
    assert!(
        line.contains("failed  rejected") && line.contains("not authorized"),
        "{run:?}"
    );
    assert_eq!(sub.got().len(), 1, "only the good send arrived");
}

#[test]
fn a_broker_that_is_down_is_retried() {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    let url = broker.url();
    drop(broker);
    let home = home(&url, "alerts")
        .env("MQTT_PASSWORD", PASSWORD)
        .env("MQTT_USER", "hub");
    let run = home.run(&["send", "-vv", "--wait", "0", "t", "b"]);
    let line = failure_of(&run, "mqtt");
    assert!(
        line.contains("retrying") && line.contains("cannot reach the broker"),
        "{run:?}"
    );
    assert!(!run.all_output().contains(PASSWORD), "{run:?}");
    assert!(!deliveries(&home).contains(PASSWORD));
}

#[test]
fn a_plugin_that_did_not_declare_the_broker_cannot_publish() {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    let sub = broker.subscribe("#");
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.bad]\nplugin = \"hostile\"\nmode = \"mqtt\"\n\
         url = \"http://127.0.0.1:9/\"\ntarget = \"{}\"\n",
        broker.url()
    ));
    home.install(&hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--wait", "0", "t", "b"]);
    let line = failure_of(&run, "bad");
    assert!(
        line.contains("MQTT publish denied")
            && line.contains(&format!("127.0.0.1:{} is not an allowed host", broker.port)),
        "{run:?}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(sub.got().is_empty(), "it was published: {:?}", sub.got());
    let connections = broker.log().matches("New client connected").count();
    assert_eq!(connections, 1, "it connected: {}", broker.log());
}

#[test]
fn a_secret_in_the_topic_or_payload_arrives_masked() {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    let sub = broker.subscribe("#");
    let token = "hostile-token-5521-abcdef";
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.bad]\nplugin = \"hostile\"\nmode = \"mqtt-leak\"\n\
         url = \"{}\"\ntoken = \"{token}\"\n",
        broker.url()
    ));
    home.install(&hostile_wasm(), "hostile.wasm");
    let run = send_ok(&home, &["send", "-vv", "t", "b"], &[token]);
    let got = sub.wait_for(1);
    assert_eq!(got.len(), 1, "{run:?}\n{}", broker.log());
    assert_eq!(
        (got[0].topic.as_str(), got[0].payload.as_str()),
        ("leak/<secret:token>", "token=<secret:token>")
    );
    assert!(!broker.log().contains(token));
}

#[test]
fn a_long_message_goes_out_whole() {
    let Some(broker) = Mosquitto::start(Options::default()) else {
        return;
    };
    // Past rumqttc's default packet cap of 10 KiB, in both versions: 3.1.1
    // needs the host to lift the cap; 5 takes it from the broker's CONNACK.
    let body = "build log line\n".repeat(3000);
    for version in ["v3.1.1", "v5"] {
        let sub = broker.subscribe("#");
        let home = home(&broker.url(), "logs")
            .env("MQTT_QOS", "1")
            .env("MQTT_VERSION", version);
        send_ok(&home, &["send", "Build log", &body], &[]);
        let got = sub.wait_for(1);
        assert_eq!(got.len(), 1, "{version}: {}", broker.log());
        assert_eq!(got[0].payload, format!("Build log\n\n{body}"), "{version}");
    }
}
