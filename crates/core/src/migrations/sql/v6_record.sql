INSERT INTO ps_migration(id, down_migrations)
VALUES(6,
json_array(
  json_object('sql', 'DELETE FROM ps_migration WHERE id >= 6')
));
