//! One sync iteration: from `start` until the stream is closed.

use super::diagnostics::DiagnosticsState;
use super::store::{ApplyMode, SyncStore};
use super::subscriptions::{offline_streams, reconcile, SubscriptionRequest};
use super::target::Target;
use super::{Outcome, SyncEvent};
use crate::error::{Error, Result};
use crate::instructions::{BucketChange, CheckpointRequest, Diagnostics, Instruction, Severity};
use crate::line::{BucketPriority, DataLine, SyncLine};
use crate::options::{CheckpointMode, StartSyncStream, StreamKey};
use crate::status::{BucketProgress, DownloadProgress, StreamStatus, SyncStatus};
use serde::Serialize;
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Where the iteration is in the protocol.
#[derive(Debug)]
enum Phase {
    /// Waiting for the first checkpoint; remembers the buckets sent in the request.
    BeforeCheckpoint { requested: Vec<String> },
    /// Downloading towards a target checkpoint.
    Tracking(Box<Target>),
}

/// An active iteration.
#[derive(Debug)]
pub struct Iteration {
    include_defaults: bool,
    active_streams: Vec<StreamKey>,
    diagnostics: Option<DiagnosticsState>,
    status: SyncStatus,
    /// The last emitted status, for de-duplication: its JSON and its per-bucket progress
    /// (the reference compares the whole in-memory status, so progress changes that do not
    /// show in the per-priority aggregate still count).
    published: Option<(String, Option<HashMap<String, BucketProgress>>)>,
    phase: Phase,
    /// Explicit subscriptions the current request was built with.
    request: SubscriptionRequest,
    /// A validated full checkpoint blocked by the write gate.
    pub(super) pending: Option<Box<Target>>,
    /// Number of plans committed: a [`Plan`] records the value it was prepared at, so that
    /// one prepared from an older state cannot be committed.
    epoch: u64,
}

#[derive(Serialize)]
struct RequestJson<'a> {
    buckets: Vec<BucketRequest>,
    include_checksum: bool,
    raw_data: bool,
    binary_data: bool,
    client_id: &'a str,
    parameters: &'a Option<serde_json::Map<String, serde_json::Value>>,
    streams: StreamsRequest<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_metadata: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct BucketRequest {
    name: String,
    after: String,
}

#[derive(Serialize)]
struct StreamsRequest<'a> {
    include_defaults: bool,
    subscriptions: Vec<SubscriptionJson<'a>>,
}

#[derive(Serialize)]
struct SubscriptionJson<'a> {
    stream: &'a str,
    parameters: Option<&'a RawValue>,
    override_priority: Option<i32>,
}

impl Iteration {
    /// Starts an iteration (docs/protocol.md#starting-an-iteration).
    pub(crate) fn start(
        options: StartSyncStream,
        store: &mut dyn SyncStore,
    ) -> Result<(Iteration, Vec<Instruction>)> {
        let mut status = SyncStatus {
            priority_status: store.priority_status()?,
            streams: offline_streams(store.subscriptions()?),
            ..Default::default()
        };
        status.connecting = true;
        let buckets = store.request_buckets()?;
        let now = store.now()?;
        store.refresh_ttl(&options.active_streams, now)?;
        // A second clock reading for the cleanup, as in the reference.
        let now = store.now()?;
        store.delete_outdated_subscriptions(now)?;
        let request = SubscriptionRequest::load(store, options.include_defaults)?;
        let client_id = store.client_id()?;
        let checkpoint_request = match options.checkpoint_mode {
            CheckpointMode::Legacy => None,
            CheckpointMode::Requests => Some(CheckpointRequest {
                client_id: client_id.clone(),
                checkpoint_request_id: store.checkpoint_request_id()?.to_string(),
            }),
        };

        let params: Vec<Option<Box<RawValue>>> = request
            .entries
            .iter()
            .map(|e| {
                (e.params != "null")
                    .then(|| RawValue::from_string(e.params.clone()).ok())
                    .flatten()
            })
            .collect();
        let json = serde_json::to_string(&RequestJson {
            buckets: buckets
                .iter()
                .map(|(name, after)| BucketRequest {
                    name: name.clone(),
                    after: after.to_string(),
                })
                .collect(),
            include_checksum: true,
            raw_data: true,
            binary_data: true,
            client_id: &client_id,
            parameters: &options.parameters,
            streams: StreamsRequest {
                include_defaults: options.include_defaults,
                subscriptions: request
                    .entries
                    .iter()
                    .zip(&params)
                    .map(|(e, p)| SubscriptionJson {
                        stream: &e.stream,
                        parameters: p.as_deref(),
                        override_priority: e.override_priority,
                    })
                    .collect(),
            },
            app_metadata: options.app_metadata.as_deref(),
        })
        .map_err(|e| Error::Internal(Some(e.to_string())))?;

        let mut it = Iteration {
            include_defaults: options.include_defaults,
            active_streams: options.active_streams,
            diagnostics: options.diagnostics.map(|_| DiagnosticsState::default()),
            status,
            published: None,
            phase: Phase::BeforeCheckpoint {
                requested: buckets.into_iter().map(|(n, _)| n).collect(),
            },
            request,
            pending: None,
            epoch: 0,
        };
        let mut instructions = Vec::with_capacity(2);
        it.publish_status(&mut instructions);
        instructions.push(Instruction::EstablishSyncStream {
            request: RawValue::from_string(json).expect("valid JSON"),
            checkpoint_request,
        });
        Ok((it, instructions))
    }

    /// The current status.
    pub fn status(&self) -> &SyncStatus {
        &self.status
    }

    /// Emits the status if it differs from the last published one.
    fn publish_status(&mut self, out: &mut Vec<Instruction>) {
        let json = self.status.to_json();
        let buckets = self.status.downloading.as_ref().map(|d| &d.buckets);
        let same = self
            .published
            .as_ref()
            .is_some_and(|(j, b)| *j == json && b.as_ref() == buckets);
        if !same {
            self.published = Some((json.clone(), buckets.cloned()));
            out.push(Instruction::status(json));
        }
    }

    /// Fast path of [`Self::publish_status`] after `n` ops were added to `bucket`: the
    /// per-priority totals change exactly when the per-bucket values do, so only the JSON is
    /// compared and the published copy is updated in place (no O(buckets) work per line).
    fn publish_status_after_data(&mut self, bucket: &str, n: i64, out: &mut Vec<Instruction>) {
        let json = self.status.to_json();
        match self.published.as_mut() {
            Some((published, buckets)) if *published != json => {
                if let Some(p) = buckets.as_mut().and_then(|b| b.get_mut(bucket)) {
                    p.since_last += n;
                }
                *published = json.clone();
                out.push(Instruction::status(json));
            }
            Some(_) => {}
            None => self.publish_status(out),
        }
    }

    /// Handles an event in two phases: [`Self::prepare`] does all database work without
    /// touching the iteration and returns a [`Plan`]; [`Self::commit`] applies the plan in
    /// memory and cannot fail. An error therefore leaves the iteration exactly as it was
    /// (but for the exception [`Aborted`] carries, applied by [`Self::abort`]), and the SDK
    /// can carry on with it (e.g. deliver the line again after rolling back).
    pub(crate) fn handle(&mut self, event: SyncEvent<'_>, store: &mut dyn SyncStore) -> Result<Outcome> {
        match self.prepare(event, store) {
            Ok(plan) => Ok(self.commit(plan)),
            Err(aborted) => Err(self.abort(aborted)),
        }
    }

    /// Ends the iteration from the client side (`stop`): the disconnected status, then
    /// `CloseSyncStream`.
    pub(crate) fn stop(&mut self) -> Vec<Instruction> {
        let plan = self.plan(Transition::Close {
            hide_disconnect: false,
        });
        self.commit(plan).instructions
    }

    /// A plan with no instructions of its own, prepared at the current state.
    fn plan<'a>(&self, transition: Transition<'a>) -> Plan<'a> {
        Plan {
            draft: Draft::new(transition),
            epoch: self.epoch,
        }
    }

    /// Phase one: everything that reads or writes the database, and the instructions that
    /// come before any status change (log lines, credential requests). Takes the iteration
    /// by shared reference: whatever the store does, the in-memory state only changes by
    /// committing the returned plan (or aborting with the error).
    ///
    /// `start` and `stop` are handled by [`SyncClient`](super::SyncClient), not here (they
    /// panic).
    pub fn prepare<'a>(&self, event: SyncEvent<'a>, store: &mut dyn SyncStore) -> Result<Plan<'a>, Aborted> {
        let mut leaked = None;
        match self.prepare_event(event, store, &mut leaked) {
            Ok(draft) => Ok(Plan {
                draft,
                epoch: self.epoch,
            }),
            Err(error) => Err(Aborted { error, leaked }),
        }
    }

    /// Phase two after a failed prepare: applies the one change an error keeps (see
    /// [`Aborted`]) and returns the error.
    pub fn abort(&mut self, aborted: Aborted) -> Error {
        if let Some(synced) = aborted.leaked {
            self.mark_streams_synced(&synced);
        }
        aborted.error
    }

    /// [`Self::prepare`], with `leaked` receiving the streams an apply marked as synced.
    fn prepare_event<'a>(
        &self,
        event: SyncEvent<'a>,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Draft<'a>> {
        Ok(match event {
            SyncEvent::Start(_) | SyncEvent::Stop => unreachable!("handled by SyncClient"),
            SyncEvent::ConnectionEnd => Draft::new(Transition::Close {
                hide_disconnect: false,
            }),
            SyncEvent::ConnectionEstablished => Draft::new(Transition::Connected),
            SyncEvent::RefreshedToken => Draft::new(Transition::Close {
                hide_disconnect: true,
            }),
            SyncEvent::CompletedUpload => self.completed_upload(store, leaked)?,
            SyncEvent::UpdateSubscriptions(streams) => {
                let now = store.now()?;
                store.refresh_ttl(&streams, now)?;
                if self.request_changed(store)? {
                    Draft::new(Transition::Close {
                        hide_disconnect: true,
                    })
                } else {
                    Draft::new(Transition::ActiveStreams(streams))
                }
            }
            SyncEvent::TextLine(text) => {
                let line = crate::line::parse_text(text)?;
                self.prepare_line(line, text.len(), store, leaked)?
            }
            SyncEvent::BinaryLine(bytes) => {
                let line = crate::line::parse_binary(bytes)?;
                self.prepare_line(line, bytes.len(), store, leaked)?
            }
        })
    }

    /// Phase two: applies a prepared plan to the in-memory state. Infallible; the only way
    /// (with [`Self::abort`]) an event changes the iteration.
    pub fn commit(&mut self, plan: Plan<'_>) -> Outcome {
        debug_assert_eq!(plan.epoch, self.epoch, "plan prepared from an older state");
        self.epoch += 1;
        let Draft {
            instructions: mut out,
            transition,
        } = plan.draft;
        let mut ended = false;
        match transition {
            Transition::Track {
                target,
                progress,
                streams,
            } => {
                self.status.connected = true;
                self.status.connecting = false;
                self.status.downloading = Some(DownloadProgress::new(progress));
                self.status.streams = streams;
                self.publish_status(&mut out);
                // A pending checkpoint is not applied after a new one arrived: the oplog has
                // moved on since it was validated.
                self.pending = None;
                if self.diagnostics.is_some() {
                    let progress = &self.status.downloading.as_ref().expect("set above").buckets;
                    let mut changes: Vec<BucketChange> = progress
                        .iter()
                        .map(|(name, p)| BucketChange {
                            name: name.clone(),
                            progress: *p,
                        })
                        .collect();
                    changes.sort_by(|a, b| a.name.cmp(&b.name));
                    out.push(Instruction::HandleDiagnostics(Diagnostics::BucketStateChange {
                        changes,
                        incremental: false,
                    }));
                }
                self.phase = Phase::Tracking(target);
            }
            Transition::Data { line } => {
                let n = line.data.len() as i64;
                let tracked = self
                    .status
                    .downloading
                    .as_mut()
                    .is_some_and(|progress| progress.add_downloaded(&line.bucket, n));
                self.publish_status_after_data(&line.bucket, n, &mut out);
                if let Some(d) = self.diagnostics.as_mut() {
                    if tracked {
                        let progress = self.status.downloading.as_ref().expect("tracked");
                        out.push(Instruction::HandleDiagnostics(Diagnostics::BucketStateChange {
                            changes: vec![BucketChange {
                                name: line.bucket.to_string(),
                                progress: progress.buckets[line.bucket.as_ref()],
                            }],
                            incremental: true,
                        }));
                    }
                    out.extend(d.scan(&line));
                }
                // Nothing else changed: no second status comparison (O(buckets)) per line.
                return Outcome {
                    instructions: out,
                    ended: false,
                };
            }
            Transition::Delayed { pending, partial } => {
                self.pending = Some(pending);
                if let Some(synced) = partial {
                    self.mark_streams_synced(&synced);
                    self.status.partial_synced(BucketPriority::HIGHEST.0, synced.at);
                    self.publish_status(&mut out);
                }
            }
            Transition::Applied {
                priority,
                synced,
                request_id,
            } => {
                self.pending = None;
                self.mark_streams_synced(&synced);
                match priority {
                    Some(p) => self.status.partial_synced(p, synced.at),
                    None => {
                        if let Some(w) = request_id {
                            out.push(Instruction::log(
                                Severity::Debug,
                                format!("Applied checkpoint request id {w}"),
                            ));
                        }
                        out.push(Instruction::DidCompleteSync {
                            applied_checkpoint_request_id: request_id.map(|w| w.to_string()),
                        });
                        self.status.full_synced(synced.at);
                        self.status.internal_last_applied_checkpoint_request_id = request_id;
                    }
                }
                self.publish_status(&mut out);
            }
            Transition::Close { hide_disconnect } => {
                self.status.connected = false;
                self.status.connecting = false;
                self.status.downloading = None;
                self.status.internal_last_applied_checkpoint_request_id = None;
                self.publish_status(&mut out);
                out.push(Instruction::CloseSyncStream { hide_disconnect });
                ended = true;
            }
            Transition::ActiveStreams(streams) => self.active_streams = streams,
            Transition::Connected => {
                self.status.connected = true;
                self.status.connecting = false;
            }
            Transition::Empty => {}
        }
        // Whatever changed the status is reported at the end of every event.
        self.publish_status(&mut out);
        Outcome {
            instructions: out,
            ended,
        }
    }

    fn mark_streams_synced(&mut self, synced: &Synced) {
        for s in self.status.streams.iter_mut() {
            if synced.streams.contains(&s.id) {
                s.last_synced_at = Some(synced.at);
            }
        }
    }

    /// Deletes outdated subscriptions and tells whether the explicit subscriptions differ
    /// from those the current request was built with (then the stream must be reopened).
    fn request_changed(&self, store: &mut dyn SyncStore) -> Result<bool> {
        // A second clock reading, as the reference takes one for the TTL refresh and one for
        // the cleanup.
        let now = store.now()?;
        store.delete_outdated_subscriptions(now)?;
        Ok(SubscriptionRequest::load(store, self.include_defaults)? != self.request)
    }

    fn prepare_line<'a>(
        &self,
        line: SyncLine<'a>,
        size: usize,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Draft<'a>> {
        match line {
            SyncLine::Checkpoint(cp) => {
                let target = Target::from_checkpoint(&cp);
                let to_delete: Vec<&str> = match &self.phase {
                    Phase::BeforeCheckpoint { requested } => requested
                        .iter()
                        .map(String::as_str)
                        .filter(|n| !target.buckets.contains_key(*n))
                        .collect(),
                    Phase::Tracking(old) => old
                        .buckets
                        .keys()
                        .map(String::as_str)
                        .filter(|n| !target.buckets.contains_key(*n))
                        .collect(),
                };
                store.delete_buckets(&to_delete)?;
                self.track(target, store)
            }
            SyncLine::CheckpointDiff(diff) => {
                let Some(old) = self.tracked() else {
                    return Err(Error::protocol(
                        "Received checkpoint_diff without previous checkpoint",
                        None,
                    ));
                };
                let target = old.with_diff(&diff);
                let removed: Vec<&str> = diff.removed_buckets.iter().map(|n| n.as_ref()).collect();
                store.delete_buckets(&removed)?;
                self.track(target, store)
            }
            SyncLine::CheckpointComplete => {
                let Some(target) = self.tracked() else {
                    return Err(Error::protocol(
                        "Received checkpoint complete without previous checkpoint",
                        None,
                    ));
                };
                self.checkpoint_complete(target, store, leaked)
            }
            SyncLine::PartialCheckpointComplete(p) => {
                let Some(target) = self.tracked() else {
                    return Err(Error::state(
                        "Received checkpoint complete without previous checkpoint",
                    ));
                };
                self.partial_complete(target, p.priority.0, store, leaked)
            }
            SyncLine::Data(line) => {
                store.insert_data_line(&line, size)?;
                Ok(Draft::new(Transition::Data { line }))
            }
            SyncLine::TokenExpiresIn(seconds) => self.token_expires_in(seconds, store),
            SyncLine::Unknown => Ok(Draft {
                instructions: vec![Instruction::log(Severity::Debug, "Unknown sync line")],
                transition: Transition::Connected,
            }),
        }
    }

    /// Common tail of `checkpoint` / `checkpoint_diff`: progress, then streams.
    fn track<'a>(&self, target: Target, store: &mut dyn SyncStore) -> Result<Draft<'a>> {
        let counters = store.bucket_counters()?;
        let mut reset = Vec::new();
        let progress: HashMap<String, BucketProgress> = target
            .buckets
            .iter()
            .map(|(name, b)| {
                let mut p = BucketProgress {
                    priority: b.priority,
                    at_last: 0,
                    since_last: 0,
                    target_count: b.count.unwrap_or(0),
                    reset_counter: false,
                };
                if let Some(stored) = counters.get(name) {
                    if p.target_count < stored.at_last + stored.since_last {
                        // The bucket shrank below what was counted (compaction, new sync
                        // rules): progress for it starts again from zero. Only this bucket.
                        p.reset_counter = true;
                        reset.push(stored.id);
                    } else {
                        p.at_last = stored.at_last;
                        p.since_last = stored.since_last;
                    }
                }
                (name.clone(), p)
            })
            .collect();
        // In row order, as the reference resets them while scanning `ps_buckets`.
        reset.sort_unstable();
        store.reset_counters(&reset)?;
        let (instructions, streams) = reconcile(store, &target, &self.request)?;
        Ok(Draft {
            instructions,
            transition: Transition::Track {
                target: Box::new(target),
                progress,
                streams,
            },
        })
    }

    fn token_expires_in<'a>(&self, seconds: i32, store: &mut dyn SyncStore) -> Result<Draft<'a>> {
        let now = store.now()?;
        store.refresh_ttl(&self.active_streams, now)?;
        if seconds <= 0 {
            return Ok(Draft {
                instructions: vec![Instruction::FetchCredentials { did_expire: true }],
                transition: Transition::Close {
                    hide_disconnect: false,
                },
            });
        }
        if seconds <= 30 {
            return Ok(Draft {
                instructions: vec![Instruction::FetchCredentials { did_expire: false }],
                transition: Transition::Connected,
            });
        }
        // The keepalive is also when expired subscriptions are noticed.
        Ok(Draft::new(if self.request_changed(store)? {
            Transition::Close {
                hide_disconnect: true,
            }
        } else {
            Transition::Connected
        }))
    }

    fn tracked(&self) -> Option<&Target> {
        match &self.phase {
            Phase::Tracking(t) => Some(t),
            Phase::BeforeCheckpoint { .. } => None,
        }
    }

    /// Validates and applies `target` (all buckets, or those up to `priority`). Does all the
    /// writing; what it means for the in-memory state is returned.
    fn sync_local(
        &self,
        target: &Target,
        priority: Option<i32>,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<LocalSync> {
        let failures = store.validate_checksums(&target.checksums(priority))?;
        if !failures.is_empty() {
            let names: Vec<&str> = failures.iter().map(|f| f.bucket.as_str()).collect();
            store.delete_buckets(&names)?;
            let list: Vec<String> = failures.iter().map(|f| f.describe()).collect();
            return Ok(LocalSync::ChecksumFailure(format!(
                "Could not apply checkpoint, Checksums didn't match, failed for: {}",
                list.join(", ")
            )));
        }
        let names = target.included(priority);
        store.set_last_op(&names, target.last_op_id)?;
        if priority.is_none() {
            if let Some(w) = target.write_checkpoint {
                store.set_kv("last_seen_checkpoint_request_id", w)?;
            }
        }
        let now = store.now()?;
        // Priority 0 is published even while local writes are pending.
        let gate_applies = priority != Some(BucketPriority::HIGHEST.0);
        if !gate_applies || !store.write_gate_closed()? {
            let mode = match priority {
                None => ApplyMode::Full,
                Some(priority) => ApplyMode::Partial {
                    priority,
                    buckets: &names,
                },
            };
            store.apply(mode, now)?;
            if priority.is_none() {
                let counts: Vec<(&str, i64)> = target
                    .buckets
                    .iter()
                    .filter_map(|(n, b)| b.count.map(|c| (n.as_str(), c)))
                    .collect();
                store.set_counts(&counts)?;
            }
            return Ok(LocalSync::Applied(
                self.streams_synced(priority, now, store, leaked)?,
            ));
        }
        // A full checkpoint whose buckets all have priority 0 is what the service sends
        // instead of a partial checkpoint at priority 0: publish it as one.
        let highest = BucketPriority::HIGHEST.0;
        if priority.is_none()
            && !target.buckets.is_empty()
            && target.buckets.values().all(|b| b.priority == highest)
        {
            let names = target.included(Some(highest));
            store.apply(
                ApplyMode::Partial {
                    priority: highest,
                    buckets: &names,
                },
                now,
            )?;
            return Ok(LocalSync::AppliedPartially(self.streams_synced(
                Some(highest),
                now,
                store,
                leaked,
            )?));
        }
        Ok(LocalSync::Pending)
    }

    /// Records `now` as the last sync of the streams included at `priority` (all for `None`).
    /// Row by row, as the reference: when a write fails, the streams up to and including that
    /// one are reported in `leaked` (the reference has already updated them in memory).
    fn streams_synced(
        &self,
        priority: Option<i32>,
        now: i64,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Synced> {
        let streams: Vec<i64> = self
            .status
            .streams
            .iter()
            .filter(|s| priority.is_none_or(|p| s.priority.is_some_and(|sp| sp <= p)))
            .map(|s| s.id)
            .collect();
        for (i, id) in streams.iter().enumerate() {
            *leaked = Some(Synced {
                at: now,
                streams: streams[..=i].to_vec(),
            });
            store.set_subscriptions_synced(&[*id], now)?;
        }
        Ok(Synced { at: now, streams })
    }

    fn checkpoint_complete<'a>(
        &self,
        target: &Target,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Draft<'a>> {
        Ok(match self.sync_local(target, None, store, leaked)? {
            LocalSync::ChecksumFailure(message) => Self::checksum_failure(message),
            LocalSync::Pending => Self::delayed(target, None),
            LocalSync::AppliedPartially(synced) => Self::delayed(target, Some(synced)),
            LocalSync::Applied(synced) => {
                if let Some(w) = target.write_checkpoint {
                    store.set_kv("last_applied_checkpoint_request_id", w)?;
                }
                Draft {
                    instructions: vec![Instruction::log(
                        Severity::Debug,
                        "Validated and applied checkpoint",
                    )],
                    transition: Transition::Applied {
                        priority: None,
                        synced,
                        request_id: target.write_checkpoint,
                    },
                }
            }
        })
    }

    fn checksum_failure<'a>(message: String) -> Draft<'a> {
        Draft {
            instructions: vec![Instruction::log(Severity::Warning, message)],
            transition: Transition::Close {
                hide_disconnect: false,
            },
        }
    }

    /// A full checkpoint blocked by local writes: kept for `completed_upload`.
    fn delayed<'a>(target: &Target, partial: Option<Synced>) -> Draft<'a> {
        Draft {
            instructions: vec![
                Instruction::CheckpointDelayedDueToLocalData {},
                Instruction::log(
                    Severity::Info,
                    "Could not apply checkpoint due to local data. Will retry at completed upload or next checkpoint.",
                ),
            ],
            transition: Transition::Delayed {
                pending: Box::new(target.clone()),
                partial,
            },
        }
    }

    fn partial_complete<'a>(
        &self,
        target: &Target,
        priority: i32,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Draft<'a>> {
        Ok(match self.sync_local(target, Some(priority), store, leaked)? {
            LocalSync::ChecksumFailure(message) => Self::checksum_failure(message),
            // The full checkpoint that follows decides what to keep pending.
            LocalSync::Pending | LocalSync::AppliedPartially(_) => Draft {
                instructions: vec![Instruction::CheckpointDelayedDueToLocalData {}],
                transition: Transition::Connected,
            },
            LocalSync::Applied(synced) => Draft::new(Transition::Applied {
                priority: Some(priority),
                synced,
                request_id: None,
            }),
        })
    }

    fn completed_upload<'a>(
        &self,
        store: &mut dyn SyncStore,
        leaked: &mut Option<Synced>,
    ) -> Result<Draft<'a>> {
        let Some(pending) = self.pending.as_deref() else {
            return Ok(Draft::new(Transition::Empty));
        };
        if let Some(t) = store.target_checkpoint_request_id()? {
            // The pending checkpoint predates the write checkpoint the upload asked for: it
            // cannot be applied, but stays pending (a later call may find another target).
            if pending.write_checkpoint.is_none_or(|w| w < t) {
                return Ok(Draft::new(Transition::Empty));
            }
        }
        Ok(match self.sync_local(pending, None, store, leaked)? {
            LocalSync::Applied(synced) => {
                if let Some(w) = pending.write_checkpoint {
                    store.set_kv("last_applied_checkpoint_request_id", w)?;
                }
                Draft {
                    instructions: vec![Instruction::log(
                        Severity::Debug,
                        "Applied pending checkpoint after completed upload",
                    )],
                    transition: Transition::Applied {
                        priority: None,
                        synced,
                        request_id: pending.write_checkpoint,
                    },
                }
            }
            other => Draft {
                instructions: vec![Instruction::log(
                    Severity::Warning,
                    "Could not apply pending checkpoint even after completed upload",
                )],
                transition: match other {
                    LocalSync::AppliedPartially(synced) => Transition::Delayed {
                        pending: Box::new(pending.clone()),
                        partial: Some(synced),
                    },
                    // Still pending (also after a checksum failure): a later call retries.
                    _ => Transition::Empty,
                },
            },
        })
    }
}

/// Streams marked synced by an apply, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Synced {
    /// The apply's timestamp (µs).
    pub at: i64,
    /// Ids of the stream subscriptions whose `last_synced_at` became `at`.
    pub streams: Vec<i64>,
}

/// Outcome of validating and applying a checkpoint in the database.
enum LocalSync {
    /// Checksums did not match; the failed buckets were deleted. The warning text.
    ChecksumFailure(String),
    /// Local writes block applying.
    Pending,
    /// Applied (fully, or up to the requested priority).
    Applied(Synced),
    /// A full apply was blocked, but all buckets have priority 0 and were published as a
    /// partial sync at priority 0.
    AppliedPartially(Synced),
}

/// How an event changes the iteration, computed by [`Iteration::prepare`] once every
/// database write has succeeded, applied by [`Iteration::commit`].
#[derive(Debug)]
pub(super) enum Transition<'a> {
    /// Start tracking a new target checkpoint (`checkpoint`, `checkpoint_diff`).
    Track {
        target: Box<Target>,
        progress: HashMap<String, BucketProgress>,
        streams: Vec<StreamStatus>,
    },
    /// A data line was stored.
    Data { line: DataLine<'a> },
    /// A full checkpoint was validated but blocked by local writes; `partial` when its
    /// priority-0 buckets were published anyway.
    Delayed {
        pending: Box<Target>,
        partial: Option<Synced>,
    },
    /// A checkpoint was applied: fully (`priority: None`) or up to a priority.
    Applied {
        priority: Option<i32>,
        synced: Synced,
        request_id: Option<i64>,
    },
    /// The iteration ends.
    Close { hide_disconnect: bool },
    /// `update_subscriptions` without a change to the request.
    ActiveStreams(Vec<StreamKey>),
    /// Mark the stream connected.
    Connected,
    /// Nothing changes.
    Empty,
}

/// A prepared event: what [`Iteration::prepare`] decided once every store call of the event
/// had succeeded, for [`Iteration::commit`] to apply: the instructions that precede any
/// status change, and the change of the iteration.
///
/// Only `prepare` makes plans (the fields are private) and only `commit` consumes them, so
/// the in-memory state cannot change before storage succeeded, and a plan prepared from one
/// state is not committed over a later one (checked in debug builds).
#[derive(Debug)]
#[must_use = "an event changes nothing in memory until its plan is committed"]
pub struct Plan<'a> {
    pub(super) draft: Draft<'a>,
    /// [`Iteration::epoch`] when prepared.
    epoch: u64,
}

impl Plan<'_> {
    /// The instructions the plan starts with (status changes and others are added by
    /// [`Iteration::commit`]).
    pub fn instructions(&self) -> &[Instruction] {
        &self.draft.instructions
    }
}

/// What the steps of [`Iteration::prepare`] build up: a [`Plan`] before it is stamped with
/// the state it was prepared from.
#[derive(Debug)]
pub(super) struct Draft<'a> {
    pub(super) instructions: Vec<Instruction>,
    pub(super) transition: Transition<'a>,
}

impl<'a> Draft<'a> {
    fn new(transition: Transition<'a>) -> Self {
        Self {
            instructions: Vec::new(),
            transition,
        }
    }
}

/// A failed [`Iteration::prepare`]: the error, and the one change the iteration keeps
/// anyway, for [`Iteration::abort`] to apply.
///
/// The exception, as in the reference: once an apply has marked stream subscriptions as
/// synced, their in-memory `last_synced_at` stays updated even if a later write of the same
/// event fails (the reference updates them while writing); the status shows it with the
/// next change reported.
#[derive(Debug)]
#[must_use = "the error is returned by Iteration::abort"]
pub struct Aborted {
    error: Error,
    leaked: Option<Synced>,
}

impl Aborted {
    /// The error that stopped the event.
    pub fn error(&self) -> &Error {
        &self.error
    }
}
