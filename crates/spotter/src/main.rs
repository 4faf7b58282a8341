//! The `spotter` command: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use spotter::config::Flags;
use spotter::domain::accounts::NewAccount;
use spotter::domain::model::Role;
use spotter::{Application, Config, demo, startup};

#[derive(Parser)]
#[command(
    name = "spotter",
    version,
    about = "1:1 messaging between trainers and trainees"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (REST, WebSocket and the web dashboard).
    Serve {
        #[command(flatten)]
        config: Flags,
        /// Create the demo users when absent, and print them.
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[command(flatten)]
        config: Flags,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Push notifications.
    Push {
        #[command(subcommand)]
        command: PushCommand,
    },
    /// Import from another platform.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Copy the SQLite database (consistent while a server runs) to FILE, the media folder to
    /// FILE.media/ and the token secret to FILE.jwt-secret. PostgreSQL: use pg_dump.
    Backup {
        #[command(flatten)]
        config: Flags,
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Restore a backup made by `spotter backup` into the data folder, which must hold no
    /// database yet.
    Restore {
        #[command(flatten)]
        config: Flags,
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print the settings in force (defaults < spotter.toml < SPOTTER_* < flags) as TOML,
    /// secrets as stars: a file to start from, or a check of what a deployment runs with.
    Config {
        #[command(flatten)]
        config: Flags,
    },
    /// Print the OpenAPI document the server answers at `/api/openapi.json` (the web app's
    /// types are generated from it: scripts/web-types.sh).
    Openapi,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the audit log's hash chain: prints how many entries hold, or names the first broken
    /// one and exits 1. Reads only; safe while a server is serving.
    Verify {
        #[command(flatten)]
        config: Flags,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Copy the original platform's users, conversations, messages, images, devices and
    /// notification switches into Spotter's database, keeping every id. Run it again to copy
    /// only what changed there since. It never writes to the original's database.
    Original {
        #[command(flatten)]
        config: Flags,
        /// The original's PostgreSQL URL (read-only use).
        #[arg(long = "from", value_name = "POSTGRES_URL")]
        from: String,
        /// The original's media folder (`MEDIA_ROOT`, with `message_images/` in it).
        #[arg(long, value_name = "DIR")]
        media_dir: Option<std::path::PathBuf>,
        /// Read and report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Spotter's own new rows get ids above the original's highest plus this, so rows the
        /// original still creates before the switch never collide with Spotter's.
        #[arg(long, default_value_t = 1_000_000)]
        id_margin: i64,
    },
}

#[derive(Subcommand)]
enum PushCommand {
    /// Send a test notification to every active device of a user and print each outcome.
    Test {
        #[command(flatten)]
        config: Flags,
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user and print its id.
    Add {
        #[command(flatten)]
        config: Flags,
        #[arg(long)]
        email: String,
        #[arg(long)]
        password: String,
        #[arg(long, value_parser = ["admin", "trainer", "trainee", "ambassador"])]
        role: String,
        #[arg(long, default_value = "")]
        first_name: String,
        #[arg(long, default_value = "")]
        last_name: String,
        /// A trainee's trainer.
        #[arg(long)]
        trainer_email: Option<String>,
    },
    /// Create many trainers, each with trainees, for load tests; prints them as JSON. Users that
    /// exist already are reused, so it can run again on the same database.
    Bulk {
        #[command(flatten)]
        config: Flags,
        #[arg(long, default_value_t = 1)]
        trainers: u32,
        #[arg(long, default_value_t = 1)]
        trainees_per_trainer: u32,
        /// Emails are `<prefix>-trainer-<i>@load.test` and `<prefix>-trainee-<i>-<j>@load.test`.
        #[arg(long, default_value = "load")]
        prefix: String,
        #[arg(long)]
        password: String,
    },
    /// Erase a user's personal data, as the platform's account deletion does: a trainee (or an
    /// admin) is deleted, their conversations staying for the other party with them shown as
    /// removed; a trainer's account is emptied and deactivated, their trainees' conversations
    /// kept. Recorded in the audit log.
    Erase {
        #[command(flatten)]
        config: Flags,
        #[arg(long)]
        email: String,
        /// The admin who asked, recorded as the actor (else the operator, id 0).
        #[arg(long)]
        by_email: Option<String>,
    },
    /// Assign (or re-assign) a trainee to a trainer.
    Assign {
        #[command(flatten)]
        config: Flags,
        #[arg(long)]
        trainee_email: String,
        #[arg(long)]
        trainer_email: String,
    },
}

/// Logs on stderr: text by default, one JSON object per line with `SPOTTER_LOG_FORMAT=json`
/// (an environment setting only: logging starts before the configuration file is read).
fn init_tracing() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("spotter=info,tower_http=warn"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match std::env::var("SPOTTER_LOG_FORMAT").as_deref() {
        Ok("json") => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        Ok("text") | Err(std::env::VarError::NotPresent) => logs.init(),
        Ok(other) => anyhow::bail!("SPOTTER_LOG_FORMAT: expected text or json, got {other}"),
        Err(e) => anyhow::bail!("SPOTTER_LOG_FORMAT: {e}"),
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::parse().command;
    init_tracing()?;
    match command {
        Command::Serve { config, demo } => serve(config.load()?, demo).await,
        Command::Migrate { config } => {
            startup::state(config.load()?).await?;
            println!("Database migrated.");
            Ok(())
        }
        Command::User { command } => user(command).await,
        Command::Import {
            command:
                ImportCommand::Original {
                    config,
                    from,
                    media_dir,
                    dry_run,
                    id_margin,
                },
        } => {
            use std::io::IsTerminal;
            let options = spotter::import::Options {
                from,
                media_dir,
                dry_run,
                id_margin,
                progress: std::io::stderr().is_terminal(),
            };
            let summary = spotter::import::run(config.load()?, options).await?;
            print!("{summary}");
            Ok(())
        }
        Command::Config { config } => {
            print!("{}", config.load()?.to_toml()?);
            Ok(())
        }
        Command::Openapi => {
            use std::io::Write;
            // Written, not println!: a reader that stops early (`| head`) is no failure.
            let doc = spotter::http::openapi::document_json()?;
            match writeln!(std::io::stdout().lock(), "{doc}") {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
                _ => Ok(()),
            }
        }
        Command::Backup { config, file } => {
            let config = config.load()?;
            if config.media_store.is_some() {
                println!("Media are in the bucket (SPOTTER_MEDIA_STORE): back it up there.");
            }
            let copied =
                tokio::task::spawn_blocking(move || spotter::backup::backup(&config, &file))
                    .await??;
            println!("Backed up {copied}.");
            Ok(())
        }
        Command::Restore { config, file } => {
            let config = config.load()?;
            let copied =
                tokio::task::spawn_blocking(move || spotter::backup::restore(&config, &file))
                    .await??;
            println!("Restored {copied}.");
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { config },
        } => {
            let verified =
                spotter::domain::audit::verify_database(&config.load()?.database_url()).await?;
            match verified.broken {
                None => println!("audit log: {} entries, chain intact", verified.entries),
                Some((id, why)) => {
                    println!("audit log: entry {id} is broken ({why})");
                    std::process::exit(1);
                }
            }
            Ok(())
        }
        Command::Push {
            command: PushCommand::Test { config, email },
        } => {
            let state = startup::state(config.load()?).await?;
            let outcomes = spotter::push::test(&state, &email).await?;
            if outcomes.is_empty() {
                println!("{email} has no active device.");
            }
            for (device, outcome) in outcomes {
                println!(
                    "device {} ({}): {outcome:?}",
                    device.id,
                    device.platform.as_str()
                );
            }
            Ok(())
        }
    }
}

async fn serve(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    if with_demo {
        demo::seed(app.state()).await?;
    }
    let url = app.url();
    println!("Spotter is running at {url}");
    if with_demo {
        println!("Demo users (password \"{}\"):", demo::PASSWORD);
        for (email, role, first, last) in demo::USERS {
            println!("  {email:<20} {:<8} {first} {last}", role.as_str());
        }
    }
    if !spotter::http::web::bundle_present(app.state().config.web_dir.as_deref()) {
        println!(
            "(web dashboard not built: scripts/web-build.sh builds it; the API works without it)"
        );
    }
    app.run_until_stopped(startup::shutdown_signal()).await
}

async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            config,
            email,
            password,
            role,
            first_name,
            last_name,
            trainer_email,
        } => {
            let state = startup::state(config.load()?).await?;
            let role = Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?;
            let account = NewAccount {
                email: &email,
                password: &password,
                role,
                first_name: &first_name,
                last_name: &last_name,
                trainer_email: trainer_email.as_deref(),
            };
            let id = state
                .accounts
                .create_user(&account)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail()))?;
            println!("{id}");
        }
        UserCommand::Bulk {
            config,
            trainers,
            trainees_per_trainer,
            prefix,
            password,
        } => {
            let state = startup::state(config.load()?).await?;
            let spec = spotter::demo::Bulk {
                trainers,
                trainees_per_trainer,
                prefix: &prefix,
                password: &password,
            };
            let made = spotter::demo::bulk(&state, &spec).await?;
            println!("{}", serde_json::to_string(&made)?);
        }
        UserCommand::Erase {
            config,
            email,
            by_email,
        } => {
            let state = startup::state(config.load()?).await?;
            let find = |e: String| {
                let accounts = state.accounts.clone();
                async move {
                    accounts
                        .user_by_email(&e)
                        .await
                        .map_err(|e| anyhow::anyhow!(e.detail()))?
                        .ok_or_else(|| anyhow::anyhow!("no user with email {e}"))
                }
            };
            let user = find(email).await?;
            let by = match by_email {
                Some(e) => find(e).await?.id,
                None => spotter::domain::audit::OPERATOR,
            };
            let erased = state
                .audit
                .erase(&state.media, user.id, by, None)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail()))?;
            if !erased {
                anyhow::bail!("no user with id {}", user.id);
            }
            println!(
                "Erased the personal data of user {} ({}).",
                user.id, user.email
            );
        }
        UserCommand::Assign {
            config,
            trainee_email,
            trainer_email,
        } => {
            let state = startup::state(config.load()?).await?;
            let accounts = &state.accounts;
            let find = |e: String| async move {
                accounts
                    .user_by_email(&e)
                    .await
                    .map_err(|e| anyhow::anyhow!(e.detail()))?
                    .ok_or_else(|| anyhow::anyhow!("no user with email {e}"))
            };
            let trainee = find(trainee_email).await?;
            let trainer = find(trainer_email).await?;
            accounts
                .assign(&trainee, &trainer)
                .await
                .map_err(|e| anyhow::anyhow!(e.detail()))?;
            println!("Assigned {} to {}.", trainee.email, trainer.email);
        }
    }
    Ok(())
}
