//! Argon2id password hashing for authtoken: the [`PasswordHasher`](authtoken_core::ports::PasswordHasher) port
//! on dedicated threads that reuse their memory, so that a host application builds an
//! [`AuthService`](authtoken_core::AuthService) without the server.
//!
//! - [`Argon2Params`] are the cost parameters, [`Argon2id`] the blocking computation, [`HashMemory`] the
//!   working memory one thread reuses from hash to hash.
//! - [`Argon2Hasher`] is the adapter: at most `concurrency` hashes at once, each on a thread of its own, never on
//!   the async executor; further requests wait in a queue.
//! - Django's hashes (`pbkdf2_sha256`, `pbkdf2_sha1`, `argon2`, `bcrypt_sha256`, `bcrypt`, and unusable `!…`)
//!   verify too, so that users imported from a Django database log in with their passwords;
//!   [`PasswordHasher::needs_rehash`](authtoken_core::ports::PasswordHasher::needs_rehash) says yes to each, and the
//!   login replaces it with Argon2id. [`Argon2Hasher::with_imported_hashes`] keeps every check at one cost meanwhile.
//! - [`default_hash_concurrency`] is the service's rule for `concurrency`: half the CPUs, at least one.

mod argon2id;
mod check;
mod django;
mod hasher;

pub use argon2id::{Argon2Params, Argon2id, HashMemory, InvalidParams, default_hash_concurrency};
pub use check::readable;
pub use hasher::{Argon2Hasher, QueueWaitObserver};
