//! The log of callback delivery attempts kept in memory: chunks that are
//! never moved as it grows, the bodies kept for the most recent ones only.

use crate::simulator::transaction::CallbackAttempt;

/// Callback attempts per chunk of the attempt log.
const ATTEMPT_CHUNK: usize = 4096;

/// Chunks of the most recent attempts that keep the body they sent (for
/// the dashboard's timeline): between 16 384 and 20 480 attempts, so that
/// memory does not grow with a body per payment.
const CHUNKS_WITH_BODIES: usize = 4;

/// The callback attempts, oldest first, in chunks that are never moved.
#[derive(Debug, Default)]
pub(super) struct AttemptLog {
    chunks: Vec<Vec<CallbackAttempt>>,
}

impl AttemptLog {
    pub(super) fn push(&mut self, attempt: CallbackAttempt) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < ATTEMPT_CHUNK => chunk.push(attempt),
            _ => {
                let mut chunk = Vec::with_capacity(ATTEMPT_CHUNK);
                chunk.push(attempt);
                self.chunks.push(chunk);
                let old = self.chunks.len().checked_sub(CHUNKS_WITH_BODIES + 1);
                if let Some(old) = old.and_then(|at| self.chunks.get_mut(at)) {
                    for attempt in old.iter_mut() {
                        attempt.body = None;
                    }
                }
            }
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &CallbackAttempt> {
        self.chunks.iter().flatten()
    }
}
