//! Rotation fan-out: a replica that rotates a tenant publishes it; the others re-read the config and
//! drop their copy of the token. The listener reconnects after failures until it is cancelled.
//!
//! In a Redis Cluster this is classic pub/sub, which the Cluster forwards to every node: the listener
//! subscribes on one seed and moves to the next when that node fails. Rotations are rare, so the
//! cluster-bus broadcast costs nothing that matters; a message missed while reconnecting is caught
//! by the next config poll, as with one server.

use super::keys::Keys;
use super::redis_store::SharedStore;
use serde_json::json;

impl SharedStore {
    /// Tells the other replicas that a tenant rotated.
    pub async fn publish_rotation(&self, tenant_id: &str) {
        let channel = Keys::channel(&self.settings.prefix);
        let msg = json!({"type": "rotated", "tenantId": tenant_id, "origin": self.origin}).to_string();
        let _: Result<i64, _> =
            self.run(|mut c| async move { redis::cmd("PUBLISH").arg(channel).arg(msg).query_async(&mut c).await }).await;
    }

    /// Listens for rotations announced by other replicas and calls `on_rotated(tenant_id)`;
    /// reconnects after failures until `cancel` fires.
    pub async fn listen(&self, on_rotated: impl Fn(String) + Send + Sync, cancel: tokio_util::sync::CancellationToken) {
        use futures::StreamExt;
        let channel = Keys::channel(&self.settings.prefix);
        let seeds = &self.target.seeds;
        for turn in 0usize.. {
            let seed = &seeds[turn % seeds.len()];
            let attempt = async {
                let mut ps = seed.get_async_pubsub().await?;
                ps.subscribe(&channel).await?;
                let mut stream = ps.on_message();
                while let Some(msg) = stream.next().await {
                    let Ok(payload) = msg.get_payload::<String>() else { continue };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload) else { continue };
                    if v["type"] == "rotated" && v["origin"] != self.origin.as_str() {
                        if let Some(t) = v["tenantId"].as_str() {
                            on_rotated(t.to_string());
                        }
                    }
                }
                Ok::<(), redis::RedisError>(())
            };
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = attempt => {}
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(self.settings.retry_pause) => {}
            }
        }
    }
}
