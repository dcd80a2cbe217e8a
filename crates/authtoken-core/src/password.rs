//! Argon2id password hashing as plain, blocking computation.
//!
//! This is CPU work of tens of milliseconds: an adapter MUST run it off the async executor
//! (the server wraps it in a bounded blocking pool that implements [`crate::ports::PasswordHasher`]).

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::user::{Password, PasswordHash};

/// Argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Argon2Params {
    /// Memory in KiB (`m`).
    pub memory_kib: u32,
    /// Passes over memory (`t`).
    pub iterations: u32,
    /// Lanes (`p`).
    pub parallelism: u32,
}

/// The parameters are outside what Argon2 accepts.
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters: {0}")]
pub struct InvalidParams(String);

/// Hashes and verifies passwords with Argon2id (version 0x13).
pub struct Argon2id {
    argon2: Argon2<'static>,
    dummy: PasswordHash,
}

impl std::fmt::Debug for Argon2id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Argon2id").field("params", self.argon2.params()).finish_non_exhaustive()
    }
}

impl Argon2id {
    /// Checks the parameters and computes, once, the dummy hash that unknown-user logins are verified against.
    pub fn new(params: Argon2Params) -> Result<Self, InvalidParams> {
        let params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| InvalidParams(e.to_string()))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon2.hash_password(b"authtoken dummy password").map_err(|e| InvalidParams(e.to_string()))?;
        Ok(Self { argon2, dummy: PasswordHash::new(dummy.to_string()) })
    }

    /// Hashes with a fresh 16-byte salt from the OS; returns the PHC string.
    pub fn hash(&self, password: &Password) -> Result<PasswordHash, String> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| PasswordHash::new(hash.to_string()))
            .map_err(|e| e.to_string())
    }

    /// Whether the password matches. A hash that cannot be read is an error, not a mismatch.
    pub fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, String> {
        match self.argon2.verify_password(password.as_bytes(), hash.as_str()) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Verifies against the dummy hash and discards the answer.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = self.verify(password, &self.dummy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2id {
        Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[test]
    fn a_hash_verifies_its_own_password_only() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new("correct horse".into())).unwrap();

        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(hasher.verify(&Password::new("correct horse".into()), &hash), Ok(true));
        assert_eq!(hasher.verify(&Password::new("correct horse ".into()), &hash), Ok(false));
    }

    #[test]
    fn a_corrupt_hash_is_an_error() {
        let hasher = cheap();

        assert!(hasher.verify(&Password::new("x".into()), &PasswordHash::new("not a hash".into())).is_err());
    }

    #[test]
    fn parameters_are_checked() {
        assert!(Argon2id::new(Argon2Params { memory_kib: 1, iterations: 1, parallelism: 1 }).is_err());
        assert!(Argon2id::new(Argon2Params { memory_kib: 64, iterations: 0, parallelism: 1 }).is_err());
    }
}
