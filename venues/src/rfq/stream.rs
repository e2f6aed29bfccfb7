//! The ladder subscription: one task per dealer that keeps a WebSocket to
//! `GET /v1/ladder` subscribed, watches that something (ladder or heartbeat) arrives
//! within the heartbeat timeout, and reconnects with capped exponential backoff.
//!
//! It reports on a bounded queue: [`LadderEvent::Up`] once subscribed, every ladder,
//! and [`LadderEvent::Down`] when a live stream ends or the first connection fails.
//! A full queue makes the task wait (back-pressure), never drop.

use super::client::{DealerClient, error_chain};
use super::wire::{ClientFrame, ServerFrame, Tier};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// What the ladder subscription tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LadderEvent {
    /// The stream is subscribed; ladders follow.
    Up,
    /// A ladder, smallest tier first.
    Ladder {
        /// The dealer's sequence number on this connection.
        seq: u64,
        /// Dealer time, unix ms.
        time: u64,
        /// The tiers.
        tiers: Vec<Tier>,
    },
    /// The stream is down (or could not come up); a reconnect is on its way.
    Down {
        /// Why, in words for the log.
        reason: String,
    },
}

/// A running ladder subscription; dropping it stops the task and closes the socket.
#[derive(Debug)]
pub struct LadderSubscription {
    events: mpsc::Receiver<LadderEvent>,
    task: JoinHandle<()>,
}

impl LadderSubscription {
    /// The next event; `None` once the task has stopped.
    pub async fn next(&mut self) -> Option<LadderEvent> {
        self.events.recv().await
    }
}

impl Drop for LadderSubscription {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Bound of the subscription's event queue.
const EVENT_QUEUE: usize = 64;

impl DealerClient {
    /// Starts the ladder subscription for the configured instrument on `runtime`.
    pub fn subscribe_ladder(&self, runtime: &tokio::runtime::Handle) -> LadderSubscription {
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let client = self.clone();
        let task = runtime.spawn(async move { run(client, tx).await });
        LadderSubscription { events, task }
    }
}

/// How one connection ended.
struct Ended {
    /// Whether it got as far as subscribed.
    was_up: bool,
    /// Why it ended.
    reason: String,
}

async fn run(client: DealerClient, tx: mpsc::Sender<LadderEvent>) {
    let cfg = client.config().clone();
    let mut backoff = cfg.reconnect_min;
    // `None` until the first outcome: the owner hears `Down` once if the first
    // connection fails, and after every live stream that ends.
    let mut reported_up: Option<bool> = None;
    loop {
        let ended = connect_and_stream(&client, &tx, &mut reported_up).await;
        if tx.is_closed() {
            return;
        }
        tracing::warn!(
            dealer = %cfg.venue,
            reason = %ended.reason,
            retry_in = ?backoff,
            "rfq ladder stream down; reconnecting"
        );
        if reported_up != Some(false) {
            reported_up = Some(false);
            if tx
                .send(LadderEvent::Down {
                    reason: ended.reason,
                })
                .await
                .is_err()
            {
                return;
            }
        }
        if ended.was_up {
            backoff = cfg.reconnect_min;
        }
        tokio::time::sleep(backoff).await;
        backoff = backoff
            .saturating_mul(2)
            .min(cfg.reconnect_max.max(cfg.reconnect_min));
    }
}

async fn connect_and_stream(
    client: &DealerClient,
    tx: &mpsc::Sender<LadderEvent>,
    reported_up: &mut Option<bool>,
) -> Ended {
    let cfg = client.config();
    let down = |was_up: bool, reason: String| Ended { was_up, reason };
    let mut url = match client.url(&["v1", "ladder"]) {
        Ok(u) => u,
        Err(e) => return down(false, e.to_string()),
    };
    let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
    if url.set_scheme(scheme).is_err() {
        return down(false, format!("cannot make a {scheme} URL"));
    }
    let mut request = match url.as_str().into_client_request() {
        Ok(r) => r,
        Err(e) => return down(false, error_chain(&e)),
    };
    let (name, value) = client.auth_header();
    request.headers_mut().insert(name.clone(), value.clone());
    let connect = tokio_tungstenite::connect_async(request);
    let mut ws = match tokio::time::timeout(cfg.request_timeout, connect).await {
        Ok(Ok((ws, _response))) => ws,
        Ok(Err(e)) => return down(false, format!("connect: {}", error_chain(&e))),
        Err(_) => {
            return down(
                false,
                format!("connect: no answer within {:?}", cfg.request_timeout),
            );
        }
    };
    let subscribe = ClientFrame::Subscribe {
        instrument: cfg.instrument.clone(),
    };
    let text = match serde_json::to_string(&subscribe) {
        Ok(t) => t,
        Err(e) => return down(false, e.to_string()),
    };
    if let Err(e) = ws.send(Message::text(text)).await {
        return down(false, format!("subscribe: {}", error_chain(&e)));
    }
    let mut was_up = false;
    loop {
        let next = tokio::time::timeout(cfg.heartbeat_timeout, ws.next()).await;
        let msg = match next {
            Err(_) => {
                return down(
                    was_up,
                    format!(
                        "nothing received for {:?} (heartbeat missed)",
                        cfg.heartbeat_timeout
                    ),
                );
            }
            Ok(None) => return down(was_up, "closed by the dealer".to_owned()),
            Ok(Some(Err(e))) => return down(was_up, error_chain(&e)),
            Ok(Some(Ok(m))) => m,
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Close(_) => return down(was_up, "closed by the dealer".to_owned()),
            _ => continue,
        };
        let frame = match serde_json::from_str::<ServerFrame>(text.as_str()) {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(dealer = %cfg.venue, error = %e, "rfq ladder frame is not valid JSON; skipped");
                continue;
            }
        };
        let event = match frame {
            ServerFrame::Subscribed { .. } => {
                was_up = true;
                if *reported_up == Some(true) {
                    continue;
                }
                *reported_up = Some(true);
                LadderEvent::Up
            }
            ServerFrame::Ladder {
                instrument,
                seq,
                time,
                tiers,
            } => {
                if instrument != cfg.instrument {
                    tracing::warn!(dealer = %cfg.venue, %instrument, "rfq ladder for another instrument; skipped");
                    continue;
                }
                LadderEvent::Ladder { seq, time, tiers }
            }
            ServerFrame::Heartbeat { .. } => continue,
            ServerFrame::Error { error, message } => {
                return down(
                    was_up,
                    format!("dealer refused the subscription: {error:?}: {message}"),
                );
            }
        };
        if tx.send(event).await.is_err() {
            let _ = ws.close(None).await;
            return down(was_up, "subscription dropped".to_owned());
        }
    }
}
