//! [`Ticket`]: the receipt for a submitted mutation, resolved when the
//! transaction holding it commits. A one-shot slot shared with the writer
//! thread; it is a `Future` for async callers (any executor) and has a
//! blocking [`Ticket::wait`] for threads.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

use super::error::RegistryError;

/// A batch's outcome, shared by every mutation in it.
pub(super) type Outcome = Result<(), Arc<RegistryError>>;

#[derive(Debug, Default)]
struct State {
    outcome: Option<Outcome>,
    /// The writer dropped its end without an outcome (its thread died).
    abandoned: bool,
    waker: Option<Waker>,
    /// A thread sleeps in [`Ticket::wait`]: only then is the condvar
    /// notified (a notify is a futex syscall even with nobody waiting, and
    /// most tickets, the master's task changes, are never waited for).
    sleeping: bool,
}

#[derive(Debug, Default)]
struct Slot {
    state: Mutex<State>,
    ready: Condvar,
}

impl Slot {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The writer's end: completes the ticket once.
#[derive(Debug)]
pub(super) struct Completer {
    slot: Arc<Slot>,
}

impl Completer {
    /// Resolves the ticket with `outcome`.
    pub(super) fn complete(self, outcome: Outcome) {
        self.finish(Some(outcome));
    }

    fn finish(&self, outcome: Option<Outcome>) {
        let (waker, sleeping) = {
            let mut state = self.slot.lock();
            if state.outcome.is_some() || state.abandoned {
                return;
            }
            match outcome {
                Some(outcome) => state.outcome = Some(outcome),
                None => state.abandoned = true,
            }
            (state.waker.take(), state.sleeping)
        };
        if sleeping {
            self.slot.ready.notify_all();
        }
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for Completer {
    fn drop(&mut self) {
        self.finish(None);
    }
}

/// Resolves to `Ok(())` once the mutation is committed (durable), or to the
/// error that kept it from being committed.
#[derive(Debug)]
#[must_use = "a registry mutation is durable only once its ticket resolves"]
pub struct Ticket {
    inner: Inner,
}

#[derive(Debug)]
enum Inner {
    /// Failed before reaching the writer, or already taken.
    Ready(Option<RegistryError>),
    Pending(Arc<Slot>),
}

impl Ticket {
    /// A ticket and the writer's end of it.
    pub(super) fn pending() -> (Ticket, Completer) {
        let slot = Arc::new(Slot::default());
        let completer = Completer { slot: slot.clone() };
        (
            Ticket {
                inner: Inner::Pending(slot),
            },
            completer,
        )
    }

    /// A ticket already failed with `error`.
    pub(super) fn failed(error: RegistryError) -> Ticket {
        Ticket {
            inner: Inner::Ready(Some(error)),
        }
    }

    /// Blocks the calling thread until the outcome is known. Not for async
    /// code: `.await` the ticket there.
    pub fn wait(self) -> Result<(), RegistryError> {
        match self.inner {
            Inner::Ready(error) => error.map_or(Ok(()), Err),
            Inner::Pending(slot) => {
                let mut state = slot.lock();
                loop {
                    if let Some(result) = take(&mut state) {
                        return result;
                    }
                    state.sleeping = true;
                    state = slot
                        .ready
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

impl Future for Ticket {
    type Output = Result<(), RegistryError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match &mut this.inner {
            Inner::Ready(error) => Poll::Ready(error.take().map_or(Ok(()), Err)),
            Inner::Pending(slot) => {
                let mut state = slot.lock();
                match take(&mut state) {
                    Some(result) => Poll::Ready(result),
                    None => {
                        state.waker = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
            }
        }
    }
}

/// The result, once there is one.
fn take(state: &mut State) -> Option<Result<(), RegistryError>> {
    if let Some(outcome) = &state.outcome {
        return Some(outcome.clone().map_err(RegistryError::Failed));
    }
    state.abandoned.then_some(Err(RegistryError::WriterStopped))
}
