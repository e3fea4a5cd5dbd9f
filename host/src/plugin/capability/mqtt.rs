//! The `mqtt` capability: one MQTT publish per call with rumqttc (CONNECT,
//! PUBLISH, the acknowledgement its QoS asks for, DISCONNECT), under the
//! rules of `http.fetch`: the broker must be an allowed host, each call
//! spends one of the send's requests and ends by its deadline. Secrets are
//! filled into the CONNECT packet's username and password and nowhere else:
//! a topic or a payload that holds one carries it masked, since whoever
//! subscribes reads both. Written on the host's own types; each WIT version
//! converts to them (see `plugin::wit`). It stops at the broker's
//! acknowledgement: whether a subscriber got the message, MQTT cannot say.

use super::context::CallContext;
use rumqttc::{TlsConfiguration, Transport};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) enum Scheme {
    Mqtt,
    Mqtts,
}

pub(crate) enum Protocol {
    V311,
    V5,
}

/// The specification's names for the three levels (and the WIT's).
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qos {
    AtMostOnce,
    AtLeastOnce,
    ExactlyOnce,
}

pub(crate) struct Broker {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub protocol: Protocol,
    /// Empty: one is made up for the call.
    pub client_id: String,
    pub keep_session: bool,
    pub keepalive_secs: u16,
    pub username: Option<String>,
    pub password: Option<String>,
}

pub(crate) struct Publish {
    pub broker: Broker,
    pub topic: String,
    pub payload: Vec<u8>,
    pub qos: Qos,
    pub retain: bool,
}

#[derive(Debug)]
pub(crate) struct Reply {
    /// The acknowledged packet identifier; `None` at QoS 0.
    pub packet_id: Option<u16>,
}

pub(crate) enum Error {
    /// Not an allowed host, or over the per-send request budget.
    Denied(String),
    /// The broker refused for good (login, authorization, client id,
    /// protocol version, topic).
    Rejected(String),
    /// Network, TLS, a broker down or busy: worth retrying.
    Unavailable(String),
    Timeout,
}

/// Written as the WIT bindings write theirs (`Error::Denied("...")`), like
/// `mail`'s, so that the debug lines read alike.
impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Denied(e) => f.debug_tuple("Error::Denied").field(e).finish(),
            Error::Rejected(e) => f.debug_tuple("Error::Rejected").field(e).finish(),
            Error::Unavailable(e) => f.debug_tuple("Error::Unavailable").field(e).finish(),
            Error::Timeout => f.debug_tuple("Error::Timeout").finish(),
        }
    }
}

pub(crate) async fn publish(call: &mut CallContext, msg: Publish) -> Result<Reply, Error> {
    let shown = call.secrets.describe(&format!(
        "MQTT {}:{} topic {:?}",
        msg.broker.host, msg.broker.port, msg.topic
    ));
    let result = exchange(call, msg).await;
    match &result {
        Ok(r) => {
            tracing::debug!(channel = %call.channel, "{shown} -> published (packet {:?})", r.packet_id)
        }
        Err(e) => tracing::debug!(channel = %call.channel, "{shown} -> {e:?}"),
    }
    result
}

/// What one publish needs once the rules are checked: the connection's
/// options and the message as it goes out.
struct Outbound {
    host: String,
    port: u16,
    tls: bool,
    client_id: String,
    keep_session: bool,
    keepalive: Duration,
    credentials: Option<(String, String)>,
    topic: String,
    payload: Vec<u8>,
    qos: Qos,
    retain: bool,
}

async fn exchange(call: &mut CallContext, msg: Publish) -> Result<Reply, Error> {
    call.spend_request().map_err(Error::Denied)?;
    let broker = msg.broker;
    let host = call.secrets.fill(&broker.host);
    let from_secret = mcp_push_policy::Secrets::looks_secret(broker.host.as_bytes());
    if let Some(why) = call.host_denied(&host, broker.port, "MQTT broker ", from_secret) {
        return Err(Error::Denied(why));
    }
    let remaining = call.deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(Error::Timeout);
    }
    let client_id = if broker.client_id.trim().is_empty() {
        format!("mcp-push-{:016x}", rand::random::<u64>())
    } else {
        call.secrets.describe(&broker.client_id)
    };
    // The login is the one place a secret goes to the broker as itself.
    let credentials = broker.username.as_ref().map(|user| {
        (
            call.secrets.fill(user),
            call.secrets.fill(broker.password.as_deref().unwrap_or("")),
        )
    });
    let out = Outbound {
        host,
        port: broker.port,
        tls: matches!(broker.scheme, Scheme::Mqtts),
        keep_session: broker.keep_session && !broker.client_id.trim().is_empty(),
        client_id,
        keepalive: Duration::from_secs(broker.keepalive_secs.into()),
        credentials,
        topic: call.secrets.describe(&msg.topic),
        payload: masked_payload(call, msg.payload),
        qos: msg.qos,
        retain: msg.retain,
    };
    let shown = format!("{}:{}", out.host, out.port);
    let exchanged = async {
        match broker.protocol {
            Protocol::V311 => v311::publish(out).await,
            Protocol::V5 => v5::publish(out).await,
        }
    };
    let result = match tokio::time::timeout(remaining, exchanged).await {
        Ok(result) => result,
        Err(_) => Err(Error::Timeout),
    };
    // Whatever the broker or the network said goes to the component and the
    // logs: described, like every message for people.
    result.map_err(|e| match e {
        Error::Rejected(why) => Error::Rejected(call.secrets.describe(&format!("{shown}: {why}"))),
        Error::Unavailable(why) => {
            Error::Unavailable(call.secrets.describe(&format!("{shown}: {why}")))
        }
        other => other,
    })
}

/// The payload as it may leave: text with every secret masked (a
/// placeholder becomes `<secret:KEY>`), other bytes with secret values
/// swapped back for their placeholders.
fn masked_payload(call: &CallContext, payload: Vec<u8>) -> Vec<u8> {
    match String::from_utf8(payload) {
        Ok(text) => call.secrets.describe(&text).into_bytes(),
        Err(e) => call.secrets.hide_bytes(e.as_bytes()),
    }
}

/// The host's HTTPS settings (platform roots, read on first use) without
/// HTTP's ALPN protocols, which an MQTT listener does not speak.
fn tls_transport() -> Transport {
    let mut config = crate::plugin::tls::client_config();
    config.alpn_protocols.clear();
    Transport::tls_with_config(TlsConfiguration::Rustls(Arc::new(config)))
}

/// An I/O or TLS failure, as a person reads it.
fn unreachable(e: &dyn std::error::Error) -> Error {
    let mut why = format!("cannot reach the broker: {e}");
    let mut source = e.source();
    while let Some(s) = source {
        why.push_str(": ");
        why.push_str(&s.to_string());
        source = s.source();
    }
    Error::Unavailable(why)
}

/// MQTT 3.1.1 (rumqttc's `v4`, protocol level 4).
mod v311 {
    use super::{Error, Outbound, Qos, Reply};
    use rumqttc::{
        AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Outgoing, Packet, QoS,
        StateError,
    };

    pub(super) async fn publish(out: Outbound) -> Result<Reply, Error> {
        let mut opts = MqttOptions::new(out.client_id, out.host, out.port);
        // rumqttc caps a packet at 10 KiB by default; this one is as long
        // as its message (the broker has its own limit and says so).
        let packet = out.payload.len() + out.topic.len() + 64;
        opts.set_keep_alive(out.keepalive)
            .set_clean_session(!out.keep_session)
            .set_max_packet_size(16 * 1024, packet);
        if let Some((user, password)) = out.credentials {
            opts.set_credentials(user, password);
        }
        if out.tls {
            opts.set_transport(super::tls_transport());
        }
        let qos = match out.qos {
            Qos::AtMostOnce => QoS::AtMostOnce,
            Qos::AtLeastOnce => QoS::AtLeastOnce,
            Qos::ExactlyOnce => QoS::ExactlyOnce,
        };
        let (client, mut events) = AsyncClient::new(opts, 4);
        client
            .publish(out.topic, qos, out.retain, out.payload)
            .await
            .map_err(|e| Error::Rejected(format!("cannot publish: {e}")))?;
        let mut done: Option<Reply> = None;
        loop {
            let event = events.poll().await.map_err(refused)?;
            let acked = match event {
                Event::Outgoing(Outgoing::Publish(_)) if out.qos == Qos::AtMostOnce => {
                    Some(Reply { packet_id: None })
                }
                Event::Incoming(Packet::PubAck(a)) if out.qos == Qos::AtLeastOnce => Some(Reply {
                    packet_id: Some(a.pkid),
                }),
                Event::Incoming(Packet::PubComp(c)) if out.qos == Qos::ExactlyOnce => Some(Reply {
                    packet_id: Some(c.pkid),
                }),
                Event::Outgoing(Outgoing::Disconnect) => return done.ok_or_else(lost),
                _ => None,
            };
            if let Some(reply) = acked.filter(|_| done.is_none()) {
                done = Some(reply);
                client
                    .try_disconnect()
                    .map_err(|e| Error::Unavailable(format!("cannot disconnect: {e}")))?;
            }
        }
    }

    fn lost() -> Error {
        Error::Unavailable("disconnected before the broker acknowledged".into())
    }

    /// CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3): 1 and 2 are
    /// this client's or its settings' fault, 3 the broker's for now, 4 and
    /// 5 the login's.
    fn refused(e: ConnectionError) -> Error {
        match e {
            ConnectionError::ConnectionRefused(code) => match code {
                ConnectReturnCode::BadUserNamePassword => Error::Rejected(
                    "the broker refused the login: bad username or password (CONNACK 4)".into(),
                ),
                // Mosquitto says this of a wrong password too.
                ConnectReturnCode::NotAuthorized => Error::Rejected(
                    "the broker refused the connection: not authorized (CONNACK 5; check the \
                     username and password)"
                        .into(),
                ),
                ConnectReturnCode::RefusedProtocolVersion => Error::Rejected(
                    "the broker does not speak MQTT 3.1.1 (CONNACK 1): try version=v5".into(),
                ),
                ConnectReturnCode::BadClientId => {
                    Error::Rejected("the broker refused the client id (CONNACK 2)".into())
                }
                ConnectReturnCode::ServiceUnavailable => {
                    Error::Unavailable("the broker is unavailable (CONNACK 3)".into())
                }
                ConnectReturnCode::Success => Error::Unavailable("connection refused".into()),
            },
            ConnectionError::NetworkTimeout | ConnectionError::FlushTimeout => Error::Timeout,
            ConnectionError::Io(e) | ConnectionError::MqttState(StateError::Io(e)) => {
                super::unreachable(&e)
            }
            ConnectionError::Tls(e) => super::unreachable(&e),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

/// MQTT 5.0 (rumqttc's `v5`): the broker gives a reason code with each
/// acknowledgement.
mod v5 {
    use super::{Error, Outbound, Qos, Reply};
    use rumqttc::Outgoing;
    use rumqttc::v5::mqttbytes::QoS;
    use rumqttc::v5::mqttbytes::v5::{
        ConnectReturnCode, Packet, PubAckReason, PubCompReason, PubRecReason,
    };
    use rumqttc::v5::{AsyncClient, ConnectionError, Event, MqttOptions, StateError};

    pub(super) async fn publish(out: Outbound) -> Result<Reply, Error> {
        let mut opts = MqttOptions::new(out.client_id, out.host, out.port);
        opts.set_keep_alive(out.keepalive)
            .set_clean_start(!out.keep_session);
        if let Some((user, password)) = out.credentials {
            opts.set_credentials(user, password);
        }
        if out.tls {
            opts.set_transport(super::tls_transport());
        }
        let qos = match out.qos {
            Qos::AtMostOnce => QoS::AtMostOnce,
            Qos::AtLeastOnce => QoS::AtLeastOnce,
            Qos::ExactlyOnce => QoS::ExactlyOnce,
        };
        let (client, mut events) = AsyncClient::new(opts, 4);
        client
            .publish(out.topic, qos, out.retain, out.payload)
            .await
            .map_err(|e| Error::Rejected(format!("cannot publish: {e}")))?;
        let mut done: Option<Reply> = None;
        loop {
            let event = events.poll().await.map_err(refused)?;
            let acked = match event {
                Event::Outgoing(Outgoing::Publish(_)) if out.qos == Qos::AtMostOnce => {
                    Some(Reply { packet_id: None })
                }
                Event::Incoming(Packet::PubAck(a)) if out.qos == Qos::AtLeastOnce => {
                    match a.reason {
                        PubAckReason::Success | PubAckReason::NoMatchingSubscribers => {
                            Some(Reply {
                                packet_id: Some(a.pkid),
                            })
                        }
                        other => return Err(not_taken(&format!("{other:?}"))),
                    }
                }
                Event::Incoming(Packet::PubRec(r)) => match r.reason {
                    PubRecReason::Success | PubRecReason::NoMatchingSubscribers => None,
                    other => return Err(not_taken(&format!("{other:?}"))),
                },
                Event::Incoming(Packet::PubComp(c)) if out.qos == Qos::ExactlyOnce => {
                    match c.reason {
                        PubCompReason::Success => Some(Reply {
                            packet_id: Some(c.pkid),
                        }),
                        other => return Err(not_taken(&format!("{other:?}"))),
                    }
                }
                Event::Outgoing(Outgoing::Disconnect) => {
                    return done.ok_or_else(|| {
                        Error::Unavailable("disconnected before the broker acknowledged".into())
                    });
                }
                _ => None,
            };
            if let Some(reply) = acked.filter(|_| done.is_none()) {
                done = Some(reply);
                client
                    .try_disconnect()
                    .map_err(|e| Error::Unavailable(format!("cannot disconnect: {e}")))?;
            }
        }
    }

    /// A PUBACK, PUBREC or PUBCOMP with a failure reason (MQTT 5.0,
    /// sections 3.4.2.1, 3.5.2.1, 3.7.2.1): the broker's limits are for
    /// later, the rest is for good.
    fn not_taken(reason: &str) -> Error {
        let why = format!("the broker did not take the message: {reason}");
        match reason {
            "QuotaExceeded" | "UnspecifiedError" | "ImplementationSpecificError" => {
                Error::Unavailable(why)
            }
            _ => Error::Rejected(why),
        }
    }

    /// CONNACK reason codes of MQTT 5.0 (section 3.2.2.2): the broker being
    /// down, busy, moved or over a rate is for later; the login, the client
    /// id, the protocol and what the message asks for are for good.
    fn refused(e: ConnectionError) -> Error {
        match e {
            ConnectionError::ConnectionRefused(code) => {
                let why = match code {
                    ConnectReturnCode::BadUserNamePassword => {
                        "the broker refused the login: bad username or password (CONNACK 0x86)"
                            .to_string()
                    }
                    ConnectReturnCode::NotAuthorized => {
                        "the broker refused the connection: not authorized (CONNACK 0x87)"
                            .to_string()
                    }
                    other => format!("the broker refused the connection: {other:?}"),
                };
                match code {
                    ConnectReturnCode::ServiceUnavailable
                    | ConnectReturnCode::ServerUnavailable
                    | ConnectReturnCode::ServerBusy
                    | ConnectReturnCode::UnspecifiedError
                    | ConnectReturnCode::ImplementationSpecificError
                    | ConnectReturnCode::QuotaExceeded
                    | ConnectReturnCode::UseAnotherServer
                    | ConnectReturnCode::ServerMoved
                    | ConnectReturnCode::ConnectionRateExceeded
                    | ConnectReturnCode::Success => Error::Unavailable(why),
                    _ => Error::Rejected(why),
                }
            }
            ConnectionError::Timeout(_) => Error::Timeout,
            ConnectionError::Io(e) | ConnectionError::MqttState(StateError::Io(e)) => {
                super::unreachable(&e)
            }
            ConnectionError::Tls(e) => super::unreachable(&e),
            other => Error::Unavailable(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::allow::{AllowList, HostPattern};
    use crate::plugin::secrets::Secrets;
    use crate::plugin::types::Limits;

    fn io(allowed: &str) -> CallContext {
        let pattern: HostPattern = allowed.parse().unwrap();
        CallContext {
            channel: "test".into(),
            allow: Arc::new(AllowList::resolve(&[pattern], |_| None)),
            secrets: Secrets::new(),
            limits: Limits::default(),
            deadline: Instant::now() + Duration::from_secs(5),
            requests: 0,
            reserved: None,
        }
    }

    fn to(host: &str, port: u16) -> Publish {
        Publish {
            broker: Broker {
                scheme: Scheme::Mqtt,
                host: host.into(),
                port,
                protocol: Protocol::V311,
                client_id: String::new(),
                keep_session: false,
                keepalive_secs: 30,
                username: None,
                password: None,
            },
            topic: "t".into(),
            payload: b"p".to_vec(),
            qos: Qos::AtLeastOnce,
            retain: false,
        }
    }

    #[test]
    fn the_broker_must_be_allowed_like_an_http_host() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut io = io("broker.example.org:1883");
        let err = rt
            .block_on(publish(&mut io, to("broker.elsewhere.test", 1883)))
            .unwrap_err();
        assert!(
            matches!(&err, Error::Denied(m) if m.contains("broker.elsewhere.test:1883 is not an allowed host")),
            "{err:?}"
        );
        // Another port of the allowed host is another host.
        let err = rt
            .block_on(publish(&mut io, to("broker.example.org", 1884)))
            .unwrap_err();
        assert!(matches!(&err, Error::Denied(_)), "{err:?}");
        assert_eq!(io.requests, 2, "a denied publish spends its request");
    }
}
