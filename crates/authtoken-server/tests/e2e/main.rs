//! End-to-end tests: the real `authtoken` binary on port 0 with a temporary SQLite file, driven over real HTTP.

mod config;
mod flow;
mod openapi;
mod support;
