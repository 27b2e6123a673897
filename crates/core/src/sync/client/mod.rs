//! The sans-IO sync state machine (spec: sync-client §5–§9, §11).
//!
//! [`SyncClient::handle`] takes an event and a [`SyncStore`] and returns instructions. All
//! database access goes through the store, so the machine can be tested with a fake.
//!
//! Line handlers work in two phases (spec §5.5): everything that can fail (all store calls)
//! happens first and computes the next in-memory state into locals; only then is the
//! iteration mutated. A BUSY/LOCKED failure while handling a line therefore leaves the
//! iteration exactly as it was, so the SDK can roll back and deliver the line again.

mod diagnostics;
mod iteration;
pub mod store;
pub mod subscriptions;
pub mod target;
#[cfg(test)]
mod tests;

use crate::error::{PowerSyncError, Result};
use crate::sync::instructions::Instruction;
use crate::sync::options::{StartSyncStream, StreamKey};
pub use iteration::Iteration;
pub use store::SyncStore;

/// An input to the state machine.
#[derive(Debug)]
pub enum SyncEvent<'a> {
    /// `start` with its decoded payload.
    Start(Box<StartSyncStream>),
    /// `stop`.
    Stop,
    /// `line_text`: one JSON sync line (decoded by the state machine, so that decode errors
    /// are fatal and come after the active-iteration check, as in the reference).
    TextLine(&'a str),
    /// `line_binary`: one BSON document.
    BinaryLine(&'a [u8]),
    /// `refreshed_token`.
    RefreshedToken,
    /// `completed_upload`.
    CompletedUpload,
    /// `connection established`.
    ConnectionEstablished,
    /// `connection end`.
    ConnectionEnd,
    /// `update_subscriptions` with the app's current subscriptions.
    UpdateSubscriptions(Vec<StreamKey>),
}

/// Result of an event handled by an active iteration.
pub(crate) struct Outcome {
    pub instructions: Vec<Instruction>,
    /// The iteration is over.
    pub ended: bool,
}

/// The state machine of one connection: idle, or one active iteration.
#[derive(Debug, Default)]
pub struct SyncClient {
    iteration: Option<Iteration>,
}

impl SyncClient {
    /// Whether an iteration is active.
    pub fn is_active(&self) -> bool {
        self.iteration.is_some()
    }

    /// The active iteration, if any.
    pub fn iteration(&self) -> Option<&Iteration> {
        self.iteration.as_ref()
    }

    /// Drops the current iteration without any instruction.
    pub fn reset(&mut self) {
        self.iteration = None;
    }

    /// Handles one event. Errors end the iteration, except BUSY/LOCKED while handling a line
    /// (spec §1.2).
    pub fn handle(&mut self, event: SyncEvent<'_>, store: &mut dyn SyncStore) -> Result<Vec<Instruction>> {
        match event {
            SyncEvent::Start(options) => {
                // The old iteration's disconnect instructions are discarded.
                self.iteration = None;
                let (iteration, instructions) = Iteration::start(*options, store)?;
                self.iteration = Some(iteration);
                Ok(instructions)
            }
            SyncEvent::Stop => Ok(match self.iteration.take() {
                None => Vec::new(),
                Some(mut it) => it.disconnect(),
            }),
            event => {
                let Some(it) = self.iteration.as_mut() else {
                    return Err(PowerSyncError::state("No iteration is active"));
                };
                let is_line = matches!(event, SyncEvent::TextLine(_) | SyncEvent::BinaryLine(_));
                match it.handle(event, store) {
                    Ok(outcome) => {
                        if outcome.ended {
                            self.iteration = None;
                        }
                        Ok(outcome.instructions)
                    }
                    Err(e) => {
                        if !(is_line && e.is_busy_or_locked()) {
                            self.iteration = None;
                        }
                        Err(e)
                    }
                }
            }
        }
    }
}
