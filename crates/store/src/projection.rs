//! The projections hook: query tables kept in step with the ledger.
//!
//! A domain module describes its tables and, for each entry, the rows to write, as data: a
//! [`Projection`] returns [`Statement`]s (SQL text with `?1`, `?2` ... placeholders and
//! [`Value`]s). The store executes them inside the same transaction as the append, so a
//! projection can never be ahead of or behind the ledger; and it can drop and rebuild a
//! projection by replaying every entry. Domain crates stay free of database drivers.

use jinguan_ledger::Entry;

/// A parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer.
    Integer(i64),
    /// UTF-8 text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

/// One SQL statement with its parameters. The SQL must be portable between SQLite and
/// PostgreSQL (placeholders `?N` are rewritten to `$N` for PostgreSQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// SQL text.
    pub sql: String,
    /// Parameters for `?1`, `?2`, ...
    pub params: Vec<Value>,
}

impl Statement {
    /// A statement.
    pub fn new(sql: impl Into<String>, params: Vec<Value>) -> Self {
        Self {
            sql: sql.into(),
            params,
        }
    }
}

/// The SQL a store speaks, for the one place projections may differ: how their tables are
/// laid out on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite: a table keyed by its primary key is best declared `WITHOUT ROWID`, which
    /// stores rows in the key's own B-tree instead of a rowid tree plus a key index, so an
    /// insert writes one page instead of two.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// What follows a `CREATE TABLE (...)` keyed by its primary key: `WITHOUT ROWID` for
    /// SQLite, nothing for PostgreSQL.
    pub fn clustered(self) -> &'static str {
        match self {
            Self::Sqlite => " WITHOUT ROWID",
            Self::Postgres => "",
        }
    }
}

/// A query table maintained from the ledger.
pub trait Projection: Send + Sync {
    /// A stable name.
    fn name(&self) -> &str;
    /// Statements creating its tables in `dialect` (idempotent: `CREATE TABLE IF NOT EXISTS`).
    fn create(&self, dialect: Dialect) -> Vec<String>;
    /// Statements emptying its tables before a rebuild.
    fn reset(&self) -> Vec<String>;
    /// The writes for one appended entry (none if the entry is not of interest). Pure.
    fn apply(&self, entry: &Entry) -> Vec<Statement>;
}

/// `?N` → `$N`, outside quoted strings, for PostgreSQL.
pub(crate) fn to_postgres_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quoted = false;
    for c in sql.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                out.push(c);
            }
            '?' if !quoted => out.push('$'),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders() {
        assert_eq!(
            super::to_postgres_placeholders("SELECT '?' , ?1, ?12"),
            "SELECT '?' , $1, $12"
        );
    }
}
