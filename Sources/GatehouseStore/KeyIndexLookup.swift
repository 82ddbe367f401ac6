import Foundation
import GatehouseCore
import VaporCSQLite

/// The OpenSSH front end's key lookup, straight from the database file: no Fluent, no event loops, no threads.
///
/// sshd runs `gatehouse authorized-keys` on every connection attempt, so its start-up cost is paid by every
/// clone; this path reads one row through the unique fingerprint index with a read-only connection.
/// It is SQLite-specific on purpose and used only for the embedded database.
public enum KeyIndexLookup {
    /// A stored key as sshd's question needs it.
    public struct Found: Sendable, Equatable {
        public var id: String
        public var kind: KeyKind?
        /// Certificate authorities only.
        public var principals: [String]
    }

    /// The stored key with this fingerprint (account key, deployment key or certificate authority), nil when unknown.
    public static func key(fingerprint: String, in location: DatabaseLocation) throws(KeyLookupError) -> Found? {
        switch location {
        case .sqliteFile(let path): try sqliteKey(fingerprint: fingerprint, databasePath: path)
        case .sqliteMemory: throw KeyLookupError("an in-memory database has no file for sshd to read")
        }
    }

    private static func sqliteKey(fingerprint: String, databasePath: String) throws(KeyLookupError) -> Found? {
        var database: OpaquePointer?
        guard sqlite_nio_sqlite3_open_v2(databasePath, &database, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let database else {
            sqlite_nio_sqlite3_close(database)
            throw KeyLookupError("cannot open \(databasePath)")
        }
        defer { sqlite_nio_sqlite3_close(database) }
        // The server may be writing (WAL); wait briefly rather than fail a login.
        sqlite_nio_sqlite3_busy_timeout(database, 2000)
        var statement: OpaquePointer?
        // `live`: an account key that has not expired, or a deployment key (or authority) with an attachment that has
        // not. An expired key gets no line, so sshd refuses it. Dates are seconds since 1970, as the store writes them.
        let query = """
            SELECT k.id, k.kind, k.principals,
              (k.kind = 'account' AND (k.expires_on IS NULL OR k.expires_on > ?2))
              OR EXISTS (SELECT 1 FROM deploy_keys d WHERE d.key_id = k.id AND (d.expires_on IS NULL OR d.expires_on > ?2))
              OR EXISTS (SELECT 1 FROM workspace_deploy_keys w WHERE w.key_id = k.id AND (w.expires_on IS NULL OR w.expires_on > ?2)) AS live
            FROM ssh_keys k WHERE k.fingerprint = ?1
            """
        guard sqlite_nio_sqlite3_prepare_v2(database, query, -1, &statement, nil) == SQLITE_OK else {
            throw KeyLookupError(String(cString: sqlite_nio_sqlite3_errmsg(database)))
        }
        defer { sqlite_nio_sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        sqlite_nio_sqlite3_bind_text(statement, 1, fingerprint, -1, transient)
        sqlite_nio_sqlite3_bind_double(statement, 2, Date().timeIntervalSince1970)
        switch sqlite_nio_sqlite3_step(statement) {
        case SQLITE_ROW:
            func text(_ column: Int32) -> String? { sqlite_nio_sqlite3_column_text(statement, column).map { String(cString: $0) } }
            guard let id = text(0), sqlite_nio_sqlite3_column_int64(statement, 3) != 0 else { return nil }
            return Found(
                id: id, kind: text(1).flatMap(KeyKind.init(rawValue:)),
                principals: StoredPrincipals.names(text(2)))
        case SQLITE_DONE:
            return nil
        default:
            throw KeyLookupError(String(cString: sqlite_nio_sqlite3_errmsg(database)))
        }
    }
}

public struct KeyLookupError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
