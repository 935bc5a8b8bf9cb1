//! The Notifications API against a real emulator on 127.0.0.1:0: REST channels and subscriptions,
//! the 20-channel eviction, the 1,000-topic limit, and the WebSocket (heartbeat, ping/pong,
//! socket_closing, expiry, kill, silence, fan-out) through a real WebSocket client.

use futures::{SinkExt, StreamExt};
use genesys_emulator::notifications::socket::{HEARTBEAT, PONG, SOCKET_CLOSING};
use genesys_emulator::{start, EmulatorHandle, World};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A bound on every wait, so a broken emulator fails the test instead of hanging it.
const BOUND: Duration = Duration::from_secs(10);

struct Env {
    emu: EmulatorHandle,
    http: reqwest::Client,
}

async fn env() -> Env {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emu = start(World::demo(), Default::default()).await.expect("emulator starts");
    Env { emu, http: reqwest::Client::new() }
}

impl Env {
    async fn control(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}/__control/{path}", self.emu.url);
        let mut rb = self.http.request(m, url).header("X-Service-Token", &self.emu.config_service_token);
        if !body.is_null() {
            rb = rb.json(&body);
        }
        let r = rb.send().await.expect("control call");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn ok(&self, method: &str, path: &str, body: Value) -> Value {
        let (s, v) = self.control(method, path, body).await;
        assert!((200..300).contains(&s), "{method} {path}: {s} {v}");
        v
    }

    /// `(clientId, orgId, token)` of a demo tenant.
    async fn login(&self, tenant: &str) -> (String, String, String) {
        let world = self.ok("GET", "world", Value::Null).await;
        let c = world["clients"].as_object().unwrap().values().find(|c| c["tenantId"] == tenant).unwrap().clone();
        let (id, secret) = (c["clientId"].as_str().unwrap().to_string(), c["secret"].as_str().unwrap().to_string());
        let r = self
            .http
            .post(format!("{}/oauth/token", self.emu.url))
            .basic_auth(&id, Some(&secret))
            .body("grant_type=client_credentials")
            .send()
            .await
            .unwrap();
        let token = r.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
        (id, c["orgId"].as_str().unwrap().to_string(), token)
    }

    async fn api(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut rb = self.http.request(m, format!("{}{path}", self.emu.url)).bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn channel(&self, token: &str) -> Value {
        let (s, v) = self.api("POST", "/api/v2/notifications/channels", token, None).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    async fn subscribe(&self, token: &str, channel: &str, topics: &[&str]) -> (u16, Value) {
        let body = json!(topics.iter().map(|t| json!({"id": t})).collect::<Vec<_>>());
        self.api("PUT", &format!("/api/v2/notifications/channels/{channel}/subscriptions"), token, Some(body)).await
    }
}

async fn connect(channel: &Value) -> Ws {
    let uri = channel["connectUri"].as_str().unwrap();
    tokio::time::timeout(BOUND, tokio_tungstenite::connect_async(uri)).await.expect("connects in time").expect("connects").0
}

/// The next frame (text, or `None` for a close frame / the end), within [`BOUND`].
async fn next(ws: &mut Ws) -> Option<Result<String, String>> {
    match tokio::time::timeout(BOUND, ws.next()).await.expect("a frame in time") {
        Some(Ok(Message::Text(t))) => Some(Ok(t.to_string())),
        Some(Ok(Message::Close(f))) => Some(Err(format!("close {}", f.map(|f| f.reason.to_string()).unwrap_or_default()))),
        Some(Ok(other)) => Some(Ok(format!("{other:?}"))),
        Some(Err(e)) => Some(Err(format!("error {e}"))),
        None => None,
    }
}

/// The next text frame that is not a heartbeat.
async fn next_non_heartbeat(ws: &mut Ws) -> Option<Result<String, String>> {
    for _ in 0..1000 {
        match next(ws).await {
            Some(Ok(t)) if t == HEARTBEAT => continue,
            other => return other,
        }
    }
    None
}

#[tokio::test]
async fn channels_and_subscriptions_over_rest() {
    let e = env().await;
    let (client, _, token) = e.login("acme-corp").await;
    let (_, _, token2) = e.login("acme-corp").await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    assert!(id.starts_with("streaming-0-"), "{id}");
    assert_eq!(ch["connectUri"], format!("{}/channels/{id}", e.emu.url.replace("http://", "ws://")));
    assert!(ch["expires"].as_str().unwrap().ends_with('Z'));
    e.channel(&token2).await;

    // Listing: this token's channels, or all of the client's.
    let (_, mine) = e.api("GET", "/api/v2/notifications/channels", &token, None).await;
    assert_eq!(mine["entities"].as_array().unwrap().len(), 1);
    // The other token's channel is shown without its id (or connectUri), as the API reference says.
    let (_, all) = e.api("GET", "/api/v2/notifications/channels?includechannels=oauthclient", &token, None).await;
    let all = all["entities"].as_array().unwrap();
    assert_eq!((all.len(), &all[0]), (2, &ch));
    assert_eq!(all[1].as_object().unwrap().keys().collect::<Vec<_>>(), ["expires"]);

    let subs = format!("/api/v2/notifications/channels/{id}/subscriptions");
    let (s, v) = e.subscribe(&token, id, &["v2.users.b.presence", "v2.users.a.presence"]).await;
    assert_eq!((s, v), (200, json!({"entities": [{"id": "v2.users.a.presence"}, {"id": "v2.users.b.presence"}]})));
    let (s, v) = e.api("POST", &subs, &token, Some(json!([{"id": "v2.users.c.presence"}, {"id": "v2.users.a.presence"}]))).await;
    assert_eq!(s, 200);
    assert_eq!(v["entities"].as_array().unwrap().len(), 3);
    let (_, v) = e.api("GET", &subs, &token, None).await;
    assert_eq!(v["entities"].as_array().unwrap().len(), 3);
    let (s, _) = e.api("DELETE", &subs, &token, None).await;
    assert_eq!(s, 204);
    let (_, v) = e.api("GET", &subs, &token, None).await;
    assert_eq!(v, json!({"entities": []}));

    // Bad bodies and unknown channels.
    let (s, v) = e.api("PUT", &subs, &token, Some(json!({"id": "x"}))).await;
    assert_eq!((s, v["code"].as_str()), (400, Some("bad.request")));
    let (s, _) = e.api("PUT", &subs, &token, Some(json!([{"name": "x"}]))).await;
    assert_eq!(s, 400);
    let (s, v) = e.api("GET", "/api/v2/notifications/channels/streaming-0-nope/subscriptions", &token, None).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not.found")));
    // Another client's channel is not found either.
    let (_, _, globex) = e.login("globex").await;
    let (s, _) = e.api("GET", &subs, &globex, None).await;
    assert_eq!(s, 404);
    // Without a token, as every API route.
    let (s, _) = e.api("GET", &subs, "nope", None).await;
    assert_eq!(s, 401);

    // HEAD: 200 while the channel exists (connected or not), 404 for another client or an unknown id.
    let head = format!("/api/v2/notifications/channels/{id}");
    assert_eq!(e.api("HEAD", &head, &token, None).await.0, 200);
    assert_eq!(e.api("HEAD", &head, &globex, None).await.0, 404);
    assert_eq!(e.api("HEAD", "/api/v2/notifications/channels/streaming-0-nope", &token, None).await.0, 404);
    let c = e.ok("GET", "notifications/counters", Value::Null).await;
    // Every call on the subscriptions route counts, refused ones too: 5 good, 2 bad bodies, 1 unknown channel.
    assert_eq!(
        (c["clients"][&client]["channelsCreated"].as_u64(), c["clients"][&client]["subscriptionCalls"].as_u64()),
        (Some(2), Some(8))
    );
}

#[tokio::test]
async fn the_21st_channel_evicts_the_least_recently_used_unconnected_first() {
    let e = env().await;
    let (client, _, token) = e.login("acme").await;
    let all = |token: String| {
        let e = &e;
        async move {
            let (_, v) = e.api("GET", "/api/v2/notifications/channels?includechannels=oauthclient", &token, None).await;
            v["entities"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    // The oldest channel has a socket; the next 19 have none.
    let first = e.channel(&token).await;
    let first_id = first["id"].as_str().unwrap().to_string();
    let _ws = connect(&first).await;
    let second = e.channel(&token).await["id"].as_str().unwrap().to_string();
    e.subscribe(&token, &second, &["v2.users.1.presence"]).await;
    for _ in 2..20 {
        e.channel(&token).await;
    }
    assert_eq!(all(token.clone()).await.len(), 20);
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(c["clients"][&client]["evictions"], 0);

    // The 21st removes the oldest channel without a connection (the second), not the connected first one.
    let newest = e.channel(&token).await;
    let ids = all(token.clone()).await;
    assert_eq!(ids.len(), 20);
    assert!(ids.contains(&first_id) && !ids.contains(&second));
    assert_eq!(ids.last(), newest["id"].as_str().map(str::to_string).as_ref());
    // Its subscriptions are gone with it.
    let (s, _) = e.api("GET", &format!("/api/v2/notifications/channels/{second}/subscriptions"), &token, None).await;
    assert_eq!(s, 404);
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!((c["clients"][&client]["evictions"].as_u64(), c["clients"][&client]["channelsCreated"].as_u64()), (Some(1), Some(21)));

    // All connected: the least recently used goes, and its socket is closed. (A limit of 3 keeps it short.)
    e.ok("PUT", "notifications/settings", json!({"maxChannelsPerClient": 3})).await;
    let (other, _, t2) = e.login("acme-corp").await;
    let chans = [e.channel(&t2).await, e.channel(&t2).await, e.channel(&t2).await];
    let mut sockets = Vec::new();
    for ch in &chans {
        sockets.push(connect(ch).await);
    }
    let id = |i: usize| chans[i]["id"].as_str().unwrap().to_string();
    // Using the first (a subscription call) makes the second the least recently used.
    e.api("GET", &format!("/api/v2/notifications/channels/{}/subscriptions", id(0)), &t2, None).await;
    e.channel(&t2).await;
    let ids = all(t2.clone()).await;
    assert!(ids.contains(&id(0)) && !ids.contains(&id(1)) && ids.contains(&id(2)), "{ids:?}");
    assert_eq!(next_non_heartbeat(&mut sockets[1]).await, Some(Err("close channel evicted: too many channels for this client".into())));
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(c["clients"][&other]["evictions"], 1);
    // Another client's budget is its own.
    assert_eq!(c["clients"][&client]["evictions"], 1);
    assert_eq!(c["liveChannels"], 23);
}

#[tokio::test]
async fn a_channel_holds_at_most_1000_topics() {
    let e = env().await;
    let (client, _, token) = e.login("acme-corp").await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    let topics: Vec<String> = (0..1000).map(|i| format!("v2.users.{i}.presence")).collect();
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let (s, v) = e.subscribe(&token, id, &refs).await;
    assert_eq!((s, v["entities"].as_array().unwrap().len()), (200, 1000));

    let subs = format!("/api/v2/notifications/channels/{id}/subscriptions");
    let (s, v) = e.api("POST", &subs, &token, Some(json!([{"id": "v2.users.x.presence"}]))).await;
    assert_eq!((s, v["code"].as_str(), v["status"].as_u64()), (400, Some("notification.subscription.limit"), Some(400)));
    // Re-adding topics it has is no change.
    let (s, _) = e.api("POST", &subs, &token, Some(json!([{"id": "v2.users.7.presence"}]))).await;
    assert_eq!(s, 200);
    let mut over = refs.clone();
    over.push("v2.users.x.presence");
    let (s, _) = e.subscribe(&token, id, &over).await;
    assert_eq!(s, 400);
    // A refused call changes nothing.
    let (_, v) = e.api("GET", &subs, &token, None).await;
    assert_eq!(v["entities"].as_array().unwrap().len(), 1000);
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(c["clients"][&client]["topicLimitRefusals"], 2);
}

#[tokio::test]
async fn heartbeat_and_ping_pong() {
    let e = env().await;
    e.ok("PUT", "notifications/settings", json!({"heartbeatMs": 50})).await;
    let (_, _, token) = e.login("acme-corp").await;
    let ch = e.channel(&token).await;
    let mut ws = connect(&ch).await;
    assert_eq!(next(&mut ws).await, Some(Ok(HEARTBEAT.to_string())));
    assert_eq!(next(&mut ws).await, Some(Ok(HEARTBEAT.to_string())));
    ws.send(Message::text(r#"{"message":"ping"}"#)).await.unwrap();
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Ok(PONG.to_string())));
    // Anything else is ignored: the next frame is a heartbeat, not an answer.
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(next(&mut ws).await, Some(Ok(HEARTBEAT.to_string())));
}

#[tokio::test]
async fn socket_closing_then_close_and_the_channel_stays() {
    let e = env().await;
    let (_, _, token) = e.login("acme-corp").await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    e.subscribe(&token, id, &["v2.users.1.presence"]).await;
    let mut ws = connect(&ch).await;
    let v = e.ok("POST", &format!("notifications/channels/{id}/socket-closing"), json!({"graceMs": 100})).await;
    assert_eq!(v, json!({"channels": 1, "sockets": 1}));
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Ok(SOCKET_CLOSING.to_string())));
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Err("close socket closing".into())));
    // As the Java SDK's handler does (it reconnects the same URI): the channel and its topics remain.
    let mut again = connect(&ch).await;
    e.ok("POST", "notifications/publish", json!({"topic": "v2.users.1.presence"})).await;
    let ev: Value = serde_json::from_str(&next_non_heartbeat(&mut again).await.unwrap().unwrap()).unwrap();
    assert_eq!(ev["eventBody"]["seq"], 1);
    // By client: every channel of the client is warned.
    let (client, _, _) = e.login("acme-corp").await;
    let v = e.ok("POST", &format!("notifications/clients/{client}/socket-closing"), json!({"graceMs": 60_000})).await;
    assert_eq!(v, json!({"channels": 1, "sockets": 1}));
    assert_eq!(next_non_heartbeat(&mut again).await, Some(Ok(SOCKET_CLOSING.to_string())));
}

#[tokio::test]
async fn a_channel_expires() {
    let e = env().await;
    let (client, _, token) = e.login("acme-corp").await;
    e.ok("PUT", "notifications/settings", json!({"channelLifetimeMs": 2_000})).await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    e.subscribe(&token, id, &["v2.users.1.presence"]).await;
    let mut ws = connect(&ch).await;
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Err("close channel expired".into())));
    let (s, _) = e.api("GET", &format!("/api/v2/notifications/channels/{id}/subscriptions"), &token, None).await;
    assert_eq!(s, 404);
    let (_, all) = e.api("GET", "/api/v2/notifications/channels?includechannels=oauthclient", &token, None).await;
    assert_eq!(all["entities"], json!([]));
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(c["clients"][&client]["expired"], 1);

    // Expired by a control call, now.
    e.ok("PUT", "notifications/settings", json!({"channelLifetimeMs": 86_400_000})).await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    let mut ws = connect(&ch).await;
    assert_eq!(e.ok("POST", &format!("notifications/channels/{id}/expire"), Value::Null).await, json!({"channels": 1, "sockets": 1}));
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Err("close channel expired".into())));
    assert_eq!(e.control("POST", &format!("notifications/channels/{id}/expire"), Value::Null).await.0, 404);
    // A socket cannot connect to a channel that is gone.
    assert!(tokio_tungstenite::connect_async(ch["connectUri"].as_str().unwrap()).await.is_err());
}

#[tokio::test]
async fn resubscribing_renews_a_channel() {
    let e = env().await;
    let (_, _, token) = e.login("acme-corp").await;
    e.ok("PUT", "notifications/settings", json!({"channelLifetimeMs": 1_000})).await;
    let ch = e.channel(&token).await;
    let id = ch["id"].as_str().unwrap();
    let _ws = connect(&ch).await;
    let mut last = ch["expires"].as_str().unwrap().to_string();
    // Twice its lifetime, renewed every quarter of it: still there, still connected, `expires` later each time.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (s, _) = e.subscribe(&token, id, &["v2.users.1.presence"]).await;
        assert_eq!(s, 200);
        let (_, v) = e.api("GET", "/api/v2/notifications/channels", &token, None).await;
        let now = v["entities"][0]["expires"].as_str().unwrap().to_string();
        assert!(now > last, "{now} after {last}");
        last = now;
    }
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(
        (c["channels"][0]["connected"].as_bool(), c["clients"].as_object().unwrap().values().next().unwrap()["expired"].as_u64()),
        (Some(true), Some(0))
    );
}

#[tokio::test]
async fn events_fan_out_to_every_subscribed_channel() {
    let e = env().await;
    let (client, org, token) = e.login("acme-corp").await;
    let (_, _, other_token) = e.login("acme").await;
    let topic = "v2.routing.queues.q1.conversations";
    let (a, b, c) = (e.channel(&token).await, e.channel(&token).await, e.channel(&token).await);
    let d = e.channel(&other_token).await;
    e.subscribe(&token, a["id"].as_str().unwrap(), &[topic]).await;
    e.subscribe(&token, b["id"].as_str().unwrap(), &[topic, "v2.users.1.presence"]).await;
    e.subscribe(&token, c["id"].as_str().unwrap(), &["v2.users.1.presence"]).await;
    e.subscribe(&other_token, d["id"].as_str().unwrap(), &[topic]).await;
    let (mut wa, mut wb, _wc, _wd) = (connect(&a).await, connect(&b).await, connect(&c).await, connect(&d).await);

    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "count": 50, "orgId": org, "eventBody": {"kind": "t"}})).await;
    assert_eq!((v["published"].as_u64(), v["queued"].as_u64(), v["done"].as_bool()), (Some(50), Some(100), Some(true)));
    let mut seen = Vec::new();
    for ws in [&mut wa, &mut wb] {
        let mut ids = Vec::new();
        for seq in 1..=50 {
            let ev: Value = serde_json::from_str(&next_non_heartbeat(ws).await.unwrap().unwrap()).unwrap();
            assert_eq!((ev["topicName"].as_str(), ev["version"].as_str()), (Some(topic), Some("2")));
            assert_eq!(ev["eventBody"], json!({"kind": "t", "seq": seq}));
            ids.push(ev["metadata"]["CorrelationId"].as_str().unwrap().to_string());
        }
        seen.push(ids);
    }
    assert_eq!(seen[0], seen[1], "the same event carries the same CorrelationId on both channels");
    assert_eq!(seen[0].iter().collect::<std::collections::HashSet<_>>().len(), 50);

    let counters = e.ok("GET", "notifications", Value::Null).await;
    let delivered =
        |ch: &Value| counters["channels"].as_array().unwrap().iter().find(|x| x["id"] == ch["id"]).unwrap()["delivered"].as_u64().unwrap();
    assert_eq!((delivered(&a), delivered(&b), delivered(&c), delivered(&d)), (50, 50, 0, 0));
    assert_eq!(counters["liveSockets"], 4);

    // By client, and to every org when neither is given.
    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "clientId": client, "startSeq": 51})).await;
    assert_eq!(v["queued"], 2);
    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "startSeq": 52})).await;
    assert_eq!(v["queued"], 3);
}

#[tokio::test]
async fn kill_silence_and_a_paced_background_publish() {
    let e = env().await;
    e.ok("PUT", "notifications/settings", json!({"heartbeatMs": 50})).await;
    let (_, _, token) = e.login("acme-corp").await;
    let topic = "v2.users.1.presence";
    let (k, s) = (e.channel(&token).await, e.channel(&token).await);
    let (kid, sid) = (k["id"].as_str().unwrap(), s["id"].as_str().unwrap());
    e.subscribe(&token, kid, &[topic]).await;
    e.subscribe(&token, sid, &[topic]).await;
    let (mut wk, mut ws) = (connect(&k).await, connect(&s).await);
    assert_eq!(next(&mut wk).await, Some(Ok(HEARTBEAT.to_string())));

    // Killed: the connection ends without a close frame; the channel remains.
    e.ok("POST", &format!("notifications/channels/{kid}/kill"), Value::Null).await;
    loop {
        match next(&mut wk).await {
            Some(Ok(t)) if t == HEARTBEAT => continue,
            None => break,
            Some(Err(e)) => {
                assert!(e.starts_with("error"), "no close frame: {e}");
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let head = |id: &str| format!("/api/v2/notifications/channels/{id}");
    assert_eq!(e.api("GET", &format!("{}/subscriptions", head(kid)), &token, None).await.0, 200);
    let connected = |c: &Value, id: &str| c["channels"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap()["connected"].clone();
    let mut gone = false;
    for _ in 0..200 {
        // The server notices its socket ended right after it dropped it.
        if connected(&e.ok("GET", "notifications", Value::Null).await, kid) == false {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(gone);

    // Silenced: still connected, but no heartbeat, event or pong reaches it.
    e.ok("POST", &format!("notifications/channels/{sid}/silence"), Value::Null).await;
    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "count": 3})).await;
    assert_eq!((v["queued"].as_u64(), v["undelivered"].as_u64()), (Some(0), Some(6)));
    assert_eq!(connected(&e.ok("GET", "notifications", Value::Null).await, sid), true);
    ws.send(Message::text(r#"{"message":"ping"}"#)).await.unwrap();

    // Paced in the background; progress by id. The silenced socket gets none of it.
    let sub = e.channel(&token).await;
    e.subscribe(&token, sub["id"].as_str().unwrap(), &[topic]).await;
    let mut wsub = connect(&sub).await;
    let (st, v) =
        e.control("POST", "notifications/publish", json!({"topic": topic, "count": 20, "ratePerSecond": 200, "background": true})).await;
    assert_eq!(st, 202);
    let id = v["id"].as_u64().unwrap();
    for seq in 1..=20 {
        let ev: Value = serde_json::from_str(&next_non_heartbeat(&mut wsub).await.unwrap().unwrap()).unwrap();
        assert_eq!(ev["eventBody"]["seq"], seq);
    }
    let mut done = false;
    for _ in 0..200 {
        let v = e.ok("GET", &format!("notifications/publish/{id}"), Value::Null).await;
        if v["done"] == true {
            assert_eq!((v["published"].as_u64(), v["queued"].as_u64()), (Some(20), Some(20)));
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(done);
    let c = e.ok("GET", "notifications", Value::Null).await;
    let silenced = c["channels"].as_array().unwrap().iter().find(|x| x["id"] == sid).unwrap().clone();
    assert_eq!((silenced["delivered"].as_u64(), silenced["silenced"].as_bool()), (Some(0), Some(true)));
    // Neither an event nor the pong reached the silenced socket (heartbeats from before the silence may
    // have): close it ourselves and read what was buffered.
    ws.close(None).await.unwrap();
    for _ in 0..1000 {
        match next(&mut ws).await {
            Some(Ok(t)) if t == HEARTBEAT => continue,
            None | Some(Err(_)) => break,
            other => panic!("a silenced socket wrote {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_foreign_connect_uri_and_control_errors() {
    let e = env().await;
    let (_, _, token) = e.login("acme-corp").await;
    e.ok("PUT", "notifications/settings", json!({"connectUriBase": "wss://streaming.evil.example"})).await;
    let ch = e.channel(&token).await;
    assert_eq!(ch["connectUri"], format!("wss://streaming.evil.example/channels/{}", ch["id"].as_str().unwrap()));
    e.ok("PUT", "notifications/settings", json!({"connectUriBase": null})).await;
    assert!(e.channel(&token).await["connectUri"].as_str().unwrap().starts_with("ws://127.0.0.1:"));

    assert_eq!(e.control("PUT", "notifications/settings", json!({"connectUriBase": "http://x"})).await.0, 400);
    assert_eq!(e.control("PUT", "notifications/settings", json!({"heartbeatMs": 0})).await.0, 400);
    assert_eq!(e.control("POST", "notifications/publish", json!({"count": 1})).await.0, 400);
    assert_eq!(e.control("POST", "notifications/publish", json!({"topic": "t", "count": 0})).await.0, 400);
    assert_eq!(e.control("POST", "notifications/channels/nope/kill", Value::Null).await.0, 404);
    assert_eq!(e.control("GET", "notifications/publish/999", Value::Null).await.0, 404);
    let r = e.http.get(format!("{}/__control/notifications", e.emu.url)).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // A world reset closes every channel; a plain reset only zeroes the counts.
    e.ok("POST", "reset", Value::Null).await;
    assert_eq!(e.ok("GET", "notifications", Value::Null).await["liveChannels"], 2);
    e.ok("POST", "reset", json!({"world": true})).await;
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!((c["liveChannels"].as_u64(), c["settings"]["heartbeatMs"].as_u64()), (Some(0), Some(30_000)));
    assert_eq!(e.emu.counters()["notifications"]["liveChannels"], 0);
}

#[tokio::test]
async fn channels_die_with_their_token_when_asked() {
    let e = env().await;
    let (client, _, token) = e.login("acme-corp").await;
    let kept = e.channel(&token).await;
    // Off (the default): revoking the token leaves its channel.
    e.ok("POST", &format!("clients/{client}/revoke"), Value::Null).await;
    let (_, _, token) = e.login("acme-corp").await;
    let (_, v) = e.api("GET", "/api/v2/notifications/channels?includechannels=oauthclient", &token, None).await;
    assert_eq!(v["entities"].as_array().unwrap().len(), 1);

    e.ok("PUT", "notifications/settings", json!({"channelsDieWithToken": true})).await;
    let ch = e.channel(&token).await;
    let mut ws = connect(&ch).await;
    // DELETE /api/v2/tokens/me revokes the calling token: its channel goes, the older one (another token) stays.
    assert_eq!(e.api("DELETE", "/api/v2/tokens/me", &token, None).await.0, 204);
    assert_eq!(next_non_heartbeat(&mut ws).await, Some(Err("close the channel's token expired or was revoked".into())));
    let c = e.ok("GET", "notifications", Value::Null).await;
    assert_eq!(c["clients"][&client]["tokenDeaths"], 1);
    let ids: Vec<&str> = c["channels"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [kept["id"].as_str().unwrap()]);
}

/// Reads `n` events from `ws` (skipping heartbeats) and returns their `eventBody.seq` values.
async fn read_seqs(mut ws: Ws, n: usize) -> Vec<u64> {
    let mut seqs = Vec::with_capacity(n);
    while seqs.len() < n {
        match next_non_heartbeat(&mut ws).await {
            Some(Ok(t)) => seqs.push(serde_json::from_str::<Value>(&t).unwrap()["eventBody"]["seq"].as_u64().unwrap()),
            other => panic!("after {} events: {other:?}", seqs.len()),
        }
    }
    seqs
}

#[tokio::test]
async fn ten_thousand_events_reach_three_sockets_in_order_and_a_small_queue_only_slows_the_publisher() {
    let e = env().await;
    let (_, _, token) = e.login("acme-corp").await;
    let topic = "v2.routing.queues.q1.conversations";
    let mut readers = Vec::new();
    for _ in 0..3 {
        let ch = e.channel(&token).await;
        e.subscribe(&token, ch["id"].as_str().unwrap(), &[topic]).await;
        readers.push(tokio::spawn(read_seqs(connect(&ch).await, 10_000)));
    }
    let started = std::time::Instant::now();
    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "count": 10_000})).await;
    assert_eq!((v["queued"].as_u64(), v["undelivered"].as_u64()), (Some(30_000), Some(0)));
    for r in readers {
        assert_eq!(r.await.unwrap(), (1..=10_000).collect::<Vec<u64>>());
    }
    eprintln!("10,000 events x 3 sockets: {:?}", started.elapsed());

    // A queue of 2 events: the publisher waits for the reader instead of dropping.
    e.ok("PUT", "notifications/settings", json!({"socketQueue": 2})).await;
    let ch = e.channel(&token).await;
    e.subscribe(&token, ch["id"].as_str().unwrap(), &["v2.users.1.presence"]).await;
    let reader = tokio::spawn(read_seqs(connect(&ch).await, 500));
    let v = e.ok("POST", "notifications/publish", json!({"topic": "v2.users.1.presence", "count": 500})).await;
    assert_eq!((v["queued"].as_u64(), v["undelivered"].as_u64()), (Some(500), Some(0)));
    assert_eq!(reader.await.unwrap(), (1..=500).collect::<Vec<u64>>());
    // A socket counts a batch once it is written: the count may trail the reader by a moment.
    let mut delivered = 0;
    for _ in 0..200 {
        let c = e.ok("GET", "notifications", Value::Null).await;
        assert_eq!(c["undelivered"], 0);
        delivered = c["eventsDelivered"].as_u64().unwrap();
        if delivered == 30_500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(delivered, 30_500);
}

#[tokio::test]
async fn a_socket_that_never_reads_is_closed_and_does_not_stall_the_others() {
    let e = env().await;
    let (_, _, token) = e.login("acme-corp").await;
    let topic = "v2.users.1.presence";
    e.ok("PUT", "notifications/settings", json!({"socketQueue": 4})).await;
    let (stuck, live) = (e.channel(&token).await, e.channel(&token).await);
    for ch in [&stuck, &live] {
        e.subscribe(&token, ch["id"].as_str().unwrap(), &[topic]).await;
    }
    // The stuck client never reads: its TCP buffers fill, then its queue, then the publisher gives up on it once.
    let _stuck_ws = connect(&stuck).await;
    let reader = tokio::spawn(read_seqs(connect(&live).await, 300));
    let pad = "x".repeat(64 * 1024);
    let v = e.ok("POST", "notifications/publish", json!({"topic": topic, "count": 300, "eventBody": {"pad": pad}})).await;
    assert_eq!(reader.await.unwrap(), (1..=300).collect::<Vec<u64>>(), "the reading socket got every event");
    let queued = v["queued"].as_u64().unwrap();
    assert!(queued < 600 && v["undelivered"].as_u64().unwrap() == 600 - queued, "{v}");
    let c = e.ok("GET", "notifications", Value::Null).await;
    let stuck_now = c["channels"].as_array().unwrap().iter().find(|x| x["id"] == stuck["id"]).unwrap().clone();
    assert_eq!(stuck_now["connected"], false, "closed as too slow; the channel stays");
}
