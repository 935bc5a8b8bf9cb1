//! How a channel lasts or changes hands: a renewal in place ahead of its expiry, a move
//! (make-before-break, the old socket drained before it is closed), a rebuild after a lost socket,
//! the pause after a failure, and the timers that start them.

use super::{Drain, Manager, MAX_BACKOFF, MAX_DRAIN, MAX_MOVE_MARGIN};
use crate::error::Error;
use crate::events::EventKind;
use crate::notifications::rest::{channel_expires, set_subscriptions};
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

impl Manager {
    /// When to act on a channel, and whether by a renewal (`true`: its own expiry comes first —
    /// setting its subscriptions again extends it, as Genesys documents) or a move (its token's
    /// expiry comes first: a channel may die with the token that created it): a margin (a fifth of
    /// what is left, at most [`MAX_MOVE_MARGIN`]) before the earlier of the two.
    pub(super) fn move_at(&self, expires: Option<SystemTime>) -> Option<(Instant, bool)> {
        let now = Instant::now();
        let channel = expires.map(|e| now + e.duration_since(SystemTime::now()).unwrap_or_default());
        let token = self.pipeline.tokens.cached(&self.tenant).map(|t| t.expires_at);
        let (end, renew) = match (channel, token) {
            (Some(c), Some(t)) => (c.min(t), c <= t),
            (Some(c), None) => (c, true),
            (None, Some(t)) => (t, false),
            (None, None) => return None,
        };
        let left = end.saturating_duration_since(now);
        Some((end - (left / 5).min(MAX_MOVE_MARGIN), renew))
    }

    /// Renews channel `i` in place ahead of its expiry: its subscriptions set again (same channel,
    /// same socket: nothing to drain, no reorder). The new expiry is read back from the server's
    /// listing; a channel the listing does not show (another token's) is given its lifetime again.
    /// A failed call, or an expiry the server did not extend, falls back to a move.
    pub(super) async fn renew(&mut self, i: usize) {
        let c = &self.channels[i];
        let (id, before, lifetime) = (c.id.clone(), c.expires, c.lifetime);
        let topics: Vec<String> = c.topics.iter().cloned().collect();
        let renewed = match set_subscriptions(&self.pipeline, &self.tenant, &id, &topics).await {
            Ok(()) => match channel_expires(&self.pipeline, &self.tenant, &id).await {
                Ok(Some(e)) if before.is_none_or(|b| e > b) => Some(e),
                Ok(Some(_)) => None, // listed, not extended: renewal does not work here
                Ok(None) => lifetime.map(|l| SystemTime::now() + l),
                Err(_) => None,
            },
            Err(_) => None,
        };
        let Some(expires) = renewed else {
            self.move_channel(i, "expiring").await;
            return;
        };
        self.stats.renewals.fetch_add(1, Ordering::Relaxed);
        let next = self.move_at(Some(expires));
        let c = &mut self.channels[i];
        c.expires = Some(expires);
        (c.move_at, c.renew) = next.map_or((None, false), |(at, renew)| (Some(at), renew));
        self.event(EventKind::NotificationsChannelRenewed, json!({"channelId": id}));
    }

    /// Replaces channel `i` by a new one with the same topics, then closes the old socket.
    pub(super) async fn move_channel(&mut self, i: usize, reason: &str) {
        let topics: Vec<String> = self.channels[i].topics.iter().cloned().collect();
        match self.open(topics, reason).await {
            Ok(new) => {
                self.stats.moves.fetch_add(1, Ordering::Relaxed);
                let new_id = new.id.clone();
                let old = std::mem::replace(&mut self.channels[i], new);
                if let Some(socket) = old.socket {
                    let events = socket.events.load(Ordering::Relaxed);
                    let duplicates = self.router.duplicates.load(Ordering::Relaxed);
                    self.draining.push(Drain { socket, duplicates, events, quiet_looks: 0, until: Instant::now() + MAX_DRAIN });
                }
                self.event(EventKind::NotificationsChannelMoved, json!({"fromChannelId": old.id, "channelId": new_id, "reason": reason}));
            }
            Err(e) => self.failed(i, reason, &e),
        }
    }

    /// Closes the old sockets that have drained (see the module's comment).
    pub(super) async fn drain(&mut self) {
        let duplicates = self.router.duplicates.load(Ordering::Relaxed);
        let now = Instant::now();
        let mut i = 0;
        while i < self.draining.len() {
            let d = &mut self.draining[i];
            let events = d.socket.events.load(Ordering::Relaxed);
            d.quiet_looks = if events == d.events { d.quiet_looks + 1 } else { 0 };
            d.events = events;
            if duplicates > d.duplicates || d.quiet_looks >= 2 || now >= d.until || d.socket.is_finished() {
                let d = self.draining.swap_remove(i);
                self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
                d.socket.close().await;
                continue;
            }
            i += 1;
        }
    }

    /// After a lost socket: the same channel again (its subscriptions set again, which also proves
    /// it still exists), else a new one.
    pub(super) async fn rebuild(&mut self, i: usize) {
        let c = &self.channels[i];
        let (id, uri) = (c.id.clone(), c.uri.clone());
        let topics: Vec<String> = c.topics.iter().cloned().collect();
        if c.failures == 0 {
            if let Ok(socket) = self.connect(&id, &uri).await {
                if set_subscriptions(&self.pipeline, &self.tenant, &id, &topics).await.is_ok() {
                    let c = &mut self.channels[i];
                    c.socket = Some(socket);
                    c.failures = 0;
                    c.retry_at = None;
                    self.stats.rebuilds.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                self.stats.sockets.fetch_sub(1, Ordering::Relaxed);
                socket.close().await;
            }
        }
        match self.open(topics, "rebuild").await {
            Ok(new) => {
                self.stats.rebuilds.fetch_add(1, Ordering::Relaxed);
                self.channels[i] = new;
            }
            Err(e) => self.failed(i, "rebuild", &e),
        }
    }

    pub(super) fn failed(&mut self, i: usize, what: &str, e: &Error) {
        let c = &mut self.channels[i];
        c.failures = c.failures.saturating_add(1);
        let pause = Duration::from_millis(500u64.saturating_mul(1 << c.failures.min(10))).min(MAX_BACKOFF);
        c.retry_at = Some(Instant::now() + pause);
        let id = c.id.clone();
        self.event(
            EventKind::NotificationsChannelLost,
            json!({"channelId": id, "reason": format!("{what} failed"), "code": e.code(), "retryInMs": pause.as_millis() as u64}),
        );
    }

    /// A timer fired: the first channel due is rebuilt (after a failure), or renewed or moved (ahead
    /// of expiry).
    pub(super) async fn due(&mut self) {
        let now = Instant::now();
        let Some(i) = self.channels.iter().position(|c| c.retry_at.or(c.move_at).is_some_and(|t| t <= now)) else { return };
        let c = &mut self.channels[i];
        if c.retry_at.take().is_some() && c.socket.is_none() {
            self.rebuild(i).await;
        } else {
            c.move_at = None;
            if c.renew && c.socket.is_some() {
                self.renew(i).await;
            } else {
                self.move_channel(i, "expiring").await;
            }
        }
    }
}
