//! The use cases of `AuthService` (login, logout, authenticate, register) over the testkit fakes and mockall mocks.

mod authenticate;
mod login;
mod logout;
mod register;
mod support;
