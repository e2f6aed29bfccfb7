//! The benchmark's report for people (`report.md`): the same figures as `report.json`,
//! as tables, with the charts linked.

use super::latency::ClockKind;
use super::stats::Dist;
use super::summary::{BenchReport, StrategySummary};
use rust_decimal::Decimal;
use std::fmt::Write as _;

fn cell(v: Option<Decimal>) -> String {
    v.map_or("–".to_owned(), |v| v.normalize().to_string())
}

fn dist_row(s: &mut String, name: &str, d: &Dist) {
    let _ = writeln!(
        s,
        "| {name} | {} | {} | {} | {} | {} | {} |",
        d.n,
        cell(d.mean),
        cell(d.p50),
        cell(d.p90),
        cell(d.min),
        cell(d.max)
    );
}

/// Nanoseconds as µs to three significant figures (the histograms' precision).
fn us(ns: u64) -> String {
    if ns == 0 {
        return "0".to_owned();
    }
    let v = ns as f64 / 1e3;
    let digits = v.abs().log10().floor() as i32 + 1;
    let places = (3 - digits).max(0) as usize;
    let scale = 10f64.powi(digits - 3);
    let rounded = if digits > 3 {
        (v / scale).round() * scale
    } else {
        v
    };
    format!("{rounded:.places$}")
}

fn strategy_md(s: &mut String, scenario: &str, st: &StrategySummary) {
    let _ = writeln!(
        s,
        "### {scenario}: {} ({} parent executions)\n",
        st.strategy, st.parents
    );
    let _ = writeln!(s, "| figure | n | mean | p50 | p90 | min | max |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    dist_row(
        s,
        "all-in slippage vs arrival, bps",
        &st.all_in_vs_arrival_bps,
    );
    dist_row(
        s,
        "all-in slippage vs reference rate, bps",
        &st.all_in_vs_reference_bps,
    );
    dist_row(s, "router gap to optimal, bps", &st.gap_to_optimal_bps);
    dist_row(
        s,
        "router vs best single venue, bps",
        &st.vs_best_single_venue_bps,
    );
    dist_row(s, "router vs pro rata, bps", &st.vs_pro_rata_bps);
    dist_row(s, "fill rate", &st.fill_rate);
    dist_row(s, "implementation shortfall, bps", &st.shortfall_bps);
    let _ = writeln!(
        s,
        "\nEach strategy priced all-in against the arrival mid on the quantity the router \
         filled (bps, positive = a cost):\n"
    );
    let _ = writeln!(s, "| strategy | n | mean | p50 | p90 | min | max |");
    let _ = writeln!(s, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    let v = &st.all_in_vs_arrival_by_strategy_bps;
    dist_row(s, "router", &v.router);
    dist_row(s, "ex-post optimal", &v.optimal);
    dist_row(s, "best single venue", &v.best_single_venue);
    dist_row(s, "pro rata to displayed size", &v.pro_rata);
    let _ = writeln!(
        s,
        "\nNever worse than either baseline: held on {} of {} parents.",
        st.never_worse.held, st.never_worse.compared
    );
    if let Some(seed) = st.representative_seed {
        let _ = writeln!(
            s,
            "Representative seed (median all-in slippage vs arrival): {seed}."
        );
    }
    let _ = writeln!(s);
}

/// The report as Markdown.
pub fn render(r: &BenchReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Benchmark report\n");
    let _ = writeln!(s, "`{}`\n", r.command);
    let _ = writeln!(
        s,
        "{} seeds per scenario from seed {}, simulated venues at full speed. Figures in \
         bps: {}. Percentiles: {}. Every cost figure is the run report's own (`tca`, \
         `gap`; docs/tca.md).\n",
        r.seeds, r.first_seed, r.sign, r.percentiles
    );
    let nw = &r.never_worse_than_either_baseline;
    let _ = writeln!(
        s,
        "**Never worse than either baseline** (best single venue, pro rata to displayed \
         size): held on {} of {} parents{}.\n",
        nw.held,
        nw.compared,
        if nw.not_measured > 0 {
            format!(
                " ({} not measured: no fills or no gap analysis)",
                nw.not_measured
            )
        } else {
            String::new()
        }
    );
    if !nw.exceptions.is_empty() {
        let _ = writeln!(s, "Where it did not hold:\n");
        for e in &nw.exceptions {
            let _ = writeln!(
                s,
                "- {} seed {} {}: router vs best single venue {} bps, vs pro rata {} bps",
                e.scenario,
                e.seed,
                e.parent,
                cell(e.vs_best_single_venue_bps),
                cell(e.vs_pro_rata_bps)
            );
            if e.why.is_empty() {
                let _ = writeln!(
                    s,
                    "  - the gap analysis gives no reasons (the router is within 0.5 bps of the optimum)"
                );
            }
            for w in &e.why {
                let _ = writeln!(s, "  - {w}");
            }
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "Charts:\n");
    let _ = writeln!(
        s,
        "- [slippage by strategy](slippage.svg): router, ex-post optimal and the two \
         baselines, all-in vs arrival\n- [latency per hop](latency.svg): percentile plot, \
         µs on a log scale\n- [fill progress](fill_progress.svg): one representative seed \
         per scenario and algorithm\n"
    );
    let _ = writeln!(s, "![slippage by strategy](slippage.svg)\n");
    for sc in &r.scenarios {
        let _ = writeln!(s, "## {} (`{}`)\n", sc.scenario, sc.file);
        for st in &sc.strategies {
            strategy_md(&mut s, &sc.scenario, st);
        }
        let _ = writeln!(
            s,
            "### {}: latency per hop (µs, over every seed)\n",
            sc.scenario
        );
        let _ = writeln!(
            s,
            "| hop | clock | per | count | p50 | p90 | p99 | p99.9 | max |"
        );
        let _ = writeln!(
            s,
            "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for h in &sc.latency {
            let clock = match h.clock {
                ClockKind::Wall => "wall",
                ClockKind::Simulated => "simulated",
            };
            let _ = writeln!(
                s,
                "| {} | {clock} | {} | {} | {} | {} | {} | {} | {} |",
                h.hop,
                h.per,
                h.count,
                us(h.p50_ns),
                us(h.p90_ns),
                us(h.p99_ns),
                us(h.p99_9_ns),
                us(h.max_ns)
            );
        }
        let _ = writeln!(
            s,
            "\nWall-clock hops vary from run to run on this machine; simulated hops are the \
             scenario's venue model (one-way latency each way, a dealer's accept delay)."
        );
        let zero: Vec<String> = sc
            .latency
            .iter()
            .filter(|h| h.count > 0 && h.max_ns == 0)
            .map(|h| format!("`{}`", h.hop))
            .collect();
        if !zero.is_empty() {
            let _ = writeln!(
                s,
                "{} {} 0 in every sample: in-process venues send a child's ack and fills \
                 together, and the engine takes no simulated time.",
                zero.join(" and "),
                if zero.len() == 1 { "is" } else { "are" }
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "![latency per hop](latency.svg)\n");
    let _ = writeln!(s, "![fill progress](fill_progress.svg)");
    s
}
