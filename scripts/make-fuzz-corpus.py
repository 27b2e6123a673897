#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/) from the recorded example
session and a few hand-written inputs. The fuzzers add what they find next to these files."""
import hashlib, json, os, struct, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
corpus = os.path.join(root, "fuzz", "corpus")

def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

lines = [l for l in open(os.path.join(root, "examples", "session.ndjson")).read().splitlines() if l.strip()]
for l in lines:
    write("line_json", l)
write("line_json", '{"token_expires_in":60}')
write("line_json", '{"unknown_line":{}}')
write("line_json", '{"checkpoint_diff":{"last_op_id":"9","write_checkpoint":"1","updated_buckets":[{"bucket":"b","checksum":-1,"priority":0,"count":1,"subscriptions":[{"default":0}]}],"removed_buckets":["a"]}}')
write("line_json", '{"partial_checkpoint_complete":{"last_op_id":"3","priority":1}}')
write("line_json", '{"data":{"bucket":"a","data":[{"op_id":"1","op":"REMOVE","object_type":"t","object_id":"x","subkey":"s","checksum":4294967295},{"op_id":2,"op":"MOVE","checksum":1},{"op_id":"3","op":"CLEAR","checksum":0}]}}')

blob = open(os.path.join(root, "examples", "session.bson"), "rb").read()
docs = []
i = 0
while i + 4 <= len(blob):
    n = struct.unpack_from("<i", blob, i)[0]
    docs.append(blob[i:i + n])
    write("line_bson", blob[i:i + n])
    i += n

schema = open(os.path.join(root, "examples", "schema.json")).read()
write("start", "{}")
write("start", json.dumps({"parameters": {"a": 1}, "app_metadata": {"k": "v"}}))
write("start", json.dumps({"schema": json.loads(schema), "include_defaults": False, "active_streams": [{"name": "s", "params": {"p": 1}}]}))
write("start", json.dumps({"schema": {"raw_tables": [{"name": "r", "put": {"sql": "INSERT INTO r (id, v) VALUES (?, ?)", "params": ["Id", {"Column": "v"}]}, "delete": {"sql": "DELETE FROM r WHERE id = ?", "params": ["Id"]}}], "tables": []}}))
write("start", '[{}, null, false, [], null, null, null]')

write("schema", schema)
write("schema", '{"tables":[]}')
write("schema", json.dumps({"tables": [{"name": "items", "view_name": "v_items", "columns": [{"name": "col", "type": "TEXT"}], "include_old": ["col"], "ignore_empty_update": True}]}))
write("schema", json.dumps({"tables": [{"name": "users", "direct": True, "columns": [{"name": "name", "type": "TEXT"}], "indexes": [{"name": "by_name", "columns": [{"name": "name", "ascending": False, "type": "TEXT"}]}]}]}))
write("schema", json.dumps({"tables": [], "raw_tables": [{"name": "r", "table_name": "r", "put": {"sql": "INSERT INTO r VALUES (?)", "params": ["Id"]}, "delete": {"sql": "DELETE FROM r WHERE id = ?", "params": ["Id"]}}]}))

COMMANDS = ["start", "stop", "line_text", "line_binary", "completed_upload", "refreshed_token",
            "connection", "update_subscriptions", "subscriptions", "target_checkpoint_request_id",
            "local write", "upload one"]

def rec(cmd, payload=b""):
    if isinstance(payload, str):
        payload = payload.encode()
    return bytes([COMMANDS.index(cmd)]) + struct.pack("<H", len(payload)) + payload

write("session", rec("start") + b"".join(rec("line_text", l) for l in lines) + rec("stop"))
write("session", rec("start") + b"".join(rec("line_binary", d) for d in docs) + rec("stop"))
write("session", rec("local write", "hello") + rec("start") + b"".join(rec("line_text", l) for l in lines[:4])
      + rec("upload one") + rec("target_checkpoint_request_id", b"\x01") + rec("completed_upload")
      + rec("connection", b"\x01") + rec("refreshed_token"))
write("session", rec("start", json.dumps({"active_streams": [{"name": "s", "params": None}]})) +
      rec("update_subscriptions", '[{"name":"s","params":null}]') +
      rec("subscriptions", json.dumps({"subscribe": {"stream": {"name": "s"}, "ttl": 3600}})) + rec("stop"))
print("corpus written to", corpus)
