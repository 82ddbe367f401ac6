import Foundation

/// Hashes and checks passwords; bcrypt in the HTTP target, so that the core stays free of it.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) -> String
    func verify(_ password: String, hash: String) -> Bool
}

/// A signed-in browser: found by the hash of the cookie's secret, like API tokens.
public struct WebSession: Sendable, Equatable {
    public var id: UUID
    public var userID: UUID
    public var createdAt: Date
    public var expiresAt: Date

    public init(id: UUID, userID: UUID, createdAt: Date, expiresAt: Date) {
        self.id = id
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// How many failed sign-ins are allowed per account and per address within `window` before refusing
/// (`web.sign-in-failures-per-account`, `web.sign-in-failures-per-address`).
public struct SignInLimits: Sendable {
    public var failuresPerAccount = 5
    public var failuresPerAddress = 20
    public var window: TimeInterval = 15 * 60

    public init() {}
}

/// Passwords, sign-in with rate limits, and browser sessions kept in the database (so they survive a
/// restart and work across nodes).
public struct SessionService: Sendable {
    public let store: Store
    public let hasher: any PasswordHasher
    public let clock: @Sendable () -> Date
    public let limits: SignInLimits
    public static let sessionLifetime: TimeInterval = 14 * 86_400
    public static let minimumPasswordLength = 10

    public init(
        store: Store, hasher: any PasswordHasher, limits: SignInLimits = SignInLimits(),
        clock: @escaping @Sendable () -> Date = Date.init
    ) {
        self.store = store
        self.hasher = hasher
        self.limits = limits
        self.clock = clock
    }

    public func setPassword(username: String, password: String) async throws {
        guard password.count >= Self.minimumPasswordLength else {
            throw GatehouseError.invalidArgument("The password is too short: use at least \(Self.minimumPasswordLength) characters.")
        }
        guard let user = try await store.accounts.user(username: username, on: store.db) else {
            throw GatehouseError.notFound("No user named '\(username)'. Create it with `gatehouse user add \(username) --email EMAIL`.")
        }
        let hash = hasher.hash(password)
        let store = store
        // A new password ends every browser session of the account: whoever knew the old one is signed out too.
        try await store.transaction { tx in
            try await store.accounts.setPasswordHash(hash, userID: user.id, on: tx)
            try await store.webSessions.deleteAll(userID: user.id, on: tx)
        }
    }

    /// How long an address an account signed in from stays exempt from the account's lockout.
    public static let knownAddressMemory: TimeInterval = 90 * 86_400

    /// Checks the password and opens a session. Returns the cookie secret (shown to the browser only).
    ///
    /// Each attempt is counted *before* its password is checked, in a unit of work that refuses it when the count
    /// goes over a limit, so parallel requests cannot get more passwords checked than the limits allow. A successful
    /// attempt is taken back. The account's limit does not apply from an address the account signed in from
    /// successfully in the last 90 days, so an attacker's failures cannot lock its owner out; the address limit
    /// always applies.
    public func signIn(username: String, password: String, sourceIP: String?) async throws -> (secret: String, user: User) {
        let now = clock()
        let since = now.addingTimeInterval(-limits.window)
        let address = sourceIP ?? "-"
        let accountKey = "account:\(username.lowercased())"
        let addressKey = "address:\(address)"
        let account = try await store.accounts.passwordHash(username: username, on: store.db)
        let knownAddress =
            if let user = account?.0 {
                try await store.webSessions.hasSignedIn(
                    userID: user.id, from: address, since: now.addingTimeInterval(-Self.knownAddressMemory), on: store.db)
            } else {
                false
            }
        let store = store
        let limits = limits
        let attempt = try await store.transaction { tx in
            // Written first, so that concurrent attempts queue for the write lock and each counts the others.
            let ids = try await store.webSessions.recordAttempt(keys: [accountKey, addressKey], at: now, on: tx)
            let addressAttempts = try await store.webSessions.failures(key: addressKey, since: since, on: tx)
            let accountAttempts = knownAddress ? 0 : try await store.webSessions.failures(key: accountKey, since: since, on: tx)
            if accountAttempts > limits.failuresPerAccount || addressAttempts > limits.failuresPerAddress {
                throw SignInError.tooManyAttempts(minutes: Int(limits.window / 60))
            }
            return ids
        }
        guard let (user, hash) = account, let hash, hasher.verify(password, hash: hash) else {
            // Unknown accounts cost as much as wrong passwords, so that timing does not tell which names exist.
            if account?.1 == nil { _ = hasher.hash(password) }
            throw SignInError.invalidCredentials
        }
        try await store.webSessions.forgetAttempts(attempt, on: store.db)
        // Bookkeeping for the exemption above: a failure here costs the owner nothing today.
        try? await store.webSessions.recordSignInAddress(userID: user.id, address: address, at: now, on: store.db)
        // Housekeeping rides on successful sign-ins: rare enough to cost nothing, frequent enough to keep tables small.
        try? await store.webSessions.prune(now: now, failuresBefore: since, on: store.db)
        let secret = TokenSecret.generate(prefix: "ghs_")
        let session = WebSession(id: UUID(), userID: user.id, createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime))
        try await store.transaction { tx in
            // The password may have changed while this one was being checked (bcrypt takes a while): then the
            // change has ended every session, and this one, checked against the old password, must not open.
            guard try await store.accounts.passwordHash(username: user.username, on: tx)?.1 == hash else {
                throw SignInError.invalidCredentials
            }
            try await store.webSessions.insert(session, hash: TokenSecret.hash(secret), on: tx)
        }
        return (secret, user)
    }

    /// The signed-in account for a cookie secret; nil when unknown or expired.
    public func user(sessionSecret secret: String) async throws -> User? {
        guard secret.hasPrefix("ghs_"), secret.utf8.count < 200 else { return nil }
        guard let (session, user) = try await store.webSessions.session(hash: TokenSecret.hash(secret), on: store.db), session.expiresAt > clock() else {
            return nil
        }
        return user
    }

    public func signOut(sessionSecret secret: String) async throws {
        try await store.webSessions.delete(hash: TokenSecret.hash(secret), on: store.db)
    }

    /// Ends every session of the account this session belongs to, this one included.
    public func signOutEverywhere(sessionSecret secret: String) async throws {
        guard let user = try await user(sessionSecret: secret) else { return }
        try await store.webSessions.deleteAll(userID: user.id, on: store.db)
    }
}

/// Why a sign-in was refused. The message never says whether the account exists.
public enum SignInError: Error, Equatable, CustomStringConvertible {
    case invalidCredentials
    case tooManyAttempts(minutes: Int)

    public var description: String {
        switch self {
        case .invalidCredentials: "Incorrect username or password."
        case .tooManyAttempts(let minutes): "Too many failed sign-ins. Wait \(minutes) minutes and try again, or ask an administrator to reset your password."
        }
    }
}
