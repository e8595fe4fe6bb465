//! `kiosk vending ...`: the drinks machine's catalogue, restocking, a redemption followed to its outcome.

use anyhow::{Result, bail};
use clap::Subcommand;
use keting_centre::clock;
use keting_core::ids::MemberId;
use keting_desk::records::SiteRecord;
use keting_desk::records::{RedemptionState, Slot, Store};
use keting_desk::{self as desk, Actor};

#[derive(Subcommand)]
pub enum VendingCommand {
    /// Set a slot's drink, price and stock.
    Set {
        /// The machine's device id, e.g. vending.
        device: String,
        /// The slot number.
        slot: u8,
        /// The drink's Chinese name, e.g. 矿泉水.
        #[arg(long)]
        zh: String,
        /// Its English name, e.g. "Mineral water".
        #[arg(long)]
        en: String,
        /// Its price in points.
        #[arg(long)]
        price: i64,
        /// How many are in the slot.
        #[arg(long, default_value_t = 0)]
        stock: u32,
    },
    /// Add drinks to a slot.
    Restock {
        /// The machine's device id.
        device: String,
        /// The slot number.
        slot: u8,
        /// How many were put in.
        count: u32,
    },
    /// The catalogue.
    List,
    /// Redeem a member's points for a drink (the running kiosk sends it); waits for the outcome.
    Redeem {
        /// The member number.
        member: u32,
        /// The slot.
        slot: u8,
        /// The machine's device id.
        #[arg(long, default_value = "vending")]
        device: String,
        /// Do not wait for the outcome.
        #[arg(long)]
        no_wait: bool,
    },
    /// Redemptions: in progress first, then the latest settled.
    Redemptions {
        /// How many settled ones to show.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

pub fn vending_command(cmd: VendingCommand, store: &mut Store, site: &SiteRecord) -> Result<()> {
    let now = clock::now();
    let device_id = |d: &str| {
        keting_core::ids::DeviceId::new(d).map_err(|e| anyhow::anyhow!("device {d:?}: {e}"))
    };
    match cmd {
        VendingCommand::Set {
            device,
            slot,
            zh,
            en,
            price,
            stock,
        } => {
            let s = Slot {
                device: device_id(&device)?,
                slot,
                name_zh: zh,
                name_en: en,
                price,
                stock,
            };
            desk::vending::set_slot(store, Actor::CommandLine, &s, now)?;
            println!(
                "{device} slot {slot}: {} ({}), {price} points, {stock} in stock",
                s.name_zh, s.name_en
            );
        }
        VendingCommand::Restock {
            device,
            slot,
            count,
        } => {
            let id = device_id(&device)?;
            let stock =
                desk::vending::restock(store, Actor::CommandLine, &id, slot, count, now)?.stock;
            println!("{device} slot {slot}: {stock} in stock");
        }
        VendingCommand::Redeem {
            member,
            slot,
            device,
            no_wait,
        } => {
            let id = device_id(&device)?;
            let member = MemberId(member);
            let cal = site.calendar;
            let r = desk::vending::redeem(store, Actor::CommandLine, member, &id, slot, cal, now)?;
            println!(
                "{}: {} points held; the running kiosk sends the vend",
                r.id, r.points
            );
            if no_wait {
                return Ok(());
            }
            let give_up = std::time::Instant::now()
                + keting_desk::vending::RESULT_DEADLINE
                + std::time::Duration::from_secs(30);
            loop {
                let now_r = desk::vending::redemption(store, &r.id)?;
                match now_r {
                    Some(x) if x.state == RedemptionState::Committed => {
                        println!("dispensed: take your drink ({} points spent)", x.points);
                        return Ok(());
                    }
                    Some(x) if x.state == RedemptionState::Refunded => bail!(
                        "not dispensed ({}): {} points returned",
                        x.result.map_or("unknown", |o| o.as_str()),
                        x.points
                    ),
                    _ if std::time::Instant::now() > give_up => bail!(
                        "{}: no outcome yet; the kiosk keeps asking the machine and settles it (see `kiosk vending redemptions`); the points are held, not lost",
                        r.id
                    ),
                    _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
        }
        VendingCommand::Redemptions { limit } => {
            for r in desk::vending::redemptions(store, limit)? {
                println!(
                    "{}  member {:<5} {} slot {:<2} {:>4} points  {:<9} {}",
                    r.id,
                    r.member,
                    r.device.as_str(),
                    r.slot,
                    r.points,
                    format!("{:?}", r.state).to_lowercase(),
                    r.result.map_or("", |o| o.as_str())
                );
            }
        }
        VendingCommand::List => {
            for s in desk::vending::catalogue(store)? {
                println!(
                    "{:<16} {:>3}  {:<12} {:<20} {:>4} points  {:>3} in stock",
                    s.device.as_str(),
                    s.slot,
                    s.name_zh,
                    s.name_en,
                    s.price,
                    s.stock
                );
            }
        }
    }
    Ok(())
}
