//! What a step replaced and no longer needs (route books, venue snapshots), kept to be
//! dropped once the step's messages are out.
//!
//! A parent that takes a book built ahead replaces the book it had, and the snapshots
//! applied just before it replace the ones they succeed. Dropping those at once frees
//! every level of each, walking memory that is cold by then, on the path from the
//! parent to its first child. Kept here instead, they are dropped by
//! [`super::Engine::release_retired`], which the gateway calls after the batch's
//! messages are out. A bound keeps an engine that is never asked (the simulator,
//! replay) from holding more than a few.

use crate::router::RouteBook;
use venues::Liquidity;

/// Most of each kind held before they are dropped where they stand.
pub(crate) const MAX_RETIRED: usize = 64;

/// Route books and snapshots replaced, waiting to be dropped.
#[derive(Debug, Default)]
pub(crate) struct Retired {
    books: Vec<RouteBook>,
    snapshots: Vec<Liquidity>,
    /// The snapshots a book built ahead was checked against, one list per book.
    inputs: Vec<Vec<Liquidity>>,
}

impl Retired {
    /// Keeps a replaced route book.
    pub(crate) fn book(&mut self, book: RouteBook) {
        if self.books.len() >= MAX_RETIRED {
            self.books.clear();
        }
        self.books.push(book);
    }

    /// Keeps a replaced venue snapshot.
    pub(crate) fn snapshot(&mut self, snapshot: Liquidity) {
        if self.snapshots.len() >= MAX_RETIRED {
            self.snapshots.clear();
        }
        self.snapshots.push(snapshot);
    }

    /// Keeps the snapshots a book built ahead was checked against.
    pub(crate) fn inputs(&mut self, inputs: Vec<Liquidity>) {
        if self.inputs.len() >= MAX_RETIRED {
            self.inputs.clear();
        }
        self.inputs.push(inputs);
    }

    /// Drops everything kept (the lists keep their room, so keeping allocates nothing
    /// once they have grown).
    pub(crate) fn release(&mut self) {
        self.books.clear();
        self.snapshots.clear();
        self.inputs.clear();
    }

    /// How many things are kept, of each kind: books, snapshots, input lists.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        (self.books.len(), self.snapshots.len(), self.inputs.len())
    }
}
