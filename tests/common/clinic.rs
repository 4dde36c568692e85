//! A small clinic for dispensing tests: two sites, a nurse at each (and a second nurse at
//! the first), two doctors, and the service clock fixed at a known morning.

use actix_web::http::StatusCode;
use serde_json::{json, Value};

use super::*;

pub struct Clinic {
    pub app: TestApp,
    pub admin: String,
    pub ls: String,
    pub hq: String,
    /// Nurse at 柳市 (LS).
    pub nurse: String,
    /// Second nurse at 柳市, for two-person confirmations.
    pub nurse2: String,
    /// Nurse at 虹桥 (HQ).
    pub nurse_hq: String,
    /// A nurse working at both sites.
    pub nurse_both: String,
    pub doctor: String,
    pub doctor2: String,
    /// Rehab worker of 柳市镇 (sg.zhang) and their staff id.
    pub worker: String,
    pub worker_id: String,
    /// Rehab worker of 虹桥镇 (sg.liu): none of the 柳市 patients are theirs.
    pub worker_hq: String,
    pub now: String,
    /// The clinic's time zone (`MMT_TIMEZONE`).
    pub zone: chrono_tz::Tz,
}

/// A valid 18-character resident id number for a birth date and sequence (odd = male).
pub fn id_number(birth: &str, seq: u32) -> String {
    let first17 = format!("330382{}{:03}", birth.replace('-', ""), seq);
    let check = mmt_clinic::domain::resident_id::check_char(&first17).unwrap();
    format!("{first17}{check}")
}

impl Clinic {
    /// Morning of 10 November 2026 in Shanghai.
    pub async fn new() -> Clinic {
        Clinic::at("2026-11-10T08:00:00+08:00").await
    }

    pub async fn at(now: &str) -> Clinic {
        Clinic::at_in(now, "Asia/Shanghai").await
    }

    /// The clinic in another time zone (`MMT_TIMEZONE`), its clock at `now`.
    pub async fn at_in(now: &str, zone: &str) -> Clinic {
        Clinic::with(now, zone, Options::default()).await
    }

    /// The clinic with the service's options (`MMT_TIMEZONE` set to `zone`).
    pub async fn with(now: &str, zone: &str, mut opts: Options) -> Clinic {
        opts.extra.push(("MMT_TIMEZONE", zone.to_string()));
        let app = TestApp::with(opts).await;
        let admin = app.admin().await;
        app.set_clock(&admin, now).await;
        let admin = app.admin().await;
        let ls = app.site(&admin, "LS", "柳市服药点").await;
        let hq = app.site(&admin, "HQ", "虹桥服药点").await;
        app.staff(&admin, "nurse.li", "nurse", &[&ls], &[]).await;
        app.staff(&admin, "nurse.xu", "nurse", &[&ls], &[]).await;
        app.staff(&admin, "nurse.huang", "nurse", &[&hq], &[]).await;
        app.staff(&admin, "nurse.float", "nurse", &[&ls, &hq], &[]).await;
        app.staff(&admin, "dr.chen", "doctor", &[&ls, &hq], &[]).await;
        app.staff(&admin, "dr.wang", "doctor", &[&ls, &hq], &[]).await;
        let worker_id = app.staff(&admin, "sg.zhang", "rehab_worker", &[], &["柳市镇"]).await;
        app.staff(&admin, "sg.liu", "rehab_worker", &[], &["虹桥镇"]).await;
        let mut c = Clinic {
            app,
            admin,
            ls,
            hq,
            nurse: String::new(),
            nurse2: String::new(),
            nurse_hq: String::new(),
            nurse_both: String::new(),
            doctor: String::new(),
            doctor2: String::new(),
            worker: String::new(),
            worker_id,
            worker_hq: String::new(),
            now: now.to_string(),
            zone: zone.parse().expect("an IANA time zone"),
        };
        c.sign_in_all().await;
        c
    }

    async fn sign_in_all(&mut self) {
        self.admin = self.app.admin().await;
        self.nurse = self.app.login("nurse.li", PASSWORD).await;
        self.nurse2 = self.app.login("nurse.xu", PASSWORD).await;
        self.nurse_hq = self.app.login("nurse.huang", PASSWORD).await;
        self.nurse_both = self.app.login("nurse.float", PASSWORD).await;
        self.doctor = self.app.login("dr.chen", PASSWORD).await;
        self.doctor2 = self.app.login("dr.wang", PASSWORD).await;
        self.worker = self.app.login("sg.zhang", PASSWORD).await;
        self.worker_hq = self.app.login("sg.liu", PASSWORD).await;
    }

    /// Moves the service clock (and signs everyone in again: tokens live 15 minutes).
    pub async fn set_time(&mut self, now: &str) {
        self.app.set_clock(&self.admin, now).await;
        self.now = now.to_string();
        self.sign_in_all().await;
    }

    /// Enrols a patient at 柳市 and returns the answer.
    pub async fn enrol(&self, name: &str, seq: u32) -> Value {
        self.enrol_in(name, seq, "柳市镇", true).await
    }

    /// Enrols a patient living in `township`, with or without consent to share with rehab
    /// workers.
    pub async fn enrol_in(&self, name: &str, seq: u32, township: &str, consent: bool) -> Value {
        let r = self
            .app
            .post(
                "/api/v1/patients",
                &self.doctor,
                json!({"name": name, "id_number": id_number("1985-06-12", seq), "sex": if seq % 2 == 1 { "M" } else { "F" },
                       "birth_date": "1985-06-12", "township": township, "home_site_id": self.ls,
                       "enrolled_on": "2026-10-01", "risk_level": 2, "consent_to_share": consent}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// Enrols a patient and writes an induction order starting today; returns the patient id.
    pub async fn patient_on(&self, name: &str, seq: u32, daily_mg: f64) -> String {
        let p = self.enrol(name, seq).await;
        self.start_order(p["id"].as_str().unwrap(), daily_mg).await
    }

    /// Writes an induction order starting today; returns the patient id.
    pub async fn start_order(&self, patient: &str, daily_mg: f64) -> String {
        let id = patient.to_string();
        let r = self
            .order(
                &id,
                json!({"daily_mg": daily_mg, "start_date": self.today(), "phase": "induction", "reason": "start"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        id
    }

    pub fn today(&self) -> String {
        let t = chrono::DateTime::parse_from_rfc3339(&self.now).unwrap();
        t.with_timezone(&self.zone).date_naive().to_string()
    }

    pub async fn order(&self, patient: &str, body: Value) -> Reply {
        self.app.post(&format!("/api/v1/patients/{patient}/orders"), &self.doctor, body).await
    }

    pub async fn decision(&self, token: &str, patient: &str, site: &str) -> Value {
        let r = self.app.get(&format!("/api/v1/patients/{patient}/dispensing?site_id={site}"), token).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()
    }

    /// Guest dosing at `site` from `from` to `to`, arranged by the doctor: the arrangement.
    pub async fn arrange_guest(&self, patient: &str, site: &str, from: &str, to: &str) -> Value {
        let body = json!({"site_id": site, "from": from, "to": to, "reason": "探亲"});
        let r = self.app.post(&format!("/api/v1/patients/{patient}/guest-dosing"), &self.doctor, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        r.json()
    }

    /// The site holding the patient's day releases it to the arrangement (as `token`).
    pub async fn release(&self, token: &str, patient: &str, arrangement: &Value) -> Reply {
        let id = arrangement["id"].as_str().unwrap();
        self.app.post(&format!("/api/v1/patients/{patient}/guest-dosing/{id}/release"), token, json!({})).await
    }

    /// A doctor's review of `patient` for `date`, approving `mg` (asserted written).
    pub async fn review(&self, patient: &str, date: &str, mg: u32, note: &str) {
        let r = self
            .app
            .post(
                &format!("/api/v1/patients/{patient}/reviews"),
                &self.doctor,
                json!({"date": date, "approved_mg": mg, "note": note}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    }

    pub async fn give(&self, token: &str, patient: &str, site: &str, mg: f64) -> Reply {
        self.app.post("/api/v1/doses", token, dose_body(patient, site, mg)).await
    }
}

impl Clinic {
    /// A window uploads a dose it gave offline at `given_at` (its clock), with `key`.
    pub async fn give_offline(&self, token: &str, patient: &str, site: &str, given_at: &str, key: &str) -> Reply {
        let mut body = dose_body(patient, site, 30.0);
        body["offline"] = json!({"terminal_given_at": given_at});
        self.app.post_with_key("/api/v1/doses", token, key, body).await
    }
}

pub fn dose_body(patient: &str, site: &str, mg: f64) -> Value {
    json!({"patient_id": patient, "site_id": site, "dose_mg": mg, "identity_confirmed": true, "intoxication_check": "clear"})
}
