//! Steps in words, for the trace and a failure's last events.

use super::{Item, MS, SEC, World};
use crate::engine::Event;
use venues::{Nanos, VenueReport};

impl World {
    pub(super) fn describe(&self, item: &Item) -> String {
        let name = |v: &usize| self.venues.get(*v).map_or("?", |x| x.id.as_str());
        match item {
            Item::Desk(e) => format!("desk: {}", event_line(e)),
            Item::Timer(e) => format!("timer: {}", event_line(e)),
            Item::Deliver {
                venue,
                child,
                report,
                dup,
            } => format!(
                "{} -> gateway: {child} {}{}",
                name(venue),
                report_line(report),
                if *dup { " (duplicate)" } else { "" }
            ),
            Item::Local { child, report } => format!("adapter: {child} {}", report_line(report)),
            Item::Market { venue, .. } => format!("{} -> gateway: liquidity", name(venue)),
            Item::Arrive { venue, order } => format!(
                "gateway -> {}: child {} {} {} limit {}",
                name(venue),
                order.client_id,
                order.side,
                order.qty,
                order.limit_px
            ),
            Item::CancelArrive { venue, child } => {
                format!("gateway -> {}: cancel {child}", name(venue))
            }
            Item::Work { venue, child } => format!("{}: {child} rests no more", name(venue)),
            Item::Query {
                venue, children, ..
            } => format!(
                "gateway -> {}: status of {}",
                name(venue),
                children.join(" ")
            ),
            Item::Answer { venue, answers, .. } => {
                format!(
                    "{} -> gateway: status of {} children",
                    name(venue),
                    answers.len()
                )
            }
            Item::LinkDown { venue } => format!("{}: link down", name(venue)),
            Item::LinkUp { venue } => format!("{}: link up", name(venue)),
            Item::Crash => "process crash".into(),
            Item::Restart => "process restart: replay and reconcile".into(),
        }
    }
}

/// Simulated time in seconds with milliseconds, for messages.
pub fn secs_text(t: Nanos) -> String {
    secs(t)
}

pub(super) fn secs(t: Nanos) -> String {
    format!("{}.{:03}s", t / SEC, (t % SEC) / MS)
}

pub(super) fn event_line(e: &Event) -> String {
    match e {
        Event::NewParent(p) => format!(
            "new parent {} {} {} {} ({})",
            p.client_id, p.side, p.qty, p.instrument, p.strategy
        ),
        Event::CancelParent { parent } => format!("cancel {parent}"),
        Event::Liquidity(l) => format!("liquidity {} {}", l.venue, l.side),
        Event::Venue { child, report } => format!("{child} {}", report_line(report)),
        Event::RetryRound { parent } => format!("retry round {parent}"),
        Event::RiskChanged => "risk changed".into(),
        Event::SliceDue { parent, slice } => format!("slice {slice} of {parent} due"),
    }
}

fn report_line(r: &VenueReport) -> String {
    match r {
        VenueReport::Ack => "ack".into(),
        VenueReport::Fill {
            qty, px, exec_id, ..
        } => format!("fill {qty} @ {px} ({exec_id})"),
        VenueReport::FixedCost { amount } => format!("gas {amount}"),
        VenueReport::Rejected { kind, reason } => format!("rejected {kind:?}: {reason}"),
        VenueReport::Expired { unfilled } => format!("expired, {unfilled} unfilled"),
    }
}
