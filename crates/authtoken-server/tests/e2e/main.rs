//! End-to-end tests: the real `authtoken` binary on port 0 with a temporary SQLite file, driven over real HTTP.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

mod at_rest;
mod config;
mod confirmation;
mod connections;
mod events;
mod first_contact;
mod flow;
mod lifecycle;
mod metrics;
mod migrate;
mod openapi;
mod operator;
mod operator_input;
mod progress;
mod recovery;
mod several_servers;
mod support;
mod throttles;
