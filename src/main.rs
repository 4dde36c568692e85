//! The `mmt-clinic` command: the service and its maintenance commands.

use std::io::BufRead;
use std::process::ExitCode;

use actix_web::HttpServer;
use clap::{Parser, Subcommand};

use mmt_clinic::config::Config;
use mmt_clinic::domain::staff::Role;
use mmt_clinic::services::audit::{verify_chain, Verification};
use mmt_clinic::services::staff::NewStaff;
use mmt_clinic::services::{demo, staff, AppState};
use mmt_clinic::{db, telemetry};

#[derive(Parser)]
#[command(
    name = "mmt-clinic",
    version,
    about = "Methadone clinic dispensing and scheduling service (美沙酮维持治疗管理系统)",
    long_about = "Methadone clinic dispensing and scheduling service (美沙酮维持治疗管理系统).\n\n\
        Without a command it runs the service. Settings come from environment variables or a .env \
        file in the current folder; the most important is DATABASE_URL (default: a SQLite file in \
        ./data). See README.md for the full list."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (the default). Applies database updates first.
    Serve {
        /// Load the demo network first if the database is empty (for trying it out).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database updates (migrations) and exit.
    Migrate,
    /// Create a staff account. The password is read from the first line of standard input.
    #[command(
        after_help = "Example:\n  echo 'a-long-password-1' | mmt-clinic create-user --username nurse.li \\\n      --display-name 李娜 --role nurse --site LS"
    )]
    CreateUser {
        /// Login name: 3-32 letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// The name shown on screens and registers.
        #[arg(long)]
        display_name: String,
        /// One of: admin, doctor, nurse, rehab_worker.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Site code where a doctor or nurse works (repeat for several sites).
        #[arg(long = "site")]
        sites: Vec<String>,
        /// Township a rehab worker follows (repeat for several).
        #[arg(long = "township")]
        townships: Vec<String>,
    },
    /// Fill an empty database with a demo network (5 sites, staff of every role) and print
    /// the demo logins.
    Demo,
    /// Check the audit trail's hash chain. Exits 1 and names the first broken entry if any
    /// history was edited or removed.
    VerifyAudit,
    /// Copy the SQLite database to a file, safely, while the service runs.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "role must be one of: admin, doctor, nurse, rehab_worker".to_string())
}

#[actix_web::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    let config = match Config::from_environment() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mmt-clinic: {e}");
            return ExitCode::from(2);
        }
    };
    match run(cli.command.unwrap_or(Command::Serve { demo: false }), config).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("mmt-clinic: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> Result<ExitCode, String> {
    tracing::info!(config = %config.describe(), "configuration");
    if config.jwt_secret_generated {
        tracing::warn!(
            "MMT_JWT_SECRET is not set: a random secret is used, so everyone must sign in again after a restart"
        );
    }
    let state = AppState::start(config).await.map_err(|e| e.to_string())?;
    match command {
        Command::Serve { demo } => {
            if demo {
                print_demo(&state).await?;
            }
            serve(state).await
        }
        Command::Migrate => {
            println!("Database is up to date.");
            Ok(ExitCode::SUCCESS)
        }
        Command::CreateUser { username, display_name, role, sites, townships } => {
            let password = read_password()?;
            let site_ids = site_ids_for(&state, sites).await?;
            let created = staff::create_by_system(
                &state,
                NewStaff { username, password, display_name, role, site_ids, townships },
            )
            .await
            .map_err(|e| e.message)?;
            println!("Created {} ({}), id {}.", created.username, created.role.as_str(), created.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => {
            print_demo(&state).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::VerifyAudit => {
            let outcome = state.read(verify_chain).await.map_err(|e| e.message)?;
            match outcome {
                Verification::Intact { entries } => {
                    println!("Audit trail intact: {entries} entries, every link verified.");
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken(b) => {
                    println!("AUDIT TRAIL BROKEN: {b}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Backup { to } => {
            if state.backend != db::Backend::Sqlite {
                return Err(
                    "backup copies the SQLite database; for PostgreSQL use pg_dump (see deploy/postgresql.md)".into()
                );
            }
            let path = std::path::Path::new(&to);
            if path.exists() {
                return Err(format!("{to} already exists; choose a new file"));
            }
            let folder = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            if !folder.is_dir() {
                return Err(format!("the folder {} does not exist; create it first", folder.display()));
            }
            let target = to.clone();
            state
                .read(move |conn| {
                    db::backup_sqlite(conn, &target).map_err(|e| mmt_clinic::error::AppError::validation(e.to_string()))
                })
                .await
                .map_err(|e| format!("could not write {to}: {}", e.message))?;
            println!("Backup written to {to}.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(state: AppState) -> Result<ExitCode, String> {
    let bind = state.config.bind;
    let app_state = state.clone();
    let server = HttpServer::new(move || mmt_clinic::app(app_state.clone()))
        .bind(bind)
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?
        // On SIGTERM/SIGINT: stop accepting, let in-flight requests finish.
        .shutdown_timeout(30)
        .run();
    tracing::info!(%bind, database = state.backend.name(), "mmt-clinic is serving; open http://{bind}/");
    // The attendance/alert sweep: now, then every night at MMT_SWEEP_AT.
    let schedule = mmt_clinic::services::sweep::spawn_schedule(state.clone());
    server.await.map_err(|e| e.to_string())?;
    schedule.abort();
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn print_demo(state: &AppState) -> Result<(), String> {
    let outcome = demo::load(state).await.map_err(|e| e.message)?;
    if !outcome.created {
        println!("The database already has data; demo data was not added.");
        return Ok(());
    }
    println!("Demo network loaded. Every demo account's password is: {}", demo::DEMO_PASSWORD);
    println!("{:<14} {:<13} {:<8} where", "username", "role", "name");
    for l in &outcome.logins {
        println!("{:<14} {:<13} {:<8} {}", l.username, l.role.as_str(), l.display_name, l.where_);
    }
    println!(
        "{} patients with up to 90 days of history, {} community detox/rehab cases, {} drug tests.",
        outcome.patients, outcome.rehab_cases, outcome.drug_tests
    );
    if let Some(s) = outcome.sweep {
        println!(
            "Attendance sweep: {} alerts opened, {} patients marked as dropped out, {} tests due today.",
            s.opened, s.dropouts, s.due_tests
        );
    }
    Ok(())
}

fn read_password() -> Result<String, String> {
    eprintln!("Password (first line of standard input):");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

async fn site_ids_for(state: &AppState, codes: Vec<String>) -> Result<Vec<String>, String> {
    state
        .read(move |conn| {
            let mut ids = Vec::new();
            for code in codes {
                match db::sites::find_by_code(conn, &code.to_uppercase())? {
                    Some(site) => ids.push(site.id),
                    None => return Err(mmt_clinic::error::AppError::validation(format!("no site has code {code}"))),
                }
            }
            Ok(ids)
        })
        .await
        .map_err(|e| e.message)
}
