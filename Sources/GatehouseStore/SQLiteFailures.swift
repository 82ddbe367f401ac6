import FluentSQLiteDriver
import GatehouseCore

/// SQLite's conditions as the server's: a full disk and a locked or unreadable file are not faults of the server,
/// and the caller is told so (nothing was changed: SQLite rolled the statement back).
extension SQLiteError: GatehouseErrorConvertible {
    public var gatehouseError: GatehouseError {
        switch reason {
        case .full:
            .storageFull("The database's disk is full (\(self)).")
        case .busy, .busyTimeout, .busyInRecovery, .busyInSnapshot, .locked, .lockedBySharedCache:
            .unavailable("The database stayed locked by another process for longer than database.busy-timeout-seconds (\(self)).")
        case .ioError, .ioErrorFailedRead, .ioErrorIncompleteRead, .ioErrorFailedWrite, .ioErrorFailedSync, .cantOpen, .readOnly,
            .readonlyCantLock, .readonlyDirectory, .corrupt, .notADatabase:
            .unavailable("The database file could not be read or written (\(self)).")
        default:
            .internalFailure(String(reflecting: self))
        }
    }
}
