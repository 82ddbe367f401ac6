import Foundation
import GatehouseCore
import GatehouseGit
import GatehouseHTTP
import GatehouseMail
import GatehouseSSH
import GatehouseStore
import Logging

/// Everything Gatehouse keeps in its data directory: the database, the repositories and the host keys.
/// The CLI and `serve` open the same directory, so commands work while the server runs.
public struct DataDirectory: Sendable {
    public let url: URL
    public let store: Store
    public let repositories: GitRepositories
    public let directory: DirectoryService
    public let keys: KeyService
    public let tokens: TokenService
    public let sessions: SessionService
    public let access: AccessService
    public let outbox: OutboxService
    public let registrations: RegistrationService
    public let logger: Logger

    /// `--data`, else `$GATEHOUSE_DATA`, else `./gatehouse-data`.
    public static func defaultPath() -> String {
        ProcessInfo.processInfo.environment["GATEHOUSE_DATA"] ?? "gatehouse-data"
    }

    /// Opens the directory, creating it, the database and the repository root on first use.
    /// `hookExecutable` is the `gatehouse` binary git's ref-rule hooks run: this process's own unless it is not
    /// `gatehouse` (the tests serve from the test runner).
    public static func open(
        _ path: String, logger: Logger, signInLimits: SignInLimits = SignInLimits(), hookExecutable: String? = nil,
        busyTimeout: Duration = StoreFactory.defaultBusyTimeout
    ) async throws -> DataDirectory {
        let url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        try FileManager.default.createDirectory(
            at: url.appendingPathComponent("repositories", isDirectory: true),
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let store = try await StoreFactory.open(databaseLocation(url), logger: logger, busyTimeout: busyTimeout)
        let directory = DataDirectory(url: url, store: store, logger: logger, signInLimits: signInLimits, hookExecutable: hookExecutable)
        try directory.repositories.hooks?.install()
        return directory
    }

    /// Opens an existing directory without creating or migrating anything: the fast path that sshd runs on
    /// every connection attempt. Nil when there is no database yet. `watchChanges` keeps the data version readable
    /// (`Store.dataVersion()`), for a process that lives on, like the forced command watching its git session.
    public static func openExisting(_ path: String, logger: Logger, watchChanges: Bool = false) async throws -> DataDirectory? {
        let url = URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL
        guard case .sqliteFile(let database) = databaseLocation(url), FileManager.default.fileExists(atPath: database) else { return nil }
        let store = try await StoreFactory.open(databaseLocation(url), logger: logger, migrate: false, watchChanges: watchChanges)
        return DataDirectory(url: url, store: store, logger: logger)
    }

    /// The database of the data directory at `url`: its SQLite file.
    public static func databaseLocation(_ url: URL) -> DatabaseLocation {
        .sqliteFile(url.appendingPathComponent("gatehouse.sqlite").path)
    }

    private init(url: URL, store: Store, logger: Logger, signInLimits: SignInLimits = SignInLimits(), hookExecutable: String? = nil) {
        self.url = url
        self.store = store
        let hooks = GitHooks(
            directory: url.appendingPathComponent("hooks", isDirectory: true), executable: hookExecutable ?? Self.executablePath(),
            dataDirectory: url.path)
        self.repositories = GitRepositories(root: url.appendingPathComponent("repositories", isDirectory: true), hooks: hooks)
        self.directory = DirectoryService(store: store, storage: repositories)
        self.keys = KeyService(store: store)
        self.tokens = TokenService(store: store)
        self.sessions = SessionService(store: store, hasher: BcryptHasher(), limits: signInLimits)
        self.access = AccessService(store: store)
        self.outbox = OutboxService(store: store)
        self.registrations = RegistrationService(store: store, keys: keys)
        self.logger = logger
    }

    /// The running binary's absolute path.
    static func executablePath() -> String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
    }

    public func hostKeys() throws -> HostKeys {
        try HostKeys.loadOrCreate(in: url)
    }

    /// The built-in SSH server on this directory.
    public func sshServer(_ configuration: SSHServer.Configuration, gitIdleTimeout: Duration = GitProcess.defaultIdleTimeout) throws -> SSHServer {
        SSHServer(
            configuration: configuration, hostKeys: try hostKeys(), access: access,
            git: GitProcess(repositories: repositories, idleTimeout: gitIdleTimeout), logger: logger)
    }

    /// The REST API on this directory, telling clients how to reach `ssh`.
    public func apiServer(
        ssh: APIServer.SSHEndpoint, maximumBodySize: Int = APIServer.defaultMaximumBodySize, idleTimeout: Duration = APIServer.defaultIdleTimeout,
        trustForwardedHeaders: Bool = false, metrics: MetricsEndpoint? = DataDirectory.metricsEndpoint(token: nil)
    ) throws -> APIServer {
        // Metrics recorded before the bootstrap would go nowhere: make sure it happened.
        _ = GatehouseMetrics.registry
        return try APIServer(
            services: .init(
                dataVersion: { store.dataVersion() }, directory: directory, keys: keys, tokens: tokens, sessions: sessions,
                registrations: registrations), ssh: ssh,
            logger: logger,
            metrics: metrics, maximumBodySize: maximumBodySize, idleTimeout: idleTimeout,
            trustForwardedHeaders: trustForwardedHeaders)
    }

    /// `/metrics` from this process's registry.
    public static func metricsEndpoint(token: String?) -> MetricsEndpoint {
        MetricsEndpoint(exposition: GatehouseMetrics.exposition, token: token)
    }

    /// Host keys as the API lists them.
    public func sshEndpoint(port: Int, user: String) throws -> APIServer.SSHEndpoint {
        APIServer.SSHEndpoint(port: port, user: user, hostKeys: try hostKeys().publicKeys.map { ($0.openSSH, $0.fingerprint) })
    }

    /// The outbox sender; with no SMTP server it only reports what is waiting.
    public func mailRelay(smtp: SMTPConfiguration?, policy: MailRelay.Policy = .init()) -> MailRelay {
        MailRelay(outbox: outbox, smtp: smtp, policy: policy, logger: logger)
    }

    public func close() async {
        await store.shutdown()
    }
}
