//! `auditor`: verifies the hash-chained trail of compliance reports and renders the compliance
//! timeline of a period. The binary is a thin shell over [`cli::run`]; everything here takes its
//! sources and sinks as arguments so it can be tested in-process.

pub mod chain;
pub mod cli;
pub mod commands;
pub mod error;
pub mod fastcheck;
pub mod head;
pub mod key;
pub mod organization;
pub mod period;
pub mod provenance;
pub mod render;
pub mod report;
pub mod scan;
pub mod source;
pub mod status;
pub mod synth;
pub mod timeline;
pub mod witness;
