//! Real Redis servers started by a test on 127.0.0.1 with the installed `redis-server`: a TLS
//! server with certificates made at test time by the `openssl` CLI, a server with an ACL user,
//! and a local Redis Cluster. Each server is killed when its handle drops.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1 (bound and released; Redis takes it next).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A free port `p` on 127.0.0.1 whose cluster-bus port `p + 10000` is free too.
pub fn free_cluster_port() -> u16 {
    loop {
        let p = 20_000 + rand::random::<u16>() % 20_000;
        let a = std::net::TcpListener::bind(("127.0.0.1", p));
        let b = std::net::TcpListener::bind(("127.0.0.1", p + 10_000));
        if a.is_ok() && b.is_ok() {
            return p;
        }
    }
}

/// A fresh directory under the system's temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gt-{tag}-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One `redis-server` process.
pub struct Server {
    pub port: u16,
    child: Option<Child>,
}

impl Server {
    /// Starts `redis-server` on `port` with `args` appended, and waits until it accepts connections.
    pub fn start(port: u16, dir: &Path, args: &[&str]) -> Server {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        let s = Server { port, child: Some(child) };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t0.elapsed() < Duration::from_secs(10), "redis-server on {port} did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        s
    }

    /// Kills the server (SIGKILL: a crash, not a shutdown).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `redis-cli` against a plain port; its stdout.
pub fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli").args(["-h", "127.0.0.1", "-p", &port.to_string()]).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").current_dir(dir).args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A private CA, a server certificate for `server_names` (signed by it), a client certificate.
pub struct Certs {
    pub dir: PathBuf,
}

impl Certs {
    /// Generates them; `server_names` is a subjectAltName list such as `IP:127.0.0.1,DNS:localhost`.
    pub fn generate(tag: &str, server_names: &str) -> Certs {
        let dir = temp_dir(tag);
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=gt-test-ca",
            ],
        );
        for (name, san) in [("server", server_names), ("client", "DNS:gt-client")] {
            openssl(
                &dir,
                &[
                    "req",
                    "-newkey",
                    "rsa:2048",
                    "-nodes",
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    &format!("/CN={name}"),
                ],
            );
            std::fs::write(dir.join(format!("{name}.ext")), format!("subjectAltName={san}\n")).unwrap();
            openssl(
                &dir,
                &[
                    "x509",
                    "-req",
                    "-in",
                    &format!("{name}.csr"),
                    "-CA",
                    "ca.pem",
                    "-CAkey",
                    "ca.key",
                    "-CAcreateserial",
                    "-out",
                    &format!("{name}.pem"),
                    "-days",
                    "2",
                    "-extfile",
                    &format!("{name}.ext"),
                ],
            );
        }
        Certs { dir }
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.join(file).to_string_lossy().into_owned()
    }

    pub fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.dir.join(file)).unwrap()
    }

    /// A TLS-only server with these certificates; `auth_clients`: require a client certificate.
    pub fn server(&self, auth_clients: bool) -> Server {
        let port = free_port();
        Server::start(
            port,
            &self.dir,
            &[
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &self.path("server.pem"),
                "--tls-key-file",
                &self.path("server.key"),
                "--tls-ca-cert-file",
                &self.path("ca.pem"),
                "--tls-auth-clients",
                if auth_clients { "yes" } else { "no" },
            ],
        )
    }
}

/// A local Redis Cluster: `masters` masters, each with `replicas` replicas, slots assigned by
/// `redis-cli --cluster create`.
pub struct Cluster {
    pub nodes: Vec<Server>,
    pub dir: PathBuf,
}

impl Cluster {
    pub fn start(masters: usize, replicas: usize) -> Cluster {
        let dir = temp_dir("cluster");
        let mut nodes = Vec::new();
        for i in 0..masters * (1 + replicas) {
            let port = free_cluster_port();
            let conf = format!("nodes-{i}.conf");
            let log = format!("node-{i}.log");
            let rdb = format!("dump-{i}.rdb");
            nodes.push(Server::start(
                port,
                &dir,
                &[
                    "--port",
                    &port.to_string(),
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    &conf,
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-replica-validity-factor",
                    "0",
                    "--logfile",
                    &log,
                    "--dbfilename",
                    &rdb,
                ],
            ));
        }
        let addrs: Vec<String> = nodes.iter().map(|n| format!("127.0.0.1:{}", n.port)).collect();
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .unwrap();
        assert!(out.status.success(), "cluster create: {}", String::from_utf8_lossy(&out.stdout));
        let c = Cluster { nodes, dir };
        c.wait_ok(Duration::from_secs(20));
        // A replica that never finished its first sync cannot take over: wait for every link.
        let t0 = Instant::now();
        while c.nodes.iter().any(|n| {
            let r = cli(n.port, &["info", "replication"]);
            r.contains("role:slave") && !r.contains("master_link_status:up")
        }) {
            assert!(t0.elapsed() < Duration::from_secs(20), "replicas never synced");
            std::thread::sleep(Duration::from_millis(100));
        }
        c
    }

    /// Waits until every live node says `cluster_state:ok` and knows every master.
    pub fn wait_ok(&self, within: Duration) {
        let t0 = Instant::now();
        loop {
            let ok =
                self.nodes.iter().filter(|n| n.child.is_some()).all(|n| cli(n.port, &["cluster", "info"]).contains("cluster_state:ok"));
            if ok {
                return;
            }
            if t0.elapsed() > within {
                let live = self.nodes.iter().filter(|n| n.child.is_some());
                let states: Vec<String> =
                    live.map(|n| format!("{}: {}", n.port, cli(n.port, &["cluster", "info"]).lines().next().unwrap_or(""))).collect();
                panic!(
                    "cluster not ok after {within:?}: {states:?}\n{}\nlogs in {}",
                    cli(self.nodes[0].port, &["cluster", "nodes"]),
                    self.dir.display()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `redis+cluster://127.0.0.1:<first>?addr=…` for every node.
    pub fn url(&self) -> String {
        let mut u = format!("redis+cluster://127.0.0.1:{}", self.nodes[0].port);
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            u.push(if i == 1 { '?' } else { '&' });
            u.push_str(&format!("addr=127.0.0.1:{}", n.port));
        }
        u
    }

    /// The port of the master that serves `key`'s slot.
    pub fn master_of(&self, key: &str) -> u16 {
        let slot = cli(self.nodes[0].port, &["cluster", "keyslot", key]).trim().to_string();
        let slot: u16 = slot.parse().unwrap();
        for line in cli(self.nodes[0].port, &["cluster", "nodes"]).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 8 && f[2].contains("master") && !f[2].contains("fail") {
                for range in &f[8..] {
                    let (a, b) = range.split_once('-').unwrap_or((range, range));
                    if let (Ok(a), Ok(b)) = (a.parse::<u16>(), b.parse::<u16>()) {
                        if (a..=b).contains(&slot) {
                            return f[1].split([':', '@']).nth(1).unwrap().parse().unwrap();
                        }
                    }
                }
            }
        }
        panic!("no master for slot {slot}")
    }

    /// Kills the node on `port`.
    pub fn kill(&mut self, port: u16) {
        self.nodes.iter_mut().find(|n| n.port == port).unwrap().kill();
    }

    /// Keys (matching `pattern`) held by each live master.
    pub fn keys_per_node(&self, pattern: &str) -> Vec<(u16, usize)> {
        self.nodes
            .iter()
            .filter(|n| n.child.is_some() && cli(n.port, &["role"]).starts_with("master"))
            .map(|n| (n.port, cli(n.port, &["--scan", "--pattern", pattern]).lines().filter(|l| !l.is_empty()).count()))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.nodes.clear();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A fake Redis on 127.0.0.1 that accepts any `AUTH` and answers every other command with an
/// error quoting everything its connection sent, `AUTH` included: a proxy that echoes what it was
/// given. Stops accepting when dropped.
pub struct EchoRedis {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl EchoRedis {
    pub fn start() -> EchoRedis {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = std::sync::Arc::clone(&stop);
        std::thread::spawn(move || {
            for sock in listener.incoming() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                if let Ok(sock) = sock {
                    std::thread::spawn(move || echo_commands(sock));
                }
            }
        });
        EchoRedis { port, stop }
    }
}

impl Drop for EchoRedis {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn echo_commands(sock: std::net::TcpStream) {
    use std::io::Write;
    let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(read_half) = sock.try_clone() else { return };
    let mut r = std::io::BufReader::new(read_half);
    let mut w = sock;
    let mut heard: Vec<String> = Vec::new();
    while let Some(args) = read_command(&mut r) {
        let name = args.first().map(|a| a.to_ascii_uppercase()).unwrap_or_default();
        heard.extend(args);
        let reply = match name.as_str() {
            "AUTH" | "CLIENT" | "SELECT" => "+OK\r\n".to_string(),
            _ => format!("-ERR heard {}\r\n", heard.join(" ").replace(['\r', '\n'], " ")),
        };
        if w.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// One RESP command (an array of bulk strings), bounded; `None` at the end or on anything else.
fn read_command(r: &mut impl std::io::BufRead) -> Option<Vec<String>> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let n: usize = line.trim().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::new();
    for _ in 0..n.min(64) {
        line.clear();
        r.read_line(&mut line).ok()?;
        let len: usize = line.trim().strip_prefix('$')?.parse().ok()?;
        let mut buf = vec![0u8; len.min(1 << 20) + 2];
        r.read_exact(&mut buf).ok()?;
        args.push(String::from_utf8_lossy(&buf[..len.min(1 << 20)]).into_owned());
    }
    Some(args)
}
