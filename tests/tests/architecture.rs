//! The architecture, checked rather than described: every module says what
//! it is in a `//!` line, every module list in a `lib.rs` or `mod.rs` names
//! every module it declares, and the crates depend only on what
//! ARCHITECTURE.md allows (read from `cargo metadata`, so a new dependency
//! that breaks a rule fails here, not in review).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// Our crates' source directories.
const SOURCE_DIRS: &[&str] = &[
    "core/src",
    "store/src",
    "desk/src",
    "webkit/src",
    "dashboard/src",
    "resident/src",
    "centre/src",
    "district/src",
    "kiosk/src",
    "cli/src",
    "device-agents/src",
    "hardware/src",
    "provisioning/src",
    "tests/src",
    "link/src",
    "fuzzing/src",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn all_sources() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in SOURCE_DIRS {
        rust_files(&workspace().join(dir), &mut files);
    }
    files.sort();
    files
}

#[test]
fn every_module_starts_with_a_doc_line_saying_what_it_is() {
    let missing: Vec<String> = all_sources()
        .into_iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            !first.starts_with("//!")
        })
        .map(|f| f.strip_prefix(workspace()).unwrap().display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` doc line: {missing:#?}"
    );
}

/// The `pub mod x;` lines of a file, and its `//!` text.
fn declared_modules(text: &str) -> (Vec<String>, String) {
    let doc: String = text
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mods = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .filter_map(|rest| rest.strip_suffix(';'))
        .map(str::to_owned)
        .collect();
    (mods, doc)
}

#[test]
fn every_module_list_names_every_public_module() {
    let mut gaps = Vec::new();
    for f in all_sources() {
        let name = f.file_name().unwrap().to_str().unwrap();
        if name != "lib.rs" && name != "mod.rs" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let (mods, doc) = declared_modules(&text);
        for m in mods {
            if !doc.contains(&format!("`{m}`")) && !doc.contains(&format!("`{m}::")) {
                gaps.push(format!(
                    "{}: `{m}`",
                    f.strip_prefix(workspace()).unwrap().display()
                ));
            }
        }
    }
    assert!(
        gaps.is_empty(),
        "public modules missing from their parent's `//!` list: {gaps:#?}"
    );
}

#[test]
fn every_source_file_is_a_declared_module() {
    // A file nobody declares is dead code that still looks alive.
    let mut orphans = Vec::new();
    for f in all_sources() {
        let name = f.file_stem().unwrap().to_str().unwrap().to_owned();
        if ["lib", "main", "mod"].contains(&name.as_str()) || f.parent().unwrap().ends_with("bin") {
            continue;
        }
        let dir = f.parent().unwrap();
        let parents = [
            dir.join("mod.rs"),
            dir.join("lib.rs"),
            dir.join("main.rs"),
            dir.with_extension("rs"),
        ];
        let declared = parents.iter().filter(|p| p.exists()).any(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines().any(|l| {
                let l = l.trim();
                l == format!("mod {name};")
                    || l == format!("pub mod {name};")
                    || l == format!("pub(crate) mod {name};")
            })
        });
        if !declared {
            orphans.push(f.strip_prefix(workspace()).unwrap().display().to_string());
        }
    }
    assert!(
        orphans.is_empty(),
        "source files no module declares: {orphans:#?}"
    );
}

/// Each package's normal (non-dev) dependencies, by name, transitively.
fn normal_dependencies() -> HashMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: HashMap<String, String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // id -> ids of its normal and build dependencies.
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for node in meta["resolve"]["nodes"].as_array().unwrap() {
        let deps = node["deps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| {
                d["dep_kinds"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build")
            })
            .map(|d| d["pkg"].as_str().unwrap().to_owned())
            .collect();
        edges.insert(node["id"].as_str().unwrap().to_owned(), deps);
    }
    let mut closure = HashMap::new();
    for member in meta["workspace_members"].as_array().unwrap() {
        let member = member.as_str().unwrap();
        let mut seen = BTreeSet::new();
        let mut stack = vec![member.to_owned()];
        while let Some(id) = stack.pop() {
            for d in edges.get(&id).into_iter().flatten() {
                if seen.insert(names[d].clone()) {
                    stack.push(d.clone());
                }
            }
        }
        closure.insert(names[member].clone(), seen);
    }
    closure
}

/// Each workspace package's direct normal dependencies, by name, and the
/// directory of each.
fn workspace_packages() -> Vec<(String, BTreeSet<String>, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--no-deps"])
        .current_dir(workspace())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success());
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let direct = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            let dir = Path::new(p["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_owned();
            (p["name"].as_str().unwrap().to_owned(), direct, dir)
        })
        .collect()
}

/// The Keting crates in `deps` other than `allowed`.
fn keting_crates_but<'a>(deps: &'a BTreeSet<String>, allowed: &[&str]) -> Vec<&'a String> {
    deps.iter()
        .filter(|d| d.starts_with("keting-") && !allowed.contains(&d.as_str()))
        .collect()
}

fn forbidden<'a>(deps: &'a BTreeSet<String>, rules: &[&str]) -> Vec<&'a String> {
    deps.iter()
        .filter(|d| {
            rules
                .iter()
                .any(|r| d.as_str() == *r || (r.ends_with('*') && d.starts_with(&r[..r.len() - 1])))
        })
        .collect()
}

#[test]
fn the_crates_depend_only_on_what_the_architecture_allows() {
    let deps = normal_dependencies();
    // The core: rules only. No runtime, no database, no screen, no wires.
    let core = forbidden(
        &deps["keting-core"],
        &[
            "tokio",
            "rusqlite",
            "slint",
            "i-slint-*",
            "keting-hardware",
            "tokio-modbus",
            "gpiocdev",
            "rumqttc",
            "rumqttd",
            "evdev",
            "keting-*",
        ],
    );
    assert!(core.is_empty(), "keting-core depends on {core:?}");
    // The centre: everything but the screen.
    let centre = forbidden(
        &deps["keting-centre"],
        &["slint", "i-slint-*", "keting-kiosk", "winit"],
    );
    assert!(centre.is_empty(), "keting-centre depends on {centre:?}");
    // The device agents and the provisioning tool know nothing of the centre or the screen.
    for agent in [
        "keting-device-agents",
        "keting-provisioning",
        "keting-hardware",
    ] {
        let bad = forbidden(
            &deps[agent],
            &[
                "slint",
                "i-slint-*",
                "keting-kiosk",
                "keting-centre",
                "rumqttd",
            ],
        );
        assert!(bad.is_empty(), "{agent} depends on {bad:?}");
    }
    // The link is shared by the centre and the agents: it knows neither,
    // nor the wires.
    let link = forbidden(
        &deps["keting-link"],
        &[
            "slint",
            "i-slint-*",
            "keting-centre",
            "keting-device-agents",
            "keting-hardware",
            "keting-kiosk",
            "rumqttd",
        ],
    );
    assert!(link.is_empty(), "keting-link depends on {link:?}");
    // The hardware crate has the wires, not the rules.
    let hw = forbidden(&deps["keting-hardware"], &["keting-core"]);
    assert!(hw.is_empty(), "keting-hardware depends on {hw:?}");
    // And the check can fail: the kiosk does link Slint.
    assert!(deps["keting-kiosk"].contains("slint"));
}

#[test]
fn the_layers_are_crates_and_each_knows_only_what_lies_below_it() {
    let deps = normal_dependencies();
    // The store: the database and its queries. No rules but the core's
    // types, no runtime, no web, no devices.
    let store = keting_crates_but(&deps["keting-store"], &["keting-core"]);
    assert!(store.is_empty(), "keting-store depends on {store:?}");
    let store = forbidden(
        &deps["keting-store"],
        &["tokio", "axum", "rumqttc", "rumqttd"],
    );
    assert!(store.is_empty(), "keting-store depends on {store:?}");
    // The desks: the use cases on the store and the core (and the
    // provisioning site directory a technician's desk changes); no surface,
    // no web, no running service, no broker.
    let desk = forbidden(
        &deps["keting-desk"],
        &[
            "keting-centre",
            "keting-webkit",
            "keting-kiosk",
            "keting-district",
            "axum",
            "rumqttd",
            "slint",
        ],
    );
    assert!(desk.is_empty(), "keting-desk depends on {desk:?}");
    // The web kit knows no Keting crate but the core, and no database.
    let webkit = keting_crates_but(&deps["keting-webkit"], &["keting-core"]);
    assert!(webkit.is_empty(), "keting-webkit depends on {webkit:?}");
    let webkit = forbidden(&deps["keting-webkit"], &["rusqlite", "tokio-postgres"]);
    assert!(webkit.is_empty(), "keting-webkit depends on {webkit:?}");
    // The district is a service of its own: the core, the link, the web
    // kit; nothing of a centre (its database, desks or service).
    let district = keting_crates_but(
        &deps["keting-district"],
        &["keting-core", "keting-link", "keting-webkit"],
    );
    assert!(
        district.is_empty(),
        "keting-district depends on {district:?}"
    );
    // (SQLite comes with the link's durable outbox; the district opens none:
    // `no_surface_reaches_the_database_but_through_the_desks` checks its
    // direct dependencies.)
    let district = forbidden(&deps["keting-district"], &["rumqttd", "slint"]);
    assert!(
        district.is_empty(),
        "keting-district depends on {district:?}"
    );
    // The staff dashboard is a surface on the desks and the web kit: it
    // knows nothing of the running service (which starts it), so the two
    // cannot import each other.
    let dashboard = forbidden(
        &deps["keting-dashboard"],
        &["keting-centre", "keting-kiosk", "rumqttd", "slint"],
    );
    assert!(
        dashboard.is_empty(),
        "keting-dashboard depends on {dashboard:?}"
    );
    // The residents' pages are a surface of their own on the desks and the
    // web kit: nothing of the service or the staff dashboard (the store only
    // through the desks: `no_surface_reaches_the_database_but_through_the_desks`).
    let residents = forbidden(
        &deps["keting-resident"],
        &[
            "keting-centre",
            "keting-kiosk",
            "keting-dashboard",
            "rumqttd",
            "slint",
        ],
    );
    assert!(
        residents.is_empty(),
        "keting-resident depends on {residents:?}"
    );
    // Nothing depends on the `kiosk` program's crate: it is the top.
    let users: Vec<_> = deps
        .iter()
        .filter(|(name, d)| d.contains("keting-cli") && name.as_str() != "keting-cli")
        .map(|(name, _)| name)
        .collect();
    assert!(users.is_empty(), "{users:?} depend on keting-cli");
    // And the check can fail: the centre does reach the store.
    assert!(deps["keting-centre"].contains("keting-store"));
}

#[test]
fn no_surface_reaches_the_database_but_through_the_desks() {
    // A surface that opens SQLite itself, or reads the store's tables, has a
    // second copy of a use case waiting to disagree with the desk's. The
    // surfaces take the records and the database handle from
    // `keting_desk::records` (types only) and call desk functions.
    for (name, direct, _) in workspace_packages() {
        let surface = [
            "keting-district",
            "keting-webkit",
            "keting-kiosk",
            "keting-cli",
            "keting-dashboard",
            "keting-resident",
        ]
        .contains(&name.as_str())
            || name.ends_with("-dashboard")
            || name.ends_with("-residents");
        if !surface {
            continue;
        }
        let bad: Vec<_> = direct
            .iter()
            .filter(|d| ["keting-store", "rusqlite"].contains(&d.as_str()))
            .collect();
        assert!(bad.is_empty(), "{name} depends directly on {bad:?}");
    }
}

#[test]
fn the_screen_is_a_library_and_the_kiosk_program_names_no_slint_type() {
    // The screen's crate has the pages and their adapters, the only Rust
    // that names Slint types; the `kiosk` program (keting-cli: the command
    // line, and the start of the screen and the centre) calls it and has
    // the command line's crates.
    let direct: HashMap<String, BTreeSet<String>> = workspace_packages()
        .into_iter()
        .map(|(name, d, _)| (name, d))
        .collect();
    let cli = forbidden(&direct["keting-cli"], &["slint", "i-slint-*"]);
    assert!(cli.is_empty(), "keting-cli depends directly on {cli:?}");
    let screen = forbidden(&direct["keting-kiosk"], &["clap", "anyhow", "rpassword"]);
    assert!(
        screen.is_empty(),
        "keting-kiosk depends directly on {screen:?}"
    );
    // And the check can fail: the program does parse a command line.
    assert!(direct["keting-cli"].contains("clap"));
}

/// Lines of Rust under `dir`.
fn rust_lines(dir: &Path) -> usize {
    let mut files = Vec::new();
    if dir.is_dir() {
        rust_files(dir, &mut files);
    }
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap().lines().count())
        .sum()
}

#[test]
fn no_crate_holds_more_than_a_quarter_of_the_code() {
    // A crate that grows past a quarter of the workspace has stopped being
    // one layer (the centre held 38 % before the store, the desks and the
    // web kit became crates of their own).
    let sizes: Vec<(String, usize)> = workspace_packages()
        .into_iter()
        .map(|(name, _, dir)| (name, rust_lines(&dir.join("src"))))
        .collect();
    let total: usize = sizes.iter().map(|(_, n)| n).sum();
    assert!(total > 10_000, "counted {total} lines: the count is broken");
    for (name, n) in &sizes {
        assert!(
            n * 4 <= total,
            "{name} holds {n} of {total} lines ({} %): split it along its layers",
            n * 100 / total
        );
    }
}

#[test]
fn the_screen_and_the_command_line_change_the_centre_only_through_its_desks() {
    // A transaction of its own or an audit row written by a surface would be
    // a second copy of a use case. (The screenshots' sample scenes are the
    // centre's `demo_scenes`, not the kiosk's.) The web dashboard is a
    // surface like the screen.
    let mut found = Vec::new();
    let mut files = Vec::new();
    rust_files(&workspace().join("kiosk/src"), &mut files);
    rust_files(&workspace().join("cli/src"), &mut files);
    rust_files(&workspace().join("dashboard/src"), &mut files);
    rust_files(&workspace().join("resident/src"), &mut files);
    for f in files {
        let rel = f.strip_prefix(workspace()).unwrap().display().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            let writes = line.contains(".write(|") || line.contains("audit::record");
            if writes {
                found.push(format!("{rel}:{}: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(found.is_empty(), "writes outside the desks: {found:#?}");
}
