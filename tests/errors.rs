//! Bad input gets a clear JSON error and loses nothing; nothing a client sends causes a 500.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use actix_web::{web, App};
use common::*;
use serde_json::json;

fn assert_error_body(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.text());
    let body = r.json();
    assert_eq!(body["error"]["code"], code, "{}", r.text());
    assert!(!body["error"]["message"].as_str().unwrap().is_empty());
}

/// An oversized request line or header set gets a JSON error body like every other 4xx.
#[actix_web::test]
async fn oversized_request_lines_and_headers_get_a_json_error() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let long_query = format!("/api/v1/patients?q={}", "a".repeat(9000));
    let r =
        app.send(TestRequest::get().uri(&long_query).insert_header(("Authorization", format!("Bearer {admin}")))).await;
    assert_error_body(&r, StatusCode::URI_TOO_LONG, "uri_too_long");
    let r = app.send(TestRequest::get().uri("/api/v1/me").insert_header(("X-Padding", "x".repeat(9000)))).await;
    assert_error_body(&r, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");
    let mut many = TestRequest::get().uri("/healthz");
    for i in 0..70 {
        many = many.insert_header((format!("x-h{i}"), "1"));
    }
    assert_error_body(&app.send(many).await, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large");
    // Within the limits all is as usual.
    let r = app.send(TestRequest::get().uri("/healthz").insert_header(("X-Padding", "x".repeat(4000)))).await;
    assert_eq!(r.status, StatusCode::OK);
}

#[actix_web::test]
async fn malformed_json_is_400() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app
        .send(
            TestRequest::post()
                .uri("/api/v1/sites")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{\"code\": \"LS\", "),
        )
        .await;
    assert_error_body(&r, StatusCode::BAD_REQUEST, "malformed_json");
}

#[actix_web::test]
async fn wrong_types_missing_fields_and_unknown_enum_values_are_422() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for body in [
        json!({"code": 5, "name": "x", "kind": "clinic"}),
        json!({"name": "x", "kind": "clinic"}),
        json!({"code": "X", "name": "x", "kind": "hospital"}),
        json!({"code": "X", "name": "x", "kind": "clinic", "colour": "red"}),
        json!([1, 2, 3]),
    ] {
        let r = app.post("/api/v1/sites", &admin, body.clone()).await;
        assert_error_body(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    }
    assert_eq!(app.get("/api/v1/sites", &admin).await.json(), json!([]), "nothing was written");
}

#[actix_web::test]
async fn control_characters_in_text_are_refused_on_every_backend() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app.post("/api/v1/sites", &admin, json!({"code": "X", "name": "柳市\u{0}服药点", "kind": "clinic"})).await;
    assert_error_body(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = app.get("/api/v1/audit?entity=%00", &admin).await;
    assert!(r.status == StatusCode::OK || r.status == StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
}

#[actix_web::test]
async fn a_body_that_is_not_json_is_415() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app
        .send(
            TestRequest::post()
                .uri("/api/v1/sites")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("code=LS"),
        )
        .await;
    assert_error_body(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[actix_web::test]
async fn an_oversized_body_is_413() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let big = "x".repeat(200 * 1024);
    let r = app.post("/api/v1/sites", &admin, json!({"code": "X", "name": big, "kind": "clinic"})).await;
    assert_error_body(&r, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}

#[actix_web::test]
async fn unknown_ids_and_paths_are_json_404() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app.patch("/api/v1/sites/does-not-exist", &admin, json!({"name": "x"})).await;
    assert_error_body(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app.get("/api/v1/staff/%E4%BD%A0%00", &admin).await;
    assert_error_body(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app.get("/api/v1/no-such-thing", &admin).await;
    assert_error_body(&r, StatusCode::NOT_FOUND, "not_found");
    let r = app.request(Method::GET, "/no-such-page.html", None, None).await;
    assert_error_body(&r, StatusCode::NOT_FOUND, "not_found");
}

#[actix_web::test]
async fn bad_query_parameters_are_422() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app.get("/api/v1/audit?limit=lots", &admin).await;
    assert_error_body(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let r = app.get("/api/v1/audit?limit=100000", &admin).await;
    assert_error_body(&r, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
}

#[actix_web::test]
async fn error_bodies_never_carry_internals() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let r = app.post("/api/v1/sites", &admin, json!({"code": "X", "name": "x", "kind": "hospital"})).await;
    let text = r.text();
    for leak in ["diesel", "sqlite", "postgres", "src/", "panicked", "SELECT"] {
        assert!(!text.to_lowercase().contains(&leak.to_lowercase()), "{leak} in {text}");
    }
    assert_eq!(r.headers.get("cache-control").unwrap(), "no-store");
}

/// The same middleware stack as the service, around a handler that panics.
#[actix_web::test]
async fn a_panic_answers_500_internal_error_and_the_server_keeps_serving() {
    let app = mmt_clinic::http::with_common_middleware(
        App::new()
            .route(
                "/boom",
                web::get().to(|| async {
                    let patient_name: Option<&str> = None;
                    #[allow(clippy::unnecessary_literal_unwrap)]
                    let _ = patient_name.expect("patient 张三 missing");
                    "unreachable"
                }),
            )
            .route("/fine", web::get().to(|| async { "fine" })),
    );
    let svc = actix_web::test::init_service(app).await;
    let call = wrap_service(svc).await;
    let r = call(TestRequest::get().uri("/boom").to_request()).await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(r.code(), "internal_error");
    assert!(!r.text().contains("张三"), "the panic message must not reach the client");
    let r = call(TestRequest::get().uri("/fine").to_request()).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.text(), "fine");
}

#[actix_web::test]
async fn responses_carry_a_request_id() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/healthz", None, None).await;
    let id = r.headers.get("x-request-id").expect("request id").to_str().unwrap().to_string();
    assert_eq!(id.len(), 32);
    let r2 = app.request(Method::GET, "/healthz", None, None).await;
    assert_ne!(r2.headers.get("x-request-id").unwrap().to_str().unwrap(), id);
}
