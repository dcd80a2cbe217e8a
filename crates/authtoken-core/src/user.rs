//! Users and the values that describe them: usernames, passwords and password hashes.

use std::fmt;

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory as _};
use zeroize::Zeroizing;

use crate::time::Timestamp;

/// The most characters a username may have (Django's limit).
pub const USERNAME_MAX_CHARS: usize = 150;
/// The most characters a password may have (upstream's limit).
pub const PASSWORD_MAX_CHARS: usize = 128;
/// The most characters an email address may have (RFC 5321's path limit, as Django uses).
pub const EMAIL_MAX_CHARS: usize = 254;

/// A store's identifier of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UserId(pub i64);

/// A user as the use cases and the HTTP layer see it (no password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The store's identifier of the user.
    pub id: UserId,
    /// The name as registered, in its own case.
    pub username: String,
    /// The user's address; `None` when the user has none (registration asks for one only when
    /// email confirmation is on).
    pub email: Option<String>,
    /// Whether a confirmation link sent to `email` has been used.
    pub email_confirmed: bool,
    /// Whether the user may log in and authenticate; registration creates active users.
    pub is_active: bool,
    /// When the user registered.
    pub joined_at: Timestamp,
    /// When the user last logged in; `None` before the first login.
    pub last_login_at: Option<Timestamp>,
}

/// A user together with the hash to check a login against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCredentials {
    /// The user the hash belongs to.
    pub user: User,
    /// The stored hash of the user's password.
    pub password_hash: PasswordHash,
}

/// What a store needs to create a user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewUser {
    /// The name as registered.
    pub username: Username,
    /// The form of the username that uniqueness and login go by: see [`Username::key`].
    pub username_key: String,
    /// The hash of the user's password, never the password.
    pub password_hash: PasswordHash,
    /// The user's address; registration asks for one only when email confirmation is on.
    pub email: Option<String>,
    /// Whether `email` counts as confirmed from the start: `false` from registration, which mails a link to confirm
    /// it; `true` when an operator creates the user and vouches for the address.
    pub email_confirmed: bool,
    /// Whether the user may log in; registration creates active users.
    pub is_active: bool,
    /// When the user registered.
    pub joined_at: Timestamp,
}

/// A username that passed the registration rules: trimmed, not blank, at most 150 characters,
/// only Unicode letters and numbers (the general categories `L` and `N`, as Python's `\w` reads them for Django)
/// and `@ . + - _`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

/// Why a text is not a username; the messages are upstream's, word for word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Empty, or only whitespace.
    #[error("This field may not be blank.")]
    Blank,
    /// More than [`USERNAME_MAX_CHARS`] characters once trimmed.
    #[error("Ensure this field has no more than 150 characters.")]
    TooLong,
    /// A character other than a Unicode letter, a number, or `@ . + - _`.
    #[error("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")]
    InvalidCharacters,
}

impl Username {
    /// Trims `text` and checks it against the registration rules.
    pub fn parse(text: &str) -> Result<Self, UsernameError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(UsernameError::Blank);
        }
        if trimmed.chars().count() > USERNAME_MAX_CHARS {
            return Err(UsernameError::TooLong);
        }
        if !trimmed.chars().all(is_username_char) {
            return Err(UsernameError::InvalidCharacters);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The name as registered.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and login go by: the name itself, or its lower case when names are case-insensitive.
    pub fn key(&self, case_insensitive: bool) -> String {
        username_key(&self.0, case_insensitive)
    }
}

/// A letter or a number by its Unicode general category, or one of `@ . + - _`. Not `char::is_alphanumeric`, which
/// also takes the combining marks and symbols of Unicode's `Other_Alphabetic` (`ा`, `Ⓐ`), which Django refuses and
/// a regular expression's `\p{L}` and `\p{N}` do not name.
fn is_username_char(c: char) -> bool {
    matches!(c.general_category_group(), GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number)
        || matches!(c, '@' | '.' | '+' | '-' | '_')
}

/// The lookup key of any text given as a username at login.
pub fn username_key(text: &str, case_insensitive: bool) -> String {
    if case_insensitive { text.to_lowercase() } else { text.to_owned() }
}

/// A password in plain text, as the client sent it: never trimmed, redacted in `Debug`, zeroised on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps the password exactly as the client sent it.
    pub fn new(text: String) -> Self {
        Self(Zeroizing::new(text))
    }

    /// The password's UTF-8 bytes, for the hasher.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// How many characters (Unicode scalar values) the password has, as the length rules count.
    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A password hash in PHC string form (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string, as a hasher makes it or a store reads it back.
    pub fn new(phc: String) -> Self {
        Self(phc)
    }

    /// The PHC string, for a store to keep.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(text: &str, expected: Result<&str, UsernameError>) {
        assert_eq!(Username::parse(text).as_ref().map(Username::as_str).map_err(|e| *e), expected, "{text:?}");
    }

    #[test]
    fn usernames_follow_the_django_rules() {
        check("john", Ok("john"));
        check("  john \t", Ok("john"));
        check("j.o+h-n_@x", Ok("j.o+h-n_@x"));
        check("Jürgen", Ok("Jürgen"));
        check("名前", Ok("名前"));
        check("٣٤", Ok("٣٤"));
        check("", Err(UsernameError::Blank));
        check("   ", Err(UsernameError::Blank));
        check("john doe", Err(UsernameError::InvalidCharacters));
        check("john!", Err(UsernameError::InvalidCharacters));
        check("a/b", Err(UsernameError::InvalidCharacters));
        check("Ⅻ½", Ok("Ⅻ½"));
        check("\u{24b6}", Err(UsernameError::InvalidCharacters));
        check("\u{930}\u{93e}\u{92e}", Err(UsernameError::InvalidCharacters));
        check("Ju\u{308}rgen", Err(UsernameError::InvalidCharacters));
        check("\u{2003}john\u{3000}\u{85}", Ok("john"));
        check(&"a".repeat(150), Ok(&"a".repeat(150)));
        check(&"ä".repeat(150), Ok(&"ä".repeat(150)));
        check(&"a".repeat(151), Err(UsernameError::TooLong));
        check(&format!("{}!", "a".repeat(151)), Err(UsernameError::TooLong));
    }

    #[test]
    fn the_key_folds_case_only_when_asked() {
        let name = Username::parse("Alice").unwrap();

        assert_eq!(name.key(false), "Alice");
        assert_eq!(name.key(true), "alice");
        assert_eq!(username_key("ÄLICE", true), "älice");
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let shown = format!("{:?} {:?}", Password::new("hunter22".into()), PasswordHash::new("$argon2id$x".into()));

        assert_eq!(shown, "Password(<redacted>) PasswordHash(<redacted>)");
    }
}
