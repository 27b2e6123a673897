DELETE FROM ps_kv
 WHERE key IN (
   'last_applied_checkpoint_request_id',
   'last_seen_checkpoint_request_id',
   'target_checkpoint_request_id'
 );

INSERT INTO ps_kv(key, value)
SELECT 'last_applied_checkpoint_request_id', last_applied_op
  FROM ps_buckets
 WHERE name = '$local'
   AND last_applied_op > 0;

INSERT INTO ps_kv(key, value)
SELECT 'last_seen_checkpoint_request_id', last_op
  FROM ps_buckets
 WHERE name = '$local'
   AND last_op > 0;

INSERT INTO ps_kv(key, value)
SELECT 'target_checkpoint_request_id', target_op
  FROM ps_buckets
 WHERE name = '$local'
   AND target_op > 0;

DELETE FROM ps_buckets WHERE name = '$local';

ALTER TABLE ps_buckets DROP COLUMN target_op;
