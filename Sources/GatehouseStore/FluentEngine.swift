import FluentKit
import FluentSQLiteDriver
import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// Where the database is.
public enum DatabaseLocation: Sendable, Equatable {
    /// An SQLite file (the embedded default: `gatehouse.sqlite` in the data directory).
    case sqliteFile(String)
    /// A private SQLite database in memory, gone when the store shuts down (for tests).
    case sqliteMemory
}

/// Opens the role stores on a database.
public enum StoreFactory {
    /// Opens (and with `migrate`, creates and migrates) the database. `watchChanges` opens the connection behind
    /// `Store.dataVersion()`, which only long-running processes (the server) need.
    /// `busyTimeout` is how long a statement waits for a lock another process holds before it fails (unavailable)
    /// instead of waiting for as long as the lock is held.
    public static func open(
        _ location: DatabaseLocation, logger: Logger, migrate: Bool = true, watchChanges: Bool = true, busyTimeout: Duration = defaultBusyTimeout
    ) async throws -> Store {
        let engine =
            switch location {
            case .sqliteFile(let path):
                try await FluentEngine.sqlite(.file(path), logger: logger, migrate: migrate, watchChanges: watchChanges, busyTimeout: busyTimeout)
            case .sqliteMemory:
                try await FluentEngine.sqlite(.init(storage: .memory), logger: logger, migrate: migrate, watchChanges: false, busyTimeout: busyTimeout)
            }
        return Store(
            engine: engine, accounts: FluentAccountStore(), directory: FluentDirectoryStore(), keys: FluentKeyStore(),
            tokens: FluentTokenStore(), webSessions: FluentWebSessionStore(), audit: FluentAuditStore(),
            outbox: FluentOutboxStore(), registrations: FluentRegistrationStore())
    }

    /// `database.busy-timeout-seconds`' default.
    public static let defaultBusyTimeout: Duration = .seconds(5)
}

/// A Fluent database (or transaction) as the handle role stores run on.
struct FluentHandle: StoreHandle {
    let database: any Database
}

extension StoreHandle {
    /// The Fluent database behind a handle; only this target makes handles, so the cast always holds.
    var fluent: any Database { (self as! FluentHandle).database }
    /// The same as SQLKit's database, for the hot reads written in plain SQL.
    var sql: any SQLDatabase { fluent as! any SQLDatabase }
}

extension StoreHandle {
    /// How many rows `rows` selects: with a `LIMIT` in it, a count that reads at most that many index entries.
    func count(_ rows: SQLQueryString) async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM (\(rows)) AS counted").first()?.decode(column: "n", as: Int.self) ?? 0
    }
}

/// Runs `body`; a violated uniqueness constraint becomes `UniqueViolation`, which services turn into the rule.
func unique<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as any DatabaseError where error.isConstraintFailure {
        throw UniqueViolation()
    }
}

/// The engine on Fluent: SQLite in the data directory by default; the queries use no SQLite-only SQL.
final class FluentEngine: StoreEngine, @unchecked Sendable {
    let databases: Databases
    let database: any Database
    /// A pool of its own for `Store.reads`, so that access checks never wait for `database`'s connection.
    let readers: Databases?
    let readDatabase: any Database
    /// SQLite's commit counter, when the store is SQLite.
    let changes: SQLiteDataVersion?

    static func sqlite(
        _ configuration: SQLiteConfiguration, logger: Logger, migrate: Bool, watchChanges: Bool, busyTimeout: Duration
    ) async throws -> FluentEngine {
        func pool() -> Databases {
            let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
            // SQLite's blocking calls share NIO's thread pool (one thread per core). In a burst — many data
            // directories migrating at once, as when the test suite starts — a query can wait its turn longer than the
            // default 10 s for a connection; waiting is better than failing a request that would have succeeded.
            databases.use(.sqlite(configuration, connectionPoolTimeout: .seconds(60), sqlLogLevel: .trace), as: .sqlite)
            return databases
        }
        let databases = pool()
        let engine = FluentEngine(databases: databases, logger: logger)
        do {
            if migrate { try await engine.migrate(logger: logger) }
        } catch {
            await engine.shutdown()
            throw error
        }
        // Opened after the migrations, so that the file exists and is in WAL mode (in which readers and a writer on
        // separate connections do not block each other).
        let changes: SQLiteDataVersion? = if watchChanges, case .file(let path) = configuration.storage { SQLiteDataVersion(path: path) } else { nil }
        let opened = FluentEngine(databases: databases, readers: pool(), logger: logger, changes: changes)
        // SQLiteNIO's busy handler retries for as long as another process holds a lock, and every query of the
        // process waits behind it on that connection; a timeout fails the statement instead (closed: nothing is
        // granted on an error). Each pool keeps its one connection per event loop open, so setting it once holds.
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        do {
            for database in [opened.database, opened.readDatabase] {
                try await (database as! any SQLDatabase).raw("PRAGMA busy_timeout = \(unsafeRaw: String(milliseconds))").run()
            }
        } catch {
            await opened.shutdown()
            throw error
        }
        return opened
    }

    init(databases: Databases, readers: Databases? = nil, logger: Logger, changes: SQLiteDataVersion? = nil) {
        self.databases = databases
        self.readers = readers
        let loop = databases.eventLoopGroup.any()
        self.database = databases.database(logger: logger, on: loop)!
        self.readDatabase = (readers ?? databases).database(logger: logger, on: loop)!
        self.changes = changes
    }

    var handle: any StoreHandle { FluentHandle(database: database) }
    var readHandle: any StoreHandle { FluentHandle(database: readDatabase) }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreHandle) async throws -> T) async throws -> T {
        try await database.transaction { db in try await body(FluentHandle(database: db)) }
    }

    func dataVersion() -> UInt64? {
        changes?.current()
    }

    func migrate(logger: Logger) async throws {
        if let sql = database as? any SQLDatabase {
            // WAL lets the CLI and a running server use the file at the same time; it persists in the file.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(
            CreateSchema(), CreateTokens(), CreateMailOutbox(), CreateWebSignIn(), AddCertificateAuthorities(), AddWriteAndWorkspaceKeys(),
            AddScheduledRemovals(), CreateRegistrationTokens(), AddKeyExpiry(), AddSignInAddresses(),
            AddIDCountersAndWorkspaceUses())
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: databases.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    func shutdown() async {
        await readers?.shutdownAsync()
        await databases.shutdownAsync()
    }
}
