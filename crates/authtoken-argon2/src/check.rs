//! One password check whatever the stored hash's kind, at one cost whatever the kind.
//!
//! Users imported from Django keep Django's hashes until they log in, and Django's default, PBKDF2-SHA256 with
//! 600,000 iterations or more, takes several times as long as the service's Argon2id. Were each hash checked
//! alone, the time of a refused login would say whether the account exists and whether it was imported. So while
//! stored hashes of another kind remain, each check also does the work of the other kind:
//!
//! - an Argon2id hash, and an unknown user's dummy check, also spend the [`Floor`]: the work of the costliest
//!   imported hash the server was told of at start-up;
//! - a Django hash also runs a dummy Argon2id check, and a PBKDF2 one with fewer iterations than the floor's runs
//!   the iterations it lacks (what Django calls hardening the runtime).
//!
//! Then an unknown user, an Argon2id user and a Django PBKDF2 user all cost one Argon2id check plus the floor's
//! PBKDF2. (A Django bcrypt or Argon2 hash beside a PBKDF2 floor costs its own work instead: Django deployments
//! rarely use those hashers, and never several at once unless they changed hashers.)

use authtoken_core::ports::HashError;
use authtoken_core::user::{Password, PasswordHash};

use crate::argon2id::{Argon2id, HashMemory};
use crate::django::{Django, Prf, spend_pbkdf2};

/// The work every check adds while hashes of another kind are stored: the costliest of them.
#[derive(Clone, Debug)]
pub(crate) enum Floor {
    /// PBKDF2 iterations, run for nothing.
    Pbkdf2 { prf: Prf, iterations: u32 },
    /// Another Django hash, verified for nothing against whatever password was given.
    Hash(PasswordHash),
}

impl Floor {
    /// The costliest of `stored`: the PBKDF2-SHA256 hash of the most iterations, else the PBKDF2-SHA1 one, else the
    /// first other Django hash that can be read; `None` when no hash of `stored` is Django's.
    pub(crate) fn costliest(stored: &[PasswordHash]) -> Option<Self> {
        let mut pbkdf2: Option<(Prf, u32)> = None;
        let mut other = None;
        for hash in stored {
            let Some(Ok(django)) = Django::parse(hash.as_str()) else { continue };
            match (django.pbkdf2_iterations(), pbkdf2) {
                (Some(found), None) => pbkdf2 = Some(found),
                (Some((prf, iterations)), Some((best_prf, best))) => {
                    let better =
                        (prf == Prf::Sha256 && best_prf == Prf::Sha1) || (prf == best_prf && iterations > best);
                    if better {
                        pbkdf2 = Some((prf, iterations));
                    }
                }
                (None, _) if other.is_none() && !matches!(django, Django::Unusable) => other = Some(hash.clone()),
                (None, _) => {}
            }
        }
        match (pbkdf2, other) {
            (Some((prf, iterations)), _) => Some(Self::Pbkdf2 { prf, iterations }),
            (None, Some(hash)) => Some(Self::Hash(hash)),
            (None, None) => None,
        }
    }

    /// Spends the floor's work, less the PBKDF2 iterations `done` already (of either digest: a SHA-1 iteration
    /// costs a little less than a SHA-256 one, which is closer than paying both); returns the PBKDF2 iterations it ran.
    fn spend(&self, password: &Password, argon2: &Argon2id, done: Option<(Prf, u32)>) -> u32 {
        match self {
            Self::Pbkdf2 { prf, iterations } => {
                let left = iterations.saturating_sub(done.map_or(0, |(_, n)| n));
                spend_pbkdf2(*prf, left);
                left
            }
            Self::Hash(hash) => {
                if let Some(Ok(django)) = Django::parse(hash.as_str()) {
                    let _ = django.verify(password, argon2);
                }
                0
            }
        }
    }
}

/// Whether `password` matches `hash`, an Argon2 PHC string or a Django hash, at the cost the module says.
pub(crate) fn verify(
    argon2: &Argon2id,
    floor: Option<&Floor>,
    password: &Password,
    hash: &PasswordHash,
    memory: &mut HashMemory,
) -> Result<bool, HashError> {
    match Django::parse(hash.as_str()) {
        None => {
            let matched = argon2.verify_in(password, hash, memory)?;
            if let Some(floor) = floor {
                floor.spend(password, argon2, None);
            }
            Ok(matched)
        }
        Some(django) => {
            let django = django?;
            let matched = django.verify(password, argon2)?;
            argon2.verify_dummy_in(password, memory);
            match (floor, django.pbkdf2_iterations()) {
                (Some(floor), Some(done)) => {
                    floor.spend(password, argon2, Some(done));
                }
                (Some(floor), None) if matches!(django, Django::Unusable) => {
                    floor.spend(password, argon2, None);
                }
                _ => {}
            }
            Ok(matched)
        }
    }
}

/// Whether `hash` is a Django hash this adapter checks, within the bounds of its cost; the error says why not. An
/// importer marks a user whose hash it is not as having no usable password: a Django database holds nothing else
/// (a bare PHC string there is no hash Django made).
pub fn readable(hash: &PasswordHash) -> Result<(), HashError> {
    match Django::parse(hash.as_str()) {
        Some(django) => django.map(drop),
        None => Err(HashError::new("not a hash of Django's that authtoken checks")),
    }
}

/// The check of an unknown user: a dummy Argon2id check and the floor.
pub(crate) fn verify_dummy(argon2: &Argon2id, floor: Option<&Floor>, password: &Password, memory: &mut HashMemory) {
    argon2.verify_dummy_in(password, memory);
    if let Some(floor) = floor {
        floor.spend(password, argon2, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Argon2Params;

    fn hashes(texts: &[&str]) -> Vec<PasswordHash> {
        texts.iter().map(|text| PasswordHash::new((*text).to_owned())).collect()
    }

    #[test]
    fn the_floor_is_the_pbkdf2_sha256_hash_of_the_most_iterations() {
        let stored = hashes(&[
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA",
            "pbkdf2_sha1$900000$salt$wQoBU7GXMNo2CJC+raijrf6key4=",
            "pbkdf2_sha256$260000$salt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=",
            "pbkdf2_sha256$600000$salt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=",
            "bcrypt_sha256$$2b$12$616myN3tcL27K/OSrTYb/ODYzpKUgY71AD3EltDMR4DflfPxGsMKe",
            "!unusable",
        ]);

        let floor = Floor::costliest(&stored);

        assert!(matches!(floor, Some(Floor::Pbkdf2 { prf: Prf::Sha256, iterations: 600_000 })), "{floor:?}");
    }

    #[test]
    fn without_pbkdf2_the_floor_is_another_django_hash_and_without_any_there_is_none() {
        let bcrypt = "bcrypt_sha256$$2b$04$616myN3tcL27K/OSrTYb/ODYzpKUgY71AD3EltDMR4DflfPxGsMKe";

        let floor = Floor::costliest(&hashes(&["!unusable", bcrypt]));
        let none = Floor::costliest(&hashes(&["$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "!unusable"]));

        assert!(matches!(&floor, Some(Floor::Hash(hash)) if hash.as_str() == bcrypt), "{floor:?}");
        assert!(none.is_none());
    }

    #[test]
    fn the_floor_runs_what_a_check_lacks_of_its_iterations() {
        let argon2 = Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap();
        let floor = Floor::Pbkdf2 { prf: Prf::Sha256, iterations: 3000 };
        let password = Password::new("pw".into());

        assert_eq!(floor.spend(&password, &argon2, None), 3000, "an Argon2id check or an unknown user: all of it");
        assert_eq!(floor.spend(&password, &argon2, Some((Prf::Sha256, 1000))), 2000);
        assert_eq!(floor.spend(&password, &argon2, Some((Prf::Sha1, 1000))), 2000);
        assert_eq!(floor.spend(&password, &argon2, Some((Prf::Sha256, 5000))), 0);
    }

    #[test]
    fn every_kind_checks_its_own_password_with_a_floor() {
        let argon2 = Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap();
        let floor = Floor::Pbkdf2 { prf: Prf::Sha256, iterations: 2000 };
        let mut memory = HashMemory::default();
        let right = Password::new("correct horse".into());
        let wrong = Password::new("correct horsE".into());
        let stored = [
            argon2.hash(&right).unwrap(),
            PasswordHash::new("pbkdf2_sha256$1000$saltsalt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=".into()),
            PasswordHash::new("bcrypt_sha256$$2b$04$616myN3tcL27K/OSrTYb/ODYzpKUgY71AD3EltDMR4DflfPxGsMKe".into()),
        ];

        for hash in &stored {
            assert_eq!(verify(&argon2, Some(&floor), &right, hash, &mut memory).ok(), Some(true));
            assert_eq!(verify(&argon2, Some(&floor), &wrong, hash, &mut memory).ok(), Some(false));
            assert_eq!(verify(&argon2, None, &right, hash, &mut memory).ok(), Some(true));
        }
        let unusable = PasswordHash::new("!FfvpOVrsqn69SyDoIbsTF0B6t6BrPuc30O5xIJMz".into());
        assert_eq!(verify(&argon2, Some(&floor), &right, &unusable, &mut memory).ok(), Some(false));
    }

    #[test]
    fn an_importer_can_tell_which_hashes_are_readable() {
        let readable_hashes = [
            "argon2$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$YRLj4dBiCEUKh4kgjC1EzqTDZLRYXSpQ+GaKRMW0iKQ",
            "pbkdf2_sha256$1000$saltsalt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=",
            "!FfvpOVrsqn69SyDoIbsTF0B6t6BrPuc30O5xIJMz",
        ];
        for hash in hashes(&readable_hashes) {
            assert!(readable(&hash).is_ok(), "{}", hash.as_str());
        }
        let unreadable = [
            "md5$salt$0123",
            "sha1$salt$0123",
            "",
            "$scrypt$ln=1,r=8,p=1$c2FsdA$aGFzaA",
            // A bare PHC string is not Django's, whatever its cost: 4 TiB here.
            "$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdHNhbHQ$YRLj4dBiCEUKh4kgjC1EzqTDZLRYXSpQ+GaKRMW0iKQ",
        ];
        for hash in hashes(&unreadable) {
            assert!(readable(&hash).is_err(), "{}", hash.as_str());
        }
    }
}
