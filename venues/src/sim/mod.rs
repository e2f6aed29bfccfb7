//! In-process venue simulators: each venue's logic behind [`VenueSim`].
//!
//! A simulator is deterministic given its seed and the times it is called with. The
//! core's runner calls it directly; later issues put the same logic behind real FIX,
//! HTTP/WebSocket and JSON-RPC servers.

mod book;
mod pool;
mod rfq;
mod route;

pub use book::{BookConfig, BookSim};
pub use pool::{PoolConfig, PoolSim};
pub use rfq::{Quote, RfqConfig, RfqDealerSim};
pub use route::{Hop, RouteConfig, RouteSim};

use crate::{Liquidity, Nanos, Side, VenueId, VenueKind, VenueOrder, VenueReport};

/// A simulated venue: shows its liquidity and executes child orders.
pub trait VenueSim: Send {
    /// The venue's id.
    fn id(&self) -> &VenueId;
    /// The venue's kind.
    fn kind(&self) -> VenueKind;
    /// The venue's instrument id.
    fn instrument(&self) -> &str;
    /// What a taker on `side` can get here at `now`.
    fn liquidity(&mut self, side: Side, now: Nanos) -> Liquidity;
    /// Executes a child at `now`; the reports are in the order the venue sends them.
    fn execute(&mut self, order: &VenueOrder, now: Nanos) -> Vec<VenueReport>;

    /// Time the venue takes between receiving a child and sending its answer (a
    /// dealer's quote-and-accept exchange); zero for a venue that answers at once.
    fn processing_delay(&self) -> Nanos {
        0
    }

    /// The book this simulator was set up with, when it is an order book, so the
    /// same market can be served by the FIX exchange simulator instead.
    fn book_config(&self) -> Option<&BookConfig> {
        None
    }

    /// The dealer this simulator was set up with, when it is an RFQ dealer, so the
    /// same dealer can be served by the HTTP/WebSocket dealer simulator instead.
    fn rfq_config(&self) -> Option<&RfqConfig> {
        None
    }

    /// The pool venue this simulator was set up with and its exact state, when it is a
    /// single DODO V2 pool quoted with the contract's math, so the same pool can be
    /// served by the chain simulator instead.
    fn chain_pool(&self) -> Option<(&PoolConfig, crate::pool_math::ExactPmm)> {
        None
    }
}

/// Decimal quantities scaled for seeded draws: a uniform number in `[0, 1)`.
pub(crate) fn unit_draw(rng: &mut rand_chacha::ChaCha8Rng) -> f64 {
    use rand::Rng;
    rng.random::<f64>()
}
