//! Memory of the sorts over every op: the bulk finish's two `CREATE INDEX` and the apply's
//! scan sort the whole oplog.
//!
//! SQLite lets a sorter hold as many bytes as the page cache (`cache_size`) before it
//! spills to temporary files, and the page cache fills up while the sort reads the table.
//! A sort of an oplog larger than the cache therefore holds twice the memory the caller gave
//! SQLite: measured on the benchmark's 1M-op initial sync (`cache_size=-51200`), our
//! process grew by ~104 MB, the reference's by ~116 MB. While such a sort runs,
//! [`SortMemory`] holds `main`'s page cache at half the caller's `cache_size`, so that the
//! cache and the sorter together stay within it: ~80 MB, at the same speed (more, smaller
//! runs of the sort go through temporary files). The caller's value is set back when the
//! sort ends, on errors too; nothing outside the sort sees the change, apart from the pages
//! it evicted from the cache.
//!
//! When the database fits in the cache, nothing changes: the sorts are then small (a sort
//! of every op's keys, ~60 bytes per op), and the apply's scan relies on reading ops from
//! the cache by rowid.

use crate::error::{Result, SqlResultExt};
use rusqlite::Connection;

/// Pages of the database, the page size and `main`'s `cache_size` as set (negative: KiB).
const SIZES: &str = "SELECT (SELECT page_count FROM pragma_page_count), (SELECT page_size FROM pragma_page_size), (SELECT cache_size FROM pragma_cache_size)";

/// The page cache while a sort of every op runs: halved, or left alone when the database
/// fits in it. Call [`restore`](Self::restore) when the sort is done; dropped without it (an
/// error on the way), it restores the caller's value all the same.
pub(crate) struct SortMemory<'c> {
    conn: &'c Connection,
    /// The caller's `cache_size`, when it was halved.
    caller: Option<i64>,
    fits: bool,
}

impl<'c> SortMemory<'c> {
    /// Halves the page cache when the database does not fit in it.
    pub(crate) fn limit(conn: &'c Connection) -> Result<Self> {
        let (pages, page_size, cache): (i64, i64, i64) = conn
            .prepare_cached(SIZES)
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))))
            .sql_context(SIZES)?;
        let cache_pages = if cache < 0 {
            cache.saturating_mul(-1024) / page_size.max(1)
        } else {
            cache
        };
        let fits = pages <= cache_pages;
        let mut memory = Self {
            conn,
            caller: None,
            fits,
        };
        // `cache / 2 == 0` would mean SQLite's minimum cache, not half of a tiny one.
        if !fits && cache / 2 != 0 {
            set(conn, cache / 2)?;
            memory.caller = Some(cache);
        }
        Ok(memory)
    }

    /// Whether the database fits in the caller's page cache (which is then left alone).
    pub(crate) fn fits(&self) -> bool {
        self.fits
    }

    /// Sets the caller's `cache_size` back.
    pub(crate) fn restore(mut self) -> Result<()> {
        match self.caller.take() {
            Some(cache) => set(self.conn, cache),
            None => Ok(()),
        }
    }
}

impl Drop for SortMemory<'_> {
    fn drop(&mut self) {
        if let Some(cache) = self.caller.take() {
            // On the error path only (`restore` took the value otherwise): the error being
            // returned is the one to report; setting a cache size does not fail in practice.
            let _ = set(self.conn, cache);
        }
    }
}

fn set(conn: &Connection, cache: i64) -> Result<()> {
    let sql = format!("PRAGMA main.cache_size = {cache}");
    conn.execute_batch(&sql).sql_context(&sql)
}

#[cfg(test)]
mod tests {
    use super::SortMemory;
    use rusqlite::Connection;

    fn cache_size(conn: &Connection) -> i64 {
        conn.query_row("PRAGMA main.cache_size", [], |r| r.get(0))
            .unwrap()
    }

    /// A database of 200 pages of 4 KiB (800 KiB).
    fn database() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "PRAGMA page_size = 4096; CREATE TABLE t (x); \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) \
             INSERT INTO t SELECT zeroblob(3000) FROM n;",
        )
        .unwrap();
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        assert!((200..220).contains(&pages), "{pages} pages");
        conn
    }

    #[test]
    fn halves_a_cache_the_database_outgrows_and_restores_it_exactly() {
        let conn = database();
        // In KiB (negative) and in pages (positive), odd values included.
        for caller in [-401, -100, 151, 10] {
            conn.execute_batch(&format!("PRAGMA cache_size = {caller}"))
                .unwrap();
            let memory = SortMemory::limit(&conn).unwrap();
            assert!(!memory.fits());
            assert_eq!(cache_size(&conn), caller / 2, "while sorting, caller's {caller}");
            memory.restore().unwrap();
            assert_eq!(cache_size(&conn), caller);
        }
    }

    #[test]
    fn leaves_a_cache_the_database_fits_in() {
        let conn = database();
        for caller in [-2000, 500, -51200] {
            conn.execute_batch(&format!("PRAGMA cache_size = {caller}"))
                .unwrap();
            let memory = SortMemory::limit(&conn).unwrap();
            assert!(memory.fits());
            assert_eq!(cache_size(&conn), caller);
            memory.restore().unwrap();
            assert_eq!(cache_size(&conn), caller);
        }
    }

    #[test]
    fn leaves_a_cache_too_small_to_halve() {
        let conn = database();
        for caller in [1, -1, 0] {
            conn.execute_batch(&format!("PRAGMA cache_size = {caller}"))
                .unwrap();
            SortMemory::limit(&conn).unwrap().restore().unwrap();
            assert_eq!(cache_size(&conn), caller);
        }
    }

    /// Dropped without `restore` (an error on the way), it restores all the same.
    #[test]
    fn restores_when_dropped() {
        let conn = database();
        conn.execute_batch("PRAGMA cache_size = -300").unwrap();
        drop(SortMemory::limit(&conn).unwrap());
        assert_eq!(cache_size(&conn), -300);
    }
}
