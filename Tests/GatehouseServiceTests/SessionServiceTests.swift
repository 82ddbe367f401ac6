import Foundation
import GatehouseCore
import Testing

/// A password of some length, relative to the minimum.
struct PasswordLength: Sendable, CustomTestStringConvertible {
    var length: Int
    var accepted: Bool

    var testDescription: String { "\(length) characters: \(accepted ? "accepted" : "refused")" }

    static let all: [PasswordLength] = [
        PasswordLength(length: 1, accepted: false),
        PasswordLength(length: SessionService.minimumPasswordLength - 1, accepted: false),
        PasswordLength(length: SessionService.minimumPasswordLength, accepted: true),
        PasswordLength(length: 64, accepted: true),
    ]
}

/// A sign-in that must fail without saying why.
struct BadSignIn: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var username: String
    var password: String

    var testDescription: String { behaviour }

    static let all: [BadSignIn] = [
        BadSignIn(behaviour: "a wrong password", username: "rita", password: "not the password"),
        BadSignIn(behaviour: "an unknown account", username: "nobody", password: SessionServiceTests.password),
        BadSignIn(behaviour: "an account without a password", username: "mia", password: SessionServiceTests.password),
    ]
}

/// A session opened at `referenceTime`, presented some time later.
struct SessionAge: Sendable, CustomTestStringConvertible {
    var presentedAfter: TimeInterval
    var accepted: Bool

    var testDescription: String { "presented \(Int(presentedAfter)) s after sign-in: \(accepted ? "signed in" : "signed out")" }

    static let all: [SessionAge] = [
        SessionAge(presentedAfter: 0, accepted: true),
        SessionAge(presentedAfter: SessionService.sessionLifetime - 1, accepted: true),
        SessionAge(presentedAfter: SessionService.sessionLifetime, accepted: false),
    ]
}

@Suite("Session service")
struct SessionServiceTests {
    static let password = "correct horse battery staple"

    func service(_ store: Store, limits: SignInLimits = SignInLimits(), after seconds: TimeInterval = 0) -> SessionService {
        let now = referenceTime.addingTimeInterval(seconds)
        return SessionService(store: store, hasher: SHA256PasswordHasher(), limits: limits, clock: { now })
    }

    @Test("a password must be long enough; a refused one is not stored", arguments: PasswordLength.all)
    func passwordLength(_ row: PasswordLength) async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            let sessions = service(store)
            let password = String(repeating: "p", count: row.length)

            if row.accepted {
                try await sessions.setPassword(username: "rita", password: password)
                let signedIn = try await sessions.signIn(username: "rita", password: password, sourceIP: nil)
                #expect(signedIn.user.username == "rita")
            } else {
                let error = await #expect(throws: GatehouseError.self) {
                    try await sessions.setPassword(username: "rita", password: password)
                }
                guard case .invalidArgument? = error else {
                    Issue.record("expected invalidArgument, got \(String(describing: error))")
                    return
                }
                #expect(try await store.accounts.passwordHash(username: "rita", on: store.db)?.1 == nil)
            }
        }
    }

    @Test("a new password signs the account out of every browser; other accounts stay signed in")
    func newPasswordEndsSessions() async throws {
        try await withStore { store in
            let sessions = service(store)
            let (first, second, olivia) = try await Self.twoOfRitasAndOneOfOlivias(store, sessions)

            try await sessions.setPassword(username: "rita", password: "a brand new passphrase")

            #expect(try await sessions.user(sessionSecret: first) == nil)
            #expect(try await sessions.user(sessionSecret: second) == nil)
            #expect(try await sessions.user(sessionSecret: olivia)?.username == "olivia")
            #expect(try await sessions.signIn(username: "rita", password: "a brand new passphrase", sourceIP: nil).user.username == "rita")
        }
    }

    @Test("a password changed while a sign-in with the old one is being checked opens no session")
    func passwordChangedDuringSignIn() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            try await service(store).setPassword(username: "rita", password: Self.password)
            let held = HeldPasswordHasher()
            let sessions = SessionService(store: store, hasher: held, clock: { referenceTime })
            let signIn = Task { try await sessions.signIn(username: "rita", password: Self.password, sourceIP: nil) }
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async {
                    held.checking.wait()
                    continuation.resume()
                }
            }
            try await service(store).setPassword(username: "rita", password: "a brand new passphrase")
            held.release.signal()
            await #expect(throws: SignInError.invalidCredentials) { _ = try await signIn.value }
        }
    }

    @Test("signing out everywhere ends every session of the account, this one included, and no one else's")
    func signOutEverywhere() async throws {
        try await withStore { store in
            let sessions = service(store)
            let (here, elsewhere, olivia) = try await Self.twoOfRitasAndOneOfOlivias(store, sessions)

            try await sessions.signOutEverywhere(sessionSecret: here)

            #expect(try await sessions.user(sessionSecret: here) == nil)
            #expect(try await sessions.user(sessionSecret: elsewhere) == nil)
            #expect(try await sessions.user(sessionSecret: olivia)?.username == "olivia")
        }
    }

    /// Two browsers signed in as rita and one as olivia: their session secrets.
    static func twoOfRitasAndOneOfOlivias(_ store: Store, _ sessions: SessionService) async throws -> (String, String, String) {
        _ = try await Acme(store: store)
        try await sessions.setPassword(username: "rita", password: password)
        try await sessions.setPassword(username: "olivia", password: password)
        return (
            try await sessions.signIn(username: "rita", password: password, sourceIP: nil).secret,
            try await sessions.signIn(username: "rita", password: password, sourceIP: nil).secret,
            try await sessions.signIn(username: "olivia", password: password, sourceIP: nil).secret
        )
    }

    @Test("a password is stored only as its hash")
    func passwordHashed() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            try await service(store).setPassword(username: "rita", password: Self.password)
            let stored = try await store.accounts.passwordHash(username: "rita", on: store.db)?.1
            #expect(stored == SHA256PasswordHasher().hash(Self.password))
            #expect(stored != Self.password)
        }
    }

    @Test("a password cannot be set for an unknown account")
    func passwordForUnknownAccount() async throws {
        try await withStore { store in
            let sessions = service(store)
            let error = await #expect(throws: GatehouseError.self) {
                try await sessions.setPassword(username: "nobody", password: Self.password)
            }
            #expect(error?.category == ErrorCategory.notFound)
        }
    }

    @Test("a failed sign-in is refused alike whatever was wrong, and counted against the account and the address", arguments: BadSignIn.all)
    func badSignIn(_ attempt: BadSignIn) async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            let sessions = service(store)
            try await sessions.setPassword(username: "rita", password: Self.password)

            await #expect(throws: SignInError.invalidCredentials) {
                try await sessions.signIn(username: attempt.username, password: attempt.password, sourceIP: "192.0.2.1")
            }

            #expect(try await store.webSessions.failures(key: "account:\(attempt.username)", since: .distantPast, on: store.db) == 1)
            #expect(try await store.webSessions.failures(key: "address:192.0.2.1", since: .distantPast, on: store.db) == 1)
        }
    }

    @Test("after the account's allowance of failures even the right password is refused, until the window has passed")
    func tooManyFailuresForAccount() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            var limits = SignInLimits()
            limits.failuresPerAccount = 3
            limits.failuresPerAddress = 100
            limits.window = 10 * 60
            let sessions = service(store, limits: limits)
            try await sessions.setPassword(username: "rita", password: Self.password)
            try await sessions.setPassword(username: "mia", password: Self.password)

            // The account is the same whatever the case of its name, and wherever the attempts come from.
            for (name, address) in [("rita", "192.0.2.1"), ("RITA", "192.0.2.2"), ("Rita", "192.0.2.3")] {
                await #expect(throws: SignInError.invalidCredentials) {
                    try await sessions.signIn(username: name, password: "not the password", sourceIP: address)
                }
            }

            await #expect(throws: SignInError.tooManyAttempts(minutes: 10)) {
                try await sessions.signIn(username: "rita", password: Self.password, sourceIP: "198.51.100.9")
            }
            let mia = try await sessions.signIn(username: "mia", password: Self.password, sourceIP: "192.0.2.1")
            #expect(mia.user.username == "mia")
            let later = try await service(store, limits: limits, after: limits.window + 1)
                .signIn(username: "rita", password: Self.password, sourceIP: "198.51.100.9")
            #expect(later.user.username == "rita")
        }
    }

    @Test("parallel wrong passwords get no more checks than the account's allowance (issue 12, finding 3)")
    func parallelFailures() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            var limits = SignInLimits()
            limits.failuresPerAccount = 5
            limits.failuresPerAddress = 1000
            let hasher = CountingSlowHasher()
            let sessions = SessionService(store: store, hasher: hasher, limits: limits, clock: { referenceTime })
            try await sessions.setPassword(username: "rita", password: Self.password)
            let checksBefore = hasher.verifications

            let outcomes = await withTaskGroup(of: String.self) { group in
                for attempt in 0..<30 {
                    group.addTask {
                        do {
                            _ = try await sessions.signIn(username: "rita", password: "guess \(attempt)", sourceIP: "203.0.113.\(attempt)")
                            return "signed in"
                        } catch let error as SignInError {
                            return error == .invalidCredentials ? "checked" : "refused"
                        } catch {
                            return "error: \(error)"
                        }
                    }
                }
                return await group.reduce(into: [String: Int]()) { $0[$1, default: 0] += 1 }
            }
            #expect(outcomes == ["checked": 5, "refused": 25], "\(outcomes)")
            #expect(hasher.verifications - checksBefore == 5)
        }
    }

    @Test("past the account's allowance the right password still works from an address the account signed in from before")
    func knownAddressIsNotLockedOut() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            var limits = SignInLimits()
            limits.failuresPerAccount = 2
            limits.failuresPerAddress = 100
            let sessions = service(store, limits: limits)
            try await sessions.setPassword(username: "rita", password: Self.password)
            _ = try await sessions.signIn(username: "rita", password: Self.password, sourceIP: "192.0.2.10")

            for attempt in 0..<3 {
                _ = try? await sessions.signIn(username: "rita", password: "guess \(attempt)", sourceIP: "203.0.113.66")
            }

            await #expect(throws: SignInError.tooManyAttempts(minutes: Int(limits.window / 60))) {
                try await sessions.signIn(username: "rita", password: Self.password, sourceIP: "198.51.100.9")
            }
            let owner = try await sessions.signIn(username: "rita", password: Self.password, sourceIP: "192.0.2.10")
            #expect(owner.user.username == "rita")
            await #expect(throws: SignInError.invalidCredentials, "a wrong password from there is still only a failure") {
                try await sessions.signIn(username: "rita", password: "guess again", sourceIP: "192.0.2.10")
            }
        }
    }

    @Test("after the address's allowance of failures every account is refused from there, and only from there")
    func tooManyFailuresFromAddress() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            var limits = SignInLimits()
            limits.failuresPerAccount = 100
            limits.failuresPerAddress = 2
            let sessions = service(store, limits: limits)
            try await sessions.setPassword(username: "olivia", password: Self.password)

            for name in ["rita", "mia"] {
                await #expect(throws: SignInError.invalidCredentials) {
                    try await sessions.signIn(username: name, password: "not the password", sourceIP: "203.0.113.5")
                }
            }

            await #expect(throws: SignInError.tooManyAttempts(minutes: Int(limits.window / 60))) {
                try await sessions.signIn(username: "olivia", password: Self.password, sourceIP: "203.0.113.5")
            }
            let elsewhere = try await sessions.signIn(username: "olivia", password: Self.password, sourceIP: "198.51.100.9")
            #expect(elsewhere.user.username == "olivia")
        }
    }

    @Test("a sign-in opens a session its secret finds, until sign-out")
    func session() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let sessions = service(store)
            try await sessions.setPassword(username: "rita", password: Self.password)

            let (secret, user) = try await sessions.signIn(username: "rita", password: Self.password, sourceIP: "192.0.2.1")

            #expect(user == acme.rita)
            #expect(secret.hasPrefix("ghs_"))
            #expect(try await sessions.user(sessionSecret: secret) == acme.rita)
            #expect(try await sessions.user(sessionSecret: "ghs_unknown") == nil)
            #expect(try await sessions.user(sessionSecret: TokenSecret.hash(secret)) == nil)

            try await sessions.signOut(sessionSecret: secret)

            #expect(try await sessions.user(sessionSecret: secret) == nil)
        }
    }

    @Test("a session lasts its lifetime", arguments: SessionAge.all)
    func sessionLifetime(_ age: SessionAge) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let sessions = service(store)
            try await sessions.setPassword(username: "rita", password: Self.password)
            let (secret, _) = try await sessions.signIn(username: "rita", password: Self.password, sourceIP: nil)

            let user = try await service(store, after: age.presentedAfter).user(sessionSecret: secret)

            #expect((user == acme.rita) == age.accepted)
            #expect((user == nil) == !age.accepted)
        }
    }
}
