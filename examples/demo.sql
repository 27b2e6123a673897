-- Local writes through the generated views, then what the SDK would upload.
INSERT INTO lists (id, name, owner_id) VALUES ('l1', 'Groceries', 'u1');
INSERT INTO todos (id, list_id, description, completed) VALUES ('t1', 'l1', 'Milk', 0);
UPDATE todos SET completed = 1 WHERE id = 't1';
INSERT INTO drafts (id, body) VALUES ('d1', 'not uploaded');
INSERT INTO audit_log (id, message) VALUES ('a1', 'demo ran');
DELETE FROM todos WHERE id = 't1';
SELECT 'schema version', max(id) FROM ps_migration;
SELECT 'ps_crud', id, tx_id, data FROM ps_crud ORDER BY id;
SELECT 'views', name FROM sqlite_master WHERE type = 'view' ORDER BY name;
