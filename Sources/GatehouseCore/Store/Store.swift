import Foundation

/// Where a role store runs its statements: a transaction, or the database outside one (each statement on its
/// own). Opaque outside the store target; services get one from `Store.transaction` or `Store.db`.
public protocol StoreHandle: Sendable {}

/// The database engine behind the role stores (SQLite today), as the store target implements it.
public protocol StoreEngine: Sendable {
    var handle: any StoreHandle { get }
    /// A connection apart from `handle`'s, for the reads that decide access.
    var readHandle: any StoreHandle { get }
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreHandle) async throws -> T) async throws -> T
    func dataVersion() -> UInt64?
    func shutdown() async
}

/// Persistence behind the services: one small role store per concept, each method taking the handle it runs
/// on, and units of work. A service opens the transaction and composes "row + audit entry + outbox rows" in
/// it; the rules live in the services, and the schema's uniqueness constraints are the last line of defence
/// (reported as `UniqueViolation`).
public struct Store: Sendable {
    public let accounts: any AccountStore
    public let directory: any DirectoryStore
    public let keys: any KeyStore
    public let tokens: any TokenStore
    public let webSessions: any WebSessionStore
    public let audit: any AuditStore
    public let outbox: any OutboxStore
    public let registrations: any RegistrationTokenStore
    let engine: any StoreEngine

    public init(
        engine: any StoreEngine, accounts: any AccountStore, directory: any DirectoryStore, keys: any KeyStore,
        tokens: any TokenStore, webSessions: any WebSessionStore, audit: any AuditStore, outbox: any OutboxStore,
        registrations: any RegistrationTokenStore
    ) {
        self.engine = engine
        self.accounts = accounts
        self.directory = directory
        self.keys = keys
        self.tokens = tokens
        self.webSessions = webSessions
        self.audit = audit
        self.outbox = outbox
        self.registrations = registrations
    }

    /// Statements outside a transaction: reads, and bookkeeping that is one statement.
    public var db: any StoreHandle { engine.handle }

    /// The reads that decide access (who a key is, what a caller may do), on a connection of their own: an SSH
    /// login never queues behind a write waiting for a lock or a long list on `db`. They see committed data only.
    public var reads: any StoreHandle { engine.readHandle }

    /// Runs `body` as one unit of work: everything it wrote commits together, or nothing does when it throws.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (any StoreHandle) async throws -> T) async throws -> T {
        try await engine.transaction(body)
    }

    /// A number that changes whenever anyone (this process, the CLI, another node) commits a change, read
    /// without a round trip; nil when the engine cannot tell cheaply, which turns `DataVersionCache` off.
    public func dataVersion() -> UInt64? { engine.dataVersion() }

    /// Closes the database connections.
    public func shutdown() async { await engine.shutdown() }

    /// Writes a change's audit entry and its notices to the outbox, inside the caller's transaction.
    func record(_ change: ChangeRecord, on tx: any StoreHandle) async throws {
        try await audit.append(change.audit, on: tx)
        for mail in change.mail { try await outbox.enqueue(mail, at: change.audit.at, on: tx) }
    }
}

/// A row broke one of the schema's uniqueness constraints (a concurrent request won the race). Services turn
/// it into the `GatehouseError` that says which rule it was.
public struct UniqueViolation: Error, Sendable {
    public init() {}
}

extension Store {
    /// Runs `body`; a uniqueness violation becomes `conflict`, the rule the constraint backs.
    func unique<T>(_ conflict: GatehouseError, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch is UniqueViolation {
            throw conflict
        }
    }
}

/// Where repositories live on disk.
public protocol RepositoryStorage: Sendable {
    func create(_ repository: Repository) async throws
}
