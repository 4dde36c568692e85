//! What is recorded of a patient beside the rules: sex, and why days are excused.

crate::named_enum! {
    /// As on the resident id card.
    pub enum Sex {
        M = "M",
        F = "F",
    }
}

crate::named_enum! {
    /// Why days were excused (they do not count as missed).
    pub enum AbsenceReason {
        Hospital = "hospital",
        Detention = "detention",
        OtherClinic = "other_clinic",
        Other = "other",
    }
}
