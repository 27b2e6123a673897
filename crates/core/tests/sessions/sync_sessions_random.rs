//! Generated differential sync sessions: seeded pseudo-random mixes of data lines (all op
//! types over several object types and buckets), full and diff checkpoints with correct or
//! deliberately wrong checksums and counts, complete/partial checkpoints, local writes and
//! uploads, keepalives, restarts, connection events, checkpoint-request commands and
//! subscriptions, in both encodings. Every call is compared with the reference (instructions
//! and all tables); a failure names the seed and the step, so it can be replayed.
use crate::common;
use crate::sync_common;
use crate::sync_sessions_support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use sync_common::*;
use sync_sessions_support::*;

const BUCKETS: [&str; 4] = ["b0", "b1", "b2", "b3"];
const TYPES: [&str; 4] = ["items", "lists", "unknown_type", "local_stuff"];
const STEPS: usize = 80;

/// What the generator knows about the session (to produce mostly meaningful lines).
#[derive(Default)]
struct Model {
    next_op: i64,
    /// Expected checksum (wrapping) and op count per bucket.
    buckets: BTreeMap<&'static str, (u32, i64)>,
    active: bool,
    tracking: bool,
    local_rows: usize,
    /// Data lines the last checkpoint announced (the service sends them before completing).
    queue: VecDeque<(&'static str, Vec<Json>)>,
    /// Buckets of the checkpoint being tracked.
    target: BTreeSet<&'static str>,
    /// How often interesting outcomes occurred (to check the generator is not degenerate).
    seen: BTreeMap<&'static str, usize>,
}

/// Outcomes counted over all generated sessions.
const NOTABLE: [&str; 10] = [
    "without previous checkpoint",
    "Applied checkpoint request id",
    "DidCompleteSync",
    "Checksums didn't match",
    "Could not apply checkpoint due to local data",
    "Applied pending checkpoint",
    "Could not apply pending checkpoint",
    "FetchCredentials",
    "HandleDiagnostics",
    "No iteration is active",
];

fn row_data(rng: &mut StdRng, ty: &str) -> String {
    match ty {
        "lists" => {
            let mut o = serde_json::Map::new();
            if rng.random_bool(0.8) {
                o.insert("name".into(), json!(format!("n{}", rng.random_range(0..5))));
            }
            match rng.random_range(0..4) {
                0 => {}
                1 => {
                    o.insert("n".into(), json!(rng.random_range(-5..50)));
                }
                2 => {
                    o.insert("n".into(), json!(1.5));
                }
                _ => {
                    o.insert("n".into(), json!("text"));
                }
            }
            if rng.random_bool(0.3) {
                o.insert("r".into(), json!(rng.random_range(0..100) as f64 / 4.0));
            }
            Json::Object(o).to_string()
        }
        _ => json!({"col": format!("v{}", rng.random_range(0..100))}).to_string(),
    }
}

fn gen_ops(rng: &mut StdRng, m: &mut Model, bucket: &'static str) -> Vec<Json> {
    let n = rng.random_range(0..=4);
    let mut ops = Vec::new();
    for _ in 0..n {
        m.next_op += 1;
        let id = m.next_op;
        let checksum: i64 = match rng.random_range(0..10) {
            0 => -(rng.random_range(1..1_000_000)),
            1 => rng.random_range(2_147_483_648i64..4_294_967_295),
            _ => rng.random_range(0..100_000),
        };
        let ty = TYPES[rng.random_range(0..TYPES.len())];
        let row = format!("r{}", rng.random_range(0..6));
        let entry = m.buckets.entry(bucket).or_default();
        // (entry.0 is informative only; checkpoints read the stored checksum.)
        let op = match rng.random_range(0..20) {
            0..=11 => {
                if rng.random_bool(0.1) {
                    op(id, "PUT", Some(ty), Some(&row), checksum, None)
                } else {
                    let data = row_data(rng, ty);
                    put_t(id, ty, &row, checksum, &data)
                }
            }
            12..=16 => remove_t(id, ty, &row, checksum),
            17..=18 => mv(id, checksum),
            _ => {
                entry.0 = 0;
                clear(id, checksum)
            }
        };
        entry.0 = entry.0.wrapping_add(checksum as u32);
        entry.1 += 1;
        ops.push(op);
    }
    ops
}

/// The checksum the bucket currently has locally (buckets are deleted by checkpoints,
/// diffs and checksum failures, so the stored state is the reliable source) and the number
/// of ops generated for it.
fn local_state(s: &Session, m: &Model, name: &str) -> (u32, i64) {
    let rows = common::rows(
        &s.ours,
        &format!("SELECT (add_checksum + op_checksum) & 4294967295 FROM ps_buckets WHERE name = '{name}'"),
    );
    let sum = match rows.first().map(|r| &r[0]) {
        Some(rusqlite::types::Value::Integer(i)) => *i as u32,
        _ => 0,
    };
    (sum, m.buckets.get(name).map(|b| b.1).unwrap_or_default())
}

/// The bucket checksum after `ops` (CLEAR replaces the accumulated total).
fn fold(mut sum: u32, ops: &[Json]) -> u32 {
    for op in ops {
        let c = op["checksum"].as_i64().unwrap() as u32;
        if op["op"] == "CLEAR" {
            sum = c;
        } else {
            sum = sum.wrapping_add(c);
        }
    }
    sum
}

/// Bucket entries for a checkpoint (or diff) over `names`, queueing the data each bucket
/// still has to receive so that the announced checksums usually match.
fn announce(s: &Session, rng: &mut StdRng, m: &mut Model, names: &[&'static str]) -> Vec<Json> {
    let mut entries = Vec::new();
    for &name in names {
        let (sum, _) = local_state(s, m, name);
        let ops = if rng.random_bool(0.7) {
            gen_ops(rng, m, name)
        } else {
            Vec::new()
        };
        let expected = fold(sum, &ops);
        let count = m.buckets.get(name).map(|b| b.1).unwrap_or_default();
        if !ops.is_empty() {
            m.queue.push_back((name, ops));
        }
        entries.push(gen_bucket_entry(rng, (expected, count), name));
    }
    entries
}

fn gen_bucket_entry(rng: &mut StdRng, (sum, count): (u32, i64), name: &'static str) -> Json {
    let checksum = if rng.random_bool(0.08) {
        sum.wrapping_add(1) as i64
    } else if rng.random_bool(0.2) {
        // Same value as a negative i32.
        sum as i32 as i64
    } else {
        sum as i64
    };
    let priority = match name {
        "b0" => Some(0),
        "b1" => Some(1),
        "b2" => None,
        _ => Some(rng.random_range(0..4)),
    };
    let count = match rng.random_range(0..10) {
        0 => None,
        1 => Some((count - 1).max(0)),
        _ => Some(count),
    };
    bucket(name, checksum, priority, count)
}

fn subset(rng: &mut StdRng) -> Vec<&'static str> {
    BUCKETS
        .iter()
        .copied()
        .filter(|_| rng.random_bool(0.75))
        .collect()
}

fn outcome(m: &mut Model, r: &R, is_line: bool) {
    let text = match r {
        Ok(Json::String(t)) => t.clone(),
        Err((_, msg)) => msg.clone(),
        Ok(_) => String::new(),
    };
    for n in NOTABLE {
        if text.contains(n) {
            *m.seen.entry(n).or_default() += 1;
        }
    }
    match r {
        Ok(Json::String(t)) if t.contains("CloseSyncStream") => {
            m.active = false;
            m.tracking = false;
        }
        Err(_) if is_line => {
            m.active = false;
            m.tracking = false;
        }
        _ => {}
    }
}

fn step(s: &mut Session, rng: &mut StdRng, m: &mut Model, enc: Enc) {
    if !m.active && rng.random_bool(0.8) {
        let payload = match rng.random_range(0..5) {
            0 => json!({}),
            4 => json!({"schema": {"tables": [], "raw_tables": [{
                "name": "unknown_type",
                "put": {"sql": "INSERT OR REPLACE INTO raw_unknown (id, col, rest) VALUES (?, ?, ?)", "params": ["Id", {"Column": "col"}, "Rest"]},
                "delete": {"sql": "DELETE FROM raw_unknown WHERE id = ?", "params": ["Id"]}
            }]}}),
            1 => json!({"checkpoint_mode": "requests", "parameters": {"k": rng.random_range(0..3)}}),
            2 => json!({"diagnostics": {}, "active_streams": [{"name": "s1"}]}),
            _ => json!({"include_defaults": false}),
        };
        s.start(payload).unwrap();
        m.active = true;
        m.tracking = false;
        return;
    }
    // Usually the service sends a checkpoint first.
    let choice = match rng.random_range(0..100) {
        45..=68 if !m.tracking && rng.random_bool(0.85) => 35,
        other => other,
    };
    match choice {
        0..=34 => {
            let (b, ops) = match m.queue.pop_front() {
                Some(queued) => queued,
                None => {
                    // Mostly buckets outside the tracked checkpoint (data for tracked ones
                    // would make its checksums fail).
                    let outside: Vec<&'static str> = BUCKETS
                        .iter()
                        .copied()
                        .filter(|b| !m.target.contains(b))
                        .collect();
                    let b = if !outside.is_empty() && rng.random_bool(0.85) {
                        outside[rng.random_range(0..outside.len())]
                    } else {
                        BUCKETS[rng.random_range(0..BUCKETS.len())]
                    };
                    (b, gen_ops(rng, m, b))
                }
            };
            let r = s.send(enc, data_line(b, json!(ops)));
            outcome(m, &r, true);
        }
        35..=44 => {
            let names = subset(rng);
            m.queue.clear();
            m.target = names.iter().copied().collect();
            let entries = announce(s, rng, m, &names);
            let w = rng.random_bool(0.3).then(|| rng.random_range(1..6));
            let mut line = cp(m.next_op, w, entries);
            if rng.random_bool(0.3) {
                line["checkpoint"]["streams"] = json!([
                    {"name": "s1", "is_default": rng.random_bool(0.5), "errors": []},
                    {"name": "d", "is_default": true, "errors": []}
                ]);
            }
            let r = s.send(enc, line);
            if r.is_ok() {
                m.tracking = true;
            }
            outcome(m, &r, true);
        }
        45..=49 => {
            let names: Vec<&'static str> = subset(rng).into_iter().filter(|_| rng.random_bool(0.5)).collect();
            let updated = announce(s, rng, m, &names);
            let removed: Vec<&'static str> = BUCKETS
                .iter()
                .copied()
                .filter(|_| rng.random_bool(0.15))
                .collect();
            m.target.extend(names.iter().copied());
            for r in &removed {
                m.target.remove(r);
            }
            let w = rng.random_bool(0.3).then(|| rng.random_range(1..6));
            let r = s.send(enc, diff(m.next_op, w, updated, &removed));
            outcome(m, &r, true);
        }
        50..=68 if !m.queue.is_empty() && rng.random_bool(0.9) => {
            let (b, ops) = m.queue.pop_front().unwrap();
            let r = s.send(enc, data_line(b, json!(ops)));
            outcome(m, &r, true);
        }
        50..=61 => {
            let r = s.send(enc, complete(m.next_op));
            outcome(m, &r, true);
        }
        62..=68 => {
            let r = s.send(enc, partial(m.next_op, rng.random_range(0..4)));
            outcome(m, &r, true);
        }
        69..=74 => {
            let id = format!("r{}", rng.random_range(0..6));
            match rng.random_range(0..3) {
                0 => s.sql(&format!(
                    "INSERT OR REPLACE INTO items(id, col) VALUES ('{id}', 'local')"
                )),
                1 => s.sql(&format!("UPDATE items SET col = 'edited' WHERE id = '{id}'")),
                _ => s.sql(&format!("DELETE FROM lists WHERE id = '{id}'")),
            }
            m.local_rows += 1;
        }
        75..=80 => {
            s.sql("DELETE FROM ps_crud");
            if rng.random_bool(0.7) {
                // 0 deletes the target (the gate then only depends on ps_crud).
                let target = if rng.random_bool(0.5) {
                    0
                } else {
                    rng.random_range(1..6)
                };
                let _ = s.ctl("target_checkpoint_request_id", Payload::Int(target));
            }
            let r = s.cmd("completed_upload");
            outcome(m, &r, false);
        }
        81..=84 => {
            let t = [-1, 0, 10, 31, 3600][rng.random_range(0..5)];
            let r = s.send(enc, token(t));
            outcome(m, &r, true);
        }
        85..=89 => {
            let r = match rng.random_range(0..5) {
                0 => s.cmd("stop"),
                1 => s.ctl("connection", "end"),
                2 => s.ctl("connection", "established"),
                3 => s.cmd("refreshed_token"),
                _ => s.start_null(),
            };
            if matches!(&r, Ok(Json::String(t)) if t.contains("EstablishSyncStream")) {
                m.active = true;
                m.tracking = false;
            }
            outcome(m, &r, false);
        }
        90..=93 => {
            let _ = match rng.random_range(0..4) {
                0 => s.ctl("seed_checkpoint_request_id", Payload::Int(rng.random_range(1..5))),
                1 => s.cmd("next_checkpoint_request_id"),
                2 => s.cmd("current_checkpoint_request_id"),
                _ => s.ctl("target_checkpoint_request_id", Payload::Null),
            };
        }
        94..=97 => {
            let _ = match rng.random_range(0..3) {
                0 => s.ctl(
                    "subscriptions",
                    subscribe("s1", None, Some(3600), Some(rng.random_range(0..4))),
                ),
                1 => s.ctl("subscriptions", json!({"unsubscribe": {"name": "s1"}})),
                _ => {
                    let r = s.ctl("update_subscriptions", json!([{"name": "s1"}]));
                    outcome(m, &r, false);
                    r
                }
            };
        }
        98 => {
            // Clearing between or during iterations (refused while active, except hard).
            let sql = [
                "SELECT powersync_trigger_resync(1)",
                "SELECT powersync_clear(2)",
                "SELECT powersync_clear(0)",
            ][rng.random_range(0..3)];
            s.sql(sql);
        }
        _ => {
            let r = s.send(enc, json!({"unknown_line_type": rng.random_range(0..3)}));
            outcome(m, &r, true);
        }
    }
}

fn random_session(seed: u64, enc: Enc) -> usize {
    let mut s = Session::new(&format!("random seed {seed} [{enc:?}]"), RICH_SCHEMA);
    // Rows of type `unknown_type` go to this raw table in iterations started with it.
    s.sql("CREATE TABLE raw_unknown (id TEXT PRIMARY KEY NOT NULL, col TEXT, rest TEXT)");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut m = Model::default();
    for _ in 0..STEPS {
        step(&mut s, &mut rng, &mut m, enc);
    }
    s.offline_status();
    eprintln!("{}: {:?}", s.name, m.seen);
    s.cases
}

#[test]
fn random_sessions() {
    // run_suite takes plain function pointers: one non-capturing closure per seed (even
    // seeds use JSON lines, odd seeds BSON with int32 or, every fourth, int64 integers).
    macro_rules! entries {
        ($($seed:literal),*) => {
            [$((
                concat!("seed_", $seed),
                (|| random_session($seed, [Enc::Json, Enc::Bson, Enc::Json, Enc::Bson64][$seed % 4])) as SessionFn,
            )),*]
        };
    }
    let table = entries!(
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
        28, 29, 30, 31
    );
    run_suite("sync_sessions_random", &table);
}

const STREAMS: [&str; 5] = ["s1", "s2", "s3", "d1", "d2"];

fn stream_params(rng: &mut StdRng) -> Option<Json> {
    match rng.random_range(0..4) {
        0 => None,
        1 => Some(json!(null)),
        2 => Some(json!({"p": 1})),
        _ => Some(json!({"p": [2, "x"]})),
    }
}

fn stream_key(rng: &mut StdRng) -> Json {
    let mut k = json!({"name": STREAMS[rng.random_range(0..3)]});
    if let Some(p) = stream_params(rng) {
        k["params"] = p;
    }
    k
}

/// One step of a stream-focused session: explicit subscriptions, checkpoints describing
/// streams with errors and bucket reasons, progress, keepalives, expiry, restarts.
fn stream_step(s: &mut Session, rng: &mut StdRng, m: &mut Model, enc: Enc) {
    if !m.active {
        let keys: Vec<Json> = (0..rng.random_range(0..3)).map(|_| stream_key(rng)).collect();
        let payload = json!({"active_streams": keys, "include_defaults": rng.random_bool(0.7)});
        s.start(payload).unwrap();
        m.active = true;
        m.tracking = false;
        return;
    }
    match rng.random_range(0..100) {
        0..=14 => {
            let name = STREAMS[rng.random_range(0..3)];
            // Never short enough to expire during a run: expiry is done through SQL.
            let ttl = [None, Some(6000), Some(3600)][rng.random_range(0..3)];
            let priority = rng.random_bool(0.5).then(|| rng.random_range(0..4));
            let _ = s.ctl(
                "subscriptions",
                subscribe(name, stream_params(rng), ttl, priority),
            );
        }
        15..=19 => {
            let _ = s.ctl("subscriptions", json!({"unsubscribe": stream_key(rng)}));
        }
        20..=24 => {
            let keys: Vec<Json> = (0..rng.random_range(0..3)).map(|_| stream_key(rng)).collect();
            let r = s.ctl("update_subscriptions", json!(keys));
            outcome(m, &r, false);
        }
        25..=39 => {
            let described: Vec<&str> = STREAMS.iter().copied().filter(|_| rng.random_bool(0.6)).collect();
            let streams: Vec<Json> = described
                .iter()
                .map(|name| {
                    let errors: Vec<Json> = (0..rng.random_range(0..2))
                        .map(|_| {
                            if rng.random_bool(0.5) {
                                json!({"subscription": "default", "message": "denied"})
                            } else {
                                json!({"subscription": rng.random_range(0..5), "message": "bad params"})
                            }
                        })
                        .collect();
                    json!({"name": name, "is_default": name.starts_with('d') || rng.random_bool(0.2), "errors": errors})
                })
                .collect();
            let n = streams.len();
            let included: Vec<&str> = BUCKETS.iter().copied().filter(|_| rng.random_bool(0.7)).collect();
            let buckets: Vec<Json> = included
                .iter()
                .map(|b| {
                    let reasons: Vec<Json> = (0..rng.random_range(0..3))
                        .map(|_| {
                            if rng.random_bool(0.5) {
                                json!({"default": rng.random_range(0..n.max(1) + 1)})
                            } else {
                                json!({"sub": rng.random_range(0..4)})
                            }
                        })
                        .collect();
                    let count = m.buckets.get(b).map(|x| x.1).unwrap_or_default()
                        + rng.random_range(0..3);
                    json!({"bucket": b, "checksum": 0, "priority": rng.random_range(0..4), "count": count, "subscriptions": reasons})
                })
                .collect();
            m.target = BUCKETS.iter().copied().collect();
            let line = json!({"checkpoint": {"last_op_id": m.next_op.to_string(), "buckets": buckets, "streams": streams}});
            let r = s.send(enc, line);
            if r.is_ok() {
                m.tracking = true;
            }
            outcome(m, &r, true);
        }
        40..=59 => {
            let b = BUCKETS[rng.random_range(0..BUCKETS.len())];
            let ops: Vec<Json> = (0..rng.random_range(1..3))
                .map(|_| {
                    m.next_op += 1;
                    put(m.next_op, &format!("r{}", rng.random_range(0..4)), 0, "{}")
                })
                .collect();
            m.buckets.entry(b).or_default().1 += ops.len() as i64;
            let r = s.send(enc, data_line(b, json!(ops)));
            outcome(m, &r, true);
        }
        60..=69 => {
            let r = s.send(enc, partial(m.next_op, rng.random_range(0..4)));
            outcome(m, &r, true);
        }
        70..=79 => {
            let r = s.send(enc, complete(m.next_op));
            outcome(m, &r, true);
        }
        80..=86 => {
            let r = s.send(enc, token([20, 3600][rng.random_range(0..2)]));
            outcome(m, &r, true);
        }
        87..=90 => {
            let name = STREAMS[rng.random_range(0..3)];
            s.sql(&format!(
                "UPDATE ps_stream_subscriptions SET expires_at = 1000 WHERE stream_name = '{name}'"
            ));
        }
        91..=94 => {
            s.offline_status();
        }
        _ => {
            let r = if rng.random_bool(0.5) {
                s.cmd("stop")
            } else {
                s.control_with("connection", "end", ErrorMatch::Exact)
            };
            outcome(m, &r, false);
            m.active = false;
        }
    }
}

fn random_stream_session(seed: u64, enc: Enc) -> usize {
    let mut s = Session::new(&format!("random streams seed {seed} [{enc:?}]"), ITEMS_SCHEMA);
    let mut rng = StdRng::seed_from_u64(1000 + seed);
    let mut m = Model::default();
    for _ in 0..STEPS {
        stream_step(&mut s, &mut rng, &mut m, enc);
    }
    s.query("SELECT id, stream_name, active, is_default, local_priority, local_params, ttl FROM ps_stream_subscriptions ORDER BY id");
    s.cases
}

#[test]
fn random_stream_sessions() {
    macro_rules! entries {
        ($($seed:literal),*) => {
            [$((
                concat!("streams_seed_", $seed),
                (|| random_stream_session($seed, [Enc::Json, Enc::Bson, Enc::Json, Enc::Bson64][$seed % 4])) as SessionFn,
            )),*]
        };
    }
    let table = entries!(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    run_suite("sync_sessions_random_streams", &table);
}
