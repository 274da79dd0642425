//! Interrupts, Terraform's way. Until apply starts writing, the first SIGINT or SIGTERM ends
//! the run at once (nothing was written, so there is nothing to report). Once writes may be in
//! flight, the first signal only stops new steps from starting: the requests in flight finish,
//! every step's outcome is reported, and the run exits 130. A second signal exits at once,
//! saying that requests in flight may have taken effect.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// The exit code of an interrupted run (128 + SIGINT).
pub const EXIT_INTERRUPTED: u8 = 130;

/// `phase` once apply may have writes in flight (before that it is 0).
const WRITING: u8 = 1;

/// Shared between the signal listener and the executor.
#[derive(Clone, Default)]
pub struct Interrupt {
    requested: Arc<AtomicBool>,
    phase: Arc<AtomicU8>,
}

impl Interrupt {
    /// Listens for SIGINT and SIGTERM on the current tokio runtime.
    pub fn install() -> Self {
        let interrupt = Interrupt::default();
        let listener = interrupt.clone();
        tokio::spawn(async move {
            let mut signals = Signals::new();
            while signals.next().await {
                listener.on_signal();
            }
        });
        interrupt
    }

    /// From now on writes may be in flight: a first signal stops gracefully.
    pub fn writing(&self) {
        self.phase.store(WRITING, Ordering::SeqCst);
    }

    /// Whether a stop was asked for (checked before each new step).
    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }

    fn on_signal(&self) {
        if self.phase.load(Ordering::SeqCst) != WRITING {
            crate::output::fail("interrupted; nothing was written");
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        if self.requested.swap(true, Ordering::SeqCst) {
            crate::output::fail(
                "interrupted again: exiting now; requests that were in flight may have taken effect (run `orgform plan` to see)",
            );
            std::process::exit(i32::from(EXIT_INTERRUPTED));
        }
        crate::output::fail(
            "interrupt received: starting no new steps, letting the requests in flight finish (interrupt again to exit at once)",
        );
    }
}

/// SIGINT and SIGTERM, listened for from the start of the run to its end.
#[cfg(unix)]
struct Signals(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl Signals {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        Signals(
            signal(SignalKind::interrupt())
                .ok()
                .zip(signal(SignalKind::terminate()).ok()),
        )
    }

    /// Waits for the next signal; `false` when signals cannot be listened for.
    async fn next(&mut self) -> bool {
        let Some((interrupt, terminate)) = &mut self.0 else {
            return false;
        };
        tokio::select! {
            _ = interrupt.recv() => true,
            _ = terminate.recv() => true,
        }
    }
}

#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn new() -> Self {
        Signals
    }

    async fn next(&mut self) -> bool {
        tokio::signal::ctrl_c().await.is_ok()
    }
}
