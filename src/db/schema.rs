//! The database schema, written by hand to match `migrations/*/`.
//! Only portable column types: Text, Timestamp (UTC), Date, Integer, BigInt, Bool.

diesel::table! {
    sites (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        kind -> Text,
        address -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff (id) {
        id -> Text,
        username -> Text,
        display_name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    staff_sites (staff_id, site_id) {
        staff_id -> Text,
        site_id -> Text,
    }
}

diesel::table! {
    staff_townships (staff_id, township) {
        staff_id -> Text,
        township -> Text,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        staff_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (token_hash) {
        token_hash -> Text,
        session_id -> Text,
        issued_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Text,
        username -> Text,
        address -> Text,
        succeeded -> Bool,
        at -> Timestamp,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity -> Text,
        entity_id -> Nullable<Text>,
        summary -> Text,
        prev_hash -> Text,
        hash -> Text,
        version -> Integer,
    }
}

diesel::table! {
    audit_rows (seq, ord) {
        seq -> BigInt,
        ord -> Integer,
        table_name -> Text,
        row_id -> Text,
        digest -> Text,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
        keyed_from -> BigInt,
        key_check -> Nullable<Text>,
    }
}

diesel::table! {
    counters (name) {
        name -> Text,
        value -> BigInt,
    }
}

diesel::table! {
    patients (id) {
        id -> Text,
        patient_no -> Text,
        name -> Text,
        id_number -> Text,
        id_number_rev -> Text,
        sex -> Text,
        birth_date -> Date,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        township -> Text,
        home_site_id -> Text,
        enrolled_on -> Date,
        risk_level -> Integer,
        consent_to_share -> Bool,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    patient_name_grams (gram, patient_id) {
        gram -> Text,
        patient_id -> Text,
    }
}

diesel::table! {
    patient_status_changes (id) {
        id -> Text,
        patient_id -> Text,
        from_status -> Text,
        to_status -> Text,
        reason -> Text,
        changed_by -> Nullable<Text>,
        changed_at -> Timestamp,
    }
}

diesel::table! {
    patient_photos (id) {
        id -> Text,
        patient_id -> Text,
        mime -> Text,
        data -> Binary,
        uploaded_by -> Text,
        uploaded_at -> Timestamp,
    }
}

diesel::table! {
    orders (id) {
        id -> Text,
        patient_id -> Text,
        daily_deci_mg -> Integer,
        portion1_deci_mg -> Nullable<Integer>,
        portion2_deci_mg -> Nullable<Integer>,
        start_date -> Date,
        end_date -> Nullable<Date>,
        phase -> Text,
        reason -> Text,
        override_reason -> Nullable<Text>,
        transfer_from -> Nullable<Text>,
        last_dose_on -> Nullable<Date>,
        starts_episode -> Bool,
        needs_approval -> Bool,
        prescriber_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    order_activations (order_id) {
        order_id -> Text,
        patient_id -> Text,
        effective_from -> Date,
        activated_at -> Timestamp,
        approved_by -> Nullable<Text>,
    }
}

diesel::table! {
    reviews (id) {
        id -> Text,
        patient_id -> Text,
        review_date -> Date,
        approved_deci_mg -> Integer,
        note -> Text,
        doctor_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ecgs (id) {
        id -> Text,
        patient_id -> Text,
        taken_on -> Date,
        qtc_ms -> Integer,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    guest_dosing_releases (arrangement_id) {
        arrangement_id -> Text,
        patient_id -> Text,
        site_id -> Text,
        released_by -> Text,
        released_at -> Timestamp,
    }
}

diesel::table! {
    offline_doses (dose_id) {
        dose_id -> Text,
        terminal_given_at -> Timestamp,
        received_at -> Timestamp,
    }
}

diesel::table! {
    offline_incidents (id) {
        id -> Text,
        patient_id -> Text,
        site_id -> Text,
        nurse_id -> Text,
        dose_day -> Date,
        deci_mg -> Integer,
        terminal_given_at -> Timestamp,
        received_at -> Timestamp,
        reason -> Text,
        details -> Text,
    }
}

diesel::table! {
    guest_dosing (id) {
        id -> Text,
        patient_id -> Text,
        site_id -> Text,
        from_date -> Date,
        to_date -> Date,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    absences (id) {
        id -> Text,
        patient_id -> Text,
        from_date -> Date,
        to_date -> Date,
        reason -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    doses (id) {
        id -> Text,
        patient_id -> Text,
        site_id -> Text,
        dose_day -> Date,
        portion -> Integer,
        generation -> Integer,
        deci_mg -> Integer,
        given_at -> Timestamp,
        nurse_id -> Text,
        order_id -> Text,
        kind -> Text,
        identity_confirmed -> Bool,
        intoxication_check -> Text,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    dose_reversals (id) {
        id -> Text,
        dose_id -> Text,
        patient_id -> Text,
        reason -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    dose_reversal_confirmations (reversal_id) {
        reversal_id -> Text,
        dose_id -> Text,
        patient_id -> Text,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::table! {
    late_corrections (id) {
        id -> Text,
        dose_id -> Text,
        patient_id -> Text,
        site_id -> Text,
        dose_day -> Date,
        reason -> Text,
        requested_by -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    late_correction_confirmations (late_correction_id) {
        late_correction_id -> Text,
        dose_id -> Text,
        patient_id -> Text,
        site_id -> Text,
        requested_by -> Text,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::table! {
    withheld_doses (id) {
        id -> Text,
        patient_id -> Text,
        site_id -> Text,
        dose_day -> Date,
        intoxication_check -> Text,
        nurse_id -> Text,
        at -> Timestamp,
        note -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (staff_id, key) {
        staff_id -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rehab_cases (id) {
        id -> Text,
        case_ref -> Nullable<Text>,
        patient_id -> Text,
        kind -> Text,
        decision_date -> Date,
        reported_on -> Nullable<Date>,
        township -> Text,
        worker_id -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    rehab_case_events (id) {
        id -> Text,
        case_id -> Text,
        patient_id -> Text,
        kind -> Text,
        event_date -> Date,
        note -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    drug_tests (id) {
        id -> Text,
        patient_id -> Text,
        kind -> Text,
        sampled_on -> Date,
        selection_id -> Nullable<Text>,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    test_results (test_id) {
        test_id -> Text,
        patient_id -> Text,
        result -> Text,
        recorded_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    police_notifications (test_id) {
        test_id -> Text,
        patient_id -> Text,
        notified_at -> Timestamp,
        police_unit -> Text,
        note -> Nullable<Text>,
        notified_by -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    urine_selections (id) {
        id -> Text,
        site_id -> Text,
        selection_date -> Date,
        seed -> Text,
        wanted -> Integer,
        candidates -> Integer,
        patient_ids -> Text,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alerts (id) {
        id -> Text,
        patient_id -> Text,
        kind -> Text,
        episode_key -> Text,
        case_id -> Nullable<Text>,
        message -> Text,
        details -> Text,
        opened_at -> Timestamp,
    }
}

diesel::table! {
    alert_acknowledgements (alert_id) {
        alert_id -> Text,
        note -> Text,
        staff_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    alert_resolutions (alert_id) {
        alert_id -> Text,
        reason -> Text,
        staff_id -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    disclosures (id) {
        id -> Text,
        staff_id -> Text,
        patient_id -> Text,
        at -> Timestamp,
        basis -> Text,
        case_id -> Nullable<Text>,
        what -> Text,
    }
}

diesel::table! {
    sweep_runs (id) {
        id -> Text,
        cause -> Text,
        sweep_date -> Date,
        started_at -> Timestamp,
        finished_at -> Timestamp,
        patients -> Integer,
        opened -> Integer,
        resolved -> Integer,
        dropouts -> Integer,
        due_tests -> Integer,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        name -> Text,
        concentration_mg_per_ml -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    site_products (id) {
        id -> Text,
        site_id -> Text,
        product_id -> Text,
        set_by -> Text,
        set_at -> Timestamp,
    }
}

diesel::table! {
    home_visit_authorizations (id) {
        id -> Text,
        patient_id -> Text,
        reason -> Text,
        valid_from -> Date,
        valid_to -> Date,
        doctor_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    home_visit_schedules (id) {
        id -> Text,
        patient_id -> Text,
        site_id -> Text,
        weekdays -> Text,
        from_date -> Date,
        to_date -> Nullable<Date>,
        position -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    home_visit_schedule_ends (schedule_id) {
        schedule_id -> Text,
        patient_id -> Text,
        last_day -> Date,
        reason -> Text,
        ended_by -> Text,
        ended_at -> Timestamp,
    }
}

diesel::table! {
    home_visits (id) {
        id -> Text,
        schedule_id -> Text,
        patient_id -> Text,
        site_id -> Text,
        visit_day -> Date,
        position -> Integer,
        planned_at -> Timestamp,
    }
}

diesel::table! {
    home_visit_steps (id) {
        id -> Text,
        visit_id -> Text,
        patient_id -> Text,
        site_id -> Text,
        visit_day -> Date,
        step -> Text,
        outcome -> Nullable<Text>,
        deci_mg -> Nullable<Integer>,
        portion -> Nullable<Integer>,
        product_id -> Nullable<Text>,
        centi_ml -> Nullable<Integer>,
        observed_at -> Nullable<Timestamp>,
        dose_id -> Nullable<Text>,
        note -> Nullable<Text>,
        staff_id -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    stock_entries (id) {
        id -> Text,
        site_id -> Text,
        product_id -> Text,
        kind -> Text,
        centi_ml -> Integer,
        lot -> Nullable<Text>,
        supplier -> Nullable<Text>,
        counterpart_site_id -> Nullable<Text>,
        transfer_id -> Nullable<Text>,
        reverses_id -> Nullable<Text>,
        reason -> Text,
        entered_by -> Text,
        entered_at -> Timestamp,
    }
}

diesel::table! {
    stock_entry_confirmations (entry_id) {
        entry_id -> Text,
        site_id -> Text,
        transfer_id -> Nullable<Text>,
        reverses_id -> Nullable<Text>,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::table! {
    day_closes (id) {
        id -> Text,
        site_id -> Text,
        product_id -> Text,
        close_day -> Date,
        counted_cml -> Integer,
        expected_cml -> Integer,
        incident_note -> Nullable<Text>,
        requested_by -> Text,
        requested_at -> Timestamp,
    }
}

diesel::table! {
    day_close_confirmations (close_id) {
        close_id -> Text,
        site_id -> Text,
        product_id -> Text,
        close_day -> Date,
        counted_cml -> Integer,
        expected_cml -> Integer,
        confirmed_by -> Text,
        confirmed_at -> Timestamp,
    }
}

diesel::joinable!(staff_sites -> staff (staff_id));
diesel::joinable!(staff_sites -> sites (site_id));
diesel::joinable!(staff_townships -> staff (staff_id));
diesel::joinable!(sessions -> staff (staff_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(patients -> sites (home_site_id));
diesel::joinable!(order_activations -> orders (order_id));
diesel::joinable!(doses -> sites (site_id));
diesel::joinable!(doses -> patients (patient_id));
diesel::joinable!(offline_doses -> doses (dose_id));
diesel::joinable!(patient_name_grams -> patients (patient_id));
diesel::joinable!(alert_acknowledgements -> alerts (alert_id));
diesel::joinable!(alert_resolutions -> alerts (alert_id));
diesel::joinable!(test_results -> drug_tests (test_id));
diesel::joinable!(police_notifications -> drug_tests (test_id));

diesel::allow_tables_to_appear_in_same_query!(
    sites,
    staff,
    staff_sites,
    staff_townships,
    sessions,
    refresh_tokens,
    login_attempts,
    audit_log,
    audit_rows,
    audit_head,
    counters,
    patients,
    patient_name_grams,
    patient_status_changes,
    patient_photos,
    orders,
    order_activations,
    reviews,
    ecgs,
    guest_dosing,
    guest_dosing_releases,
    absences,
    doses,
    dose_reversals,
    dose_reversal_confirmations,
    late_corrections,
    late_correction_confirmations,
    withheld_doses,
    offline_doses,
    offline_incidents,
    idempotency_keys,
    rehab_cases,
    rehab_case_events,
    drug_tests,
    test_results,
    police_notifications,
    urine_selections,
    alerts,
    alert_acknowledgements,
    alert_resolutions,
    disclosures,
    sweep_runs,
    products,
    site_products,
    home_visit_authorizations,
    home_visit_schedules,
    home_visit_schedule_ends,
    home_visits,
    home_visit_steps,
    stock_entries,
    stock_entry_confirmations,
    day_closes,
    day_close_confirmations,
);
