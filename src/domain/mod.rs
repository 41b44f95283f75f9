//! Validated values. Each type can only be made through `parse()`, so a value that
//! exists is valid.
mod account;
mod status_text;

pub use account::{nfkc_password, DisplayName, Note, Password, Username};
pub use status_text::{StatusText, MAX_STATUS_CHARS};

/// Characters that show nothing or reorder the text around them (bidi overrides and
/// isolates, zero-width space, word joiners, BOM, soft hyphen, Hangul fillers): a name
/// made of them is blank, or reads differently from what it is. Zero-width (non-)joiners
/// stay allowed: emoji sequences and several scripts need them.
pub fn is_invisible_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{2800}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
}

/// Characters that show nothing by themselves: a text made only of these (and spaces) is
/// blank however long it is. Joiners and variation selectors are fine inside text.
pub fn shows_nothing(c: char) -> bool {
    c.is_whitespace()
        || is_invisible_or_reordering(c)
        || matches!(
            c,
            '\u{034F}'
                | '\u{200C}'
                | '\u{200D}'
                | '\u{2800}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// Multi-line text as members write it: NFC (so that one word is stored one way), line
/// breaks as `\n` (clients send CRLF), trimmed.
pub fn normalise_text(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let text: String = raw
        .replace("\r\n", "\n")
        .replace('\r', "\n")
        .nfc()
        .collect();
    text.trim().to_owned()
}

/// The first character multi-line text may not hold: control characters other than
/// newline and tab, and the bidi overrides, embeddings and isolates that make text read
/// otherwise than it is written (marks such as U+200F stay allowed).
pub fn refused_in_text(text: &str) -> Option<char> {
    text.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

/// Why a value was rejected: a stable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DomainError {
    pub code: &'static str,
    pub message: String,
}

impl DomainError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        DomainError {
            code,
            message: message.into(),
        }
    }
}

impl From<DomainError> for crate::error::ApiError {
    fn from(e: DomainError) -> Self {
        crate::error::ApiError::unprocessable(e.code, e.message)
    }
}
