use super::*;
use rust_decimal_macros::dec;

const SAMPLE: &str = include_str!("../../examples/limits.toml");

fn err(text: &str) -> String {
    let e = Limits::from_toml_str(text).unwrap_err().to_string();
    assert!(!e.contains('\n'), "one line: {e}");
    e
}

const BASE: &str = r#"currency = "USD"

[desks.DESK1]
max_parent_notional = "25000000"

[venues.dealer-a]
max_clip = "2000000"
"#;

#[test]
fn the_sample_file_loads_and_covers_every_kind_of_limit() {
    let l = Limits::from_toml_str(SAMPLE).unwrap();
    assert_eq!(l.currency, "USD");
    assert_eq!(l.desks["DESK1"].max_parent_notional, Some(dec!(25000000)));
    assert_eq!(l.venues["dealer-c"].ramp.as_deref(), Some("standard"));
    assert_eq!(l.ramps["standard"].stages.len(), 5);
    assert_eq!(l.instruments["USDC/USD"].band_bps, Some(dec!(20)));
    assert!(l.overall.max_children_per_window.is_some());
    assert!(l.desks["DESK1"].instruments.contains_key("USDC/USD"));
    assert!(l.venues["book-x"].instruments.contains_key("USDC/USD"));
    // Every field of every section is used at least once.
    let v = serde_json::to_value(&l).unwrap();
    let venue_fields: std::collections::BTreeSet<String> = v["venues"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|x| x.as_object().unwrap().keys().cloned())
        .collect();
    for f in [
        "min_clip",
        "max_clip",
        "daily_notional",
        "max_open_notional",
        "max_children_per_window",
        "window_ms",
        "min_spacing_ms",
        "band_bps",
        "ramp",
        "stage_ceiling",
        "instruments",
    ] {
        assert!(venue_fields.contains(f), "sample lacks venues.*.{f}");
    }
    // What is written back reads back the same.
    let again = Limits::from_toml_str(&l.to_toml_string().unwrap()).unwrap();
    assert_eq!(again, l);
    crate::Gate::new(l).unwrap();
}

#[test]
fn a_bad_value_names_the_field_and_the_line() {
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = -5");
    assert_eq!(
        err(&text),
        "venues.dealer-a.max_clip: must be > 0, got -5 (line 7)"
    );
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = \"-5\"");
    assert_eq!(
        err(&text),
        "venues.dealer-a.max_clip: must be > 0, got -5 (line 7)"
    );
}

#[test]
fn floats_are_refused_strings_and_integers_are_exact() {
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = 0.1");
    let e = err(&text);
    assert!(
        e.starts_with("venues.dealer-a.max_clip: 0.1 is a float; write decimals as strings"),
        "{e}"
    );
    assert!(e.ends_with("(line 7)"), "{e}");
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = \"0.1\"");
    assert_eq!(
        Limits::from_toml_str(&text).unwrap().venues["dealer-a"].max_clip,
        Some(dec!(0.1))
    );
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = 2000000");
    assert_eq!(
        Limits::from_toml_str(&text).unwrap().venues["dealer-a"].max_clip,
        Some(dec!(2000000))
    );
    let text = BASE.replace("max_clip = \"2000000\"", "max_clip = \"2e6\"");
    assert!(err(&text).starts_with("venues.dealer-a.max_clip: \"2e6\" is not a plain decimal"));
}

#[test]
fn unknown_fields_and_types_name_the_field() {
    let text = BASE.replace("max_clip", "max_clp");
    let e = err(&text);
    assert!(
        e.contains("venues.dealer-a") && e.contains("max_clp") && e.contains("line"),
        "{e}"
    );
    let text = format!("{BASE}max_children_per_window = \"ten\"\n");
    let e = err(&text);
    assert!(
        e.starts_with("venues.dealer-a.max_children_per_window: "),
        "{e}"
    );
    assert!(err("currency = ").contains("line 1"));
    assert!(err("[desks.D]\n").contains("currency"));
}

#[test]
fn rules_across_the_file() {
    let cases: &[(&str, &str)] = &[
        (
            "[venues.dealer-a.instruments.\"USDC/USD\"]\nmin_clip = \"3000000\"\n",
            "venues.dealer-a.instruments.\"USDC/USD\".min_clip: the min clip 3000000 is above the max clip 2000000 that applies at this venue",
        ),
        (
            "[desks.DESK2]\nvenues = [\"dealer-z\"]\n",
            "desks.DESK2.venues: no venue \"dealer-z\" in [venues] (dealer-a)",
        ),
        (
            "[desks.DESK2]\nvenues = [\"dealer-a\", \"dealer-a\"]\n",
            "desks.DESK2.venues: venue \"dealer-a\" appears twice",
        ),
        (
            "[venues.v2]\nramp = \"std\"\nstage_ceiling = \"full\"\n",
            "venues.v2.ramp: no ramp \"std\" in [ramps] (none defined)",
        ),
        (
            "[venues.v2]\nramp = \"std\"\n[ramps.std]\nclean_fills_to_graduate = 3\n[[ramps.std.stages]]\nname = \"canary\"\n",
            "venues.v2.stage_ceiling: required with a ramp (one of canary)",
        ),
        (
            "[venues.v2]\nramp = \"std\"\nstage_ceiling = \"full\"\n[ramps.std]\nclean_fills_to_graduate = 3\n[[ramps.std.stages]]\nname = \"canary\"\n",
            "venues.v2.stage_ceiling: no stage \"full\" in ramp \"std\" (canary)",
        ),
        (
            "[venues.v2]\nstage_ceiling = \"full\"\n",
            "venues.v2.stage_ceiling: only with a ramp",
        ),
        (
            "[ramps.std]\nclean_fills_to_graduate = 0\nstages = []\n",
            "ramps.std.clean_fills_to_graduate: must be > 0, got 0",
        ),
        (
            "[ramps.std]\nclean_fills_to_graduate = 1\nstages = []\n",
            "ramps.std.stages: must have 1 to 32 stages, got 0",
        ),
        (
            "[ramps.std]\nclean_fills_to_graduate = 1\n[[ramps.std.stages]]\nname = \"a\"\n[[ramps.std.stages]]\nname = \"a\"\n",
            "ramps.std.stages.1.name: stage \"a\" appears twice",
        ),
        (
            "[ramps.std]\nclean_fills_to_graduate = 1\n[[ramps.std.stages]]\nname = \"a\"\nmax_children_per_window = 0\n",
            "ramps.std.stages.0.max_children_per_window: must be between 1 and 10000, got 0",
        ),
        (
            "[overall]\nwindow_ms = 86400001\n",
            "overall.window_ms: must be between 1 and 86400000 ms, got 86400001",
        ),
        (
            "[instruments.\"USDC/USD\"]\nband_bps = \"-1\"\n",
            "instruments.\"USDC/USD\".band_bps: must be between 0 and 10000 bps, got -1",
        ),
        (
            "[instruments.X]\nmin_clip = \"5\"\nmax_clip = \"4\"\n",
            "instruments.X.min_clip: must be <= max_clip 4, got 5",
        ),
    ];
    for (extra, want) in cases {
        let e = err(&format!("{BASE}{extra}"));
        let (msg, line) = e.rsplit_once(" (line ").unwrap_or((&e, ""));
        assert_eq!(msg, *want, "with {extra:?}");
        assert!(!line.is_empty(), "no line in {e}");
    }
    assert!(err(&BASE.replace("\"USD\"", "\"\"")).starts_with("currency: must be a currency code"));
    let e = err(&format!("daily_reset_utc = \"25:00\"\n{BASE}"));
    assert!(
        e.starts_with("daily_reset_utc: \"25:00\" is not a UTC time of day"),
        "{e}"
    );
}

#[test]
fn the_line_points_at_the_field() {
    let text = format!("{BASE}\n[venues.b]\n\nmin_clip = \"7\"\nmax_clip = \"6\"\n");
    assert_eq!(
        err(&text),
        "venues.b.min_clip: must be <= max_clip 6, got 7 (line 11)"
    );
}
