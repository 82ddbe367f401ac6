import Crypto
import Foundation
import GatehouseCore
import GatehouseStore
import Logging
import Synchronization
import Testing

/// Opens a fresh, migrated SQLite database in memory, runs `body` on it, and closes it whatever happens.
/// Every test gets its own database, so tests run in parallel without seeing each other.
func withStore<T>(_ body: (Store) async throws -> T) async throws -> T {
    let store = try await StoreFactory.open(.sqliteMemory, logger: Logger(label: "gatehouse.service-tests"))
    do {
        let result = try await body(store)
        await store.shutdown()
        return result
    } catch {
        await store.shutdown()
        throw error
    }
}

/// A fixed moment, in whole seconds, for services given a clock: dates survive the database unchanged.
let referenceTime = Date(timeIntervalSince1970: 1_750_000_000)

/// The disk under `DirectoryService`: records the repositories it was asked to create, or fails on every one.
/// Not a database stand-in: it lets the "a row without its directory is rolled back" rule be tested.
final class TestStorage: RepositoryStorage {
    struct DiskFull: Error, Equatable {}

    private let created = Mutex<[String]>([])
    private let fails: Bool

    init(fails: Bool = false) {
        self.fails = fails
    }

    /// Full names of the repositories created on "disk", in order.
    var createdRepositories: [String] { created.withLock { $0 } }

    func create(_ repository: Repository) async throws {
        if fails { throw DiskFull() }
        created.withLock { $0.append(repository.fullName) }
    }
}

/// An Ed25519 public key as a `.pub` line, made in-process with swift-crypto, and its fingerprint as
/// `ssh-keygen -l` prints it (computed here, independently of the parser under test).
struct TestKey: Sendable {
    let line: String
    let fingerprint: String

    /// The same key for the same seed: table rows can name keys statically (every test has its own database).
    init(seed: UInt8, comment: String = "test@gatehouse") {
        let privateKey = try! Curve25519.Signing.PrivateKey(rawRepresentation: Data(repeating: seed, count: 32))
        self.init(publicKey: privateKey.publicKey, comment: comment)
    }

    static func random(comment: String = "test@gatehouse") -> TestKey {
        TestKey(publicKey: Curve25519.Signing.PrivateKey().publicKey, comment: comment)
    }

    private init(publicKey: Curve25519.Signing.PublicKey, comment: String) {
        // SSH wire format: string "ssh-ed25519", string(32 raw bytes); each string is a 4-byte big-endian length and the bytes.
        let blob = Self.wireString(Array("ssh-ed25519".utf8)) + Self.wireString(Array(publicKey.rawRepresentation))
        line = "ssh-ed25519 \(Data(blob).base64EncodedString()) \(comment)"
        let digest = Data(SHA256.hash(data: Data(blob)))
        fingerprint = "SHA256:" + digest.base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    private static func wireString(_ bytes: [UInt8]) -> [UInt8] {
        let length = UInt32(bytes.count)
        return [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + bytes
    }
}

/// The keys table rows name.
let ciKey = TestKey(seed: 1, comment: "ci@build")
let laptopKey = TestKey(seed: 2, comment: "rita@laptop")
let otherKey = TestKey(seed: 3, comment: "other@host")

/// A small company, the cast every test draws from, created through `DirectoryService`:
/// - olivia owns the workspace `acme` (10 seats), adam administers it, rita and mia are plain members;
/// - ravi is no member but administers `acme/app` through an explicit permission; rita may read `acme/app`;
/// - sam has an account and nothing else;
/// - `acme/app` and `acme/tools` are private, `acme/site` is public.
struct Acme: Sendable {
    let store: Store
    let storage: TestStorage
    let directory: DirectoryService
    let olivia: User
    let adam: User
    let rita: User
    let mia: User
    let ravi: User
    let sam: User
    let workspace: Workspace
    let app: Repository
    let site: Repository
    let tools: Repository

    init(store: Store) async throws {
        let storage = TestStorage()
        let directory = DirectoryService(store: store, storage: storage)
        self.store = store
        self.storage = storage
        self.directory = directory
        olivia = try await directory.addUser(username: "olivia", email: "olivia@example.com")
        adam = try await directory.addUser(username: "adam", email: "adam@example.com")
        rita = try await directory.addUser(username: "rita", email: "rita@example.com")
        mia = try await directory.addUser(username: "mia", email: "mia@example.com")
        ravi = try await directory.addUser(username: "ravi", email: "ravi@example.com")
        sam = try await directory.addUser(username: "sam", email: "sam@example.com")
        workspace = try await directory.addWorkspace(slug: "acme", name: "Acme", owner: "olivia", seatLimit: 10)
        try await directory.setMember(workspace: "acme", username: "adam", role: .admin)
        try await directory.setMember(workspace: "acme", username: "rita", role: .member)
        try await directory.setMember(workspace: "acme", username: "mia", role: .member)
        app = try await directory.createRepository("acme/app", isPrivate: true)
        site = try await directory.createRepository("acme/site", isPrivate: false)
        tools = try await directory.createRepository("acme/tools", isPrivate: true)
        try await directory.grant(repository: "acme/app", username: "rita", level: .read)
        try await directory.grant(repository: "acme/app", username: "ravi", level: .admin)
    }

    var users: [User] { [olivia, adam, rita, mia, ravi, sam] }
    var repositories: [Repository] { [app, site, tools] }

    /// Every audit entry of every workspace (and of none), newest first.
    func auditEntries() async throws -> [AuditEntry] {
        try await store.audit.entries(workspace: nil, limit: 1000, offset: 0, on: store.db)
    }

    /// How many audit entries record `action`.
    func auditCount(_ action: AuditAction) async throws -> Int {
        try await auditEntries().filter { $0.action == action }.count
    }

    func pendingMail() async throws -> [QueuedMail] {
        try await store.outbox.messages(status: .pending, limit: 1000, on: store.db)
    }

    func attachments(on repository: Repository) async throws -> [DeployKey] {
        try await store.keys.deployKeys(.repository(repository.id), on: store.db)
    }

    /// What changes leave behind anywhere in the database; a refused change must leave this as it was.
    func traces() async throws -> Traces {
        var attachments = 0
        for repository in repositories { attachments += try await self.attachments(on: repository).count }
        var accountKeys = 0
        for user in users { accountKeys += try await store.keys.accountKeys(of: user.id, on: store.db).count }
        return Traces(
            auditEntries: try await store.audit.count(workspace: nil, upTo: .max, on: store.db),
            pendingMail: try await store.outbox.count(status: .pending, on: store.db),
            attachments: attachments, accountKeys: accountKeys)
    }
}

/// Counts of what a change leaves behind: audit entries, mail waiting to be sent, deployment key attachments
/// and account keys.
struct Traces: Equatable, Sendable {
    var auditEntries: Int
    var pendingMail: Int
    var attachments: Int
    var accountKeys: Int
}

/// Passwords hashed with SHA-256: enough to test the session rules (bcrypt lives in the HTTP target).
/// A hasher as slow as a real one's check (a few milliseconds) that counts how many passwords it checked.
final class CountingSlowHasher: PasswordHasher, Sendable {
    private let count = Mutex(0)
    private let inner = SHA256PasswordHasher()

    var verifications: Int { count.withLock { $0 } }

    func hash(_ password: String) -> String { inner.hash(password) }

    func verify(_ password: String, hash: String) -> Bool {
        count.withLock { $0 += 1 }
        usleep(20_000)
        return inner.verify(password, hash: hash)
    }
}

struct SHA256PasswordHasher: PasswordHasher {
    func hash(_ password: String) -> String {
        "sha256:" + Data(SHA256.hash(data: Data(password.utf8))).base64EncodedString()
    }

    func verify(_ password: String, hash: String) -> Bool {
        self.hash(password) == hash
    }
}

/// Checks passwords as `SHA256PasswordHasher` does, but tells `checking` when a check starts and holds it until
/// `release`: for what happens while bcrypt is at work.
final class HeldPasswordHasher: PasswordHasher, @unchecked Sendable {
    let checking = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)

    func hash(_ password: String) -> String { SHA256PasswordHasher().hash(password) }

    func verify(_ password: String, hash: String) -> Bool {
        checking.signal()
        _ = release.wait(timeout: .now() + 30)
        return SHA256PasswordHasher().verify(password, hash: hash)
    }
}
