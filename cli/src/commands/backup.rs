//! `kiosk backup ...`: a consistent backup of the data directory
//! (`keting_centre::backup`), what the daily timer runs, and its checked
//! restore.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use keting_centre::clock;
use keting_centre::data_dir::DataDir;
use keting_centre::{backup, backup_push};

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Back the data directory up into a new directory under DIR: the whole centre (the database, consistently, while the centre runs; the site key, the broker's password, the TLS files, the uplink key, the district's files, the provisioning site directory with its CA key) and a manifest with their hashes.
    Create {
        /// Where backups go, e.g. /var/backups/keting.
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        /// Then keep only the N newest backups of this site there (older ones are deleted; another site's never are). Without it, every backup is kept.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        keep: Option<u16>,
    },
    /// Check a backup: its manifest, every file's hash, the database's integrity.
    Verify {
        /// The backup's directory.
        backup: PathBuf,
    },
    /// Restore a backup of this site into the data directory (stop the centre first).
    Restore {
        /// The backup's directory.
        backup: PathBuf,
    },
    /// Copy a backup to another host over SSH with rsync (checked first, copied under a temporary name, compared by content, then named): BACKUP is a backup, or a directory of backups (its newest of this site goes).
    Push {
        /// A backup, or where backups go (e.g. /var/backups/keting: the newest of this site).
        backup: PathBuf,
        /// Where on which host: [USER@]HOST:PATH, e.g. keting@backup.lan:/srv/keting.
        #[arg(long, value_name = "[USER@]HOST:PATH")]
        to: keting_centre::backup_push::PushTarget,
        /// An ssh_config file to use (the host's port, user, key and known hosts); ssh never prompts, so the host's key must be known.
        #[arg(long, value_name = "FILE")]
        ssh_config: Option<PathBuf>,
    },
}

pub fn backup_command(cmd: BackupCommand, dir: &DataDir) -> Result<()> {
    match cmd {
        BackupCommand::Create { to, keep } => {
            let made = backup::create(dir, &to, clock::now())?;
            println!("{}", made.display());
            if backup::verify(&made)?
                .files
                .iter()
                .any(|(n, _)| n.starts_with("provisioning-site.d/"))
            {
                eprintln!(
                    "the backup holds the provisioning site directory, its CA key among it (files 0600): keep it as private as site.key"
                );
            }
            if let Some(keep) = keep {
                let site = backup::verify(&made)?.site;
                for old in backup::prune(&to, &site, usize::from(keep))? {
                    println!("deleted the older backup {}", old.display());
                }
            }
        }
        BackupCommand::Verify { backup: path } => {
            let m = backup::verify(&path)?;
            println!(
                "{}: site {}, schema {}, {} files, every hash and the database's integrity check pass",
                path.display(),
                m.site,
                m.schema,
                m.files.len()
            );
        }
        BackupCommand::Push {
            backup: from,
            to,
            ssh_config,
        } => {
            let chosen = backup_push::choose(dir, &from)?;
            eprintln!("pushing {} to {}:{}", chosen.display(), to.host, to.path);
            let tty = std::io::IsTerminal::is_terminal(&std::io::stdout());
            let p = backup_push::push(&chosen, &to, ssh_config.as_deref(), tty)?;
            if p.already_there {
                println!("{} is on {} already: nothing sent", p.name, to.host);
            } else {
                println!(
                    "pushed {} ({} bytes) to {}:{}/{}, every file compared by content",
                    p.name, p.bytes, to.host, to.path, p.name
                );
            }
        }
        BackupCommand::Restore { backup: path } => {
            let r = backup::restore(dir, &path)?;
            println!(
                "restored site {} from {} into {}; start the centre again",
                r.manifest.site,
                path.display(),
                dir.path().display()
            );
            if let Some(site) = &r.site_dir {
                println!(
                    "the provisioning site directory (its CA key with it) is back in {}",
                    site.display()
                );
            }
            println!(
                "events to the district are numbered from {} on, past any the old machine sent",
                r.next_event
            );
            for missing in &r.not_restored {
                println!(
                    "not restored (district.toml names it outside the data directory, so the backup does not hold it): {}",
                    missing.display()
                );
            }
        }
    }
    Ok(())
}
