//! The commit log's records, as bytes: entries encoded by hand (the
//! module above says why), read back with every length checked against
//! what is left.

use bytes::Bytes;

use super::super::{OutboxProgress, OutboxRow, TxRow, Write};
use super::Entry;
use crate::simulator::operation::OperationKind;
use crate::simulator::transaction::StoredReply;

const SAVE: u8 = 1;
const ATTEMPT: u8 = 2;

/// Encodes `write` into `buf`; returns how many entries.
pub(super) fn encode(buf: &mut Vec<u8>, write: &Write) -> Result<u32, String> {
    match write {
        Write::Save { row, new, outbox } => {
            buf.push(SAVE);
            encode_save(buf, row, *new, outbox.as_deref())?;
            Ok(1)
        }
        Write::SaveMany(rows) => {
            for row in rows {
                buf.push(SAVE);
                encode_save(buf, row, true, None)?;
            }
            u32::try_from(rows.len()).map_err(|_| "too many rows in one bulk".to_owned())
        }
        Write::Attempt {
            data,
            attempt,
            outbox,
        } => {
            buf.push(ATTEMPT);
            put_bytes(buf, data.as_bytes())?;
            buf.extend_from_slice(&attempt.to_le_bytes());
            match outbox {
                None => buf.push(0),
                Some((id, progress)) => {
                    buf.push(1);
                    buf.extend_from_slice(&id.to_le_bytes());
                    match progress {
                        OutboxProgress::Delivered => buf.push(0),
                        OutboxProgress::Abandoned => buf.push(1),
                        OutboxProgress::Retry { next_attempt_ms } => {
                            buf.push(2);
                            buf.extend_from_slice(&next_attempt_ms.to_le_bytes());
                        }
                    }
                }
            }
            Ok(1)
        }
        // Never logged (see `logged`).
        Write::PendingOutbox | Write::Reset | Write::Hub2(_) => Ok(0),
    }
}

fn encode_save(
    buf: &mut Vec<u8>,
    row: &TxRow,
    new: bool,
    outbox: Option<&OutboxRow>,
) -> Result<(), String> {
    buf.push(u8::from(new));
    put_bytes(buf, row.public_id.as_bytes())?;
    put_bytes(buf, row.order_id.as_bytes())?;
    buf.extend_from_slice(&row.serial.to_le_bytes());
    put_bytes(buf, row.transaction_id.as_bytes())?;
    buf.extend_from_slice(&row.status.to_le_bytes());
    put_bytes(buf, row.data.as_bytes())?;
    let replies = u32::try_from(row.replies.len()).map_err(|_| "too many replies".to_owned())?;
    buf.extend_from_slice(&replies.to_le_bytes());
    for reply in &row.replies {
        put_bytes(buf, reply.operation.as_str().as_bytes())?;
        put_bytes(buf, reply.signature.as_bytes())?;
        put_bytes(buf, &reply.body)?;
    }
    match outbox {
        None => buf.push(0),
        Some(out) => {
            // Logged only with its id (see `logged`).
            let id = out.id.ok_or("an outbox row without its id")?;
            buf.push(1);
            buf.extend_from_slice(&id.to_le_bytes());
            buf.extend_from_slice(&out.operation_type.to_le_bytes());
            buf.extend_from_slice(&out.status.to_le_bytes());
            put_bytes(buf, out.url.as_bytes())?;
            put_bytes(buf, &out.body)?;
        }
    }
    Ok(())
}

/// Text and bytes: their length (u32), then them. (Nothing the
/// simulator stores comes near 4 GiB, a request body is capped far
/// below; a longer field is an error, never cut.)
fn put_bytes(buf: &mut Vec<u8>, bytes: &[u8]) -> Result<(), String> {
    let len = u32::try_from(bytes.len()).map_err(|_| {
        format!(
            "a field of {} bytes, too long for the commit log",
            bytes.len()
        )
    })?;
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(bytes);
    Ok(())
}

/// Reads a payload back; the error says what did not fit.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| format!("{n} bytes wanted at {}, past its end", self.pos))?;
        let taken = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    fn u32(&mut self) -> Result<u32, String> {
        self.array().map(u32::from_le_bytes)
    }

    fn i64(&mut self) -> Result<i64, String> {
        self.array().map(i64::from_le_bytes)
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let len = self.u32()?;
        self.take(len as usize)
    }

    fn text(&mut self) -> Result<String, String> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| format!("text at {} is not UTF-8", self.pos))
    }
}

/// Reads a record's payload back: its `at_ms` and entries; the error
/// says what did not fit.
pub(super) fn decode(payload: &[u8]) -> Result<(i64, Vec<Entry>), String> {
    let cursor = &mut Cursor {
        bytes: payload,
        pos: 0,
    };
    let at_ms = cursor.i64()?;
    let count = cursor.u32()?;
    // Not trusted for an allocation: each entry takes bytes.
    let mut entries = Vec::with_capacity((count as usize).min(cursor.bytes.len()));
    for _ in 0..count {
        entries.push(match cursor.u8()? {
            SAVE => decode_save(cursor)?,
            ATTEMPT => decode_attempt(cursor)?,
            other => return Err(format!("unknown entry kind {other}")),
        });
    }
    if cursor.pos != cursor.bytes.len() {
        return Err(format!(
            "{} bytes after its entries",
            cursor.bytes.len() - cursor.pos
        ));
    }
    Ok((at_ms, entries))
}

fn decode_save(cursor: &mut Cursor<'_>) -> Result<Entry, String> {
    let new = cursor.u8()? != 0;
    let public_id = cursor.text()?;
    let order_id = cursor.text()?;
    let serial = cursor.i64()?;
    let transaction_id = cursor.text()?;
    let status = cursor.i64()?;
    let data = cursor.text()?;
    let count = cursor.u32()?;
    let mut replies = Vec::new();
    for _ in 0..count {
        let name = cursor.text()?;
        let operation =
            OperationKind::from_name(&name).ok_or_else(|| format!("unknown operation {name:?}"))?;
        replies.push(StoredReply {
            operation,
            signature: cursor.text()?,
            body: Bytes::copy_from_slice(cursor.bytes()?),
        });
    }
    let outbox = match cursor.u8()? {
        0 => None,
        _ => Some(OutboxRow {
            id: Some(cursor.i64()?),
            operation_type: cursor.i64()?,
            status: cursor.i64()?,
            url: cursor.text()?,
            body: Bytes::copy_from_slice(cursor.bytes()?),
        }),
    };
    Ok(Entry::Save {
        row: Box::new(TxRow {
            public_id,
            order_id,
            serial,
            transaction_id,
            status,
            data,
            replies,
            daily: None,
        }),
        new,
        outbox,
    })
}

fn decode_attempt(cursor: &mut Cursor<'_>) -> Result<Entry, String> {
    let data = cursor.text()?;
    let attempt = cursor.u32()?;
    let outbox = match cursor.u8()? {
        0 => None,
        _ => {
            let id = cursor.i64()?;
            let progress = match cursor.u8()? {
                0 => OutboxProgress::Delivered,
                1 => OutboxProgress::Abandoned,
                2 => OutboxProgress::Retry {
                    next_attempt_ms: u64::from_le_bytes(cursor.array()?),
                },
                other => return Err(format!("unknown outbox progress {other}")),
            };
            Some((id, progress))
        }
    };
    Ok(Entry::Attempt {
        data,
        attempt,
        outbox,
    })
}
