//! The use cases of `AuthService` (login, logout, authenticate, register, email confirmation, the session lifecycle,
//! the operator's) and the outbox delivery, over the testkit fakes and mockall mocks.

mod account;
mod admin;
mod authenticate;
mod confirm;
mod delivery;
mod events;
mod login;
mod logout;
mod register;
mod register_email;
mod reset;
mod sessions;
mod support;
mod throttle;
