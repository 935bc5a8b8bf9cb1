//! How the store reaches Redis: one server, or a Redis Cluster.
//!
//! One server is a `ConnectionManager`, which reconnects by itself. A Cluster is the redis crate's
//! async cluster client: it routes each command by its key's slot, follows `MOVED`/`ASK`, and
//! re-reads the slot map after a failover. Every key of a tenant carries one hash tag
//! ([`super::Keys`]), so each Lua script touches one slot and runs atomically on one master.
//!
//! A Cluster is named by `redis+cluster://` / `rediss+cluster://` (more seeds as `addr=host:port`
//! query parameters, the convention of go-redis's `ParseClusterURL`), or detected: a `redis://` or
//! `rediss://` URL whose server answers `cluster_enabled:1` to `INFO cluster`, or — for an ACL user
//! who may not run `INFO` — answers `CLUSTER SLOTS` (a managed service's configuration endpoint), is
//! used as the Cluster's seed. A user who may run neither cannot use a Cluster at all (the cluster
//! client reads the slot map with `CLUSTER SLOTS`): such a server is taken as one server until it
//! answers `MOVED`, and from then on refused whole, with a reason that names the fix — never used
//! for the tenants whose slots it happens to hold while the others fall back.

use crate::options::RedisTls;
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, ErrorKind, Pipeline, RedisFuture, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A connection to either kind of deployment; cheap to clone (both sides multiplex).
#[derive(Clone)]
pub(super) enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(&'a mut self, pipeline: &'a Pipeline, offset: usize, count: usize) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(pipeline, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// Where the store connects: built once from the URL and TLS options, connected on first use.
pub(super) struct Target {
    /// One client per seed: the server itself, or the Cluster's seed nodes. Pub/sub subscribes
    /// through these (Redis Cluster forwards a classic `PUBLISH` to every node).
    pub(super) seeds: Vec<redis::Client>,
    /// Set when the URL names a Cluster; a single URL may still turn out to be one.
    cluster: Option<ClusterClient>,
    tls: Option<RedisTls>,
    /// The URL without its userinfo, for reasons.
    display: String,
    /// A server taken as one server answered `MOVED`: it is a Cluster node.
    moved: AtomicBool,
}

/// What a plain URL's server says it is.
enum Detected {
    Single,
    Cluster,
    /// The user may run neither `INFO` nor `CLUSTER SLOTS`.
    Unknown,
}

/// True for an error the server answered (no permission, unknown command, …), as opposed to one
/// of the connection (I/O, timeout), which says nothing about what the server is.
fn answered(e: &redis::RedisError) -> bool {
    matches!(e.kind(), ErrorKind::Server(_) | ErrorKind::Extension)
}

/// Asks the server whether it is a Cluster node: `INFO cluster`, else `CLUSTER SLOTS` (the one
/// command the cluster client itself needs, so a user who can use a Cluster may run it).
async fn detect(conn: &mut ConnectionManager) -> redis::RedisResult<Detected> {
    match redis::cmd("INFO").arg("cluster").query_async::<String>(conn).await {
        Ok(info) if info.lines().any(|l| l.trim() == "cluster_enabled:1") => return Ok(Detected::Cluster),
        Ok(_) => return Ok(Detected::Single),
        Err(e) if !answered(&e) => return Err(e),
        Err(_) => {}
    }
    match redis::cmd("CLUSTER").arg("SLOTS").query_async::<Value>(conn).await {
        Ok(_) => Ok(Detected::Cluster),
        Err(e) if !answered(&e) => Err(e),
        Err(e) if e.to_string().contains("cluster support disabled") => Ok(Detected::Single),
        Err(_) => Ok(Detected::Unknown),
    }
}

/// The seed URLs of a `redis+cluster://` / `rediss+cluster://` URL, as plain `redis://` /
/// `rediss://` URLs with the same credentials; `None` for any other URL.
///
/// ```ignore
/// let seeds = cluster_seeds("redis+cluster://u:p@10.0.0.1:7000?addr=10.0.0.2:7001").unwrap().unwrap();
/// assert_eq!(seeds, ["redis://u:p@10.0.0.1:7000", "redis://u:p@10.0.0.2:7001"]);
/// ```
pub(super) fn cluster_seeds(url: &str) -> Result<Option<Vec<String>>, String> {
    let scheme = match url.split_once("://").map(|(s, _)| s) {
        Some("redis+cluster") => "redis",
        Some("rediss+cluster") => "rediss",
        _ => return Ok(None),
    };
    let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    let mut userinfo = String::new();
    if !parsed.username().is_empty() || parsed.password().is_some() {
        userinfo = parsed.username().to_string();
        if let Some(p) = parsed.password() {
            userinfo.push(':');
            userinfo.push_str(p);
        }
        userinfo.push('@');
    }
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or("a Cluster URL needs a host")?;
    if !matches!(parsed.path(), "" | "/") {
        return Err("a Cluster has only database 0: no /<db> path".into());
    }
    let mut addrs = vec![format!("{host}:{}", parsed.port().unwrap_or(6379))];
    for (k, v) in parsed.query_pairs() {
        match &*k {
            "addr" => {
                // host:port only: nothing that could smuggle a path, credentials or another scheme.
                let ok = v
                    .rsplit_once(':')
                    .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0) && !h.contains(['/', '@', '?', '#', ' ']));
                if !ok {
                    return Err(format!("addr={v} must be host:port"));
                }
                addrs.push(v.into_owned());
            }
            other => return Err(format!("unknown parameter `{other}` (only addr=host:port)")),
        }
    }
    Ok(Some(addrs.into_iter().map(|a| format!("{scheme}://{userinfo}{a}")).collect()))
}

fn certificates(tls: &RedisTls) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: match (&tls.cert, &tls.key) {
            (Some(cert), Some(key)) => {
                Some(redis::ClientTlsConfig { client_cert: cert.as_bytes().to_vec(), client_key: key.expose().as_bytes().to_vec() })
            }
            _ => None,
        },
        root_cert: tls.ca.as_ref().map(|ca| ca.as_bytes().to_vec()),
    }
}

fn client(url: &str, tls: &Option<RedisTls>) -> redis::RedisResult<redis::Client> {
    match tls {
        // `rediss://` alone: rustls with the system's roots. Never plain text: the URL decides.
        None => redis::Client::open(url),
        Some(tls) => redis::Client::build_with_tls(url, certificates(tls)),
    }
}

fn cluster_client<T: redis::IntoConnectionInfo>(
    seeds: impl IntoIterator<Item = T>,
    tls: &Option<RedisTls>,
    op_timeout: Duration,
) -> redis::RedisResult<ClusterClient> {
    let mut b = ClusterClient::builder(seeds)
        .connection_timeout(op_timeout)
        .response_timeout(op_timeout)
        // The store bounds every operation by its own timeout and falls back in-process; a few quick
        // retries cover a MOVED storm during a failover without outliving that bound.
        .retries(3)
        .min_retry_wait(10)
        .max_retry_wait(op_timeout.as_millis().min(u64::MAX as u128) as u64 / 4);
    if let Some(tls) = tls {
        b = b.certs(certificates(tls));
    }
    b.build()
}

impl Target {
    /// Checks the URL and TLS material; connects nothing.
    pub(super) fn new(url: &str, tls: Option<RedisTls>, op_timeout: Duration) -> Result<Target, String> {
        let display = crate::transport::display_url_text(url);
        match cluster_seeds(url)? {
            Some(seeds) => {
                let clients = seeds.iter().map(|s| client(s, &tls)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
                let cluster = cluster_client(seeds.iter().map(String::as_str), &tls, op_timeout).map_err(|e| e.to_string())?;
                Ok(Target { seeds: clients, cluster: Some(cluster), tls, display, moved: AtomicBool::new(false) })
            }
            None => Ok(Target {
                seeds: vec![client(url, &tls).map_err(|e| e.to_string())?],
                cluster: None,
                tls,
                display,
                moved: AtomicBool::new(false),
            }),
        }
    }

    /// Connects: the Cluster when the URL names one or the server says it is one, else one server.
    /// A failure is described in words (a refused Cluster names the fix).
    pub(super) async fn connect(&self, op_timeout: Duration) -> Result<Conn, String> {
        let config = redis::cluster::ClusterConfig::new().set_connection_timeout(op_timeout).set_response_timeout(op_timeout);
        if let Some(cluster) = &self.cluster {
            return Ok(Conn::Cluster(cluster.get_async_connection_with_config(config).await.map_err(|e| e.to_string())?));
        }
        let seed = &self.seeds[0];
        let cfg = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(op_timeout))
            .set_response_timeout(Some(op_timeout))
            .set_number_of_retries(1);
        let mut single = seed.get_connection_manager_with_config(cfg).await.map_err(|e| e.to_string())?;
        match detect(&mut single).await.map_err(|e| e.to_string())? {
            Detected::Single => Ok(Conn::Single(single)),
            // Until it answers MOVED: a user may well be denied both on one server.
            Detected::Unknown if !self.moved.load(Ordering::Acquire) => Ok(Conn::Single(single)),
            Detected::Unknown => Err(self.unreadable_cluster()),
            Detected::Cluster => {
                let cluster = cluster_client([seed.get_connection_info().clone()], &self.tls, op_timeout).map_err(|e| e.to_string())?;
                Ok(Conn::Cluster(cluster.get_async_connection_with_config(config).await.map_err(|e| e.to_string())?))
            }
        }
    }

    /// True for a redirection answered to a connection made as to one server: the server is a
    /// Cluster node the store could not detect. Remembers it (the next connect refuses the server).
    pub(super) fn misdetected(&self, single: bool, e: &redis::RedisError) -> bool {
        let redirected = matches!(e.kind(), ErrorKind::Server(redis::ServerErrorKind::Moved | redis::ServerErrorKind::Ask));
        if redirected && single {
            self.moved.store(true, Ordering::Release);
        }
        redirected && single
    }

    /// Why a Cluster node whose user may run neither `INFO` nor `CLUSTER SLOTS` is refused, and the fix.
    pub(super) fn unreadable_cluster(&self) -> String {
        format!(
            "{} is a Redis Cluster node (it answered MOVED), and this user may run neither INFO nor CLUSTER SLOTS, so the Cluster's \
             slot map cannot be read: allow CLUSTER SLOTS (ACL +cluster|slots) and name the Cluster with redis+cluster:// \
             (rediss+cluster:// with TLS); shared mode is off until then",
            self.display
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_refused_cluster_names_the_fix_and_not_the_credentials() {
        let t = Target::new("redis://gt-svc:Pw-1@10.0.0.1:6379", None, Duration::from_millis(100)).unwrap();
        let why = t.unreadable_cluster();
        assert!(why.starts_with("redis://10.0.0.1:6379 is a Redis Cluster node (it answered MOVED)"), "{why}");
        assert!(why.contains("ACL +cluster|slots") && why.contains("redis+cluster://") && !why.contains("Pw-1"), "{why}");
    }

    #[test]
    fn cluster_urls_list_their_seeds_with_the_same_credentials() {
        assert_eq!(
            cluster_seeds("redis+cluster://u:p%40ss@10.0.0.1:7000?addr=10.0.0.2:7001&addr=h3:7002").unwrap().unwrap(),
            ["redis://u:p%40ss@10.0.0.1:7000", "redis://u:p%40ss@10.0.0.2:7001", "redis://u:p%40ss@h3:7002"]
        );
        assert_eq!(cluster_seeds("rediss+cluster://cfg.example:6380").unwrap().unwrap(), ["rediss://cfg.example:6380"]);
        assert_eq!(cluster_seeds("redis://127.0.0.1:6379").unwrap(), None);
        for bad in [
            "redis+cluster://h:1?addr=evil/x:1",
            "redis+cluster://h:1?addr=a@b:1",
            "redis+cluster://h:1?addr=h",
            "redis+cluster://h:1?addr=h:0",
            "redis+cluster://h:1?db=2",
            "redis+cluster:///nohost",
            "redis+cluster://h:1/2",
        ] {
            assert!(cluster_seeds(bad).is_err(), "{bad}");
        }
    }
}
