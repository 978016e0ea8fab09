//! What a replica reads of every replica's state: counts, lists, the
//! delivery log and held payments (see the parent module).

use super::{decode, Replica, StoreError};
use crate::simulator::transaction::{CallbackAttempt, Transaction};

/// Decodes the `data` column of each row.
fn transactions(rows: &[::postgres::Row]) -> Result<Vec<Transaction>, String> {
    rows.iter()
        .map(|row| {
            let data: String = row.try_get(0).map_err(|e| e.to_string())?;
            decode(&data).map_err(|e| format!("a transaction row: {e}"))
        })
        .collect()
}

impl Replica {
    /// Up to `limit` transactions (without their replies) with a serial
    /// above `after`, in serial order: every replica's, a page at a time.
    pub(crate) fn transactions_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<Transaction>, StoreError> {
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with_conn("cannot read transactions", move |client, _| {
            let rows = client
                .query(
                    "SELECT data FROM transactions WHERE serial > $1 ORDER BY serial LIMIT $2",
                    &[&after, &limit],
                )
                .map_err(|e| e.to_string())?;
            transactions(&rows)
        })
    }

    /// The transactions of merchant `public_id` in status `status`, oldest
    /// first, every replica's (the held payments a withdrawal may take).
    pub(crate) fn in_status(
        &self,
        public_id: &str,
        status: i64,
    ) -> Result<Vec<Transaction>, StoreError> {
        let public_id = public_id.to_owned();
        self.with_conn("cannot read transactions", move |client, _| {
            let rows = client
                .query(
                    "SELECT data FROM transactions WHERE public_id = $1 AND status = $2
                     ORDER BY serial",
                    &[&public_id, &status],
                )
                .map_err(|e| e.to_string())?;
            transactions(&rows)
        })
    }

    /// Every callback delivery attempt every replica recorded, oldest
    /// first (those still in a writer's queue are not there yet).
    pub(crate) fn attempts(&self) -> Result<Vec<CallbackAttempt>, StoreError> {
        self.with_conn("cannot read callback attempts", |client, _| {
            let rows = client
                .query("SELECT data FROM callback_attempts ORDER BY id", &[])
                .map_err(|e| e.to_string())?;
            rows.iter()
                .map(|row| {
                    let data: String = row.try_get(0).map_err(|e| e.to_string())?;
                    serde_json::from_str(&data).map_err(|e| format!("an attempt row: {e}"))
                })
                .collect()
        })
    }

    /// How many transactions the database holds (every replica's).
    pub(crate) fn transaction_count(&self) -> Result<u64, StoreError> {
        self.with_conn("cannot count transactions", |client, _| {
            client
                .query_one("SELECT count(*) FROM transactions", &[])
                .and_then(|row| row.try_get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(|e| e.to_string())
        })
    }
}
