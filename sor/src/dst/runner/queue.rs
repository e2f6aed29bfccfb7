//! What happens in a run, and the queue that orders it: by simulated time, and at one
//! instant by the order it was scheduled.

use super::MAX_PENDING;
use crate::domain::ChildId;
use crate::dst::invariants::{Invariant, Violation};
use crate::dst::reconcile::StatusAnswer;
use crate::engine::Event;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use venues::{Liquidity, Nanos, VenueOrder, VenueReport};

/// Something that happens at an instant.
#[derive(Debug, Clone)]
pub(super) enum Item {
    /// The desk sends a parent or a cancel (it resends what the gateway did not get).
    Desk(Event),
    /// The engine's own call-back.
    Timer(Event),
    /// A venue report reaches the gateway.
    Deliver {
        venue: usize,
        child: ChildId,
        report: VenueReport,
        dup: bool,
    },
    /// The gateway's adapter answers for a venue it cannot reach.
    Local { child: ChildId, report: VenueReport },
    /// A venue's fresh liquidity reaches the gateway.
    Market { venue: usize, liq: Box<Liquidity> },
    /// A child reaches its venue.
    Arrive { venue: usize, order: VenueOrder },
    /// A cancel reaches the venue.
    CancelArrive { venue: usize, child: String },
    /// A resting child's remainder executes at the venue.
    Work { venue: usize, child: String },
    /// A status query reaches the venue.
    Query {
        venue: usize,
        epoch: u32,
        children: Vec<String>,
    },
    /// The venue's status answer reaches the gateway.
    Answer {
        venue: usize,
        epoch: u32,
        answers: Vec<(String, StatusAnswer)>,
    },
    /// A venue's link drops.
    LinkDown { venue: usize },
    /// It comes back.
    LinkUp { venue: usize },
    /// The process dies.
    Crash,
    /// The process starts again.
    Restart,
}

impl Item {
    /// Whether the item lived in the process's memory or on a link into it.
    pub(super) fn lost_in_crash(&self) -> bool {
        matches!(
            self,
            Item::Timer(_)
                | Item::Deliver { .. }
                | Item::Local { .. }
                | Item::Market { .. }
                | Item::Answer { .. }
        )
    }

    /// Whether the item was on venue `v`'s link (either way).
    pub(super) fn on_link(&self, v: usize) -> bool {
        match self {
            Item::Deliver { venue, .. }
            | Item::Market { venue, .. }
            | Item::Arrive { venue, .. }
            | Item::CancelArrive { venue, .. }
            | Item::Query { venue, .. }
            | Item::Answer { venue, .. } => *venue == v,
            _ => false,
        }
    }
}

pub(super) struct Scheduled {
    pub(super) at: Nanos,
    seq: u64,
    pub(super) item: Item,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Events by time; at one instant, in the order they were scheduled.
#[derive(Default)]
pub(super) struct Queue {
    heap: BinaryHeap<Reverse<Scheduled>>,
    seq: u64,
}

impl Queue {
    pub(super) fn push(&mut self, at: Nanos, item: Item) -> Result<(), Violation> {
        if self.heap.len() >= MAX_PENDING {
            return Err(Violation::new(
                Invariant::EveryOrderEnds,
                format!("more than {MAX_PENDING} events pending"),
            ));
        }
        self.seq += 1;
        self.heap.push(Reverse(Scheduled {
            at,
            seq: self.seq,
            item,
        }));
        Ok(())
    }

    pub(super) fn pop(&mut self) -> Option<Scheduled> {
        self.heap.pop().map(|Reverse(s)| s)
    }

    pub(super) fn retain(&mut self, keep: impl Fn(&Item) -> bool) {
        self.heap.retain(|Reverse(s)| keep(&s.item));
    }
}
