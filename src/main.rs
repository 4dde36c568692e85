//! The `mmt-clinic` command: the service and its maintenance commands.

use std::io::BufRead;
use std::process::ExitCode;

use actix_web::HttpServer;
use clap::{Parser, Subcommand};

use mmt_clinic::config::Config;
use mmt_clinic::domain::staff::Role;
use mmt_clinic::seed::demo;
use mmt_clinic::services::audit::verify;
use mmt_clinic::services::audit_chain::{flush_head, read_head_file, spawn_head_writer};
use mmt_clinic::services::backup;
use mmt_clinic::services::staff::NewStaff;
use mmt_clinic::services::{staff, AppState};
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
    /// Check the audit trail: every link of the keyed chain, every row of every append-only
    /// table against the entry that recorded it, and the chain's head against the head file.
    /// Exits 1 naming what is wrong (an entry, or a row by table and id) if any history was
    /// edited, replaced, removed, inserted behind the service's back or cut from the end.
    #[command(after_help = "Example:\n  mmt-clinic verify-audit --head /var/lib/mmt-clinic/audit-head\n\n\
            Without --head, the head file the service writes (MMT_AUDIT_HEAD_FILE, or beside the SQLite \
            database) is used when it exists. A line copied from a printed register (#1234 3fa2b9c01d2e) \
            may be saved to a file and given as --head.")]
    VerifyAudit {
        /// The head file to compare with: the chain must still hold this entry with this MAC.
        #[arg(long)]
        head: Option<std::path::PathBuf>,
    },
    /// Copy the SQLite database to a file, safely, while the service runs.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: String,
    },
    /// Put a SQLite backup in place as the database (the service must be stopped). The copy
    /// is checked first: SQLite's integrity check, and its audit trail against the head
    /// written beside it. An existing database is moved aside, never overwritten.
    #[command(
        after_help = "Example:\n  systemctl stop mmt-clinic\n  mmt-clinic restore --from /backup/mmt-2026-11-30.sqlite3\n  \
            systemctl start mmt-clinic\n\nPostgreSQL: see scripts/pg-backup and deploy/postgresql.md."
    )]
    Restore {
        /// The backup file (written by `backup` or the scheduled backup).
        #[arg(long)]
        from: String,
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
    // Only the service signs tokens; a one-off command (demo, migrate, backup…) has no use
    // for the secret, so the warning would only alarm.
    if config.jwt_secret_generated && matches!(command, Command::Serve { .. }) {
        tracing::warn!(
            "MMT_JWT_SECRET is not set: a random secret is used, so everyone must sign in again after a restart"
        );
    }
    if let Command::Restore { from } = &command {
        return restore(from, config).await;
    }
    // One service per SQLite database, and no restore under it: held until the process ends.
    let _serving = match (&command, &config.database_url) {
        (Command::Serve { .. }, mmt_clinic::db::DbUrl::Sqlite(path)) if path != ":memory:" => {
            Some(backup::lock_database(std::path::Path::new(path))?)
        }
        _ => None,
    };
    let inspection = matches!(command, Command::VerifyAudit { .. } | Command::Backup { .. });
    let state = if inspection { AppState::start_for_inspection(config).await } else { AppState::start(config).await }
        .map_err(|e| e.to_string())?;
    let outcome = run_command(command, &state).await;
    if !inspection {
        // The head as this command left it (the service's own writer is stopped by now).
        if let Err(e) = flush_head(&state).await {
            tracing::warn!(error = %e.message, "cannot write the audit head file");
        }
    }
    outcome
}

async fn run_command(command: Command, state: &AppState) -> Result<ExitCode, String> {
    let state = state.clone();
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
        Command::VerifyAudit { head } => {
            let head_file = match head {
                Some(path) => Some(path),
                None => state.audit.head_file().filter(|p| p.exists()).map(|p| p.to_path_buf()),
            };
            let recorded = match &head_file {
                Some(path) => Some(read_head_file(path)?),
                None => None,
            };
            let key = state.audit.key().clone();
            let report = state.read(move |conn| verify(conn, &key, recorded.as_ref())).await.map_err(|e| e.message)?;
            println!("{report}");
            if let (Some(path), true) = (head_file, report.head_compared.is_some()) {
                println!("Head file: {}", path.display());
            }
            Ok(if report.is_intact() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Command::Backup { to } => {
            let made = backup::backup_to(&state, std::path::Path::new(&to)).await?;
            println!("Backup written to {to}.");
            println!("Its audit head (entry {}) written to {}.", made.head_seq, made.head_file.display());
            if let Some(key) = made.key_file {
                println!("Development audit key copied to {} (production keeps MMT_AUDIT_KEY apart).", key.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { .. } => unreachable!("restore runs before the database is opened"),
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
    // The audit chain's head, copied outside the database as it moves.
    let head_writer = spawn_head_writer(state.clone());
    // The daily backup at MMT_BACKUP_AT (SQLite), with rotation.
    let backups = backup::spawn_schedule(state.clone());
    server.await.map_err(|e| e.to_string())?;
    schedule.abort();
    if let Some(b) = backups {
        b.abort();
    }
    head_writer.abort();
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

/// `restore --from FILE`: checks the copy, moves the current database aside, puts the copy
/// in its place with its audit head (and, in development, its key).
async fn restore(from: &str, config: Config) -> Result<ExitCode, String> {
    use mmt_clinic::config::AuditKeySource;
    use std::path::{Path, PathBuf};
    let mmt_clinic::db::DbUrl::Sqlite(target) = config.database_url.clone() else {
        return Err("restore puts a SQLite backup in place; for PostgreSQL use scripts/pg-backup restore".into());
    };
    let source = Path::new(from);
    if !source.is_file() {
        return Err(format!("{from} is not a file"));
    }
    let head_file = backup::suffixed(source, "audit-head");
    if !head_file.is_file() {
        return Err(format!(
            "{} is missing: a backup is restored with the audit head written beside it",
            head_file.display()
        ));
    }
    let integrity = {
        let path = from.to_string();
        tokio::task::spawn_blocking(move || db::sqlite_integrity_check(&path)).await.map_err(|e| e.to_string())?
    }
    .map_err(|e| format!("cannot read {from}: {e}"))?;
    if integrity != "ok" {
        return Err(format!("{from} fails SQLite's integrity check: {integrity}"));
    }
    // The copy's audit trail, checked against its own head with the key it was written with.
    let mut check = config.clone();
    check.database_url = mmt_clinic::db::DbUrl::Sqlite(from.to_string());
    check.audit_head_file = Some(head_file.clone());
    if let AuditKeySource::File(_) = &config.audit_key {
        check.audit_key = AuditKeySource::File(backup::suffixed(source, "audit-key"));
    }
    let recorded = read_head_file(&head_file)?;
    let state = AppState::start_for_inspection(check).await.map_err(|e| e.to_string())?;
    let key = state.audit.key().clone();
    let report = state.read(move |conn| verify(conn, &key, Some(&recorded))).await.map_err(|e| e.message)?;
    drop(state);
    if !report.is_intact() {
        println!("{report}");
        return Err(format!("{from} does not verify; it was not restored"));
    }
    let target_path = PathBuf::from(&target);
    if let Some(dir) = target_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    // Not under a running service, and no service starting while the copy goes in.
    let _restoring =
        backup::lock_database(&target_path).map_err(|e| format!("{e} (systemctl stop mmt-clinic), then restore"))?;
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    if target_path.exists() {
        let aside = backup::suffixed(&target_path, &format!("before-restore-{stamp}"));
        std::fs::rename(&target_path, &aside).map_err(|e| format!("cannot move {target} aside: {e}"))?;
        println!("The database it replaces was moved to {}.", aside.display());
    }
    for extra in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{target}{extra}"));
    }
    let partial = backup::suffixed(&target_path, "restoring");
    std::fs::copy(source, &partial).map_err(|e| format!("cannot copy to {}: {e}", partial.display()))?;
    std::fs::File::open(&partial).and_then(|f| f.sync_all()).map_err(|e| e.to_string())?;
    std::fs::rename(&partial, &target_path).map_err(|e| format!("cannot put the copy in place: {e}"))?;
    if let Some(head) = &config.audit_head_file {
        std::fs::copy(&head_file, head).map_err(|e| format!("{}: {e}", head.display()))?;
    }
    if let AuditKeySource::File(key) = &config.audit_key {
        let copy_key = backup::suffixed(source, "audit-key");
        if copy_key.is_file() && !key.exists() {
            backup::copy_private(&copy_key, key).map_err(|e| format!("{}: {e}", key.display()))?;
        }
    }
    println!("Restored {from} to {target}: integrity ok, audit trail intact up to entry {}.", report_head(&report));
    Ok(ExitCode::SUCCESS)
}

fn report_head(report: &mmt_clinic::services::audit::AuditReport) -> String {
    report.head_compared.as_ref().map(|h| h.to_string()).unwrap_or_else(|| "its head".into())
}
