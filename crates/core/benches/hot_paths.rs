//! Criterion benches of the Rust hot paths: a cached token lookup, a limiter decision, a 403
//! classification and a page merge. `cargo bench -p genesys-tenants-core` (or `npm run bench`,
//! which runs them and puts the medians in bench/README.md). The token bench talks to an
//! in-process emulator on 127.0.0.1.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use genesys_tenants_core::egress::Gateway;
use genesys_tenants_core::pipeline::classify::{to_error, Answer};
use genesys_tenants_core::pipeline::paginate::take_items;
use genesys_tenants_core::pipeline::rate_limit::Limiter;
use genesys_tenants_core::{Options, Orchestrator, Secret};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Duration;

fn cached_token(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime");
    let (orch, _emulator) = rt.block_on(async {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = genesys_emulator::start(genesys_emulator::World::demo(), genesys_emulator::EmulatorOptions::default())
            .await
            .expect("emulator starts");
        let port = emulator.url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
        let o = Options {
            config_endpoint: Some(emulator.url.clone()),
            config_service_token: Some(Secret::new(emulator.config_service_token.clone())),
            gateway: Some(Gateway {
                protocol: "http".into(),
                host: "127.0.0.1".into(),
                port: Some(port),
                path_params_login: None,
                path_params_api: None,
            }),
            config_poll_interval: Duration::from_secs(3600),
            ..Options::default()
        };
        let orch = Orchestrator::new(o).expect("options");
        orch.initialize().await.expect("initialize");
        orch.access_token("acme-corp").await.expect("first token");
        (orch, emulator)
    });
    c.bench_function("cached token lookup", |b| {
        b.to_async(&rt).iter(|| async { orch.access_token(black_box("acme-corp")).await.expect("cached token") })
    });
}

fn limiter_decision(c: &mut Criterion) {
    let limiter = Limiter::new(u32::MAX);
    c.bench_function("limiter decision (go)", |b| b.iter(|| limiter.try_acquire(black_box(tokio::time::Instant::now()))));
    let full = Limiter::new(1);
    let now = tokio::time::Instant::now();
    let _ = full.try_acquire(now);
    c.bench_function("limiter decision (wait)", |b| b.iter(|| full.try_acquire(black_box(now))));
}

fn call_metrics(c: &mut Criterion) {
    // What metrics add to every call: one histogram record and one outcome count.
    let counters = genesys_tenants_core::RequestCounters::default();
    c.bench_function("metrics per call (latency + outcome)", |b| {
        b.iter(|| {
            counters.latency.record(black_box(std::time::Duration::from_micros(850)));
            counters.outcomes.record(black_box(None));
        })
    });
}

fn classify_403(c: &mut Criterion) {
    let body = json!({
        "message": "Unable to perform the requested action. You must have at least one of the following permissions assigned: analytics:conversationDetail:view, analytics:agentConversationDetail:view",
        "code": "missing.any.permissions", "status": 403,
        "messageWithParams": "Unable to perform the requested action. You must have at least one of the following permissions assigned: {permissions}",
        "messageParams": {"permissions": "analytics:conversationDetail:view, analytics:agentConversationDetail:view"},
        "contextId": "c0ffee", "details": [], "errors": []
    });
    c.bench_function("403 classification", |b| {
        b.iter(|| {
            to_error(black_box(&Answer {
                tenant_id: "acme-corp",
                status: 403,
                body: &body,
                www_authenticate: None,
                correlation_id: Some("c-1"),
                call: Some(("POST", "/api/v2/analytics/conversations/details/query")),
            }))
        })
    });
}

fn page_merge(c: &mut Criterion) {
    // A page of 100 users shaped like the emulator's (and Genesys's) UserEntityListing.
    let users: Vec<Value> = (0..100)
        .map(|i| {
            json!({"id": format!("u-{i:04}"), "name": format!("User {i}"), "email": format!("user{i}@example.com"),
            "state": "active", "division": {"id": "d1", "name": "Home"}, "version": 1, "selfUri": format!("/api/v2/users/u-{i:04}")})
        })
        .collect();
    let page = json!({"entities": users, "pageSize": 100, "pageNumber": 1, "total": 1234, "pageCount": 13});
    c.bench_function("page merge (100 users, moved)", |b| {
        b.iter_batched(
            || (page.clone(), Vec::with_capacity(1300)),
            |(body, mut out): (Value, Vec<Value>)| {
                out.extend(take_items(body));
                out
            },
            BatchSize::SmallInput,
        )
    });
    // What the merge cost before items were moved out of the page: a deep copy of every item.
    c.bench_function("page merge (100 users, copied: the old way)", |b| {
        b.iter_batched(
            || (page.clone(), Vec::with_capacity(1300)),
            |(body, mut out): (Value, Vec<Value>)| {
                out.extend(body.get("entities").and_then(Value::as_array).cloned().unwrap_or_default());
                out
            },
            BatchSize::SmallInput,
        )
    });
}

fn catalogue(c: &mut Criterion) {
    let cat = genesys_catalogue::catalogue();
    c.bench_function("catalogue lookup (GET /api/v2/users/search)", |b| {
        b.iter(|| cat.lookup(black_box("GET"), black_box("/api/v2/users/search")))
    });
    c.bench_function("catalogue lookup (two parameters)", |b| {
        b.iter(|| {
            cat.lookup(
                black_box("GET"),
                black_box("/api/v2/analytics/conversations/details/jobs/0b8c6ac8-1f2e-4f63-a6f0-3e1c2a9d0e11/results?cursor=x"),
            )
        })
    });
    c.bench_function("catalogue pre-flight (declared scopes miss)", |b| {
        let declared = vec!["analytics:readonly".to_string(), "routing".to_string()];
        b.iter(|| genesys_tenants_core::operations::missing_scopes(black_box("GET"), black_box("/api/v2/users/u-1"), &declared))
    });
    let mut g = c.benchmark_group("catalogue");
    g.sample_size(10);
    g.bench_function("catalogue parse and index (first use)", |b| {
        b.iter(|| genesys_catalogue::parse(black_box(genesys_catalogue::DATA)).map(|c| c.operations().len()))
    });
    g.finish();
}

criterion_group!(benches, cached_token, limiter_decision, call_metrics, classify_403, page_merge, catalogue);
criterion_main!(benches);
