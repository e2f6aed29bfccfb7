//! The core of the smart order router: domain model, engine, router, algos, the
//! in-process simulation runner, scenarios and reports.

pub mod admin;
pub mod algo;
pub mod benchrun;
pub mod clock;
pub mod domain;
pub mod dst;
pub mod engine;
pub mod gate;
pub mod ingress;
pub mod journal;
pub mod jsonl;
pub mod pmm_quote;
pub mod report;
pub mod router;
pub mod scenario;
pub mod serve;
pub mod sim;
pub mod tca;
