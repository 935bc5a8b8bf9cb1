//! Tests of `rate_limit.rs`.
use super::*;

fn hdr(allowed: u32, count: u32, reset: u64) -> RateLimitHeaders {
    RateLimitHeaders { allowed: Some(allowed), count: Some(count), reset: Some(Duration::from_secs(reset)) }
}

#[tokio::test(start_paused = true)]
async fn a_slot_further_off_than_the_budget_fails_fast() {
    let l = Limiter::new(2);
    l.observe(&hdr(2, 0, 60), Instant::now());
    let t0 = Instant::now();
    assert_eq!(l.acquire_within(Duration::from_secs(1)).await, Ok(Duration::ZERO));
    assert_eq!(l.acquire_within(Duration::from_secs(1)).await, Ok(Duration::ZERO));
    let left = l.acquire_within(Duration::from_secs(1)).await.unwrap_err();
    assert!(left > Duration::from_secs(50), "the next slot is a window away: {left:?}");
    assert_eq!(t0.elapsed(), Duration::ZERO, "it did not wait");
    // With room for it, the same call waits for the window to reset.
    let waited = l.acquire_within(Duration::from_secs(120)).await.unwrap();
    assert!(waited >= Duration::from_secs(59), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn learns_the_window_from_headers() {
    let l = Limiter::new(300);
    let t0 = Instant::now();
    assert_eq!(l.try_acquire(t0), Decision::Go);
    l.observe(&hdr(20, 1, 2), t0);
    let (allowed, _, window) = l.snapshot();
    assert_eq!((allowed, window), (20, Duration::from_secs(2)));
    for _ in 0..19 {
        assert_eq!(l.try_acquire(t0), Decision::Go);
    }
    assert_eq!(l.try_acquire(t0), Decision::Wait(Duration::from_secs(2) + ALIGNMENT_MARGIN));
    assert_eq!(l.try_acquire(t0 + Duration::from_secs(2)), Decision::Wait(ALIGNMENT_MARGIN));
    assert_eq!(l.try_acquire(t0 + Duration::from_secs(2) + ALIGNMENT_MARGIN), Decision::Go);
}

#[tokio::test(start_paused = true)]
async fn hold_blocks_everyone_then_a_fresh_window_opens() {
    let l = Limiter::new(300);
    let t0 = Instant::now();
    for _ in 0..300 {
        assert_eq!(l.try_acquire(t0), Decision::Go);
    }
    l.hold(Duration::from_secs(3), Duration::ZERO, t0);
    assert_eq!(l.try_acquire(t0 + Duration::from_secs(1)), Decision::Wait(Duration::from_secs(2)));
    assert_eq!(l.try_acquire(t0 + Duration::from_secs(3)), Decision::Go);
}

#[tokio::test(start_paused = true)]
async fn paces_100_calls_in_five_windows() {
    let l = std::sync::Arc::new(Limiter::new(20));
    l.observe(&hdr(20, 0, 2), Instant::now());
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let l = l.clone();
        tasks.push(tokio::spawn(async move { l.acquire().await }));
    }
    let mut waits = Vec::new();
    for t in tasks {
        waits.push(t.await.unwrap());
    }
    let elapsed = t0.elapsed();
    assert!(elapsed >= Duration::from_secs(8) && elapsed < Duration::from_millis(8200), "{elapsed:?}");
    assert_eq!(waits.iter().filter(|w| w.is_zero()).count(), 20);
}

#[tokio::test(start_paused = true)]
async fn a_shorter_window_is_learned_when_one_opens() {
    let l = Limiter::new(60);
    let t0 = Instant::now();
    l.observe(&hdr(60, 1, 60), t0);
    assert_eq!(l.snapshot().2, Duration::from_secs(60));
    l.observe(&hdr(20, 7, 2), t0);
    assert_eq!(l.snapshot().2, Duration::from_secs(60), "mid-window countdowns do not shrink it");
    l.observe(&hdr(20, 1, 2), t0);
    let (allowed, _, window) = l.snapshot();
    assert_eq!((allowed, window), (20, Duration::from_secs(2)));
}

#[tokio::test(start_paused = true)]
async fn a_mid_window_countdown_replaces_the_default() {
    let l = Limiter::new(300);
    l.observe(&hdr(20, 7, 2), Instant::now());
    let (allowed, _, window) = l.snapshot();
    assert_eq!((allowed, window), (20, Duration::from_secs(2)), "20 per 60 s would pace at 3 s a call");
}

#[tokio::test(start_paused = true)]
async fn waiters_do_not_sleep_out_a_stale_decision() {
    let l = std::sync::Arc::new(Limiter::new(2));
    assert_eq!(l.try_acquire(Instant::now()), Decision::Go);
    assert_eq!(l.try_acquire(Instant::now()), Decision::Go);
    let t0 = Instant::now();
    let waiter = {
        let l = l.clone();
        tokio::spawn(async move { l.acquire().await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The server says: 20 per 2 s, and this answer opened the window.
    l.observe(&hdr(20, 1, 2), Instant::now());
    let waited = waiter.await.unwrap();
    assert!(waited < Duration::from_millis(300), "waited {waited:?} of a 60 s window");
    assert!(t0.elapsed() < Duration::from_secs(1));
}

#[tokio::test(start_paused = true)]
async fn without_headers_the_first_429_teaches_the_budget() {
    let l = Limiter::new(300);
    let t0 = Instant::now();
    for _ in 0..100 {
        assert_eq!(l.try_acquire(t0), Decision::Go, "300/min by default: the burst goes out");
    }
    for _ in 0..8 {
        l.admitted();
    }
    let at = t0 + Duration::from_millis(5);
    for i in 0..80 {
        l.hold(Duration::from_secs(2), Duration::from_millis(3 * i), at);
    }
    // Answers admitted in that window still arrive after its first 429.
    for _ in 0..12 {
        l.admitted();
    }
    let after = at + Duration::from_secs(2) + Duration::from_millis(3 * 79);
    assert_eq!(l.try_acquire(after - Duration::from_millis(1)), Decision::Wait(Duration::from_millis(1)), "the hold includes the jitter");
    assert_eq!(l.try_acquire(after), Decision::Go);
    let (allowed, _, window) = l.snapshot();
    assert_eq!((allowed, window), (20, Duration::from_millis(2005)), "20 let through in a window ending at Retry-After (jitter excluded)");
    // After the hold: 20 go, the 21st waits for the window, not for the configured minute.
    for _ in 1..20 {
        assert_eq!(l.try_acquire(after), Decision::Go);
    }
    assert_eq!(l.try_acquire(after), Decision::Wait(Duration::from_millis(2005)));
}

#[tokio::test(start_paused = true)]
async fn headers_win_over_an_inference_and_an_inference_never_replaces_them() {
    let l = Limiter::new(300);
    let t0 = Instant::now();
    let _ = l.try_acquire(t0);
    l.admitted();
    l.hold(Duration::from_secs(1), Duration::ZERO, t0);
    let _ = l.try_acquire(t0 + Duration::from_secs(1));
    assert_eq!(l.snapshot().0, 1);
    l.observe(&hdr(50, 1, 10), t0 + Duration::from_secs(1));
    assert_eq!((l.snapshot().0, l.snapshot().2), (50, Duration::from_secs(10)));
    let _ = l.try_acquire(t0 + Duration::from_secs(20));
    l.admitted();
    l.hold(Duration::from_secs(1), Duration::ZERO, t0 + Duration::from_secs(20));
    assert_eq!((l.snapshot().0, l.snapshot().2), (50, Duration::from_secs(10)), "headers were seen: a 429 only holds");
}

#[tokio::test(start_paused = true)]
async fn an_inferred_budget_is_probed_one_call_at_a_time_after_clean_full_windows() {
    use super::probing::PROBE_AFTER_FULL_WINDOWS;
    let l = Limiter::new(300);
    let mut now = Instant::now();
    let _ = l.try_acquire(now);
    for _ in 0..10 {
        l.admitted();
    }
    l.hold(Duration::from_secs(1), Duration::ZERO, now);
    now += Duration::from_secs(1);
    for window in 0..PROBE_AFTER_FULL_WINDOWS {
        for _ in 0..10 {
            assert_eq!(l.try_acquire(now), Decision::Go, "window {window}");
            l.admitted();
        }
        assert!(matches!(l.try_acquire(now), Decision::Wait(_)), "no probe before {PROBE_AFTER_FULL_WINDOWS} full windows");
        now += l.snapshot().2;
    }
    // The window after: its 10, then one beyond, and the next only once that one came back admitted.
    for _ in 0..10 {
        assert_eq!(l.try_acquire(now), Decision::Go);
        l.admitted();
    }
    assert_eq!(l.try_acquire(now), Decision::Go, "the probe");
    assert!(matches!(l.try_acquire(now), Decision::Wait(_)), "one probe at a time");
    l.admitted();
    assert_eq!(l.snapshot().0, 11, "admitted: the budget is raised to it");
    assert_eq!(l.try_acquire(now), Decision::Go, "the next probe");
    // Its answer is a 429: when the hold ends, the budget is what the server admitted (11).
    l.hold(Duration::from_secs(1), Duration::ZERO, now);
    now += Duration::from_secs(1);
    assert_eq!(l.try_acquire(now), Decision::Go);
    assert_eq!(l.snapshot().0, 11, "the first 429 re-learns the budget");
    // And the count starts again: no probe in the next full window.
    for _ in 0..10 {
        let _ = l.try_acquire(now);
        l.admitted();
    }
    assert!(matches!(l.try_acquire(now), Decision::Wait(_)));
}

#[tokio::test(start_paused = true)]
async fn a_window_not_used_whole_starts_the_probe_count_again() {
    use super::probing::PROBE_AFTER_FULL_WINDOWS;
    let l = Limiter::new(300);
    let mut now = Instant::now();
    let _ = l.try_acquire(now);
    for _ in 0..5 {
        l.admitted();
    }
    l.hold(Duration::from_secs(1), Duration::ZERO, now);
    now += Duration::from_secs(1);
    for window in 0..2 * PROBE_AFTER_FULL_WINDOWS {
        // Every other window used whole: never PROBE_AFTER_FULL_WINDOWS in a row.
        let calls = if window % 2 == 0 { 5 } else { 4 };
        for _ in 0..calls {
            assert_eq!(l.try_acquire(now), Decision::Go);
        }
        now += l.snapshot().2;
    }
    for _ in 0..5 {
        assert_eq!(l.try_acquire(now), Decision::Go);
    }
    assert!(matches!(l.try_acquire(now), Decision::Wait(_)), "no probe");
}

#[tokio::test(start_paused = true)]
async fn a_cold_limiter_sends_one_request_and_learns_before_the_burst() {
    let l = std::sync::Arc::new(Limiter::new(300));
    let t0 = Instant::now();
    assert!(l.acquire().await.is_zero(), "the probe goes at once");
    let burst: Vec<_> = (0..5)
        .map(|_| {
            let l = l.clone();
            tokio::spawn(async move { l.acquire().await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(3)).await;
    assert!(burst.iter().all(|t| !t.is_finished()), "the burst waits for the probe's answer");
    l.observe(&hdr(3, 1, 2), Instant::now());
    let mut waits = Vec::new();
    for t in burst {
        waits.push(t.await.unwrap());
    }
    // The answer said 3 per 2 s and the probe used one: two go now, three wait for the window.
    assert_eq!(waits.iter().filter(|w| **w < Duration::from_millis(10)).count(), 2, "{waits:?}");
    assert!(t0.elapsed() >= Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_probe_without_an_answer_holds_the_others_back_at_most_a_second() {
    let l = std::sync::Arc::new(Limiter::new(300));
    assert!(l.acquire().await.is_zero());
    let t0 = Instant::now();
    let waited = l.acquire().await;
    assert!(waited >= PROBE_TIMEOUT && waited < PROBE_TIMEOUT + MAX_NAP, "{waited:?}");
    assert!(l.acquire().await.is_zero(), "after the timeout the model alone paces");
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn a_probe_that_ends_without_an_answer_releases_the_others_at_once() {
    let l = std::sync::Arc::new(Limiter::new(300));
    assert!(l.acquire().await.is_zero());
    let waiter = {
        let l = l.clone();
        tokio::spawn(async move { l.acquire().await })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    l.attempt_over(); // the probe's attempt failed before any answer
    assert!(waiter.await.unwrap() < Duration::from_millis(10));
}

#[tokio::test(start_paused = true)]
async fn a_hold_longer_than_the_budget_fails_at_once_and_one_within_it_is_waited() {
    let l = Limiter::new(300);
    let t0 = Instant::now();
    l.hold(Duration::from_secs(3600), Duration::ZERO, t0);
    assert_eq!(l.acquire_within(Duration::from_secs(60)).await, Err(Duration::from_secs(3600)));
    assert_eq!(l.wait_hold(Duration::from_secs(60)).await, Err(Duration::from_secs(3600)));
    assert_eq!(t0.elapsed(), Duration::ZERO, "no time passed: the calls failed fast");
    let l = Limiter::new(300);
    l.hold(Duration::from_secs(3), Duration::ZERO, t0);
    let waited = l.acquire_within(Duration::from_secs(60)).await.unwrap();
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_millis(3300), "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_waiter_gives_up_when_a_long_hold_starts_while_it_waits() {
    let l = std::sync::Arc::new(Limiter::new(1));
    let t0 = Instant::now();
    assert_eq!(l.try_acquire(t0), Decision::Go);
    let waiter = {
        let l = l.clone();
        tokio::spawn(async move { l.acquire_within(Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    l.hold(Duration::from_secs(3600), Duration::ZERO, Instant::now());
    let left = waiter.await.unwrap().unwrap_err();
    assert!(left > Duration::from_secs(3500), "{left:?}");
    assert!(t0.elapsed() < Duration::from_secs(2), "woken by the hold, not by the window: {:?}", t0.elapsed());
}

/// `n` spawned callers of `acquire`, and how many of them have gone.
fn callers(l: &std::sync::Arc<Limiter>, n: usize) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..n {
        let (l, gone) = (l.clone(), gone.clone());
        tokio::spawn(async move {
            l.acquire_within(Duration::from_secs(60)).await.unwrap();
            gone.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    }
    gone
}

/// An answer without rate-limit headers that the server admitted, as the pipeline reports it.
fn admitted_answer(l: &Limiter) {
    l.observe(&RateLimitHeaders::default(), Instant::now());
    l.admitted();
    l.attempt_over();
}

#[tokio::test(start_paused = true)]
async fn without_headers_a_burst_ramps_up_with_the_answers_and_a_429_stops_it() {
    let l = std::sync::Arc::new(Limiter::new(300));
    assert!(l.acquire().await.is_zero(), "the probe");
    let gone = callers(&l, 30);
    let settle = || tokio::time::sleep(Duration::from_millis(5));
    settle().await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 0, "the burst waits for the probe's answer");
    admitted_answer(&l);
    settle().await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 1, "one admitted: one in flight");
    admitted_answer(&l);
    settle().await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 3, "two admitted: two in flight");
    admitted_answer(&l);
    admitted_answer(&l);
    settle().await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 7, "four admitted: four in flight");
    // One of the four is refused: the window is full, nothing more goes until it ends, however
    // many attempts end meanwhile.
    l.hold(Duration::from_secs(2), Duration::ZERO, Instant::now());
    for _ in 0..4 {
        l.attempt_over();
    }
    settle().await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 7, "nothing is sent into a window known to be full");
    // The hold ends: the budget is known (4 admitted in the window), the ramp is over, the model
    // paces: 4 go at once, the rest wait for the next windows.
    tokio::time::sleep(Duration::from_millis(2010)).await;
    assert_eq!(l.snapshot().0, 4, "four were admitted in the throttled window");
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 11);
}

#[tokio::test(start_paused = true)]
async fn the_ramp_gives_up_on_answers_slower_than_the_probe_timeout() {
    let l = std::sync::Arc::new(Limiter::new(300));
    assert!(l.acquire().await.is_zero());
    admitted_answer(&l);
    assert!(l.acquire().await.is_zero(), "one admitted: one in flight");
    // That one never answers: the others wait for it at most PROBE_TIMEOUT, then the model alone paces.
    let t0 = Instant::now();
    let waited = l.acquire().await;
    assert!(waited >= PROBE_TIMEOUT && waited < PROBE_TIMEOUT + MAX_NAP, "{waited:?}");
    assert!(l.acquire().await.is_zero(), "the ramp is off");
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[tokio::test(start_paused = true)]
async fn with_headers_there_is_no_ramp() {
    let l = std::sync::Arc::new(Limiter::new(300));
    assert!(l.acquire().await.is_zero());
    l.observe(&hdr(50, 1, 60), Instant::now());
    l.admitted();
    l.attempt_over();
    let gone = callers(&l, 30);
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(gone.load(std::sync::atomic::Ordering::SeqCst), 30, "the headers said 50: the burst goes out whole");
}

#[test]
fn no_headers_no_change() {
    let l = Limiter::new(300);
    l.observe(&RateLimitHeaders::default(), Instant::now());
    assert_eq!(l.snapshot(), (300, 0, Duration::from_secs(60)));
}
