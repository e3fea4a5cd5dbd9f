//! MQTT publishing through the host (the WIT `mqtt` import): one call is one
//! connection to the broker, one PUBLISH and the acknowledgement its QoS asks
//! for. The broker must be one of the channel's allowed hosts, and each call
//! counts against the send's request budget, like an HTTP request. Secret
//! settings go to the broker only as the login (`username`, `password`); in
//! the topic or the payload the host masks them.

use crate::SendError;
use crate::bindings::mcp_push::channel::mqtt::Error;
pub use crate::bindings::mcp_push::channel::mqtt::{
    Broker, Protocol, PublishReply, PublishRequest, Qos, Scheme,
};

/// The port a scheme's broker listens on when none is given: 1883, and 8883
/// for TLS (IANA's `mqtt` and `secure-mqtt`).
pub fn default_port(scheme: Scheme) -> u16 {
    match scheme {
        Scheme::Mqtt => 1883,
        Scheme::Mqtts => 8883,
    }
}

/// Publish `msg` and wait for the broker's acknowledgement (QoS 1 and 2). A
/// denied broker is a `config` error, a refused login or message `rejected`,
/// anything else `unavailable` (retried).
pub fn publish(msg: &PublishRequest) -> Result<PublishReply, SendError> {
    crate::host::mqtt_publish(msg).map_err(|e| match e {
        Error::Denied(why) => SendError::Config(format!("MQTT publish denied: {why}")),
        Error::Rejected(why) => SendError::Rejected(why),
        Error::Unavailable(why) => SendError::Unavailable(why),
        Error::Timeout => SendError::Unavailable("the MQTT broker did not answer in time".into()),
    })
}
