//! Stream subscriptions from the state machine's point of view (docs/protocol.md#streams-and-subscriptions): the explicit
//! subscriptions a request carries, and reconciling stored rows with a checkpoint.

use super::store::{SubscriptionRow, SyncStore};
use super::target::{StreamError, Target};
use crate::error::Result;
use crate::instructions::{Instruction, Severity};
use crate::line::BucketSubscriptionReason;
use crate::status::StreamStatus;

/// One entry of `request.streams.subscriptions`.
#[derive(Debug, Clone)]
pub struct RequestedSubscription {
    /// Local row id (not part of the request; used to resolve `{"sub": i}`).
    pub id: i64,
    /// Stream name.
    pub stream: String,
    /// Raw parameters text (`'null'` when none).
    pub params: String,
    /// `local_priority`.
    pub override_priority: Option<i32>,
}

/// The explicit-subscription part of a request.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionRequest {
    /// `include_defaults`.
    pub include_defaults: bool,
    /// Entries in rowid order.
    pub entries: Vec<RequestedSubscription>,
}

impl PartialEq for SubscriptionRequest {
    /// Equal if `include_defaults` and every (stream, params text, priority) match; row ids
    /// do not matter.
    fn eq(&self, other: &Self) -> bool {
        self.include_defaults == other.include_defaults
            && self.entries.len() == other.entries.len()
            && self.entries.iter().zip(&other.entries).all(|(a, b)| {
                a.stream == b.stream && a.params == b.params && a.override_priority == b.override_priority
            })
    }
}

impl SubscriptionRequest {
    /// Builds the request from the stored rows with a TTL (after cleanup).
    pub fn load(store: &mut dyn SyncStore, include_defaults: bool) -> Result<Self> {
        let entries = store
            .subscriptions()?
            .into_iter()
            .filter(|r| r.ttl.is_some())
            .map(|r| RequestedSubscription {
                id: r.id,
                stream: r.stream_name,
                params: r.local_params,
                override_priority: r.local_priority,
            })
            .collect();
        Ok(Self {
            include_defaults,
            entries,
        })
    }
}

/// Status streams from stored rows, without checkpoint information.
pub fn offline_streams(rows: Vec<SubscriptionRow>) -> Vec<StreamStatus> {
    rows.into_iter().map(|r| stream_status(r, None)).collect()
}

fn stream_status(r: SubscriptionRow, priority: Option<i32>) -> StreamStatus {
    StreamStatus {
        id: r.id,
        name: r.stream_name,
        params: (r.local_params != "null").then_some(r.local_params),
        priority,
        active: r.active,
        is_default: r.is_default,
        has_explicit_subscription: r.ttl.is_some(),
        expires_at: r.expires_at,
        last_synced_at: r.last_synced_at,
        buckets: Vec::new(),
    }
}

/// Reconciles `ps_stream_subscriptions` with the target's streams (docs/protocol.md#reconciling-subscriptions-with-a-checkpoint). Writes the
/// rows, returns the log lines and the status streams with their buckets and priorities.
pub fn reconcile(
    store: &mut dyn SyncStore,
    target: &Target,
    request: &SubscriptionRequest,
) -> Result<(Vec<Instruction>, Vec<StreamStatus>)> {
    let mut rows = store.subscriptions()?;
    let mut matched = vec![false; rows.len()];
    for r in rows.iter_mut() {
        r.active = false;
        r.is_default = false;
    }
    let mut logs = Vec::new();
    // For each described stream: the row its default subscription maps to.
    let mut default_rows: Vec<Option<i64>> = Vec::with_capacity(target.streams.len());
    for stream in &target.streams {
        let mut any = false;
        let mut default_row = None;
        for (i, r) in rows.iter_mut().enumerate() {
            if r.stream_name == stream.name {
                any = true;
                matched[i] = true;
                r.active = true;
                r.is_default = stream.is_default;
                // The first such row (by id) is the stream's default subscription, as in
                // the reference.
                if stream.is_default && r.ttl.is_none() && default_row.is_none() {
                    default_row = Some(r.id);
                }
            }
        }
        for err in &stream.errors {
            match err {
                StreamError::Default(msg) => logs.push(Instruction::log(
                    Severity::Warning,
                    format!("Default subscription {} has errors: {msg}", stream.name),
                )),
                StreamError::Explicit(i, msg) => {
                    // Like the reference, the entry is resolved to its local row: nothing is
                    // logged once that row is gone (unsubscribed and dropped meanwhile).
                    let row = request
                        .entries
                        .get(*i)
                        .and_then(|entry| rows.iter().find(|r| r.id == entry.id));
                    if let Some(row) = row {
                        let desc = if row.local_params == "null" {
                            "without parameters".to_string()
                        } else {
                            format!("with parameters {}", row.local_params)
                        };
                        logs.push(Instruction::log(
                            Severity::Warning,
                            format!(
                                "Subscription to stream {} ({desc}) could not be resolved: {msg}",
                                row.stream_name
                            ),
                        ));
                    }
                }
            }
        }
        if !any && stream.is_default {
            let id = store.insert_default_subscription(&stream.name)?;
            rows.push(SubscriptionRow {
                id,
                stream_name: stream.name.clone(),
                active: true,
                is_default: true,
                local_priority: None,
                local_params: "null".into(),
                ttl: None,
                expires_at: None,
                last_synced_at: None,
            });
            matched.push(true);
            default_row = Some(id);
        }
        default_rows.push(default_row);
    }

    let mut streams = Vec::with_capacity(rows.len());
    for (row, matched) in rows.into_iter().zip(matched) {
        if row.ttl.is_none() && !matched {
            store.delete_subscription(row.id)?;
        } else {
            store.update_subscription(&row)?;
            streams.push(stream_status(row, None));
        }
    }

    for (name, bucket) in &target.buckets {
        for reason in &bucket.reasons {
            let id = match reason {
                BucketSubscriptionReason::DerivedFromDefaultStream(k) => {
                    default_rows.get(*k).copied().flatten()
                }
                BucketSubscriptionReason::DerivedFromExplicitSubscription(i) => {
                    request.entries.get(*i).map(|e| e.id)
                }
            };
            let Some(id) = id else { continue };
            if let Some(s) = streams.iter_mut().find(|s| s.id == id) {
                if !s.buckets.iter().any(|b| b == name) {
                    s.buckets.push(name.clone());
                }
                s.priority = Some(s.priority.map_or(bucket.priority, |p| p.max(bucket.priority)));
            }
        }
    }
    Ok((logs, streams))
}
