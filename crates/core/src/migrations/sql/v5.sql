ALTER TABLE ps_buckets RENAME TO ps_buckets_old;
ALTER TABLE ps_oplog RENAME TO ps_oplog_old;

CREATE TABLE ps_buckets(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  last_applied_op INTEGER NOT NULL DEFAULT 0,
  last_op INTEGER NOT NULL DEFAULT 0,
  target_op INTEGER NOT NULL DEFAULT 0,
  add_checksum INTEGER NOT NULL DEFAULT 0,
  op_checksum INTEGER NOT NULL DEFAULT 0,
  pending_delete INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE UNIQUE INDEX ps_buckets_name ON ps_buckets (name);

CREATE TABLE ps_oplog(
  bucket INTEGER NOT NULL,
  op_id INTEGER NOT NULL,
  row_type TEXT,
  row_id TEXT,
  key TEXT,
  data TEXT,
  hash INTEGER NOT NULL) STRICT;

CREATE INDEX ps_oplog_row ON ps_oplog (row_type, row_id);
CREATE INDEX ps_oplog_opid ON ps_oplog (bucket, op_id);
CREATE INDEX ps_oplog_key ON ps_oplog (bucket, key);

CREATE TABLE ps_updated_rows(
  row_type TEXT,
  row_id TEXT,
  PRIMARY KEY(row_type, row_id)) STRICT, WITHOUT ROWID;

INSERT INTO ps_buckets(name, last_applied_op, last_op, target_op, add_checksum, op_checksum, pending_delete)
SELECT name, last_applied_op, last_op, target_op, add_checksum, op_checksum, pending_delete FROM ps_buckets_old;

DROP TABLE ps_buckets_old;

INSERT INTO ps_oplog(bucket, op_id, row_type, row_id, key, data, hash)
SELECT ps_buckets.id, oplog.op_id, oplog.row_type, oplog.row_id, oplog.key, oplog.data, oplog.hash
  FROM ps_oplog_old oplog
  JOIN ps_buckets
    ON ps_buckets.name = oplog.bucket
    WHERE oplog.superseded = 0 AND oplog.op = 3
    ORDER BY oplog.bucket, oplog.op_id;

INSERT OR IGNORE INTO ps_updated_rows(row_type, row_id)
SELECT row_type, row_id
 FROM ps_oplog_old oplog
 WHERE oplog.op != 3;

UPDATE ps_buckets SET add_checksum = 0xffffffff & (add_checksum + (
SELECT IFNULL(SUM(oplog.hash), 0)
  FROM ps_oplog_old oplog
  WHERE oplog.bucket = ps_buckets.name
    AND (oplog.superseded = 1 OR oplog.op != 3)
));

UPDATE ps_buckets SET op_checksum = 0xffffffff & (op_checksum - (
  SELECT IFNULL(SUM(oplog.hash), 0)
    FROM ps_oplog_old oplog
    WHERE oplog.bucket = ps_buckets.name
      AND (oplog.superseded = 1 OR oplog.op != 3)
));

DROP TABLE ps_oplog_old;

INSERT INTO ps_migration(id, down_migrations)
VALUES(5,
  json_array(
    -- Drop existing views and triggers if any
    json_object('sql', 'SELECT powersync_drop_view(view.name)
  FROM sqlite_master view
  WHERE view.type = ''view''
    AND view.sql GLOB  ''*-- powersync-auto-generated'''),

    json_object('sql', 'ALTER TABLE ps_buckets RENAME TO ps_buckets_5'),
    json_object('sql', 'ALTER TABLE ps_oplog RENAME TO ps_oplog_5'),
    json_object('sql', 'CREATE TABLE ps_buckets(
  name TEXT PRIMARY KEY,
  last_applied_op INTEGER NOT NULL DEFAULT 0,
  last_op INTEGER NOT NULL DEFAULT 0,
  target_op INTEGER NOT NULL DEFAULT 0,
  add_checksum INTEGER NOT NULL DEFAULT 0,
  pending_delete INTEGER NOT NULL DEFAULT 0
, op_checksum INTEGER NOT NULL DEFAULT 0, remove_operations INTEGER NOT NULL DEFAULT 0)'),
    json_object('sql', 'INSERT INTO ps_buckets(name, last_applied_op, last_op, target_op, add_checksum, op_checksum, pending_delete)
    SELECT name, last_applied_op, last_op, target_op, add_checksum, op_checksum, pending_delete FROM ps_buckets_5'),
    json_object('sql', 'CREATE TABLE ps_oplog(
  bucket TEXT NOT NULL,
  op_id INTEGER NOT NULL,
  op INTEGER NOT NULL,
  row_type TEXT,
  row_id TEXT,
  key TEXT,
  data TEXT,
  hash INTEGER NOT NULL,
  superseded INTEGER NOT NULL)'),
    json_object('sql', 'CREATE INDEX ps_oplog_by_row ON ps_oplog (row_type, row_id) WHERE superseded = 0'),
    json_object('sql', 'CREATE INDEX ps_oplog_by_opid ON ps_oplog (bucket, op_id)'),
    json_object('sql', 'CREATE INDEX ps_oplog_by_key ON ps_oplog (bucket, key) WHERE superseded = 0'),
    json_object('sql', 'INSERT INTO ps_oplog(bucket, op_id, op, row_type, row_id, key, data, hash, superseded)
    SELECT ps_buckets_5.name, oplog.op_id, 3, oplog.row_type, oplog.row_id, oplog.key, oplog.data, oplog.hash, 0
    FROM ps_oplog_5 oplog
    JOIN ps_buckets_5
        ON ps_buckets_5.id = oplog.bucket'),
    json_object('sql', 'DROP TABLE ps_oplog_5'),
    json_object('sql', 'DROP TABLE ps_buckets_5'),
    json_object('sql', 'INSERT INTO ps_oplog(bucket, op_id, op, row_type, row_id, hash, superseded)
    SELECT ''$local'', 1, 4, r.row_type, r.row_id, 0, 0
    FROM ps_updated_rows r'),
    json_object('sql', 'INSERT OR REPLACE INTO ps_buckets(name, pending_delete, last_op, target_op) VALUES(''$local'', 1, 0, 9223372036854775807)'),
    json_object('sql', 'DROP TABLE ps_updated_rows'),

    json_object('sql', 'DELETE FROM ps_migration WHERE id >= 5')
  ));
  