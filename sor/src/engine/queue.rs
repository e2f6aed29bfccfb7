//! The engine's single input: a bounded queue of events, drained on one thread.

use super::{Command, Engine, EngineError, Event};
use crate::clock::Clock;
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded};
use risk::PreTradeGate;

/// Why an event could not be queued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueError {
    /// The queue is full: back-pressure, the caller must slow down or refuse.
    #[error("engine queue full ({capacity} events)")]
    Full {
        /// The queue's bound.
        capacity: usize,
    },
    /// The engine side is gone.
    #[error("engine queue closed")]
    Closed,
}

/// The engine fed by a bounded crossbeam queue, with time from a [`Clock`].
pub struct EngineLoop<G, C> {
    engine: Engine<G>,
    clock: C,
    tx: Sender<Event>,
    rx: Receiver<Event>,
    capacity: usize,
}

impl<G: PreTradeGate, C: Clock> EngineLoop<G, C> {
    /// A loop around `engine` with a queue of `capacity` events.
    pub fn new(engine: Engine<G>, clock: C, capacity: usize) -> Self {
        let (tx, rx) = bounded(capacity);
        Self {
            engine,
            clock,
            tx,
            rx,
            capacity,
        }
    }

    /// A handle to put events on the queue from any thread.
    pub fn sender(&self) -> Sender<Event> {
        self.tx.clone()
    }

    /// Queues an event; a full queue is an error, never a silent drop.
    pub fn submit(&self, event: Event) -> Result<(), QueueError> {
        self.tx.try_send(event).map_err(|e| match e {
            TrySendError::Full(_) => QueueError::Full {
                capacity: self.capacity,
            },
            TrySendError::Disconnected(_) => QueueError::Closed,
        })
    }

    /// Applies every queued event, in order, at the clock's time; the commands go to
    /// `out`. The first event the engine refuses stops the drain with its error (the
    /// error names the order); the events before it were applied, the ones after it
    /// stay queued.
    pub fn drain(&mut self, out: &mut Vec<Command>) -> Result<usize, EngineError> {
        let mut n = 0;
        while let Ok(event) = self.rx.try_recv() {
            let now = self.clock.now();
            self.engine.handle(now, event, out)?;
            n += 1;
        }
        Ok(n)
    }

    /// The engine, to read its state.
    pub fn engine(&self) -> &Engine<G> {
        &self.engine
    }

    /// Gives the engine back, dropping the queue.
    pub fn into_engine(self) -> Engine<G> {
        self.engine
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }
}
