//! One task for every tenant's proactive rotation: a min-heap of due times fed by a channel —
//! not a timer per tenant. Rescheduling a tenant bumps its generation; stale heap entries are
//! skipped when they come up.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What to run when a tenant's rotation is due.
pub type RotateFn = Arc<dyn Fn(String) + Send + Sync>;

enum Command {
    Set { tenant_id: String, every: Option<Duration> },
}

/// Handle to the scheduler task.
#[derive(Clone, Debug)]
pub struct Scheduler {
    tx: mpsc::UnboundedSender<Command>,
}

impl Scheduler {
    /// Spawns the scheduler task; it ends when `cancel` fires.
    pub fn spawn(rotate: RotateFn, cancel: CancellationToken) -> (Scheduler, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let handle = tokio::spawn(run(rx, rotate, cancel));
        (Scheduler { tx }, handle)
    }

    /// Rotates `tenant_id` every `every` from now on (`None` stops it).
    pub fn set(&self, tenant_id: &str, every: Option<Duration>) {
        let _ = self.tx.send(Command::Set { tenant_id: tenant_id.to_string(), every });
    }
}

async fn run(mut rx: mpsc::UnboundedReceiver<Command>, rotate: RotateFn, cancel: CancellationToken) {
    // One allocation per tenant id, shared by its plan and its heap entries.
    let mut heap: BinaryHeap<Reverse<(Instant, u64, Arc<str>)>> = BinaryHeap::new();
    let mut plans: HashMap<Arc<str>, (u64, Duration)> = HashMap::new();
    let mut generation: u64 = 0;
    loop {
        let next_due = heap.peek().map(|Reverse((at, _, _))| *at);
        tokio::select! {
            _ = cancel.cancelled() => return,
            cmd = rx.recv() => match cmd {
                None => return,
                Some(Command::Set { tenant_id, every }) => match every {
                    Some(every) => {
                        generation += 1;
                        let id: Arc<str> = Arc::from(tenant_id);
                        plans.insert(Arc::clone(&id), (generation, every));
                        heap.push(Reverse((Instant::now() + every, generation, id)));
                    }
                    None => { plans.remove(tenant_id.as_str()); }
                },
            },
            _ = sleep_until_opt(next_due) => {
                let now = Instant::now();
                while let Some(Reverse((at, gen, _))) = heap.peek() {
                    if *at > now { break; }
                    let gen = *gen;
                    let Some(Reverse((_, _, tenant_id))) = heap.pop() else { break };
                    if let Some((current, every)) = plans.get(&tenant_id).copied() {
                        if current == gen {
                            rotate(tenant_id.to_string());
                            heap.push(Reverse((now + every, gen, tenant_id)));
                        }
                    }
                }
                // Drop stale entries when the heap grows well past the live plans.
                if heap.len() > 2 * plans.len() + 64 {
                    heap.retain(|Reverse((_, gen, id))| plans.get(id).is_some_and(|(g, _)| g == gen));
                }
            }
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[tokio::test(start_paused = true)]
    async fn rotates_on_schedule_and_stops() {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let s2 = Arc::clone(&seen);
        let cancel = CancellationToken::new();
        let (sched, handle) = Scheduler::spawn(Arc::new(move |t| s2.lock().unwrap().push(t)), cancel.clone());
        sched.set("acme", Some(Duration::from_secs(10)));
        sched.set("acme-corp", Some(Duration::from_secs(25)));
        tokio::time::sleep(Duration::from_secs(31)).await;
        assert_eq!(*seen.lock().unwrap(), vec!["acme", "acme", "acme-corp", "acme"]);
        sched.set("acme", None);
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert_eq!(seen.lock().unwrap().iter().filter(|t| *t == "acme").count(), 3);
        cancel.cancel();
        handle.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn rescheduling_replaces_the_old_plan() {
        let count = Arc::new(Mutex::new(0));
        let c2 = Arc::clone(&count);
        let (sched, _h) = Scheduler::spawn(Arc::new(move |_| *c2.lock().unwrap() += 1), CancellationToken::new());
        sched.set("a", Some(Duration::from_secs(1)));
        sched.set("a", Some(Duration::from_secs(100)));
        tokio::time::sleep(Duration::from_secs(50)).await;
        assert_eq!(*count.lock().unwrap(), 0);
    }
}
