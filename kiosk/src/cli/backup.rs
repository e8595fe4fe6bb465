//! `kiosk backup ...`: a consistent backup of the data directory
//! (`keting_centre::backup`), what the daily timer runs, and its checked
//! restore.

use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use keting_centre::backup;
use keting_centre::clock;
use keting_centre::data_dir::DataDir;

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Back the data directory up into a new directory under DIR (the database, consistently, while the centre runs; the site key; the kiosk's TLS files; a manifest with their hashes).
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
