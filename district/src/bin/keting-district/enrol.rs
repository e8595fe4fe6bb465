//! `keting-district enrol`: an NKey per centre, each centre's
//! `district.toml`, the ingest's key, and the cluster's authorization block
//! covering every centre enrolled so far.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use keting_district::enrolment;

/// Issue NKeys: one per centre named (its seed 0600 and its district.toml in OUT/CENTRE/), the ingest's (OUT/ingest.nk) if missing, and OUT/authorization.conf for the three nats-server configurations, covering every centre under OUT. Centres enrolled before keep their keys.
#[derive(Args)]
pub struct EnrolArgs {
    /// The district's name on the wire.
    #[arg(long, value_name = "NAME")]
    district: String,
    /// Where the keys and files go (keep it private: it holds every seed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The servers each centre's district.toml names (comma-separated): tls://HOST:PORT.
    #[arg(
        long = "servers",
        value_name = "URL",
        value_delimiter = ',',
        required = true
    )]
    servers: Vec<String>,
    /// The district's CA certificate, copied beside each district.toml (TLS is then required).
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The centres to enrol (1 to 32 of a-z, 0-9 and -).
    #[arg(value_name = "CENTRE")]
    centres: Vec<String>,
}

/// Runs `enrol`.
pub async fn run(args: EnrolArgs) -> Result<ExitCode> {
    let EnrolArgs {
        district,
        out,
        servers,
        ca,
        centres,
    } = args;
    if !keting_core::district::valid_name(&district) {
        bail!("--district {district:?}: 1 to 32 of a-z, 0-9 and -");
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let ingest_seed = out.join("ingest.nk");
    if !ingest_seed.exists() {
        let key = enrolment::new_user_key()?;
        keting_link::atomic_file::write(&ingest_seed, format!("{}\n", key.seed).as_bytes(), 0o600)
            .with_context(|| format!("cannot write {}", ingest_seed.display()))?;
    }
    for centre in &centres {
        match enrolment::enrol_centre(&out, &district, centre, &servers, ca.as_deref()) {
            Ok(_) => println!("enrolled {centre}: {}", out.join(centre).display()),
            Err(enrolment::EnrolError::Exists(_)) => {
                println!("{centre} was enrolled before: its key is kept")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))
    };
    let ingest_public = enrolment::public_of_seed(&read(&ingest_seed)?)?;
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&out)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        let seed = path.join(format!("{name}.nk"));
        if path.is_dir() && seed.exists() {
            all.push((name, enrolment::public_of_seed(&read(&seed)?)?));
        }
    }
    all.sort();
    let conf = out.join("authorization.conf");
    keting_link::atomic_file::write(
        &conf,
        enrolment::authorization(&district, &ingest_public, &all).as_bytes(),
        0o644,
    )
    .with_context(|| format!("cannot write {}", conf.display()))?;
    println!(
        "{} centres in {}; include it in each nats-server configuration and reload the servers",
        all.len(),
        conf.display()
    );
    Ok(ExitCode::SUCCESS)
}
