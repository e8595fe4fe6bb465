//! `kiosk points ...`: volunteer points awarded and reversed, balances, history, the ledger's check, the policy.

use anyhow::{Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::MemberId;
use keting_desk::records::SiteRecord;
use keting_desk::records::Store;
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum PointsCommand {
    /// Award an activity's points to volunteers (each in its own transaction; refusals say why).
    Award {
        /// The member numbers.
        #[arg(required = true)]
        ids: Vec<u32>,
        /// The activity, e.g. 图书整理; created for today if new.
        #[arg(long)]
        activity: String,
        /// Its points.
        #[arg(long)]
        points: i64,
    },
    /// Reverse an award (a correction is a new posting; nothing is edited).
    Reverse {
        /// The award's posting number (see `points history`).
        posting: i64,
        /// Why, for the audit.
        #[arg(long)]
        reason: String,
    },
    /// A member's balance (points past their lifetime expire first).
    Balance {
        /// The member number.
        id: u32,
    },
    /// A member's postings, newest first.
    History {
        /// The member number.
        id: u32,
        /// How many lines.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
    /// Every ledger account's balance, and whether they sum to zero.
    Ledger,
    /// Show or change the rules: caps per award and per day, and how long points last.
    Policy {
        /// The most one award gives.
        #[arg(long)]
        max_award: Option<i64>,
        /// The most a member earns in a day.
        #[arg(long)]
        daily_earn_cap: Option<i64>,
        /// The most a member spends in a day.
        #[arg(long)]
        daily_spend_cap: Option<i64>,
        /// Points expire this many months after they were earned.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=120))]
        expiry_months: Option<u32>,
    },
}

pub fn points_command(cmd: PointsCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let cal = site.calendar;
    match cmd {
        PointsCommand::Award {
            ids,
            activity,
            points: worth,
        } => {
            let mut refused = 0;
            for id in ids {
                let member = MemberId(id);
                match desk::points::award(
                    store,
                    Actor::CommandLine,
                    member,
                    &activity,
                    worth,
                    cal,
                    now,
                ) {
                    Ok(a) => println!(
                        "member {member}: +{worth} ({activity}), balance {} (posting {})",
                        a.balance, a.posting
                    ),
                    Err(e) => {
                        refused += 1;
                        eprintln!("member {member}: refused: {e}");
                    }
                }
            }
            if refused > 0 {
                bail!("{refused} award(s) refused");
            }
        }
        PointsCommand::Reverse { posting, reason } => {
            let r = desk::points::reverse(store, Actor::CommandLine, posting, &reason, cal, now)?;
            println!("posting {posting} reversed by posting {r}");
        }
        PointsCommand::Balance { id } => {
            let member = MemberId(id);
            let (expired, balance) = desk::points::balance(store, member, cal, now)?;
            if expired > 0 {
                println!("member {member}: {expired} points expired just now");
            }
            println!("member {member}: {balance} points");
        }
        PointsCommand::History { id, limit } => {
            let member = MemberId(id);
            for line in desk::points::history(store, member, limit)? {
                let t = cal.local(line.at);
                println!(
                    "{:>6}  {:04}-{:02}-{:02} {:02}:{:02}  {:<8}  {:>+6}  {}{}  ({})",
                    line.posting,
                    t.year(),
                    u8::from(t.month()),
                    t.day(),
                    t.hour(),
                    t.minute(),
                    line.kind.as_str(),
                    line.points,
                    line.what,
                    if line.reversed { "  [reversed]" } else { "" },
                    line.actor
                );
            }
        }
        PointsCommand::Ledger => {
            let (all, sum) = desk::points::ledger(store)?;
            for (account, b) in &all {
                println!("{account:<16}  {b:>10}");
            }
            println!(
                "{:<16}  {sum:>10}  {}",
                "sum",
                if sum == 0 {
                    "(zero: the ledger balances)"
                } else {
                    "NOT ZERO"
                }
            );
            if sum != 0 {
                bail!("the ledger does not sum to zero");
            }
        }
        PointsCommand::Policy {
            max_award,
            daily_earn_cap,
            daily_spend_cap,
            expiry_months,
        } => {
            let change = desk::points::PolicyChange {
                max_award,
                daily_earn_cap,
                daily_spend_cap,
                expiry_months,
            };
            let policy = desk::points::policy(store, Actor::CommandLine, change, now)?;
            println!(
                "one award at most {} points; per member per day: earn at most {}, spend at most {}; points expire after {} days",
                policy.max_award,
                policy.daily_earn_cap,
                policy.daily_spend_cap,
                policy.lifetime.as_secs() / (24 * 3600)
            );
        }
    }
    Ok(())
}
