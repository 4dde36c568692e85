//! Demo data: the real shape of a county network (乐清市), so that a newcomer sees a living
//! clinic. Only fills a database that has no sites yet.

use super::sites::{self, NewSite, SiteKind};
use super::staff::{self, NewStaff};
use super::AppState;
use crate::db::{sites as sites_q, staff as staff_q};
use crate::domain::staff::Role;
use crate::error::AppResult;

/// The password every demo account shares. Demo data only: never on a real network.
pub const DEMO_PASSWORD: &str = "mmt-demo-2026";

pub struct DemoLogin {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub where_: String,
}

pub struct DemoOutcome {
    /// False when the database already had sites and nothing was added.
    pub created: bool,
    pub logins: Vec<DemoLogin>,
}

const SITES: [(&str, &str, SiteKind, &str); 5] = [
    ("LQ", "乐清市美沙酮门诊部", SiteKind::Clinic, "浙江省乐清市乐成街道建设东路"),
    ("LS", "柳市服药点", SiteKind::Dispensary, "乐清市柳市镇柳青路"),
    ("HQ", "虹桥服药点", SiteKind::Dispensary, "乐清市虹桥镇虹桥中路"),
    ("BS", "白石服药点", SiteKind::Dispensary, "乐清市白石街道中雁路"),
    ("FR", "芙蓉服药点", SiteKind::Dispensary, "乐清市芙蓉镇芙蓉大道"),
];

/// (username, display name, role, site codes, townships)
type DemoStaff = (&'static str, &'static str, Role, &'static [&'static str], &'static [&'static str]);

const STAFF: [DemoStaff; 17] = [
    ("admin", "系统管理员", Role::Admin, &[], &[]),
    ("dr.chen", "陈建国", Role::Doctor, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("dr.wang", "王丽华", Role::Doctor, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("nurse.zhou", "周敏", Role::Nurse, &["LQ"], &[]),
    ("nurse.wu", "吴霞", Role::Nurse, &["LQ"], &[]),
    ("nurse.li", "李娜", Role::Nurse, &["LS"], &[]),
    ("nurse.xu", "徐静", Role::Nurse, &["LS"], &[]),
    ("nurse.huang", "黄燕", Role::Nurse, &["HQ"], &[]),
    ("nurse.ye", "叶青", Role::Nurse, &["HQ"], &[]),
    ("nurse.lin", "林芳", Role::Nurse, &["BS"], &[]),
    ("nurse.chi", "池丽", Role::Nurse, &["BS"], &[]),
    ("nurse.zheng", "郑红", Role::Nurse, &["FR"], &[]),
    ("nurse.jin", "金月", Role::Nurse, &["FR"], &[]),
    ("nurse.float", "蔡晓燕", Role::Nurse, &["LQ", "LS", "HQ", "BS", "FR"], &[]),
    ("sg.zhang", "张伟", Role::RehabWorker, &[], &["柳市镇", "北白象镇"]),
    ("sg.liu", "刘洋", Role::RehabWorker, &[], &["虹桥镇", "淡溪镇"]),
    ("sg.pan", "潘婷", Role::RehabWorker, &[], &["白石街道", "芙蓉镇", "乐成街道"]),
];

pub async fn load(state: &AppState) -> AppResult<DemoOutcome> {
    let hash = state.passwords.hash(DEMO_PASSWORD.to_string()).await?;
    state
        .write(move |tx| {
            if sites_q::count(tx.conn)? > 0 {
                tx.audit(None, "demo.skipped", "demo", None, "database already has sites; no demo data added");
                return Ok(DemoOutcome { created: false, logins: Vec::new() });
            }
            let mut site_ids = std::collections::HashMap::new();
            let mut site_names = std::collections::HashMap::new();
            for (code, name, kind, address) in SITES {
                let site = sites::create_in(
                    tx,
                    None,
                    &NewSite { code: code.into(), name: name.into(), kind, address: Some(address.into()) },
                )?;
                site_ids.insert(code, site.id);
                site_names.insert(code, name);
            }
            let mut logins = Vec::new();
            for (username, display_name, role, codes, townships) in STAFF {
                if staff_q::find_by_username(tx.conn, username)?.is_some() {
                    continue;
                }
                let new = NewStaff {
                    username: username.into(),
                    password: String::new(),
                    display_name: display_name.into(),
                    role,
                    site_ids: codes.iter().map(|c| site_ids[c].clone()).collect(),
                    townships: townships.iter().map(|t| t.to_string()).collect(),
                };
                staff::create_in(tx, None, &new, hash.clone())?;
                let where_ = if !codes.is_empty() {
                    codes.iter().map(|c| site_names[c]).collect::<Vec<_>>().join("、")
                } else {
                    townships.join("、")
                };
                logins.push(DemoLogin { username: username.into(), display_name: display_name.into(), role, where_ });
            }
            tx.audit(
                None,
                "demo.load",
                "demo",
                None,
                format!("demo network loaded: {} sites, {} staff", SITES.len(), logins.len()),
            );
            Ok(DemoOutcome { created: true, logins })
        })
        .await
}
