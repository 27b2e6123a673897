//! Generated SQL against the examples captured from the reference (see
//! docs/sql-surface.md#example and docs/sql-surface.md#raw-table-triggers). These need neither the reference binary nor `powersync_init`.

use powersync_core::schema::{index_sql, Schema, Table, ViewDefinition};

fn table(json: &str) -> Table {
    let schema = Schema::from_json(format!(r#"{{"tables": [{json}]}}"#).as_bytes()).unwrap();
    schema.tables.into_iter().next().unwrap()
}

#[test]
fn synced_table_with_index() {
    let t = table(
        r#"{"name": "lists", "columns": [{"name": "name", "type": "TEXT"}, {"name": "count", "type": "INTEGER"}, {"name": "w", "type": "REAL"}],
            "indexes": [{"name": "by_name", "columns": [{"name": "name", "ascending": true, "type": "TEXT"}, {"name": "count", "ascending": false, "type": "INTEGER"}]}]}"#,
    );
    let (name, sql) = index_sql(&t, &t.indexes[0]);
    assert_eq!(name, "ps_data__lists__by_name");
    assert_eq!(
        sql,
        r#"CREATE INDEX "ps_data__lists__by_name" ON "ps_data__lists"(CAST(json_extract(data, '$.name') as TEXT), CAST(json_extract(data, '$.count') as INTEGER) DESC)"#
    );
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(v.name, "lists");
    assert_eq!(
        v.view,
        r#"CREATE VIEW "lists"("id", "name", "count", "w") AS SELECT id, CAST(json_extract(data, '$.name') as TEXT), CAST(json_extract(data, '$.count') as INTEGER), CAST(json_extract(data, '$.w') as REAL) FROM "ps_data__lists" -- powersync-auto-generated"#
    );
    assert_eq!(
        v.delete,
        r#"CREATE TRIGGER "ps_view_delete_lists" INSTEAD OF DELETE ON "lists" FOR EACH ROW BEGIN
DELETE FROM "ps_data__lists" WHERE id = OLD.id;
INSERT INTO powersync_crud(op,id,type) VALUES ('DELETE', OLD.id, 'lists');
END"#
    );
    assert_eq!(
        v.insert,
        r#"CREATE TRIGGER "ps_view_insert_lists" INSTEAD OF INSERT ON "lists" FOR EACH ROW BEGIN
SELECT CASE WHEN (NEW.id IS NULL) THEN RAISE (FAIL, 'id is required') WHEN (typeof(NEW.id) != 'text') THEN RAISE (FAIL, 'id should be text') END;
INSERT INTO "ps_data__lists" SELECT NEW.id, json_object('name', powersync_strip_subtype(NEW."name"), 'count', powersync_strip_subtype(NEW."count"), 'w', powersync_strip_subtype(NEW."w"));
INSERT INTO powersync_crud(op,id,type,data) VALUES ('PUT', NEW.id, 'lists', json(powersync_diff('{}', json_object('name', powersync_strip_subtype(NEW."name"), 'count', powersync_strip_subtype(NEW."count"), 'w', powersync_strip_subtype(NEW."w")))));
END"#
    );
    assert_eq!(
        v.update,
        r#"CREATE TRIGGER "ps_view_update_lists" INSTEAD OF UPDATE ON "lists" FOR EACH ROW BEGIN
SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (FAIL, 'Cannot update id') END;
UPDATE "ps_data__lists" SET data = json_object('name', powersync_strip_subtype(NEW."name"), 'count', powersync_strip_subtype(NEW."count"), 'w', powersync_strip_subtype(NEW."w")) WHERE id = NEW.id;
INSERT INTO powersync_crud(op,id,type,data,options) VALUES ('PATCH', NEW.id, 'lists', json(powersync_diff(json_object('name', powersync_strip_subtype(OLD."name"), 'count', powersync_strip_subtype(OLD."count"), 'w', powersync_strip_subtype(OLD."w")), json_object('name', powersync_strip_subtype(NEW."name"), 'count', powersync_strip_subtype(NEW."count"), 'w', powersync_strip_subtype(NEW."w")))), 0);
END"#
    );
}

#[test]
fn local_only_table() {
    let t =
        table(r#"{"name": "drafts", "local_only": true, "columns": [{"name": "title", "type": "TEXT"}]}"#);
    assert_eq!(t.internal_name(), "ps_data_local__drafts");
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(
        v.view,
        r#"CREATE VIEW "drafts"("id", "title") AS SELECT id, CAST(json_extract(data, '$.title') as TEXT) FROM "ps_data_local__drafts" -- powersync-auto-generated"#
    );
    assert_eq!(
        v.delete,
        r#"CREATE TRIGGER "ps_view_delete_drafts" INSTEAD OF DELETE ON "drafts" FOR EACH ROW BEGIN
DELETE FROM "ps_data_local__drafts" WHERE id = OLD.id;
END"#
    );
    assert_eq!(
        v.insert,
        r#"CREATE TRIGGER "ps_view_insert_drafts" INSTEAD OF INSERT ON "drafts" FOR EACH ROW BEGIN
INSERT INTO "ps_data_local__drafts" SELECT NEW.id, json_object('title', powersync_strip_subtype(NEW."title"));
END"#
    );
    assert_eq!(
        v.update,
        r#"CREATE TRIGGER "ps_view_update_drafts" INSTEAD OF UPDATE ON "drafts" FOR EACH ROW BEGIN
SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (FAIL, 'Cannot update id') END;
UPDATE "ps_data_local__drafts" SET data = json_object('title', powersync_strip_subtype(NEW."title")) WHERE id = NEW.id;
END"#
    );
}

#[test]
fn insert_only_table() {
    let t = table(
        r#"{"name": "logs", "insert_only": true, "columns": [{"name": "level", "type": "TEXT"}, {"name": "msg", "type": "TEXT"}]}"#,
    );
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(
        v.view,
        r#"CREATE VIEW "logs"("id", "level", "msg") AS SELECT id, CAST(json_extract(data, '$.level') as TEXT), CAST(json_extract(data, '$.msg') as TEXT) FROM "ps_data__logs" -- powersync-auto-generated"#
    );
    assert_eq!(
        v.insert,
        r#"CREATE TRIGGER "ps_view_insert_logs" INSTEAD OF INSERT ON "logs" FOR EACH ROW BEGIN
SELECT CASE WHEN (NEW.id IS NULL) THEN RAISE (FAIL, 'id is required') WHEN (typeof(NEW.id) != 'text') THEN RAISE (FAIL, 'id should be text') END;
INSERT INTO powersync_crud_(data) VALUES(json_object('op', 'PUT', 'type', 'logs', 'id', NEW.id, 'data', json(powersync_diff('{}', json_object('level', powersync_strip_subtype(NEW."level"), 'msg', powersync_strip_subtype(NEW."msg"))))));END"#
    );
    assert_eq!(v.delete, "");
    assert_eq!(v.update, "");
}

#[test]
fn view_name_override() {
    let t = table(r#"{"name": "aliased", "view_name": "test1", "columns": [{"name": "a", "type": "TEXT"}]}"#);
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(v.name, "test1");
    assert!(v
        .delete
        .starts_with(r#"CREATE TRIGGER "ps_view_delete_test1" INSTEAD OF DELETE ON "test1" "#));
    assert!(v
        .delete
        .contains("INSERT INTO powersync_crud(op,id,type) VALUES ('DELETE', OLD.id, 'aliased');"));
    assert!(v.insert.starts_with(r#"CREATE TRIGGER "ps_view_insert_test1""#));
    assert!(v.update.starts_with(r#"CREATE TRIGGER "ps_view_update_test1""#));
    assert!(v
        .view
        .ends_with(r#"FROM "ps_data__aliased" -- powersync-auto-generated"#));
}

#[test]
fn include_metadata() {
    let t = table(
        r#"{"name": "customers", "include_metadata": true, "columns": [{"name": "name", "type": "TEXT"}]}"#,
    );
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(
        v.view,
        r#"CREATE VIEW "customers"("id", "name", "_metadata", "_deleted") AS SELECT id, CAST(json_extract(data, '$.name') as TEXT), NULL, NULL FROM "ps_data__customers" -- powersync-auto-generated"#
    );
    assert_eq!(
        v.delete,
        r#"CREATE TRIGGER "ps_view_delete_customers" INSTEAD OF DELETE ON "customers" FOR EACH ROW BEGIN
DELETE FROM "ps_data__customers" WHERE id = OLD.id;
INSERT INTO powersync_crud(op,id,type) VALUES ('DELETE', OLD.id, 'customers');
END;
CREATE TRIGGER "ps_view_delete2_customers" INSTEAD OF UPDATE ON "customers" FOR EACH ROW WHEN NEW._deleted IS TRUE BEGIN DELETE FROM "ps_data__customers" WHERE id = OLD.id; INSERT INTO powersync_crud(op,id,type,metadata) VALUES ('DELETE', OLD.id, 'customers', NEW._metadata);
END"#
    );
    assert_eq!(
        v.insert,
        r#"CREATE TRIGGER "ps_view_insert_customers" INSTEAD OF INSERT ON "customers" FOR EACH ROW BEGIN
SELECT CASE WHEN (NEW.id IS NULL) THEN RAISE (FAIL, 'id is required') WHEN (typeof(NEW.id) != 'text') THEN RAISE (FAIL, 'id should be text') END;
INSERT INTO "ps_data__customers" SELECT NEW.id, json_object('name', powersync_strip_subtype(NEW."name"));
INSERT INTO powersync_crud(op,id,type,data,metadata) VALUES ('PUT', NEW.id, 'customers', json(powersync_diff('{}', json_object('name', powersync_strip_subtype(NEW."name")))), NEW._metadata);
END"#
    );
    assert_eq!(
        v.update,
        r#"CREATE TRIGGER "ps_view_update_customers" INSTEAD OF UPDATE ON "customers" FOR EACH ROW  WHEN NEW._deleted IS NOT TRUE BEGIN
SELECT CASE WHEN (OLD.id != NEW.id) THEN RAISE (FAIL, 'Cannot update id') END;
UPDATE "ps_data__customers" SET data = json_object('name', powersync_strip_subtype(NEW."name")) WHERE id = NEW.id;
INSERT INTO powersync_crud(op,id,type,data,metadata,options) VALUES ('PATCH', NEW.id, 'customers', json(powersync_diff(json_object('name', powersync_strip_subtype(OLD."name")), json_object('name', powersync_strip_subtype(NEW."name")))), NEW._metadata, 4);
END"#
    );
}

fn crud_lines(sql: &str) -> Vec<&str> {
    sql.lines()
        .filter(|l| l.starts_with("INSERT INTO powersync_crud("))
        .collect()
}

#[test]
fn include_old_variants() {
    let cols = r#""columns": [{"name": "a", "type": "TEXT"}, {"name": "b", "type": "TEXT"}]"#;
    let v = ViewDefinition::for_table(&table(&format!(
        r#"{{"name": "t", "include_old": true, {cols}}}"#
    )))
    .unwrap();
    assert_eq!(
        crud_lines(&v.update),
        [
            r#"INSERT INTO powersync_crud(op,id,type,data,old_values,options) VALUES ('PATCH', NEW.id, 't', json(powersync_diff(json_object('a', powersync_strip_subtype(OLD."a"), 'b', powersync_strip_subtype(OLD."b")), json_object('a', powersync_strip_subtype(NEW."a"), 'b', powersync_strip_subtype(NEW."b")))), json_object('a', powersync_strip_subtype(OLD."a"), 'b', powersync_strip_subtype(OLD."b")), 0);"#
        ]
    );
    assert_eq!(
        crud_lines(&v.delete),
        [
            r#"INSERT INTO powersync_crud(op,id,type,old_values) VALUES ('DELETE', OLD.id, 't', json_object('a', powersync_strip_subtype(OLD."a"), 'b', powersync_strip_subtype(OLD."b")));"#
        ]
    );

    let v = ViewDefinition::for_table(&table(&format!(
        r#"{{"name": "t", "include_old": ["b", "unknown"], {cols}}}"#
    )))
    .unwrap();
    assert!(
        crud_lines(&v.update)[0].ends_with(r#", json_object('b', powersync_strip_subtype(OLD."b")), 0);"#)
    );
    assert_eq!(
        crud_lines(&v.delete),
        [
            r#"INSERT INTO powersync_crud(op,id,type,old_values) VALUES ('DELETE', OLD.id, 't', json_object('b', powersync_strip_subtype(OLD."b")));"#
        ]
    );

    let v = ViewDefinition::for_table(&table(&format!(
        r#"{{"name": "t", "include_old": ["b"], "include_old_only_when_changed": true, {cols}}}"#
    )))
    .unwrap();
    assert!(crud_lines(&v.update)[0].ends_with(r#", json(powersync_diff(json_object('b', powersync_strip_subtype(NEW."b")), json_object('b', powersync_strip_subtype(OLD."b")))), 8);"#));
    assert_eq!(
        crud_lines(&v.delete),
        [
            r#"INSERT INTO powersync_crud(op,id,type,old_values) VALUES ('DELETE', OLD.id, 't', json_object('b', powersync_strip_subtype(OLD."b")));"#
        ]
    );

    let v = ViewDefinition::for_table(&table(&format!(r#"{{"name": "t", "include_old": true, "include_old_only_when_changed": true, "include_metadata": true, "ignore_empty_update": true, {cols}}}"#))).unwrap();
    assert!(crud_lines(&v.update)[0].ends_with(", NEW._metadata, 28);"));

    let v = ViewDefinition::for_table(&table(&format!(
        r#"{{"name": "t", "ignore_empty_update": true, {cols}}}"#
    )))
    .unwrap();
    assert!(crud_lines(&v.update)[0].ends_with(")))), 16);"));
}

#[test]
fn quoting() {
    let t = table(r#"{"name": "we\"ird'name", "columns": [{"name": "co\"l'x", "type": "TEXT"}]}"#);
    let v = ViewDefinition::for_table(&t).unwrap();
    assert_eq!(
        v.view,
        r#"CREATE VIEW "we""ird'name"("id", "co""l'x") AS SELECT id, CAST(json_extract(data, '$.co"l''x') as TEXT) FROM "ps_data__we""ird'name" -- powersync-auto-generated"#
    );
    assert_eq!(
        crud_lines(&v.delete),
        [r#"INSERT INTO powersync_crud(op,id,type) VALUES ('DELETE', OLD.id, 'we"ird''name');"#]
    );
}

#[test]
fn fifty_one_columns() {
    let columns: Vec<String> = (0..51)
        .map(|i| format!(r#"{{"name": "c{i}", "type": "TEXT"}}"#))
        .collect();
    let t = table(&format!(r#"{{"name": "w", "columns": [{}]}}"#, columns.join(",")));
    let v = ViewDefinition::for_table(&t).unwrap();
    assert!(v.insert.ends_with(r#"'c49', powersync_strip_subtype(NEW."c49")), json_object('c50', powersync_strip_subtype(NEW."c50"))))));
END"#));
    assert!(v.insert.contains(r#"data) VALUES ('PUT', NEW.id, 'w', json(powersync_diff('{}', powersync_json_merge(json_object('c0', "#));
}

#[test]
fn empty_table() {
    let v = ViewDefinition::for_table(&table(r#"{"name": "empty", "columns": []}"#)).unwrap();
    assert_eq!(
        v.view,
        r#"CREATE VIEW "empty"("id") AS SELECT id FROM "ps_data__empty" -- powersync-auto-generated"#
    );
}

#[test]
fn too_many_columns() {
    let columns: Vec<String> = (0..2000)
        .map(|i| format!(r#"{{"name": "c{i}", "type": "TEXT"}}"#))
        .collect();
    let t = table(&format!(r#"{{"name": "w", "columns": [{}]}}"#, columns.join(",")));
    assert_eq!(
        ViewDefinition::for_table(&t).unwrap_err().to_string(),
        "invalid argument: too many parameters to json_object_fragment. cause: unknown"
    );
}

#[test]
fn parse_errors() {
    let err = |json: &str| Schema::from_json(json.as_bytes()).unwrap_err().to_string();
    assert_eq!(
        err("not json"),
        "invalid argument: . cause: expected ident at line 1 column 2"
    );
    assert_eq!(
        err("{}"),
        "invalid argument: . cause: missing field `tables` at line 1 column 2"
    );
    assert_eq!(
        err(r#"{"tables": null}"#),
        "invalid argument: . cause: invalid type: null, expected a sequence at line 1 column 15"
    );
    assert_eq!(
        err(r#"{"tables": [{"name":"a","columns":[], "local_only": "yes"}]}"#),
        "invalid argument: . cause: invalid type: string \"yes\", expected a boolean at line 1 column 58"
    );
    assert_eq!(err(r#"{"tables": [{"name":"a","columns":[], "include_old": "x"}]}"#), "invalid argument: . cause: invalid type: string \"x\", expected an array of columns, or true at line 1 column 57");
    assert_eq!(
        err(""),
        "invalid argument: . cause: EOF while parsing a value at line 1 column 0"
    );
}
