//! `kiosk points` and `kiosk vending` from the command line: awards with
//! their refusals, a reversal with a reason, balance and history, the
//! ledger's zero sum, the catalogue.

use crate::util::TestKiosk;

fn refused(k: &TestKiosk, args: &[&str], says: &str) {
    let out = k.run(args);
    assert!(!out.status.success(), "{args:?} was accepted");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(says), "{args:?}: {err}");
}

#[test]
fn volunteers_get_points_for_an_activity_once_and_a_wrong_award_is_reversed() {
    let k = TestKiosk::new();
    let (a, _) = k.add_member("王秀英");
    let (b, _) = k.add_member("李建国");
    let (a, b) = (a.to_string(), b.to_string());
    let out = k.ok(&[
        "points",
        "award",
        &a,
        &b,
        "--activity",
        "图书整理",
        "--points",
        "30",
    ]);
    assert!(
        out.contains(&format!("member {a}: +30 (图书整理), balance 30")),
        "{out}"
    );
    // The same activity again: refused for each, with the reason, nothing changes.
    let again = k.run(&[
        "points",
        "award",
        &a,
        "--activity",
        "图书整理",
        "--points",
        "30",
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already awarded for this activity"));
    refused(
        &k,
        &[
            "points",
            "award",
            "999",
            "--activity",
            "敬老",
            "--points",
            "10",
        ],
        "member 999 not found",
    );
    refused(
        &k,
        &[
            "points",
            "award",
            &a,
            "--activity",
            "大活动",
            "--points",
            "500",
        ],
        "at most 100 points",
    );
    refused(
        &k,
        &[
            "points",
            "award",
            &a,
            "--activity",
            "图书整理",
            "--points",
            "40",
        ],
        "worth 30 points, not 40",
    );
    k.ok(&[
        "points",
        "award",
        &a,
        "--activity",
        "敬老探访",
        "--points",
        "100",
    ]);
    refused(
        &k,
        &[
            "points",
            "award",
            &a,
            "--activity",
            "清洁",
            "--points",
            "80",
        ],
        "70 points left today",
    );
    assert!(
        k.ok(&["points", "balance", &a])
            .contains(&format!("member {a}: 130 points"))
    );

    // The award to b was a mistake: reversed with a reason, never edited.
    let history = k.ok(&["points", "history", &b]);
    let posting = history.split_whitespace().next().unwrap().to_owned();
    refused(
        &k,
        &["points", "reverse", &posting, "--reason", " "],
        "needs a reason",
    );
    let out = k.ok(&["points", "reverse", &posting, "--reason", "记错人了"]);
    assert!(out.contains("reversed"), "{out}");
    refused(
        &k,
        &["points", "reverse", &posting, "--reason", "again"],
        "reversed already",
    );
    assert!(k.ok(&["points", "balance", &b]).contains(": 0 points"));
    let history = k.ok(&["points", "history", &b]);
    assert!(
        history.contains("[reversed]") && history.contains("记错人了"),
        "{history}"
    );

    // Every account sums to zero.
    let ledger = k.ok(&["points", "ledger"]);
    assert!(ledger.contains("(zero: the ledger balances)"), "{ledger}");
    assert!(
        ledger.contains("pool") && ledger.contains("-130"),
        "{ledger}"
    );
}

#[test]
fn the_rules_and_the_catalogue_are_set_from_the_command_line() {
    let k = TestKiosk::new();
    let out = k.ok(&["points", "policy"]);
    assert!(out.contains("points expire after 365 days"), "{out}");
    let out = k.ok(&[
        "points",
        "policy",
        "--daily-spend-cap",
        "60",
        "--expiry-months",
        "6",
    ]);
    assert!(
        out.contains("spend at most 60") && out.contains("after 182 days"),
        "{out}"
    );
    refused(&k, &["points", "policy", "--max-award", "0"], "positive");

    k.ok(&[
        "vending",
        "set",
        "vending",
        "1",
        "--zh",
        "矿泉水",
        "--en",
        "Mineral water",
        "--price",
        "10",
        "--stock",
        "8",
    ]);
    k.ok(&[
        "vending", "set", "vending", "2", "--zh", "豆奶", "--en", "Soy milk", "--price", "15",
    ]);
    assert!(
        k.ok(&["vending", "restock", "vending", "2", "6"])
            .contains("6 in stock")
    );
    refused(
        &k,
        &["vending", "restock", "vending", "9", "6"],
        "slot 9 of vending",
    );
    refused(
        &k,
        &[
            "vending", "set", "vending", "3", "--zh", "", "--en", "x", "--price", "5",
        ],
        "Chinese name",
    );
    refused(
        &k,
        &[
            "vending", "set", "vending", "3", "--zh", "茶", "--en", "Tea", "--price", "0",
        ],
        "positive",
    );
    let list = k.ok(&["vending", "list"]);
    assert!(
        list.contains("矿泉水") && list.contains("10 points") && list.contains("8 in stock"),
        "{list}"
    );
}
