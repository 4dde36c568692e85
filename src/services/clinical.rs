//! Loading what the rules need about patients on a day — for one patient or a whole
//! site's queue in the same few queries — and turning rows into the domain's types.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::doses::{self as doses_q, DoseRow};
use crate::db::orders::{self as orders_q, OrderWithActivation};
use crate::db::patients::PatientRow;
use crate::db::{DbConn, QueryResult};
use crate::domain::dispensing::DoseKind;
use crate::domain::dispensing::{DayRange, GivenDose, PatientDay, PatientStatus};
use crate::domain::orders::{Order, OrderBook};
use crate::domain::quantity::DeciMg;

/// A patient and everything the day's decision depends on.
pub struct DayData {
    pub patient: PatientRow,
    pub order_rows: Vec<OrderWithActivation>,
    pub orders: OrderBook,
    pub dose_rows: Vec<DoseRow>,
    pub doses: Vec<GivenDose>,
    /// The last dose before the day that stands.
    pub last_before: Option<DoseRow>,
    pub excused: Vec<DayRange>,
    pub review: Option<DeciMg>,
    pub withheld: bool,
}

impl DayData {
    pub fn status(&self) -> PatientStatus {
        self.patient.status
    }

    /// The latest day before the day with a dose that stands.
    pub fn last_dose_day(&self) -> Option<NaiveDate> {
        self.last_before.as_ref().map(|d| d.dose_day)
    }

    pub fn day(&self, date: NaiveDate, now: DateTime<Utc>) -> PatientDay<'_> {
        PatientDay {
            date,
            now,
            status: self.status(),
            orders: &self.orders,
            last_dose_day: self.last_dose_day(),
            doses: &self.doses,
            excused: &self.excused,
            review: self.review,
            withheld: self.withheld,
        }
    }
}

pub fn to_domain_order(row: &OrderWithActivation) -> Order {
    let (o, activation) = row;
    Order {
        id: o.id.clone(),
        daily: DeciMg(i64::from(o.daily_deci_mg)),
        portions: match (o.portion1_deci_mg, o.portion2_deci_mg) {
            (Some(a), Some(b)) => Some([DeciMg(i64::from(a)), DeciMg(i64::from(b))]),
            _ => None,
        },
        start_date: o.start_date,
        end_date: o.end_date,
        phase: o.phase,
        starts_episode: o.starts_episode,
        last_dose_on: o.last_dose_on,
        effective_from: activation.as_ref().map(|a| a.effective_from),
    }
}

/// The order book of one patient's rows: active orders in activation order.
pub fn order_book(rows: &[OrderWithActivation]) -> OrderBook {
    let mut activated: Vec<&OrderWithActivation> = rows.iter().filter(|(_, a)| a.is_some()).collect();
    activated.sort_by(|(a, aa), (b, ba)| {
        let ka = aa.as_ref().map(|x| x.activated_at);
        let kb = ba.as_ref().map(|x| x.activated_at);
        ka.cmp(&kb).then_with(|| a.id.cmp(&b.id))
    });
    OrderBook::new(activated.into_iter().map(to_domain_order).collect())
}

pub fn given_dose(row: &DoseRow) -> GivenDose {
    GivenDose {
        portion: row.portion as u8,
        amount: DeciMg(i64::from(row.deci_mg)),
        given_at: row.given_at.and_utc(),
        site_id: row.site_id.clone(),
        home_visit: row.kind == DoseKind::HomeVisit,
    }
}

/// Loads the day's data for `patients` on `date` in a fixed number of queries, whatever
/// their number.
pub fn load_days(conn: &mut DbConn, patients: Vec<PatientRow>, date: NaiveDate) -> QueryResult<Vec<DayData>> {
    let ids: Vec<String> = patients.iter().map(|p| p.id.clone()).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut orders: HashMap<String, Vec<OrderWithActivation>> = HashMap::new();
    for row in orders_q::for_patients(conn, &ids)? {
        orders.entry(row.0.patient_id.clone()).or_default().push(row);
    }
    let mut doses: HashMap<String, Vec<DoseRow>> = HashMap::new();
    for row in doses_q::standing_on(conn, &ids, date)? {
        doses.entry(row.patient_id.clone()).or_default().push(row);
    }
    let mut last: HashMap<String, DoseRow> =
        doses_q::last_standing_before(conn, &ids, date)?.into_iter().map(|d| (d.patient_id.clone(), d)).collect();
    let mut excused: HashMap<String, Vec<DayRange>> = HashMap::new();
    for a in doses_q::absences_of(conn, &ids)? {
        excused.entry(a.patient_id.clone()).or_default().push(DayRange { from: a.from_date, to: a.to_date });
    }
    let reviews: HashMap<String, DeciMg> = orders_q::reviews_on(conn, &ids, date)?
        .into_iter()
        .map(|r| (r.patient_id, DeciMg(i64::from(r.approved_deci_mg))))
        .collect();
    let withheld = doses_q::withheld_on(conn, &ids, date)?;

    Ok(patients
        .into_iter()
        .map(|patient| {
            let order_rows = orders.remove(&patient.id).unwrap_or_default();
            let dose_rows = doses.remove(&patient.id).unwrap_or_default();
            DayData {
                orders: order_book(&order_rows),
                doses: dose_rows.iter().map(given_dose).collect(),
                last_before: last.remove(&patient.id),
                excused: excused.remove(&patient.id).unwrap_or_default(),
                review: reviews.get(&patient.id).copied(),
                withheld: withheld.contains(&patient.id),
                order_rows,
                dose_rows,
                patient,
            }
        })
        .collect())
}

/// One patient's day.
pub fn load_day(conn: &mut DbConn, patient: PatientRow, date: NaiveDate) -> QueryResult<DayData> {
    let mut days = load_days(conn, vec![patient], date)?;
    days.pop().ok_or(diesel::result::Error::NotFound)
}
