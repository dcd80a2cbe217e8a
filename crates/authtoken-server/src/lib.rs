//! The authtoken service: configuration, the wiring of adapters to the core, and the command line.
//!
//! This is the one crate that knows every adapter; the adapters never know each other.

pub mod access;
mod admin;
pub mod cli;
mod import;
pub mod listener;
pub mod metrics;
mod operator;
mod progress;
pub mod settings;
pub mod startup;
