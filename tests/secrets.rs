//! The secret promise, tried from outside: a component that wants the value
//! behind its placeholder, and services that echo what they were sent. A
//! secret must reach no output, no file of the store and no component, in
//! any encoding (hex, reversed, lowercased, escaped, URL-encoded), on every
//! surface a user or an agent reads.

mod support;

use futures::StreamExt;
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use support::mcp_client::{call, http_client, rt};
use support::{Mock, Reply, Run, Sandbox, snoop_wasm};

const SECRET: &str = "Sup3rSecretValue42";

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Every text the store holds: the db, its WAL and journal.
fn store_bytes(home: &Sandbox) -> String {
    let mut out = String::new();
    visit(&home.dir.path().join("data"), &mut |p| {
        out.push_str(&String::from_utf8_lossy(
            &std::fs::read(p).unwrap_or_default(),
        ));
    });
    out
}

fn visit(dir: &Path, f: &mut dyn FnMut(&Path)) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            visit(&path, f);
        } else {
            f(&path);
        }
    }
}

/// A send through the snoop component in `mode`, then the commands that show
/// what happened; everything they printed and everything stored.
fn snoop(mode: &str, guesses: &str) -> String {
    let mock = Mock::start();
    let home = Sandbox::new()
        .config(&format!(
            "from_env = false\n\
             [channels.snoop]\nplugin = \"snoop\"\nmode = \"{mode}\"\nurl = \"{}\"\n\
             token = \"{SECRET}\"\nguesses = \"{guesses}\"\npem_file = \"{}\"\n",
            mock.url("/x"),
            keys_dir().join("ec.pem").display()
        ))
        .env("MCP_PUSH_LOG", "trace");
    home.install(&snoop_wasm(), "snoop.wasm");
    let send = home.run(&["send", "-vv", "--json", "Title", "Body"]);
    assert!(
        send.stdout.contains("recovered hex:"),
        "the snoop component ran: {send:?}"
    );
    let deliveries = home.run(&["deliveries", "--json"]);
    let runs = home.run(&["runs", "--json"]);
    let mut all: Vec<&Run> = vec![&send, &deliveries, &runs];
    all.retain(|r| r.code >= 0);
    let mut text = all.iter().map(|r| r.all_output()).collect::<String>();
    text.push_str(&store_bytes(&home));
    text
}

/// What the component recovered, as it reported it.
fn assert_not_recovered(mode: &str, out: &str, forms: &[String]) {
    for form in forms {
        assert!(
            !out.contains(&format!("hex:{}", hex(form))),
            "{mode}: the component recovered {form:?}"
        );
    }
    for plain in [SECRET.to_string(), SECRET.to_lowercase(), hex(SECRET)] {
        assert!(!out.contains(&plain), "{mode}: {plain:?} shown");
    }
}

#[test]
fn no_oracle_gives_a_component_the_value_behind_its_placeholder() {
    let reversed: String = SECRET.chars().rev().collect();
    let mut sorted: Vec<char> = SECRET.chars().collect();
    sorted.sort();
    let sorted: String = sorted.into_iter().collect();
    let every_form = vec![
        SECRET.to_string(),
        SECRET.to_lowercase(),
        reversed,
        sorted,
        format!("len={}", SECRET.len()),
    ];
    for (mode, guesses) in [
        ("split-reveal", ""),
        ("split-empty", ""),
        ("prefix", ""),
        ("histogram", ""),
        ("hmac-length", ""),
        ("aws4-length", ""),
        ("aliyun-length", ""),
        (
            "aliyun-dictionary",
            &format!("admin,hunter2,{SECRET},letmein") as &str,
        ),
        (
            "hmac-dictionary",
            &format!("admin,hunter2,{SECRET},letmein") as &str,
        ),
        ("denied-host", ""),
    ] {
        let out = snoop(mode, guesses);
        assert_not_recovered(mode, &out, &every_form);
        // The denial explains itself without naming what came from the secret.
        if mode == "denied-host" {
            assert!(
                out.contains("a host taken from a secret setting"),
                "{mode}: {out}"
            );
        }
    }
}

/// The test keys (tests/keys).
fn keys_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/keys")
}

/// What the snoop component reported, decoded from its hex.
fn recovered(out: &str) -> String {
    let at = out
        .find("recovered hex:")
        .expect("the snoop component reported")
        + 14;
    let hex: String = out[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let bytes: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    String::from_utf8(bytes).unwrap()
}

/// The `keys` import signs with a private key held as a secret (given as a
/// file, `pem_file`): only with exactly one secret's placeholder as the key
/// and no secret in the message; a secret that is no private key gets the
/// same fixed error whatever it holds; and the one thing that depends on
/// the key, the signature, verifies against its public key (ES256 in JWS
/// form, r || s).
#[test]
fn a_component_signs_with_a_private_key_it_never_sees_and_learns_nothing_else() {
    use ring::signature::{ECDSA_P256_SHA256_FIXED, KeyPair, UnparsedPublicKey};
    use rustls_pki_types::{PrivatePkcs8KeyDer, pem::PemObject};
    let pem = std::fs::read_to_string(keys_dir().join("ec.pem")).unwrap();
    let pem_lines: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for (mode, why) in [
        ("keys-prefix", "exactly one secret"),
        ("keys-suffix", "exactly one secret"),
        ("keys-two", "exactly one secret"),
        ("keys-msg", "holds a secret"),
        ("keys-notpem", mcp_push_policy::keys::UNUSABLE),
    ] {
        let out = snoop(mode, "");
        let got = recovered(&out);
        assert!(
            got.starts_with("refused: SendError::Config(") && got.contains(why),
            "{mode}: {got}"
        );
        assert_not_recovered(mode, &out, &[SECRET.to_string()]);
        for line in &pem_lines {
            assert!(!out.contains(line), "{mode}: a line of the key shown");
        }
        if mode == "keys-notpem" {
            // Nothing in it depends on the value: the fixed text, exactly.
            let fixed = format!("signing: {}", mcp_push_policy::keys::UNUSABLE);
            assert_eq!(got, format!("refused: SendError::Config({fixed:?})"));
        }
    }
    let out = snoop("keys-es256", "");
    let hex = recovered(&out);
    let sig: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    assert_eq!(sig.len(), 64, "JWS form (r || s), not DER: {hex}");
    let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).unwrap();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        der.secret_pkcs8_der(),
        &ring::rand::SystemRandom::new(),
    )
    .unwrap();
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
        .verify(b"header.claims", &sig)
        .expect("the signature verifies against the key's public key");
    for line in &pem_lines {
        assert!(!out.contains(line), "a line of the key shown");
    }
}

/// A signing key derived from a secret behind a fixed prefix (AWS SigV4's
/// `AWS4`) is what the component gets, computed with the secret it never
/// saw: the host's `signing`/`crypto` fill the placeholder in.
#[test]
fn a_component_signs_with_a_prefixed_secret_it_never_sees() {
    use hmac::{Hmac, Mac};
    let mac = |key: &[u8], msg: &[u8]| {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    };
    let k = mac(format!("AWS4{SECRET}").as_bytes(), b"20120215");
    let k = mac(&k, b"us-east-1");
    let k = mac(&k, b"iam");
    let k = mac(&k, b"aws4_request");
    let expected: String = k.iter().map(|b| format!("{b:02x}")).collect();
    let out = snoop("sigv4", "");
    assert!(
        out.contains(&format!("recovered hex:{}", hex(&expected))),
        "the signing key made with the real secret: {out}"
    );
    assert!(!out.contains(SECRET), "{out}");
}

/// Aliyun's RPC signature keys HMAC-SHA1 with the secret and `&`: the
/// component gets that MAC, computed with the secret it never saw, and
/// nothing more (the length and dictionary attempts on the same key are in
/// the test above).
#[test]
fn a_component_signs_with_a_secret_and_aliyuns_suffix() {
    use mcp_push_policy::sign::{Hash, hmac};
    let expected: String = hmac(Hash::Sha1, format!("{SECRET}&").as_bytes(), b"GET&%2F&x")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = snoop("aliyun", "");
    assert!(
        out.contains(&format!("recovered hex:{}", hex(&expected))),
        "the MAC made with the real secret: {out}"
    );
    assert!(!out.contains(SECRET), "{out}");
}

/// A service that answers 400 (or 503) with everything it was sent, as some
/// do: the header block's values, the URL's credentials and the body come
/// back in the error, JSON-escaped and URL-encoded.
fn echo(status: u16) -> Mock {
    Mock::service(move |r| {
        Reply::json(
            status,
            json!({
                "error": "bad request",
                "you_sent": {
                    "uri": r.uri,
                    "headers": r.headers,
                    "body": r.text(),
                    "raw": format!("{:?}", r.headers),
                },
            }),
        )
    })
}

#[test]
fn an_echoing_service_does_not_put_header_or_url_secrets_in_any_output() {
    let token = "tok-AbC123xYz";
    let api_key = "key-456DEF\"q";
    let password = "pw-Sekr3t";
    let query_token = "qt-998877QQ";
    for status in [400, 503] {
        let mock = echo(status);
        let url = mock
            .url(&format!("/hook?token={query_token}"))
            .replace("http://", &format!("http://bob:{password}@"));
        let home = Sandbox::new()
            .env("WEBHOOK_URL", url.as_str())
            .env("WEBHOOK_METHOD", "POST")
            .env("WEBHOOK_CONTENT_TYPE", "application/json")
            .env("WEBHOOK_BODY", "title: $title\ncontent: $content")
            .env(
                "WEBHOOK_HEADERS",
                format!("Authorization: Bearer {token}\nX-Api-Key: {api_key}"),
            )
            .env("MCP_PUSH_LOG", "trace");
        let mut out = String::new();
        for args in [
            &["send", "-vv", "--wait", "0", "Title", "Body"][..],
            &["send", "--json", "--wait", "0", "T2", "B2"],
            &["deliveries", "--json"],
            &["runs", "--json"],
            &["channels"],
            &["channels", "--json"],
        ] {
            let run = home.run(args);
            out.push_str(&run.all_output());
        }
        out.push_str(&store_bytes(&home));
        assert!(!mock.requests().is_empty(), "the webhook was called: {out}");
        for secret in [token, api_key, password, query_token] {
            for form in [
                secret.to_string(),
                secret.to_lowercase(),
                serde_json::to_string(secret)
                    .unwrap()
                    .trim_matches('"')
                    .to_string(),
                percent_encode(secret),
            ] {
                assert!(
                    !out.contains(&form),
                    "status {status}: {form:?} (of {secret:?}) shown:\n{out}"
                );
            }
        }
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The secrets a user configures in [`scan_home`], and what a leak would be.
const HEADER_TOKEN: &str = "tok-AbC123xYz";
const URL_PASSWORD: &str = "pw-Sekr3t";
const QUERY_TOKEN: &str = "qt-998877QQ";

fn leaks(out: &str) -> Vec<String> {
    let mut found = Vec::new();
    for secret in [HEADER_TOKEN, URL_PASSWORD, QUERY_TOKEN] {
        for form in [
            secret.to_string(),
            secret.to_lowercase(),
            percent_encode(secret),
            hex(secret),
        ] {
            if out.contains(&form) {
                found.push(form);
            }
        }
    }
    found
}

/// Three webhook channels, each with a header block and a URL with
/// credentials, to services that answer 200, 400 and 503 echoing the request.
fn scan_home(mocks: &[Mock]) -> Sandbox {
    let mut toml = String::from("from_env = false\n[retry]\nbase_delay_secs = 0.2\n");
    for (i, mock) in mocks.iter().enumerate() {
        let url = mock
            .url(&format!("/hook?token={QUERY_TOKEN}"))
            .replace("http://", &format!("http://bob:{URL_PASSWORD}@"));
        toml.push_str(&format!(
            "[channels.hook{i}]\nplugin = \"webhook\"\nurl = \"{url}\"\nmethod = \"POST\"\n\
             content_type = \"application/json\"\nbody = \"title: $title\\ncontent: $content\"\n\
             headers = \"Authorization: Bearer {HEADER_TOKEN}\\nX-Trace: on\"\n"
        ));
    }
    Sandbox::new().config(&toml).env("MCP_PUSH_LOG", "trace")
}

#[test]
fn every_surface_of_serve_keeps_secrets_in_every_form() {
    let mocks = [echo(200), echo(400), echo(503)];
    let home = scan_home(&mocks);
    let log = home.dir.path().join("serve.log");
    let mut child = home
        .command(&["serve", "-vv", "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let addr: std::net::SocketAddr = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(rest) = text.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().parse().unwrap();
        }
        assert!(child.try_wait().unwrap().is_none(), "serve exited: {text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    rt().block_on(async {
        let base = format!("http://{addr}");
        let http = reqwest::Client::new();
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{addr}/v1/stream?since=0"))
                .await
                .unwrap();
        let r = http
            .post(format!("{base}/v1/notify?wait=10"))
            .json(&json!({"title": "via rest", "content": "body"}))
            .send()
            .await
            .unwrap();
        out.push_str(&r.text().await.unwrap());
        let client = http_client(addr, None).await;
        for (tool, args) in [
            (
                "notify_send",
                json!({"title": "via mcp", "content": "body"}),
            ),
            ("list_channels", json!({})),
            ("list_runs", json!({})),
        ] {
            let r = call(&client, tool, args).await;
            out.push_str(&serde_json::to_string(&r).unwrap());
        }
        // Let the 503 retry at least once.
        tokio::time::sleep(Duration::from_millis(800)).await;
        for path in [
            "/v1/channels",
            "/v1/events?limit=100",
            "/v1/runs",
            "/metrics",
            "/",
        ] {
            let r = http.get(format!("{base}{path}")).send().await.unwrap();
            out.push_str(&r.text().await.unwrap());
        }
        while let Ok(Some(Ok(msg))) =
            tokio::time::timeout(Duration::from_millis(500), ws.next()).await
        {
            out.push_str(&msg.to_string());
        }
        client.cancel().await.ok();
    });
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
    for args in [
        &["deliveries", "--json"][..],
        &["runs", "--json"],
        &["channels"],
    ] {
        out.push_str(&home.run(args).all_output());
    }
    out.push_str(&std::fs::read_to_string(&log).unwrap());
    out.push_str(&store_bytes(&home));
    assert!(
        mocks.iter().all(|m| !m.requests().is_empty()),
        "every service was called"
    );
    assert!(
        out.contains("you_sent") || out.contains("bad request"),
        "the echoed errors were read: {out}"
    );
    let found = leaks(&out);
    assert!(found.is_empty(), "leaked {found:?} in:\n{out}");
}

/// `channels` masks values, not names: a password "pass" once turned the
/// key `password` into `***word`; and a URL's credentials are masked even in
/// a setting that is not secret.
#[test]
fn channels_mask_values_not_names_and_url_credentials() {
    let home = Sandbox::new()
        .env("SMTP_SERVER", "127.0.0.1:2525")
        .env("SMTP_EMAIL", "ops@example.com")
        .env("SMTP_PASSWORD", "pass")
        .config(
            "[channels.hook]\nplugin = \"webhook\"\n\
             url = \"http://robot:pw-4f9a1c2e@127.0.0.1:1/hook?token=tk-8d7e6f5a4b3c\"\n",
        );
    let run = home.run(&["channels"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("password = ***"), "{}", run.stdout);
    assert!(!run.stdout.contains("***word"), "{}", run.stdout);
    for secret in ["pw-4f9a1c2e", "tk-8d7e6f5a4b3c"] {
        assert!(!run.all_output().contains(secret), "{secret}: {run:?}");
    }
    let json = home.run(&["channels", "--json"]);
    assert!(json.stdout.contains("\"password\""), "{}", json.stdout);
    for secret in ["pw-4f9a1c2e", "tk-8d7e6f5a4b3c"] {
        assert!(!json.all_output().contains(secret), "{secret}: {json:?}");
    }
}

#[test]
fn a_syntax_error_on_a_token_line_does_not_print_the_token() {
    let token = "123456:AAHsyntaxerrorsecret0987";
    for text in [
        // The closing quote is missing: toml shows the line with the error.
        format!("[channels.tg]\nplugin = \"telegram\"\nbot_token = \"{token}\nchat_id = \"42\"\n"),
        format!("[channels.tg]\nplugin = \"telegram\"\nbot_token = \"{token}\" x\n"),
        format!(
            "[channels]\ntg = {{ plugin = \"telegram\", bot_token = \"{token}\" chat_id = \"42\" }}\n"
        ),
    ] {
        let home = Sandbox::new().config(&text);
        for args in [&["channels"][..], &["send", "T", "B"], &["mcp"]] {
            let run = home.run(args);
            assert_eq!(run.code, 2, "{args:?}: {run:?}");
            assert!(run.stderr.contains("TOML parse error at line"), "{run:?}");
            assert!(run.stderr.contains("bot_token = \"***\""), "{run:?}");
            assert!(!run.all_output().contains("AAHsyntax"), "{args:?}: {run:?}");
        }
    }
}

/// A plugin file's one-line URL cannot make the host read a file into its
/// secret: `parse_url` runs in the plugin, so a `token_file` it returns is a
/// path the plugin chose (here: the `icon` the user wrote for something
/// else), and the host would hand the file to the plugin's allowed host.
/// Only the user names a secret's file (a channel table's `key_file`, or a
/// bundled channel's URL); the configuration says so, and nothing is read.
#[test]
fn a_plugin_file_cannot_make_the_host_read_a_file_through_its_url() {
    let mock = Mock::start();
    let home = Sandbox::new();
    let private = home.dir.path().join("id_ed25519");
    std::fs::write(
        &private,
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n",
    )
    .unwrap();
    let home = home.config(&format!(
        "from_env = false\n[channels.bad]\nurl = \"hostile://exfil?url={}&icon={}\"\n",
        mock.url("/in"),
        private.display()
    ));
    home.install(&support::hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--wait", "0", "t", "b"]);
    let got: Vec<String> = mock
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    assert!(
        got.iter().all(|b| !b.contains("OPENSSH")),
        "the file left: {got:?}"
    );
    assert_ne!(run.code, 0, "{run:?}");
    assert!(
        run.all_output().contains("asked the host to read a file")
            && run.all_output().contains("token_file"),
        "{run:?}"
    );
    assert!(!run.all_output().contains("b3BlbnNzaC1rZXk"), "{run:?}");
}

/// A plugin file's one-line URL cannot point its `setting:url` host at a
/// host the user did not write: `parse_url` runs in the plugin, and the
/// host fills the user's token into requests to whatever `url` names. The
/// hostile parser turns a `back` the user wrote for something else into
/// `url` (the mock's address reversed: a real plugin would name its own
/// server). Refused, with the host named; nothing reaches it. The same
/// plugin with the host written in the URL still sends.
#[test]
fn a_plugin_files_url_cannot_point_it_at_a_host_the_user_did_not_write() {
    let mock = Mock::start();
    let token = "tok-SEKRET-7781";
    let back: String = mock.url("/in").chars().rev().collect();
    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.bad]\nurl = \"hostile://exfil?token={token}&back={back}\"\n"
    ));
    home.install(&support::hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--wait", "0", "t", "b"]);
    assert!(
        mock.requests().is_empty(),
        "the token left: {:?}",
        mock.requests().iter().map(|r| r.text()).collect::<Vec<_>>()
    );
    assert_ne!(run.code, 0, "{run:?}");
    let host = mock
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    assert!(
        run.all_output().contains("which the URL does not name")
            && run.all_output().contains(&host),
        "{run:?}"
    );
    assert!(!run.all_output().contains(token), "{run:?}");

    let home = Sandbox::new().config(&format!(
        "from_env = false\n[channels.good]\nurl = \"hostile://ok?url={}\"\n",
        mock.url("/in")
    ));
    home.install(&support::hostile_wasm(), "hostile.wasm");
    let run = home.run(&["send", "--wait", "5", "t", "b"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(mock.requests_to("/in").len(), 1, "{run:?}");
}
