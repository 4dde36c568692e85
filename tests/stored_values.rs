//! A kind, status or state column holds one of its enum's names, enforced by the database;
//! a value that got there behind the service's back (its check lifted) is an internal
//! error naming the table, the column and the value — never quietly read as something
//! plausible (a dropped-out patient as "suspended", an unknown alert as "missed doses").

mod common;

use actix_web::http::StatusCode;
use common::clinic::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use mmt_clinic::db::alerts::AlertRow;
use mmt_clinic::db::schema::alerts;
// As the service logs a database error: with its causes.
use mmt_clinic::error::with_causes;

fn lift_check(c: &Clinic, table: &str, column: &str, sqlite_trigger: &str) {
    let sql = if c.app.db.is_postgres() {
        format!("ALTER TABLE {table} DROP CONSTRAINT {table}_{column}_check")
    } else {
        format!("DROP TRIGGER {sqlite_trigger}")
    };
    c.app.conn().batch_execute(&sql).unwrap();
}

#[actix_web::test]
async fn an_unknown_patient_status_is_refused_by_the_database_and_never_guessed() {
    let c = Clinic::new().await;
    let p = c.patient_on("陈明", 1, 30.0).await;
    let set_frozen = format!("UPDATE patients SET status = 'frozen' WHERE id = '{p}'");

    // The database refuses the value.
    assert!(c.app.conn().batch_execute(&set_frozen).is_err(), "the check lets an unknown status in");

    // With its check lifted, the value gets in; reading it is an error that names it.
    lift_check(&c, "patients", "status", "patients_status_check_update");
    c.app.conn().batch_execute(&set_frozen).unwrap();
    let err = with_causes(&mmt_clinic::db::patients::find(&mut c.app.conn(), &p).unwrap_err());
    assert!(err.contains(r#"patients.status"#) && err.contains(r#"holds "frozen""#), "{err}");
    assert!(err.contains("not a PatientStatus"), "{err}");

    // Clients get 500 internal_error, and nothing of the cause.
    for r in [
        c.app.get(&format!("/api/v1/patients/{p}"), &c.doctor).await,
        c.app.get(&format!("/api/v1/patients/{p}/dispensing?site_id={}", c.ls), &c.nurse).await,
    ] {
        assert_eq!((r.status, r.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal_error".to_string()));
        assert!(!r.text().contains("frozen"), "{}", r.text());
    }
}

#[actix_web::test]
async fn an_unknown_alert_kind_is_an_error_naming_it_not_a_missed_dose_alert() {
    let c = Clinic::new().await;
    c.app.tampering(); // a row is written behind the audit chain's back
    let p = c.patient_on("林芳", 2, 30.0).await;
    let insert = format!(
        "INSERT INTO alerts (id, patient_id, kind, episode_key, case_id, message, details, opened_at) \
         VALUES ('alert-x', '{p}', 'lost_cat', 'x', NULL, 'x', '{{}}', '2026-11-10 00:00:00')"
    );
    assert!(c.app.conn().batch_execute(&insert).is_err(), "the check lets an unknown alert kind in");
    lift_check(&c, "alerts", "kind", "alerts_kind_check_insert");
    c.app.conn().batch_execute(&insert).unwrap();

    let err = with_causes(&alerts::table.select(AlertRow::as_select()).load(&mut c.app.conn()).unwrap_err());
    assert!(err.contains(r#"alerts.kind holds "lost_cat", which is not a AlertKind"#), "{err}");
    let r = c.app.get("/api/v1/alerts", &c.admin).await;
    assert_eq!((r.status, r.code()), (StatusCode::INTERNAL_SERVER_ERROR, "internal_error".to_string()));
    assert!(!r.text().contains("lost_cat"));
}
