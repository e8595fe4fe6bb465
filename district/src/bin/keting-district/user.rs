//! `keting-district user add|list|remove`: the district dashboard's users
//! (the password typed twice at a terminal, or one line of standard
//! input; never on the command line).

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use keting_district::database;

use crate::flags::{command_line_actor, now_ms};

/// The district dashboard's users: add one (the password from standard input, or typed twice at a terminal), list them, remove one.
#[derive(Args)]
pub struct UserArgs {
    #[command(subcommand)]
    command: UserCommand,
    /// PostgreSQL, as a libpq connection string.
    #[arg(long, value_name = "CONN", env = "KETING_DISTRICT_DB", global = true)]
    postgres: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        /// Their sign-in name.
        name: String,
        /// manager (sees everything, manages users) or observer (sees everything).
        #[arg(long, value_parser = ["manager", "observer"])]
        role: String,
    },
    /// List the users and their roles.
    List,
    /// Remove a user (never the last manager).
    Remove {
        /// Their sign-in name.
        name: String,
    },
}

/// A new password: typed twice at a terminal, or one line of standard input.
fn read_password() -> Result<String> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        let a = rpassword::prompt_password("password (10 characters or more): ")?;
        let b = rpassword::prompt_password("again: ")?;
        if a != b {
            bail!("the two passwords differ");
        }
        Ok(a)
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// Runs `user`.
pub async fn run(args: UserArgs) -> Result<ExitCode> {
    let UserArgs { command, postgres } = args;
    let Some(postgres) = postgres else {
        bail!("name the database: --postgres CONN (or KETING_DISTRICT_DB)");
    };
    let mut db = database::connect(&postgres)
        .await
        .context("cannot reach the district's PostgreSQL")?;
    database::migrate(&mut db).await?;
    let by = command_line_actor();
    match command {
        UserCommand::Add { name, role } => {
            let role = keting_district::users::DistrictRole::parse(&role)
                .context("a role is manager or observer")?;
            let password = read_password()?;
            let user =
                keting_district::users::add(&mut db, &by, &name, role, &password, now_ms()).await?;
            println!("added {} ({})", user.name, user.role.as_str());
        }
        UserCommand::List => {
            for u in keting_district::users::list(&db).await? {
                println!("{}\t{}", u.name, u.role.as_str());
            }
        }
        UserCommand::Remove { name } => {
            if keting_district::users::remove(&mut db, &by, &name, now_ms()).await? {
                println!("removed {name}");
            } else {
                bail!("no user named {name:?}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
