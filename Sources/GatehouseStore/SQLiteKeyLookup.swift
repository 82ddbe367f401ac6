import VaporCSQLite

/// The OpenSSH front end's key lookup, straight from the SQLite file: no Fluent, no event loops, no threads.
///
/// sshd runs `gatehouse authorized-keys` on every connection attempt, so its start-up cost is paid by every
/// clone; this path reads one row through the unique fingerprint index with a read-only connection.
/// It is SQLite-specific on purpose and used only for the embedded database.
public enum SQLiteKeyLookup {
    /// The id of the stored key with this fingerprint (account or deployment key), nil when unknown.
    public static func keyID(fingerprint: String, databasePath: String) throws(SQLiteLookupError) -> String? {
        var database: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(databasePath, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let database else {
            sqlite_nio_sqlite3_close(database)
            throw SQLiteLookupError("cannot open \(databasePath)")
        }
        defer { sqlite_nio_sqlite3_close(database) }
        // The server may be writing (WAL); wait briefly rather than fail a login.
        sqlite_nio_sqlite3_busy_timeout(database, 2000)
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(database, "SELECT id FROM ssh_keys WHERE fingerprint = ?1", -1, &statement, nil) == SQLITE_OK else {
            throw SQLiteLookupError(String(cString: sqlite_nio_sqlite3_errmsg(database)))
        }
        defer { sqlite_nio_sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite_nio_sqlite3_bind_text(statement, 1, fingerprint, -1, transient)
        switch sqlite_nio_sqlite3_step(statement) {
        case SQLITE_ROW:
            guard let text = sqlite_nio_sqlite3_column_text(statement, 0) else { return nil }
            return String(cString: text)
        case SQLITE_DONE:
            return nil
        default:
            throw SQLiteLookupError(String(cString: sqlite_nio_sqlite3_errmsg(database)))
        }
    }
}

public struct SQLiteLookupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
