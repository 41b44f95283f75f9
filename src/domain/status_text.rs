//! The text of a status: 1–500 characters, plain text. `@username` is a mention.
use super::DomainError;

pub const MAX_STATUS_CHARS: usize = 500;

/// Trimmed, 1–500 characters, no control characters except newline and tab.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusText(String);

impl StatusText {
    pub fn parse(raw: &str) -> Result<StatusText, DomainError> {
        let text = super::normalise_text(raw);
        let text = text.as_str();
        if text.chars().all(super::shows_nothing) {
            return Err(DomainError::new(
                "status_empty",
                "A status needs some text.",
            ));
        }
        let len = text.chars().count();
        if len > MAX_STATUS_CHARS {
            return Err(DomainError::new(
                "status_too_long",
                format!("A status has at most {MAX_STATUS_CHARS} characters; this one has {len}."),
            ));
        }
        if super::has_refused_character(text) {
            return Err(DomainError::new(
                "invalid_status_text",
                "A status may not contain control, direction-changing or hidden characters.",
            ));
        }
        Ok(StatusText(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Lowercased usernames mentioned as `@name`, each once, in order of appearance.
    /// A mention starts at the beginning or after a character that cannot be part of a
    /// username or an e-mail's local part, so `me@example` is not a mention.
    pub fn mentions(&self) -> Vec<String> {
        let chars: Vec<char> = self.0.chars().collect();
        let mut found: Vec<String> = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let starts = chars[i] == '@'
                && (i == 0
                    || !(chars[i - 1].is_alphanumeric()
                        || matches!(
                            chars[i - 1],
                            '_' | '.' | '-' | '@' | '/' | '=' | '&' | '?' | '#' | ':' | '+' | '%'
                        )));
            if !starts {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_ascii_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            let name: String = chars[i + 1..j].iter().collect::<String>().to_lowercase();
            // A username is 3–30 characters; a longer word run is not one.
            let ends_cleanly = j == chars.len() || !(chars[j].is_alphanumeric() || chars[j] == '@');
            if (3..=30).contains(&name.len()) && ends_cleanly && !found.contains(&name) {
                found.push(name);
            }
            i = j.max(i + 1);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_counted_in_characters() {
        assert!(StatusText::parse(&"é".repeat(500)).is_ok());
        assert_eq!(
            StatusText::parse(&"é".repeat(501)).map_err(|e| e.code),
            Err("status_too_long")
        );
        assert_eq!(
            StatusText::parse("   ").map_err(|e| e.code),
            Err("status_empty")
        );
        assert!(StatusText::parse("bell\u{7}").is_err());
        assert_eq!(
            StatusText::parse("  hi\nthere ").map(|t| t.0),
            Ok("hi\nthere".to_string())
        );
    }

    #[test]
    fn mentions_are_found_once_and_lowercased() -> Result<(), DomainError> {
        let t =
            StatusText::parse("@Alice hi @bob_9, and @alice again; mail me@example.com (@carol)")?;
        assert_eq!(t.mentions(), vec!["alice", "bob_9", "carol"]);
        assert!(StatusText::parse("@ab is too short, @@x, a@b")?
            .mentions()
            .is_empty());
        assert!(StatusText::parse(&format!("@{}", "a".repeat(31)))?
            .mentions()
            .is_empty());
        assert_eq!(StatusText::parse("héllo @dave!")?.mentions(), vec!["dave"]);
        Ok(())
    }
}
