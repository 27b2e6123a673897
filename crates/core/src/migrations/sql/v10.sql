INSERT INTO ps_migration(id, down_migrations) VALUES (10, json_array(
  json_object('sql', 'SELECT powersync_drop_view(view.name)
  FROM sqlite_master view
  WHERE view.type = ''view''
    AND view.sql GLOB  ''*-- powersync-auto-generated'''),
  json_object('sql', 'DELETE FROM ps_migration WHERE id >= 10')
));
        