//! The sans-IO sync state machine.
//!
//! [`SyncClient::handle`] takes an event and a [`SyncStore`] and returns instructions. All
//! database access goes through the store, so the machine can be tested with a fake.
//!
//! Every event is handled in two phases, and the types keep them apart:
//! [`Iteration::prepare`] does all the database work (the only part that can fail) with the
//! iteration borrowed read-only, and describes the outcome as a [`Plan`];
//! [`Iteration::commit`] consumes the plan, applies it to the in-memory iteration and cannot
//! fail. Any error (a protocol error, a constraint violation, BUSY, …) comes back as
//! [`Aborted`] and the iteration stays as it was (one exception, as in the reference, which
//! `Aborted` carries and [`Iteration::abort`] applies), and the iteration carries on: the SDK
//! decides whether to retry the event or stop.

mod diagnostics;
mod iteration;
pub mod store;
pub mod subscriptions;
pub mod target;
#[cfg(test)]
mod tests;

use crate::error::{Error, Result};
use crate::instructions::Instruction;
use crate::options::{StartSyncStream, StreamKey};
pub use iteration::{Aborted, Iteration, Plan};
pub use store::SyncStore;

/// An input to the state machine.
#[derive(Debug)]
pub enum SyncEvent<'a> {
    /// `start` with its decoded payload.
    Start(Box<StartSyncStream>),
    /// `stop`.
    Stop,
    /// `line_text`: one JSON sync line (decoded by the state machine, so that decode errors
    /// come after the active-iteration check, as in the reference).
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

/// Result of an event handled by an active iteration ([`Iteration::commit`]).
#[derive(Debug)]
pub struct Outcome {
    /// The instructions for the SDK.
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

    /// Handles one event. An error leaves the state machine as it was: an active iteration
    /// stays active and unchanged.
    pub fn handle(&mut self, event: SyncEvent<'_>, store: &mut dyn SyncStore) -> Result<Vec<Instruction>> {
        match event {
            SyncEvent::Start(options) => {
                // The new iteration replaces the old one only once it could be built; the old
                // one goes without instructions (the SDK has already closed its stream).
                let (iteration, instructions) = Iteration::start(*options, store)?;
                self.iteration = Some(iteration);
                Ok(instructions)
            }
            SyncEvent::Stop => Ok(match self.iteration.take() {
                None => Vec::new(),
                Some(mut it) => it.stop(),
            }),
            event => {
                let Some(it) = self.iteration.as_mut() else {
                    return Err(Error::state("No iteration is active"));
                };
                let outcome = it.handle(event, store)?;
                if outcome.ended {
                    self.iteration = None;
                }
                Ok(outcome.instructions)
            }
        }
    }
}
