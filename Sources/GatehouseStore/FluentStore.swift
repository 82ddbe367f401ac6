import FluentKit
import FluentSQLiteDriver
import Foundation
import GatehouseCore
import Logging
import NIOCore
import NIOPosix

/// The `Store` on Fluent: SQLite in the data directory by default; the queries use no SQLite-only SQL.
public final class FluentStore: Store, @unchecked Sendable {
    let databases: Databases
    let database: any Database
    /// SQLite's commit counter, when the store is SQLite.
    let changes: SQLiteDataVersion?

    /// Opens (and on first use creates and migrates) the SQLite database at `path`. `watchChanges` opens the
    /// connection behind `dataVersion()`, which only long-running processes (the server) need.
    public static func sqlite(path: String, logger: Logger, migrate: Bool = true, watchChanges: Bool = true) async throws -> FluentStore {
        let databases = Databases(threadPool: NIOThreadPool.singleton, on: MultiThreadedEventLoopGroup.singleton)
        // SQLite's blocking calls share NIO's thread pool (one thread per core). In a burst — many data directories
        // migrating at once, as when the test suite starts — a query can wait its turn longer than the default
        // 10 s for a connection; waiting is better than failing a request that would have succeeded.
        databases.use(.sqlite(.file(path), connectionPoolTimeout: .seconds(60), sqlLogLevel: .trace), as: .sqlite)
        let store = FluentStore(databases: databases, logger: logger)
        do {
            if migrate { try await store.migrate(logger: logger) }
        } catch {
            await store.shutdown()
            throw error
        }
        // Opened after the migrations, so that the file exists and is in WAL mode.
        return FluentStore(databases: databases, logger: logger, changes: watchChanges ? SQLiteDataVersion(path: path) : nil)
    }

    init(databases: Databases, logger: Logger, changes: SQLiteDataVersion? = nil) {
        self.databases = databases
        self.database = databases.database(logger: logger, on: databases.eventLoopGroup.any())!
        self.changes = changes
    }

    public func dataVersion() -> UInt64? {
        changes?.current()
    }

    func migrate(logger: Logger) async throws {
        if let sql = database as? any SQLDatabase {
            // WAL lets the CLI and a running server use the file at the same time; it persists in the file.
            try await sql.raw("PRAGMA journal_mode=WAL").run()
        }
        let migrations = Migrations()
        migrations.add(CreateSchema(), CreateTokens(), CreateMailOutbox(), CreateWebSignIn(), AddCertificateAuthorities())
        let migrator = Migrator(databases: databases, migrations: migrations, logger: logger, on: databases.eventLoopGroup.any())
        try await migrator.setupIfNeeded().get()
        try await migrator.prepareBatch().get()
    }

    /// Closes the database connections.
    public func shutdown() async {
        await databases.shutdownAsync()
    }
}

extension FluentStore {
    /// Runs `body`; a uniqueness violation becomes `conflict`.
    func mapConstraint<T>(_ conflict: GatehouseError, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as any DatabaseError where error.isConstraintFailure {
            throw conflict
        }
    }

    func repositoryEntity(_ model: RepositoryModel, on db: any Database) async throws -> Repository {
        guard let workspace = try await WorkspaceModel.find(model.workspaceID, on: db) else {
            throw GatehouseError.notFound("The repository's workspace is gone.")
        }
        return model.entity(workspaceSlug: workspace.slug)
    }
}
