//! An in-process simulated venue behind the live [`VenueLink`] seam, for `sor serve
//! --sim` venues that have no protocol simulator yet.
//!
//! Each venue runs on its own thread: an order waits the venue's one-way latency,
//! executes against the simulator, and its reports come back after the venue's
//! processing delay and the return latency, followed by a fresh liquidity snapshot.
//! Between orders the thread republishes the venue's liquidity every `refresh`
//! (books replenish with time). Its outbound queue is bounded: a full queue is a
//! [`LinkError::Busy`], never a dropped order.

use crate::clock::{Clock, SystemClock};
use crossbeam_channel::{RecvTimeoutError, Sender, TrySendError, bounded};
use std::thread::JoinHandle;
use std::time::Duration;
use venues::sim::VenueSim;
use venues::{LinkError, LinkEvent, LinkSink, Nanos, Side, VenueId, VenueLink, VenueOrder};

/// Most orders waiting for one simulated venue.
const OUTBOUND_CAPACITY: usize = 1024;

/// A simulated venue on its own thread.
#[derive(Debug)]
pub struct SimLink {
    id: VenueId,
    tx: Sender<VenueOrder>,
}

impl SimLink {
    /// Starts `sim` on a thread publishing to `sink`; the thread ends when the link
    /// is dropped.
    pub fn spawn(
        sim: Box<dyn VenueSim>,
        one_way: Nanos,
        clock: SystemClock,
        sink: LinkSink,
        refresh: Duration,
    ) -> std::io::Result<(Self, JoinHandle<()>)> {
        let id = sim.id().clone();
        let (tx, rx) = bounded::<VenueOrder>(OUTBOUND_CAPACITY);
        let handle = std::thread::Builder::new()
            .name(format!("sim {id}"))
            .spawn(move || {
                let mut sim = sim;
                let publish = |sim: &mut Box<dyn VenueSim>| {
                    for side in [Side::Sell, Side::Buy] {
                        let liq = sim.liquidity(side, clock.now());
                        if sink.send(LinkEvent::Liquidity(liq)).is_err() {
                            return false;
                        }
                    }
                    true
                };
                if !publish(&mut sim) {
                    return;
                }
                loop {
                    match rx.recv_timeout(refresh) {
                        Ok(order) => {
                            std::thread::sleep(Duration::from_nanos(one_way));
                            let reports = sim.execute(&order, clock.now());
                            std::thread::sleep(Duration::from_nanos(
                                sim.processing_delay().saturating_add(one_way),
                            ));
                            for report in reports {
                                let event = LinkEvent::Report {
                                    venue: sim.id().clone(),
                                    client_id: order.client_id.clone(),
                                    report,
                                };
                                if sink.send(event).is_err() {
                                    return;
                                }
                            }
                            if !publish(&mut sim) {
                                return;
                            }
                        }
                        Err(RecvTimeoutError::Timeout) => {
                            if !publish(&mut sim) {
                                return;
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok((Self { id, tx }, handle))
    }
}

impl VenueLink for SimLink {
    fn id(&self) -> &VenueId {
        &self.id
    }

    fn send(&self, order: VenueOrder) -> Result<(), LinkError> {
        self.tx.try_send(order).map_err(|e| match e {
            TrySendError::Full(_) => LinkError::Busy {
                venue: self.id.clone(),
                capacity: OUTBOUND_CAPACITY,
            },
            TrySendError::Disconnected(_) => LinkError::Disconnected {
                venue: self.id.clone(),
            },
        })
    }

    fn cancel(&self, client_id: &str) -> Result<(), LinkError> {
        // Simulated venues execute on arrival (IOC, fill-or-kill, swap): by the time a
        // cancel could arrive the child is done and its own reports end it.
        Err(LinkError::UnknownChild {
            venue: self.id.clone(),
            client_id: client_id.to_owned(),
        })
    }
}
