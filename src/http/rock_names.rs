//! Rocks as community: members suggest names for rocks; suggesting a name is voting for
//! it, once per member per name (case-insensitive). The most-voted name is the rock's
//! community name.
use super::rocks::parse_rock_id;
use super::{AuthUser, MaybeAuthUser};
use crate::db;
use crate::error::{ApiError, ErrorBody};
use crate::http::http_get;
use crate::startup::AppState;
use actix_web::{web, HttpResponse};

pub const MAX_NAME_CHARS: usize = 40;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/rocks/{id}/names")
            .route(http_get().to(list))
            .route(web::post().to(suggest)),
    );
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewName {
    /// 1–40 characters.
    pub name: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RockName {
    pub name: String,
    pub votes: i64,
    /// Whether the viewer voted for it (absent when signed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voted: Option<bool>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RockNames {
    pub rock_id: String,
    /// The most-voted name, if any.
    pub top_name: Option<String>,
    pub names: Vec<RockName>,
}

/// Trimmed, inner whitespace collapsed, 1–40 characters, no control, invisible or
/// direction-changing characters.
pub fn clean_name(raw: &str) -> Result<String, ApiError> {
    // NFC (domain::normalise_text): "Café" typed two ways is one name.
    let name = crate::domain::normalise_text(raw);
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.chars().all(crate::domain::shows_nothing) {
        return Err(ApiError::unprocessable(
            "name_empty",
            "A rock name needs at least one character.",
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::unprocessable(
            "name_too_long",
            format!("A rock name has at most {MAX_NAME_CHARS} characters."),
        ));
    }
    if crate::domain::has_refused_character_in_name(&name) {
        return Err(ApiError::unprocessable(
            "invalid_name",
            "A rock name may not contain control, invisible or direction-changing characters.",
        ));
    }
    Ok(name)
}

async fn names(state: &AppState, viewer: Option<i64>, rock_id: i64) -> Result<RockNames, ApiError> {
    let rows = db::rock_names::list(&state.db, viewer, rock_id).await?;
    Ok(RockNames {
        rock_id: rock_id.to_string(),
        top_name: rows.first().map(|r| r.name.clone()),
        names: rows
            .into_iter()
            .map(|r| RockName {
                name: r.name,
                votes: r.votes,
                voted: viewer.map(|_| r.voted),
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/rocks/{id}/names", tag = "rocks", params(("id" = String, Path)),
    responses((status = 200, body = RockNames), (status = 404, description = "rock_not_found", body = ErrorBody)))]
/// Names suggested for a rock, most votes first.
pub async fn list(
    user: MaybeAuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let rock_id = parse_rock_id(&path)?;
    db::rocks::get(&state.db, rock_id)
        .await?
        .ok_or_else(ApiError::rock_not_found)?;
    Ok(HttpResponse::Ok().json(names(&state, user.0.map(|u| u.account_id), rock_id).await?))
}

#[utoipa::path(post, path = "/api/v1/rocks/{id}/names", tag = "rocks", security(("bearer" = [])), params(("id" = String, Path)), request_body = NewName,
    responses((status = 200, body = RockNames), (status = 401, description = "unauthorized / invalid_token", body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
/// Suggest a name, or vote for one already suggested. A member has one vote per rock: a
/// new one replaces it.
pub async fn suggest(
    user: AuthUser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: super::JsonObject<NewName>,
) -> Result<HttpResponse, ApiError> {
    let me = user.account_id;
    let rock_id = parse_rock_id(&path)?;
    let name = clean_name(&body.name)?;
    db::rocks::get(&state.db, rock_id)
        .await?
        .ok_or_else(ApiError::rock_not_found)?;
    db::rock_names::vote(&state.db, rock_id, me, &name).await?;
    Ok(HttpResponse::Ok().json(names(&state, Some(me), rock_id).await?))
}

#[cfg(test)]
mod tests {
    use super::clean_name;

    #[test]
    fn names_are_tidied_and_invisible_ones_refused() {
        assert_eq!(
            clean_name("  Old   Grumpy ").ok().as_deref(),
            Some("Old Grumpy")
        );
        assert_eq!(
            clean_name("Cafe\u{301}").ok(),
            clean_name("Caf\u{e9}").ok(),
            "one name however its accent is typed"
        );
        for bad in [
            "   ",
            "\u{200B}",
            "\u{202E}gnp.exe",
            "tab\u{0007}",
            "\u{2800}",
            "\u{200D}",
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
