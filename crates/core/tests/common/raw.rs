//! A scripted HTTP/1.1 server on 127.0.0.1:0 for answers the emulator will not give: a body that
//! never ends, a 304 to a first read, a listener that only records who connected.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How to answer one request.
pub enum Answer {
    /// These bytes (status line, headers, body), then close.
    Bytes(Vec<u8>),
    /// This status line and headers, then a body of `a`s until the client hangs up.
    Endless(String),
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, body: &str) -> Answer {
        Answer::Bytes(
            format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    /// A 200 JSON answer whose body never ends.
    pub fn endless_json() -> Answer {
        Answer::Endless("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n".into())
    }
}

pub struct RawServer {
    pub port: u16,
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// Bytes written in endless bodies.
    pub streamed: Arc<AtomicUsize>,
    /// Request heads received.
    pub requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Serves `answer(request head)` for every request.
pub async fn serve(answer: impl Fn(&str) -> Answer + Send + Sync + 'static) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let connections = Arc::new(AtomicUsize::new(0));
    let streamed = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let answer = Arc::new(answer);
    let (c, st, r) = (connections.clone(), streamed.clone(), requests.clone());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            c.fetch_add(1, Ordering::SeqCst);
            let (answer, st, r) = (answer.clone(), st.clone(), r.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head).into_owned();
                r.lock().unwrap().push(text.clone());
                match answer(&text) {
                    Answer::Bytes(b) => {
                        let _ = sock.write_all(&b).await;
                        let _ = sock.shutdown().await;
                    }
                    Answer::Endless(head) => {
                        if sock.write_all(head.as_bytes()).await.is_err() {
                            return;
                        }
                        let chunk = vec![b'a'; 64 * 1024];
                        // Bounded anyway: stops after 4 GiB, long after any client should have hung up.
                        for _ in 0..65536 {
                            if sock.write_all(&chunk).await.is_err() {
                                return;
                            }
                            st.fetch_add(chunk.len(), Ordering::Relaxed);
                        }
                    }
                }
            });
        }
    });
    RawServer { port, connections, streamed, requests, task }
}

/// This process's peak resident set (VmHWM), in bytes.
pub fn peak_rss() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<usize>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}
