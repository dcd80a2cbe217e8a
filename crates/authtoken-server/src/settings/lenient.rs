//! Deserializers that take a setting as an operator writes it. In the environment every value is text, and figment
//! turns `86400` into a number and `true` into a flag before a setting sees it: a text setting takes those back as
//! text (so that a duration without a unit is refused with a hint rather than a type error), and a flag takes
//! `true/false`, `1/0`, `yes/no` and `on/off` in any case.

use std::fmt;

use serde::Deserializer;
use serde::de::{Error, Visitor};

/// A text setting, also when the environment made a number or a flag of it.
pub(super) fn text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_any(Text)
}

/// An optional text setting, read as [`text`].
pub(super) fn maybe_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    deserializer.deserialize_option(MaybeText)
}

/// A flag: `true/false`, `1/0`, `yes/no` or `on/off`, in any case.
pub(super) fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    deserializer.deserialize_any(Flag)
}

struct Text;

impl Visitor<'_> for Text {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    fn visit_string<E: Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_char<E: Error>(self, v: char) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_i128<E: Error>(self, v: i128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_u128<E: Error>(self, v: u128) -> Result<String, E> {
        Ok(v.to_string())
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
}

struct MaybeText;

impl<'de> Visitor<'de> for MaybeText {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text, or nothing")
    }

    fn visit_none<E: Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_unit<E: Error>(self) -> Result<Option<String>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<String>, D::Error> {
        text(deserializer).map(Some)
    }
}

struct Flag;

impl Flag {
    fn refuse<E: Error>(shown: impl fmt::Display) -> E {
        E::custom(format_args!("`{shown}` is neither yes nor no: write true or false (or 1/0, yes/no, on/off)"))
    }
}

impl Visitor<'_> for Flag {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("true or false")
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Self::refuse(v)),
        }
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Self::refuse(v)),
        }
    }

    fn visit_u128<E: Error>(self, v: u128) -> Result<bool, E> {
        u64::try_from(v).map_or_else(|_| Err(Self::refuse(v)), |v| self.visit_u64(v))
    }

    fn visit_i128<E: Error>(self, v: i128) -> Result<bool, E> {
        i64::try_from(v).map_or_else(|_| Err(Self::refuse(v)), |v| self.visit_i64(v))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<bool, E> {
        Err(Self::refuse(v))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<bool, E> {
        const YES: [&str; 4] = ["true", "1", "yes", "on"];
        const NO: [&str; 4] = ["false", "0", "no", "off"];
        let word = v.trim();
        if YES.iter().any(|yes| word.eq_ignore_ascii_case(yes)) {
            Ok(true)
        } else if NO.iter().any(|no| word.eq_ignore_ascii_case(no)) {
            Ok(false)
        } else {
            Err(Self::refuse(v))
        }
    }
}
