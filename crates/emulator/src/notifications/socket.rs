//! The WebSocket at a channel's `connectUri` (`/channels/{id}`): heartbeats, `{"message":"ping"}` →
//! pong, events, the `v2.system.socket_closing` warning and the close after its grace period, and
//! the channel's expiry. Frames from the client are small (64 KiB at most) and a write that does
//! not finish within [`WRITE_TIMEOUT`] ends the socket, so a hostile client holds nothing for long.

use super::{Attached, Ctl, Hub};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// The heartbeat's text (as the Java and .NET SDKs' handlers match it).
pub const HEARTBEAT: &str = r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#;
/// The answer to `{"message":"ping"}`.
pub const PONG: &str = r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#;
/// The maintenance warning.
pub const SOCKET_CLOSING: &str = r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"Socket is closing"}}"#;

const MAX_INBOUND: usize = 64 * 1024;
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Events written per wake-up before the loop looks at its other sources again.
const BATCH: usize = 64;

/// Answers the handshake: 404 for a channel that does not exist (or expired), else the socket.
pub(crate) fn accept(hub: Arc<Hub>, id: String, ws: WebSocketUpgrade) -> Response {
    if !hub.exists(&id) {
        let e = crate::error_body::ApiError::not_found();
        return crate::reply::Reply::error(&e, &crate::ids::random_uuid()).into_response();
    }
    ws.max_message_size(MAX_INBOUND).max_frame_size(MAX_INBOUND).on_upgrade(move |socket| async move {
        if let Some(a) = hub.attach(&id) {
            let conn = a.conn;
            run(&hub, &id, socket, a).await;
            hub.detach(&id, conn);
        }
    })
}

/// How a socket ends.
enum End {
    /// With a close frame.
    Close(&'static str),
    /// Without one.
    Drop,
}

async fn send(socket: &mut WebSocket, text: Utf8Bytes) -> bool {
    matches!(tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Text(text))).await, Ok(Ok(())))
}

fn is_ping(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).ok().is_some_and(|v| v.get("message").and_then(|m| m.as_str()) == Some("ping"))
}

async fn run(hub: &Hub, id: &str, mut socket: WebSocket, mut a: Attached) {
    let mut heartbeat = tokio::time::interval_at(Instant::now() + a.heartbeat, a.heartbeat);
    heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut expires = Instant::from_std(a.expires_at);
    let mut closing_at: Option<Instant> = None;
    let mut silenced = false;
    let mut batch = Vec::with_capacity(BATCH);
    let end = loop {
        tokio::select! {
            // Control first (a channel that goes tells its reason before its queues close), events last (a
            // flood of them never starves heartbeats, pongs or the close).
            biased;
            c = a.ctl.recv() => match c {
                None => break End::Close("channel closed"),
                Some(Ctl::Close(why)) => break End::Close(why),
                Some(Ctl::Kill) => break End::Drop,
                Some(Ctl::Silence) => silenced = true,
                Some(Ctl::Extend(at)) => expires = Instant::from_std(at),
                Some(Ctl::Closing(grace)) => {
                    if !silenced && !send(&mut socket, SOCKET_CLOSING.into()).await {
                        break End::Drop;
                    }
                    closing_at = Some(Instant::now() + grace);
                }
            },
            _ = heartbeat.tick(), if !silenced => {
                if !send(&mut socket, HEARTBEAT.into()).await {
                    break End::Drop;
                }
            }
            _ = sleep_until(closing_at.unwrap_or(expires)), if closing_at.is_some() => break End::Close("socket closing"),
            _ = sleep_until(expires) => {
                hub.expire_due(id);
                break End::Close("channel expired");
            }
            m = socket.recv() => match m {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break End::Drop,
                Some(Ok(Message::Text(t))) => {
                    if !silenced && is_ping(t.as_str()) && !send(&mut socket, PONG.into()).await {
                        break End::Drop;
                    }
                }
                // Protocol pings are answered by the library; binary frames mean nothing here.
                Some(Ok(_)) => {}
            },
            n = a.events.recv_many(&mut batch, BATCH) => {
                if n == 0 {
                    break End::Close("channel closed");
                }
                // Counted before the writes and taken back (as dropped) for those not written — failed, or
                // queued before a silence — so a reader that has an event never sees a count without it.
                let pending = n as u64;
                hub.count_delivered(id, pending);
                let mut written = 0;
                for text in batch.drain(..) {
                    if silenced {
                        continue;
                    }
                    if !send(&mut socket, text).await {
                        break;
                    }
                    written += 1;
                }
                hub.uncount_delivered(id, pending - written);
                if written < n as u64 && !silenced {
                    break End::Drop;
                }
            }
        }
    };
    if let End::Close(reason) = end {
        let frame = CloseFrame { code: axum::extract::ws::close_code::NORMAL, reason: reason.into() };
        let _ = tokio::time::timeout(WRITE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
}
