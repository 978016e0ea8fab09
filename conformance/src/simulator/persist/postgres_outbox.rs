//! An outbox row as PostgreSQL gives it back: read by the backend (the
//! pending deliveries) and by a replica claiming a dead one's (see
//! `replica`).

use bytes::Bytes;

use super::OutboxEntry;

/// The columns an outbox row is read back with, in [`outbox_entry`]'s
/// order.
pub(crate) const OUTBOX_COLUMNS: &str =
    "id, public_id, order_id, operation_type, status, url, body, attempts, next_attempt_ms";

/// An outbox row read with [`OUTBOX_COLUMNS`].
pub(crate) fn outbox_entry(row: &::postgres::Row) -> Result<OutboxEntry, ::postgres::Error> {
    Ok(OutboxEntry {
        id: row.try_get(0)?,
        public_id: row.try_get(1)?,
        order_id: row.try_get(2)?,
        operation_type: row.try_get(3)?,
        status: row.try_get(4)?,
        url: row.try_get(5)?,
        body: Bytes::from(row.try_get::<_, Vec<u8>>(6)?),
        attempts: u32::try_from(row.try_get::<_, i64>(7)?).unwrap_or(u32::MAX),
        next_attempt_ms: u64::try_from(row.try_get::<_, i64>(8)?).unwrap_or(0),
    })
}
