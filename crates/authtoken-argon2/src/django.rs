//! Password hashes in the formats Django stores them in, read and checked so that users imported from a Django
//! database log in with their passwords; none is ever made. The login replaces each with Argon2id once it matched.
//!
//! - `pbkdf2_sha256$<iterations>$<salt>$<base64 of the key>` (Django's default) and `pbkdf2_sha1$…`;
//! - `argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`: Django's prefix before a PHC string (`argon2i` too);
//! - `bcrypt_sha256$$2b$12$…`: bcrypt of the hex SHA-256 of the password; and `bcrypt$$2b$…`, bcrypt of the password;
//! - a hash starting with `!`: Django's unusable password, which nothing matches.
//!
//! Every cost comes from the stored hash, so each is bounded here: a row with absurd parameters is an error, not a
//! login that runs for minutes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::Digest as _;
use subtle::ConstantTimeEq as _;

use authtoken_core::ports::HashError;
use authtoken_core::user::{Password, PasswordHash};

use crate::argon2id::{Argon2id, HashMemory};

/// More PBKDF2 iterations than any Django release uses (1,200,000 in Django 6.0), not by much: the costliest stored
/// hash sets the cost of every check while imported hashes remain (see the `check` module).
const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// Four times Django's default bcrypt work (cost 12); each step doubles it.
const MAX_BCRYPT_COST: u32 = 14;
/// 256 MiB of Argon2 memory, two and a half times Django's default (102,400 KiB)...
const MAX_ARGON2_MEMORY_KIB: u32 = 256 * 1024;
/// ...at most 16 passes (Django: 2) and 16 lanes (Django: 8).
const MAX_ARGON2_PASSES: u32 = 16;
const MAX_ARGON2_LANES: u32 = 16;

/// The digest of a PBKDF2 hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prf {
    Sha256,
    Sha1,
}

/// A stored hash in one of Django's formats.
#[derive(Debug)]
pub(crate) enum Django<'a> {
    Pbkdf2 {
        prf: Prf,
        iterations: u32,
        salt: &'a str,
        key: Vec<u8>,
    },
    /// The bcrypt string; `sha256` when the password is first replaced by the hex of its SHA-256.
    Bcrypt {
        sha256: bool,
        bcrypt: &'a str,
    },
    /// The PHC string that follows Django's `argon2` prefix.
    Argon2 {
        phc: &'a str,
    },
    Unusable,
}

impl<'a> Django<'a> {
    /// The Django hash `hash` is, `None` when it is in no Django format, or an error when it names a Django
    /// format but cannot be read or costs more than the bounds above.
    pub(crate) fn parse(hash: &'a str) -> Option<Result<Self, HashError>> {
        if hash.starts_with('!') {
            return Some(Ok(Self::Unusable));
        }
        let (algorithm, rest) = hash.split_once('$')?;
        let parsed = match algorithm {
            "pbkdf2_sha256" => pbkdf2(Prf::Sha256, rest),
            "pbkdf2_sha1" => pbkdf2(Prf::Sha1, rest),
            "bcrypt_sha256" => bcrypt(true, rest),
            "bcrypt" => bcrypt(false, rest),
            // `rest` lost the `$` the PHC string starts with: take it from the hash again.
            "argon2" => argon2(&hash["argon2".len()..]),
            _ => return None,
        };
        Some(parsed)
    }

    /// Whether `password` matches. The work is done on the calling thread: call it from a hashing thread.
    pub(crate) fn verify(&self, password: &Password, argon2: &Argon2id) -> Result<bool, HashError> {
        match self {
            Self::Pbkdf2 { prf, iterations, salt, key } => {
                let mut derived = vec![0u8; key.len()];
                derive(*prf, password.as_bytes(), salt.as_bytes(), *iterations, &mut derived);
                Ok(derived.ct_eq(key).into())
            }
            Self::Bcrypt { sha256, bcrypt } => {
                let verified = if *sha256 {
                    let digest = sha2::Sha256::digest(password.as_bytes());
                    bcrypt::verify(hex(&digest), bcrypt)
                } else {
                    bcrypt::verify(password.as_bytes(), bcrypt)
                };
                verified.map_err(HashError::new)
            }
            // Memory of its own, freed afterwards: Django's Argon2 takes 100 MiB, which a hashing thread should not
            // keep for the service's 19 MiB hashes.
            Self::Argon2 { phc } => {
                argon2.verify_in(password, &PasswordHash::new((*phc).to_owned()), &mut HashMemory::default())
            }
            Self::Unusable => Ok(false),
        }
    }

    /// The PBKDF2 iterations of this hash, with its digest; `None` for the other kinds.
    pub(crate) fn pbkdf2_iterations(&self) -> Option<(Prf, u32)> {
        match self {
            Self::Pbkdf2 { prf, iterations, .. } => Some((*prf, *iterations)),
            _ => None,
        }
    }
}

/// Runs `iterations` of PBKDF2 for nothing but the time it takes, as the difference between a hash's iterations and
/// the costliest stored hash's (Django calls this hardening the runtime).
pub(crate) fn spend_pbkdf2(prf: Prf, iterations: u32) {
    if iterations > 0 {
        let mut sink = [0u8; 32];
        derive(prf, b"authtoken dummy password", b"authtoken dummy salt", iterations, &mut sink);
    }
}

fn derive(prf: Prf, password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    match prf {
        Prf::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, iterations, out),
        Prf::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, iterations, out),
    }
}

fn pbkdf2<'a>(prf: Prf, rest: &'a str) -> Result<Django<'a>, HashError> {
    let mut fields = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(key)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(HashError::new("a PBKDF2 hash needs iterations, a salt and a key"));
    };
    let iterations: u32 = iterations.parse().map_err(HashError::new)?;
    if iterations == 0 || iterations > MAX_PBKDF2_ITERATIONS {
        return Err(HashError::new(format!("{iterations} PBKDF2 iterations is outside 1 to {MAX_PBKDF2_ITERATIONS}")));
    }
    let key = STANDARD.decode(key).map_err(HashError::new)?;
    if key.is_empty() || key.len() > 64 {
        return Err(HashError::new("a PBKDF2 key of an unusual length"));
    }
    Ok(Django::Pbkdf2 { prf, iterations, salt, key })
}

fn bcrypt(sha256: bool, rest: &str) -> Result<Django<'_>, HashError> {
    // `$2b$12$…`: the cost is the third field.
    let cost = rest.split('$').nth(2).and_then(|cost| cost.parse::<u32>().ok());
    match cost {
        Some(cost) if cost <= MAX_BCRYPT_COST => Ok(Django::Bcrypt { sha256, bcrypt: rest }),
        Some(cost) => Err(HashError::new(format!("a bcrypt cost of {cost} is over {MAX_BCRYPT_COST}"))),
        None => Err(HashError::new("a bcrypt hash without a cost")),
    }
}

fn argon2(phc: &str) -> Result<Django<'_>, HashError> {
    let parsed = argon2::password_hash::phc::PasswordHash::new(phc).map_err(HashError::new)?;
    let params = argon2::Params::try_from(&parsed).map_err(HashError::new)?;
    let (memory, passes, lanes) = (params.m_cost(), params.t_cost(), params.p_cost());
    if memory > MAX_ARGON2_MEMORY_KIB || passes > MAX_ARGON2_PASSES || lanes > MAX_ARGON2_LANES {
        return Err(HashError::new(format!(
            "Argon2 parameters m={memory}, t={passes}, p={lanes} are over {MAX_ARGON2_MEMORY_KIB} KiB, \
             {MAX_ARGON2_PASSES} passes or {MAX_ARGON2_LANES} lanes"
        )));
    }
    Ok(Django::Argon2 { phc })
}

/// Lower-case hex, as Python's `binascii.hexlify` writes it.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes.iter().flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 0xf)]]).map(char::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Argon2Params;

    fn argon2() -> Argon2id {
        Argon2id::new(Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 }).unwrap()
    }

    fn check(hash: &str, password: &str) -> Result<bool, HashError> {
        let django = Django::parse(hash).expect("a Django format")?;
        django.verify(&Password::new(password.into()), &argon2())
    }

    // Each hash below was made by Django 4.2.30's own hashers (`encode("correct horse", salt)`, with bcrypt 5.0.0
    // and argon2-cffi 25.1.0), with a low cost so that the tests run fast; the last is `make_password(None)`.

    #[test]
    fn pbkdf2_sha256_and_sha1_verify_their_password_only() {
        let sha256 = "pbkdf2_sha256$1000$saltsalt$qQDPSZa3Ormyy9oK1Pu0ZLLwP2Svzmx3yu8OvDdq/J0=";
        let sha1 = "pbkdf2_sha1$1000$saltsalt$wQoBU7GXMNo2CJC+raijrf6key4=";

        assert_eq!(check(sha256, "correct horse").ok(), Some(true));
        assert_eq!(check(sha256, "correct horsE").ok(), Some(false));
        assert_eq!(check(sha1, "correct horse").ok(), Some(true));
        assert_eq!(check(sha1, "correct horsE").ok(), Some(false));
    }

    #[test]
    fn bcrypt_sha256_hashes_the_password_first_and_plain_bcrypt_does_not() {
        let sha256 = "bcrypt_sha256$$2b$04$616myN3tcL27K/OSrTYb/ODYzpKUgY71AD3EltDMR4DflfPxGsMKe";
        let plain = "bcrypt$$2b$04$616myN3tcL27K/OSrTYb/O3RWl4XHUGEuJTCcEZKcbewJM3BOUhDW";

        assert_eq!(check(sha256, "correct horse").ok(), Some(true));
        assert_eq!(check(sha256, "correct horsE").ok(), Some(false));
        assert_eq!(check(plain, "correct horse").ok(), Some(true));
        assert_eq!(check(plain, "correct horsE").ok(), Some(false));
    }

    #[test]
    fn djangos_argon2_is_a_phc_string_behind_a_prefix() {
        let hash = "argon2$argon2id$v=19$m=64,t=1,p=2$c2FsdHNhbHQ$YRLj4dBiCEUKh4kgjC1EzqTDZLRYXSpQ+GaKRMW0iKQ";

        assert_eq!(check(hash, "correct horse").ok(), Some(true));
        assert_eq!(check(hash, "correct horsE").ok(), Some(false));
    }

    #[test]
    fn an_unusable_password_matches_nothing() {
        assert_eq!(check("!", "").ok(), Some(false));
        assert_eq!(check("!FfvpOVrsqn69SyDoIbsTF0B6t6BrPuc30O5xIJMz", "correct horse").ok(), Some(false));
    }

    #[test]
    fn hashes_in_other_formats_are_not_djangos() {
        assert!(Django::parse("$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA").is_none());
        assert!(Django::parse("md5$salt$hash").is_none());
        assert!(Django::parse("no dollar sign").is_none());
    }

    #[test]
    fn costs_beyond_the_bounds_are_errors_not_long_logins() {
        let errors = [
            "pbkdf2_sha256$4000000000$salt$uMC7/kmj+kQPw/6VhWjYSA4zHJjgTXyVO1DQPNA1zW0=",
            "pbkdf2_sha256$2000001$salt$uMC7/kmj+kQPw/6VhWjYSA4zHJjgTXyVO1DQPNA1zW0=",
            "argon2$argon2id$v=19$m=64,t=4000000000,p=1$c2FsdHNhbHQ$4Ha6TjEGE/8fvQ+uMWTVRq4MUl61t2HHk6Kv+9+vCos",
            "argon2$argon2id$v=19$m=64,t=1,p=64$c2FsdHNhbHQ$4Ha6TjEGE/8fvQ+uMWTVRq4MUl61t2HHk6Kv+9+vCos",
            "pbkdf2_sha256$0$salt$uMC7/kmj+kQPw/6VhWjYSA4zHJjgTXyVO1DQPNA1zW0=",
            "bcrypt_sha256$$2b$31$J4C2/PXZSf6KYXCLLkeIBOhm3qo/TaF41Pqg0PiCFsNWxCOT1yXe2",
            "argon2$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$4Ha6TjEGE/8fvQ+uMWTVRq4MUl61t2HHk6Kv+9+vCos",
            "pbkdf2_sha256$1000$salt$not base64",
            "pbkdf2_sha256$1000$salt",
        ];
        for hash in errors {
            assert!(matches!(Django::parse(hash), Some(Err(_))), "{hash}");
        }
    }
}
