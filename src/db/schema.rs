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
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::joinable!(staff_sites -> staff (staff_id));
diesel::joinable!(staff_sites -> sites (site_id));
diesel::joinable!(staff_townships -> staff (staff_id));
diesel::joinable!(sessions -> staff (staff_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));

diesel::allow_tables_to_appear_in_same_query!(
    sites,
    staff,
    staff_sites,
    staff_townships,
    sessions,
    refresh_tokens,
    login_attempts,
    audit_log,
    audit_head,
);
