//! The API's own description, OpenAPI 3.1, generated from the route declarations
//! (`auth::policy::RouteSpec`: method, path, access, the area that declared it) when the
//! server starts, and served at `GET /api/openapi.json`; `web/api.html` reads it. Every
//! declared route is in it, with its path parameters, who may call it (the security
//! schemes and `x-kaibiao-access`), the CSRF header of a cookie session's unsafe call, and
//! the one error shape every refusal has (docs/api.md), and the success body of each
//! route that declares its type (`Api::returns`: a JSON Schema derived by schemars from
//! the type serde writes). Other bodies are described per area in docs/.

use axum::extract::State;
use axum::http::{header, Method};
use axum::response::IntoResponse;
use serde_json::{json, Map, Value};

use crate::auth::policy::{RouteSpec, CSRF_HEADER, SESSION_COOKIE};
use crate::auth::{Access, Api, Role};
use crate::state::AppState;

/// The description as built at start, serialised once, kept as a runtime.
pub struct ApiDescription(pub bytes::Bytes);

impl ApiDescription {
    pub fn of(specs: &[RouteSpec]) -> Self {
        ApiDescription(bytes::Bytes::from(describe(specs).to_string()))
    }
}

fn access(a: Access) -> Value {
    match a {
        Access::Public => json!("public"),
        Access::AnyUser => json!("any_user"),
        Access::Roles(roles) => json!(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()),
    }
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// `get /api/tenders/{id}/result` → `get_tenders_id_result`.
fn operation_id(s: &RouteSpec) -> String {
    let path: String = s
        .path
        .trim_start_matches("/api/")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path: Vec<&str> = path.split('_').filter(|p| !p.is_empty()).collect();
    format!("{}_{}", s.method.as_str().to_lowercase(), path.join("_"))
}

/// The OCDS schema an open-data route's body follows (docs/opendata.md).
fn ocds_schema(path: &str) -> Option<&'static str> {
    if path.starts_with("/api/ocds/releases") {
        Some("https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json")
    } else if path.starts_with("/api/ocds/records") {
        Some("https://standard.open-contracting.org/schema/1__1__5/record-package-schema.json")
    } else {
        None
    }
}

fn operation(s: &RouteSpec, schemas: &mut schemars::SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = s
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
        .collect();
    let signed_in = s.access != Access::Public;
    if signed_in && is_unsafe(&s.method) {
        parameters.push(json!({
            "name": CSRF_HEADER, "in": "header", "required": false,
            "description": "With the session cookie: the session's CSRF token (not needed with a bearer token).",
            "schema": {"type": "string"},
        }));
    }
    let who = match s.access {
        Access::Public => "anyone".to_string(),
        Access::AnyUser => "any signed-in user".to_string(),
        Access::Roles(roles) => roles
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut op = json!({
        "operationId": operation_id(s),
        "summary": format!("{} {}", s.method, s.path),
        "description": format!("Who may call it: {who}. The area's rules: docs/ (area `{}`).", s.area),
        "tags": [s.area],
        "parameters": parameters,
        "security": if signed_in { json!([{"session": []}, {"bearer": []}]) } else { json!([]) },
        "x-kaibiao-access": access(s.access),
        "responses": {
            "2XX": {"description": "Done; the area's document describes the body."},
            "4XX": {"$ref": "#/components/responses/Refused"},
            "5XX": {"$ref": "#/components/responses/Refused"},
        },
    });
    if let Some(body) = s.response {
        op["responses"]["200"] = json!({
            "description": "Done.",
            "content": {"application/json": {"schema": body(schemas)}},
        });
    }
    if let Some(url) = ocds_schema(s.path) {
        op["externalDocs"] = json!({"description": "The body: an OCDS 1.1 package", "url": url});
    }
    if is_unsafe(&s.method) {
        // A bid's or an offer's sealed container goes up as raw bytes, in chunks.
        let media = if s.path.ends_with("/content") {
            json!({"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}})
        } else {
            json!({"application/json": {"schema": {"type": "object"}}})
        };
        op["requestBody"] = json!({"required": false, "content": media});
    }
    op
}

/// The one shape of every refusal (docs/api.md).
fn error_schema() -> Value {
    json!({
        "type": "object",
        "required": ["code", "message", "message_en"],
        "properties": {
            "code": {"type": "string", "description": "Stable, e.g. VALIDATION, FORBIDDEN, BID_DEADLINE_PASSED"},
            "message": {"type": "string", "description": "zh-CN"},
            "message_en": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            "received": {"type": "integer"},
            "retry_after_secs": {"type": "integer"},
        },
    })
}

/// The OpenAPI 3.1 description of `specs`: the routes, and the bodies of those that
/// declare their type (`Api::returns`) as schemas under `components/schemas`.
pub fn describe(specs: &[RouteSpec]) -> Value {
    let mut paths: Map<String, Value> = Map::new();
    let mut tags: Vec<&str> = Vec::new();
    let mut schemas = schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .into_generator();
    for s in specs {
        let item = paths.entry(s.path.to_string()).or_insert_with(|| json!({}));
        item[s.method.as_str().to_lowercase()] = operation(s, &mut schemas);
        if !tags.contains(&s.area) {
            tags.push(s.area);
        }
    }
    let mut bodies = schemas.take_definitions(true);
    bodies.insert("Error".into(), error_schema());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "kaibiao — 黄石市政府采购电子交易平台 API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Bodies are JSON; times integer Unix milliseconds; money integer fen. Every refusal has the error shape below with a stable code (docs/api.md).",
        },
        "servers": [{"url": "/"}],
        "tags": tags.iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
            "schemas": bodies,
            "responses": {
                "Refused": {
                    "description": "Refused, with a stable code and nothing changed.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
        "x-kaibiao-roles": Role::ALL.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
    })
}

pub fn api() -> Api {
    Api::default().route(Method::GET, "/api/openapi.json", Access::Public, openapi)
}

async fn openapi(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.runtime::<ApiDescription>().0.clone(),
    )
}
