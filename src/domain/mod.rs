//! Validated values. Each type can only be made through `parse()`, so a value that
//! exists is valid.
mod account;

pub use account::{DisplayName, Note, Password, Username};

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
