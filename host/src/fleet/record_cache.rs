//! A worker's copy of the job records its tasks read, kept current by a
//! watch on the jobs bucket, so that starting a task, or checking a running
//! one for a cancel, does not wait on a read from the server.
//!
//! A copy is trusted for [`MAX_AGE`] after the server last confirmed it (a
//! read, or an update the watch brought); older, or while the watch is
//! down, the record is read again. A cancel therefore reaches a running
//! task as soon as the watch delivers it, and at worst after `MAX_AGE`.
//! Changes go to the server itself (`Fleet::update_record`), never here.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::kv::Operation;
use framejet_spec::fleet::JobRecord;
use futures_util::StreamExt;
use tokio::sync::watch;

use super::{Fleet, FleetError};

/// How long a copy is trusted without news from the server.
const MAX_AGE: Duration = Duration::from_secs(1);
/// Copies kept before the ones not confirmed for a while are dropped.
const KEEP: usize = 256;
/// How long the watch waits before it starts again after an error.
const RESTART: Duration = Duration::from_secs(1);

pub(crate) struct RecordCache {
    fleet: Fleet,
    entries: Mutex<HashMap<String, Entry>>,
    /// Whether the watch is running: while it is not, every read goes to
    /// the server.
    live: AtomicBool,
}

struct Entry {
    /// `None`: the job has no record.
    record: Option<Arc<JobRecord>>,
    /// The bucket's revision of `record` (0: none seen yet).
    revision: u64,
    /// When the server last vouched for it; `None` while the first read
    /// is on its way.
    confirmed: Option<Instant>,
}

impl RecordCache {
    /// A cache whose watch runs until `stop` turns true.
    pub(crate) fn start(fleet: Fleet, stop: watch::Receiver<bool>) -> Arc<Self> {
        let cache = Arc::new(Self {
            fleet,
            entries: Mutex::new(HashMap::new()),
            live: AtomicBool::new(false),
        });
        tokio::spawn(cache.clone().watch(stop));
        cache
    }

    /// The record of job `id`, if it exists: the copy when it is fresh,
    /// else read from the server.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Arc<JobRecord>>, FleetError> {
        if let Some(fresh) = self.fresh(id) {
            return Ok(fresh);
        }
        // Reads from here on race the watch's updates: the newer revision wins.
        self.with_entries(|entries| {
            entries.entry(id.to_string()).or_insert(Entry {
                record: None,
                revision: 0,
                confirmed: None,
            });
        });
        let read = self.fleet.record(id).await?;
        let (record, revision) = match read {
            Some((record, revision)) => (Some(Arc::new(record)), revision),
            None => (None, 0),
        };
        Ok(self.with_entries(|entries| {
            let entry = entries.entry(id.to_string()).or_insert(Entry {
                record: None,
                revision: 0,
                confirmed: None,
            });
            if revision >= entry.revision {
                entry.record = record.clone();
                entry.revision = revision;
                entry.confirmed = Some(Instant::now());
            }
            entry.record.clone()
        }))
    }

    /// The copy of `id`'s record, if it can be trusted.
    fn fresh(&self, id: &str) -> Option<Option<Arc<JobRecord>>> {
        if !self.live.load(Ordering::Acquire) {
            return None;
        }
        self.with_entries(|entries| {
            let entry = entries.get(id)?;
            let confirmed = entry.confirmed?;
            (confirmed.elapsed() < MAX_AGE).then(|| entry.record.clone())
        })
    }

    fn with_entries<T>(&self, f: impl FnOnce(&mut HashMap<String, Entry>) -> T) -> T {
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() > KEEP {
            entries.retain(|_, e| e.confirmed.is_none_or(|c| c.elapsed() < MAX_AGE));
        }
        f(&mut entries)
    }

    /// Applies every change of the jobs bucket to the copies held, until
    /// `stop`; restarts after an error, with every copy dropped.
    async fn watch(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        loop {
            match self.fleet.jobs.watch_all().await {
                Ok(mut changes) => {
                    // Copies made before the watch may have missed a change.
                    self.with_entries(HashMap::clear);
                    self.live.store(true, Ordering::Release);
                    loop {
                        tokio::select! {
                            change = changes.next() => match change {
                                Some(Ok(change)) => self.apply(change),
                                Some(Err(e)) => {
                                    tracing::debug!("watch of the job records: {e}");
                                    break;
                                }
                                None => break,
                            },
                            _ = super::worker::stopped(&mut stop) => return,
                        }
                    }
                    self.live.store(false, Ordering::Release);
                }
                Err(e) => tracing::debug!("watch of the job records: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(RESTART) => {}
                _ = super::worker::stopped(&mut stop) => return,
            }
        }
    }

    /// Updates the copy of a record the watch reports changed, if one is held.
    fn apply(&self, change: async_nats::jetstream::kv::Entry) {
        let record = match change.operation {
            Operation::Put => match serde_json::from_slice::<JobRecord>(&change.value) {
                Ok(record) => Some(Arc::new(record)),
                // Not trusted: the next read goes to the server and reports it.
                Err(_) => {
                    self.with_entries(|entries| entries.remove(&change.key));
                    return;
                }
            },
            Operation::Delete | Operation::Purge => None,
        };
        self.with_entries(|entries| {
            if let Some(entry) = entries.get_mut(&change.key)
                && change.revision > entry.revision
            {
                entry.record = record;
                entry.revision = change.revision;
                entry.confirmed = Some(Instant::now());
            }
        });
    }
}
