//! Sites of the network.

crate::named_enum! {
    /// The main clinic (门诊部) or a dispensing site (服药点).
    pub enum SiteKind {
        Clinic = "clinic",
        Dispensary = "dispensary",
    }
}
