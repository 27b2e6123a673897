//! Decode throughput of sync lines: our BSON decoder vs the `bson` crate (3.1, raw borrowed
//! serde deserialisation, same `Deserialize` impls), plus JSON for reference.
//!
//! Run: `cargo run --release -p powersync-core --example bench_sync_decode [ops] [iterations]`
//! (defaults 1000 ops per data line, 300 iterations; best of 5 rounds is reported).
//! Realistic data lines: PUT ops with string op ids, UUID object ids, a table name, checksums
//! across the u32 range (int64 in BSON where > i32::MAX), ~200-byte JSON row payloads.

use bson::{doc, Bson};
use powersync_core::sync::protocol::{parse_binary, parse_text, SyncLine};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn uuid(n: u64) -> String {
    let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h.rotate_left(17) & 0xffff_ffff_ffff
    )
}

fn row_json(i: u64) -> String {
    serde_json::json!({
        "id": uuid(i),
        "description": format!("Todo item number {i}: buy milk, eggs and some bread"),
        "completed": matches!(i % 3, 0),
        "list_id": uuid(i / 10),
        "created_at": "2025-03-01 10:00:00.000Z",
        "created_by": uuid(7),
        "completed_at": null,
    })
    .to_string()
}

fn checksum(i: u64) -> u32 {
    (i.wrapping_mul(2_654_435_761) >> 7) as u32
}

fn bson_line(ops: u64) -> Vec<u8> {
    let data: Vec<Bson> = (0..ops)
        .map(|i| {
            let c = checksum(i);
            let c = if c > i32::MAX as u32 {
                Bson::Int64(c as i64)
            } else {
                Bson::Int32(c as i32)
            };
            Bson::Document(doc! {
                "op_id": (100_000 + i).to_string(),
                "op": "PUT",
                "object_type": "todos",
                "object_id": uuid(i),
                "checksum": c,
                "subkey": Bson::Null,
                "data": row_json(i),
            })
        })
        .collect();
    let line = doc! { "data": { "bucket": "global[]", "has_more": false, "after": Bson::Null, "next_after": Bson::Null, "data": data } };
    bson::serialize_to_vec(&line).unwrap()
}

fn json_line(ops: u64) -> String {
    let data: Vec<serde_json::Value> = (0..ops)
        .map(|i| {
            serde_json::json!({
                "op_id": (100_000 + i).to_string(), "op": "PUT", "object_type": "todos",
                "object_id": uuid(i), "checksum": checksum(i), "subkey": null, "data": row_json(i),
            })
        })
        .collect();
    serde_json::json!({"data": {"bucket": "global[]", "has_more": false, "after": null, "next_after": null, "data": data}}).to_string()
}

fn ops_of(line: &SyncLine) -> usize {
    match line {
        SyncLine::Data(d) => d.data.len(),
        _ => panic!("not a data line"),
    }
}

/// A decoder under test: name, input size, and a function decoding once (returning op count).
type Case<'a> = (&'a str, usize, Box<dyn Fn() -> usize + 'a>);

/// Times every case `iterations` times per round, interleaving the cases within each round so
/// that load from other processes affects all of them alike; reports the best round of 7.
fn measure(cases: &[Case], ops: usize, iterations: u32) -> Vec<f64> {
    let mut best = vec![Duration::MAX; cases.len()];
    for _ in 0..7 {
        for (i, (_, _, f)) in cases.iter().enumerate() {
            let start = Instant::now();
            for _ in 0..iterations {
                assert_eq!(black_box(f()), ops);
            }
            best[i] = best[i].min(start.elapsed());
        }
    }
    cases
        .iter()
        .zip(&best)
        .map(|((name, bytes, _), best)| {
            let per_line = *best / iterations;
            let mb_s = *bytes as f64 / per_line.as_secs_f64() / 1e6;
            let mops_s = ops as f64 / per_line.as_secs_f64() / 1e6;
            println!("{name:<34} {per_line:>10.1?}/line  {mb_s:>8.1} MB/s  {mops_s:>6.2} M ops/s");
            per_line.as_secs_f64()
        })
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let ops: u64 = args.next().map_or(1000, |a| a.parse().unwrap());
    let iterations: u32 = args.next().map_or(300, |a| a.parse().unwrap());

    let bin = bson_line(ops);
    let text = json_line(ops);
    let n = ops as usize;

    // Both BSON decoders must agree, and borrow the row data from the input.
    let ours = parse_binary(&bin).unwrap();
    let theirs: SyncLine = bson::deserialize_from_slice(&bin).unwrap();
    assert_eq!(ours, theirs);
    if let SyncLine::Data(d) = &ours {
        assert!(matches!(d.data[0].data, Some(std::borrow::Cow::Borrowed(_))));
    }
    assert_eq!(ours, parse_text(&text).unwrap());

    println!(
        "data line with {ops} PUT ops: BSON {} bytes, JSON {} bytes",
        bin.len(),
        text.len()
    );
    let cases: Vec<Case> = vec![
        (
            "BSON, hand-written decoder",
            bin.len(),
            Box::new(|| ops_of(&parse_binary(&bin).unwrap())),
        ),
        (
            "BSON, bson crate 3.1 (raw serde)",
            bin.len(),
            Box::new(|| ops_of(&bson::deserialize_from_slice::<SyncLine>(&bin).unwrap())),
        ),
        (
            "JSON, serde_json",
            text.len(),
            Box::new(|| ops_of(&parse_text(&text).unwrap())),
        ),
    ];
    let times = measure(&cases, n, iterations);
    println!(
        "hand-written BSON decoder: {:.2}x the bson crate's throughput",
        times[1] / times[0]
    );
}
