//! The authtoken service: configuration, the wiring of adapters to the core, and the command line.
//!
//! This is the one crate that knows every adapter; the adapters never know each other.

pub mod access;
mod admin;
pub mod cli;
pub mod listener;
mod operator;
pub mod settings;
pub mod startup;
