//! The district dashboard's users: a name, a role (district manager or
//! observer) and an Argon2id password hash (never the password), kept in
//! PostgreSQL; five wrong passwords lock the name for 15 minutes. Every
//! change is audited with who made it.

use keting_core::secret::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use tokio_postgres::Client;

use crate::database::{DatabaseError, db};

/// What a district user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistrictRole {
    /// Sees everything, exports, manages the users.
    Manager,
    /// Sees everything, exports; changes nothing.
    Observer,
}

impl DistrictRole {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manager => "manager",
            Self::Observer => "observer",
        }
    }

    /// From its stored name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "manager" => Some(Self::Manager),
            "observer" => Some(Self::Observer),
            _ => None,
        }
    }
}

/// A user, without the hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistrictUser {
    /// Their number.
    pub id: i32,
    /// Their sign-in name.
    pub name: String,
    /// Their role.
    pub role: DistrictRole,
}

/// Wrong passwords before the name is locked.
pub const MAX_FAILED: i32 = 5;
/// How long it is locked.
pub const LOCK_MS: i64 = 15 * 60 * 1000;

/// Why a user could not be added or signed in.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// The database.
    #[error(transparent)]
    Database(#[from] DatabaseError),
    /// A bad name.
    #[error("a user's name is 1 to 64 characters with no control characters")]
    BadName,
    /// A short or long password.
    #[error("a password is {PASSWORD_MIN_CHARS} to {PASSWORD_MAX_CHARS} characters")]
    BadPassword,
    /// The name is taken.
    #[error("there is a user named {0:?} already")]
    Taken(String),
    /// The hash.
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// The last manager may not go.
    #[error("the district's last manager cannot be removed")]
    LastManager,
}

fn name_ok(name: &str) -> bool {
    let n = name.chars().count();
    (1..=64).contains(&n) && !name.chars().any(char::is_control)
}

/// Adds a user, audited as done by `by`.
pub async fn add(
    client: &mut Client,
    by: &str,
    name: &str,
    role: DistrictRole,
    password: &str,
    now_ms: i64,
) -> Result<DistrictUser, UserError> {
    if !name_ok(name) {
        return Err(UserError::BadName);
    }
    let chars = password.chars().count();
    if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
        return Err(UserError::BadPassword);
    }
    let password = password.to_owned();
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| UserError::Hash(e.to_string()))?;
    let hash = tokio::task::spawn_blocking(move || keting_core::secret::hash(&password, &salt))
        .await
        .map_err(|e| UserError::Hash(e.to_string()))?
        .map_err(|e| UserError::Hash(e.to_string()))?;
    let tx = client.transaction().await.map_err(db("adding a user"))?;
    let row = tx
        .query_opt(
            "INSERT INTO district_users (name, role, password_hash, created_ms) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO NOTHING RETURNING id",
            &[&name, &role.as_str(), &hash, &now_ms],
        )
        .await
        .map_err(db("adding a user"))?;
    let Some(row) = row else {
        return Err(UserError::Taken(name.to_owned()));
    };
    tx.execute(
        "INSERT INTO district_audit (at_ms, who, action, detail) VALUES ($1, $2, 'user.add', $3)",
        &[&now_ms, &by, &format!("{name} ({})", role.as_str())],
    )
    .await
    .map_err(db("adding a user"))?;
    tx.commit().await.map_err(db("adding a user"))?;
    Ok(DistrictUser {
        id: row.get(0),
        name: name.to_owned(),
        role,
    })
}

/// Removes `name`, unless they are the last manager.
pub async fn remove(
    client: &mut Client,
    by: &str,
    name: &str,
    now_ms: i64,
) -> Result<bool, UserError> {
    let tx = client.transaction().await.map_err(db("removing a user"))?;
    let managers: i64 = tx
        .query_one(
            "SELECT count(*) FROM district_users WHERE role = 'manager' AND name <> $1",
            &[&name],
        )
        .await
        .map_err(db("removing a user"))?
        .get(0);
    let is_manager = tx
        .query_opt(
            "SELECT 1 FROM district_users WHERE name = $1 AND role = 'manager'",
            &[&name],
        )
        .await
        .map_err(db("removing a user"))?
        .is_some();
    if is_manager && managers == 0 {
        return Err(UserError::LastManager);
    }
    let n = tx
        .execute("DELETE FROM district_users WHERE name = $1", &[&name])
        .await
        .map_err(db("removing a user"))?;
    if n > 0 {
        tx.execute(
            "INSERT INTO district_audit (at_ms, who, action, detail) VALUES ($1, $2, 'user.remove', $3)",
            &[&now_ms, &by, &name],
        )
        .await
        .map_err(db("removing a user"))?;
    }
    tx.commit().await.map_err(db("removing a user"))?;
    Ok(n > 0)
}

/// Every user, by name.
pub async fn list(client: &Client) -> Result<Vec<DistrictUser>, DatabaseError> {
    let rows = client
        .query(
            "SELECT id, name, role FROM district_users ORDER BY name",
            &[],
        )
        .await
        .map_err(db("listing users"))?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(DistrictUser {
                id: r.get(0),
                name: r.get(1),
                role: DistrictRole::parse(r.get(2))?,
            })
        })
        .collect())
}

/// User `id` as they are now (`None`: removed).
pub async fn current(client: &Client, id: i32) -> Result<Option<DistrictUser>, DatabaseError> {
    let row = client
        .query_opt(
            "SELECT id, name, role FROM district_users WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(db("reading a user"))?;
    Ok(row.and_then(|r| {
        Some(DistrictUser {
            id: r.get(0),
            name: r.get(1),
            role: DistrictRole::parse(r.get(2))?,
        })
    }))
}

/// What a sign-in came to.
#[derive(Debug, PartialEq, Eq)]
pub enum SignIn {
    /// Welcome.
    Welcome(DistrictUser),
    /// Wrong name or password (not said which).
    Wrong,
    /// Too many wrong passwords: locked until then (ms).
    Locked(i64),
}

/// Checks `name`'s `password`, counting wrong ones.
pub async fn sign_in(
    client: &Client,
    name: &str,
    password: &str,
    now_ms: i64,
) -> Result<SignIn, DatabaseError> {
    let row = client
        .query_opt(
            "SELECT id, role, password_hash, failed, locked_until_ms FROM district_users WHERE name = $1",
            &[&name],
        )
        .await
        .map_err(db("signing in"))?;
    let Some(row) = row else {
        return Ok(SignIn::Wrong);
    };
    let locked: i64 = row.get(4);
    if locked > now_ms {
        return Ok(SignIn::Locked(locked));
    }
    let hash: String = row.get(2);
    let given = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || keting_core::secret::matches(&given, &hash))
        .await
        .unwrap_or(false);
    if ok {
        client
            .execute(
                "UPDATE district_users SET failed = 0 WHERE name = $1",
                &[&name],
            )
            .await
            .map_err(db("signing in"))?;
        let role: String = row.get(1);
        return Ok(DistrictRole::parse(&role).map_or(SignIn::Wrong, |role| {
            SignIn::Welcome(DistrictUser {
                id: row.get(0),
                name: name.to_owned(),
                role,
            })
        }));
    }
    let failed: i32 = row.get::<_, i32>(3) + 1;
    let until = if failed >= MAX_FAILED {
        now_ms + LOCK_MS
    } else {
        0
    };
    client
        .execute(
            "UPDATE district_users SET failed = CASE WHEN $2::int8 > 0 THEN 0 ELSE $3::int4 END, locked_until_ms = $2::int8
             WHERE name = $1",
            &[&name, &until, &failed],
        )
        .await
        .map_err(db("signing in"))?;
    Ok(if until > 0 {
        SignIn::Locked(until)
    } else {
        SignIn::Wrong
    })
}
