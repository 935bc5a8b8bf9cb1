//! Proxies and private CAs (issue 26, parts 1 and 2), end to end on 127.0.0.1: a CONNECT proxy
//! written here records every target and can demand `Proxy-Authorization`; a TLS front with a
//! private CA's certificate (made by `openssl` at test time) stands before the emulator, so login
//! and API traffic is https. Hosts such as `api.genesys.test` are only ever named to the proxy,
//! which routes them to 127.0.0.1: nothing is resolved or sent anywhere else.

mod common;

use common::servers::Certs;
use common::{get, Env};
use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::network::{Environment, ProxyOption, ProxySettings};
use genesys_tenants_core::{Error, Options, Orchestrator, Secret};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TENANT: &str = "acme-corp";
/// The name the tests give the Genesys side (RFC 2606: `.test` never resolves).
const API_HOST: &str = "api.genesys.test";
const LIMIT: Duration = Duration::from_secs(10);

/// What the proxy saw of one connection.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// `host:port` of a CONNECT, or the absolute URL of a plain-http request.
    target: String,
    proxy_authorization: Option<String>,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
    /// Every byte clients sent into tunnels (after the CONNECT).
    tunnelled: Vec<u8>,
}

/// A forward proxy on 127.0.0.1:0: CONNECT tunnels and absolute-form http, routed by `route`.
struct TestProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Route = Arc<dyn Fn(&str, u16) -> Option<SocketAddr> + Send + Sync>;

impl TestProxy {
    /// `require`: the exact `Proxy-Authorization` value it accepts (else 407), or none needed.
    async fn start(require: Option<String>, route: Route) -> TestProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Arc::new(Mutex::new(Log::default()));
        let l = Arc::clone(&log);
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                let (l, route, require) = (Arc::clone(&l), Arc::clone(&route), require.clone());
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(Duration::from_secs(30), serve(sock, l, route, require)).await;
                });
            }
        });
        TestProxy { addr, log, task }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().seen.clone()
    }

    fn targets(&self) -> Vec<String> {
        let mut t: Vec<String> = self.seen().into_iter().map(|s| format!("{} {}", s.method, s.target)).collect();
        t.dedup();
        t
    }

    fn tunnelled(&self) -> Vec<u8> {
        self.log.lock().unwrap().tunnelled.clone()
    }
}

/// The request head (up to the blank line, at most 64 KiB) and whatever followed it.
async fn read_head(sock: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

async fn serve(mut client: TcpStream, log: Arc<Mutex<Log>>, route: Route, require: Option<String>) {
    let Some((head, rest)) = read_head(&mut client).await else { return };
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let (method, target) = (first.next().unwrap_or("").to_string(), first.next().unwrap_or("").to_string());
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let proxy_authorization = headers.iter().find(|(k, _)| k == "proxy-authorization").map(|(_, v)| v.clone());
    log.lock().unwrap().seen.push(Seen {
        method: method.clone(),
        target: target.clone(),
        proxy_authorization: proxy_authorization.clone(),
    });
    if require.is_some() && proxy_authorization != require {
        let _ = client
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    if method == "CONNECT" {
        let Some((host, port)) = target.rsplit_once(':') else { return };
        let Some(up) = port.parse().ok().and_then(|p| route(host, p)) else {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
            return;
        };
        let Ok(mut upstream) = TcpStream::connect(up).await else { return };
        if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
            return;
        }
        log.lock().unwrap().tunnelled.extend_from_slice(&rest);
        let _ = upstream.write_all(&rest).await;
        let (mut cr, mut cw) = client.into_split();
        let (mut ur, mut uw) = upstream.into_split();
        let l = Arc::clone(&log);
        let up_task = tokio::spawn(async move {
            let mut b = [0u8; 16 * 1024];
            while let Ok(n) = cr.read(&mut b).await {
                if n == 0 || uw.write_all(&b[..n]).await.is_err() {
                    break;
                }
                l.lock().unwrap().tunnelled.extend_from_slice(&b[..n]);
            }
            let _ = uw.shutdown().await;
        });
        let _ = tokio::io::copy(&mut ur, &mut cw).await;
        let _ = cw.shutdown().await;
        up_task.abort();
        return;
    }
    // Absolute form: `GET http://host:port/path HTTP/1.1`, forwarded in origin form, one per connection.
    let Ok(url) = url::Url::parse(&target) else { return };
    let Some(up) = route(url.host_str().unwrap_or(""), url.port_or_known_default().unwrap_or(80)) else { return };
    let Ok(mut upstream) = TcpStream::connect(up).await else { return };
    let path = &url[url::Position::BeforePath..];
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        if !matches!(k.as_str(), "proxy-authorization" | "proxy-connection" | "connection") {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    if upstream.write_all(out.as_bytes()).await.is_err() || upstream.write_all(&rest).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// A TLS server on 127.0.0.1:0 with `certs`' server certificate, forwarding to `upstream`.
async fn tls_front(certs: &Certs, upstream: SocketAddr) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(certs.read("server.pem").as_bytes()).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(certs.read("server.key").as_bytes()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(Ok(mut tls)) = tokio::time::timeout(LIMIT, acceptor.accept(sock)).await else { return };
                let Ok(mut up) = TcpStream::connect(upstream).await else { return };
                let _ = tokio::time::timeout(Duration::from_secs(30), tokio::io::copy_bidirectional(&mut tls, &mut up)).await;
            });
        }
    });
    (addr, task)
}

/// The emulator, a TLS front before it (certificate for `api.genesys.test` and 127.0.0.1), and the CA.
struct Net {
    env: Env,
    certs: Certs,
    front: SocketAddr,
    _front_task: tokio::task::JoinHandle<()>,
}

impl Net {
    async fn start() -> Net {
        let env = common::emulator().await;
        let certs = Certs::generate("proxy", &format!("DNS:{API_HOST},DNS:login.genesys.test,IP:127.0.0.1"));
        let (front, _front_task) = tls_front(&certs, SocketAddr::from(([127, 0, 0, 1], env.port()))).await;
        Net { env, certs, front, _front_task }
    }

    fn emulator(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.env.port()))
    }

    /// The proxy's routing: the Genesys names and 127.0.0.1 to the TLS front (443 or its port), plain
    /// http names to the emulator.
    fn route(&self) -> Route {
        let (front, emulator) = (self.front, self.emulator());
        Arc::new(move |host, port| match (host, port) {
            (h, 443) if h.ends_with(".genesys.test") => Some(front),
            (h, 80) if h.ends_with(".genesys.test") => Some(emulator),
            ("127.0.0.1", p) if p == front.port() => Some(front),
            ("127.0.0.1", p) if p == emulator.port() => Some(emulator),
            _ => None,
        })
    }

    /// Options with login and API traffic at `host:port` over `protocol`, the config service direct
    /// at the emulator (loopback), the private CA trusted, and `environment` for the proxy variables.
    fn options(&self, protocol: &str, host: &str, port: u16, environment: Environment) -> Options {
        let mut o = self.env.options();
        o.gateway = Some(Gateway {
            protocol: protocol.into(),
            host: host.into(),
            port: Some(port),
            path_params_login: None,
            path_params_api: None,
        });
        o.ca_certs = Some(self.certs.read("ca.pem"));
        o.environment = environment;
        o.request_timeout = Duration::from_secs(5);
        o
    }
}

fn explicit(url: String, no_proxy: Vec<String>, proxy_loopback: bool) -> ProxyOption {
    ProxyOption::Explicit(ProxySettings { url: Secret::new(url), no_proxy, proxy_loopback })
}

/// Every event as JSON text, from now on.
fn record_events(o: &Orchestrator) -> Arc<Mutex<Vec<String>>> {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e = Arc::clone(&events);
    o.subscribe_json(move |ev| {
        e.lock().unwrap().push(ev);
        true
    });
    events
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_login_and_api_traffic_tunnels_through_the_environment_s_proxy_and_the_config_service_on_loopback_does_not() {
    let net = Net::start().await;
    let proxy = TestProxy::start(None, net.route()).await;
    let env = Environment::fixed([("HTTPS_PROXY", proxy.url()), ("HTTP_PROXY", proxy.url())]);
    let o = net.env.orchestrator_with(net.options("https", API_HOST, 443, env)).await;
    let me = tokio::time::timeout(LIMIT, o.request(TENANT, get("/api/v2/organizations/me")))
        .await
        .unwrap()
        .expect("the call goes through the tunnel");
    assert_eq!(me.status, 200);
    let token = o.access_token(TENANT).await.unwrap();
    let targets = proxy.targets();
    assert!(!targets.is_empty());
    assert!(
        targets.iter().all(|t| t == "CONNECT api.genesys.test:443"),
        "only the Genesys host is tunnelled; the config service on loopback is direct: {targets:?}"
    );
    // TLS runs end to end: the proxy carried the token, never saw it.
    let bytes = proxy.tunnelled();
    assert!(bytes.len() > 200 && bytes[0] == 0x16, "the tunnel carried a TLS session (a handshake record first): {} bytes", bytes.len());
    assert!(!contains(&bytes, token.expose()) && !contains(&bytes, "Bearer") && !contains(&bytes, "grant_type"));
    assert_eq!(net.env.token_requests(TENANT).await, 1);
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_goes_to_the_proxy_in_absolute_form_and_loopback_never_does_unless_asked() {
    let net = Net::start().await;
    let proxy = TestProxy::start(None, net.route()).await;
    // The environment's proxy never takes loopback: the emulator on 127.0.0.1 is reached directly.
    let env = Environment::fixed([("http_proxy", proxy.url()), ("https_proxy", proxy.url()), ("ALL_PROXY", proxy.url())]);
    let o = net.env.orchestrator_with(Options { environment: env.clone(), ..net.env.options() }).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("direct");
    assert!(proxy.seen().is_empty(), "loopback is never proxied by the environment: {:?}", proxy.targets());
    o.close().await;

    // A non-loopback http gateway goes through the proxy as absolute-form requests.
    let o = net.env.orchestrator_with(net.options("http", "gw.genesys.test", 80, env)).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("through the proxy");
    let targets = proxy.targets();
    assert_eq!(targets, ["POST http://gw.genesys.test/oauth/token", "GET http://gw.genesys.test/api/v2/organizations/me"], "{targets:?}");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_option_wins_over_the_environment_and_no_proxy_exempts_the_config_service() {
    let net = Net::start().await;
    let proxy = TestProxy::start(None, net.route()).await;
    // The environment names a proxy nobody listens on: used, it would fail every call.
    let env = Environment::fixed([("HTTPS_PROXY", "http://127.0.0.1:9"), ("HTTP_PROXY", "http://127.0.0.1:9"), ("NO_PROXY", "*")]);
    let config = format!("127.0.0.1:{}", net.env.port());
    let mut options = net.options("https", "127.0.0.1", net.front.port(), env);
    options.proxy = explicit(proxy.url(), vec![config.clone()], true);
    let o = net.env.orchestrator_with(options.clone()).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("through the option's proxy");
    assert_eq!(proxy.targets(), [format!("CONNECT 127.0.0.1:{}", net.front.port())], "the config service ({config}) is on noProxy");
    o.close().await;

    // Without the exemption, the config service goes through the proxy too (plain http: absolute form).
    let proxy = TestProxy::start(None, net.route()).await;
    options.proxy = explicit(proxy.url(), vec![], true);
    let o = net.env.orchestrator_with(options.clone()).await;
    assert_eq!(proxy.targets()[0], format!("GET http://{config}/api/v1/genesys/tenants"));
    o.close().await;

    // proxy: false ignores the environment (which would fail): direct.
    options.proxy = ProxyOption::Off;
    let o = net.env.orchestrator_with(options).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.expect("direct");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_407_is_proxy_auth_failed_naming_the_proxy_and_no_password_reaches_an_error_or_event() {
    use base64::Engine;
    let net = Net::start().await;
    let (user, password) = ("svc-genesys", "pr0xy-Pa55-word");
    let right = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")));
    let proxy = TestProxy::start(Some(right.clone()), net.route()).await;
    let wrong = "wr0ng-Pa55-word";
    let shown = proxy.url();

    // https: the CONNECT is refused. Nothing is retried: one CONNECT.
    let mut options = net.options("https", API_HOST, 443, Environment::fixed::<&str, &str>([]));
    options.proxy = explicit(proxy.with_credentials(user, wrong), vec![], false);
    let o = net.env.orchestrator_with(options.clone()).await;
    let events = record_events(&o);
    let e = o.request(TENANT, get("/api/v2/organizations/me")).await.expect_err("407");
    assert_eq!(e.code(), "PROXY_AUTH_FAILED", "{e}");
    assert_eq!(e.tenant_id(), Some(TENANT));
    let f = e.fields();
    assert_eq!(f["proxy"], shown.as_str());
    assert_eq!(f["status"], 407);
    assert!(f["reason"].as_str().unwrap().contains("refused the credentials"), "{f:?}");
    assert_eq!(proxy.seen().len(), 1, "a 407 is not retried: {:?}", proxy.targets());
    assert_eq!(net.env.token_requests(TENANT).await, 0, "nothing reached the token endpoint");
    o.close().await;

    // Plain http: the proxy answers the request itself with 407; without credentials it says so.
    let mut http_options = net.options("http", "gw.genesys.test", 80, Environment::fixed([("HTTP_PROXY", proxy.url())]));
    http_options.proxy = ProxyOption::Environment;
    let o2 = net.env.orchestrator_with(http_options).await;
    let events2 = record_events(&o2);
    let e2 = o2.request(TENANT, get("/api/v2/organizations/me")).await.expect_err("407");
    assert_eq!(e2.code(), "PROXY_AUTH_FAILED", "{e2}");
    assert!(e2.fields()["reason"].as_str().unwrap().contains("asks for credentials"), "{:?}", e2.fields());
    o2.close().await;

    // The config service behind the proxy: initialize() says which proxy refused.
    let mut config_options = options.clone();
    config_options.proxy = explicit(proxy.with_credentials(user, wrong), vec![], true);
    config_options.config_timeout = Duration::from_secs(1);
    match Orchestrator::new(config_options).unwrap().initialize().await {
        Err(e @ Error::ConfigUnavailable { .. }) => {
            let text = e.to_string();
            assert!(text.contains(&shown) && text.contains("407"), "{text}");
            assert!(!text.contains(wrong), "{text}");
        }
        other => panic!("{other:?}"),
    }

    // With the right credentials everything works, and each request carried them.
    options.proxy = explicit(proxy.with_credentials(user, password), vec![], false);
    let before = proxy.seen().len();
    let o3 = net.env.orchestrator_with(options).await;
    o3.request(TENANT, get("/api/v2/organizations/me")).await.expect("authenticated");
    let later = &proxy.seen()[before..];
    assert!(!later.is_empty() && later.iter().all(|s| s.proxy_authorization.as_deref() == Some(right.as_str())));
    o3.close().await;

    let wrong_basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{wrong}"));
    let texts = format!("{e} {e:?} {:?} {e2} {e2:?} {:?} {:?}", e.fields(), events.lock().unwrap(), events2.lock().unwrap());
    for secret in [wrong, password, wrong_basic.as_str()] {
        assert!(!texts.contains(secret), "{secret} leaked: {texts}");
    }
    assert!(texts.contains("token.failed"), "the token failure was reported: {texts}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_egress_guard_still_judges_the_target_behind_a_proxy() {
    let net = Net::start().await;
    let proxy = TestProxy::start(None, net.route()).await;
    let env = Environment::fixed([("HTTPS_PROXY", proxy.url())]);
    let o = net.env.orchestrator_with(net.options("https", API_HOST, 443, env)).await;
    o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap();
    let before = proxy.seen().len();
    for path in ["https://evil.example/api/v2/users", "//evil.example/api/v2/users", "/api/v2/../../x"] {
        let e = o.request(TENANT, get(path)).await.expect_err(path);
        assert_eq!(e.code(), "INVALID_OPTIONS", "{path}: {e}");
    }
    assert_eq!(proxy.seen().len(), before, "nothing was sent for a refused target");
    o.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ca_from_ca_certs_or_node_extra_ca_certs_is_trusted_for_the_api_and_the_config_service() {
    let net = Net::start().await;
    let front = net.front.port();
    // Without the CA the TLS front's certificate is refused.
    let mut untrusted = net.options("https", "127.0.0.1", front, Environment::fixed::<&str, &str>([]));
    untrusted.ca_certs = None;
    untrusted.max_retries = 0;
    let o = net.env.orchestrator_with(untrusted).await;
    let e = o.request(TENANT, get("/api/v2/organizations/me")).await.expect_err("unknown issuer");
    assert_eq!(e.code(), "NETWORK_ERROR", "{e}");
    assert!(e.to_string().contains("UnknownIssuer") && e.to_string().contains("caCerts"), "the reason says what to do: {e}");
    o.close().await;

    // caCerts: the API and the config service, both over https with the private CA.
    let mut with_option = net.options("https", "127.0.0.1", front, Environment::fixed::<&str, &str>([]));
    with_option.config_endpoint = Some(format!("https://127.0.0.1:{front}"));
    let o = net.env.orchestrator_with(with_option.clone()).await;
    assert_eq!(o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap().status, 200);
    o.close().await;

    // NODE_EXTRA_CA_CERTS: the same, from a file.
    let mut from_env = with_option.clone();
    from_env.ca_certs = None;
    from_env.environment = Environment::fixed([("NODE_EXTRA_CA_CERTS", net.certs.path("ca.pem"))]);
    let o = net.env.orchestrator_with(from_env.clone()).await;
    assert_eq!(o.request(TENANT, get("/api/v2/organizations/me")).await.unwrap().status, 200);
    o.close().await;

    // A file that cannot be read, or holds no certificate, stops the constructor, naming the variable.
    for bad in [net.certs.path("missing.pem"), net.certs.path("server.csr")] {
        from_env.environment = Environment::fixed([("NODE_EXTRA_CA_CERTS", bad.clone())]);
        match Orchestrator::new(from_env.clone()) {
            Err(Error::InvalidOptions { option, reason }) => {
                assert_eq!(option, "NODE_EXTRA_CA_CERTS");
                assert!(reason.contains(&bad), "{reason}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
}

/// The notification WebSocket takes the same route as the REST calls: a CONNECT tunnel through the
/// proxy (credentials included), TLS inside it with the private CA from `caCerts`; events arrive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notification_socket_tunnels_through_the_proxy_with_tls_inside() {
    let net = Net::start().await;
    let basic = format!("Basic {}", base64_of("u:p w"));
    let proxy = TestProxy::start(Some(basic.clone()), net.route()).await;
    // The emulator names its sockets on the gateway's host, as Genesys names streaming.<region>.
    net.env.control("PUT", "notifications/settings", serde_json::json!({"connectUriBase": format!("wss://{API_HOST}:443")})).await;
    let mut options = net.options("https", API_HOST, 443, Environment::fixed(Vec::<(String, String)>::new()));
    options.proxy = explicit(proxy.with_credentials("u", "p%20w"), vec![], false);
    let o = net.env.orchestrator_with(options).await;
    let topic = "v2.users.00000000-0000-4000-8000-000000000001.presence".to_string();
    let sub = tokio::time::timeout(LIMIT, o.notifications().subscribe(TENANT, vec![topic.clone()])).await.unwrap().expect("subscribed");
    net.env.control("POST", "notifications/publish", serde_json::json!({"topic": topic, "count": 3})).await;
    let mut seqs = Vec::new();
    while seqs.len() < 3 {
        let batch = tokio::time::timeout(LIMIT, sub.next_batch()).await.unwrap().unwrap();
        let v: serde_json::Value = serde_json::from_str(&batch).unwrap();
        seqs.extend(v["events"].as_array().unwrap().iter().map(|e| e["eventBody"]["seq"].as_u64().unwrap()));
    }
    assert_eq!(seqs, [1, 2, 3]);
    let seen = proxy.seen();
    assert!(seen.iter().all(|s| s.method == "CONNECT" && s.target == "api.genesys.test:443"), "{:?}", proxy.targets());
    assert!(seen.iter().all(|s| s.proxy_authorization.as_deref() == Some(basic.as_str())));
    // Login, the channel calls and the socket each opened tunnels; the socket's carried TLS, not a handshake in clear.
    assert!(!contains(&proxy.tunnelled(), "Upgrade: websocket") && !contains(&proxy.tunnelled(), "/channels/"));
    o.close().await;
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}
