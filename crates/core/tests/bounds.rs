//! Every body read stops at its limit: a server that streams forever costs the limit, not the
//! process. One test in its own binary, because it measures this process's peak memory.

mod common;

use common::get;
use common::raw::{self, Answer};
use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::{Options, Orchestrator};
use std::time::Duration;

const MB: usize = 1024 * 1024;

fn gateway(port: u16) -> Gateway {
    Gateway { protocol: "http".into(), host: "127.0.0.1".into(), port: Some(port), path_params_login: None, path_params_api: None }
}

fn one_tenant_file() -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("gt-bounds-{}-{}.json", std::process::id(), rand::random::<u32>()));
    std::fs::write(&path, br#"[{"tenantId":"t","clientId":"client-1","clientSecret":"a-long-enough-secret"}]"#).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_bodies_stop_at_their_limits() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = raw::peak_rss();
    let file = one_tenant_file();

    // A token endpoint that never ends its answer.
    let login = raw::serve(|_| Answer::endless_json()).await;
    let o = Options {
        config_file: Some(file.clone()),
        gateway: Some(gateway(login.port)),
        max_retries: 1,
        max_retry_delay: Duration::from_millis(300),
        ..Options::default()
    };
    let orch = Orchestrator::new(o).unwrap();
    orch.initialize().await.unwrap();
    let e = orch.access_token("t").await.unwrap_err();
    assert_eq!(e.code(), "UPSTREAM_ERROR", "{e}");
    assert!(e.to_string().contains("64 KiB"), "{e}");
    orch.close().await;
    let after_token = raw::peak_rss();
    assert!(after_token < base + 64 * MB, "token: peak grew by {} MB", (after_token - base) / MB);

    // A config service that never ends its document.
    let config = raw::serve(|_| Answer::endless_json()).await;
    let o = Options { config_endpoint: Some(config.url()), config_timeout: Duration::from_secs(30), ..Options::default() };
    let orch = Orchestrator::new(o).unwrap();
    let e = orch.initialize().await.unwrap_err();
    assert_eq!(e.code(), "CONFIG_UNAVAILABLE");
    assert!(e.to_string().contains("32 MiB"), "{e}");
    orch.close().await;
    let after_config = raw::peak_rss();
    assert!(after_config < base + 160 * MB, "config: peak grew by {} MB", (after_config - base) / MB);

    // An API that never ends its answer (after an honest token).
    let api = raw::serve(|head| {
        if head.starts_with("POST /oauth/token") {
            Answer::json(200, r#"{"access_token":"tok-0123456789","token_type":"bearer","expires_in":3600}"#)
        } else {
            Answer::endless_json()
        }
    })
    .await;
    let o = Options {
        config_file: Some(file.clone()),
        gateway: Some(gateway(api.port)),
        request_timeout: Duration::from_secs(30),
        ..Options::default()
    };
    let orch = Orchestrator::new(o).unwrap();
    orch.initialize().await.unwrap();
    let e = orch.request("t", get("/api/v2/users")).await.unwrap_err();
    assert_eq!(e.code(), "UPSTREAM_ERROR", "{e}");
    assert!(e.to_string().contains("64 MiB"), "{e}");
    orch.close().await;
    let after_api = raw::peak_rss();
    assert!(after_api < base + 400 * MB, "api: peak grew by {} MB", (after_api - base) / MB);
    // The servers did stream far more than was read, so the bounds were what stopped the reads.
    assert!(api.streamed.load(std::sync::atomic::Ordering::Relaxed) >= 64 * MB);
    let _ = std::fs::remove_file(file);
}
