//! One queue per JS environment settles every Promise the binding returns ([`spawn`]).
//!
//! napi-rs's `spawn_future_with_callback` gives each promise its own threadsafe function, which is
//! one libuv async handle, and libuv walks every async handle on each wake-up of Node's thread: with
//! 10,000 calls pending (a heavy tenant waiting in its rate limiter) every other call paid for
//! 10,000 handles each time Node's thread woke. Here a promise is a plain `napi_deferred` kept on
//! Node's thread in a table keyed by a number; the call's future runs on napi's Tokio runtime (the
//! one the core already runs on) and, once done, pushes `(number, outcome)` onto the environment's
//! queue, whose single threadsafe function drains it on Node's thread and settles each promise.
//!
//! Lifetimes. The threadsafe function keeps the event loop alive only while some promise is pending
//! (ref'd when the table goes from empty to one, unref'd when a drain leaves it empty), so a process
//! with nothing pending exits as before. When the environment tears down (process exit, a worker's
//! `terminate()`) a cleanup hook marks the queue closed and aborts the threadsafe function under the
//! queue's lock, so a future finishing later on a runtime thread drops its outcome instead of
//! calling into a freed function; the pending promises go with their environment. A future that
//! panics rejects its promise with the panic's message (as napi-rs did); one dropped unfinished
//! (the runtime shutting down) rejects too, if anything is left to reject.
//!
//! All `unsafe` of the binding's promises lives in this module.

use napi::bindgen_prelude::ToNapiValue;
use napi::{sys, Env, Error, Result, Status};
use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

/// At most this many promises settled per wake-up of Node's thread before the rest wait for the next
/// turn of the event loop (Node's own threadsafe functions stop at 1000 per wake-up too), so a burst
/// such as `close()` rejecting 10,000 calls does not hold timers and I/O for the whole burst.
const BATCH: usize = 1024;

/// What a finished call hands back: its future's output, type-erased on its way across.
type Payload = Box<dyn Any + Send>;

/// Turns a call's payload into the JS value its promise resolves to, or the error it rejects with.
type Finish = Box<dyn FnOnce(&Env, Payload) -> Result<sys::napi_value>>;

/// How a call's future ended.
enum Outcome {
    Done(Payload),
    /// It panicked (the message) or was dropped unfinished.
    Lost(String),
}

/// The threadsafe function's handle, null once the queue is closed.
struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: calling a threadsafe function from any thread is what it is for; the pointer is only used
// under `Shared::state`'s lock, and only while the environment's teardown has not nulled it.
unsafe impl Send for Tsfn {}

/// The part of an environment's queue that runtime threads touch.
struct Shared {
    state: Mutex<State>,
}

struct State {
    tsfn: Tsfn,
    done: VecDeque<(u64, Outcome)>,
    /// A drain has been asked for and has not yet taken the queue.
    scheduled: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned one still holds a consistent queue.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a finished call and wakes Node's thread if no drain is on its way. Called on runtime
    /// threads and, for a call dropped during teardown, on Node's thread.
    fn push(&self, id: u64, outcome: Outcome) {
        let mut st = self.lock();
        if st.tsfn.0.is_null() {
            // Closed: the environment and its promises are gone. Dropped after unlocking.
            drop(st);
            drop(outcome);
            return;
        }
        st.done.push_back((id, outcome));
        if !st.scheduled {
            st.scheduled = st.wake();
        }
    }
}

impl State {
    /// Asks for a drain on Node's thread; false if the function is closed or closing.
    fn wake(&self) -> bool {
        if self.tsfn.0.is_null() {
            return false;
        }
        // SAFETY: the function is live (not nulled), and `self` is borrowed from the locked state,
        // so the teardown hook cannot abort it while this call is inside it. Non-blocking on an
        // unbounded queue: only `napi_closing` can come back, and then teardown drops the queue.
        let status =
            unsafe { sys::napi_call_threadsafe_function(self.tsfn.0, ptr::null_mut(), sys::ThreadsafeFunctionCallMode::nonblocking) };
        status == sys::Status::napi_ok
    }
}

/// A pending promise, on Node's thread.
struct Pending {
    deferred: sys::napi_deferred,
    finish: Finish,
}

/// An environment's queue as Node's thread sees it.
struct Local {
    env: sys::napi_env,
    shared: Arc<Shared>,
    tsfn: sys::napi_threadsafe_function,
    pending: HashMap<u64, Pending>,
    next_id: u64,
    /// Whether the threadsafe function currently keeps the event loop alive.
    refed: bool,
}

thread_local! {
    /// The queues of the environments on this thread (one in Node: each worker has its own thread).
    static LOCALS: RefCell<Vec<Local>> = const { RefCell::new(Vec::new()) };
}

/// Runs the future `make` makes on napi's Tokio runtime and returns a Promise that `finish` settles on
/// Node's thread with the future's output: `Ok` resolves with the value, `Err` rejects with the error.
///
/// The future is made and boxed on the runtime, not here: a call's future holds the whole pipeline's
/// state (13 KB for `request()`), and making it on Node's thread cost every call a copy of that and
/// a fresh allocation there (and, moved by value, once a stack overflow: a call threw `undefined`).
/// `make` holds only the call's arguments.
pub(crate) fn spawn<P, V, F, M, S>(env: &Env, make: M, finish: S) -> Result<sys::napi_value>
where
    P: Send + 'static,
    V: ToNapiValue,
    F: Future<Output = P> + Send + 'static,
    M: FnOnce() -> F + Send + 'static,
    S: FnOnce(&Env, P) -> Result<V> + 'static,
{
    let raw = env.raw();
    let finish: Finish = Box::new(move |env, payload| match payload.downcast::<P>() {
        // SAFETY: `env` is the live environment on its own thread (the drain's), where the value is made.
        Ok(p) => finish(env, *p).and_then(|v| unsafe { V::to_napi_value(env.raw(), v) }),
        Err(_) => Err(Error::new(Status::GenericFailure, "genesys-tenants: a call answered with a value of the wrong type")),
    });
    let (shared, id, promise) = LOCALS.with(|locals| -> Result<_> {
        let mut locals = locals.borrow_mut();
        let at = match locals.iter().position(|l| l.env == raw) {
            Some(at) => at,
            None => {
                locals.push(open(raw)?);
                locals.len() - 1
            }
        };
        let local = &mut locals[at];
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: on Node's thread, inside a call from JS with `raw` its live environment.
        check(unsafe { sys::napi_create_promise(raw, &mut deferred, &mut promise) }, "create a promise")?;
        let id = local.next_id;
        local.next_id += 1;
        local.pending.insert(id, Pending { deferred, finish });
        if !local.refed {
            // SAFETY: as above; the function is live while its `Local` exists (teardown removes both).
            unsafe { sys::napi_ref_threadsafe_function(raw, local.tsfn) };
            local.refed = true;
        }
        Ok((Arc::clone(&local.shared), id, promise))
    })?;
    let mut sender = Sender { shared, id, sent: false };
    napi::bindgen_prelude::spawn(async move {
        let fut = match catch_unwind(AssertUnwindSafe(|| Box::pin(make()))) {
            Ok(fut) => fut,
            Err(p) => return sender.send(Outcome::Lost(panic_message(&*p))),
        };
        let outcome = match (CatchPanic { fut }).await {
            Ok(p) => Outcome::Done(Box::new(p)),
            Err(message) => Outcome::Lost(message),
        };
        sender.send(outcome);
    });
    Ok(promise)
}

/// Creates an environment's queue: its threadsafe function (unref'd: nothing pending yet) and the
/// cleanup hook that closes it at teardown.
fn open(env: sys::napi_env) -> Result<Local> {
    let shared = Arc::new(Shared { state: Mutex::new(State { tsfn: Tsfn(ptr::null_mut()), done: VecDeque::new(), scheduled: false }) });
    let name = "genesys-tenants settle";
    let mut js_name = ptr::null_mut();
    // SAFETY (this function): on Node's thread with `env` live. The threadsafe function's context and
    // finalize data are one strong count of `shared`, given back in `finalize`; the hook's argument
    // is another, given back in `teardown`.
    check(unsafe { sys::napi_create_string_utf8(env, name.as_ptr().cast(), name.len() as isize, &mut js_name) }, "name the queue")?;
    let ctx = Arc::into_raw(Arc::clone(&shared)) as *mut c_void;
    let mut tsfn = ptr::null_mut();
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            ptr::null_mut(),
            ptr::null_mut(),
            js_name,
            0,
            1,
            ctx,
            Some(finalize),
            ctx,
            Some(drain),
            &mut tsfn,
        )
    };
    if status != sys::Status::napi_ok {
        drop(unsafe { Arc::from_raw(ctx as *const Shared) });
        return Err(Error::new(Status::GenericFailure, format!("genesys-tenants: could not create the settle queue ({status})")));
    }
    unsafe { sys::napi_unref_threadsafe_function(env, tsfn) };
    shared.lock().tsfn = Tsfn(tsfn);
    let hook = Arc::into_raw(Arc::clone(&shared)) as *mut c_void;
    if let Err(e) = check(unsafe { sys::napi_add_env_cleanup_hook(env, Some(teardown), hook) }, "register the queue's cleanup") {
        // No hook: close now rather than risk a call into the function after teardown.
        unsafe { teardown(hook) };
        return Err(e);
    }
    Ok(Local { env, shared, tsfn, pending: HashMap::new(), next_id: 0, refed: false })
}

/// The threadsafe function's callback, on Node's thread: settles up to [`BATCH`] finished calls.
unsafe extern "C" fn drain(env: sys::napi_env, _js_callback: sys::napi_value, context: *mut c_void, _data: *mut c_void) {
    // A null env: the function is closing at teardown; the queue is dropped with it.
    if env.is_null() || context.is_null() {
        return;
    }
    // SAFETY: `context` is the strong count `open` gave the function, released only in `finalize`,
    // which runs after the function's last callback.
    let shared = unsafe { &*(context as *const Shared) };
    let batch: Vec<(u64, Outcome)> = {
        let mut st = shared.lock();
        let n = st.done.len().min(BATCH);
        let batch = st.done.drain(..n).collect();
        // More than a batch: ask for another turn (a call from Node's own thread is allowed).
        st.scheduled = !st.done.is_empty() && st.wake();
        batch
    };
    for (id, outcome) in batch {
        // Taken out before settling: JS may run while the value is made (an error's `JSON.parse`)
        // and start another call, which needs the table.
        let Some(entry) = with_local(env, |l| l.pending.remove(&id)).flatten() else { continue };
        unsafe { settle(env, entry, outcome) };
    }
    with_local(env, |l| {
        if l.refed && l.pending.is_empty() {
            unsafe { sys::napi_unref_threadsafe_function(env, l.tsfn) };
            l.refed = false;
        }
    });
}

/// Resolves or rejects one promise, in its own handle scope.
///
/// # Safety
/// On Node's thread, inside the drain, with `env` the live environment that made `entry.deferred`.
unsafe fn settle(env: sys::napi_env, entry: Pending, outcome: Outcome) {
    let mut scope = ptr::null_mut();
    let opened = unsafe { sys::napi_open_handle_scope(env, &mut scope) } == sys::Status::napi_ok;
    let js_env = Env::from_raw(env);
    let Pending { deferred, finish } = entry;
    let made = catch_unwind(AssertUnwindSafe(|| match outcome {
        Outcome::Done(payload) => finish(&js_env, payload),
        Outcome::Lost(message) => Err(Error::new(Status::GenericFailure, message)),
    }))
    .unwrap_or_else(|p| {
        Err(Error::new(Status::GenericFailure, format!("genesys-tenants: settling a call panicked: {}", panic_message(&*p))))
    });
    let status = match made {
        Ok(value) => unsafe { sys::napi_resolve_deferred(env, deferred, value) },
        Err(error) => match unsafe { ToNapiValue::to_napi_value(env, error) } {
            Ok(value) => unsafe { sys::napi_reject_deferred(env, deferred, value) },
            Err(_) => sys::Status::napi_generic_failure,
        },
    };
    if status != sys::Status::napi_ok {
        // Usually an exception left pending by JS run while making the value: reject with it, so
        // the promise never hangs.
        let mut reason = ptr::null_mut();
        let mut pending = false;
        unsafe { sys::napi_is_exception_pending(env, &mut pending) };
        if pending {
            unsafe { sys::napi_get_and_clear_last_exception(env, &mut reason) };
        } else {
            let text = "genesys-tenants: could not settle the call's promise";
            let mut msg = ptr::null_mut();
            unsafe { sys::napi_create_string_utf8(env, text.as_ptr().cast(), text.len() as isize, &mut msg) };
            unsafe { sys::napi_create_error(env, ptr::null_mut(), msg, &mut reason) };
        }
        if !reason.is_null() {
            unsafe { sys::napi_reject_deferred(env, deferred, reason) };
        }
    }
    if opened {
        unsafe { sys::napi_close_handle_scope(env, scope) };
    }
}

/// The environment's cleanup hook, on its thread as it tears down: closes the queue under its lock
/// (so no runtime thread is inside the function when it is aborted, and none calls it after) and
/// drops the pending promises' table.
unsafe extern "C" fn teardown(arg: *mut c_void) {
    // SAFETY: the strong count `open` gave the hook; the hook runs once.
    let shared = unsafe { Arc::from_raw(arg as *const Shared) };
    let dropped = {
        let mut st = shared.lock();
        let tsfn = std::mem::replace(&mut st.tsfn.0, ptr::null_mut());
        if !tsfn.is_null() {
            // SAFETY: live (not yet nulled by `finalize`), and the lock is held.
            unsafe { sys::napi_release_threadsafe_function(tsfn, sys::ThreadsafeFunctionReleaseMode::abort) };
        }
        std::mem::take(&mut st.done)
    };
    drop(dropped);
    let local = LOCALS
        .try_with(|locals| {
            let mut locals = locals.try_borrow_mut().ok()?;
            let at = locals.iter().position(|l| Arc::ptr_eq(&l.shared, &shared))?;
            Some(locals.swap_remove(at))
        })
        .ok()
        .flatten();
    // The promises die with their environment; their `finish` closures are dropped here.
    drop(local);
}

/// The threadsafe function's finalizer: it is gone, so the queue is closed (in case Node closed it
/// before the cleanup hook ran), and its strong count of the queue is given back.
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: the strong count `open` gave the function; finalized once.
    let shared = unsafe { Arc::from_raw(data as *const Shared) };
    let dropped = {
        let mut st = shared.lock();
        st.tsfn.0 = ptr::null_mut();
        std::mem::take(&mut st.done)
    };
    drop(dropped);
}

/// Runs `f` on this thread's queue for `env`, if it is still there.
fn with_local<R>(env: sys::napi_env, f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCALS.try_with(|locals| locals.try_borrow_mut().ok()?.iter_mut().find(|l| l.env == env).map(f)).ok().flatten()
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::GenericFailure, format!("genesys-tenants: could not {what} ({status})")))
    }
}

/// Sends a call's outcome exactly once: if the future is dropped unfinished (the runtime shutting
/// down), its promise is rejected rather than left pending.
struct Sender {
    shared: Arc<Shared>,
    id: u64,
    sent: bool,
}

impl Sender {
    fn send(&mut self, outcome: Outcome) {
        self.sent = true;
        self.shared.push(self.id, outcome);
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if !self.sent {
            self.send(Outcome::Lost("genesys-tenants: the call was dropped before it answered (the runtime is shutting down)".into()));
        }
    }
}

/// A future whose panic becomes `Err(message)` instead of unwinding into the runtime.
struct CatchPanic<F> {
    fut: Pin<Box<F>>,
}

impl<F: Future> Future for CatchPanic<F> {
    type Output = std::result::Result<F::Output, String>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.get_mut().fut.as_mut();
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(p) => Poll::Ready(Err(panic_message(&*p))),
        }
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "Panic in async function".into())
}
