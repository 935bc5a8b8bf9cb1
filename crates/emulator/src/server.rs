//! The HTTP server: one dispatcher for every route (so auth, faults and counters apply the same
//! way everywhere), the main listener, and the dedicated config-service listener that `refuse`
//! mode closes and reopens on the same port.

use crate::api;
use crate::config_service;
use crate::control::{self, Effect};
use crate::error_body::ApiError;
use crate::ids::{random_token, random_uuid};
use crate::reply::Reply;
use crate::state::{lock, ConfigMode, State};
use crate::world::World;
use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// Options of [`start`].
#[derive(Debug, Clone, Default)]
pub struct EmulatorOptions {
    /// Main port (0: any free port).
    pub port: u16,
    /// Config-service port (0: any free port).
    pub config_port: u16,
    /// Service token for the config service and control API (random when absent).
    pub config_service_token: Option<String>,
}

/// Start-up failures.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
}

struct ConfigListener {
    addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

pub(crate) struct App {
    pub(crate) state: State,
    config_listener: Mutex<ConfigListener>,
    app_router: Mutex<Option<Router>>,
}

/// A running emulator.
pub struct EmulatorHandle {
    /// `http://127.0.0.1:PORT`: API, login, config service and control API.
    pub url: String,
    /// `http://127.0.0.1:PORT2`: the config service alone (closed in `refuse` mode).
    pub config_url: String,
    /// The `X-Service-Token` for the config service and control API.
    pub config_service_token: String,
    app: Arc<App>,
    main: JoinHandle<()>,
    pruner: JoinHandle<()>,
}

impl EmulatorHandle {
    /// Counters, as `GET /__control/counters` returns them.
    pub fn counters(&self) -> serde_json::Value {
        self.app.state.counters_json()
    }

    /// Stops every listener and closes every notification socket.
    pub async fn shutdown(self) {
        self.app.state.notifications.reset(true);
        self.main.abort();
        self.pruner.abort();
        if let Some(t) = lock(&self.app.config_listener).task.take() {
            t.abort();
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.app.state.notifications.reset(true);
        self.main.abort();
        self.pruner.abort();
        if let Some(t) = lock(&self.app.config_listener).task.take() {
            t.abort();
        }
    }
}

async fn bind(port: u16) -> Result<TcpListener, EmulatorError> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|source| EmulatorError::Bind { port, source })
}

fn serve(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    })
}

/// Starts the emulator on 127.0.0.1.
///
/// ```no_run
/// # async fn demo() {
/// let emu = genesys_emulator::start(genesys_emulator::World::demo(), Default::default()).await.unwrap();
/// println!("{} {}", emu.url, emu.config_service_token);
/// emu.shutdown().await;
/// # }
/// ```
pub async fn start(world: World, opts: EmulatorOptions) -> Result<EmulatorHandle, EmulatorError> {
    let token = opts.config_service_token.unwrap_or_else(|| random_token(24));
    let main_listener = bind(opts.port).await?;
    let config_listener = bind(opts.config_port).await?;
    let main_addr = main_listener.local_addr().map_err(|source| EmulatorError::Bind { port: opts.port, source })?;
    let config_addr = config_listener.local_addr().map_err(|source| EmulatorError::Bind { port: opts.config_port, source })?;
    let app = Arc::new(App {
        state: State::new(world, token.clone()),
        config_listener: Mutex::new(ConfigListener { addr: config_addr, task: None }),
        app_router: Mutex::new(None),
    });
    app.state.notifications.set_base(format!("ws://{main_addr}"));
    let router = Router::new().route("/channels/{id}", get(channel_socket)).fallback(dispatch).with_state(Arc::clone(&app));
    *lock(&app.app_router) = Some(router.clone());
    lock(&app.config_listener).task = Some(serve(config_listener, router.clone()));
    let main = serve(main_listener, router);
    let weak = Arc::downgrade(&app);
    let pruner = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            match weak.upgrade() {
                Some(app) => {
                    app.state.prune_tokens();
                    app.state.notifications.prune();
                }
                None => return,
            }
        }
    });
    Ok(EmulatorHandle {
        url: format!("http://{main_addr}"),
        config_url: format!("http://{config_addr}"),
        config_service_token: token,
        app,
        main,
        pruner,
    })
}

async fn apply_mode(app: &Arc<App>, mode: ConfigMode) {
    let (addr, running) = {
        let l = lock(&app.config_listener);
        (l.addr, l.task.is_some())
    };
    if mode == ConfigMode::Refuse {
        if let Some(t) = lock(&app.config_listener).task.take() {
            t.abort();
        }
    } else if !running {
        // Re-bind the same port; retry briefly while the old socket is released.
        for _ in 0..50 {
            if let Ok(l) = TcpListener::bind(addr).await {
                let router = lock(&app.app_router).clone();
                if let Some(router) = router {
                    lock(&app.config_listener).task = Some(serve(l, router));
                }
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The WebSocket at a channel's `connectUri`.
async fn channel_socket(AxState(app): AxState<Arc<App>>, Path(id): Path<String>, ws: WebSocketUpgrade) -> Response {
    crate::notifications::socket::accept(Arc::clone(&app.state.notifications), id, ws)
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn dispatch(AxState(app): AxState<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path = uri.path().to_string();
    let method = method.as_str().to_ascii_uppercase();
    let corr = random_uuid();
    let state = &app.state;

    if let Some(rest) = path.strip_prefix("/__control/notifications") {
        if let Err(refused) = control::check_token(state, header(&headers, "x-service-token")) {
            return refused.into_response();
        }
        return crate::notifications::control::handle(&state.notifications, &method, rest, &body).await.into_response();
    }
    if let Some(rest) = path.strip_prefix("/__control/") {
        let (reply, effect) = control::handle(state, &method, rest, header(&headers, "x-service-token"), &body);
        if let Effect::ConfigMode(m) = effect {
            apply_mode(&app, m).await;
        }
        return reply.into_response();
    }
    if path == "/api/v1/genesys/tenants" {
        if method != "GET" {
            return Reply::error(&ApiError::new(405, "method.not.allowed", "Use GET"), &corr).into_response();
        }
        return config_service::tenants(state, header(&headers, "x-service-token"), header(&headers, "if-none-match"))
            .await
            .into_response();
    }

    let is_api = path.starts_with("/api/v2/");
    let is_login = path == "/oauth/token";
    if !is_api && !is_login {
        return Reply::error(&ApiError::not_found(), &corr).header("inin-correlation-id", corr.clone()).into_response();
    }
    let _login = is_login.then(|| crate::state::LoginInFlight::enter(state));
    // Faults apply before auth: a token endpoint that is down is down for everyone.
    let client_hint = if is_login {
        crate::oauth::parse_basic(header(&headers, "authorization")).map(|(id, _)| id)
    } else {
        token_client(state, header(&headers, "authorization"))
    };
    if let Some(f) = state.take_fault(&method, &path, client_hint.as_deref()) {
        if let Some(ms) = f.latency_ms {
            // A request held by a latency fault is in flight (a test's gate counts it in maxConcurrency).
            let held = client_hint.as_deref().filter(|_| is_api);
            if let Some(c) = held {
                state.count(c, |k| {
                    k.in_flight += 1;
                    k.max_concurrency = k.max_concurrency.max(k.in_flight);
                });
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
            if let Some(c) = held {
                state.count(c, |k| k.in_flight = k.in_flight.saturating_sub(1));
            }
        }
        if f.status != 0 {
            if let Some(c) = &client_hint {
                if is_api {
                    state.count(c, |k| k.api_call(f.status));
                }
            }
            let mut body = f.body.clone().unwrap_or_else(|| fault_body(f.status, f.retry_after_seconds).body(&corr));
            if f.echo_bearer {
                let bearer = header(&headers, "authorization").and_then(|a| a.strip_prefix("Bearer ")).unwrap_or_default();
                echo(&mut body, bearer);
            }
            let mut r = Reply::status_json(f.status, body).header("inin-correlation-id", corr.clone());
            if let Some(s) = f.retry_after_seconds {
                r = r.header("retry-after", s.to_string());
            }
            return r.into_response();
        }
    }

    let reply = if is_login {
        if method != "POST" {
            Reply::error(&ApiError::new(405, "method.not.allowed", "Use POST"), &corr)
        } else {
            crate::oauth::token(state, header(&headers, "authorization"), &body)
        }
    } else {
        let client = client_hint.clone();
        if let Some(c) = &client {
            state.count(c, |k| {
                k.in_flight += 1;
                k.max_concurrency = k.max_concurrency.max(k.in_flight);
            });
        }
        let r = api::handle(state, &method, &path, api::parse_query(uri.query()), header(&headers, "authorization"), &body, &corr);
        if let Some(c) = &client {
            state.count(c, |k| k.in_flight = k.in_flight.saturating_sub(1));
        }
        r
    };
    let mut reply = reply.header("inin-correlation-id", corr);
    if method == "HEAD" {
        reply.body = crate::reply::Payload::Empty;
    }
    reply.into_response()
}

/// Replaces every string `"$bearer"` in `v` with `bearer` (the `echoBearer` fault).
fn echo(v: &mut serde_json::Value, bearer: &str) {
    match v {
        serde_json::Value::String(s) if s == "$bearer" => *s = bearer.to_string(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|i| echo(i, bearer)),
        serde_json::Value::Object(m) => m.values_mut().for_each(|i| echo(i, bearer)),
        _ => {}
    }
}

fn token_client(state: &State, authorization: Option<&str>) -> Option<String> {
    let t = authorization?.strip_prefix("Bearer ")?.trim();
    crate::state::read(&state.tokens).get(t).map(|r| r.client_id.clone())
}

fn fault_body(status: u16, retry_after: Option<u64>) -> ApiError {
    match status {
        429 => ApiError::new(
            429,
            "too.many.requests.retry.after",
            &format!("Rate limit exceeded the maximum. Retry the request in [{}] seconds", retry_after.unwrap_or(1)),
        ),
        503 => ApiError::new(503, "service.unavailable", "Service Unavailable - injected fault"),
        500 => ApiError::new(500, "internal.server.error", "The server encountered an unexpected condition."),
        504 => ApiError::new(504, "request.timeout", "The request timed out."),
        s => ApiError::new(s, "injected.fault", "Injected fault"),
    }
}
