//! `genesys-emulator --port 0 [--world FILE] [--config-port N] [--token T]`: prints one JSON line
//! `{"url", "configUrl", "configServiceToken"}` and serves until SIGINT/SIGTERM.

use genesys_emulator::{start, EmulatorOptions, World};
use std::io::Write;

const USAGE: &str = "usage: genesys-emulator [--port N] [--config-port N] [--world FILE] [--token T]

Serves a local Genesys Cloud (login, API, reference config service, control API) on 127.0.0.1.
The first line on stdout is JSON: {\"url\", \"configUrl\", \"configServiceToken\"}.
  --port N         main port (default 0: any free port)
  --config-port N  port of the dedicated config-service listener (default 0)
  --world FILE     a world JSON file (default: the built-in demo world)
  --token T        the X-Service-Token (default: random)";

fn parse_args(args: &[String]) -> Result<(EmulatorOptions, Option<String>), String> {
    let mut opts = EmulatorOptions::default();
    let mut world = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().cloned().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--port" => opts.port = value("--port")?.parse().map_err(|_| "--port must be a port number".to_string())?,
            "--config-port" => {
                opts.config_port = value("--config-port")?.parse().map_err(|_| "--config-port must be a port number".to_string())?
            }
            "--world" => world = Some(value("--world")?),
            "--token" => opts.config_service_token = Some(value("--token")?),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    Ok((opts, world))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return;
    }
    let (opts, world_path) = match parse_args(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("genesys-emulator: {e}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    let world = match world_path {
        None => World::demo(),
        Some(p) => match std::fs::read_to_string(&p).map_err(|e| e.to_string()).and_then(|t| World::from_json(&t)) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("genesys-emulator: cannot load world {p}: {e}");
                std::process::exit(2);
            }
        },
    };
    let handle = match start(world, opts).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("genesys-emulator: {e}");
            std::process::exit(1);
        }
    };
    let line = serde_json::json!({"url": handle.url, "configUrl": handle.config_url, "configServiceToken": handle.config_service_token});
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    drop(out);
    wait_for_signal().await;
    handle.shutdown().await;
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
