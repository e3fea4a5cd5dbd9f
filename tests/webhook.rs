//! The webhook channel end to end: notify.py's WEBHOOK_* variables and
//! Apprise's one-line URLs, through the real binary to a mock on 127.0.0.1.

mod support;

use support::{Mock, Sandbox};

fn form_pairs(body: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn notify_py_environment_delivers_default_json() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/hook"));
    let run = home.run(&["send", "Deploy done", "v2.0.1 is live"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("webhook  ok"), "{}", run.stdout);
    let reqs = mock.requests_to("/hook");
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(reqs[0].header("content-type"), Some("application/json"));
    let body = reqs[0].json();
    assert_eq!(body["title"], "Deploy done");
    assert_eq!(body["content"], "v2.0.1 is live");
}

#[test]
fn title_and_content_are_url_encoded_in_the_url() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/get?t=$title&c=$content"))
        .env("WEBHOOK_METHOD", "GET");
    let run = home.run(&["send", "a b&c", "line1\nline2 ü"]);
    assert_eq!(run.code, 0, "{run:?}");
    let reqs = mock.requests_to("/get");
    assert_eq!(reqs[0].method, "GET");
    assert!(reqs[0].body.is_empty());
    assert_eq!(reqs[0].uri, "/get?t=a%20b%26c&c=line1%0Aline2%20%C3%BC");
}

#[test]
fn json_body_template_escapes_values_and_keeps_json() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/json"))
        .env("WEBHOOK_CONTENT_TYPE", "application/json")
        .env(
            "WEBHOOK_BODY",
            "msgtype: text\ntext: {\"content\": \"$title\\n$content\"}\ncount: 3\nraw: $content",
        );
    let run = home.run(&["send", "He said \"hi\"", "two\nlines"]);
    assert_eq!(run.code, 0, "{run:?}");
    let body = mock.requests_to("/json")[0].json();
    assert_eq!(body["msgtype"], "text");
    assert_eq!(body["text"]["content"], "He said \"hi\"\ntwo\nlines");
    assert_eq!(body["count"], 3);
    assert_eq!(body["raw"], "two\nlines");
}

#[test]
fn form_body_template() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/form"))
        .env("WEBHOOK_METHOD", "PUT")
        .env("WEBHOOK_CONTENT_TYPE", "application/x-www-form-urlencoded")
        .env("WEBHOOK_BODY", "subject: [ci] $title\ntext: $content");
    let run = home.run(&["send", "Build 7", "a&b=c\nok"]);
    assert_eq!(run.code, 0, "{run:?}");
    let req = &mock.requests_to("/form")[0];
    assert_eq!(req.method, "PUT");
    assert_eq!(
        req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        form_pairs(&req.text()),
        vec![
            ("subject".to_string(), "[ci] Build 7".to_string()),
            ("text".to_string(), "a&b=c\nok".to_string())
        ]
    );
}

#[test]
fn text_body_keeps_newlines_and_headers_arrive_but_stay_secret() {
    let mock = Mock::start();
    let secret = "s3cr3t-header-value";
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/text"))
        .env("WEBHOOK_CONTENT_TYPE", "text/plain")
        .env("WEBHOOK_BODY", "[$title]\n$content")
        .env(
            "WEBHOOK_HEADERS",
            format!("Authorization: Bearer {secret}\nX-Team: ops"),
        );
    let run = home.run(&["send", "-vv", "T", "one\ntwo"]);
    assert_eq!(run.code, 0, "{run:?}");
    let req = &mock.requests_to("/text")[0];
    assert_eq!(req.text(), "[T]\none\ntwo");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {secret}").as_str())
    );
    assert_eq!(req.header("x-team"), Some("ops"));
    assert!(
        !run.all_output().contains(secret),
        "secret leaked: {}",
        run.all_output()
    );

    let listing = home.run(&["channels"]);
    assert!(
        listing.stdout.contains("headers = ***"),
        "{}",
        listing.stdout
    );
    let json = home.run(&["channels", "--json"]);
    assert!(!json.stdout.contains(secret));
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["channels"][0]["settings"]["headers"], "***");
}

#[test]
fn content_from_stdin() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/stdin"));
    let run = home.run_with_stdin(&["send", "From a pipe", "-"], "piped\nbody\n");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        mock.requests_to("/stdin")[0].json()["content"],
        "piped\nbody"
    );
    // Without `-` (or --stdin) a pipe is not read: a `while read` loop's
    // input is not the message.
    let run = home.run_with_stdin(&["send", "No content argument"], "not read");
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests_to("/stdin")[1].json()["content"], "");
}

#[test]
fn apprise_json_url_in_the_config_file() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.ops]\nurl = \"json://{}/apprise?+X-Api-Key=k1&:type=&-q=1\"\n",
        mock.addr
    ));
    let run = home.run(&["send", "Title", "Body"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("ops  ok"), "{}", run.stdout);
    let req = &mock.requests_to("/apprise")[0];
    assert_eq!(req.uri, "/apprise?q=1");
    assert_eq!(req.header("x-api-key"), Some("k1"));
    let body = req.json();
    assert_eq!(
        body,
        serde_json::json!({"version": "1.0", "title": "Title", "message": "Body"})
    );
}

#[test]
fn apprise_form_url_with_basic_auth_and_a_named_plugin_channel() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "[channels.forms]\nurl = \"form://bob:pa%24%24word@{addr}/f\"\n\n\
         [channels.plain]\nplugin = \"webhook\"\nurl = \"http://{addr}/plain\"\nmethod = \"PUT\"\n",
        addr = mock.addr
    ));
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 0, "{run:?}");
    let req = &mock.requests_to("/f")[0];
    // base64("bob:pa$$word")
    assert_eq!(req.header("authorization"), Some("Basic Ym9iOnBhJCR3b3Jk"));
    let pairs = form_pairs(&req.text());
    assert!(pairs.contains(&("message".into(), "B".into())), "{pairs:?}");
    assert_eq!(mock.requests_to("/plain")[0].method, "PUT");
    assert!(!run.all_output().contains("pa$$word"));
}

#[test]
fn service_errors_are_retried_or_failed_by_kind() {
    let mock = Mock::start();
    let home = Sandbox::new().config(&format!(
        "from_env = false\n\
         [channels.down]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.denied]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.busy]\nplugin = \"webhook\"\nurl = \"{}\"\n\
         [channels.fine]\nplugin = \"webhook\"\nurl = \"{}\"\n",
        mock.url("/status/503"),
        mock.url("/status/403"),
        mock.url("/retry-after"),
        mock.url("/fine")
    ));
    // --wait 0: one attempt each, then report; what can be retried stays in the outbox.
    let run = home.run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = |name: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap()
            .to_string()
    };
    assert!(
        line("down").contains("retrying  unavailable: HTTP 503"),
        "{}",
        run.stdout
    );
    assert!(
        line("denied").contains("failed  rejected: HTTP 403"),
        "{}",
        run.stdout
    );
    assert!(
        line("busy").contains("retrying  rate limited, retry after 7 s"),
        "{}",
        run.stdout
    );
    assert!(line("fine").contains(" ok "), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("2 deliveries of event 1 wait in the outbox"),
        "{}",
        run.stdout
    );
    assert_eq!(mock.requests_to("/retry-after").len(), 1);
}

#[test]
fn skip_push_title_sends_nothing() {
    let mock = Mock::start();
    let home = Sandbox::new()
        .env("WEBHOOK_URL", mock.url("/skip"))
        .env("SKIP_PUSH_TITLE", "noisy job\nother");
    let run = home.run(&["send", "noisy job", "x"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("skipped"), "{}", run.stdout);
    assert!(mock.requests().is_empty());
}

#[test]
fn usage_and_configuration_errors_exit_2_and_say_what_to_fix() {
    let home = Sandbox::new();
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("no channel is configured"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("WEBHOOK_URL"), "{}", run.stderr);

    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/x"));
    let run = home.run(&["send", "T", "B", "--channel", "nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("unknown channel `nope` (channels: webhook)"),
        "{}",
        run.stderr
    );
    let run = home.run(&["send", "T", "B", "--format", "pdf"]);
    assert_eq!(run.code, 2);

    let cases = [
        (
            "[channels.a]\nplugin = \"telegrm\"\n",
            "channel `a`: no plugin `telegrm`",
        ),
        (
            "[channels.b]\nplugin = \"webhook\"\nurl = \"http://x\"\ncolour = \"red\"\n",
            "channel `b`: plugin `webhook` has no setting `colour`",
        ),
        (
            "[channels.c]\nplugin = \"webhook\"\nmethod = \"PUT\"\n",
            "channel `c`: missing required setting `url` (or the environment variable WEBHOOK_URL)",
        ),
        (
            "[channels.d]\nurl = \"nosuch://x\"\n",
            "channel `d`: no plugin handles nosuch:// URLs",
        ),
        (
            "[channels.e]\nurl = \"json://\"\n",
            "channel `e`: url: json:// URL has no host",
        ),
        (
            "[sandbox]\nmemory_mib = 0\n",
            "sandbox.memory_mib must be between 1 and 4096",
        ),
        ("[channels.f\n", "config file"),
    ];
    for (toml, expected) in cases {
        let run = Sandbox::new().config(toml).run(&["channels"]);
        assert_eq!(run.code, 2, "{toml}: {run:?}");
        assert!(
            run.stderr.contains(expected),
            "{toml}: expected {expected:?} in {}",
            run.stderr
        );
    }
}

#[test]
fn channels_lists_plugins_and_configured_channels() {
    let mock = Mock::start();
    let home = Sandbox::new().env("WEBHOOK_URL", mock.url("/x"));
    let run = home.run(&["channels", "--json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let webhook = v["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "webhook")
        .unwrap();
    assert_eq!(webhook["source"]["kind"], "bundled");
    assert_eq!(webhook["allowed_hosts"], serde_json::json!(["setting:url"]));
    assert_eq!(
        webhook["schemes"],
        serde_json::json!(["json", "jsons", "form"])
    );
    let ch = &v["channels"][0];
    assert_eq!(ch["name"], "webhook");
    assert_eq!(ch["origin"]["kind"], "environment");
    let origin = mock
        .url("/")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert_eq!(ch["allowed_hosts"], serde_json::json!([origin]));
    assert_eq!(ch["settings"]["method"], "POST");
}

/// A URL without its scheme is a configuration error at once (exit 2, and
/// `channels` says why), not an outage retried five times.
#[test]
fn a_url_without_a_scheme_is_a_configuration_error_at_once() {
    let home = Sandbox::new().env("WEBHOOK_URL", "127.0.0.1:18090/hook");
    let run = home.run(&["send", "T", "B"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("setting `url` (WEBHOOK_URL): \"127.0.0.1:18090/hook\" has no scheme; write http://127.0.0.1:18090/hook"),
        "{run:?}"
    );
    let channels = home.run(&["channels"]);
    assert!(
        channels
            .stdout
            .contains("webhook  not enabled: channel `webhook`: setting `url`"),
        "{channels:?}"
    );
    let file = Sandbox::new()
        .config("[channels.ops]\nplugin = \"webhook\"\nurl = \"hooks.example.com/x\"\n");
    let run = file.run(&["send", "T", "B"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stderr.contains("channel `ops`: setting `url`"),
        "{run:?}"
    );
}

/// HTTPS is checked against the platform's roots (here the test's CA, named
/// by `SSL_CERT_FILE`), which are read on the first handshake rather than at
/// start: a server signed by the trusted CA gets the message, and the same
/// server is refused where its CA is not trusted.
#[test]
fn https_is_verified_against_the_platform_roots() {
    let sink = support::tls::HttpsSink::start();
    let ca = sink.ca.ca_file.display().to_string();
    let trusted = Sandbox::new()
        .env("WEBHOOK_URL", sink.url("/hook"))
        .env("SSL_CERT_FILE", ca);
    let run = trusted.run(&["send", "over TLS", "verified"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(sink.requests(), 1);

    // Another CA, trusted instead of the server's.
    let other = support::tls::TestCa::new();
    let untrusted = Sandbox::new()
        .env("WEBHOOK_URL", sink.url("/hook"))
        .env("SSL_CERT_FILE", other.ca_file.display().to_string());
    let run = untrusted.run(&["send", "--wait", "0", "over TLS", "refused"]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("certificate") || run.stderr.contains("certificate"),
        "{run:?}"
    );
    assert_eq!(sink.requests(), 1, "nothing reached the untrusted server");
}
