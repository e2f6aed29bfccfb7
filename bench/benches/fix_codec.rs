//! FIX encode and decode of the two desk messages that matter, through QuickFIX (no
//! session: a message built or parsed on its own, as the session does inside):
//!
//! - NewOrderSingle with StrategyParametersGrp (957: DurationSecs, MaxClip):
//!   encode = build the message (header stamped as a session would) + `to_fix_string`;
//!   decode = text → `quickfix::Message` with the gateway's data dictionary
//!   (`fix/spec/FIX44-sor.xml`) → `fix::desk::map_inbound` (the acceptor's mapping).
//! - ExecutionReport (a partial fill): encode = `ExecReport::to_message` + header stamped +
//!   `to_fix_string`; decode = text → message with the dictionary → the fields a desk
//!   acts on (`bench::fix_messages::read_exec_report`).
//!
//! Also each parse alone, with and without the dictionary, to show where decode goes.
//!
//! `cargo bench -p bench --bench fix_codec`
#![allow(missing_docs)] // criterion_group! generates undocumented items

use bench::fix_messages::{
    desk_new_order, dictionary, fill_report, read_exec_report, report_message,
};
use criterion::{Criterion, criterion_group, criterion_main};
use fix::desk::{DeskRequest, map_inbound};
use quickfix::Message;
use std::hint::black_box;

fn fix_codec(c: &mut Criterion) {
    let dd = dictionary().expect("the gateway's dictionary loads");
    let nos_text = desk_new_order(1)
        .and_then(|m| m.to_fix_string())
        .expect("the order renders");
    let er_text = report_message(&fill_report(), 1)
        .and_then(|m| m.to_fix_string())
        .expect("the report renders");
    let nos = dd.try_build_message(&nos_text).expect("the order parses");
    assert!(
        matches!(map_inbound(&nos), Ok(DeskRequest::New(o)) if o.duration_secs == Some(600) && o.max_clip.is_some()),
        "the order maps with both strategy parameters: {nos_text}"
    );
    let er = dd.try_build_message(&er_text).expect("the report parses");
    assert!(read_exec_report(&er).is_ok(), "{er_text}");
    println!(
        "NewOrderSingle {} bytes, ExecutionReport {} bytes",
        nos_text.len(),
        er_text.len()
    );

    c.bench_function("fix_nos_encode", |b| {
        b.iter(|| desk_new_order(black_box(1)).and_then(|m| m.to_fix_string()))
    });
    c.bench_function("fix_nos_decode", |b| {
        b.iter(|| {
            dd.try_build_message(black_box(&nos_text))
                .map(|m| map_inbound(&m).is_ok())
        })
    });
    c.bench_function("fix_nos_parse_only_dictionary", |b| {
        b.iter(|| dd.try_build_message(black_box(&nos_text)))
    });
    c.bench_function("fix_nos_parse_only_no_dictionary", |b| {
        b.iter(|| Message::try_from_text(black_box(&nos_text)))
    });
    let report = fill_report();
    c.bench_function("fix_er_encode", |b| {
        b.iter(|| report_message(black_box(&report), black_box(1)).and_then(|m| m.to_fix_string()))
    });
    c.bench_function("fix_er_decode", |b| {
        b.iter(|| {
            dd.try_build_message(black_box(&er_text))
                .map(|m| read_exec_report(&m).is_ok())
        })
    });
    c.bench_function("fix_er_parse_only_dictionary", |b| {
        b.iter(|| dd.try_build_message(black_box(&er_text)))
    });
}

criterion_group!(benches, fix_codec);
criterion_main!(benches);
