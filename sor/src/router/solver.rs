//! The split: water-filling over continuous venues, tier choice per dealer, fixed-cost
//! venues on and off.

use super::{RouteShape, RouteVenue};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use venues::Side;

/// Most fixed-cost venues tried on and off (2^n combinations); others stay off.
pub const MAX_FIXED: usize = 6;
/// Most dealers whose tiers are combined; the ones with the best first tier are kept.
pub const MAX_DEALERS: usize = 5;
/// Most tiers of one ladder considered (smallest first).
pub const MAX_TIERS: usize = 8;
/// How close (in price) to the limit the f64 search's verdict is re-checked in
/// `Decimal`.
const NEAR_LIMIT: f64 = 1e-9;
/// `venue_bit` of a fixed-cost venue that is never switched on.
const OFF: u8 = u8::MAX;

/// What to split.
#[derive(Debug, Clone, Copy)]
pub struct RouteRequest<'a> {
    /// The parent's side.
    pub side: Side,
    /// Quantity to place, parent units.
    pub qty: Decimal,
    /// Worst net price per parent unit after fees and fixed costs; `None` for none.
    pub limit: Option<Decimal>,
    /// Per venue (same order as the book), the most it may take in parent units:
    /// the risk gate's room, the desk's max clip; `Some(0)` leaves the venue out.
    pub caps: &'a [Option<Decimal>],
}

/// One venue's share of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation {
    /// Index of the venue in the book.
    pub venue: usize,
    /// Quantity, parent units.
    pub qty: Decimal,
    /// Quantity, venue units.
    pub venue_qty: Decimal,
    /// Worst gross price in venue terms the plan uses: the child's limit.
    pub limit_px: Decimal,
    /// Σ qty × marginal net price, parent quote currency (before fixed cost).
    pub expected_net: Decimal,
    /// Fixed cost of the child, parent quote currency.
    pub fixed_cost: Decimal,
}

impl Allocation {
    /// Expected net price per parent unit, fixed cost included.
    pub fn all_in_px(&self, side: Side) -> Decimal {
        if self.qty.is_zero() {
            return Decimal::ZERO;
        }
        match side {
            Side::Sell => (self.expected_net - self.fixed_cost) / self.qty,
            Side::Buy => (self.expected_net + self.fixed_cost) / self.qty,
        }
    }
}

/// The split of one slice.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RoutePlan {
    /// One entry per venue used, in book order.
    pub allocations: Vec<Allocation>,
    /// Quantity placed, parent units.
    pub placed: Decimal,
    /// Quantity that could not be placed within the limit and caps.
    pub unplaced: Decimal,
}

#[derive(Debug, Clone, Copy)]
struct MergedSeg {
    cost: f64,
    qty: f64,
    venue: u32,
    seg: u32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cand {
    cost: f64,
    qty: f64,
    /// The least this tier must take for a ticket fee to pay (0 without one).
    min: f64,
    tier: u8,
    /// Number of continuous segments strictly cheaper than this tier.
    pos: u32,
}

#[derive(Debug, Clone, Copy)]
struct Best {
    placed: f64,
    cost: f64,
    mask: u32,
    choice: [u8; MAX_DEALERS],
}

/// The venues of one side, with their continuous segments merged in price order once.
#[derive(Debug, Clone, Default)]
pub struct RouteBook {
    venues: Vec<RouteVenue>,
    merged: Vec<MergedSeg>,
    /// Per venue: its tiers as (cost, qty) in `f64` (empty for a curve).
    tiers_f: Vec<Vec<(f64, f64)>>,
    /// Per venue: its fixed cost in `f64`.
    fixed_f: Vec<f64>,
    /// Per venue: its curve segments as (cost, qty) in `f64` (empty for tiers).
    curve_f: Vec<Vec<(f64, f64)>>,
}

impl RouteBook {
    /// Merges `venues`' continuous segments in price order (ties by venue, then segment).
    pub fn new(venues: Vec<RouteVenue>) -> Self {
        let mut merged = Vec::new();
        for (v, venue) in venues.iter().enumerate() {
            if let RouteShape::Curve(segs) = &venue.shape {
                for (s, seg) in segs.iter().enumerate() {
                    merged.push(MergedSeg {
                        cost: seg.cost,
                        qty: seg.qty.to_f64().unwrap_or(0.0),
                        venue: v as u32,
                        seg: s as u32,
                    });
                }
            }
        }
        merged.sort_by(|a, b| {
            a.cost
                .total_cmp(&b.cost)
                .then(a.venue.cmp(&b.venue))
                .then(a.seg.cmp(&b.seg))
        });
        let tiers_f = venues
            .iter()
            .map(|v| match &v.shape {
                RouteShape::Tiers(t) => t
                    .iter()
                    .map(|s| (s.cost, s.qty.to_f64().unwrap_or(0.0)))
                    .collect(),
                RouteShape::Curve(_) => Vec::new(),
            })
            .collect();
        let fixed_f = venues
            .iter()
            .map(|v| v.fixed_cost.to_f64().unwrap_or(f64::INFINITY))
            .collect();
        let curve_f = venues
            .iter()
            .map(|v| match &v.shape {
                RouteShape::Curve(segs) => segs
                    .iter()
                    .map(|s| (s.cost, s.qty.to_f64().unwrap_or(0.0)))
                    .collect(),
                RouteShape::Tiers(_) => Vec::new(),
            })
            .collect();
        Self {
            venues,
            merged,
            tiers_f,
            fixed_f,
            curve_f,
        }
    }

    /// The venues, in the order caps and allocations refer to.
    pub fn venues(&self) -> &[RouteVenue] {
        &self.venues
    }
}

/// The solver, with scratch space reused between decisions.
#[derive(Debug, Default)]
pub struct Router {
    cap_left: Vec<f64>,
    seg_cost: Vec<f64>,
    pre_q: Vec<f64>,
    pre_c: Vec<f64>,
    cands: Vec<[Cand; MAX_TIERS]>,
    cand_len: Vec<usize>,
    dealers: Vec<usize>,
    fixed: Vec<usize>,
    forced_min: Vec<Option<Decimal>>,
    skip_left: Vec<f64>,
    cap_f: Vec<f64>,
    /// Per venue: 0 = no fixed cost, 1..=MAX_FIXED = its bit + 1, `OFF` = left out.
    venue_bit: Vec<u8>,
    bests: Vec<Best>,
}

/// The least a dealer's tier must take for its all-in price (ticket fee included) to
/// respect the limit, rounded up to the venue's precision; `None` if even its full
/// size `h` does not. Zero without a fee or a limit.
fn dealer_min(
    venue: &RouteVenue,
    tier: &super::Segment,
    h: Decimal,
    side: Side,
    limit: Option<Decimal>,
) -> Option<Decimal> {
    let Some(limit) = limit else {
        return Some(Decimal::ZERO);
    };
    if venue.fixed_cost <= Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    let sign = Decimal::from(side.sign());
    let rate = sign * limit - sign * tier.net_px;
    if rate <= Decimal::ZERO {
        return None;
    }
    let r = venue.conversion.qty_rate;
    let units = (venue.fixed_cost / rate / r).round_dp_with_strategy(
        venue.qty_scale,
        rust_decimal::RoundingStrategy::AwayFromZero,
    );
    let min = units * r;
    (min <= h).then_some(min)
}

/// The least a fixed-cost venue must take for its all-in price (fixed cost included)
/// to respect the limit, rounded up to the venue's precision; `None` if no quantity
/// within its curve, the limit and its cap does. Zero without a limit.
fn forced_qty(
    venue: &RouteVenue,
    side: Side,
    limit: Option<Decimal>,
    cap: Option<Decimal>,
) -> Option<Decimal> {
    let Some(limit) = limit else {
        return Some(Decimal::ZERO);
    };
    let RouteShape::Curve(segs) = &venue.shape else {
        return Some(Decimal::ZERO);
    };
    if venue.fixed_cost <= Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    let sign = Decimal::from(side.sign());
    let limit_cost = sign * limit;
    // g(x) = Σ (limit − net)·qty over the first x units must reach the fixed cost.
    let (mut gained, mut x) = (Decimal::ZERO, Decimal::ZERO);
    for (i, seg) in segs.iter().enumerate() {
        let rate = limit_cost - sign * seg.net_px;
        if rate < Decimal::ZERO {
            break;
        }
        if rate > Decimal::ZERO {
            let need = (venue.fixed_cost - gained) / rate;
            if need <= seg.qty {
                let rate_q = venue.conversion.qty_rate;
                let units = ((x + need) / rate_q).round_dp_with_strategy(
                    venue.qty_scale,
                    rust_decimal::RoundingStrategy::AwayFromZero,
                );
                let forced = units * rate_q;
                // Rounding up may reach into the next segment: it must be within the limit.
                let fits = forced <= x + seg.qty
                    || segs.get(i + 1).is_some_and(|n| {
                        sign * n.net_px <= limit_cost && forced <= x + seg.qty + n.qty
                    });
                return (fits && cap.is_none_or(|c| forced <= c)).then_some(forced);
            }
            gained += rate * seg.qty;
        }
        x += seg.qty;
    }
    None
}

/// Quantity placed, in millionths of a unit: plans that differ by less are equal in
/// quantity (f64 sums of the same quantities in another order differ by far less).
fn placed_key(placed: f64) -> f64 {
    (placed * 1e6).round()
}

/// Whether (placed, cost) beats `than`: more placed (by more than half a millionth of
/// a unit), or as much for less cost.
fn better(placed: f64, cost: f64, than: &Best) -> bool {
    const HALF_KEY: f64 = 0.5e-6;
    if placed > than.placed + HALF_KEY {
        return true;
    }
    placed >= than.placed - HALF_KEY && cost < than.cost
}

impl Router {
    /// A router with empty scratch space.
    pub fn new() -> Self {
        Self::default()
    }

    fn cap_f64(cap: Option<Decimal>) -> f64 {
        cap.map_or(f64::INFINITY, |c| c.to_f64().unwrap_or(0.0))
    }

    /// Splits `req.qty` over `book`'s venues. Never places past the limit or a cap; what
    /// cannot be placed is returned as `unplaced`.
    pub fn solve(&mut self, book: &RouteBook, req: &RouteRequest<'_>) -> RoutePlan {
        let venues = &book.venues;
        let q = req.qty.to_f64().unwrap_or(0.0);
        if q <= 0.0 || venues.is_empty() {
            return RoutePlan {
                allocations: Vec::new(),
                placed: Decimal::ZERO,
                unplaced: req.qty.max(Decimal::ZERO),
            };
        }
        let limit_cost = req.limit.map_or(f64::INFINITY, |l| {
            (Decimal::from(req.side.sign()) * l).to_f64().unwrap_or(0.0)
        });
        let cap = |v: usize| req.caps.get(v).copied().flatten();

        // Which venues are fixed-cost switches and which are dealers.
        self.fixed.clear();
        self.dealers.clear();
        for (v, venue) in venues.iter().enumerate() {
            if cap(v).is_some_and(|c| c <= Decimal::ZERO) {
                continue;
            }
            match venue.shape {
                RouteShape::Curve(_) if book.fixed_f[v] > 0.0 && self.fixed.len() < MAX_FIXED => {
                    self.fixed.push(v)
                }
                RouteShape::Tiers(ref t) if !t.is_empty() => self.dealers.push(v),
                _ => {}
            }
        }
        if self.dealers.len() > MAX_DEALERS {
            self.dealers.sort_by(|a, b| {
                let first = |v: usize| match &venues[v].shape {
                    RouteShape::Tiers(t) => t.first().map_or(f64::INFINITY, |s| s.cost),
                    RouteShape::Curve(_) => f64::INFINITY,
                };
                first(*a).total_cmp(&first(*b)).then(a.cmp(b))
            });
            self.dealers.truncate(MAX_DEALERS);
            self.dealers.sort_unstable();
        }
        self.cap_f.clear();
        self.cap_f
            .extend((0..venues.len()).map(|v| Self::cap_f64(cap(v))));

        // A fixed-cost venue can at best replace the marginal units of the plan without
        // any fixed-cost venue (a marginal price no later plan exceeds); if even that
        // saves no more than its fixed cost, it is never switched on.
        let base_lambda = {
            self.cap_left.clear();
            self.cap_left.extend_from_slice(&self.cap_f);
            let (mut cum, mut last) = (0.0f64, f64::INFINITY);
            for m in &book.merged {
                let v = m.venue as usize;
                if book.fixed_f[v] > 0.0 {
                    continue;
                }
                if m.cost > limit_cost || cum >= q {
                    break;
                }
                let take = m.qty.min(self.cap_left[v]);
                if take > 0.0 {
                    self.cap_left[v] -= take;
                    cum += take;
                    last = m.cost;
                }
            }
            if cum >= q { last } else { f64::INFINITY }
        };
        if base_lambda.is_finite() {
            let cap_f = &self.cap_f;
            let fixed_f = &book.fixed_f;
            let curve_f = &book.curve_f;
            self.fixed.retain(|&f| {
                let (mut saving, mut left) = (0.0f64, cap_f[f]);
                for &(cost, qty) in &curve_f[f] {
                    if cost >= base_lambda || left <= 0.0 {
                        break;
                    }
                    let t = qty.min(left);
                    saving += (base_lambda - cost) * t;
                    left -= t;
                }
                saving > fixed_f[f]
            });
        }
        self.venue_bit.clear();
        self.venue_bit
            .extend(book.fixed_f.iter().map(|&f| if f > 0.0 { OFF } else { 0 }));
        for (bit, &f) in self.fixed.iter().enumerate() {
            self.venue_bit[f] = bit as u8 + 1;
        }

        self.forced_min.clear();
        for &f in &self.fixed {
            self.forced_min
                .push(forced_qty(&venues[f], req.side, req.limit, cap(f)));
        }

        self.bests.clear();
        'masks: for mask in 0u32..(1u32 << self.fixed.len()) {
            let venue_bit = &self.venue_bit;
            let off = |v: usize| -> bool {
                match venue_bit[v] {
                    0 => false,
                    OFF => true,
                    b => mask & (1 << (b - 1)) == 0,
                }
            };
            // Continuous prefix for this mask.
            self.cap_left.clear();
            self.cap_left.extend_from_slice(&self.cap_f);
            self.seg_cost.clear();
            self.pre_q.clear();
            self.pre_c.clear();
            self.pre_q.push(0.0);
            self.pre_c.push(0.0);
            // Fixed-cost venues switched on first take the least that makes them pay.
            self.skip_left.clear();
            self.skip_left.resize(venues.len(), 0.0);
            let (mut forced_q, mut forced_c) = (0.0f64, 0.0f64);
            for (bit, &f) in self.fixed.iter().enumerate() {
                if mask & (1 << bit) == 0 {
                    continue;
                }
                let Some(min) = self.forced_min[bit] else {
                    continue 'masks;
                };
                let mut left = min.to_f64().unwrap_or(f64::INFINITY);
                self.skip_left[f] = left;
                self.cap_left[f] -= left;
                forced_q += left;
                for &(cost, qty) in &book.curve_f[f] {
                    if left <= 0.0 {
                        break;
                    }
                    let t = qty.min(left);
                    forced_c += t * cost;
                    left -= t;
                }
            }
            if forced_q > q * (1.0 + 1e-12) {
                continue 'masks;
            }
            let q_all = q;
            let q = q - forced_q;
            let (mut cum_q, mut cum_c) = (0.0f64, 0.0f64);
            for m in &book.merged {
                if cum_q >= q {
                    break;
                }
                let v = m.venue as usize;
                if off(v) {
                    continue;
                }
                if m.cost > limit_cost {
                    break;
                }
                let mut take = m.qty;
                if self.skip_left[v] > 0.0 {
                    let skip = self.skip_left[v].min(take);
                    self.skip_left[v] -= skip;
                    take -= skip;
                }
                let take = take.min(self.cap_left[v]);
                if take <= 0.0 {
                    continue;
                }
                self.cap_left[v] -= take;
                cum_q += take;
                cum_c += take * m.cost;
                self.seg_cost.push(m.cost);
                self.pre_q.push(cum_q);
                self.pre_c.push(cum_c);
                if cum_q >= q {
                    break;
                }
            }
            // A tier no cheaper than the continuous venues' marginal price for the whole
            // quantity can never help; without such a price only the limit prunes.
            let lambda0 = if cum_q >= q {
                self.seg_cost.last().copied().unwrap_or(f64::INFINITY)
            } else {
                f64::INFINITY
            };
            let fixed_total: f64 = self
                .fixed
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, &v)| book.fixed_f[v])
                .sum();

            // Useful tiers per dealer.
            self.cands.clear();
            self.cand_len.clear();
            for &d in &self.dealers {
                let mut list = [Cand::default(); MAX_TIERS];
                let mut n = 0;
                let dcap = self.cap_f[d];
                let mut prev_h = 0.0f64;
                for (t, &(cost, qty)) in book.tiers_f[d].iter().enumerate().take(MAX_TIERS) {
                    let h = qty.min(dcap);
                    if cost > limit_cost || cost >= lambda0 || h <= prev_h {
                        continue;
                    }
                    // A ticket fee: the tier must take enough for it to pay.
                    let min = if book.fixed_f[d] > 0.0 && req.limit.is_some() {
                        let RouteShape::Tiers(tiers) = &venues[d].shape else {
                            continue;
                        };
                        let hd = cap(d).map_or(tiers[t].qty, |c| c.min(tiers[t].qty));
                        match dealer_min(&venues[d], &tiers[t], hd, req.side, req.limit) {
                            Some(m) => m.to_f64().unwrap_or(f64::INFINITY),
                            None => continue,
                        }
                    } else {
                        0.0
                    };
                    let pos = self.seg_cost.partition_point(|&c| c < cost) as u32;
                    list[n] = Cand {
                        cost,
                        qty: h,
                        min,
                        tier: t as u8,
                        pos,
                    };
                    n += 1;
                    prev_h = h;
                    if h >= q {
                        break;
                    }
                }
                self.cands.push(list);
                self.cand_len.push(n);
            }

            // Enumerate tier choices (0 = none) with an odometer.
            let nd = self.dealers.len();
            let mut choice = [0u8; MAX_DEALERS];
            let mut best = Best {
                placed: f64::NEG_INFINITY,
                cost: f64::INFINITY,
                mask,
                choice,
            };
            loop {
                // The chosen tiers as (dealer, candidate) pairs, sorted by cost.
                let mut chosen = [(0u8, 0u8); MAX_DEALERS];
                let mut k = 0;
                let mut dealer_fixed = 0.0;
                for (i, &pick) in choice.iter().enumerate().take(nd) {
                    if pick > 0 {
                        dealer_fixed += book.fixed_f[self.dealers[i]];
                        let c = (i as u8, pick - 1);
                        let cost = self.cands[i][c.1 as usize].cost;
                        let mut j = k;
                        while j > 0 {
                            let (pi, pc) = chosen[j - 1];
                            if self.cands[pi as usize][pc as usize].cost <= cost {
                                break;
                            }
                            chosen[j] = chosen[j - 1];
                            j -= 1;
                        }
                        chosen[j] = c;
                        k += 1;
                    }
                }
                let (placed, cost) = self.eval(&chosen[..k], q);
                let (placed, cost) = (placed + forced_q, cost + forced_c);
                let _ = q_all;
                if better(placed, cost + fixed_total + dealer_fixed, &best) {
                    // Record tier indexes (+1, 0 = none), not candidate indexes.
                    let mut tiers = [0u8; MAX_DEALERS];
                    for (i, (t, &c)) in tiers.iter_mut().zip(&choice).take(nd).enumerate() {
                        if c > 0 {
                            *t = self.cands[i][c as usize - 1].tier + 1;
                        }
                    }
                    best = Best {
                        placed,
                        cost: cost + fixed_total + dealer_fixed,
                        mask,
                        choice: tiers,
                    };
                }
                // Next combination.
                let mut i = 0;
                loop {
                    if i == nd {
                        break;
                    }
                    if (choice[i] as usize) < self.cand_len[i] {
                        choice[i] += 1;
                        break;
                    }
                    choice[i] = 0;
                    i += 1;
                }
                if i == nd {
                    break;
                }
            }
            self.bests.push(best);
        }

        // Best first; rebuild exactly and take the first whose fixed-cost venues pay.
        let mut order = std::mem::take(&mut self.bests);
        order.sort_unstable_by(|a, b| {
            placed_key(b.placed)
                .total_cmp(&placed_key(a.placed))
                .then(a.cost.total_cmp(&b.cost))
                .then(a.mask.cmp(&b.mask))
        });
        // Forced minimums make every switched-on curve venue pay; a dealer with a ticket
        // fee may still end up too small to pay for it. Take the best plan in which every
        // fixed-cost venue pays; failing that, the best plan without the ones that do not.
        let pays = |a: &Allocation| {
            venues[a.venue].fixed_cost.is_zero()
                || req
                    .limit
                    .is_none_or(|l| req.side.at_least_as_good(a.all_in_px(req.side), l))
        };
        let mut chosen = None;
        let mut fallback = None;
        for b in &order {
            let plan = self.rebuild(book, req, b, limit_cost);
            if plan.allocations.iter().all(pays) {
                chosen = Some(plan);
                break;
            }
            if fallback.is_none() {
                let mut trimmed = plan;
                trimmed.allocations.retain(pays);
                trimmed.placed = trimmed.allocations.iter().map(|a| a.qty).sum();
                trimmed.unplaced = req.qty - trimmed.placed;
                fallback = Some(trimmed);
            }
        }
        self.bests = order;
        chosen.or(fallback).unwrap_or(RoutePlan {
            allocations: Vec::new(),
            placed: Decimal::ZERO,
            unplaced: req.qty,
        })
    }

    /// Cost of taking `amount` of continuous quantity starting after segment `idx`.
    fn take_continuous(&self, idx: usize, amount: f64) -> f64 {
        let target = self.pre_q[idx] + amount;
        let j = self
            .pre_q
            .partition_point(|&x| x < target)
            .min(self.pre_q.len() - 1);
        if j <= idx {
            return 0.0;
        }
        self.pre_c[j - 1] - self.pre_c[idx] + self.seg_cost[j - 1] * (target - self.pre_q[j - 1])
    }

    /// Pours `q` over the continuous prefix and the chosen dealer tiers, cheapest first.
    fn eval(&self, chosen: &[(u8, u8)], q: f64) -> (f64, f64) {
        let n = self.seg_cost.len();
        let mut rem = q;
        let mut cost = 0.0;
        let cand = |&(i, j): &(u8, u8)| &self.cands[i as usize][j as usize];
        // Ticket-fee minimums first.
        for c in chosen.iter().map(cand) {
            rem -= c.min;
            cost += c.cost * c.min;
        }
        if rem < -1e-9 {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        let mut rem = rem.max(0.0);
        let mut idx = 0usize;
        for c in chosen.iter().map(cand) {
            let pos = (c.pos as usize).max(idx);
            let avail = self.pre_q[pos] - self.pre_q[idx];
            if avail >= rem {
                return (q, cost + self.take_continuous(idx, rem));
            }
            cost += self.pre_c[pos] - self.pre_c[idx];
            rem -= avail;
            idx = pos;
            let take = (c.qty - c.min).min(rem);
            cost += c.cost * take;
            rem -= take;
            if rem <= 0.0 {
                return (q, cost);
            }
        }
        let avail = self.pre_q[n] - self.pre_q[idx];
        let take = avail.min(rem);
        cost += self.take_continuous(idx, take);
        (q - rem + take, cost)
    }

    /// Rebuilds the winning combination in `Decimal`.
    fn rebuild(
        &self,
        book: &RouteBook,
        req: &RouteRequest<'_>,
        best: &Best,
        limit_cost: f64,
    ) -> RoutePlan {
        let venues = &book.venues;
        let cap = |v: usize| req.caps.get(v).copied().flatten();
        let off = |v: usize| -> bool {
            if venues[v].fixed_cost > Decimal::ZERO {
                match self.fixed.iter().position(|&f| f == v) {
                    Some(bit) => best.mask & (1 << bit) == 0,
                    None => true,
                }
            } else {
                false
            }
        };
        // Dealer items: (cost, venue, tier index, qty, least it must take).
        let mut dealer_items: Vec<(f64, usize, usize, Decimal, Decimal)> = Vec::new();
        for (i, &d) in self.dealers.iter().enumerate() {
            if best.choice[i] == 0 {
                continue;
            }
            let RouteShape::Tiers(tiers) = &venues[d].shape else {
                continue;
            };
            let t = best.choice[i] as usize - 1;
            if tiers[t].cost > limit_cost - NEAR_LIMIT
                && req
                    .limit
                    .is_some_and(|l| !req.side.at_least_as_good(tiers[t].net_px, l))
            {
                continue;
            }
            let qty = cap(d).map_or(tiers[t].qty, |c| c.min(tiers[t].qty));
            let Some(min) = dealer_min(&venues[d], &tiers[t], qty, req.side, req.limit) else {
                continue;
            };
            dealer_items.push((tiers[t].cost, d, t, qty, min));
        }
        dealer_items.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));

        let mut cap_left: Vec<Option<Decimal>> = (0..venues.len()).map(cap).collect();
        let mut allocs: Vec<Option<Allocation>> = vec![None; venues.len()];
        let mut rem = req.qty;
        let mut add =
            |v: usize, qty: Decimal, net_px: Decimal, gross: Decimal, rem: &mut Decimal| {
                let venue = &venues[v];
                let rate = venue.conversion.qty_rate;
                let (venue_qty, qty) = if rate == Decimal::ONE && qty.scale() <= venue.qty_scale {
                    (qty, qty)
                } else {
                    let vq = (qty / rate).round_dp_with_strategy(
                        venue.qty_scale,
                        rust_decimal::RoundingStrategy::ToZero,
                    );
                    (vq, vq * rate)
                };
                if qty <= Decimal::ZERO {
                    return Decimal::ZERO;
                }
                let a = allocs[v].get_or_insert(Allocation {
                    venue: v,
                    qty: Decimal::ZERO,
                    venue_qty: Decimal::ZERO,
                    limit_px: gross,
                    expected_net: Decimal::ZERO,
                    fixed_cost: venue.fixed_cost,
                });
                a.qty += qty;
                a.venue_qty += venue_qty;
                a.expected_net += qty * net_px;
                a.limit_px = gross; // segments come best first, so the last is the worst
                *rem -= qty;
                qty
            };
        // Dealers with a ticket fee take the least that pays for it first.
        for &(_, d, t, _, min) in &dealer_items {
            if min > Decimal::ZERO
                && let RouteShape::Tiers(tiers) = &venues[d].shape
            {
                add(
                    d,
                    min.min(rem),
                    tiers[t].net_px,
                    tiers[t].gross_px,
                    &mut rem,
                );
            }
        }
        // Fixed-cost venues switched on take their least paying quantity first.
        let mut skip_left: Vec<Decimal> = vec![Decimal::ZERO; venues.len()];
        for (bit, &f) in self.fixed.iter().enumerate() {
            if best.mask & (1 << bit) == 0 {
                continue;
            }
            let Some(mut left) = self.forced_min[bit] else {
                continue;
            };
            skip_left[f] = left;
            if let RouteShape::Curve(segs) = &venues[f].shape {
                for seg in segs {
                    if left <= Decimal::ZERO {
                        break;
                    }
                    let take = seg.qty.min(left);
                    let took = add(f, take, seg.net_px, seg.gross_px, &mut rem);
                    left -= take;
                    if let Some(c) = cap_left[f].as_mut() {
                        *c -= took;
                    }
                }
            }
        }
        let mut di = 0;
        for m in &book.merged {
            if rem <= Decimal::ZERO {
                break;
            }
            while di < dealer_items.len() && dealer_items[di].0 <= m.cost && rem > Decimal::ZERO {
                let (_, d, t, qty, min) = dealer_items[di];
                if let RouteShape::Tiers(tiers) = &venues[d].shape {
                    let take = (qty - min).min(rem);
                    add(d, take, tiers[t].net_px, tiers[t].gross_px, &mut rem);
                }
                di += 1;
            }
            let v = m.venue as usize;
            if off(v) || rem <= Decimal::ZERO {
                continue;
            }
            if m.cost > limit_cost {
                break;
            }
            let RouteShape::Curve(segs) = &venues[v].shape else {
                continue;
            };
            let seg = &segs[m.seg as usize];
            // Near the limit, f64 rounding could let a price past it through: check exactly.
            if m.cost > limit_cost - NEAR_LIMIT
                && req
                    .limit
                    .is_some_and(|l| !req.side.at_least_as_good(seg.net_px, l))
            {
                continue;
            }
            let mut avail = seg.qty;
            if skip_left[v] > Decimal::ZERO {
                let skip = skip_left[v].min(avail);
                skip_left[v] -= skip;
                avail -= skip;
            }
            let mut take = avail.min(rem);
            if let Some(c) = cap_left[v] {
                take = take.min(c);
            }
            if take <= Decimal::ZERO {
                continue;
            }
            let took = add(v, take, seg.net_px, seg.gross_px, &mut rem);
            if let Some(c) = cap_left[v].as_mut() {
                *c -= took;
            }
        }
        while di < dealer_items.len() && rem > Decimal::ZERO {
            let (_, d, t, qty, min) = dealer_items[di];
            if let RouteShape::Tiers(tiers) = &venues[d].shape {
                let take = (qty - min).min(rem);
                add(d, take, tiers[t].net_px, tiers[t].gross_px, &mut rem);
            }
            di += 1;
        }
        let allocations: Vec<Allocation> = allocs.into_iter().flatten().collect();
        let placed: Decimal = allocations.iter().map(|a| a.qty).sum();
        debug_assert!(placed <= req.qty, "placed {placed} > asked {}", req.qty);
        RoutePlan {
            allocations,
            placed,
            unplaced: req.qty - placed,
        }
    }
}

#[cfg(test)]
mod tests;
