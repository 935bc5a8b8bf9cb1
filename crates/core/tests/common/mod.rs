//! Shared helpers for integration tests: a fresh emulator per test on 127.0.0.1:0, its control
//! API, and an orchestrator pointed at it through the gateway option.
#![allow(dead_code)]

pub mod raw;
pub mod servers;

use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::{Options, Orchestrator, Secret};
use serde_json::{json, Value};
use std::time::Duration;

pub struct Env {
    pub emulator: genesys_emulator::EmulatorHandle,
    pub http: reqwest::Client,
}

pub async fn emulator() -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = genesys_emulator::start(genesys_emulator::World::demo(), genesys_emulator::EmulatorOptions::default())
        .await
        .expect("emulator starts");
    Env { emulator, http: reqwest::Client::new() }
}

impl Env {
    pub fn port(&self) -> u16 {
        self.emulator.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port in url")
    }

    pub fn options(&self) -> Options {
        Options {
            config_endpoint: Some(self.emulator.url.clone()),
            config_service_token: Some(Secret::new(self.emulator.config_service_token.clone())),
            gateway: Some(Gateway {
                protocol: "http".into(),
                host: "127.0.0.1".into(),
                port: Some(self.port()),
                path_params_login: None,
                path_params_api: None,
            }),
            config_poll_interval: Duration::from_secs(3600),
            ..Options::default()
        }
    }

    pub async fn orchestrator(&self) -> Orchestrator {
        self.orchestrator_with(self.options()).await
    }

    pub async fn orchestrator_with(&self, o: Options) -> Orchestrator {
        let orch = Orchestrator::new(o).expect("options valid");
        orch.initialize().await.expect("initialize");
        orch
    }

    /// An orchestrator sharing Redis on 127.0.0.1:6379 under `prefix`: one replica of a service.
    pub async fn replica(&self, prefix: &str) -> Orchestrator {
        let mut o = self.options();
        o.redis_url = Some("redis://127.0.0.1:6379".into());
        o.encryption_key = Some(Secret::new("ab".repeat(32)));
        o.redis_key_prefix = prefix.into();
        self.orchestrator_with(o).await
    }

    pub async fn control(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/__control/{}", self.emulator.url, path.trim_start_matches('/'));
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, url).header("X-Service-Token", &self.emulator.config_service_token);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let resp = rb.send().await.expect("control call");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        assert!(status.is_success(), "control {method} {path} -> {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    pub async fn tenants(&self) -> Vec<Value> {
        let url = format!("{}/api/v1/genesys/tenants", self.emulator.url);
        let v: Value =
            self.http.get(url).header("X-Service-Token", &self.emulator.config_service_token).send().await.unwrap().json().await.unwrap();
        v.as_array().cloned().unwrap()
    }

    pub async fn client_id(&self, tenant: &str) -> String {
        self.tenants()
            .await
            .into_iter()
            .find(|t| t["tenantId"] == tenant)
            .and_then(|t| t["clientId"].as_str().map(str::to_string))
            .unwrap_or_else(|| panic!("tenant {tenant} in the demo world"))
    }

    pub async fn counters(&self, tenant: &str) -> Value {
        let id = self.client_id(tenant).await;
        self.control("GET", &format!("counters/{id}"), Value::Null).await
    }

    pub async fn token_requests(&self, tenant: &str) -> u64 {
        self.counters(tenant).await["tokenRequests"].as_u64().unwrap_or(0)
    }

    pub async fn api_calls(&self, tenant: &str) -> u64 {
        self.counters(tenant).await["apiCallsTotal"].as_u64().unwrap_or(0)
    }

    pub async fn patch_client(&self, tenant: &str, body: Value) {
        let id = self.client_id(tenant).await;
        self.control("PATCH", &format!("clients/{id}"), body).await;
    }

    pub async fn regenerate_secret(&self, tenant: &str) -> String {
        let id = self.client_id(tenant).await;
        let v = self.control("POST", &format!("clients/{id}/secret"), json!({})).await;
        v["secret"].as_str().unwrap().to_string()
    }

    pub async fn revoke(&self, tenant: &str) {
        let id = self.client_id(tenant).await;
        self.control("POST", &format!("clients/{id}/revoke"), json!({})).await;
    }
}

pub fn get(path: &str) -> genesys_tenants_core::ApiRequest {
    genesys_tenants_core::ApiRequest { method: "GET".into(), path: path.into(), ..Default::default() }
}
