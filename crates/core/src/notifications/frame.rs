//! One text frame of a notification socket, read as untrusted input: bounded in size, each field
//! checked for its shape before anything is kept. What the socket task acts on is a [`Frame`].

use serde::Deserialize;
use serde_json::value::RawValue;

/// Largest frame read (a WebSocket message; Genesys's events are a few KiB, a conversation's at most
/// tens of KiB). Larger messages end the socket (tungstenite refuses them while reading).
pub const MAX_FRAME: usize = 1024 * 1024;

/// Longest topic name accepted (Genesys's longest are about 120 characters).
pub const MAX_TOPIC_LEN: usize = 512;

/// Longest `CorrelationId` kept (a UUID is 36).
const MAX_CORRELATION_LEN: usize = 128;

/// What a frame means to the socket task.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// `channel.metadata` heartbeat (or any other `channel.metadata` message).
    Heartbeat,
    /// The answer to our `{"message":"ping"}`.
    Pong,
    /// `v2.system.socket_closing`: the server closes this socket soon; move now.
    SocketClosing,
    /// An event on a topic.
    Event(EventFrame),
    /// Not a frame we understand (not JSON, wrong shape): counted and skipped.
    Invalid,
}

/// An event as delivered: the topic and the server's `eventBody`/`metadata` as raw JSON text, kept
/// as sent (no re-encoding on the way to the subscriber).
#[derive(Debug, PartialEq)]
pub struct EventFrame {
    /// The topic, checked by [`valid_topic`].
    pub topic: String,
    /// `eventBody`, raw JSON (`null` when absent).
    pub body: Box<str>,
    /// `metadata`, raw JSON object (`{}` when absent).
    pub metadata: Box<str>,
    /// `metadata.CorrelationId` when it is a short printable string: the dedupe key.
    pub correlation_id: Option<String>,
}

#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "topicName", borrow)]
    topic_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(rename = "eventBody", borrow)]
    event_body: Option<&'a RawValue>,
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow)]
    message: Option<std::borrow::Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Metadata<'a> {
    #[serde(rename = "CorrelationId", borrow)]
    correlation_id: Option<std::borrow::Cow<'a, str>>,
}

/// True for a topic name Genesys could send or accept: ASCII letters, digits and `. _ - ? & : ,`
/// (`v2.users.{id}?presence&routingStatus` combines topics), 1 to [`MAX_TOPIC_LEN`] bytes.
///
/// ```
/// use genesys_tenants_core::notifications::frame::valid_topic;
/// assert!(valid_topic("v2.users.6f1c2b1e-0e59-4a7e-9b6e-2f3a4b5c6d7e.presence"));
/// assert!(!valid_topic("v2.users.x\n"));
/// assert!(!valid_topic(""));
/// ```
pub fn valid_topic(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= MAX_TOPIC_LEN
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'?' | b'&' | b':' | b','))
}

/// Reads one text frame.
///
/// ```
/// use genesys_tenants_core::notifications::frame::{parse, Frame};
/// assert_eq!(parse(r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#), Frame::Heartbeat);
/// assert_eq!(parse(r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"Socket is closing"}}"#), Frame::SocketClosing);
/// assert_eq!(parse("not json"), Frame::Invalid);
/// match parse(r#"{"topicName":"v2.users.a.presence","eventBody":{"seq":1},"metadata":{"CorrelationId":"c-1"}}"#) {
///     Frame::Event(e) => assert_eq!((e.topic.as_str(), &*e.body, e.correlation_id.as_deref()), ("v2.users.a.presence", r#"{"seq":1}"#, Some("c-1"))),
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn parse(text: &str) -> Frame {
    if text.len() > MAX_FRAME {
        return Frame::Invalid;
    }
    let Ok(wire) = serde_json::from_str::<Wire<'_>>(text) else { return Frame::Invalid };
    let Some(topic) = wire.topic_name else { return Frame::Invalid };
    match &*topic {
        "channel.metadata" => {
            let message = wire.event_body.and_then(|b| serde_json::from_str::<Message<'_>>(b.get()).ok()).and_then(|m| m.message);
            if message.as_deref().is_some_and(|m| m.eq_ignore_ascii_case("pong")) {
                Frame::Pong
            } else {
                Frame::Heartbeat
            }
        }
        "v2.system.socket_closing" => Frame::SocketClosing,
        t if valid_topic(t) => {
            let metadata = match wire.metadata {
                Some(m) if m.get().starts_with('{') => m,
                Some(_) => return Frame::Invalid,
                None => return Frame::Event(event(t, wire.event_body, "{}", None)),
            };
            let correlation_id = serde_json::from_str::<Metadata<'_>>(metadata.get())
                .ok()
                .and_then(|m| m.correlation_id)
                .filter(|c| !c.is_empty() && c.len() <= MAX_CORRELATION_LEN && c.bytes().all(|b| b.is_ascii_graphic()))
                .map(|c| c.into_owned());
            Frame::Event(event(t, wire.event_body, metadata.get(), correlation_id))
        }
        _ => Frame::Invalid,
    }
}

fn event(topic: &str, body: Option<&RawValue>, metadata: &str, correlation_id: Option<String>) -> EventFrame {
    EventFrame { topic: topic.to_string(), body: body.map_or("null", |b| b.get()).into(), metadata: metadata.into(), correlation_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_frames_are_invalid() {
        for t in [
            "",
            "[]",
            "{}",
            r#"{"topicName":5}"#,
            r#"{"topicName":"v2.users.x\u0000","eventBody":{}}"#,
            r#"{"topicName":"v2.users.x","metadata":[1]}"#,
            r#"{"topicName":"v2 users","eventBody":{}}"#,
        ] {
            assert_eq!(parse(t), Frame::Invalid, "{t}");
        }
        let long = format!(r#"{{"topicName":"{}","eventBody":{{}}}}"#, "a".repeat(MAX_TOPIC_LEN + 1));
        assert_eq!(parse(&long), Frame::Invalid);
    }

    #[test]
    fn a_strange_correlation_id_is_not_a_key() {
        let Frame::Event(e) = parse(r#"{"topicName":"v2.a","eventBody":1,"metadata":{"CorrelationId":"a b"}}"#) else { panic!() };
        assert_eq!(e.correlation_id, None);
        let Frame::Event(e) = parse(r#"{"topicName":"v2.a"}"#) else { panic!() };
        assert_eq!((&*e.body, &*e.metadata), ("null", "{}"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 384, ..Default::default() })]
        /// No text panics the reader, and an event it accepts has a valid topic and JSON parts.
        #[test]
        fn no_frame_panics(text in ".{0,400}") {
            let _ = parse(&text);
        }

        #[test]
        fn json_shaped_frames(topic in "[ -~]{0,60}", body in "[ -~]{0,60}", corr in "[ -~]{0,40}") {
            let text = format!(r#"{{"topicName":{},"eventBody":{body},"metadata":{{"CorrelationId":{}}}}}"#,
                serde_json::to_string(&topic).unwrap(), serde_json::to_string(&corr).unwrap());
            if let Frame::Event(e) = parse(&text) {
                proptest::prop_assert!(valid_topic(&e.topic));
                proptest::prop_assert!(serde_json::from_str::<serde_json::Value>(&e.body).is_ok());
                proptest::prop_assert!(e.correlation_id.iter().all(|c| c.bytes().all(|b| b.is_ascii_graphic())));
            }
        }
    }

    #[test]
    fn pong_and_heartbeat() {
        assert_eq!(parse(r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#), Frame::Pong);
        assert_eq!(parse(r#"{"topicName":"channel.metadata"}"#), Frame::Heartbeat);
    }
}
