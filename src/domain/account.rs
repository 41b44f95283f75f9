use super::DomainError;
use secrecy::{ExposeSecret, SecretString};

/// Path segments under /accounts that can never be usernames.
const RESERVED: &[&str] = &[
    "me",
    "verify_credentials",
    "admin",
    "root",
    "api",
    "rockstar",
];

/// 3–30 characters of `[a-z0-9_]`, stored lowercase (so uniqueness is case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Username, DomainError> {
        let name = raw.trim().to_lowercase();
        let len = name.chars().count();
        if !(3..=30).contains(&len) {
            return Err(DomainError::new(
                "invalid_username",
                "A username has 3 to 30 characters.",
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        {
            return Err(DomainError::new(
                "invalid_username",
                "A username may contain only letters a-z, digits and underscores.",
            ));
        }
        if RESERVED.contains(&name.as_str()) {
            return Err(DomainError::new(
                "username_reserved",
                "That username is reserved.",
            ));
        }
        Ok(Username(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Username {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Username {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// 8–128 characters. Held as a secret: never printed.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    pub fn parse(raw: SecretString) -> Result<Password, DomainError> {
        let len = raw.expose_secret().chars().count();
        if len < 8 {
            return Err(DomainError::new(
                "password_too_short",
                "A password has at least 8 characters.",
            ));
        }
        if len > 128 {
            return Err(DomainError::new(
                "password_too_long",
                "A password has at most 128 characters.",
            ));
        }
        Ok(Password(nfkc_password(raw.expose_secret()).unwrap_or(raw)))
    }
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The password as it is hashed: NFKC (NIST SP 800-63B 5.1.1.2), so the same characters
/// typed on any keyboard or system give the same bytes. None when it is NFKC already. The
/// copy is made at its exact size, so no grown-out buffer is left behind unwiped.
pub fn nfkc_password(raw: &str) -> Option<SecretString> {
    use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};
    if is_nfkc_quick(raw.chars()) == IsNormalized::Yes {
        return None;
    }
    let len: usize = raw.nfkc().map(char::len_utf8).sum();
    let mut normal = String::with_capacity(len);
    normal.extend(raw.nfkc());
    if normal == raw {
        zeroize::Zeroize::zeroize(&mut normal);
        return None;
    }
    Some(SecretString::from(normal))
}

/// At most 50 characters, no control, invisible or direction-changing characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<DisplayName, DomainError> {
        let name = super::normalise_text(raw);
        let name = name.as_str();
        if name.chars().count() > 50 {
            return Err(DomainError::new(
                "display_name_too_long",
                "A display name has at most 50 characters.",
            ));
        }
        if super::has_refused_character_in_name(name) {
            return Err(DomainError::new(
                "invalid_display_name",
                "A display name may not contain control, invisible or direction-changing characters.",
            ));
        }
        if !name.is_empty() && name.chars().all(super::shows_nothing) {
            return Err(DomainError::new(
                "invalid_display_name",
                "A display name needs a visible character.",
            ));
        }
        Ok(DisplayName(name.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The profile text: at most 500 characters; newlines and tabs allowed, other control
/// characters not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note(String);

impl Note {
    pub fn parse(raw: &str) -> Result<Note, DomainError> {
        let note = super::normalise_text(raw);
        let note = note.as_str();
        if note.chars().count() > 500 {
            return Err(DomainError::new(
                "note_too_long",
                "A bio has at most 500 characters.",
            ));
        }
        if super::has_refused_character(note) {
            return Err(DomainError::new(
                "invalid_note",
                "A bio may not contain control, direction-changing or hidden characters.",
            ));
        }
        // A bio of invisible characters only is an empty bio.
        if note.chars().all(super::shows_nothing) {
            return Ok(Note(String::new()));
        }
        Ok(Note(note.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hashed_in_nfkc() {
        let normal = |raw: &str| nfkc_password(raw).map(|p| p.expose_secret().to_owned());
        assert_eq!(normal("plain ascii pw"), None, "already NFKC: no copy");
        assert_eq!(normal("caf\u{e9} latte"), None);
        assert_eq!(
            normal("cafe\u{301} latte").as_deref(),
            Some("caf\u{e9} latte")
        );
        // Compatibility forms too: a ligature and a full-width digit.
        assert_eq!(normal("\u{fb01}ne \u{ff11}23").as_deref(), Some("fine 123"));
        let parsed = Password::parse(SecretString::from("cafe\u{301} latte".to_owned()));
        assert_eq!(
            parsed.map(|p| p.expose().to_owned()).ok().as_deref(),
            Some("caf\u{e9} latte")
        );
    }

    #[test]
    fn usernames() {
        assert_eq!(
            Username::parse("Rock_Fan9").map(|u| u.0),
            Ok("rock_fan9".to_string())
        );
        for bad in [
            "ab",
            "",
            "a".repeat(31).as_str(),
            "has space",
            "émile",
            "dash-ed",
            "me",
            "ME",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(Username::parse(&"a".repeat(30)).is_ok());
    }

    #[test]
    fn display_names_refuse_invisible_and_reordering_characters() {
        for bad in [
            "\u{200B}",
            "a\u{202E}gnp.exe",
            "\u{2066}x",
            "\u{FEFF}",
            "\u{3164}",
        ] {
            assert!(
                DisplayName::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
        // Emoji sequences keep their zero-width joiner; right-to-left scripts are fine.
        for good in ["Rocky 👩\u{200D}🔬", "صخرة", "Ábel"] {
            assert!(
                DisplayName::parse(good).is_ok(),
                "{good:?} should be accepted"
            );
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("1234567".to_string().into()).is_err());
        assert!(Password::parse("12345678".to_string().into()).is_ok());
        assert!(Password::parse("x".repeat(129).into()).is_err());
        assert!(Password::parse("x".repeat(128).into()).is_ok());
    }

    #[test]
    fn profile_text() {
        assert!(DisplayName::parse(&"x".repeat(51)).is_err());
        assert!(DisplayName::parse("Granite Gus").is_ok());
        assert!(DisplayName::parse("bell\u{7}").is_err());
        assert!(Note::parse(&"é".repeat(500)).is_ok());
        assert!(Note::parse(&"é".repeat(501)).is_err());
        assert!(Note::parse("line one\nline two").is_ok());
    }
}
