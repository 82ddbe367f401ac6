import Synchronization
import VaporCSQLite

/// SQLite's `PRAGMA data_version` on a connection of its own: the number changes whenever another
/// connection, in this process or any other, commits to the file. Asking costs a few microseconds and no
/// thread hop, which is what lets `DataVersionCache` check on every request.
final class SQLiteDataVersion: Sendable {
    private struct Connection: ~Copyable {
        let database: OpaquePointer
        let statement: OpaquePointer

        deinit {
            sqlite_nio_sqlite3_finalize(statement)
            sqlite_nio_sqlite3_close(database)
        }
    }

    private let connection: Mutex<Connection>

    /// Opens `path` read-only; nil when it cannot (callers then go without caching).
    init?(path: String) {
        var database: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(path, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let database else {
            sqlite_nio_sqlite3_close(database)
            return nil
        }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(database, "PRAGMA data_version", -1, &statement, nil) == SQLITE_OK, let statement else {
            sqlite_nio_sqlite3_close(database)
            return nil
        }
        connection = Mutex(Connection(database: database, statement: statement))
    }

    /// The current version; nil if SQLite cannot say (a busy or broken file), so that nothing cached is trusted.
    func current() -> UInt64? {
        connection.withLock { connection in
            defer { sqlite_nio_sqlite3_reset(connection.statement) }
            guard sqlite_nio_sqlite3_step(connection.statement) == SQLITE_ROW else { return nil }
            return UInt64(bitPattern: sqlite_nio_sqlite3_column_int64(connection.statement, 0))
        }
    }
}
