//! The OpenAPI document's error codes come from the service's one `ErrorCode` enum: every
//! code an endpoint documents exists, under the status the service answers it with, and
//! the error body's schema lists exactly the codes a client can receive.

mod common;

use common::*;
use mmt_clinic::domain::codes::ErrorCode;
use mmt_clinic::error::status_of;

/// The `code`s written in backticks in a response description.
fn codes_in(description: &str) -> Vec<String> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
        .map(str::to_string)
        .collect()
}

#[actix_web::test]
async fn every_documented_error_code_is_one_the_service_answers_with_that_status() {
    let app = TestApp::new().await;
    let doc = app.request(actix_web::http::Method::GET, "/api/openapi.json", None, None).await.json();
    let mut problems = Vec::new();
    let mut documented = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let Some(responses) = op["responses"].as_object() else { continue };
            for (status, response) in responses {
                let status: u16 = status.parse().unwrap_or(0);
                if status < 400 {
                    continue;
                }
                for word in codes_in(response["description"].as_str().unwrap_or("")) {
                    match ErrorCode::parse(&word) {
                        Some(code) if status_of(code).as_u16() == status && !code.is_internal() => documented += 1,
                        Some(code) => problems.push(format!(
                            "{method} {path}: {status} documents `{word}`, which answers {}",
                            status_of(code).as_u16()
                        )),
                        None => problems.push(format!("{method} {path}: {status} documents `{word}`, not a code")),
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(documented > 100, "only {documented} codes documented");

    let schema = &doc["components"]["schemas"]["ErrorCode"]["enum"];
    let mut in_schema: Vec<&str> = schema.as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    let mut answerable: Vec<&str> = ErrorCode::ALL.iter().filter(|c| !c.is_internal()).map(|c| c.as_str()).collect();
    in_schema.sort_unstable();
    answerable.sort_unstable();
    assert_eq!(in_schema, answerable);
}

/// Kinds, statuses and roles are documented by the names the service sends ("clinic"),
/// not the Rust names ("Clinic"): schemathesis found sites answering outside their schema.
#[actix_web::test]
async fn enums_are_documented_by_the_names_sent() {
    let app = TestApp::new().await;
    let doc = app.request(actix_web::http::Method::GET, "/api/openapi.json", None, None).await.json();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["SiteKind"]["enum"], serde_json::json!(["clinic", "dispensary"]));
    let roles = schemas["Role"]["enum"].as_array().unwrap();
    assert!(roles.contains(&serde_json::json!("rehab_worker")), "{roles:?}");
    // And every operation documents the refusals any request may meet.
    let dose = &doc["paths"]["/api/v1/doses"]["post"]["responses"];
    for status in ["400", "413", "415", "422", "429", "503"] {
        assert!(dose[status].is_object(), "POST /api/v1/doses does not document {status}");
    }
}
