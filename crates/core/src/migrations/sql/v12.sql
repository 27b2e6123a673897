ALTER TABLE ps_buckets ADD COLUMN downloaded_size INTEGER NOT NULL DEFAULT 0;
INSERT INTO ps_migration(id, down_migrations) VALUES(12, json_array(
json_object('sql', 'ALTER TABLE ps_buckets DROP COLUMN downloaded_size'),
json_object('sql', 'DELETE FROM ps_migration WHERE id >= 12')
));
