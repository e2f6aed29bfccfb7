//! NewOrderSingle mapping tests; messages are built through the quickfix API.

use std::str::FromStr;

use quickfix::{DataDictionary, FieldMap, Group, Message, QuickFixError};
use rust_decimal::Decimal;

use super::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn param(name: &str, value: &str) -> Result<Group, QuickFixError> {
    let mut group = Group::try_with_orders(957, 958, &[958, 959, 960])?;
    group.set_field(958, name)?;
    group.set_field(960, value)?;
    Ok(group)
}

/// A valid Sweep limit order without strategy parameters.
fn base_nos() -> Result<Message, QuickFixError> {
    let mut msg = Message::new();
    msg.with_header_mut(|h| {
        h.set_field(8, "FIX.4.4")?;
        h.set_field(35, "D")
    })?;
    for (tag, value) in [
        (11, "ord-1"),
        (55, "USDC/USD"),
        (54, "1"),
        (38, "1000000.50"),
        (40, "2"),
        (44, "1.0002"),
        (60, "20250101-12:00:00.123"),
    ] {
        msg.set_field(tag, value)?;
    }
    Ok(msg)
}

fn with_params(params: &[(&str, &str)]) -> Result<Message, QuickFixError> {
    let mut msg = base_nos()?;
    for (name, value) in params {
        msg.add_group(&param(name, value)?)?;
    }
    Ok(msg)
}

fn err_of(msg: &Message) -> FieldError {
    parse_new_order(msg).unwrap_err()
}

fn assert_invalid_tag(msg: &Message, expected_tag: u32) {
    let err = err_of(msg);
    assert!(
        matches!(err, FieldError::Invalid { tag, .. } | FieldError::Format { tag, .. } if tag == expected_tag),
        "expected Invalid/Format on {expected_tag}, got {err:?}"
    );
}

#[test]
fn full_twap_order_round_trips() -> TestResult {
    let mut msg = with_params(&[
        ("DurationSecs", "3600"),
        ("Venues", "coinbase, kraken,bitstamp"),
        ("MaxClip", "250000"),
        ("MaxSlippageBps", "2.5"),
    ])?;
    msg.set_field(1, "ACC-7")?;
    msg.set_field(59, "3")?;
    msg.set_field(847, "1001")?;
    assert_eq!(msg.get_field(957).as_deref(), Some("4"));

    let order = parse_new_order(&msg)?;
    assert_eq!(
        order,
        NewOrder {
            cl_ord_id: "ord-1".into(),
            account: Some("ACC-7".into()),
            symbol: "USDC/USD".into(),
            side: Side::Buy,
            order_qty: dec("1000000.50"),
            ord_type: OrdType::Limit,
            price: Some(dec("1.0002")),
            time_in_force: TimeInForce::Ioc,
            transact_time: "20250101-12:00:00.123".into(),
            target_strategy: TargetStrategy::Twap,
            duration_secs: Some(3600),
            max_clip: Some(dec("250000")),
            venues: Some(vec!["coinbase".into(), "kraken".into(), "bitstamp".into()]),
            max_slippage_bps: Some(dec("2.5")),
        }
    );
    // Exact decimals keep their scale.
    assert_eq!(order.order_qty.to_string(), "1000000.50");
    Ok(())
}

#[test]
fn defaults_when_optional_tags_absent() -> TestResult {
    let mut msg = base_nos()?;
    msg.set_field(40, "1")?;
    msg.remove_field(44)?;
    msg.set_field(54, "2")?;
    msg.set_field(60, "20250101-12:00:00")?;
    let order = parse_new_order(&msg)?;
    assert_eq!(order.side, Side::Sell);
    assert_eq!(order.ord_type, OrdType::Market);
    assert_eq!(order.price, None);
    assert_eq!(order.account, None);
    assert_eq!(order.time_in_force, TimeInForce::Day);
    assert_eq!(order.target_strategy, TargetStrategy::Sweep);
    assert_eq!(order.duration_secs, None);
    assert_eq!(order.venues, None);

    msg.set_field(59, "0")?;
    msg.set_field(847, "1000")?;
    let order = parse_new_order(&msg)?;
    assert_eq!(order.time_in_force, TimeInForce::Day);
    assert_eq!(order.target_strategy, TargetStrategy::Sweep);
    Ok(())
}

#[test]
fn each_missing_required_tag_is_named() -> TestResult {
    for (tag, name) in [
        (11, "ClOrdID"),
        (55, "Symbol"),
        (54, "Side"),
        (38, "OrderQty"),
        (40, "OrdType"),
        (60, "TransactTime"),
    ] {
        let mut msg = base_nos()?;
        msg.remove_field(tag as i32)?;
        let err = err_of(&msg);
        assert_eq!(err, FieldError::Missing { tag, name });
        assert_eq!(err.ref_tag(), tag);
        assert_eq!(err.session_reject_reason(), 1);
        assert_eq!(
            err.to_string(),
            format!("tag {tag} ({name}): required field missing")
        );
    }
    Ok(())
}

#[test]
fn limit_without_price_is_missing_44() -> TestResult {
    let mut msg = base_nos()?;
    msg.remove_field(44)?;
    assert_eq!(
        err_of(&msg),
        FieldError::Missing {
            tag: 44,
            name: "Price"
        }
    );
    Ok(())
}

#[test]
fn market_with_price_is_rejected() -> TestResult {
    let mut msg = base_nos()?;
    msg.set_field(40, "1")?;
    let err = err_of(&msg);
    assert_invalid_tag(&msg, 44);
    assert_eq!(
        err.to_string(),
        "tag 44 (Price): value \"1.0002\" must be absent when OrdType(40) is 1 (Market)"
    );
    Ok(())
}

#[test]
fn bad_side() -> TestResult {
    for bad in ["7", "0", "B", "12"] {
        let mut msg = base_nos()?;
        msg.set_field(54, bad)?;
        assert_invalid_tag(&msg, 54);
    }
    let mut msg = base_nos()?;
    msg.set_field(54, "7")?;
    let err = err_of(&msg);
    assert_eq!(
        err.to_string(),
        "tag 54 (Side): value \"7\" is not 1 (Buy) or 2 (Sell)"
    );
    assert_eq!(err.session_reject_reason(), 5);
    Ok(())
}

#[test]
fn bad_quantities() -> TestResult {
    for (bad, reason) in [
        ("0", 5),
        ("0.00", 5),
        ("-5", 5),
        ("1e5", 6),
        ("abc", 6),
        ("+5", 6),
        ("1,000", 6),
    ] {
        let mut msg = base_nos()?;
        msg.set_field(38, bad)?;
        let err = err_of(&msg);
        assert_eq!(err.ref_tag(), 38, "{bad}: {err}");
        assert_eq!(err.session_reject_reason(), reason, "{bad}: {err}");
    }
    let mut msg = base_nos()?;
    msg.set_field(38, "1e5")?;
    assert!(
        err_of(&msg)
            .to_string()
            .starts_with("tag 38 (OrderQty): value \"1e5\" is not a plain decimal")
    );
    Ok(())
}

#[test]
fn bad_price() -> TestResult {
    for bad in ["0", "-1.0", "1.0e-4", "x"] {
        let mut msg = base_nos()?;
        msg.set_field(44, bad)?;
        assert_invalid_tag(&msg, 44);
    }
    Ok(())
}

#[test]
fn bad_ord_type_tif_strategy_time() -> TestResult {
    for (tag, bad) in [
        (40, "3"),
        (40, "P"),
        (59, "1"),
        (59, "4"),
        (59, "6"),
        (847, "1"),
        (847, "1002"),
        (60, "2025-01-01T12:00:00Z"),
        (60, "20250101-12:00:00.123456"),
        (60, "20250132-12:00:00"),
        (11, ""),
    ] {
        let mut msg = base_nos()?;
        msg.set_field(tag as i32, bad)?;
        assert_invalid_tag(&msg, tag);
    }
    Ok(())
}

#[test]
fn wrong_msg_type_is_refused() -> TestResult {
    let mut msg = base_nos()?;
    msg.with_header_mut(|h| h.set_field(35, "G"))?;
    assert_invalid_tag(&msg, 35);
    Ok(())
}

#[test]
fn bad_strategy_parameters() -> TestResult {
    for (params, tag) in [
        (&[("Aggression", "high")][..], 958),
        (&[("MaxClip", "10"), ("MaxClip", "20")][..], 958),
        (&[("DurationSecs", "0")][..], 960),
        (&[("DurationSecs", "-5")][..], 960),
        (&[("DurationSecs", "1.5")][..], 960),
        (&[("MaxClip", "0")][..], 960),
        (&[("MaxClip", "1e3")][..], 960),
        (&[("Venues", "kraken,,coinbase")][..], 960),
        (&[("Venues", " ")][..], 960),
        (&[("MaxSlippageBps", "-1")][..], 960),
    ] {
        let msg = with_params(params)?;
        assert_invalid_tag(&msg, tag);
    }
    let msg = with_params(&[("DurationSecs", "soon")])?;
    assert_eq!(
        err_of(&msg).to_string(),
        "tag 960 (StrategyParameterValue): value \"soon\" is not a whole number (parameter DurationSecs)"
    );
    Ok(())
}

#[test]
fn strategy_parameter_entry_without_name_or_value() -> TestResult {
    let mut msg = base_nos()?;
    let mut group = Group::try_with_orders(957, 958, &[958, 959, 960])?;
    group.set_field(958, "MaxClip")?;
    msg.add_group(&group)?;
    assert_eq!(
        err_of(&msg),
        FieldError::Missing {
            tag: 960,
            name: "StrategyParameterValue"
        }
    );
    Ok(())
}

/// Wraps a body (starting at 35=) in 8/9 and a correct 10= checksum.
fn fix_text(body: &str) -> String {
    let head = format!("8=FIX.4.4\u{1}9={}\u{1}", body.len());
    let sum = head.bytes().chain(body.bytes()).map(u32::from).sum::<u32>() % 256;
    format!("{head}{body}10={sum:03}\u{1}")
}

const GROUP_NOS_BODY: &str = "35=D\u{1}11=ord-1\u{1}38=5\u{1}40=1\u{1}54=1\u{1}55=USDC/USD\u{1}\
     60=20250101-12:00:00\u{1}847=1001\u{1}957=2\u{1}958=DurationSecs\u{1}960=60\u{1}\
     958=Venues\u{1}960=kraken\u{1}";

/// A minimal FIX 4.4 dictionary that, unlike the stock FIX44.xml, defines
/// StrategyParametersGrp on NewOrderSingle.
const DICTIONARY_WITH_GROUP: &str = "<fix major='4' minor='4' servicepack='0'>
 <header>
  <field name='BeginString' required='Y'/><field name='BodyLength' required='Y'/>
  <field name='MsgType' required='Y'/>
 </header>
 <trailer><field name='CheckSum' required='Y'/></trailer>
 <messages>
  <message name='NewOrderSingle' msgtype='D' msgcat='app'>
   <field name='ClOrdID' required='Y'/>
   <group name='NoStrategyParameters' required='N'>
    <field name='StrategyParameterName' required='N'/>
    <field name='StrategyParameterType' required='N'/>
    <field name='StrategyParameterValue' required='N'/>
   </group>
  </message>
 </messages>
 <components/>
 <fields>
  <field number='8' name='BeginString' type='STRING'/>
  <field number='9' name='BodyLength' type='LENGTH'/>
  <field number='10' name='CheckSum' type='STRING'/>
  <field number='11' name='ClOrdID' type='STRING'/>
  <field number='35' name='MsgType' type='STRING'/>
  <field number='957' name='NoStrategyParameters' type='NUMINGROUP'/>
  <field number='958' name='StrategyParameterName' type='STRING'/>
  <field number='959' name='StrategyParameterType' type='INT'/>
  <field number='960' name='StrategyParameterValue' type='STRING'/>
 </fields>
</fix>
";

#[test]
fn group_parsed_with_dictionary_is_read() -> TestResult {
    let path = std::env::temp_dir().join(format!("fix-desk-test-{}.xml", std::process::id()));
    std::fs::write(&path, DICTIONARY_WITH_GROUP)?;
    let dd = DataDictionary::try_from_path(&path);
    std::fs::remove_file(&path)?;
    let msg = dd?.try_build_message(&fix_text(GROUP_NOS_BODY))?;
    let order = parse_new_order(&msg)?;
    assert_eq!(order.target_strategy, TargetStrategy::Twap);
    assert_eq!(order.duration_secs, Some(60));
    assert_eq!(order.venues, Some(vec!["kraken".to_owned()]));
    Ok(())
}

#[test]
fn group_parsed_without_dictionary_is_not_silently_dropped() -> TestResult {
    // Without a data dictionary defining StrategyParametersGrp, QuickFIX keeps
    // 957/958/960 as flat body fields and no group entry can be read.
    let msg = Message::try_from_text(&fix_text(GROUP_NOS_BODY))?;
    let err = err_of(&msg);
    assert_eq!(
        err,
        FieldError::GroupCount {
            tag: 957,
            name: "NoStrategyParameters",
            declared: 2,
            found: 0
        }
    );
    assert_eq!(err.session_reject_reason(), 16);
    Ok(())
}
