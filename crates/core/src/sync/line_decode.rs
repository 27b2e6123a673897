//! TEMPORARY stand-in for `protocol::parse_text` / `parse_binary` until the `sync-protocol`
//! branch lands: a JSON decoder good enough for our tests; BSON is not supported.

use crate::error::{PowerSyncError, Result};
use crate::sync::protocol::*;
use serde_json::Value;
use std::borrow::Cow;

fn bad(msg: &str) -> PowerSyncError {
    PowerSyncError::protocol("invalid text line", Some(msg.to_string()))
}

fn op_id(v: &Value) -> Result<i64> {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("op id"))
}

fn checksum(v: &Value) -> Result<Checksum> {
    if let Some(i) = v.as_i64() {
        return Ok(Checksum(i as u32));
    }
    if let Some(u) = v.as_u64() {
        return Ok(Checksum(u as u32));
    }
    if let Some(f) = v.as_f64() {
        return Ok(Checksum((f as i64) as u32));
    }
    Err(bad("checksum"))
}

fn s(v: &Value) -> Option<Cow<'static, str>> {
    v.as_str().map(|s| Cow::Owned(s.to_string()))
}

fn bucket(v: &Value) -> Result<BucketChecksum<'static>> {
    Ok(BucketChecksum {
        bucket: s(&v["bucket"]).ok_or_else(|| bad("bucket"))?,
        checksum: checksum(&v["checksum"])?,
        priority: v["priority"].as_i64().map(|p| BucketPriority(p as i32)),
        count: v["count"].as_i64(),
        subscriptions: v["subscriptions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| {
                        if let Some(i) = r["default"].as_u64() {
                            Some(BucketSubscriptionReason::DerivedFromDefaultStream(i as usize))
                        } else {
                            r["sub"].as_u64().map(|i| {
                                BucketSubscriptionReason::DerivedFromExplicitSubscription(i as usize)
                            })
                        }
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// Decodes one JSON line.
pub fn parse_text(text: &str) -> Result<SyncLine<'static>> {
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let obj = v.as_object().ok_or_else(|| bad("not an object"))?;
    let (k, b) = obj.iter().next().ok_or_else(|| bad("empty"))?;
    Ok(match k.as_str() {
        "checkpoint" => SyncLine::Checkpoint(Checkpoint {
            last_op_id: op_id(&b["last_op_id"])?,
            write_checkpoint: b["write_checkpoint"].as_str().and_then(|s| s.parse().ok()),
            buckets: b["buckets"]
                .as_array()
                .ok_or_else(|| bad("buckets"))?
                .iter()
                .map(bucket)
                .collect::<Result<_>>()?,
            streams: b["streams"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|st| StreamDescription {
                            name: s(&st["name"]).unwrap_or_default(),
                            is_default: st["is_default"].as_bool().unwrap_or(false),
                            errors: st["errors"]
                                .as_array()
                                .map(|e| {
                                    e.iter()
                                        .map(|e| StreamSubscriptionError {
                                            subscription: match e["subscription"].as_u64() {
                                                Some(i) => SubscriptionRef::Explicit(i as usize),
                                                None => SubscriptionRef::Default(
                                                    s(&e["subscription"]).unwrap_or_default(),
                                                ),
                                            },
                                            message: s(&e["message"]).unwrap_or_default(),
                                        })
                                        .collect()
                                })
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }),
        "checkpoint_diff" => SyncLine::CheckpointDiff(CheckpointDiff {
            last_op_id: op_id(&b["last_op_id"])?,
            updated_buckets: b["updated_buckets"]
                .as_array()
                .ok_or_else(|| bad("updated"))?
                .iter()
                .map(bucket)
                .collect::<Result<_>>()?,
            removed_buckets: b["removed_buckets"]
                .as_array()
                .ok_or_else(|| bad("removed"))?
                .iter()
                .filter_map(s)
                .collect(),
            write_checkpoint: b["write_checkpoint"].as_str().and_then(|s| s.parse().ok()),
        }),
        "checkpoint_complete" => SyncLine::CheckpointComplete,
        "partial_checkpoint_complete" => SyncLine::PartialCheckpointComplete(PartialCheckpointComplete {
            priority: BucketPriority(b["priority"].as_i64().ok_or_else(|| bad("prio"))? as i32),
        }),
        "data" => SyncLine::Data(DataLine {
            bucket: s(&b["bucket"]).ok_or_else(|| bad("bucket"))?,
            data: b["data"]
                .as_array()
                .ok_or_else(|| bad("data"))?
                .iter()
                .map(|o| {
                    Ok(OplogEntry {
                        checksum: checksum(&o["checksum"])?,
                        op_id: op_id(&o["op_id"])?,
                        op: match o["op"].as_str() {
                            Some("PUT") => OpType::Put,
                            Some("REMOVE") => OpType::Remove,
                            Some("MOVE") => OpType::Move,
                            Some("CLEAR") => OpType::Clear,
                            _ => return Err(bad("op")),
                        },
                        object_id: s(&o["object_id"]),
                        object_type: s(&o["object_type"]),
                        subkey: s(&o["subkey"]),
                        data: s(&o["data"]),
                    })
                })
                .collect::<Result<_>>()?,
        }),
        "token_expires_in" => SyncLine::TokenExpiresIn(b.as_i64().ok_or_else(|| bad("token"))? as i32),
        _ => SyncLine::Unknown,
    })
}

/// BSON is not supported by this stand-in.
pub fn parse_binary(_bytes: &[u8]) -> Result<SyncLine<'static>> {
    Err(PowerSyncError::protocol(
        "invalid binary line",
        Some("BSON decoding not available yet".into()),
    ))
}
