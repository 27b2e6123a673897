//! One sync iteration: from `start` until the stream is closed (spec §5).

use super::diagnostics::DiagnosticsState;
use super::store::{ApplyMode, SyncStore};
use super::subscriptions::{offline_streams, reconcile, SubscriptionRequest};
use super::target::Target;
use super::{Outcome, SyncEvent};
use crate::error::{PowerSyncError, Result};
use crate::sync::instructions::{BucketChange, CheckpointRequest, Diagnostics, Instruction, Severity};
use crate::sync::options::{CheckpointMode, StartSyncStream, StreamKey};
use crate::sync::protocol::{Checkpoint, CheckpointDiff, DataLine, SyncLine};
use crate::sync::status::{BucketProgress, DownloadProgress, SyncStatus};
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
    pending: Option<Box<Target>>,
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
    /// Starts an iteration (spec §5.3).
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
        .map_err(|e| PowerSyncError::Internal(Some(e.to_string())))?;

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

    /// Ends the iteration from the client side (`stop`, `connection end`).
    pub(crate) fn disconnect(&mut self) -> Vec<Instruction> {
        self.status.connected = false;
        self.status.connecting = false;
        self.status.downloading = None;
        self.status.internal_last_applied_checkpoint_request_id = None;
        let mut out = Vec::new();
        self.publish_status(&mut out);
        out.push(Instruction::CloseSyncStream {
            hide_disconnect: false,
        });
        out
    }

    fn done(instructions: Vec<Instruction>) -> Result<Outcome> {
        Ok(Outcome {
            instructions,
            ended: false,
        })
    }

    fn ended(instructions: Vec<Instruction>) -> Result<Outcome> {
        Ok(Outcome {
            instructions,
            ended: true,
        })
    }

    pub(crate) fn handle(&mut self, event: SyncEvent<'_>, store: &mut dyn SyncStore) -> Result<Outcome> {
        match event {
            SyncEvent::Start(_) | SyncEvent::Stop => unreachable!("handled by SyncClient"),
            SyncEvent::ConnectionEnd => Self::ended(self.disconnect()),
            SyncEvent::ConnectionEstablished => {
                self.status.connecting = false;
                self.status.connected = true;
                let mut out = Vec::new();
                self.publish_status(&mut out);
                Self::done(out)
            }
            SyncEvent::RefreshedToken => Self::ended(vec![Instruction::CloseSyncStream {
                hide_disconnect: true,
            }]),
            SyncEvent::CompletedUpload => self.completed_upload(store),
            SyncEvent::UpdateSubscriptions(streams) => {
                let now = store.now()?;
                store.refresh_ttl(&streams, now)?;
                store.delete_outdated_subscriptions(now)?;
                let request = SubscriptionRequest::load(store, self.include_defaults)?;
                if request != self.request {
                    return Self::ended(vec![Instruction::CloseSyncStream {
                        hide_disconnect: true,
                    }]);
                }
                self.active_streams = streams;
                Self::done(Vec::new())
            }
            SyncEvent::TextLine(text) => {
                let line = crate::sync::protocol::parse_text(text)?;
                self.line(line, text.len(), store)
            }
            SyncEvent::BinaryLine(bytes) => {
                let line = crate::sync::protocol::parse_binary(bytes)?;
                self.line(line, bytes.len(), store)
            }
        }
    }

    fn line(&mut self, line: SyncLine<'_>, size: usize, store: &mut dyn SyncStore) -> Result<Outcome> {
        // Silently marked connected before the line is interpreted (spec §5.2).
        self.status.connected = true;
        self.status.connecting = false;
        let data = match &line {
            SyncLine::Data(d) => Some((d.bucket.to_string(), d.data.len() as i64)),
            _ => None,
        };
        let outcome = self.handle_line(line, size, store)?;
        let mut out = outcome.instructions;
        if !outcome.ended {
            self.publish_status_before_diagnostics(&mut out, data.as_ref().map(|(b, n)| (b.as_str(), *n)));
        }
        Ok(Outcome {
            instructions: out,
            ended: outcome.ended,
        })
    }

    /// Inserts the status (if changed) before trailing diagnostics instructions, which the
    /// reference emits after the status.
    fn publish_status_before_diagnostics(&mut self, out: &mut Vec<Instruction>, data: Option<(&str, i64)>) {
        let at = out
            .iter()
            .position(|i| matches!(i, Instruction::HandleDiagnostics(_)))
            .unwrap_or(out.len());
        let mut status = Vec::new();
        match data {
            Some((bucket, n)) => self.publish_status_after_data(bucket, n, &mut status),
            None => self.publish_status(&mut status),
        }
        if let Some(s) = status.pop() {
            out.insert(at, s);
        }
    }

    fn handle_line(&mut self, line: SyncLine<'_>, size: usize, store: &mut dyn SyncStore) -> Result<Outcome> {
        match line {
            SyncLine::Checkpoint(cp) => self.checkpoint(&cp, store),
            SyncLine::CheckpointDiff(diff) => self.checkpoint_diff(&diff, store),
            SyncLine::CheckpointComplete => self.checkpoint_complete(store),
            SyncLine::PartialCheckpointComplete(p) => self.partial_complete(p.priority.0, store),
            SyncLine::Data(data) => self.data(&data, size, store),
            SyncLine::TokenExpiresIn(s) => self.token_expires_in(s, store),
            SyncLine::Unknown => Self::done(vec![Instruction::log(Severity::Debug, "Unknown sync line")]),
        }
    }

    fn checkpoint(&mut self, cp: &Checkpoint<'_>, store: &mut dyn SyncStore) -> Result<Outcome> {
        let target = Target::from_checkpoint(cp);
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

    fn checkpoint_diff(&mut self, diff: &CheckpointDiff<'_>, store: &mut dyn SyncStore) -> Result<Outcome> {
        let Phase::Tracking(old) = &self.phase else {
            return Err(PowerSyncError::protocol(
                "Received checkpoint_diff without previous checkpoint",
                None,
            ));
        };
        let target = old.with_diff(diff);
        let removed: Vec<&str> = diff.removed_buckets.iter().map(|n| n.as_ref()).collect();
        store.delete_buckets(&removed)?;
        self.track(target, store)
    }

    /// Common tail of `checkpoint` / `checkpoint_diff`: progress, streams, then switch.
    fn track(&mut self, target: Target, store: &mut dyn SyncStore) -> Result<Outcome> {
        let counters = store.bucket_counters()?;
        let mut progress: HashMap<String, BucketProgress> = target
            .buckets
            .iter()
            .map(|(name, b)| {
                let (at_last, since_last) = counters.get(name).copied().unwrap_or((0, 0));
                (
                    name.clone(),
                    BucketProgress {
                        priority: b.priority,
                        at_last,
                        since_last,
                        target_count: b.count.unwrap_or(0),
                    },
                )
            })
            .collect();
        if progress
            .values()
            .any(|p| p.target_count < p.at_last + p.since_last)
        {
            store.reset_counters()?;
            for p in progress.values_mut() {
                p.at_last = 0;
                p.since_last = 0;
            }
        }
        let (mut out, streams) = reconcile(store, &target, &self.request)?;

        // Commit.
        let diagnostics = self.diagnostics.is_some().then(|| {
            let mut changes: Vec<BucketChange> = progress
                .iter()
                .map(|(name, p)| BucketChange {
                    name: name.clone(),
                    progress: *p,
                })
                .collect();
            changes.sort_by(|a, b| a.name.cmp(&b.name));
            Instruction::HandleDiagnostics(Diagnostics::BucketStateChange {
                changes,
                incremental: false,
            })
        });
        self.status.downloading = Some(DownloadProgress::new(progress));
        self.status.streams = streams;
        self.pending = None;
        self.phase = Phase::Tracking(Box::new(target));
        out.extend(diagnostics);
        Self::done(out)
    }

    fn data(&mut self, line: &DataLine<'_>, size: usize, store: &mut dyn SyncStore) -> Result<Outcome> {
        store.insert_data_line(line, size)?;
        let mut out = Vec::new();
        if let Some(progress) = self.status.downloading.as_mut() {
            if progress.add_downloaded(&line.bucket, line.data.len() as i64) && self.diagnostics.is_some() {
                out.push(Instruction::HandleDiagnostics(Diagnostics::BucketStateChange {
                    changes: vec![BucketChange {
                        name: line.bucket.to_string(),
                        progress: progress.buckets[line.bucket.as_ref()],
                    }],
                    incremental: true,
                }));
            }
        }
        if let Some(d) = self.diagnostics.as_mut() {
            out.extend(d.scan(line));
        }
        Self::done(out)
    }

    fn token_expires_in(&mut self, seconds: i32, store: &mut dyn SyncStore) -> Result<Outcome> {
        let now = store.now()?;
        store.refresh_ttl(&self.active_streams, now)?;
        if seconds <= 0 {
            return Self::ended(vec![
                Instruction::FetchCredentials { did_expire: true },
                Instruction::CloseSyncStream {
                    hide_disconnect: false,
                },
            ]);
        }
        if seconds <= 30 {
            return Self::done(vec![Instruction::FetchCredentials { did_expire: false }]);
        }
        store.delete_outdated_subscriptions(now)?;
        let request = SubscriptionRequest::load(store, self.include_defaults)?;
        if request != self.request {
            return Self::ended(vec![Instruction::CloseSyncStream {
                hide_disconnect: true,
            }]);
        }
        Self::done(Vec::new())
    }

    fn tracked(&self) -> Option<&Target> {
        match &self.phase {
            Phase::Tracking(t) => Some(t),
            Phase::BeforeCheckpoint { .. } => None,
        }
    }

    fn checkpoint_complete(&mut self, store: &mut dyn SyncStore) -> Result<Outcome> {
        let Some(target) = self.tracked() else {
            return Err(PowerSyncError::protocol(
                "Received checkpoint complete without previous checkpoint",
                None,
            ));
        };
        let target = target.clone();
        let failures = store.validate_checksums(&target.checksums(None))?;
        if !failures.is_empty() {
            return self.checksum_failure(store, failures, "Could not apply checkpoint");
        }
        match self.apply_full(&target, store)? {
            None => {
                self.pending = Some(Box::new(target));
                Self::done(vec![Instruction::log(
                    Severity::Info,
                    "Could not apply checkpoint due to local data. Will retry at completed upload or next checkpoint.",
                )])
            }
            Some(mut applied) => {
                let mut out = vec![Instruction::log(
                    Severity::Debug,
                    "Validated and applied checkpoint",
                )];
                out.append(&mut applied);
                Self::done(out)
            }
        }
    }

    fn checksum_failure(
        &mut self,
        store: &mut dyn SyncStore,
        failures: Vec<super::store::ChecksumFailure>,
        what: &str,
    ) -> Result<Outcome> {
        let names: Vec<&str> = failures.iter().map(|f| f.bucket.as_str()).collect();
        store.delete_buckets(&names)?;
        let list: Vec<String> = failures.iter().map(|f| f.describe()).collect();
        Self::ended(vec![
            Instruction::log(
                Severity::Warning,
                format!("{what}, Checksums didn't match, failed for: {}", list.join(", ")),
            ),
            Instruction::CloseSyncStream {
                hide_disconnect: false,
            },
        ])
    }

    /// Steps 2–8 of spec §6.1 after checksums were validated. `None` if the write gate is
    /// closed; otherwise the instructions after the first log line, with the status
    /// committed.
    fn apply_full(&mut self, target: &Target, store: &mut dyn SyncStore) -> Result<Option<Vec<Instruction>>> {
        let names = target.included(None);
        store.set_last_op(&names, target.last_op_id)?;
        if let Some(w) = target.write_checkpoint {
            store.set_kv("last_seen_checkpoint_request_id", w)?;
        }
        if store.write_gate_closed()? {
            return Ok(None);
        }
        let now = store.now()?;
        store.apply(ApplyMode::Full, now)?;
        let counts: Vec<(&str, i64)> = target
            .buckets
            .iter()
            .filter_map(|(n, b)| b.count.map(|c| (n.as_str(), c)))
            .collect();
        store.set_counts(&counts)?;
        let ids: Vec<i64> = self.status.streams.iter().map(|s| s.id).collect();
        if !ids.is_empty() {
            store.set_subscriptions_synced(&ids, now)?;
        }
        if let Some(w) = target.write_checkpoint {
            store.set_kv("last_applied_checkpoint_request_id", w)?;
        }

        // Commit.
        for s in self.status.streams.iter_mut() {
            s.last_synced_at = Some(now);
        }
        self.status.full_synced(now);
        self.status.internal_last_applied_checkpoint_request_id = target.write_checkpoint;
        let mut out = Vec::new();
        if let Some(w) = target.write_checkpoint {
            out.push(Instruction::log(
                Severity::Debug,
                format!("Applied checkpoint request id {w}"),
            ));
        }
        out.push(Instruction::DidCompleteSync {
            applied_checkpoint_request_id: target.write_checkpoint.map(|w| w.to_string()),
        });
        Ok(Some(out))
    }

    fn partial_complete(&mut self, priority: i32, store: &mut dyn SyncStore) -> Result<Outcome> {
        let Some(target) = self.tracked() else {
            return Err(PowerSyncError::state(
                "Received checkpoint complete without previous checkpoint",
            ));
        };
        let target = target.clone();
        let failures = store.validate_checksums(&target.checksums(Some(priority)))?;
        if !failures.is_empty() {
            return self.checksum_failure(store, failures, "Could not apply partial checkpoint");
        }
        let names = target.included(Some(priority));
        store.set_last_op(&names, target.last_op_id)?;
        if priority != 0 && store.write_gate_closed()? {
            return Self::done(Vec::new());
        }
        let now = store.now()?;
        store.apply(
            ApplyMode::Partial {
                priority,
                buckets: &names,
            },
            now,
        )?;
        let synced: Vec<i64> = self
            .status
            .streams
            .iter()
            .filter(|s| s.priority.is_some_and(|p| p <= priority))
            .map(|s| s.id)
            .collect();
        if !synced.is_empty() {
            store.set_subscriptions_synced(&synced, now)?;
        }

        // Commit.
        for s in self.status.streams.iter_mut() {
            if synced.contains(&s.id) {
                s.last_synced_at = Some(now);
            }
        }
        self.status.partial_synced(priority, now);
        Self::done(Vec::new())
    }

    fn completed_upload(&mut self, store: &mut dyn SyncStore) -> Result<Outcome> {
        let Some(pending) = self.pending.take() else {
            return Self::done(Vec::new());
        };
        let target_id = store.target_checkpoint_request_id()?;
        if let Some(t) = target_id {
            if pending.write_checkpoint.is_none_or(|w| w < t) {
                return Self::done(Vec::new());
            }
        }
        let failures = store.validate_checksums(&pending.checksums(None))?;
        let applied = if failures.is_empty() {
            self.apply_full(&pending, store)?
        } else {
            let names: Vec<&str> = failures.iter().map(|f| f.bucket.as_str()).collect();
            store.delete_buckets(&names)?;
            None
        };
        let mut out = Vec::new();
        match applied {
            Some(mut rest) => {
                out.push(Instruction::log(
                    Severity::Debug,
                    "Applied pending checkpoint after completed upload",
                ));
                out.append(&mut rest);
            }
            None => out.push(Instruction::log(
                Severity::Warning,
                "Could not apply pending checkpoint even after completed upload",
            )),
        }
        self.publish_status(&mut out);
        Self::done(out)
    }
}
