//! The schema, as numbered migrations tracked in SQLite's `user_version`.
//!
//! Migration N brings a database from version N-1 to N. A migration is never
//! edited once released: a change is a new migration appended at the end.
//! Each runs in its own transaction with the version bump, so a crash
//! mid-upgrade leaves the database at the last complete version.

use rusqlite::Connection;

use super::StoreError;

/// The migrations, in order; index 0 is version 1.
const MIGRATIONS: &[&str] = &[
    // 1: the site, members, check-ins, audit log, programme.
    r#"
    CREATE TABLE site (
        singleton          INTEGER PRIMARY KEY CHECK (singleton = 1),
        site_id            TEXT    NOT NULL,
        name               TEXT    NOT NULL,
        utc_offset_minutes INTEGER NOT NULL,
        demo               INTEGER NOT NULL CHECK (demo IN (0, 1)),
        public_key         BLOB    NOT NULL CHECK (length(public_key) = 32),
        created_ms         INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE members (
        id           INTEGER PRIMARY KEY,
        display_name TEXT    NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
        phone_tail   TEXT    CHECK (phone_tail GLOB '[0-9][0-9][0-9][0-9]'),
        epoch        INTEGER NOT NULL DEFAULT 0 CHECK (epoch >= 0),
        created_ms   INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE member_roles (
        member_id INTEGER NOT NULL REFERENCES members(id),
        role      TEXT    NOT NULL CHECK (role IN ('resident', 'volunteer', 'gym', 'staff')),
        PRIMARY KEY (member_id, role)
    ) STRICT, WITHOUT ROWID;

    -- Every scan, accepted or not. `counted` marks the scans that are visits.
    CREATE TABLE checkins (
        id        INTEGER PRIMARY KEY,
        at_ms     INTEGER NOT NULL,
        member_id INTEGER REFERENCES members(id),
        accepted  INTEGER NOT NULL CHECK (accepted IN (0, 1)),
        counted   INTEGER NOT NULL CHECK (counted IN (0, 1) AND counted <= accepted),
        reason    TEXT    CHECK ((accepted = 1) = (reason IS NULL)),
        source    TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX checkins_visits ON checkins (at_ms) WHERE counted = 1;
    CREATE INDEX checkins_member_visits ON checkins (member_id, at_ms) WHERE counted = 1;

    CREATE TABLE audit (
        id     INTEGER PRIMARY KEY,
        at_ms  INTEGER NOT NULL,
        actor  TEXT    NOT NULL,
        action TEXT    NOT NULL,
        detail TEXT    NOT NULL
    ) STRICT;
    CREATE INDEX audit_at ON audit (at_ms);

    -- What is on: on one date, on a weekday every week (1 = Monday), or daily.
    CREATE TABLE programme (
        id       INTEGER PRIMARY KEY,
        on_date  TEXT    CHECK (on_date GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        weekday  INTEGER CHECK (weekday BETWEEN 1 AND 7),
        starts   TEXT    NOT NULL CHECK (starts GLOB '[0-2][0-9]:[0-5][0-9]'),
        title_zh TEXT    NOT NULL,
        title_en TEXT    NOT NULL,
        place_zh TEXT    NOT NULL,
        place_en TEXT    NOT NULL,
        CHECK (on_date IS NULL OR weekday IS NULL)
    ) STRICT;
    "#,
    // 2: the gym door: paid months, doors, and what the doors report.
    r#"
    -- A member's paid gym month (月付制): paid up to and including paid_until.
    CREATE TABLE gym_memberships (
        member_id  INTEGER PRIMARY KEY REFERENCES members(id),
        paid_until TEXT    NOT NULL CHECK (paid_until GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
        granted_ms INTEGER NOT NULL
    ) STRICT;

    -- The doors the centre publishes rosters to.
    CREATE TABLE doors (
        device_id TEXT    PRIMARY KEY,
        name      TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
        added_ms  INTEGER NOT NULL
    ) STRICT;

    -- Every event a door sent, once (a redelivered event is ignored).
    CREATE TABLE door_events (
        id          INTEGER PRIMARY KEY,
        device_id   TEXT    NOT NULL,
        event_id    TEXT    NOT NULL,
        at_ms       INTEGER NOT NULL,
        kind        TEXT    NOT NULL,
        member_id   INTEGER,
        detail      TEXT    NOT NULL,
        received_ms INTEGER NOT NULL,
        UNIQUE (device_id, event_id)
    ) STRICT;
    CREATE INDEX door_events_entries ON door_events (at_ms) WHERE kind = 'access_granted';
    "#,
    // 3: commands to doors (staff opening a door remotely), sent by the centre.
    r#"
    CREATE TABLE door_commands (
        id           INTEGER PRIMARY KEY,
        command_id   TEXT    NOT NULL UNIQUE,
        device_id    TEXT    NOT NULL,
        action       TEXT    NOT NULL CHECK (action IN ('unlock')),
        member_id    INTEGER,
        requested_by TEXT    NOT NULL,
        requested_ms INTEGER NOT NULL,
        deadline_ms  INTEGER NOT NULL,
        sent_ms      INTEGER,
        outcome      TEXT,
        outcome_ms   INTEGER
    ) STRICT;
    CREATE INDEX door_commands_unsent ON door_commands (id) WHERE sent_ms IS NULL AND outcome IS NULL;
    "#,
    // 4: devices claiming their identity with a label's code, until a
    // technician confirms the PIN and the centre answers.
    r#"
    CREATE TABLE device_claims (
        id           INTEGER PRIMARY KEY,
        device_id    TEXT    NOT NULL,
        nonce        TEXT    NOT NULL,
        pin          TEXT    NOT NULL CHECK (length(pin) = 6),
        requested_ms INTEGER NOT NULL,
        expires_ms   INTEGER NOT NULL,
        state        TEXT    NOT NULL CHECK (state IN ('pending', 'confirmed', 'answered')),
        confirmed_by TEXT,
        decided_ms   INTEGER,
        UNIQUE (device_id, nonce)
    ) STRICT;
    "#,
    // 5: volunteer points (an append-only double-entry ledger), the vending
    // machine's catalogue and the redemptions between them.
    r#"
    CREATE TABLE activities (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 40),
        points     INTEGER NOT NULL CHECK (points > 0),
        day        TEXT    NOT NULL,
        created_by TEXT    NOT NULL,
        created_ms INTEGER NOT NULL,
        UNIQUE (name, day)
    ) STRICT;

    -- One row per posting; its legs below sum to zero. `member_id` is the
    -- member whose points it concerns, `day` the local date (daily caps).
    CREATE TABLE ledger_postings (
        id            INTEGER PRIMARY KEY,
        kind          TEXT    NOT NULL CHECK (kind IN ('earn', 'reserve', 'commit', 'refund', 'expire', 'reverse')),
        at_ms         INTEGER NOT NULL,
        day           TEXT    NOT NULL,
        member_id     INTEGER REFERENCES members(id),
        actor         TEXT    NOT NULL,
        activity_id   INTEGER REFERENCES activities(id),
        redemption_id TEXT,
        reverses      INTEGER UNIQUE REFERENCES ledger_postings(id),
        memo          TEXT    NOT NULL DEFAULT ''
    ) STRICT;
    CREATE UNIQUE INDEX one_award_per_activity ON ledger_postings (activity_id, member_id) WHERE kind = 'earn';
    CREATE UNIQUE INDEX one_settlement_per_redemption ON ledger_postings (redemption_id) WHERE kind IN ('commit', 'refund');
    CREATE INDEX postings_member_day ON ledger_postings (member_id, day);

    CREATE TABLE ledger_legs (
        posting_id INTEGER NOT NULL REFERENCES ledger_postings(id),
        account    TEXT    NOT NULL,
        amount     INTEGER NOT NULL CHECK (amount <> 0),
        PRIMARY KEY (posting_id, account)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX legs_account ON ledger_legs (account, amount);

    -- Append-only: a correction is a reversing posting, never an edit.
    CREATE TRIGGER ledger_postings_append_only_u BEFORE UPDATE ON ledger_postings
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_postings_append_only_d BEFORE DELETE ON ledger_postings
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_legs_append_only_u BEFORE UPDATE ON ledger_legs
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
    CREATE TRIGGER ledger_legs_append_only_d BEFORE DELETE ON ledger_legs
        BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;

    -- The centre's points rules (one row): `kiosk points policy` changes them.
    CREATE TABLE points_policy (
        singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
        max_award       INTEGER NOT NULL CHECK (max_award > 0),
        daily_earn_cap  INTEGER NOT NULL CHECK (daily_earn_cap > 0),
        daily_spend_cap INTEGER NOT NULL CHECK (daily_spend_cap > 0),
        lifetime_days   INTEGER NOT NULL CHECK (lifetime_days > 0)
    ) STRICT;
    INSERT INTO points_policy VALUES (1, 100, 200, 100, 365);

    CREATE TABLE vending_slots (
        device_id TEXT    NOT NULL,
        slot      INTEGER NOT NULL CHECK (slot BETWEEN 1 AND 99),
        name_zh   TEXT    NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 20),
        name_en   TEXT    NOT NULL CHECK (length(name_en) BETWEEN 1 AND 40),
        price     INTEGER NOT NULL CHECK (price > 0),
        stock     INTEGER NOT NULL CHECK (stock >= 0),
        PRIMARY KEY (device_id, slot)
    ) STRICT;

    CREATE TABLE redemptions (
        id          TEXT    PRIMARY KEY,
        member_id   INTEGER NOT NULL REFERENCES members(id),
        device_id   TEXT    NOT NULL,
        slot        INTEGER NOT NULL,
        points      INTEGER NOT NULL CHECK (points > 0),
        state       TEXT    NOT NULL CHECK (state IN ('reserved', 'sent', 'unknown', 'committed', 'refunded')),
        created_ms  INTEGER NOT NULL,
        deadline_ms INTEGER NOT NULL,
        sent_ms     INTEGER,
        queried_ms  INTEGER,
        result      TEXT,
        settled_ms  INTEGER
    ) STRICT;
    CREATE INDEX redemptions_open ON redemptions (state) WHERE state IN ('reserved', 'sent', 'unknown');
    CREATE INDEX redemptions_member ON redemptions (member_id, created_ms);
    "#,
    // 6: bookable resources (pianos, the robot, childcare, rooms), course
    // packages, bookings and sessions, the walk-up queue, ratings.
    r#"
    CREATE TABLE resources (
        id                TEXT    PRIMARY KEY,
        kind              TEXT    NOT NULL CHECK (kind IN ('piano', 'robot', 'childcare', 'room')),
        name_zh           TEXT    NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 20),
        name_en           TEXT    NOT NULL CHECK (length(name_en) BETWEEN 1 AND 40),
        hours             TEXT    NOT NULL,
        slot_minutes      INTEGER CHECK (slot_minutes IS NULL OR slot_minutes BETWEEN 5 AND 720),
        capacity          INTEGER NOT NULL CHECK (capacity >= 1),
        price             TEXT    NOT NULL,
        trial_price       TEXT,
        per_day           INTEGER NOT NULL CHECK (per_day >= 1),
        per_week          INTEGER NOT NULL CHECK (per_week >= 1),
        checked_after_use INTEGER NOT NULL CHECK (checked_after_use IN (0, 1)),
        device_id         TEXT,
        channel           INTEGER,
        session_s         INTEGER NOT NULL DEFAULT 2700 CHECK (session_s BETWEEN 5 AND 43200),
        active            INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
    ) STRICT;

    -- Sessions used are counted from the bookings, never stored.
    CREATE TABLE packages (
        id         INTEGER PRIMARY KEY,
        member_id  INTEGER NOT NULL REFERENCES members(id),
        kind       TEXT    NOT NULL,
        sessions   INTEGER NOT NULL CHECK (sessions BETWEEN 1 AND 100),
        expires_ms INTEGER NOT NULL,
        sold_by    TEXT    NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX packages_member ON packages (member_id, kind);

    CREATE TABLE bookings (
        id            INTEGER PRIMARY KEY,
        resource_id   TEXT    NOT NULL REFERENCES resources(id),
        member_id     INTEGER NOT NULL REFERENCES members(id),
        slot_start_ms INTEGER NOT NULL,
        slot_end_ms   INTEGER NOT NULL CHECK (slot_end_ms > slot_start_ms),
        walk_up       INTEGER NOT NULL CHECK (walk_up IN (0, 1)),
        state         TEXT    NOT NULL CHECK (state IN ('waiting', 'booked', 'started', 'to_check', 'done', 'failed', 'cancelled', 'released', 'lapsed')),
        charge        TEXT    NOT NULL CHECK (charge IN ('none', 'free', 'points', 'yuan', 'package')),
        points        INTEGER,
        fen           INTEGER,
        trial         INTEGER NOT NULL DEFAULT 0,
        package_id    INTEGER REFERENCES packages(id),
        returned      INTEGER NOT NULL DEFAULT 0 CHECK (returned IN (0, 1)),
        created_ms    INTEGER NOT NULL,
        start_by_ms   INTEGER,
        started_ms    INTEGER,
        ended_ms      INTEGER,
        end_reason    TEXT,
        device_on_ms  INTEGER,
        device_off_ms INTEGER,
        device_cmd_ms INTEGER
    ) STRICT;
    CREATE INDEX bookings_slot ON bookings (resource_id, slot_start_ms);
    CREATE INDEX bookings_member ON bookings (member_id, slot_start_ms);
    CREATE INDEX bookings_open ON bookings (state) WHERE state IN ('waiting', 'booked', 'started');
    CREATE UNIQUE INDEX one_place_per_member_and_slot ON bookings (resource_id, slot_start_ms, member_id)
        WHERE state IN ('waiting', 'booked', 'started', 'to_check', 'done');
    CREATE UNIQUE INDEX one_session_per_piano ON bookings (resource_id)
        WHERE walk_up = 1 AND state IN ('booked', 'started');

    -- A second line behind the booking transaction: no slot over capacity.
    CREATE TRIGGER bookings_capacity_i BEFORE INSERT ON bookings
        WHEN NEW.state IN ('booked', 'started') AND NEW.walk_up = 0
         AND (SELECT count(*) FROM bookings WHERE resource_id = NEW.resource_id AND slot_start_ms = NEW.slot_start_ms
                AND state IN ('booked', 'started', 'to_check', 'done'))
             >= (SELECT capacity FROM resources WHERE id = NEW.resource_id)
        BEGIN SELECT RAISE(ABORT, 'the slot is full'); END;
    CREATE TRIGGER bookings_capacity_u BEFORE UPDATE OF state ON bookings
        WHEN NEW.state = 'booked' AND OLD.state = 'waiting'
         AND (SELECT count(*) FROM bookings WHERE resource_id = NEW.resource_id AND slot_start_ms = NEW.slot_start_ms
                AND state IN ('booked', 'started', 'to_check', 'done'))
             >= (SELECT capacity FROM resources WHERE id = NEW.resource_id)
        BEGIN SELECT RAISE(ABORT, 'the slot is full'); END;

    -- Residents waiting for a walk-up resource (a free piano), first come first served.
    CREATE TABLE walk_up_queue (
        id         INTEGER PRIMARY KEY,
        kind       TEXT    NOT NULL,
        member_id  INTEGER NOT NULL REFERENCES members(id),
        created_ms INTEGER NOT NULL,
        state      TEXT    NOT NULL CHECK (state IN ('waiting', 'assigned', 'left')),
        booking_id INTEGER REFERENCES bookings(id)
    ) STRICT;
    CREATE UNIQUE INDEX one_queue_place ON walk_up_queue (kind, member_id) WHERE state = 'waiting';

    CREATE TABLE ratings (
        booking_id  INTEGER PRIMARY KEY REFERENCES bookings(id),
        member_id   INTEGER NOT NULL REFERENCES members(id),
        resource_id TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        at_ms       INTEGER NOT NULL
    ) STRICT;
    "#,
    // 7: the site's booking rules, stored like its points rules
    // (`kiosk booking policy` changes them).
    r#"
    CREATE TABLE booking_policy (
        singleton              INTEGER PRIMARY KEY CHECK (singleton = 1),
        cancel_before_minutes  INTEGER NOT NULL CHECK (cancel_before_minutes >= 0),
        start_grace_minutes    INTEGER NOT NULL CHECK (start_grace_minutes > 0),
        check_in_early_minutes INTEGER NOT NULL CHECK (check_in_early_minutes >= 0)
    ) STRICT;
    INSERT INTO booking_policy VALUES (1, 120, 10, 15);
    "#,
    // 8: the last sequence number the centre signed a command with, per
    // device (`command_sequence`).
    r#"
    CREATE TABLE command_sequence (
        device_id TEXT    PRIMARY KEY,
        last_seq  INTEGER NOT NULL CHECK (last_seq > 0)
    ) STRICT;
    "#,
    // 9: staff roles and their PINs (Argon2id PHC strings), wrong tries and
    // lockout (`staff_access`).
    r#"
    CREATE TABLE staff_access (
        member_id       INTEGER PRIMARY KEY REFERENCES members (id),
        role            TEXT    NOT NULL CHECK (role IN ('observer', 'staff', 'technician', 'manager')),
        pin_hash        TEXT    CHECK (pin_hash LIKE '$argon2id$%'),
        wrong_pins      INTEGER NOT NULL DEFAULT 0 CHECK (wrong_pins >= 0),
        locked_until_ms INTEGER,
        updated_ms      INTEGER NOT NULL
    ) STRICT;
    -- Staff before this version keep the front desk's role, without a PIN
    -- until one is set.
    INSERT INTO staff_access (member_id, role, updated_ms)
        SELECT member_id, 'staff', 0 FROM member_roles WHERE role = 'staff';
    "#,
    // 10: each device's own public key, which its signed answers (a vend's
    // outcome, a session's end) must verify with (`device_keys`); a claim
    // carries the key the device made.
    r#"
    CREATE TABLE device_keys (
        device_id  TEXT    PRIMARY KEY,
        public_key BLOB    NOT NULL CHECK (length(public_key) = 32),
        source     TEXT    NOT NULL,
        added_ms   INTEGER NOT NULL
    ) STRICT;
    ALTER TABLE device_claims ADD COLUMN device_key TEXT;
    "#,
    // 11: a claim carries the device's certificate request (PEM), which
    // the site CA signs once a technician confirms the PIN.
    r#"
    ALTER TABLE device_claims ADD COLUMN csr TEXT;
    "#,
    // 12: alarms with a life: raised, acknowledged by whom and when,
    // cleared; one open alarm per device and kind.
    r#"
    CREATE TABLE alarms (
        id         INTEGER PRIMARY KEY,
        device_id  TEXT    NOT NULL,
        kind       TEXT    NOT NULL,
        detail     TEXT    NOT NULL DEFAULT '',
        raised_ms  INTEGER NOT NULL,
        acked_by   TEXT,
        acked_ms   INTEGER,
        cleared_ms INTEGER
    ) STRICT;
    CREATE UNIQUE INDEX alarms_open ON alarms (device_id, kind) WHERE cleared_ms IS NULL;
    "#,
    // 13: the monthly report counts the month's awards by time.
    r#"
    CREATE INDEX postings_earned_at ON ledger_postings (at_ms) WHERE kind = 'earn';
    "#,
    // 14: staff may also sign in to the dashboard by name and password
    // (Argon2id, like the PIN; the same tries and lock).
    r#"
    ALTER TABLE staff_access ADD COLUMN password_hash TEXT
        CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%');
    "#,
    // 15: staff run a device's self-test from the dashboard: a command
    // may also be `self_test`, to any device, and keeps the device's
    // report (its checks, as JSON).
    r#"
    CREATE TABLE device_commands (
        id           INTEGER PRIMARY KEY,
        command_id   TEXT    NOT NULL UNIQUE,
        device_id    TEXT    NOT NULL,
        action       TEXT    NOT NULL CHECK (action IN ('unlock', 'self_test')),
        member_id    INTEGER,
        requested_by TEXT    NOT NULL,
        requested_ms INTEGER NOT NULL,
        deadline_ms  INTEGER NOT NULL,
        sent_ms      INTEGER,
        outcome      TEXT,
        outcome_ms   INTEGER,
        report       TEXT
    ) STRICT;
    INSERT INTO device_commands (id, command_id, device_id, action, member_id, requested_by,
                                 requested_ms, deadline_ms, sent_ms, outcome, outcome_ms)
        SELECT id, command_id, device_id, action, member_id, requested_by,
               requested_ms, deadline_ms, sent_ms, outcome, outcome_ms FROM door_commands;
    DROP TABLE door_commands;
    CREATE INDEX device_commands_unsent ON device_commands (id) WHERE sent_ms IS NULL AND outcome IS NULL;
    "#,
    // 16: the district uplink's durable outbox. A trigger writes a row in
    // the same transaction as what the district needs to hear of (a
    // counted check-in, a door entry, an alarm raised or cleared, a rating,
    // points awarded or spent, a booked session done), so nothing committed
    // is missed; the row's id is the event's number in its message id.
    r#"
    CREATE TABLE uplink_outbox (
        id      INTEGER PRIMARY KEY,
        source  TEXT    NOT NULL CHECK (source IN ('checkin', 'door_entry', 'alarm_raised', 'alarm_cleared',
                                                   'rating', 'posting', 'booking_done')),
        ref_id  INTEGER NOT NULL,
        at_ms   INTEGER NOT NULL,
        sent_ms INTEGER
    ) STRICT;
    CREATE INDEX uplink_unsent ON uplink_outbox (id) WHERE sent_ms IS NULL;
    CREATE TRIGGER uplink_checkin AFTER INSERT ON checkins WHEN NEW.counted = 1
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('checkin', NEW.id, NEW.at_ms); END;
    CREATE TRIGGER uplink_door_entry AFTER INSERT ON door_events WHEN NEW.kind = 'access_granted'
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('door_entry', NEW.id, NEW.at_ms); END;
    CREATE TRIGGER uplink_alarm_raised AFTER INSERT ON alarms
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('alarm_raised', NEW.id, NEW.raised_ms); END;
    CREATE TRIGGER uplink_alarm_cleared AFTER UPDATE OF cleared_ms ON alarms
        WHEN OLD.cleared_ms IS NULL AND NEW.cleared_ms IS NOT NULL
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('alarm_cleared', NEW.id, NEW.cleared_ms); END;
    CREATE TRIGGER uplink_rating AFTER INSERT ON ratings
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('rating', NEW.booking_id, NEW.at_ms); END;
    CREATE TRIGGER uplink_posting AFTER INSERT ON ledger_postings WHEN NEW.kind IN ('earn', 'commit')
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('posting', NEW.id, NEW.at_ms); END;
    CREATE TRIGGER uplink_booking_done AFTER UPDATE OF state ON bookings
        WHEN NEW.state = 'done' AND OLD.state <> 'done'
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms)
              VALUES ('booking_done', NEW.id, coalesce(NEW.ended_ms, NEW.slot_end_ms)); END;
    "#,
    // 17: what the district told this centre, each message once by its id:
    // announcements for the home page, cards lost at other centres. The
    // district's activities go into the programme, marked as the
    // district's (`district_msg`), in the same transaction.
    r#"
    CREATE TABLE district_notices (
        msg_id      TEXT    PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('announcement', 'activity', 'revoke_card')),
        zh          TEXT    NOT NULL DEFAULT '',
        en          TEXT    NOT NULL DEFAULT '',
        until_ms    INTEGER,
        sent_ms     INTEGER NOT NULL,
        received_ms INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE district_revocations (
        issuer      TEXT    NOT NULL,
        member_id   INTEGER NOT NULL,
        msg_id      TEXT    NOT NULL,
        received_ms INTEGER NOT NULL,
        PRIMARY KEY (issuer, member_id)
    ) STRICT;
    ALTER TABLE programme ADD COLUMN district_msg TEXT;
    "#,
    // 18: an uplink event's number is never used twice. SQLite gives a new
    // row the largest id plus one, so once the outbox was pruned empty (a
    // centre quiet for longer than events are kept) numbers started again
    // at 1, and a restored backup reused the numbers its old machine had
    // sent since: the district took both for repeats. The sequence keeps the
    // last number given; a restore moves it on by a generation
    // (`uplink::RESTORE_GAP`).
    r#"
    CREATE TABLE uplink_sequence (
        only    INTEGER PRIMARY KEY CHECK (only = 1),
        last_id INTEGER NOT NULL
    ) STRICT;
    INSERT INTO uplink_sequence (only, last_id)
        VALUES (1, coalesce((SELECT max(id) FROM uplink_outbox), 0));
    CREATE TRIGGER uplink_numbered AFTER INSERT ON uplink_outbox
    BEGIN
        UPDATE uplink_sequence SET last_id = max(last_id + 1, NEW.id);
        UPDATE uplink_outbox SET id = (SELECT last_id FROM uplink_sequence)
            WHERE id = NEW.id AND NEW.id <> (SELECT last_id FROM uplink_sequence);
    END;
    "#,
    // 19: wrong tries on the dashboard counted apart from the kiosk's: a
    // browser anywhere on the LAN could lock any staff card at the kiosk
    // for 15 minutes by typing five wrong PINs for it.
    r#"
    ALTER TABLE staff_access ADD COLUMN web_wrong INTEGER NOT NULL DEFAULT 0 CHECK (web_wrong >= 0);
    ALTER TABLE staff_access ADD COLUMN web_locked_until_ms INTEGER;
    "#,
    // 20: activities with a life (issue 26). What migration 5 called an
    // activity was only a name points were awarded under on a day: it is
    // renamed `award_occasions` (its postings' `activity_id` follows it),
    // and `activities` are now the centre's classes, lectures, events and
    // volunteer shifts, with their places, waiting list and attendance.
    // A shift's award names its activity (`held_activity_id`), once per
    // volunteer. Closing a held activity tells the district.
    r#"
    ALTER TABLE activities RENAME TO award_occasions;

    CREATE TABLE activity_policy (
        id                INTEGER PRIMARY KEY CHECK (id = 1),
        offer_minutes     INTEGER NOT NULL CHECK (offer_minutes BETWEEN 5 AND 2880),
        signup_opens_days INTEGER NOT NULL CHECK (signup_opens_days BETWEEN 1 AND 90)
    ) STRICT;
    INSERT INTO activity_policy (id, offer_minutes, signup_opens_days) VALUES (1, 120, 14);

    CREATE TABLE closed_days (
        day        TEXT    PRIMARY KEY,
        reason     TEXT    NOT NULL,
        created_by TEXT    NOT NULL,
        created_ms INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE activities (
        id              INTEGER PRIMARY KEY,
        title_zh        TEXT    NOT NULL CHECK (length(title_zh) BETWEEN 1 AND 40),
        title_en        TEXT    NOT NULL CHECK (length(title_en) BETWEEN 1 AND 40),
        room            TEXT    NOT NULL CHECK (length(room) BETWEEN 1 AND 40),
        kind            TEXT    NOT NULL CHECK (kind IN ('class', 'lecture', 'event', 'volunteer')),
        audience        TEXT    NOT NULL CHECK (audience IN ('everyone', 'members', 'volunteers')),
        starts_ms       INTEGER NOT NULL,
        ends_ms         INTEGER NOT NULL CHECK (ends_ms > starts_ms),
        capacity        INTEGER NOT NULL CHECK (capacity BETWEEN 1 AND 500),
        points_per_hour INTEGER NOT NULL DEFAULT 0 CHECK (points_per_hour BETWEEN 0 AND 100),
        organiser_id    INTEGER REFERENCES members(id),
        organiser_name  TEXT    NOT NULL DEFAULT '',
        series_id       INTEGER,
        repeat_rule     TEXT    NOT NULL DEFAULT '',
        state           TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed', 'cancelled')),
        held            INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
        attended        INTEGER NOT NULL DEFAULT 0,
        volunteer_minutes INTEGER NOT NULL DEFAULT 0,
        cancel_reason   TEXT    NOT NULL DEFAULT '',
        closed_by       TEXT,
        closed_ms       INTEGER,
        adopted_notice  TEXT,
        created_by      TEXT    NOT NULL,
        created_ms      INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX activities_starts ON activities (starts_ms);
    CREATE INDEX activities_closed ON activities (closed_ms) WHERE held = 1;

    -- One row per person on an activity's list; `queue_no` is their turn
    -- (a new one each time they join again).
    CREATE TABLE activity_places (
        activity_id    INTEGER NOT NULL REFERENCES activities(id),
        member_id      INTEGER NOT NULL REFERENCES members(id),
        standing       TEXT    NOT NULL CHECK (standing IN ('place', 'offered', 'waiting', 'cancelled', 'lapsed')),
        offer_until_ms INTEGER,
        queue_no       INTEGER NOT NULL,
        changed_ms     INTEGER NOT NULL,
        changed_by     TEXT    NOT NULL,
        PRIMARY KEY (activity_id, member_id),
        CHECK ((standing = 'offered') = (offer_until_ms IS NOT NULL))
    ) STRICT;
    CREATE INDEX activity_places_member ON activity_places (member_id);

    CREATE TABLE activity_attendance (
        activity_id       INTEGER NOT NULL REFERENCES activities(id),
        member_id         INTEGER NOT NULL REFERENCES members(id),
        arrived_ms        INTEGER NOT NULL,
        left_ms           INTEGER,
        confirmed_minutes INTEGER CHECK (confirmed_minutes >= 0),
        via               TEXT    NOT NULL,
        PRIMARY KEY (activity_id, member_id)
    ) STRICT;

    ALTER TABLE ledger_postings ADD COLUMN held_activity_id INTEGER REFERENCES activities(id);
    CREATE UNIQUE INDEX one_award_per_held_activity ON ledger_postings (held_activity_id, member_id)
        WHERE kind = 'earn' AND held_activity_id IS NOT NULL;

    -- The outbox learns a new source: SQLite cannot change a CHECK, so the
    -- table is made again under its own name (no rename, which would
    -- rewrite the triggers that write into it), its rows and numbers kept.
    CREATE TEMP TABLE uplink_outbox_kept AS SELECT id, source, ref_id, at_ms, sent_ms FROM uplink_outbox;
    DROP TABLE uplink_outbox;
    CREATE TABLE uplink_outbox (
        id      INTEGER PRIMARY KEY,
        source  TEXT    NOT NULL CHECK (source IN ('checkin', 'door_entry', 'alarm_raised', 'alarm_cleared',
                                                   'rating', 'posting', 'booking_done', 'activity_held')),
        ref_id  INTEGER NOT NULL,
        at_ms   INTEGER NOT NULL,
        sent_ms INTEGER
    ) STRICT;
    INSERT INTO uplink_outbox (id, source, ref_id, at_ms, sent_ms) SELECT * FROM temp.uplink_outbox_kept;
    DROP TABLE temp.uplink_outbox_kept;
    CREATE INDEX uplink_unsent ON uplink_outbox (id) WHERE sent_ms IS NULL;
    CREATE TRIGGER uplink_numbered AFTER INSERT ON uplink_outbox
    BEGIN
        UPDATE uplink_sequence SET last_id = max(last_id + 1, NEW.id);
        UPDATE uplink_outbox SET id = (SELECT last_id FROM uplink_sequence)
            WHERE id = NEW.id AND NEW.id <> (SELECT last_id FROM uplink_sequence);
    END;
    CREATE TRIGGER uplink_activity_held AFTER UPDATE OF state ON activities
        WHEN NEW.state = 'closed' AND NEW.held = 1 AND OLD.state <> 'closed'
        BEGIN INSERT INTO uplink_outbox (source, ref_id, at_ms) VALUES ('activity_held', NEW.id, NEW.closed_ms); END;
    "#,
    // 21: room readers: a `reader` device agent's scans count as attendance
    // of what is on in its room, registered here by a technician.
    r#"
    CREATE TABLE room_readers (
        device_id  TEXT    PRIMARY KEY,
        room       TEXT    NOT NULL CHECK (length(room) BETWEEN 1 AND 40),
        set_by     TEXT    NOT NULL,
        set_ms     INTEGER NOT NULL
    ) STRICT;
    "#,
    // 22: residents' own phones: a phone bound to a member (its cookie's
    // SHA-256, never the cookie), and the one-time invitations that bind
    // one (a staff member's link, a kiosk's QR with its confirm number).
    r#"
    CREATE TABLE resident_phones (
        id         INTEGER PRIMARY KEY,
        member_id  INTEGER NOT NULL REFERENCES members(id),
        epoch      INTEGER NOT NULL CHECK (epoch >= 0),
        token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
        csrf       TEXT    NOT NULL,
        label      TEXT    NOT NULL CHECK (length(label) BETWEEN 1 AND 60),
        bound_ms   INTEGER NOT NULL,
        used_ms    INTEGER NOT NULL,
        ended_ms   INTEGER,
        ended_by   TEXT,
        CHECK ((ended_ms IS NULL) = (ended_by IS NULL))
    ) STRICT;
    CREATE INDEX resident_phones_of_member ON resident_phones (member_id) WHERE ended_ms IS NULL;

    CREATE TABLE phone_invitations (
        id          INTEGER PRIMARY KEY,
        member_id   INTEGER NOT NULL REFERENCES members(id),
        secret_hash BLOB    NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
        kind        TEXT    NOT NULL CHECK (kind IN ('link', 'kiosk')),
        confirm     INTEGER NOT NULL CHECK (confirm BETWEEN 10 AND 99),
        made_by     TEXT    NOT NULL,
        made_ms     INTEGER NOT NULL,
        expires_ms  INTEGER NOT NULL CHECK (expires_ms > made_ms),
        used_ms     INTEGER
    ) STRICT;
    "#,
    // 23: what residents say: a rating of an activity they attended (as
    // sessions have theirs), and the suggestion box with staff's answers;
    // a member's calendar feed; WeChat accounts bound to members.
    r#"
    CREATE TABLE activity_ratings (
        activity_id INTEGER NOT NULL REFERENCES activities(id),
        member_id   INTEGER NOT NULL REFERENCES members(id),
        stars       INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
        at_ms       INTEGER NOT NULL,
        PRIMARY KEY (activity_id, member_id)
    ) STRICT;

    CREATE TABLE suggestions (
        id          INTEGER PRIMARY KEY,
        member_id   INTEGER NOT NULL REFERENCES members(id),
        text        TEXT    NOT NULL CHECK (length(text) BETWEEN 1 AND 500),
        at_ms       INTEGER NOT NULL,
        answer      TEXT    CHECK (answer IS NULL OR length(answer) BETWEEN 1 AND 500),
        answered_by TEXT,
        answered_ms INTEGER,
        CHECK ((answer IS NULL) = (answered_ms IS NULL))
    ) STRICT;
    CREATE INDEX suggestions_of_member ON suggestions (member_id, at_ms);
    CREATE INDEX suggestions_open ON suggestions (at_ms) WHERE answer IS NULL;

    -- A WeChat account (its openid under the centre's official account)
    -- bound to a member at their first binding from inside WeChat.
    CREATE TABLE wechat_openids (
        openid    TEXT    PRIMARY KEY CHECK (length(openid) BETWEEN 1 AND 64),
        member_id INTEGER NOT NULL REFERENCES members(id),
        bound_ms  INTEGER NOT NULL
    ) STRICT;

    -- A member's calendar feed (.ics): its address's secret, hashed.
    CREATE TABLE calendar_feeds (
        member_id  INTEGER PRIMARY KEY REFERENCES members(id),
        token_hash BLOB    NOT NULL UNIQUE CHECK (length(token_hash) = 32),
        made_ms    INTEGER NOT NULL
    ) STRICT;
    "#,
    // 24: the newest signed status taken from each device (its own time),
    // so a status played again after the centre restarts is still known
    // for old.
    r#"
    CREATE TABLE device_status_marks (
        device_id    TEXT    PRIMARY KEY,
        signed_at_ms INTEGER NOT NULL
    ) STRICT;
    "#,
    // 25: the uplink's own count, which the district checks its database
    // against: through which event number the district acknowledged
    // everything, how many events of those (past the last count reported)
    // were really published, and through which number a count was reported.
    r#"
    CREATE TABLE uplink_tally (
        only           INTEGER PRIMARY KEY CHECK (only = 1),
        sent_through   INTEGER NOT NULL,
        published      INTEGER NOT NULL,
        counted_through INTEGER NOT NULL
    ) STRICT;
    INSERT INTO uplink_tally (only, sent_through, published, counted_through)
        VALUES (1,
            coalesce((SELECT max(id) FROM uplink_outbox WHERE sent_ms IS NOT NULL), 0),
            0,
            coalesce((SELECT max(id) FROM uplink_outbox WHERE sent_ms IS NOT NULL), 0));
    "#,
    // 26: alarms told off-site (issue 29). The channels (a WeCom or DingTalk
    // group robot, a signed webhook; a secret lives in a 0600 file, never
    // here), which alarm kinds go where (no route for a kind: every
    // channel), each kind's policy (quiet hours, when the sender holds its
    // messages; escalation: not acknowledged within so long, the next
    // channel is told), and the durable outbox a trigger fills in the
    // alarm's own transaction: raised, acknowledged and cleared, one row
    // per channel, and the escalation due later.
    r#"
    CREATE TABLE alert_channels (
        name        TEXT    PRIMARY KEY,
        kind        TEXT    NOT NULL CHECK (kind IN ('wecom', 'dingtalk', 'webhook', 'email')),
        url         TEXT    NOT NULL,
        secret_file TEXT,
        created_ms  INTEGER NOT NULL
    ) STRICT;
    CREATE TABLE alert_routes (
        alarm_kind TEXT NOT NULL,
        channel    TEXT NOT NULL REFERENCES alert_channels (name) ON DELETE CASCADE,
        PRIMARY KEY (alarm_kind, channel)
    ) STRICT;
    CREATE TABLE alert_policy (
        alarm_kind         TEXT    PRIMARY KEY,
        quiet_from_min     INTEGER CHECK (quiet_from_min BETWEEN 0 AND 1439),
        quiet_to_min       INTEGER CHECK (quiet_to_min BETWEEN 0 AND 1439),
        escalate_after_s   INTEGER CHECK (escalate_after_s > 0),
        escalate_to        TEXT    REFERENCES alert_channels (name) ON DELETE SET NULL
    ) STRICT;
    CREATE TABLE alert_outbox (
        id         INTEGER PRIMARY KEY,
        alarm_id   INTEGER,
        what       TEXT    NOT NULL CHECK (what IN ('raised', 'acknowledged', 'cleared', 'escalated', 'test')),
        channel    TEXT    NOT NULL,
        attempts   INTEGER NOT NULL DEFAULT 0,
        next_ms    INTEGER NOT NULL,
        sent_ms    INTEGER,
        delivered  INTEGER NOT NULL DEFAULT 0,
        answer     TEXT,
        created_ms INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX alert_outbox_due ON alert_outbox (next_ms) WHERE sent_ms IS NULL;
    CREATE INDEX alert_outbox_alarm ON alert_outbox (alarm_id);
    CREATE TRIGGER alert_raised AFTER INSERT ON alarms
    BEGIN
        INSERT INTO alert_outbox (alarm_id, what, channel, next_ms, created_ms)
            SELECT NEW.id, 'raised', c.name, NEW.raised_ms, NEW.raised_ms FROM alert_channels c
            WHERE NEW.kind = 'help'
               OR NOT EXISTS (SELECT 1 FROM alert_routes r WHERE r.alarm_kind = NEW.kind)
               OR c.name IN (SELECT r.channel FROM alert_routes r WHERE r.alarm_kind = NEW.kind);
        INSERT INTO alert_outbox (alarm_id, what, channel, next_ms, created_ms)
            SELECT NEW.id, 'escalated', p.escalate_to, NEW.raised_ms + p.escalate_after_s * 1000, NEW.raised_ms
            FROM alert_policy p
            WHERE p.alarm_kind = NEW.kind AND p.escalate_to IS NOT NULL AND p.escalate_after_s IS NOT NULL;
    END;
    CREATE TRIGGER alert_acknowledged AFTER UPDATE OF acked_ms ON alarms
        WHEN OLD.acked_ms IS NULL AND NEW.acked_ms IS NOT NULL
    BEGIN
        INSERT INTO alert_outbox (alarm_id, what, channel, next_ms, created_ms)
            SELECT NEW.id, 'acknowledged', c.name, NEW.acked_ms, NEW.acked_ms FROM alert_channels c
            WHERE NEW.kind = 'help' OR NOT EXISTS (SELECT 1 FROM alert_routes r WHERE r.alarm_kind = NEW.kind)
               OR c.name IN (SELECT r.channel FROM alert_routes r WHERE r.alarm_kind = NEW.kind);
    END;
    CREATE TRIGGER alert_cleared AFTER UPDATE OF cleared_ms ON alarms
        WHEN OLD.cleared_ms IS NULL AND NEW.cleared_ms IS NOT NULL
    BEGIN
        INSERT INTO alert_outbox (alarm_id, what, channel, next_ms, created_ms)
            SELECT NEW.id, 'cleared', c.name, NEW.cleared_ms, NEW.cleared_ms FROM alert_channels c
            WHERE NEW.kind = 'help' OR NOT EXISTS (SELECT 1 FROM alert_routes r WHERE r.alarm_kind = NEW.kind)
               OR c.name IN (SELECT r.channel FROM alert_routes r WHERE r.alarm_kind = NEW.kind);
    END;
    "#,
    // 27: a door released by its fire-alarm input locks again only when
    // staff reset it (issue 29): a command may also be `reset_release`.
    r#"
    CREATE TABLE device_commands_27 (
        id           INTEGER PRIMARY KEY,
        command_id   TEXT    NOT NULL UNIQUE,
        device_id    TEXT    NOT NULL,
        action       TEXT    NOT NULL CHECK (action IN ('unlock', 'self_test', 'reset_release')),
        member_id    INTEGER,
        requested_by TEXT    NOT NULL,
        requested_ms INTEGER NOT NULL,
        deadline_ms  INTEGER NOT NULL,
        sent_ms      INTEGER,
        outcome      TEXT,
        outcome_ms   INTEGER,
        report       TEXT
    ) STRICT;
    INSERT INTO device_commands_27 SELECT * FROM device_commands;
    DROP TABLE device_commands;
    ALTER TABLE device_commands_27 RENAME TO device_commands;
    CREATE INDEX device_commands_unsent ON device_commands (id) WHERE sent_ms IS NULL AND outcome IS NULL;
    "#,
    // 28: who is inside (issue 29): the doors' passages (in, out) are read
    // by time for the head count, and the centre's welfare watch (someone
    // alone inside longer than this, at these hours) is one row; no row:
    // the defaults (three hours, 22:00 to 07:00).
    r#"
    CREATE INDEX door_events_passages ON door_events (at_ms) WHERE kind = 'passed';
    CREATE TABLE welfare_watch (
        id              INTEGER PRIMARY KEY CHECK (id = 1),
        alone_after_min INTEGER NOT NULL CHECK (alone_after_min BETWEEN 1 AND 1440),
        night_from_min  INTEGER NOT NULL CHECK (night_from_min BETWEEN 0 AND 1439),
        night_to_min    INTEGER NOT NULL CHECK (night_to_min BETWEEN 0 AND 1439),
        set_by          TEXT    NOT NULL,
        set_ms          INTEGER NOT NULL
    ) STRICT;
    "#,
];

/// The schema version this build writes.
pub fn current_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Brings the database up to [`current_version`].
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = current_version();
    if found > known {
        return Err(StoreError::NewerSchema { found, known });
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(found).unwrap_or(0))
    {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > i as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_newer() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, current_version());
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(
            migrate(&mut conn),
            Err(StoreError::NewerSchema { found: 99, .. })
        ));
    }
}
