//! Argon2id as plain, blocking computation: its parameters, the hash and its check, and working memory to reuse.
//!
//! This is CPU work of tens of milliseconds, never to be run on an async executor's worker:
//! [`crate::Argon2Hasher`] runs it on threads of its own.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash as Phc, Salt};
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::TryRng as _;
use subtle::ConstantTimeEq as _;

use authtoken_core::ports::HashError;
use authtoken_core::user::{Password, PasswordHash};

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

impl Argon2Params {
    /// The parameters OWASP recommends for Argon2id (19 MiB, 2 passes, 1 lane): about 20-35 ms a hash on one core.
    pub const RECOMMENDED: Self = Self { memory_kib: 19_456, iterations: 2, parallelism: 1 };
}

/// How many hashes may run at once unless configured: half the CPUs, at least one.
///
/// A login flood then takes at most half the machine, and the other half keeps serving the requests that only
/// authenticate a token, which are most requests. It also bounds memory: each hashing thread keeps
/// `memory_kib` (19 MiB by default) from its first hash on.
pub fn default_hash_concurrency(cpus: usize) -> usize {
    (cpus / 2).max(1)
}

/// The parameters are outside what Argon2 accepts.
#[derive(Debug, thiserror::Error)]
#[error("invalid argon2 parameters")]
pub struct InvalidParams(#[source] authtoken_core::error::BoxError);

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
            .map_err(|e| InvalidParams(Box::new(e)))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon2.hash_password(b"authtoken dummy password").map_err(|e| InvalidParams(Box::new(e)))?;
        Ok(Self { argon2, dummy: PasswordHash::new(dummy.to_string()) })
    }

    /// Hashes with a fresh 16-byte salt from the OS; returns the PHC string.
    pub fn hash(&self, password: &Password) -> Result<PasswordHash, HashError> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| PasswordHash::new(hash.to_string()))
            .map_err(HashError::new)
    }

    /// Whether the password matches. A hash that cannot be read is an error, not a mismatch.
    pub fn verify(&self, password: &Password, hash: &PasswordHash) -> Result<bool, HashError> {
        match self.argon2.verify_password(password.as_bytes(), hash.as_str()) {
            Ok(()) => Ok(true),
            Err(argon2::password_hash::Error::PasswordInvalid) => Ok(false),
            Err(e) => Err(HashError::new(e)),
        }
    }

    /// Verifies against the dummy hash and discards the answer.
    pub fn verify_dummy(&self, password: &Password) {
        let _ = self.verify(password, &self.dummy);
    }

    /// Whether `hash` is an Argon2id hash (version 0x13) with the current parameters and output length, so that
    /// hashing the password again would change nothing but the salt.
    pub fn is_current(&self, hash: &PasswordHash) -> bool {
        let Ok(phc) = Phc::new(hash.as_str()) else { return false };
        let current = self.argon2.params();
        phc.algorithm == argon2::ARGON2ID_IDENT
            && phc.version == Some(Version::V0x13.into())
            && Params::try_from(&phc).is_ok_and(|stored| {
                (stored.m_cost(), stored.t_cost(), stored.p_cost())
                    == (current.m_cost(), current.t_cost(), current.p_cost())
            })
            && phc.hash.is_some_and(|output| output.len() == Params::DEFAULT_OUTPUT_LEN)
    }

    /// [`Argon2id::hash`] in `memory`, which is reused instead of allocating 19 MiB for every hash.
    pub fn hash_in(&self, password: &Password, memory: &mut HashMemory) -> Result<PasswordHash, HashError> {
        let mut salt = [0u8; 16];
        rand::rngs::SysRng.try_fill_bytes(&mut salt).map_err(HashError::new)?;
        let params = self.argon2.params();
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        self.argon2
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory.blocks(params.block_count()))
            .map_err(HashError::new)?;
        let phc = Phc {
            algorithm: argon2::ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(params).map_err(HashError::new)?,
            salt: Some(Salt::new(&salt).map_err(HashError::new)?),
            hash: Some(Output::new(&out).map_err(HashError::new)?),
        };
        Ok(PasswordHash::new(phc.to_string()))
    }

    /// [`Argon2id::verify`] in `memory`; the parameters come from the stored hash, as there.
    pub fn verify_in(
        &self,
        password: &Password,
        hash: &PasswordHash,
        memory: &mut HashMemory,
    ) -> Result<bool, HashError> {
        let phc = Phc::new(hash.as_str()).map_err(HashError::new)?;
        let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(HashError::new)?;
        let version = phc.version.map(Version::try_from).transpose().map_err(HashError::new)?.unwrap_or_default();
        let params = Params::try_from(&phc).map_err(HashError::new)?;
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return Err(HashError::new("the stored hash has no salt or no output"));
        };
        let blocks = params.block_count();
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt.as_ref(), &mut out, memory.blocks(blocks))
            .map_err(HashError::new)?;
        Ok(out.as_slice().ct_eq(expected.as_ref()).into())
    }

    /// [`Argon2id::verify_dummy`] in `memory`.
    pub fn verify_dummy_in(&self, password: &Password, memory: &mut HashMemory) {
        let _ = self.verify_in(password, &self.dummy, memory);
    }
}

/// Working memory of Argon2id (19 MiB with the default parameters), kept by a hashing thread and reused,
/// so that memory use stays flat however many hashes run.
#[derive(Default)]
pub struct HashMemory(Vec<Block>);

impl std::fmt::Debug for HashMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HashMemory({} blocks)", self.0.len())
    }
}

impl HashMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        self.0.resize(count, Block::default());
        &mut self.0[..count]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> Argon2id {
        Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap()
    }

    #[test]
    fn hashing_takes_half_the_cpus_by_default_and_at_least_one() {
        let defaults: Vec<usize> = [1, 2, 3, 4, 16].into_iter().map(default_hash_concurrency).collect();

        assert_eq!(defaults, [1, 1, 1, 2, 8]);
    }

    #[test]
    fn a_hash_verifies_its_own_password_only() {
        let hasher = cheap();
        let hash = hasher.hash(&Password::new("correct horse".into())).unwrap();

        assert!(hash.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(hasher.verify(&Password::new("correct horse".into()), &hash).ok(), Some(true));
        assert_eq!(hasher.verify(&Password::new("correct horse ".into()), &hash).ok(), Some(false));
    }

    #[test]
    fn a_corrupt_hash_is_an_error() {
        let hasher = cheap();

        assert!(hasher.verify(&Password::new("x".into()), &PasswordHash::new("not a hash".into())).is_err());
    }

    #[test]
    fn hashing_in_reused_memory_agrees_with_the_allocating_functions() {
        let hasher = cheap();
        let mut memory = HashMemory::default();
        let (right, wrong) = (Password::new("correct horse".into()), Password::new("correct horsE".into()));

        let reused = hasher.hash_in(&right, &mut memory).unwrap();
        let allocated = hasher.hash(&right).unwrap();

        assert!(reused.as_str().starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
        assert_eq!(hasher.verify(&right, &reused).ok(), Some(true));
        assert_eq!(hasher.verify(&wrong, &reused).ok(), Some(false));
        assert_eq!(hasher.verify_in(&right, &allocated, &mut memory).ok(), Some(true));
        assert_eq!(hasher.verify_in(&wrong, &allocated, &mut memory).ok(), Some(false));
        assert_eq!(hasher.verify_in(&right, &reused, &mut memory).ok(), Some(true));
        assert!(hasher.verify_in(&right, &PasswordHash::new("not a hash".into()), &mut memory).is_err());
    }

    #[test]
    fn memory_sized_for_other_parameters_is_resized() {
        let small = cheap();
        let large = Argon2id::new(Argon2Params { memory_kib: 256, iterations: 1, parallelism: 1 }).unwrap();
        let mut memory = HashMemory::default();
        let password = Password::new("pw".into());

        let first = large.hash_in(&password, &mut memory).unwrap();
        let second = small.hash_in(&password, &mut memory).unwrap();

        assert_eq!(large.verify(&password, &first).ok(), Some(true));
        assert_eq!(small.verify(&password, &second).ok(), Some(true));
        assert_eq!(small.verify_in(&password, &first, &mut memory).ok(), Some(true), "the stored parameters decide");
    }

    #[test]
    fn only_an_argon2id_hash_of_the_current_parameters_is_current() {
        let hasher = cheap();
        let other = Argon2id::new(Argon2Params { memory_kib: 128, iterations: 1, parallelism: 1 }).unwrap();
        let password = Password::new("pw".into());

        assert!(hasher.is_current(&hasher.hash(&password).unwrap()));
        assert!(!hasher.is_current(&other.hash(&password).unwrap()));
        assert!(!hasher.is_current(&PasswordHash::new("$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".into())));
        assert!(!hasher.is_current(&PasswordHash::new("pbkdf2_sha256$600000$salt$aGFzaA==".into())));
        assert!(!hasher.is_current(&PasswordHash::new("not a hash".into())));
    }

    #[test]
    fn parameters_are_checked() {
        assert!(Argon2id::new(Argon2Params { memory_kib: 1, iterations: 1, parallelism: 1 }).is_err());
        assert!(Argon2id::new(Argon2Params { memory_kib: 64, iterations: 0, parallelism: 1 }).is_err());
    }
}
