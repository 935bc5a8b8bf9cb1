//! One channel's WebSocket: connect (TLS through rustls with ring and the orchestrator's roots), then
//! read frames until told to stop or the socket dies. A socket silent for the heartbeat timeout is
//! given up (a ping is sent after 40 % of it); `socket_closing` and a lost socket are reported to
//! the manager, which moves or rebuilds the channel. Events go straight to the tenant's [`Router`].

use super::frame::{parse, Frame, MAX_FRAME};
use super::router::Router;
use futures::{SinkExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A byte stream a WebSocket runs over (plain TCP under an `http` gateway, else TLS).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// An open socket.
pub type Ws = WebSocketStream<Box<dyn Io>>;

/// The application-level ping Genesys answers with a pong (it ignores protocol pings).
pub const PING: &str = r#"{"message":"ping"}"#;

/// How long closing a socket politely may take before it is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// What a socket tells its manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// The server announced `v2.system.socket_closing` on socket `key`.
    Closing(u64),
    /// Socket `key` ended without being asked to.
    Lost(u64, Lost),
}

/// Why a socket was lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// The server closed it or the connection broke.
    Closed,
    /// Nothing arrived within the heartbeat timeout.
    Silent,
}

impl Lost {
    /// For events: `closed` or `silent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lost::Closed => "closed",
            Lost::Silent => "silent",
        }
    }
}

/// Opens the WebSocket at `url` (already passed by the egress guard) within `within`, through the
/// proxy `http`'s rule names for it, if any.
pub async fn connect(url: &Url, http: &crate::network::Http, tls: &Arc<rustls::ClientConfig>, within: Duration) -> Result<Ws, String> {
    let host = url.host().ok_or("the channel URI has no host")?;
    let port = url.port_or_known_default().ok_or("the channel URI has no port")?;
    let work = async {
        // Through the proxy the orchestrator's rule names for this host, as its REST calls go.
        let tcp = match http.tunnel(url).await? {
            Some(tunnel) => Ok(tunnel),
            None => match host {
                url::Host::Domain(d) => tokio::net::TcpStream::connect((d, port)).await,
                url::Host::Ipv4(ip) => tokio::net::TcpStream::connect((ip, port)).await,
                url::Host::Ipv6(ip) => tokio::net::TcpStream::connect((ip, port)).await,
            },
        }
        .map_err(|e| format!("connecting failed: {}", e.kind()))?;
        let _ = tcp.set_nodelay(true);
        let stream: Box<dyn Io> = if url.scheme() == "wss" {
            let name = match host {
                url::Host::Domain(d) => rustls::pki_types::ServerName::try_from(d.to_string()).map_err(|_| "bad host name".to_string())?,
                url::Host::Ipv4(ip) => rustls::pki_types::ServerName::IpAddress(std::net::IpAddr::V4(ip).into()),
                url::Host::Ipv6(ip) => rustls::pki_types::ServerName::IpAddress(std::net::IpAddr::V6(ip).into()),
            };
            let tls = tokio_rustls::TlsConnector::from(Arc::clone(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("the TLS handshake failed: {e}"))?;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        let config = WebSocketConfig::default().max_message_size(Some(MAX_FRAME)).max_frame_size(Some(MAX_FRAME));
        let (ws, _) = tokio_tungstenite::client_async_with_config(url.as_str(), stream, Some(config))
            .await
            .map_err(|e| format!("the WebSocket handshake failed: {}", short(&e)))?;
        Ok(ws)
    };
    timeout(within, work).await.map_err(|_| format!("no WebSocket within {} ms", within.as_millis()))?
}

/// A handshake error without the server's text (its status at most).
fn short(e: &tokio_tungstenite::tungstenite::Error) -> String {
    match e {
        tokio_tungstenite::tungstenite::Error::Http(r) => format!("HTTP {}", r.status().as_u16()),
        tokio_tungstenite::tungstenite::Error::Io(io) => format!("{}", io.kind()),
        _ => "protocol error".into(),
    }
}

/// A running socket task; dropping it does not stop it: call [`Socket::close`].
#[derive(Debug)]
pub struct Socket {
    /// The manager's key of this socket (one per connection, never reused).
    pub key: u64,
    /// Events this socket has delivered to the router (a drained old socket stops counting).
    pub events: Arc<std::sync::atomic::AtomicU64>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Socket {
    /// Runs `ws` until [`Socket::close`] or its end (reported on `notes`).
    pub fn spawn(key: u64, ws: Ws, router: Arc<Router>, notes: UnboundedSender<Note>, heartbeat_timeout: Duration) -> Socket {
        let stop = CancellationToken::new();
        let events = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let task = tokio::spawn(run(key, ws, router, notes, heartbeat_timeout, stop.clone(), Arc::clone(&events)));
        Socket { key, events, stop, task }
    }

    /// Closes the socket (a close frame, bounded) and waits for its task (bounded).
    pub async fn close(self) {
        self.stop.cancel();
        let mut task = self.task;
        if timeout(CLOSE_WAIT + Duration::from_secs(1), &mut task).await.is_err() {
            task.abort();
        }
    }

    /// True once its task ended.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}

async fn run(
    key: u64,
    mut ws: Ws,
    router: Arc<Router>,
    notes: UnboundedSender<Note>,
    heartbeat_timeout: Duration,
    stop: CancellationToken,
    events: Arc<std::sync::atomic::AtomicU64>,
) {
    let ping_after = heartbeat_timeout.mul_f64(0.4);
    let mut last = Instant::now();
    let mut pinged = false;
    let mut closing_told = false;
    let lost = loop {
        let deadline = if pinged { last + heartbeat_timeout } else { last + ping_after };
        tokio::select! {
            biased;
            _ = stop.cancelled() => {
                let _ = timeout(CLOSE_WAIT, ws.close(None)).await;
                return;
            }
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    last = Instant::now();
                    pinged = false;
                    match parse(text.as_str()) {
                        Frame::Event(ev) => {
                            router.deliver(&ev);
                            events.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        Frame::SocketClosing if !closing_told => {
                            closing_told = true;
                            let _ = notes.send(Note::Closing(key));
                        }
                        Frame::SocketClosing | Frame::Heartbeat | Frame::Pong | Frame::Invalid => {}
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break Lost::Closed,
                Some(Ok(_)) => last = Instant::now(),
            },
            _ = sleep_until(deadline) => {
                if pinged {
                    break Lost::Silent;
                }
                pinged = true;
                if timeout(CLOSE_WAIT, ws.send(Message::text(PING))).await.map_or(true, |r| r.is_err()) {
                    break Lost::Closed;
                }
            }
        }
    };
    // Dropped without a close handshake when silent: a dead peer would not answer it.
    if lost == Lost::Closed {
        let _ = timeout(Duration::from_millis(200), ws.close(None)).await;
    }
    let _ = notes.send(Note::Lost(key, lost));
}
