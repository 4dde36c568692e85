//! Sign-in as a security reviewer would test it.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test::TestRequest;
use common::*;
use serde_json::{json, Value};

#[actix_web::test]
async fn login_returns_tokens_and_the_user_and_me_answers() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let r = app.login_reply("nurse.li", PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert!(body["expires_in"].as_i64().unwrap() <= 900);
    assert!(body["refresh_token"].as_str().unwrap().len() >= 32);
    let user = &body["user"];
    assert_eq!(user["username"], "nurse.li");
    assert_eq!(user["role"], "nurse");
    assert_eq!(user["site_ids"], json!([net.site]));
    assert_eq!(user["townships"], json!([]));

    let me = app.get("/api/v1/me", body["access_token"].as_str().unwrap()).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json(), *user);
}

#[actix_web::test]
async fn usernames_are_case_insensitive() {
    let app = TestApp::new().await;
    network(&app).await;
    assert_eq!(app.login_reply("Nurse.Li", PASSWORD).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_get_the_same_401() {
    let app = TestApp::new().await;
    network(&app).await;
    let wrong = app.login_reply("nurse.li", "not-the-password-1").await;
    let unknown = app.login_reply("nobody.here", "not-the-password-1").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.json(), unknown.json());
}

#[actix_web::test]
async fn requests_without_a_valid_token_get_401() {
    let app = TestApp::new().await;
    let r = app.request(Method::GET, "/api/v1/me", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthenticated");
    let r = app.get("/api/v1/me", "not.a.jwt").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = app.send(TestRequest::get().uri("/api/v1/me").insert_header(("Authorization", "Basic YWRtaW46eA=="))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}

fn b64(v: &Value) -> String {
    use base64_url_no_pad as b;
    b::encode(serde_json::to_vec(v).unwrap())
}

/// Minimal base64url without padding, so the test needs no extra crate.
mod base64_url_no_pad {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    pub fn encode(data: Vec<u8>) -> String {
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            let chars = chunk.len() + 1;
            for i in 0..chars {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }
    pub fn decode(s: &str) -> Vec<u8> {
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut out = Vec::new();
        for c in s.bytes() {
            let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                out.push((bits >> nbits) as u8);
                bits &= (1 << nbits) - 1;
            }
        }
        out
    }
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64_url_no_pad::decode(payload)).unwrap()
}

#[actix_web::test]
async fn forged_tokens_are_refused() {
    let app = TestApp::new().await;
    network(&app).await;
    let token = app.login("nurse.li", PASSWORD).await;
    let parts: Vec<&str> = token.split('.').collect();
    let claims = claims_of(&token);

    // alg: none, no signature.
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), parts[1]);
    assert_eq!(app.get("/api/v1/me", &none).await.status, StatusCode::UNAUTHORIZED);

    // A changed payload under the old signature (claims to be another session/user).
    let mut tampered = claims.clone();
    tampered["sub"] = json!("someone-else");
    let forged = format!("{}.{}.{}", parts[0], b64(&tampered), parts[2]);
    assert_eq!(app.get("/api/v1/me", &forged).await.status, StatusCode::UNAUTHORIZED);

    // Same claims signed with another secret.
    let other = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-that-is-long-enough!!").unwrap(),
    )
    .unwrap();
    assert_eq!(app.get("/api/v1/me", &other).await.status, StatusCode::UNAUTHORIZED);

    // Right secret, wrong audience.
    let mut wrong_aud = claims.clone();
    wrong_aud["aud"] = json!("some-other-service");
    let key = jsonwebtoken::EncodingKey::from_secret(b"test-secret-of-at-least-32-characters!").unwrap();
    let t = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &wrong_aud, &key).unwrap();
    assert_eq!(app.get("/api/v1/me", &t).await.status, StatusCode::UNAUTHORIZED);

    // Right secret and audience: accepted (so the refusals above are about what changed).
    let t = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap();
    assert_eq!(app.get("/api/v1/me", &t).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn access_tokens_expire_after_at_most_15_minutes_on_the_service_clock() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    app.set_clock(&net.admin, "2026-11-29T08:00:00+08:00").await;
    let admin = app.admin().await;
    let token = app.login("nurse.li", PASSWORD).await;
    let claims = claims_of(&token);
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 900);
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    app.set_clock(&admin, "2026-11-29T08:14:59+08:00").await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::OK);
    let admin = app.admin().await;
    app.set_clock(&admin, "2026-11-29T08:15:00+08:00").await;
    let r = app.get("/api/v1/me", &token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "unauthenticated");
}

#[actix_web::test]
async fn a_token_from_the_future_is_not_yet_valid() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    app.set_clock(&net.admin, "2026-11-29T09:00:00+08:00").await;
    let admin = app.admin().await;
    let token = app.login("nurse.li", PASSWORD).await;
    app.set_clock(&admin, "2026-11-29T08:50:00+08:00").await;
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::UNAUTHORIZED);
}

async fn refresh(app: &TestApp, token: &str) -> common::Reply {
    app.request(Method::POST, "/api/v1/auth/refresh", None, Some(json!({"refresh_token": token}))).await
}

#[actix_web::test]
async fn refresh_rotates_the_pair_and_the_old_refresh_token_stops_working() {
    let app = TestApp::new().await;
    network(&app).await;
    let first = app.login_reply("nurse.li", PASSWORD).await.json();
    let r1 = first["refresh_token"].as_str().unwrap();

    let second = refresh(&app, r1).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text());
    let second = second.json();
    let r2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    assert_eq!(second["user"]["username"], "nurse.li");
    assert_eq!(app.get("/api/v1/me", second["access_token"].as_str().unwrap()).await.status, StatusCode::OK);

    // The next rotation works with the new token.
    let third = refresh(&app, r2).await;
    assert_eq!(third.status, StatusCode::OK);
    let third = third.json();

    // Presenting r1 again is reuse: refused, and the whole session is revoked.
    let replay = refresh(&app, r1).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/me", third["access_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, third["refresh_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);

    // Another session of the same user is untouched.
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn an_unknown_refresh_token_is_refused() {
    let app = TestApp::new().await;
    assert_eq!(refresh(&app, "00ff").await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn logout_ends_the_access_and_refresh_tokens_at_once() {
    let app = TestApp::new().await;
    network(&app).await;
    let pair = app.login_reply("nurse.li", PASSWORD).await.json();
    let access = pair["access_token"].as_str().unwrap();
    let r = app.request(Method::POST, "/api/v1/auth/logout", Some(access), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/me", access).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, pair["refresh_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn deactivation_takes_effect_at_once_and_blocks_new_logins() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let pair = app.login_reply("nurse.li", PASSWORD).await.json();
    let token = pair["access_token"].as_str().unwrap();
    let r = app.patch(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin, json!({"active": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["active"], false);
    assert_eq!(app.get("/api/v1/me", token).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refresh(&app, pair["refresh_token"].as_str().unwrap()).await.status, StatusCode::UNAUTHORIZED);
    let again = app.login_reply("nurse.li", PASSWORD).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert_eq!(again.code(), "invalid_credentials");

    // Reactivated: can sign in again; the old session stays dead.
    let r = app.patch(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin, json!({"active": true})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", token).await.status, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn a_change_of_sites_applies_to_the_live_session_at_once() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let token = app.login("nurse.li", PASSWORD).await;
    let r =
        app.patch(&format!("/api/v1/staff/{}", net.nurse_id), &net.admin, json!({"site_ids": [net.other_site]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let me = app.get("/api/v1/me", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["site_ids"], json!([net.other_site]));
}

#[actix_web::test]
async fn a_change_of_role_ends_the_session() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    let token = app.login("dr.chen", PASSWORD).await;
    let r = app.patch(&format!("/api/v1/staff/{}", net.doctor_id), &net.admin, json!({"role": "nurse"})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(app.get("/api/v1/me", &token).await.status, StatusCode::UNAUTHORIZED);
    let fresh = app.login_reply("dr.chen", PASSWORD).await.json();
    assert_eq!(fresh["user"]["role"], "nurse");
}

#[actix_web::test]
async fn failed_logins_are_throttled_per_account() {
    let app = TestApp::new().await;
    network(&app).await;
    for _ in 0..5 {
        let r = app.login_reply("nurse.li", "wrong-password-9").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.login_reply("nurse.li", "wrong-password-9").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.code(), "too_many_attempts");
    // Even the right password waits: otherwise the throttle would tell a guesser when they hit.
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are not affected from another address.
    let other = TestRequest::post()
        .uri("/api/v1/auth/login")
        .peer_addr("10.9.9.9:4000".parse().unwrap())
        .set_json(json!({"username": "dr.chen", "password": PASSWORD}));
    assert_eq!(app.send(other).await.status, StatusCode::OK);
}

/// The count and the check are one step: fifty wrong passwords at once for one account
/// get at most five password checks; the rest, and then the right password, wait.
#[actix_web::test]
async fn the_account_throttle_holds_against_a_parallel_burst() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    app.set_clock(&net.admin, "2026-11-29T08:00:00+08:00").await;
    let admin = app.admin().await;
    let burst = (0..50).map(|i| {
        let req = TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(format!("10.8.{}.{}:4000", i / 200, i % 200 + 1).parse().unwrap())
            .set_json(json!({"username": "nurse.li", "password": format!("wrong-password-{i}")}));
        app.send(req)
    });
    let replies = futures_util::future::join_all(burst).await;
    let checked = replies.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
    let throttled = replies.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(checked <= 5, "{checked} wrong passwords were checked");
    assert_eq!(checked + throttled, 50, "every other answer is 429");
    // The right password waits until the window ends.
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.set_clock(&admin, "2026-11-29T08:14:00+08:00").await;
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.set_clock(&admin, "2026-11-29T08:16:00+08:00").await;
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
}

/// The other side of the gate: a burst of right passwords for one account (a shared
/// terminal signing in on every tab) all sign in.
#[actix_web::test]
async fn a_burst_of_right_passwords_all_sign_in() {
    let app = TestApp::new().await;
    network(&app).await;
    let burst = (0..10).map(|_| app.login_reply("nurse.li", PASSWORD));
    let replies = futures_util::future::join_all(burst).await;
    assert!(
        replies.iter().all(|r| r.status == StatusCode::OK),
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
}

#[actix_web::test]
async fn the_account_throttle_lifts_after_the_window() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    app.set_clock(&net.admin, "2026-11-29T08:00:00+08:00").await;
    let admin = app.admin().await;
    for _ in 0..5 {
        app.login_reply("nurse.li", "wrong-password-9").await;
    }
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::TOO_MANY_REQUESTS);
    app.set_clock(&admin, "2026-11-29T08:16:00+08:00").await;
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn failed_logins_are_throttled_per_address_across_accounts() {
    let app = TestApp::new().await;
    network(&app).await;
    let from = |user: &str, addr: &str| {
        TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(addr.parse().unwrap())
            .set_json(json!({"username": user, "password": "wrong-password-9"}))
    };
    for i in 0..20 {
        let r = app.send(from(&format!("guess{i}"), "10.7.7.7:1000")).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let r = app.send(from("nurse.li", "10.7.7.7:1000")).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // The same account from another address is not throttled (it has no failures yet).
    let ok = TestRequest::post()
        .uri("/api/v1/auth/login")
        .peer_addr("10.8.8.8:1000".parse().unwrap())
        .set_json(json!({"username": "nurse.li", "password": PASSWORD}));
    assert_eq!(app.send(ok).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn successful_logins_are_never_throttled() {
    let app = TestApp::new().await;
    network(&app).await;
    for _ in 0..30 {
        assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
    }
}

#[actix_web::test]
async fn a_success_clears_the_account_failures_before_it() {
    let app = TestApp::new().await;
    network(&app).await;
    for _ in 0..4 {
        app.login_reply("nurse.li", "wrong-password-9").await;
    }
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
    for _ in 0..4 {
        assert_eq!(app.login_reply("nurse.li", "wrong-password-9").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login_reply("nurse.li", PASSWORD).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn logins_failures_and_logouts_are_audited() {
    let app = TestApp::new().await;
    let net = network(&app).await;
    app.login_reply("nurse.li", "wrong-password-9").await;
    let token = app.login("nurse.li", PASSWORD).await;
    app.request(Method::POST, "/api/v1/auth/logout", Some(&token), None).await;
    let admin = app.admin().await;
    let page = app.get("/api/v1/audit?limit=500", &admin).await.json();
    let actions: Vec<&str> =
        page["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for expected in ["auth.login_failed", "auth.login", "auth.logout"] {
        assert!(actions.contains(&expected), "{expected} missing from {actions:?}");
    }
    let failed = page["entries"].as_array().unwrap().iter().find(|e| e["action"] == "auth.login_failed").unwrap();
    assert_eq!(failed["entity_id"], json!(net.nurse_id));
}
