//! The live seam between the engine and a venue adapter.
//!
//! In `sor run` the engine calls [`crate::sim::VenueSim`]s directly, in simulated
//! time. In `sor serve` every venue is a [`VenueLink`]: an adapter that talks to the
//! venue over its real protocol (FIX, HTTP/WebSocket, JSON-RPC) on its own threads.
//! The engine hands it orders and cancels without waiting; everything the venue says
//! comes back as [`LinkEvent`]s on one bounded queue ([`LinkSink`]) that the engine
//! thread drains. A full queue blocks the adapter (back-pressure), never drops.

use crate::{Liquidity, VenueId, VenueOrder, VenueReport};
use rust_decimal::Decimal;

/// Something a venue adapter tells the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkEvent {
    /// A report on one child, named by the child's client order id.
    Report {
        /// The venue.
        venue: VenueId,
        /// The child's client order id ([`VenueOrder::client_id`]).
        client_id: String,
        /// What the venue said.
        report: VenueReport,
    },
    /// The venue's liquidity changed (book depth, a streamed ladder, pool state).
    Liquidity(Liquidity),
    /// A trade printed at the venue (anyone's), for the reference rate.
    Trade {
        /// The venue.
        venue: VenueId,
        /// Price.
        px: rust_decimal::Decimal,
        /// Quantity.
        qty: rust_decimal::Decimal,
    },
    /// The adapter's connection went up or down.
    Connection {
        /// The venue.
        venue: VenueId,
        /// Whether orders can be sent now.
        up: bool,
        /// Why, in words for the log.
        reason: String,
    },
}

/// Where adapters put their events: a bounded crossbeam queue read by the engine.
pub type LinkSink = crossbeam_channel::Sender<LinkEvent>;

/// Takes a venue's event on the adapter thread that received it, when that needs no
/// waiting (run to completion): no hand-off to the engine's thread, no wake-up.
///
/// An adapter asks only when none of its own earlier events is still queued, so
/// handling this one now keeps the venue's events in order.
pub trait InlineEvents: Send + Sync {
    /// Handles `event` at once and returns `None`, or hands it back to be queued (the
    /// engine is busy, stopping, or not taking work inline).
    fn try_handle(&self, event: LinkEvent) -> Option<LinkEvent>;
}

/// Where the engine's [`InlineEvents`] handler is set once the engine exists. Empty,
/// every event is queued. Clones share one handler.
#[derive(Clone, Default)]
pub struct InlineSlot(std::sync::Arc<std::sync::OnceLock<Box<dyn InlineEvents>>>);

impl InlineSlot {
    /// Sets the handler; `false` if one was set already (it stays).
    pub fn set(&self, handler: Box<dyn InlineEvents>) -> bool {
        self.0.set(handler).is_ok()
    }

    /// Hands `event` to the handler, if one is set and takes it now; otherwise gives
    /// it back.
    pub fn try_handle(&self, event: LinkEvent) -> Option<LinkEvent> {
        match self.0.get() {
            Some(handler) => handler.try_handle(event),
            None => Some(event),
        }
    }
}

impl std::fmt::Debug for InlineSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineSlot")
            .field("set", &self.0.get().is_some())
            .finish()
    }
}

/// Why an adapter could not take an order or a cancel. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The venue is not connected.
    #[error("venue {venue} is not connected")]
    Disconnected {
        /// The venue.
        venue: VenueId,
    },
    /// The adapter's outbound queue is full.
    #[error("venue {venue} outbound queue is full ({capacity} orders)")]
    Busy {
        /// The venue.
        venue: VenueId,
        /// The queue's bound.
        capacity: usize,
    },
    /// The adapter does not know the child (cancel of an unknown id).
    #[error("venue {venue} has no working child {client_id}")]
    UnknownChild {
        /// The venue.
        venue: VenueId,
        /// The child's client order id.
        client_id: String,
    },
    /// The adapter cannot do this at all (e.g. cancel a fill-or-kill RFQ acceptance).
    #[error("venue {venue} cannot {what}")]
    Unsupported {
        /// The venue.
        venue: VenueId,
        /// What was asked.
        what: String,
    },
}

/// What the engine already holds of a child it asks a venue about after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Known {
    /// Filled, base units.
    pub filled: Decimal,
    /// Σ qty × gross price of those fills, quote units.
    pub gross: Decimal,
    /// Fixed costs booked (gas), in their asset.
    pub fixed_cost: Decimal,
}

impl Known {
    /// Nothing: no fill, no cost.
    pub const NOTHING: Known = Known {
        filled: Decimal::ZERO,
        gross: Decimal::ZERO,
        fixed_cost: Decimal::ZERO,
    };
}

/// A live venue adapter, driven by the engine thread.
///
/// Both methods must return quickly (hand the work to the adapter's own thread or
/// socket) and must never block on the venue. Every outcome of a sent order (ack,
/// fills, reject, expiry) arrives later as [`LinkEvent::Report`]s; an `Err` means the
/// order never left and the engine treats it as a reject.
pub trait VenueLink: Send + Sync {
    /// The venue's id.
    fn id(&self) -> &VenueId;
    /// Sends a child order.
    fn send(&self, order: VenueOrder) -> Result<(), LinkError>;
    /// Asks the venue to cancel a working child.
    fn cancel(&self, client_id: &str) -> Result<(), LinkError>;
    /// After a restart: asks the venue for the true state of a child the journal shows
    /// still working, of which the engine already holds `known`. What the engine missed
    /// comes back as [`LinkEvent::Report`]s (the missing fill, then the child's end),
    /// each fill and each cost counted once however the venue's answer and its
    /// session's resends interleave. Adapters that cannot ask say so, and the operator
    /// is told to check the venue.
    fn reconcile(&self, client_id: &str, known: Known) -> Result<(), LinkError> {
        let _ = (client_id, known);
        Err(LinkError::Unsupported {
            venue: self.id().clone(),
            what: "reconcile a child after a restart".into(),
        })
    }
}
