//! Test a channel natively: `cargo test`, no wasm and no mcp-push needed.
//!
//! A [`Harness`] runs the channel's [`Channel::send`] (or `parse_url`) with the
//! settings the test gives, answers its requests with canned [`Reply`]s, and
//! keeps every request it made. It plays the host's part as the host does:
//!
//! - a secret setting reaches the channel as a placeholder (see
//!   [`Harness::placeholder`]), never as its value;
//! - [`Harness::requests`] are the requests as the channel built them
//!   (placeholders in), [`Harness::on_the_wire`] as the host would send them
//!   (values in, Basic auth encoded, header lines parsed);
//! - `crypto::hmac_sha256` puts the values in before hashing, so a signature
//!   can be checked against one computed from the real secret
//!   ([`hmac_sha256_base64`]);
//! - a request to a host the channel did not declare in `allowed-hosts` is
//!   denied, and at most [`MAX_REQUESTS`] requests are allowed per send;
//! - a secret setting's declared shapes ([`crate::Channel::shapes`]) are
//!   applied as the host applies them (`KEY.form`, `KEY.GROUP`), and the
//!   legacy `secrets::split`/`starts_with` answer only what they declare.
//!
//! ```ignore
//! use mcp_push_sdk::testing::{Harness, Reply, message};
//!
//! let h = Harness::new::<MyChannel>()
//!     .setting("token", "tok-123")
//!     .reply(Reply::json(200, json!({"id": "m-1"})));
//! let receipt = h.send(&message("Deploy", "v2 is live")).unwrap();
//! let req = &h.requests()[0];
//! assert_eq!(req.header("authorization"), Some(format!("Bearer {}", h.placeholder("token")).as_str()));
//! assert_eq!(h.on_the_wire()[0].header("authorization"), Some("Bearer tok-123"));
//! ```

use crate::bindings::mcp_push::channel::desktop as wit_desktop;
use crate::bindings::mcp_push::channel::http as wit;
use crate::bindings::mcp_push::channel::mail as wit_mail;
use crate::bindings::mcp_push::channel::mqtt as wit_mqtt;
use crate::{Channel, ChannelInfo, Format, Message, Priority, Receipt, SendError, Settings};
use mcp_push_policy::{AllowList, HostPattern, Secrets, Shapes};
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

/// The host's per-send request budget (HTTP and mail together), unless the
/// send reserves more ([`crate::delivery::reserve_requests`]).
pub const MAX_REQUESTS: usize = mcp_push_policy::budget::DEFAULT_REQUESTS as usize;

use mcp_push_policy::PREFIX;

mod invariants;
pub use invariants::{assert_info, check_info, check_url};

/// The SDK's shape as the policy crate checks and applies it.
fn policy_shape(s: crate::secrets::Shape) -> mcp_push_policy::Shape {
    mcp_push_policy::Shape {
        key: s.key,
        separator: s.separator,
        forms: s
            .forms
            .into_iter()
            .map(|f| mcp_push_policy::Form {
                name: f.name,
                pattern: f.pattern,
                public: f.public,
            })
            .collect(),
    }
}

/// Settings pairs as `parse_url` returns them, from literals.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A message with the given title and body, plain text, normal priority.
pub fn message(title: &str, body: &str) -> Message {
    Message {
        title: title.into(),
        body: body.into(),
        format: Format::Text,
        priority: Priority::Normal,
        tags: Vec::new(),
        link: None,
        event: None,
        previous: None,
    }
}

/// base64(HMAC-SHA256(key, msg)) computed natively from real values, to
/// check a signature the channel made with a secret.
pub fn hmac_sha256_base64(key: &str, msg: &[u8]) -> String {
    crate::encode::base64(&hmac(key.as_bytes(), msg))
}

/// Hex of HMAC-SHA256(key, msg), computed natively from real values.
pub fn hmac_sha256_hex(key: &str, msg: &[u8]) -> String {
    hmac(key.as_bytes(), msg)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hmac(key: &[u8], msg: &[u8]) -> Vec<u8> {
    crate::host::native_hmac(crate::crypto::Hash::Sha256, key, msg)
}

/// A canned reply to one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// The request times out.
    Timeout,
    /// The connection fails (DNS, refused, TLS).
    Transport(String),
}

impl Reply {
    pub fn json(status: u16, value: serde_json::Value) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply::Http {
            status,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// Add a header (`Retry-After`, say) to an HTTP reply.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Http { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// One request the channel made.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// `(user, password)` of [`crate::Request::basic_auth`] (in
    /// [`Harness::requests`]; on the wire it is the `Authorization` header).
    pub basic_auth: Option<(String, String)>,
    /// The block of [`crate::Request::header_lines`] (on the wire: parsed
    /// into headers).
    pub header_lines: Option<String>,
}

impl Sent {
    /// The first header of this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::find_header(&self.headers, name)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics (failing the test) when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("the request body is not JSON ({e}): {}", self.text()))
    }

    /// The URL's host, lowercased.
    pub fn host(&self) -> String {
        host_of(&self.url).unwrap_or_default()
    }

    /// A field of a form body (`application/x-www-form-urlencoded`), decoded.
    pub fn form(&self, name: &str) -> Option<String> {
        field(&self.text(), '&', name)
    }

    /// A parameter of the URL's query, decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        field(self.url.split_once('?')?.1, '&', name)
    }
}

/// An e-mail the channel submitted through the `mail` import.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub server: crate::mail::Server,
    pub email: crate::mail::Email,
}

#[derive(Default)]
struct State {
    /// The host's own rules (placeholders, masking, shapes, allow lists,
    /// what a MAC may be keyed with) come from `mcp-push-policy`, the crate
    /// the host uses: the harness does not copy them.
    secrets: Secrets,
    shapes: Shapes,
    allow: AllowList,
    replies: VecDeque<Reply>,
    requests: Vec<Sent>,
    on_the_wire: Vec<Sent>,
    denied: Vec<String>,
    mails: Vec<SentMail>,
    desktop: Vec<crate::desktop::Notification>,
    published: Vec<crate::mqtt::PublishRequest>,
    mqtt_refusals: std::collections::VecDeque<wit_mqtt::Error>,
    logs: Vec<String>,
    console: Vec<String>,
    spent: usize,
    /// This send's budget, when it reserved one.
    reserved: Option<u32>,
    /// The delivery the next send is an attempt of: a failed send leaves it
    /// for the next one (a retry), a delivered one starts a new one.
    delivery: u32,
    parts_sent: u32,
    /// What the channel keeps between sends, with the time to live asked.
    kept: std::collections::HashMap<String, (String, u32)>,
}

impl State {
    fn fill(&self, text: &str) -> String {
        self.secrets.fill(text)
    }

    fn spend(&mut self) -> Result<(), String> {
        self.spent += 1;
        let budget = self.reserved.map_or(MAX_REQUESTS, |r| r as usize);
        if self.spent > budget {
            return Err(format!("over the budget of {budget} requests per send"));
        }
        Ok(())
    }

    fn deny(&mut self, why: String) -> String {
        let why = self.secrets.describe(&why);
        self.denied.push(why.clone());
        why
    }

    fn fetch(&mut self, req: &wit::Request) -> Result<wit::Response, wit::Error> {
        let sent = Sent {
            method: req.method.clone(),
            url: req.url.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            basic_auth: req
                .basic_auth
                .as_ref()
                .map(|b| (b.user.clone(), b.password.clone())),
            header_lines: req.header_lines.clone(),
        };
        self.requests.push(sent);
        let (host, port) = match url::Url::parse(&self.secrets.fill_url(&req.url)) {
            Ok(u) => (
                u.host_str().unwrap_or_default().to_string(),
                u.port_or_known_default().unwrap_or(0),
            ),
            Err(e) => {
                let why = self.deny(format!("invalid URL {}: {e}", req.url));
                return Err(wit::Error::Transport(why));
            }
        };
        if !self.allow.allows(&host, port) {
            let why = self.deny(format!(
                "{host}:{port} is not one of the channel's allowed hosts ({})",
                self.allow.describe().join(", ")
            ));
            return Err(wit::Error::Denied(why));
        }
        if let Err(why) = self.spend() {
            return Err(wit::Error::Denied(self.deny(why)));
        }
        let wire = self.wire(req);
        self.on_the_wire.push(wire);
        let reply = self.replies.pop_front().unwrap_or_else(|| {
            Reply::Transport(format!(
                "the test harness has no reply for {} {}: queue one with Harness::reply",
                req.method, req.url
            ))
        });
        match reply {
            Reply::Http {
                status,
                headers,
                body,
            } => Ok(wit::Response {
                status,
                headers,
                // A reply that echoes a secret reaches the channel with the
                // placeholder, as from the host.
                body: self.secrets.hide_bytes(&body),
                truncated: false,
            }),
            Reply::Timeout => Err(wit::Error::Timeout),
            Reply::Transport(why) => Err(wit::Error::Transport(why)),
        }
    }

    /// The request as the host puts it on the wire.
    fn wire(&self, req: &wit::Request) -> Sent {
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), self.fill(v)))
            .collect();
        if let Some(b) = &req.basic_auth {
            let creds = format!("{}:{}", self.fill(&b.user), self.fill(&b.password));
            headers.retain(|(k, _)| !k.eq_ignore_ascii_case("authorization"));
            headers.push((
                "Authorization".into(),
                format!("Basic {}", crate::encode::base64(creds.as_bytes())),
            ));
        }
        if let Some(lines) = &req.header_lines {
            for line in self.fill(lines).lines() {
                if let Some((k, v)) = line.split_once(':') {
                    let k = k.trim().to_string();
                    headers.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
                    headers.push((k, v.trim().to_string()));
                }
            }
        }
        Sent {
            method: req.method.clone(),
            url: self.secrets.fill_url(&req.url),
            headers,
            body: self.secrets.fill_bytes(&req.body),
            basic_auth: None,
            header_lines: None,
        }
    }
}

/// The value of `name=...` among `sep`-separated pairs, form-decoded.
fn field(pairs: &str, sep: char, name: &str) -> Option<String> {
    pairs.split(sep).find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (crate::encode::url_decode(k, true) == name).then(|| crate::encode::url_decode(v, true))
    })
}

/// The host of a URL (`https://user@host:8080/x` → `host`), lowercased.
fn host_of(value: &str) -> Option<String> {
    mcp_push_policy::allow::host_of(value)
}

/// While a harness runs the channel, the SDK's host calls go to it.
struct Installed;

impl Installed {
    fn new(state: &Rc<RefCell<State>>) -> Installed {
        crate::host::stand_in(Some(state.clone()));
        Installed
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        crate::host::stand_in(None);
    }
}

/// The harness plays the host as the host would answer.
impl crate::host::StandIn for State {
    fn fetch(&mut self, req: &wit::Request) -> Result<wit::Response, wit::Error> {
        State::fetch(self, req)
    }

    /// As the host: the MAC only when the key is a secret by itself (see
    /// `mcp_push_policy::sign`); otherwise an empty list and a denial noted.
    fn hmac(&mut self, hash: crate::crypto::Hash, key: &[u8], msg: &[u8]) -> Vec<u8> {
        match mcp_push_policy::sign::mac_input(&self.secrets, key, msg) {
            Ok((key, msg)) => crate::host::native_hmac(hash, &key, &msg),
            Err(why) => {
                self.deny(format!("hmac ({hash:?}) refused: {why}"));
                Vec::new()
            }
        }
    }

    /// As the host answers components built before shapes.
    fn starts_with(&mut self, text: &str, prefix: &str) -> bool {
        match self.secrets.whole(text).map(str::to_string) {
            None if !Secrets::looks_secret(text.as_bytes()) => text.starts_with(prefix),
            Some(key) if self.shapes.declares_prefix(&key, prefix) => {
                self.fill(text).starts_with(prefix)
            }
            _ => false,
        }
    }

    /// As the host answers components built before shapes.
    fn split(&mut self, text: &str, separator: &str, reveal: &[u32]) -> Vec<String> {
        if separator.is_empty() {
            return vec![text.to_string()];
        }
        match self.secrets.whole(text).map(str::to_string) {
            None if !Secrets::looks_secret(text.as_bytes()) => {
                text.split(separator).map(String::from).collect()
            }
            Some(key) if self.shapes.declares_separator(&key, separator) => {
                let _ = reveal;
                let value = self.fill(text);
                value
                    .split(separator)
                    .enumerate()
                    .map(|(i, part)| self.secrets.add(&format!("{key}[{i}]"), part))
                    .collect()
            }
            _ => vec![text.to_string()],
        }
    }

    fn send_mail(
        &mut self,
        server: &wit_mail::Server,
        email: &wit_mail::Email,
    ) -> Result<(), wit_mail::Error> {
        let host = self.fill(&server.host).to_ascii_lowercase();
        if !self.allow.allows(&host, server.port) {
            let why = format!(
                "{host}:{} is not one of the channel's allowed hosts ({})",
                server.port,
                self.allow.describe().join(", ")
            );
            return Err(wit_mail::Error::Denied(self.deny(why)));
        }
        if let Err(why) = self.spend() {
            return Err(wit_mail::Error::Denied(self.deny(why)));
        }
        self.mails.push(SentMail {
            server: server.clone(),
            email: email.clone(),
        });
        Ok(())
    }

    fn desktop_notify(&mut self, n: &wit_desktop::Notification) -> Result<u32, wit_desktop::Error> {
        let service = crate::desktop::SERVICE.to_ascii_lowercase();
        if !self.allow.allows(&service, 443) {
            let why = format!(
                "{} is not one of the channel's allowed hosts ({})",
                crate::desktop::SERVICE,
                self.allow.describe().join(", ")
            );
            return Err(wit_desktop::Error::Denied(self.deny(why)));
        }
        if let Err(why) = self.spend() {
            return Err(wit_desktop::Error::Denied(self.deny(why)));
        }
        self.desktop.push(n.clone());
        Ok(self.desktop.len() as u32)
    }

    /// As the host: only a lone secret's placeholder as the key and no
    /// secret in the message (see `mcp_push_policy::keys`); a refusal noted.
    fn sign(
        &mut self,
        alg: crate::keys::Algorithm,
        key: &str,
        msg: &[u8],
    ) -> Result<Vec<u8>, String> {
        match mcp_push_policy::keys::sign_input(&self.secrets, key, msg) {
            Ok(value) => crate::host::native_sign(alg, &value, msg)
                .map_err(|_| mcp_push_policy::keys::UNUSABLE.to_string()),
            Err(why) => {
                self.deny(format!("sign ({alg:?}) refused: {why}"));
                Err(why)
            }
        }
    }

    /// As the host does: the broker must be allowed, the call spends a
    /// request, the login is filled in and the topic and payload are masked.
    fn mqtt_publish(
        &mut self,
        msg: &wit_mqtt::PublishRequest,
    ) -> Result<wit_mqtt::PublishReply, wit_mqtt::Error> {
        let host = self.fill(&msg.broker.host).to_ascii_lowercase();
        if !self.allow.allows(&host, msg.broker.port) {
            let why = format!(
                "MQTT broker {host}:{} is not one of the channel's allowed hosts ({})",
                msg.broker.port,
                self.allow.describe().join(", ")
            );
            return Err(wit_mqtt::Error::Denied(self.deny(why)));
        }
        if let Err(why) = self.spend() {
            return Err(wit_mqtt::Error::Denied(self.deny(why)));
        }
        if let Some(refusal) = self.mqtt_refusals.pop_front() {
            return Err(refusal);
        }
        let mut sent = msg.clone();
        sent.broker.username = msg.broker.username.as_deref().map(|u| self.fill(u));
        sent.broker.password = msg.broker.password.as_deref().map(|p| self.fill(p));
        sent.topic = self.secrets.describe(&msg.topic);
        if let Ok(text) = std::str::from_utf8(&msg.payload) {
            sent.payload = self.secrets.describe(text).into_bytes();
        }
        let packet_id =
            (msg.qos != wit_mqtt::Qos::AtMostOnce).then_some(self.published.len() as u16 + 1);
        self.published.push(sent);
        Ok(wit_mqtt::PublishReply { packet_id })
    }

    fn delivery_key(&mut self) -> String {
        format!("harness-delivery-{}", self.delivery)
    }

    fn parts_sent(&mut self) -> u32 {
        self.parts_sent
    }

    fn set_parts_sent(&mut self, count: u32) {
        self.parts_sent = count;
    }

    fn reserve_requests(&mut self, requests: u32) -> u32 {
        let granted = mcp_push_policy::budget::reserved(requests, MAX_REQUESTS as u32);
        self.reserved = Some(granted);
        granted
    }

    fn cache_get(&mut self, key: &str) -> Option<String> {
        self.kept
            .get(key)
            .filter(|(_, ttl)| *ttl > 0)
            .map(|(v, _)| v.clone())
    }

    fn cache_set(&mut self, key: &str, value: &str, ttl_secs: u32) {
        self.kept
            .insert(key.to_string(), (value.to_string(), ttl_secs));
    }

    fn log(&mut self, line: String) {
        self.logs.push(line);
    }

    fn print(&mut self, text: &str) {
        self.console.push(text.to_string());
    }
}

/// A setting a test gave: its key, the settings the channel sees for it
/// (one, or more when a shape derives parts), and the real value.
type Given = (String, Vec<(String, String)>, String);

/// A channel run natively against canned replies. Build one per test.
pub struct Harness {
    info: ChannelInfo,
    send: fn(&Settings, &Message) -> Result<Receipt, SendError>,
    parse_url: fn(&str) -> Result<crate::Pairs, String>,
    settings: Vec<Given>,
    state: Rc<RefCell<State>>,
    /// A replying channel's `ask` and `poll_replies` ([`Harness::replying`]).
    replies: Option<crate::replies::NativeReplies>,
}

impl Harness {
    /// A harness for channel `C`, with no settings and no replies yet.
    /// Panics when the channel's shapes are refused, as the host would refuse
    /// to load it.
    pub fn new<C: Channel>() -> Harness {
        let info = C::info();
        let shapes = Shapes::new(C::shapes().into_iter().map(policy_shape).collect(), |key| {
            info.settings.iter().any(|s| s.key == key && s.secret)
        })
        .unwrap_or_else(|e| panic!("the host would refuse this channel: {e}"));
        let state = State {
            shapes,
            ..State::default()
        };
        Harness {
            info,
            send: C::send,
            parse_url: C::parse_url,
            settings: Vec::new(),
            state: Rc::new(RefCell::new(state)),
            replies: None,
        }
    }

    /// A harness for a channel that can be asked questions
    /// ([`crate::replies::Replies`]): [`Harness::new`] plus
    /// [`Harness::ask`] and [`Harness::poll_replies`].
    pub fn replying<C: crate::replies::Replies>() -> Harness {
        let mut h = Harness::new::<C>();
        h.replies = Some(crate::replies::NativeReplies {
            ask: C::ask,
            poll_replies: C::poll_replies,
        });
        h
    }

    /// The channel's `info()`.
    pub fn info(&self) -> &ChannelInfo {
        &self.info
    }

    /// Set a setting the channel declares. A secret one reaches the channel
    /// as a placeholder. Panics on a key the channel does not declare (the
    /// host would refuse it).
    pub fn setting(mut self, key: &str, value: &str) -> Harness {
        let Some(spec) = self.info.settings.iter().find(|s| s.key == key) else {
            let known: Vec<&str> = self.info.settings.iter().map(|s| s.key.as_str()).collect();
            panic!(
                "the channel declares no setting `{key}` (its settings: {})",
                known.join(", ")
            );
        };
        self.settings.retain(|(k, _, _)| k != key);
        let seen = if spec.secret {
            let mut state = self.state.borrow_mut();
            let state = &mut *state;
            state.shapes.apply(key, value, &mut state.secrets)
        } else {
            vec![(key.to_string(), value.to_string())]
        };
        self.settings.push((key.into(), seen, value.into()));
        self
    }

    /// Queue the reply to the next request.
    pub fn reply(self, reply: Reply) -> Harness {
        self.state.borrow_mut().replies.push_back(reply);
        self
    }

    /// The placeholder the channel sees for secret setting `key`.
    pub fn placeholder(&self, key: &str) -> String {
        self.settings
            .iter()
            .find(|(k, _, _)| k == key)
            .and_then(|(_, seen, _)| seen.first())
            .filter(|(_, v)| v.starts_with(PREFIX))
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no secret setting `{key}` was set"))
    }

    /// Run the channel's `send` with the settings given (defaults filled in,
    /// as the host does). A required setting left out is a `config` error,
    /// as the host would never configure such a channel.
    pub fn send(&self, msg: &Message) -> Result<Receipt, SendError> {
        let send = self.send;
        self.call(|settings| send(settings, msg))
    }

    /// Run the channel's `ask` as [`Harness::send`] runs `send`.
    pub fn ask(&self, q: &crate::replies::Question) -> Result<crate::replies::Asked, SendError> {
        let ask = self.replying_fns().ask;
        self.call(|settings| ask(settings, q))
    }

    /// Run the channel's `poll_replies` as [`Harness::send`] runs `send`.
    pub fn poll_replies(&self, cursor: Option<&str>) -> Result<crate::replies::Polled, SendError> {
        let poll = self.replying_fns().poll_replies;
        self.call(|settings| poll(settings, cursor))
    }

    fn replying_fns(&self) -> &crate::replies::NativeReplies {
        self.replies
            .as_ref()
            .expect("build the harness with Harness::replying to ask or poll")
    }

    /// One call of the channel with the settings given, as the host makes
    /// it: a fresh request budget, the allow list of these settings.
    fn call<T>(&self, f: impl FnOnce(&Settings) -> Result<T, SendError>) -> Result<T, SendError> {
        let mut pairs = Vec::new();
        let mut values = Vec::new();
        for spec in &self.info.settings {
            let given = self.settings.iter().find(|(k, _, _)| *k == spec.key);
            match (given, &spec.default) {
                (Some((k, seen, real)), _) => {
                    pairs.extend(seen.iter().cloned());
                    values.push((k.clone(), real.clone()));
                    // Public parts of a secret's form are settings too (an
                    // allowed host may name one).
                    values.extend(
                        seen.iter()
                            .skip(1)
                            .filter(|(_, v)| !v.starts_with(PREFIX))
                            .cloned(),
                    );
                }
                (None, Some(default)) => {
                    pairs.push((spec.key.clone(), default.clone()));
                    values.push((spec.key.clone(), default.clone()));
                }
                (None, None) if spec.required => {
                    return Err(SendError::Config(format!(
                        "required setting `{}` is not set in the test (the host would not \
                         configure this channel without it)",
                        spec.key
                    )));
                }
                (None, None) => {}
            }
        }
        {
            let mut state = self.state.borrow_mut();
            state.spent = 0;
            state.reserved = None;
            let patterns: Vec<HostPattern> = self
                .info
                .allowed_hosts
                .iter()
                .map(|h| {
                    h.parse()
                        .unwrap_or_else(|e| panic!("the host would refuse this channel: {e}"))
                })
                .collect();
            state.allow = AllowList::resolve(&patterns, |key| {
                values
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.as_str())
            });
        }
        let _installed = Installed::new(&self.state);
        let result = f(&Settings::from(pairs));
        if result.is_ok() {
            // Delivered: the next send is another delivery.
            let mut state = self.state.borrow_mut();
            state.delivery += 1;
            state.parts_sent = 0;
        }
        result
    }

    /// Make the next send a retry of a delivery whose earlier attempts
    /// delivered `parts` parts.
    pub fn parts_already_sent(self, parts: u32) -> Harness {
        self.state.borrow_mut().parts_sent = parts;
        self
    }

    /// Parts of the current delivery sent so far: after a failed send, what
    /// the host would keep for the retry.
    pub fn parts_sent(&self) -> u32 {
        self.state.borrow().parts_sent
    }

    /// The value the channel keeps under `key` and the time to live it
    /// asked for, if it kept one.
    pub fn kept(&self, key: &str) -> Option<(String, u32)> {
        self.state.borrow().kept.get(key).cloned()
    }

    /// Run the channel's `parse_url`.
    pub fn parse_url(&self, url: &str) -> Result<crate::Pairs, String> {
        let _installed = Installed::new(&self.state);
        (self.parse_url)(url)
    }

    /// The requests the channel made, as it built them (secrets as
    /// placeholders), denied ones included.
    pub fn requests(&self) -> Vec<Sent> {
        self.state.borrow().requests.clone()
    }

    /// The requests the host would have sent: secrets' values put in, Basic
    /// auth encoded, header lines parsed. Denied requests are not here.
    pub fn on_the_wire(&self) -> Vec<Sent> {
        self.state.borrow().on_the_wire.clone()
    }

    /// Why requests were denied (a host not allowed, over the budget).
    pub fn denied(&self) -> Vec<String> {
        self.state.borrow().denied.clone()
    }

    /// E-mails submitted through the `mail` import.
    pub fn mails(&self) -> Vec<SentMail> {
        self.state.borrow().mails.clone()
    }

    /// Notifications shown through the `desktop` import (the first has id 1).
    pub fn desktop_notifications(&self) -> Vec<crate::desktop::Notification> {
        self.state.borrow().desktop.clone()
    }

    /// Messages published through the `mqtt` import, as the broker got
    /// them: the login filled in, secrets in the topic and payload masked.
    pub fn published(&self) -> Vec<crate::mqtt::PublishRequest> {
        self.state.borrow().published.clone()
    }

    /// The next publish (after the allow and budget checks) fails with
    /// `error`, as a broker's refusal or an outage would.
    pub fn refuse_mqtt(&self, error: crate::bindings::mcp_push::channel::mqtt::Error) {
        self.state.borrow_mut().mqtt_refusals.push_back(error);
    }

    /// Lines the channel logged (`[Level] message`).
    pub fn logs(&self) -> Vec<String> {
        self.state.borrow().logs.clone()
    }

    /// What the channel printed with the `console` import.
    pub fn console(&self) -> Vec<String> {
        self.state.borrow().console.clone()
    }

    /// The value behind the placeholders in `text` (to read what a channel
    /// built the way the host would send it).
    pub fn reveal(&self, text: &str) -> String {
        self.state.borrow().fill(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    struct Signed;

    impl Channel for Signed {
        fn info() -> ChannelInfo {
            ChannelInfo::new("signed", "Signed", "0.0.1", "test")
                .setting(Setting::new("token", "t").required().secret())
                .setting(Setting::new("key", "k").secret())
                .setting(Setting::api_url(
                    "SIGNED_API_URL",
                    "https://api.example.com",
                ))
                .allow_host("api.example.com")
                .allow_host("setting:api_url")
        }

        fn send(settings: &Settings, msg: &Message) -> Result<Receipt, SendError> {
            let base = settings.base_url("api_url", "https://api.example.com")?;
            let body = json!({ "text": msg.body }).to_string();
            let mut req = Request::post(format!("{base}/send"))
                .bearer(settings.require("token")?)
                .body("application/json", body.clone());
            if let Some(key) = settings.get("key") {
                req = req.header("X-Sig", &crate::crypto::hmac_sha256_base64(key, &body));
            }
            req.send()?.error_for_status()?;
            if msg.title == "twice" {
                Request::get("https://elsewhere.example.org/").send()?;
            }
            Ok(Receipt::id("1"))
        }
    }

    #[test]
    fn placeholders_signatures_and_allowed_hosts() {
        let h = Harness::new::<Signed>()
            .setting("token", "tok-secret")
            .setting("key", "sign-key")
            .reply(Reply::json(200, json!({"echo": "tok-secret"})));
        assert_eq!(
            h.send(&message("t", "hi")).unwrap().remote_id.as_deref(),
            Some("1")
        );
        let req = &h.requests()[0];
        let token = h.placeholder("token");
        assert!(
            token.starts_with(PREFIX)
                && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        );
        assert_eq!(
            req.header("authorization"),
            Some(format!("Bearer {token}").as_str())
        );
        let wire = &h.on_the_wire()[0];
        assert_eq!(wire.header("authorization"), Some("Bearer tok-secret"));
        assert_eq!(
            wire.header("x-sig").unwrap(),
            hmac_sha256_base64("sign-key", &wire.body)
        );

        let h = Harness::new::<Signed>()
            .setting("token", "x")
            .reply(Reply::text(200, "ok"));
        let err = h.send(&message("twice", "b")).unwrap_err();
        assert!(
            matches!(err, SendError::Config(ref m) if m.contains("elsewhere.example.org")),
            "{err:?}"
        );
        assert_eq!(h.requests().len(), 2);
        assert_eq!(h.on_the_wire().len(), 1);

        let h = Harness::new::<Signed>()
            .setting("token", "x")
            .setting("api_url", "http://127.0.0.1:9")
            .reply(Reply::text(503, "down"));
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Unavailable(_))
        ));
        assert_eq!(h.requests()[0].url, "http://127.0.0.1:9/send");

        let h = Harness::new::<Signed>();
        assert!(matches!(
            h.send(&message("t", "b")),
            Err(SendError::Config(_))
        ));
    }

    #[test]
    fn no_reply_queued_says_so() {
        let h = Harness::new::<Signed>().setting("token", "x");
        match h.send(&message("t", "b")) {
            Err(SendError::Unavailable(m)) => assert!(m.contains("Harness::reply"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            host_of("https://u:p@Api.Example.com:8443/x?y").as_deref(),
            Some("api.example.com")
        );
        assert_eq!(host_of("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(host_of("example.org/path").as_deref(), Some("example.org"));
    }
}
