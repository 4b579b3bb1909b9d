//! [`RegistryWriter`]: group commit. A dedicated thread owns the
//! [`Registry`]; callers submit mutations and get a [`Ticket`] that
//! resolves once the transaction holding them is committed. Everything
//! queued while a commit is in flight goes into the next transaction, so
//! thousands of mutations per second cost a handful of fsyncs.
//!
//! Order is submission order: mutations are encoded and queued in the
//! caller's thread at `submit` time (not when the ticket is first polled),
//! and batches commit one after another. A thread rather than a tokio task,
//! because a commit blocks on fsync.
//!
//! A failed commit is sticky: that batch and everything submitted after it
//! fail with [`RegistryError::Failed`], so the file never holds a later
//! mutation without an earlier one. The master treats it as fatal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use super::error::RegistryError;
use super::mutation::{Mutation, Op};
use super::store::Registry;
use super::ticket::{Completer, Outcome, Ticket};

/// Most ops in one transaction; a longer queue takes several commits.
pub const MAX_BATCH_OPS: usize = 16_384;

/// A group of ops that commit together, and who waits for them.
#[derive(Debug)]
struct Entry {
    ops: Vec<Op>,
    mutations: u64,
    done: Completer,
}

/// Counters of the writer's work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub commits: u64,
    /// Mutations committed.
    pub mutations: u64,
    /// The most mutations committed in one transaction.
    pub largest_batch: u64,
}

#[derive(Debug, Default)]
struct Counters {
    commits: AtomicU64,
    mutations: AtomicU64,
    largest_batch: AtomicU64,
}

/// The registry behind a group-commit thread. `Send + Sync`: share it with
/// an `Arc`. Dropping it commits what is queued and stops the thread.
#[derive(Debug)]
pub struct RegistryWriter {
    queue: Option<Sender<Entry>>,
    thread: Option<JoinHandle<Registry>>,
    counters: Arc<Counters>,
}

impl RegistryWriter {
    /// Starts the writer thread, which owns `registry` until
    /// [`RegistryWriter::shutdown`].
    pub fn spawn(registry: Registry) -> Result<RegistryWriter, RegistryError> {
        let (queue, rx) = channel();
        let counters = Arc::new(Counters::default());
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("registry-writer".to_owned())
            .spawn(move || run(registry, &rx, &thread_counters))
            .map_err(RegistryError::Spawn)?;
        Ok(RegistryWriter {
            queue: Some(queue),
            thread: Some(thread),
            counters,
        })
    }

    /// Queues `mutation`; the ticket resolves once it is committed. An
    /// invalid mutation fails alone, at once, and is not queued.
    pub fn submit(&self, mutation: Mutation) -> Ticket {
        self.submit_all(std::slice::from_ref(&mutation))
    }

    /// Queues `mutations` to commit in the same transaction, all or none.
    pub fn submit_all(&self, mutations: &[Mutation]) -> Ticket {
        let mut ops = Vec::with_capacity(mutations.len());
        for mutation in mutations {
            if let Err(e) = mutation.encode_into(&mut ops) {
                return Ticket::failed(e);
            }
        }
        self.enqueue(ops, mutations.len() as u64)
    }

    /// Queues `PutTask` of `task` (its latest status only) without copying
    /// it: the same as `submit(TaskRecord::new(task.clone()).into())`.
    pub fn submit_task(&self, task: &corral_api::v1::Task) -> Ticket {
        match super::mutation::encode_task(task) {
            Ok(op) => self.enqueue(vec![op], 1),
            Err(e) => Ticket::failed(e),
        }
    }

    /// A ticket that resolves once everything submitted before it is
    /// committed.
    pub fn flush(&self) -> Ticket {
        self.enqueue(Vec::new(), 0)
    }

    /// What the writer has done so far.
    pub fn stats(&self) -> WriterStats {
        WriterStats {
            commits: self.counters.commits.load(Ordering::Relaxed),
            mutations: self.counters.mutations.load(Ordering::Relaxed),
            largest_batch: self.counters.largest_batch.load(Ordering::Relaxed),
        }
    }

    /// Commits everything queued, stops the thread and hands the registry
    /// back (to `load` it, or to drop it and close the file).
    pub fn shutdown(mut self) -> Result<Registry, RegistryError> {
        self.stop().ok_or(RegistryError::WriterStopped)
    }

    fn enqueue(&self, ops: Vec<Op>, mutations: u64) -> Ticket {
        let (ticket, done) = Ticket::pending();
        let entry = Entry {
            ops,
            mutations,
            done,
        };
        match &self.queue {
            // A failed send drops the entry, whose completer then reports
            // WriterStopped to the ticket.
            Some(queue) => drop(queue.send(entry)),
            None => drop(entry),
        }
        ticket
    }

    /// Closes the queue and joins the thread; `None` if it panicked.
    fn stop(&mut self) -> Option<Registry> {
        self.queue.take();
        self.thread.take()?.join().ok()
    }
}

impl Drop for RegistryWriter {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The writer thread: waits for an entry, takes everything else queued (up
/// to [`MAX_BATCH_OPS`]), commits it in one transaction and resolves the
/// tickets; returns the registry once the queue is closed and drained.
fn run(registry: Registry, rx: &Receiver<Entry>, counters: &Counters) -> Registry {
    let mut failed: Option<Arc<RegistryError>> = None;
    let mut ops = Vec::new();
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        let mut size = batch[0].ops.len();
        while size < MAX_BATCH_OPS {
            match rx.try_recv() {
                Ok(entry) => {
                    size += entry.ops.len();
                    batch.push(entry);
                }
                Err(_) => break,
            }
        }
        let outcome = commit(&registry, &mut batch, &mut ops, failed.as_ref(), counters);
        if let Err(e) = &outcome {
            failed.get_or_insert_with(|| e.clone());
        }
        for entry in batch {
            entry.done.complete(outcome.clone());
        }
    }
    registry
}

/// Commits the ops of `batch` in one transaction (none when it only holds
/// flushes, or when an earlier commit failed).
fn commit(
    registry: &Registry,
    batch: &mut [Entry],
    ops: &mut Vec<Op>,
    failed: Option<&Arc<RegistryError>>,
    counters: &Counters,
) -> Outcome {
    if let Some(error) = failed {
        return Err(error.clone());
    }
    ops.clear();
    let mut mutations = 0;
    for entry in batch.iter_mut() {
        ops.append(&mut entry.ops);
        mutations += entry.mutations;
    }
    if ops.is_empty() {
        return Ok(());
    }
    registry.write_ops(ops).map_err(Arc::new)?;
    counters.commits.fetch_add(1, Ordering::Relaxed);
    counters.mutations.fetch_add(mutations, Ordering::Relaxed);
    counters
        .largest_batch
        .fetch_max(mutations, Ordering::Relaxed);
    Ok(())
}
