//! The HTTP layer: routes, extractors, error mapping, the static UI and the OpenAPI
//! document. It holds no rules: each handler calls one use case.

pub mod extract;
pub mod handlers;
pub mod middleware;
pub mod static_files;

use crate::error::ErrorCode;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::header::LOCATION;
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use crate::error::AppError;
use crate::services::AppState;
use handlers::{
    admin, alerts, audit, auth, dispensing, drug_tests, health, home_visits, orders, patients, rehab, reports, sites,
    staff, stock,
};

/// Largest JSON body accepted (photos have their own upload limit).
pub const JSON_LIMIT: usize = 64 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "mmt-clinic API",
        description = "Methadone maintenance treatment network: observed dosing, custody ledger, \
                       community-rehab link. Errors are `{\"error\":{\"code\",\"message\",\"details\"}}` \
                       with the stable codes named in each response.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-in"),
        (name = "admin", description = "Rules and the test clock"),
        (name = "sites", description = "The clinic and its dispensing points"),
        (name = "staff", description = "Staff accounts"),
        (name = "audit", description = "The audit trail"),
        (name = "patients", description = "Enrolment, search, status, photos, guest dosing, absences"),
        (name = "orders", description = "Dose orders, approvals, missed-dose reviews, ECGs"),
        (name = "dispensing", description = "Observed dosing, reversals, late corrections, the queue, history, attendance"),
        (name = "alerts", description = "Missed-treatment and test alerts, the sweep"),
        (name = "tests", description = "Urine and hair tests, due lists, random selection, police notifications"),
        (name = "rehab", description = "Community detox / rehab cases, import, export, disclosures"),
        (name = "home_visits", description = "Home-visit authorizations, schedules, run sheets and the visit's custody steps"),
        (name = "stock", description = "The controlled-substance ledger: products, entries, transfers, day close"),
        (name = "reports", description = "Printable registers and monthly reports (PDF with Chinese text embedded; the rehab attendance report also as CSV)"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match &err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            AppError::payload_too_large()
        }
        JsonPayloadError::ContentType => AppError::unsupported_media_type(),
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            AppError::validation(format!("The request body does not fit: {e}"))
        }
        JsonPayloadError::Deserialize(_) => {
            AppError::new(ErrorCode::MalformedJson, "The request body is not valid JSON.")
        }
        _ => AppError::new(ErrorCode::BadRequest, "The request body could not be read."),
    };
    app.into()
}

fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::validation(format!("The query string does not fit: {err}")).into()
}

fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::not_found().into()
}

/// The whole application: API, OpenAPI document and docs, static UI.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let test_clock = state.clock.is_settable();
    let mut api_v1 = scope::scope("/api/v1")
        .configure(auth::routes)
        .configure(admin::routes)
        .configure(sites::routes)
        .configure(staff::routes)
        .configure(audit::routes)
        .configure(patients::routes)
        .configure(orders::routes)
        .configure(dispensing::routes)
        .configure(alerts::routes)
        .configure(drug_tests::routes)
        .configure(rehab::routes)
        .configure(home_visits::routes)
        .configure(stock::routes)
        .configure(reports::routes);
    if test_clock {
        api_v1 = api_v1.service(admin::set_clock);
    }

    let (app, openapi) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .app_data(web::Data::new(state))
        .app_data(web::JsonConfig::default().limit(JSON_LIMIT).error_handler(json_error))
        .app_data(web::QueryConfig::default().error_handler(query_error))
        .app_data(web::PathConfig::default().error_handler(path_error))
        .app_data(web::PayloadConfig::default().limit(crate::services::patients::PHOTO_LIMIT + 1024))
        .service(health::healthz)
        .service(health::metrics)
        .service(api_v1)
        .split_for_parts();
    let openapi = document_common_refusals(openapi);

    let app = app
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", openapi))
        .service(
            web::resource("/api/docs")
                .get(|| async { HttpResponse::PermanentRedirect().insert_header((LOCATION, "/api/docs/")).finish() }),
        )
        .default_service(web::to(static_files::serve));
    with_common_middleware(app)
}

/// Documents, on every operation, the refusals any request may meet before or beside its
/// use case (a body that is not JSON, too large or of another type; a query or body that
/// does not fit; a path id that names nothing; a user over their rate; a database that does
/// not answer), where the operation does not already describe that status.
fn document_common_refusals(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let error = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build())
            .build()
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        if path == "/healthz" || path == "/metrics" {
            continue;
        }
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.patch,
            &mut item.delete,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ];
        for op in operations.into_iter().flatten() {
            let has_body = op.request_body.is_some();
            let params = op.parameters.as_deref().unwrap_or_default();
            let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
            let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);
            let signed_in = op.responses.responses.contains_key("401");
            let mut add = |status: &str, description: &str| {
                op.responses.responses.entry(status.to_string()).or_insert_with(|| error(description).into());
            };
            if has_body {
                add("400", "`malformed_json`: the body is not valid JSON (or `bad_request`)");
                add("413", "`payload_too_large`: the body is too large");
                add("415", "`unsupported_media_type`: the body is not of the documented type");
            }
            if has_body || has_query {
                add("422", "`validation_failed`: the body or query does not fit");
            }
            if has_path {
                add("404", "`not_found`: nothing has this id");
            }
            if signed_in {
                add("429", "`too_many_requests`: over the user's request rate; wait `Retry-After` seconds");
            }
            add("503", "`service_unavailable`: the database does not answer, or the request took too long; retry after `Retry-After` seconds");
        }
    }
    doc
}

/// The middleware every response passes through (outermost last): security headers, our
/// JSON error bodies, the time limit, panics as 500 `internal_error`, and the request log.
pub fn with_common_middleware<T, B>(
    app: App<T>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
>
where
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    <T::Service as Service<ServiceRequest>>::Future: 'static,
    B: MessageBody + 'static,
{
    app.wrap(DefaultHeaders::new().add(("X-Content-Type-Options", "nosniff")).add(("Referrer-Policy", "no-referrer")))
        .wrap_fn(middleware::json_errors)
        .wrap_fn(middleware::time_limit)
        .wrap_fn(middleware::catch_panic)
        .wrap_fn(middleware::limit_head)
        .wrap_fn(middleware::log_request)
}
