//! A `CONNECT` tunnel through the proxy a target's rule names, for the one client that is not reqwest:
//! the notification WebSocket. Same rule ([`ProxyRules`](super::ProxyRules), `ws`/`wss` read as
//! `http`/`https`), same credentials (`Proxy-Authorization: Basic`), TLS end to end inside the tunnel.

use super::proxy::percent_decoded;
use super::Http;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Largest proxy answer head read.
const MAX_HEAD: usize = 8 * 1024;

impl Http {
    /// A connection to `target`'s host and port through the proxy its rule names (`None`: no proxy
    /// applies; connect directly). Only `http://` proxies (an `https://` proxy is refused with a reason).
    /// The caller bounds the time; errors name the proxy without its credentials.
    pub async fn tunnel(&self, target: &Url) -> Result<Option<TcpStream>, String> {
        let mut rule_url = target.clone();
        let scheme = if target.scheme() == "wss" { "https" } else { "http" };
        if rule_url.set_scheme(scheme).is_err() {
            rule_url = Url::parse(&format!("{scheme}://{}/", target.host_str().unwrap_or_default())).map_err(|e| e.to_string())?;
        }
        let Some(proxy) = self.proxy_for(&rule_url) else { return Ok(None) };
        let shown = proxy.shown().to_string();
        let p = Url::parse(proxy.for_client()).map_err(|_| format!("the proxy {shown} has no usable URL"))?;
        if p.scheme() != "http" {
            return Err(format!(
                "the proxy {shown} is an https:// proxy, which the notification socket does not support; use an http:// proxy"
            ));
        }
        let (host, port) = (p.host_str().unwrap_or_default().to_string(), p.port_or_known_default().unwrap_or(80));
        let mut sock = TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), port))
            .await
            .map_err(|e| format!("the proxy {shown} could not be reached: {}", e.kind()))?;
        let authority = format!("{}:{}", target.host_str().unwrap_or_default(), target.port_or_known_default().unwrap_or(443));
        // The head may hold the proxy's password: wiped when dropped.
        let mut head = zeroize::Zeroizing::new(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"));
        if proxy.has_credentials() {
            let pair = zeroize::Zeroizing::new(format!(
                "{}:{}",
                percent_decoded(p.username()).as_str(),
                percent_decoded(p.password().unwrap_or("")).as_str()
            ));
            let basic = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()));
            head.push_str(&format!("Proxy-Authorization: Basic {}\r\n", basic.as_str()));
        }
        head.push_str("\r\n");
        sock.write_all(head.as_bytes()).await.map_err(|e| format!("the proxy {shown} closed the connection: {}", e.kind()))?;
        // Read the answer's head byte by byte: nothing after it may be consumed (it is the tunnel's).
        let mut answer = Vec::with_capacity(256);
        let mut b = [0u8; 1];
        while !answer.ends_with(b"\r\n\r\n") {
            if answer.len() >= MAX_HEAD || sock.read(&mut b).await.map_err(|e| e.kind().to_string())? == 0 {
                return Err(format!("the proxy {shown} gave no answer to CONNECT {authority}"));
            }
            answer.push(b[0]);
        }
        let status = String::from_utf8_lossy(&answer).split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).unwrap_or(0);
        match status {
            200..=299 => Ok(Some(sock)),
            407 => Err(format!("the proxy {shown} asks for (other) credentials (407 Proxy Authentication Required)")),
            s => Err(format!("the proxy {shown} refused to open a tunnel (CONNECT) to {authority} ({s})")),
        }
    }
}
