//! A keyed gate: one holder at a time per key within this process, others queue in
//! order. Used where concurrent requests about the same thing must see each other's
//! outcome rather than race: sign-ins of one account, retries with one idempotency key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct KeyedGate(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

/// A turn at the gate for one key; the key's entry goes with the last turn.
pub struct Turn {
    gate: KeyedGate,
    key: String,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl KeyedGate {
    /// Waits until no one else holds `key`, then holds it until the turn is dropped.
    pub async fn enter(&self, key: &str) -> Turn {
        let lane = {
            let mut lanes = self.0.lock().unwrap_or_else(|p| p.into_inner());
            lanes.entry(key.to_string()).or_default().clone()
        };
        Turn { gate: self.clone(), key: key.to_string(), _held: lane.lock_owned().await }
    }

    /// Keys with a holder or someone waiting (for tests of the clean-up).
    pub fn keys_in_use(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let mut lanes = self.gate.0.lock().unwrap_or_else(|p| p.into_inner());
        // Held only by the map and by this turn: nobody is waiting.
        if lanes.get(&self.key).is_some_and(|lane| Arc::strong_count(lane) <= 2) {
            lanes.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn holders_of_one_key_take_turns_and_other_keys_do_not_wait() {
        let gate = KeyedGate::default();
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (gate, inside, most) = (gate.clone(), inside.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = gate.enter("nurse.li").await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        let other = gate.enter("nurse.xu").await;
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        drop(other);
        assert_eq!(gate.keys_in_use(), 0, "every key's entry went with its last turn");
    }
}
