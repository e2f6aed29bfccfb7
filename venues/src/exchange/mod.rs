//! A FIX 4.4 exchange book: the adapter the gateway routes through
//! ([`FixBookLink`]) and the simulator it talks to in tests and `sor serve --sim`
//! ([`ExchangeSim`], a price-time-priority [`MatchingBook`] per symbol behind a
//! QuickFIX acceptor).

mod link;
mod matching;
mod server;

pub mod reconcile;
pub use link::{FixBookConfig, FixBookLink};
pub use matching::{MatchingBook, Outcome, Owner, Tif, Trade};
pub use server::{ExchangeConfig, ExchangeSim, OrderView, SymbolConfig};
