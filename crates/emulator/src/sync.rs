//! Locks that survive poisoning: the emulator's state stays usable after a handler panicked (a
//! test's failure must not turn every later request into a second one). A room of its own, low in
//! the crate, so the parts of the state can all use it.

use std::sync::{Mutex, RwLock};

/// Locks a mutex, surviving poisoning.
pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Read-locks.
pub fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|p| p.into_inner())
}

/// Write-locks.
pub fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|p| p.into_inner())
}
