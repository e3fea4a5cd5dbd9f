//! Firebase Cloud Messaging end to end: the real binary, the service-account
//! key given as a file (`FCM_KEY_FILE`, the host's `_FILE` convention for a
//! secret setting), the assertion signed by the host's `keys` capability and
//! verified by a mock of Google's token endpoint, the access token kept in
//! the host's cache, and each documented error of `messages:send` mapped to
//! what the hub does next.

mod support;

mod mocks {
    pub mod fcm;
}

use mcp_push::notification::Notification;
use mocks::fcm::{PROJECT, key_file};
use support::{Mock, Plugins, Sandbox, failure_of, send_ok};

/// A home with the key file written in it and the FCM names set.
fn home(mock: &Mock, targets: &str) -> Sandbox {
    let home = Sandbox::new();
    let path = home.dir.path().join("service-account.json");
    std::fs::write(&path, key_file()).unwrap();
    home.env("FCM_KEY_FILE", path.to_str().unwrap())
        .env("FCM_TARGETS", targets)
        .env("FCM_API_URL", mock.url(""))
        .env("FCM_OAUTH_URL", mock.url("/token"))
}

/// Lines of the private key: none may show in any output.
fn key_lines() -> Vec<&'static str> {
    mocks::fcm::RSA_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect()
}

/// A send per target with the documented body, the assertion verified by
/// the mock, and the key in no output.
#[test]
fn fcm_delivers_with_a_key_file() {
    let mock = Mock::service(mocks::fcm::api());
    let home = home(&mock, "device-1,#news");
    send_ok(
        &home,
        &["send", "--priority", "high", "Build", "green"],
        &key_lines(),
    );
    let send = format!("/v1/projects/{PROJECT}/messages:send");
    assert_eq!(mock.paths(), ["/token", send.as_str(), send.as_str()]);
    let sends = mock.requests_to(&send);
    let first = sends[0].json();
    assert_eq!(first["message"]["token"], "device-1");
    assert_eq!(first["message"]["notification"]["title"], "Build");
    assert_eq!(first["message"]["notification"]["body"], "green");
    assert_eq!(first["message"]["android"]["priority"], "HIGH");
    assert_eq!(first["message"]["apns"]["headers"]["apns-priority"], "10");
    assert_eq!(sends[1].json()["message"]["topic"], "news");
    assert_eq!(sends[0].header("authorization"), Some("Bearer ya29.mock-1"));
    assert_eq!(sends[1].header("authorization"), Some("Bearer ya29.mock-1"));
}

/// The access token is kept in the host's cache between the sends of one
/// process (a hub, `serve`): two sends, one token request. In-process,
/// through the real runtime, as the cache lives in the host's memory.
#[test]
fn fcm_keeps_its_token_across_sends() {
    let mock = Mock::service(mocks::fcm::api());
    let plugins = Plugins::load();
    let key = key_file();
    let (api, oauth) = (mock.url(""), mock.url("/token"));
    let settings = [
        ("key", key.as_str()),
        ("targets", "device-1"),
        ("api_url", api.as_str()),
        ("oauth_url", oauth.as_str()),
    ];
    for body in ["one", "two"] {
        let receipt = plugins
            .send("fcm", &settings, &Notification::new("T", body), None)
            .unwrap();
        assert!(
            receipt
                .remote_id
                .unwrap()
                .starts_with(&format!("projects/{PROJECT}/messages/"))
        );
    }
    let send = format!("/v1/projects/{PROJECT}/messages:send");
    assert_eq!(mock.paths(), ["/token", send.as_str(), send.as_str()]);
}

/// A kept token FCM no longer takes (401) is fetched anew, once, and the
/// send made again.
#[test]
fn fcm_fetches_a_new_token_once_on_a_401() {
    let mock = Mock::service(mocks::fcm::api());
    let plugins = Plugins::load();
    let key = key_file();
    let (api, oauth) = (mock.url(""), mock.url("/token"));
    let settings = [
        ("key", key.as_str()),
        ("targets", "device-1"),
        ("api_url", api.as_str()),
        ("oauth_url", oauth.as_str()),
    ];
    for title in ["T", "please expire"] {
        plugins
            .send("fcm", &settings, &Notification::new(title, "B"), None)
            .unwrap();
    }
    let send = format!("/v1/projects/{PROJECT}/messages:send");
    assert_eq!(
        mock.paths(),
        [
            "/token",
            send.as_str(),
            send.as_str(),
            "/token",
            send.as_str()
        ]
    );
    let sends = mock.requests_to(&send);
    assert_eq!(sends[1].header("authorization"), Some("Bearer ya29.mock-1"));
    assert_eq!(sends[2].header("authorization"), Some("Bearer ya29.mock-2"));
}

/// UNREGISTERED is refused for good; QUOTA_EXCEEDED waits for its
/// Retry-After; UNAVAILABLE is retried.
#[test]
fn fcm_errors_decide_what_happens_next() {
    let mock = Mock::service(mocks::fcm::api());
    let run = home(&mock, "unregistered-device").run(&["send", "--wait", "0", "T", "B"]);
    assert_eq!(run.code, 1, "{run:?}");
    let line = failure_of(&run, "fcm");
    assert!(
        line.contains("rejected") && line.contains("UNREGISTERED"),
        "{run:?}"
    );

    let run = home(&mock, "device-1").run(&["send", "--wait", "0", "quota", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    assert!(
        failure_of(&run, "fcm").contains("retrying  rate limited"),
        "{run:?}"
    );

    let run = home(&mock, "device-1").run(&["send", "--wait", "0", "unavailable", "B"]);
    assert_eq!(run.code, 3, "{run:?}");
    let line = failure_of(&run, "fcm");
    assert!(
        line.contains("retrying") && line.contains("UNAVAILABLE"),
        "{run:?}"
    );
    for s in key_lines() {
        assert!(!run.all_output().contains(s));
    }
}

/// Apprise's `fcm://PROJECT/TARGET?keyfile=PATH`: the key file read by the
/// host from the URL's `keyfile` (the setting `key_file`); the legacy form
/// is refused with the reason.
#[test]
fn fcm_takes_apprises_url() {
    let mock = Mock::service(mocks::fcm::api());
    let home = Sandbox::new();
    let path = home.dir.path().join("sa.json");
    std::fs::write(&path, key_file()).unwrap();
    let home = home.config(&format!(
        "from_env = false\n[channels.push]\n\
         url = \"fcm://{PROJECT}/device-1/%23news?keyfile={}&+kind=build\"\n\
         api_url = \"{}\"\noauth_url = \"{}\"\n",
        path.display(),
        mock.url(""),
        mock.url("/token")
    ));
    send_ok(&home, &["send", "T", "B"], &key_lines());
    let sends = mock.requests_to(&format!("/v1/projects/{PROJECT}/messages:send"));
    assert_eq!(sends.len(), 2);
    assert_eq!(sends[0].json()["message"]["data"]["kind"], "build");
    assert_eq!(sends[1].json()["message"]["topic"], "news");

    let legacy = Sandbox::new()
        .config("from_env = false\n[channels.push]\nurl = \"fcm://AAAAserverkey/device-1\"\n");
    let run = legacy.run(&["send", "T", "B"]);
    assert!(run.all_output().contains("June 2024"), "{run:?}");
}
