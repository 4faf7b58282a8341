//! `/api/openapi.json`, generated from the handlers' annotations. Answers that every operation
//! shares (401 without a valid token, 400 and 413 for a bad or oversized body, 503 while the
//! database is away) and the headers that come with them (`WWW-Authenticate`, `Retry-After`)
//! are added here once rather than on each handler.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::HttpMethod;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Doc, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::http::export;
use crate::http::{
    admin, audit, auth, broadcasts, changes, console, devices, messaging, ops, preferences, push,
    scheduled, search, templates, trainer,
};

/// `{"detail": "..."}`: authentication, throttling, malformed bodies, platform errors.
#[derive(Serialize, ToSchema)]
pub struct DetailBody {
    pub detail: String,
    /// Present on authentication failures (SimpleJWT's code).
    pub code: Option<String>,
}

/// `{"error": "..."}`: the messaging rules.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

/// `{"field": ["message", ...]}`: validation, one entry per bad field.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorsBody(pub BTreeMap<String, Vec<String>>);

/// A 400: bad fields, a broken rule, or a body that is not a JSON object.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestBody {
    Fields(FieldErrorsBody),
    Error(ErrorBody),
    Detail(DetailBody),
}

/// A 403 or 404 of the messaging endpoints: the rule's `{"error"}`, or `{"detail"}` for a
/// path that names no resource at all.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ErrorOrDetailBody {
    Error(ErrorBody),
    Detail(DetailBody),
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Spotter", description = "1:1 messaging between trainers and trainees: the original coaching platform's messaging API, to the letter, plus idempotent send, cursor paging, resume and more. Behaviour, sockets and check orders: docs/api.md in the repository."),
    paths(
        auth::login, auth::refresh, auth::me,
        messaging::list_conversations, messaging::start, messaging::list_messages, messaging::send,
        messaging::mark_read, messaging::unread_count, changes::edit, changes::delete,
        search::search, preferences::read, preferences::update,
        templates::list, templates::create, templates::update, templates::remove,
        broadcasts::create, broadcasts::list, broadcasts::detail, broadcasts::cancel,
        scheduled::create, scheduled::list, scheduled::update, scheduled::cancel,
        trainer::messaging_stats,
        trainer::list, trainer::detail, trainer::remove, trainer::impersonate, trainer::end,
        admin::start, admin::end,
        console::users, console::conversations, console::messages, console::search,
        audit::log, audit::access_log,
        devices::register, devices::unregister, push::vapid_public_key,
        ops::healthz, ops::readyz,
        export::own, export::for_user,
    ),
    components(schemas(DetailBody, ErrorBody, FieldErrorsBody, BadRequestBody, ErrorOrDetailBody)),
    modifiers(&Shared)
)]
pub struct ApiDoc;

struct Shared;

/// The document as pretty JSON, as `spotter openapi` prints it.
pub fn document_json() -> Result<String, serde_json::Error> {
    ApiDoc::openapi().to_pretty_json()
}

fn json_response(description: &str, schema: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(schema)))
                .build(),
        )
        .build()
}

fn header(schema: Type, description: &str) -> RefOr<Header> {
    let mut header = Header::new(ObjectBuilder::new().schema_type(schema));
    header.description = Some(description.to_owned());
    RefOr::T(header)
}

/// The headers that come with a status, whichever operation answers it (the 503 of an
/// unreachable database carries `Retry-After` too; `/readyz`'s own 503 does not).
fn headers_of(status: &str) -> Option<(&'static str, RefOr<Header>)> {
    match status {
        "401" => Some((
            "WWW-Authenticate",
            header(Type::String, "`Bearer realm=\"api\"`"),
        )),
        "429" => Some((
            "Retry-After",
            header(Type::Integer, "Seconds until a retry may succeed"),
        )),
        _ => None,
    }
}

impl Modify for Shared {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for item in doc.paths.paths.values_mut() {
            let ops = [
                (HttpMethod::Get, item.get.as_mut()),
                (HttpMethod::Post, item.post.as_mut()),
                (HttpMethod::Delete, item.delete.as_mut()),
                (HttpMethod::Patch, item.patch.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                // Only an operation that reads a body can find it malformed or too large.
                let takes_body = op.request_body.is_some();
                let responses = &mut op.responses.responses;
                if secured {
                    responses.entry("401".into()).or_insert_with(|| {
                        json_response(
                            "Missing, invalid or expired token, or inactive user",
                            "DetailBody",
                        )
                        .into()
                    });
                }
                if takes_body {
                    responses.entry("400".into()).or_insert_with(|| {
                        json_response("The body is not a JSON object", "BadRequestBody").into()
                    });
                    responses.entry("413".into()).or_insert_with(|| {
                        json_response("The body is over 64 KiB", "DetailBody").into()
                    });
                }
                if secured || method != HttpMethod::Get {
                    responses.entry("503".into()).or_insert_with(|| {
                        let mut r =
                            json_response("The database is unreachable; retry", "DetailBody");
                        r.headers.insert(
                            "Retry-After".into(),
                            header(Type::Integer, "Seconds to wait before retrying"),
                        );
                        r.into()
                    });
                }
                for (status, response) in responses.iter_mut() {
                    if let (Some((name, header)), RefOr::T(response)) =
                        (headers_of(status), response)
                    {
                        response.headers.entry(name.to_owned()).or_insert(header);
                    }
                }
            }
        }
    }
}
