//! Validated values. Each type can only be made through `parse()`, so a value that
//! exists is valid.
mod account;
mod status_text;

pub use account::{DisplayName, Note, Password, Username};
pub use status_text::{StatusText, MAX_STATUS_CHARS};

/// Characters that show nothing or reorder the text around them (bidi overrides and
/// isolates, zero-width space, word joiners, BOM, soft hyphen, Hangul fillers): a name
/// made of them is blank, or reads differently from what it is. Zero-width (non-)joiners
/// stay allowed: emoji sequences and several scripts need them.
pub fn is_invisible_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{3164}'
            | '\u{FEFF}'
            | '\u{FFA0}'
    )
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
