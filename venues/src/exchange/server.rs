//! The exchange simulator: a FIX 4.4 acceptor in front of one [`MatchingBook`] per
//! symbol, with a seeded market maker, market data, latency and rejects.
//!
//! Clients send NewOrderSingle (market, limit, IOC or Day), OrderCancelRequest and
//! MarketDataRequest; they get ExecutionReports (ack, one per fill with the taker fee
//! in Commission(12), the IOC remainder's cancel), OrderCancelRejects, and market data:
//! a full-refresh snapshot (35=W) of the book on subscription and after every change,
//! and trade prints as incremental refreshes (35=X, MDEntryType 2). The maker restores
//! each configured level towards its size at `replenish_per_sec` of it per second, with
//! seeded jitter, so the book recovers after a taker sweeps it.

use super::matching::{MatchingBook, Owner, Tif};
use crate::{Level, Side};
use fix::session::{EndpointConfig, Role, SessionError, SessionHost};
use parking_lot::Mutex;
use quickfix::{
    ApplicationCallback, FieldMap, Group, Message, MsgFromAppError, QuickFixError, SessionId,
    send_to_target,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most book levels a market data snapshot carries per side.
const MD_DEPTH: usize = 50;
/// Most client orders the simulator remembers (older ones are forgotten).
const MAX_ORDERS: usize = 1_000_000;

/// One symbol's market: the maker's levels and the taker fee.
#[derive(Debug, Clone)]
pub struct SymbolConfig {
    /// The symbol, e.g. `USDC/USD`.
    pub symbol: String,
    /// The maker's bid levels, best first.
    pub bids: Vec<Level>,
    /// The maker's ask levels, best first.
    pub asks: Vec<Level>,
    /// Taker fee, bps of notional, reported in Commission(12).
    pub taker_fee_bps: Decimal,
    /// Share of each level's size the maker restores per second.
    pub replenish_per_sec: Decimal,
}

/// How the simulated exchange is set up.
#[derive(Debug, Clone)]
pub struct ExchangeConfig {
    /// The exchange's CompID.
    pub comp_id: String,
    /// Its TCP port.
    pub port: u16,
    /// CompIDs allowed to connect.
    pub clients: Vec<String>,
    /// Where its FIX stores live.
    pub data_dir: PathBuf,
    /// Its markets.
    pub symbols: Vec<SymbolConfig>,
    /// Delay before each order is processed.
    pub latency: Duration,
    /// Probability that an order is rejected outright.
    pub reject_rate: f64,
    /// Seed of the maker's jitter and the rejects.
    pub seed: u64,
    /// How often the maker replenishes.
    pub refresh: Duration,
}

struct Market {
    config: SymbolConfig,
    book: MatchingBook,
}

struct ClientOrder {
    symbol: String,
    side: Side,
    qty: Decimal,
    cum: Decimal,
    notional: Decimal,
    book_id: Option<u64>,
}

struct State {
    markets: HashMap<String, Market>,
    orders: HashMap<(String, String), ClientOrder>,
    /// (client CompID, MDReqID, symbol).
    subscribers: BTreeSet<(String, String, String)>,
    /// Symbols whose book changed since the last snapshot went out.
    dirty: BTreeSet<String>,
    rng: ChaCha8Rng,
    exec_seq: u64,
    last_refill: Instant,
}

/// A message for one client session, built while the state is locked and sent after
/// by the exchange's writer thread.
struct Outgoing {
    client: String,
    msg: Draft,
}

/// A FIX message being composed, in a form that can cross threads (QuickFIX's own
/// message cannot). The writer thread turns it into a QuickFIX message and sends it.
///
/// The exchange never writes to a socket from the thread that reads it: a reader that
/// blocked on a full send buffer would stop reading, and a client doing the same would
/// deadlock the pair across the TCP connection.
#[derive(Debug, Clone, Default)]
struct Draft {
    msg_type: String,
    fields: Vec<(i32, String)>,
    groups: Vec<DraftGroup>,
}

/// One repeating-group entry of a [`Draft`].
#[derive(Debug, Clone, Default)]
struct DraftGroup {
    tag: i32,
    delim: i32,
    order: Vec<i32>,
    fields: Vec<(i32, String)>,
}

impl Draft {
    fn set_field(&mut self, tag: i32, value: impl AsRef<str>) -> Result<(), QuickFixError> {
        self.fields.push((tag, value.as_ref().to_owned()));
        Ok(())
    }

    fn add_group(&mut self, g: &DraftGroup) -> Result<(), QuickFixError> {
        self.groups.push(g.clone());
        Ok(())
    }

    fn build(&self) -> Result<Message, QuickFixError> {
        let mut m = fix::new_message(&self.msg_type)?;
        for (tag, value) in &self.fields {
            m.set_field(*tag, value.as_str())?;
        }
        for d in &self.groups {
            let mut g = Group::try_with_orders(d.tag, d.delim, &d.order)?;
            for (tag, value) in &d.fields {
                g.set_field(*tag, value.as_str())?;
            }
            m.add_group(&g)?;
        }
        Ok(m)
    }
}

impl DraftGroup {
    fn try_new(tag: i32, delim: i32) -> Result<Self, QuickFixError> {
        Self::try_with_orders(tag, delim, &[])
    }

    fn try_with_orders(tag: i32, delim: i32, order: &[i32]) -> Result<Self, QuickFixError> {
        Ok(Self {
            tag,
            delim,
            order: order.to_vec(),
            fields: Vec::new(),
        })
    }

    fn set_field(&mut self, tag: i32, value: impl AsRef<str>) -> Result<(), QuickFixError> {
        self.fields.push((tag, value.as_ref().to_owned()));
        Ok(())
    }
}

struct ExchangeApp {
    writer: crossbeam_channel::Sender<Outgoing>,
    state: Arc<Mutex<State>>,
    latency: Duration,
    reject_rate: f64,
}

/// One client order the exchange has seen, as its book keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderView {
    /// The client's CompID.
    pub client: String,
    /// The client's ClOrdID.
    pub cl_ord_id: String,
    /// Order quantity.
    pub qty: Decimal,
    /// Quantity filled.
    pub cum: Decimal,
}

/// A running simulated exchange.
pub struct ExchangeSim {
    state: Arc<Mutex<State>>,
    host: Option<SessionHost>,
    maker: Option<JoinHandle<()>>,
    writer: Option<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl ExchangeSim {
    /// Starts the exchange: maker quotes posted, acceptor listening.
    pub fn start(config: ExchangeConfig) -> Result<Self, SessionError> {
        let mut markets = HashMap::new();
        for s in &config.symbols {
            let mut book = MatchingBook::new();
            for l in &s.bids {
                book.post(Side::Buy, l.px, l.qty, Owner::Maker);
            }
            for l in &s.asks {
                book.post(Side::Sell, l.px, l.qty, Owner::Maker);
            }
            markets.insert(
                s.symbol.clone(),
                Market {
                    config: s.clone(),
                    book,
                },
            );
        }
        let state = Arc::new(Mutex::new(State {
            markets,
            orders: HashMap::new(),
            subscribers: BTreeSet::new(),
            dirty: BTreeSet::new(),
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            exec_seq: 0,
            last_refill: Instant::now(),
        }));
        let endpoint = EndpointConfig {
            name: format!("exchange {}", config.comp_id),
            role: Role::Acceptor { port: config.port },
            sender: config.comp_id.clone(),
            targets: config.clients.clone(),
            data_dir: config.data_dir.clone(),
            heartbeat_secs: 30,
            threaded: true,
            persist_messages: true,
        };
        let (writer_tx, writer_rx) = crossbeam_channel::unbounded::<Outgoing>();
        let writer_comp = config.comp_id.clone();
        let writer = std::thread::Builder::new()
            .name(format!("writer {}", config.comp_id))
            .spawn(move || write_all(&writer_comp, writer_rx))
            .map_err(|source| SessionError::DataDir {
                path: PathBuf::from("<writer thread>"),
                source,
            })?;
        let app_state = state.clone();
        let view_state = state.clone();
        let (app_writer, latency, reject_rate) =
            (writer_tx.clone(), config.latency, config.reject_rate);
        let host = SessionHost::start(endpoint, move || ExchangeApp {
            writer: app_writer,
            state: app_state,
            latency,
            reject_rate,
        })?;
        let stop = Arc::new(AtomicBool::new(false));
        let maker_stop = stop.clone();
        let comp_id = config.comp_id.clone();
        let refresh = config.refresh;
        let maker = std::thread::Builder::new()
            .name(format!("maker {comp_id}"))
            .spawn(move || {
                while !maker_stop.load(Ordering::Relaxed) {
                    std::thread::sleep(refresh);
                    let out = {
                        let mut st = state.lock();
                        replenish(&mut st)
                    };
                    send_all(&writer_tx, out);
                }
            })
            .map_err(|source| SessionError::DataDir {
                path: PathBuf::from("<maker thread>"),
                source,
            })?;
        Ok(Self {
            state: view_state,
            host: Some(host),
            maker: Some(maker),
            writer: Some(writer),
            stop,
            port: config.port,
        })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every client order it has taken (the most recent ones past its bound), in
    /// ClOrdID order: what the exchange really did, for tests that check a client's view.
    pub fn orders(&self) -> Vec<OrderView> {
        let st = self.state.lock();
        let mut out: Vec<OrderView> = st
            .orders
            .iter()
            .map(|((client, cl), o)| OrderView {
                client: client.clone(),
                cl_ord_id: cl.clone(),
                qty: o.qty,
                cum: o.cum,
            })
            .collect();
        out.sort_by(|a, b| (&a.client, &a.cl_ord_id).cmp(&(&b.client, &b.cl_ord_id)));
        out
    }

    /// Stops the maker and logs out every client.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(m) = self.maker.take() {
            let _ = m.join();
        }
        if let Some(h) = self.host.take() {
            h.stop();
        }
        // The maker and the sessions held the writer's only senders: it ends now.
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for ExchangeSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExchangeSim")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl Drop for ExchangeSim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Hands messages to the exchange's writer thread (never blocks).
fn send_all(writer: &crossbeam_channel::Sender<Outgoing>, out: Vec<Outgoing>) {
    for o in out {
        // A closed writer means the exchange is stopping.
        let _ = writer.send(o);
    }
}

/// The writer thread: builds and sends every outgoing message, in order.
fn write_all(comp_id: &str, rx: crossbeam_channel::Receiver<Outgoing>) {
    for o in rx {
        let sent = o.msg.build().and_then(|m| {
            SessionId::try_new("FIX.4.4", comp_id, &o.client, "")
                .and_then(|s| send_to_target(m, &s))
        });
        if let Err(e) = sent {
            tracing::debug!(client = %o.client, "exchange could not send: {e}");
        }
    }
}

/// Restores the maker's levels in proportion to the time since the last refill and
/// returns the market data updates for the books that changed.
fn replenish(st: &mut State) -> Vec<Outgoing> {
    let now = Instant::now();
    let secs = Decimal::from_f64_retain(now.duration_since(st.last_refill).as_secs_f64())
        .unwrap_or(Decimal::ZERO);
    st.last_refill = now;
    // Books that trades changed since the last tick are published with the refills:
    // snapshots go out at most once per tick, not after every trade.
    let mut changed: Vec<String> = std::mem::take(&mut st.dirty).into_iter().collect();
    let State { markets, rng, .. } = st;
    for (symbol, m) in markets.iter_mut() {
        let rate = (m.config.replenish_per_sec * secs).min(Decimal::ONE);
        if rate.is_zero() {
            continue;
        }
        let mut any = false;
        for (side, levels) in [(Side::Buy, &m.config.bids), (Side::Sell, &m.config.asks)] {
            for l in levels {
                let have = m.book.maker_qty(side, l.px);
                if have >= l.qty {
                    continue;
                }
                // Seeded jitter: the maker restores between 80% and 120% of its pace.
                let jitter = Decimal::from(rng.random_range(80u32..=120)) / Decimal::from(100);
                let add = (l.qty * rate * jitter)
                    .min(l.qty - have)
                    .round_dp(l.qty.scale());
                if add > Decimal::ZERO {
                    m.book.post(side, l.px, add, Owner::Maker);
                    any = true;
                }
            }
        }
        if any && !changed.contains(symbol) {
            changed.push(symbol.clone());
        }
    }
    let mut out = Vec::new();
    for symbol in changed {
        out.extend(snapshots(st, &symbol));
    }
    out
}

/// A full-refresh snapshot of `symbol` for every subscriber to it.
fn snapshots(st: &State, symbol: &str) -> Vec<Outgoing> {
    let Some(m) = st.markets.get(symbol) else {
        return Vec::new();
    };
    st.subscribers
        .iter()
        .filter(|(_, _, s)| s == symbol)
        .filter_map(|(client, req, _)| {
            snapshot_msg(&m.book, symbol, req).ok().map(|msg| Outgoing {
                client: client.clone(),
                msg,
            })
        })
        .collect()
}

fn new_msg(msg_type: &str) -> Result<Draft, QuickFixError> {
    Ok(Draft {
        msg_type: msg_type.to_owned(),
        ..Draft::default()
    })
}

fn snapshot_msg(book: &MatchingBook, symbol: &str, req: &str) -> Result<Draft, QuickFixError> {
    let mut m = new_msg("W")?;
    m.set_field(262, req)?;
    m.set_field(55, symbol)?;
    for (entry_type, side) in [("0", Side::Buy), ("1", Side::Sell)] {
        for (n, l) in book.depth(side, MD_DEPTH).iter().enumerate() {
            let mut g = DraftGroup::try_new(268, 269)?;
            g.set_field(269, entry_type)?;
            g.set_field(270, l.px.to_string())?;
            g.set_field(271, l.qty.to_string())?;
            g.set_field(290, (n + 1).to_string())?;
            m.add_group(&g)?;
        }
    }
    Ok(m)
}

fn trade_print(symbol: &str, req: &str, px: Decimal, qty: Decimal) -> Result<Draft, QuickFixError> {
    let mut m = new_msg("X")?;
    m.set_field(262, req)?;
    // The delimiter (279) must come first; without an order QuickFIX sorts by tag.
    let mut g = DraftGroup::try_with_orders(268, 279, &[279, 269, 55, 270, 271])?;
    g.set_field(279, "0")?;
    g.set_field(269, "2")?;
    g.set_field(55, symbol)?;
    g.set_field(270, px.to_string())?;
    g.set_field(271, qty.to_string())?;
    m.add_group(&g)?;
    Ok(m)
}

/// The fields of one venue-side ExecutionReport.
struct Report<'a> {
    order_id: String,
    cl_ord_id: &'a str,
    exec_id: String,
    exec_type: &'a str,
    ord_status: &'a str,
    symbol: &'a str,
    side: Side,
    qty: Decimal,
    cum: Decimal,
    leaves: Decimal,
    avg_px: Decimal,
    last: Option<(Decimal, Decimal, Decimal)>,
    text: Option<String>,
}

fn report_msg(r: &Report<'_>) -> Result<Draft, QuickFixError> {
    let mut m = new_msg("8")?;
    m.set_field(37, r.order_id.as_str())?;
    m.set_field(11, r.cl_ord_id)?;
    m.set_field(17, r.exec_id.as_str())?;
    m.set_field(150, r.exec_type)?;
    m.set_field(39, r.ord_status)?;
    m.set_field(55, r.symbol)?;
    m.set_field(54, if r.side == Side::Buy { "1" } else { "2" })?;
    m.set_field(38, r.qty.to_string())?;
    m.set_field(14, r.cum.to_string())?;
    m.set_field(151, r.leaves.to_string())?;
    m.set_field(6, r.avg_px.to_string())?;
    if let Some((qty, px, fee)) = r.last {
        m.set_field(32, qty.to_string())?;
        m.set_field(31, px.to_string())?;
        m.set_field(12, fee.to_string())?;
        m.set_field(13, "3")?;
    }
    if let Some(text) = &r.text {
        m.set_field(58, text.as_str())?;
    }
    m.set_field(60, fix::utc_now())?;
    Ok(m)
}

fn dec(raw: Option<String>, tag: u32, name: &str) -> Result<Decimal, String> {
    let raw = raw.ok_or_else(|| format!("tag {tag} ({name}) missing"))?;
    Decimal::from_str(&raw).map_err(|_| format!("tag {tag} ({name}) {raw:?} is not a number"))
}

impl ExchangeApp {
    fn next_exec(st: &mut State) -> String {
        st.exec_seq += 1;
        format!("X{}", st.exec_seq)
    }

    fn reject(&self, client: &str, msg: &Message, text: String) -> Vec<Outgoing> {
        let side = match msg.get_field(54).as_deref() {
            Some("1") => Side::Buy,
            _ => Side::Sell,
        };
        let cl = msg.get_field(11).unwrap_or_else(|| "NONE".into());
        let symbol = msg.get_field(55).unwrap_or_else(|| "N/A".into());
        let qty = msg
            .get_field(38)
            .and_then(|q| Decimal::from_str(&q).ok())
            .unwrap_or(Decimal::ZERO);
        let exec_id = Self::next_exec(&mut self.state.lock());
        let r = Report {
            order_id: "NONE".into(),
            cl_ord_id: &cl,
            exec_id,
            exec_type: "8",
            ord_status: "8",
            symbol: &symbol,
            side,
            qty,
            cum: Decimal::ZERO,
            leaves: Decimal::ZERO,
            avg_px: Decimal::ZERO,
            last: None,
            text: Some(text),
        };
        report_msg(&r)
            .map(|msg| {
                vec![Outgoing {
                    client: client.to_owned(),
                    msg,
                }]
            })
            .unwrap_or_default()
    }

    fn on_new_order(&self, client: &str, msg: &Message) -> Vec<Outgoing> {
        if !self.latency.is_zero() {
            std::thread::sleep(self.latency);
        }
        let parsed = (|| {
            let cl = msg.get_field(11).ok_or("tag 11 (ClOrdID) missing")?;
            let symbol = msg.get_field(55).ok_or("tag 55 (Symbol) missing")?;
            let side = match msg.get_field(54).as_deref() {
                Some("1") => Side::Buy,
                Some("2") => Side::Sell,
                _ => return Err("tag 54 (Side) is not 1 or 2".to_owned()),
            };
            let qty = dec(msg.get_field(38), 38, "OrderQty")?;
            if qty <= Decimal::ZERO {
                return Err("tag 38 (OrderQty) must be > 0".into());
            }
            let (limit, tif) = match msg.get_field(40).as_deref() {
                Some("1") => (None, Tif::Ioc),
                Some("2") => {
                    let px = dec(msg.get_field(44), 44, "Price")?;
                    let tif = match msg.get_field(59).as_deref() {
                        None | Some("0") => Tif::Day,
                        Some("3") => Tif::Ioc,
                        Some(o) => return Err(format!("tag 59 (TimeInForce) {o:?} is not 0 or 3")),
                    };
                    (Some(px), tif)
                }
                other => return Err(format!("tag 40 (OrdType) {other:?} is not 1 or 2")),
            };
            Ok::<_, String>((cl, symbol, side, qty, limit, tif))
        })();
        let (cl, symbol, side, qty, limit, tif) = match parsed {
            Ok(p) => p,
            Err(text) => return self.reject(client, msg, text),
        };
        let mut st = self.state.lock();
        if st.rng.random::<f64>() < self.reject_rate {
            drop(st);
            return self.reject(client, msg, "simulated reject".into());
        }
        if !st.markets.contains_key(&symbol) {
            drop(st);
            return self.reject(client, msg, format!("unknown symbol {symbol}"));
        }
        let key = (client.to_owned(), cl.clone());
        if st.orders.contains_key(&key) {
            drop(st);
            return self.reject(client, msg, format!("duplicate ClOrdID {cl}"));
        }
        if st.orders.len() >= MAX_ORDERS {
            st.orders.clear();
        }
        let owner = Owner::Client {
            session: client.to_owned(),
            cl_ord_id: cl.clone(),
        };
        let Some(market) = st.markets.get_mut(&symbol) else {
            return Vec::new();
        };
        let fee_rate = market.config.taker_fee_bps / Decimal::from(10_000);
        let outcome = market.book.submit(side, qty, limit, tif, owner);
        let order_id = format!("O{}", outcome.id);
        let mut out = Vec::new();
        let mut push = |client: &str, r: Result<Draft, QuickFixError>| {
            if let Ok(msg) = r {
                out.push(Outgoing {
                    client: client.to_owned(),
                    msg,
                });
            }
        };
        let exec = Self::next_exec(&mut st);
        push(
            client,
            report_msg(&Report {
                order_id: order_id.clone(),
                cl_ord_id: &cl,
                exec_id: exec,
                exec_type: "0",
                ord_status: "0",
                symbol: &symbol,
                side,
                qty,
                cum: Decimal::ZERO,
                leaves: qty,
                avg_px: Decimal::ZERO,
                last: None,
                text: None,
            }),
        );
        let (mut cum, mut notional) = (Decimal::ZERO, Decimal::ZERO);
        for t in &outcome.trades {
            cum += t.qty;
            notional += t.qty * t.px;
            let leaves = qty - cum;
            let exec = Self::next_exec(&mut st);
            push(
                client,
                report_msg(&Report {
                    order_id: order_id.clone(),
                    cl_ord_id: &cl,
                    exec_id: exec,
                    exec_type: "F",
                    ord_status: if leaves.is_zero() { "2" } else { "1" },
                    symbol: &symbol,
                    side,
                    qty,
                    cum,
                    leaves,
                    avg_px: notional / cum,
                    last: Some((t.qty, t.px, t.qty * t.px * fee_rate)),
                    text: None,
                }),
            );
            // A resting client order that was hit hears about it too (no maker fee).
            if let Owner::Client { session, cl_ord_id } = &t.maker {
                let exec = Self::next_exec(&mut st);
                if let Some(o) = st.orders.get_mut(&(session.clone(), cl_ord_id.clone())) {
                    o.cum += t.qty;
                    o.notional += t.qty * t.px;
                    let r = Report {
                        order_id: format!("O{}", t.maker_id),
                        cl_ord_id,
                        exec_id: exec,
                        exec_type: "F",
                        ord_status: if t.maker_left.is_zero() { "2" } else { "1" },
                        symbol: &o.symbol,
                        side: o.side,
                        qty: o.qty,
                        cum: o.cum,
                        leaves: t.maker_left,
                        avg_px: o.notional / o.cum,
                        last: Some((t.qty, t.px, Decimal::ZERO)),
                        text: None,
                    };
                    push(session, report_msg(&r));
                }
            }
        }
        if outcome.cancelled > Decimal::ZERO {
            let exec = Self::next_exec(&mut st);
            push(
                client,
                report_msg(&Report {
                    order_id: order_id.clone(),
                    cl_ord_id: &cl,
                    exec_id: exec,
                    exec_type: "4",
                    ord_status: "4",
                    symbol: &symbol,
                    side,
                    qty,
                    cum,
                    leaves: Decimal::ZERO,
                    avg_px: if cum.is_zero() {
                        Decimal::ZERO
                    } else {
                        notional / cum
                    },
                    last: None,
                    text: Some(format!(
                        "{} not filled: IOC remainder cancelled",
                        outcome.cancelled
                    )),
                }),
            );
        }
        st.orders.insert(
            key,
            ClientOrder {
                symbol: symbol.clone(),
                side,
                qty,
                cum,
                notional,
                book_id: (outcome.rested > Decimal::ZERO).then_some(outcome.id),
            },
        );
        let mut md = Vec::new();
        for (sub, req, s) in &st.subscribers {
            if *s != symbol {
                continue;
            }
            for t in &outcome.trades {
                if let Ok(msg) = trade_print(&symbol, req, t.px, t.qty) {
                    md.push(Outgoing {
                        client: sub.clone(),
                        msg,
                    });
                }
            }
        }
        if !outcome.trades.is_empty() || outcome.rested > Decimal::ZERO {
            st.dirty.insert(symbol.clone());
        }
        out.extend(md);
        out
    }

    fn on_cancel(&self, client: &str, msg: &Message) -> Vec<Outgoing> {
        let cl = msg.get_field(11).unwrap_or_else(|| "NONE".into());
        let orig = msg.get_field(41).unwrap_or_default();
        let mut st = self.state.lock();
        let exec = Self::next_exec(&mut st);
        let key = (client.to_owned(), orig.clone());
        let found = st
            .orders
            .get(&key)
            .and_then(|o| o.book_id.map(|id| (id, o.symbol.clone())));
        let left = found.and_then(|(id, symbol)| {
            st.markets
                .get_mut(&symbol)
                .and_then(|m| m.book.cancel(id))
                .map(|left| (id, left))
        });
        let reply = match (left, st.orders.get_mut(&key)) {
            (Some((id, _left)), Some(o)) => {
                o.book_id = None;
                report_msg(&Report {
                    order_id: format!("O{id}"),
                    cl_ord_id: &cl,
                    exec_id: exec,
                    exec_type: "4",
                    ord_status: "4",
                    symbol: &o.symbol,
                    side: o.side,
                    qty: o.qty,
                    cum: o.cum,
                    leaves: Decimal::ZERO,
                    avg_px: if o.cum.is_zero() {
                        Decimal::ZERO
                    } else {
                        o.notional / o.cum
                    },
                    last: None,
                    text: Some("cancelled on request".into()),
                })
                .map(|mut m| {
                    let _ = m.set_field(41, orig.as_str());
                    m
                })
            }
            _ => new_msg("9").and_then(|mut m| {
                m.set_field(37, "NONE")?;
                m.set_field(11, cl.as_str())?;
                m.set_field(41, orig.as_str())?;
                m.set_field(39, "8")?;
                m.set_field(434, "1")?;
                m.set_field(102, "1")?;
                m.set_field(58, "unknown or no longer working order")?;
                Ok(m)
            }),
        };
        reply
            .map(|msg| {
                vec![Outgoing {
                    client: client.to_owned(),
                    msg,
                }]
            })
            .unwrap_or_default()
    }

    /// OrderStatusRequest (35=H): an ExecutionReport 150=I with the order's state, or
    /// OrdStatus 8 (OrdRejReason 5, unknown order) for an order it never took.
    fn on_status(&self, client: &str, msg: &Message) -> Vec<Outgoing> {
        let cl = msg.get_field(11).unwrap_or_else(|| "NONE".into());
        let mut st = self.state.lock();
        let exec = Self::next_exec(&mut st);
        let reply = match st.orders.get(&(client.to_owned(), cl.clone())) {
            Some(o) => {
                let working = o.book_id.is_some();
                let ord_status = if o.cum >= o.qty {
                    "2"
                } else if working {
                    if o.cum.is_zero() { "0" } else { "1" }
                } else {
                    "4"
                };
                report_msg(&Report {
                    order_id: o
                        .book_id
                        .map_or_else(|| "NONE".into(), |id| format!("O{id}")),
                    cl_ord_id: &cl,
                    exec_id: exec,
                    exec_type: "I",
                    ord_status,
                    symbol: &o.symbol,
                    side: o.side,
                    qty: o.qty,
                    cum: o.cum,
                    leaves: if working {
                        o.qty - o.cum
                    } else {
                        Decimal::ZERO
                    },
                    avg_px: if o.cum.is_zero() {
                        Decimal::ZERO
                    } else {
                        o.notional / o.cum
                    },
                    last: None,
                    text: None,
                })
            }
            None => {
                let side = match msg.get_field(54).as_deref() {
                    Some("1") => Side::Buy,
                    _ => Side::Sell,
                };
                let symbol = msg.get_field(55).unwrap_or_default();
                report_msg(&Report {
                    order_id: "NONE".into(),
                    cl_ord_id: &cl,
                    exec_id: exec,
                    exec_type: "I",
                    ord_status: "8",
                    symbol: &symbol,
                    side,
                    qty: Decimal::ZERO,
                    cum: Decimal::ZERO,
                    leaves: Decimal::ZERO,
                    avg_px: Decimal::ZERO,
                    last: None,
                    text: Some("unknown order".into()),
                })
                .map(|mut m| {
                    let _ = m.set_field(103, "5");
                    m
                })
            }
        };
        reply
            .map(|msg| {
                vec![Outgoing {
                    client: client.to_owned(),
                    msg,
                }]
            })
            .unwrap_or_default()
    }

    fn on_md_request(&self, client: &str, msg: &Message) -> Vec<Outgoing> {
        let req = msg.get_field(262).unwrap_or_default();
        let kind = msg.get_field(263).unwrap_or_default();
        let mut symbols = Vec::new();
        let mut i = 1;
        while let Some(s) = msg.with_group(i, 146, |g| g.get_field(55)) {
            symbols.extend(s);
            i += 1;
            if i > 1000 {
                break;
            }
        }
        let mut st = self.state.lock();
        let mut out = Vec::new();
        for symbol in symbols {
            if !st.markets.contains_key(&symbol) {
                if let Ok(mut m) = new_msg("Y") {
                    let _ = m.set_field(262, req.as_str());
                    let _ = m.set_field(281, "0");
                    let _ = m.set_field(58, format!("unknown symbol {symbol}").as_str());
                    out.push(Outgoing {
                        client: client.to_owned(),
                        msg: m,
                    });
                }
                continue;
            }
            let key = (client.to_owned(), req.clone(), symbol.clone());
            match kind.as_str() {
                "2" => {
                    st.subscribers.remove(&key);
                }
                k => {
                    if k == "1" {
                        st.subscribers.insert(key);
                    }
                    if let Some(m) = st.markets.get(&symbol)
                        && let Ok(msg) = snapshot_msg(&m.book, &symbol, &req)
                    {
                        out.push(Outgoing {
                            client: client.to_owned(),
                            msg,
                        });
                    }
                }
            }
        }
        out
    }
}

impl ApplicationCallback for ExchangeApp {
    fn on_logout(&self, session: &SessionId) {
        if let Some(client) = session.get_target_comp_id() {
            self.state
                .lock()
                .subscribers
                .retain(|(c, _, _)| *c != client);
        }
    }

    fn on_msg_from_app(&self, msg: &Message, session: &SessionId) -> Result<(), MsgFromAppError> {
        let client = session.get_target_comp_id().unwrap_or_default();
        let out = match msg.with_header(|h| h.get_field(35)).as_deref() {
            Some("D") => self.on_new_order(&client, msg),
            Some("F") => self.on_cancel(&client, msg),
            Some("H") => self.on_status(&client, msg),
            Some("V") => self.on_md_request(&client, msg),
            _ => return Err(MsgFromAppError::UnsupportedMessageType),
        };
        send_all(&self.writer, out);
        Ok(())
    }
}
