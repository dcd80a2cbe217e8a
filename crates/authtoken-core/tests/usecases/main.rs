//! The use cases of `AuthService` (login, logout, authenticate, register, email confirmation) and the outbox delivery,
//! over the testkit fakes and mockall mocks.

mod authenticate;
mod confirm;
mod delivery;
mod login;
mod logout;
mod register;
mod register_email;
mod support;
