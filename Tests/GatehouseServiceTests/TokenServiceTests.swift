import Foundation
import GatehouseCore
import Testing

/// A token of rita's, valid for an hour from `referenceTime`, presented some time later.
struct TokenAge: Sendable, CustomTestStringConvertible {
    var presentedAfter: TimeInterval
    var accepted: Bool

    var testDescription: String { "presented \(Int(presentedAfter)) s after creation: \(accepted ? "accepted" : "rejected")" }

    static let lifetime: TimeInterval = 3600
    static let all: [TokenAge] = [
        TokenAge(presentedAfter: 0, accepted: true),
        TokenAge(presentedAfter: lifetime - 1, accepted: true),
        TokenAge(presentedAfter: lifetime, accepted: false),
        TokenAge(presentedAfter: lifetime * 24, accepted: false),
    ]
}

/// The user name presented with rita's token (HTTP Basic names the user as well as the token).
struct PresentedName: Sendable, CustomTestStringConvertible {
    var username: String?
    var accepted: Bool

    var testDescription: String { "\(username.map { "'\($0)'" } ?? "no user name"): \(accepted ? "accepted" : "rejected")" }

    static let all: [PresentedName] = [
        PresentedName(username: nil, accepted: true),
        PresentedName(username: "rita", accepted: true),
        PresentedName(username: "rita@example.com", accepted: true),
        PresentedName(username: "mia", accepted: false),
        PresentedName(username: "olivia", accepted: false),
    ]
}

@Suite("Token service")
struct TokenServiceTests {
    @Test("a created token is stored as a hash of its secret, works with the secret, and is audited")
    func create() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)

            let issued = try await tokens.create(
                actor: .user(acme.rita), username: "rita", name: "deploy script", scopes: [.repository],
                expiresAt: nil)

            #expect(issued.secret.hasPrefix(TokenSecret.prefix))
            // Found by the hash of its secret only: neither the secret itself nor anything else is a key.
            #expect(try await store.tokens.token(hash: issued.secret, on: store.db).map { $0.0.id } == nil)
            #expect(try await store.tokens.token(hash: "wrong", on: store.db).map { $0.0.id } == nil)
            let stored = try #require(try await store.tokens.token(hash: TokenSecret.hash(issued.secret), on: store.db))
            #expect(stored.0.id == issued.token.id && stored.1 == acme.rita)
            #expect(try await tokens.list(actor: .user(acme.rita), username: "rita").map(\.id) == [issued.token.id])

            let actor = try await tokens.authenticate(secret: issued.secret)
            let rita: Actor = .user(acme.rita, scopes: TokenScopes([.repository]))
            #expect(actor == rita)

            let entry = try #require(try await acme.auditEntries().first)
            #expect(entry.action == .tokenCreated && entry.object == "rita" && entry.actor == "rita")
            #expect(!entry.detail.contains(issued.secret))
        }
    }

    @Test("an unknown or malformed secret authenticates nobody", arguments: ["ght_unknown", "not-a-token", ""])
    func unknownSecret(_ secret: String) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            _ = try await tokens.create(actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository], expiresAt: nil)
            #expect(try await tokens.authenticate(secret: secret) == nil)
        }
    }

    @Test("a revoked token authenticates nobody, and the revocation is audited")
    func revoke() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            let issued = try await tokens.create(actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository], expiresAt: nil)
            #expect(try await tokens.authenticate(secret: issued.secret) != nil)

            try await tokens.revoke(actor: .user(acme.rita), username: "rita", id: issued.token.id)

            #expect(try await tokens.authenticate(secret: issued.secret) == nil)
            #expect(try await tokens.list(actor: .user(acme.rita), username: "rita").isEmpty)
            #expect(try await acme.auditCount(.tokenRevoked) == 1)
            let again = await #expect(throws: GatehouseError.self) {
                try await tokens.revoke(actor: .user(acme.rita), username: "rita", id: issued.token.id)
            }
            #expect(again?.category == ErrorCategory.notFound)
            #expect(try await acme.auditCount(.tokenRevoked) == 1)
        }
    }

    @Test("nobody revokes another person's token", arguments: ["rita", "mia"])
    func revokeOthers(_ username: String) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            let issued = try await tokens.create(actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository], expiresAt: nil)

            // Naming rita's account is "not found" for mia; naming her own finds no such token.
            let error = await #expect(throws: GatehouseError.self) {
                try await tokens.revoke(actor: .user(acme.mia), username: username, id: issued.token.id)
            }
            #expect(error?.category == ErrorCategory.notFound)
            #expect(try await tokens.authenticate(secret: issued.secret) != nil)
            #expect(try await acme.auditCount(.tokenRevoked) == 0)
        }
    }

    @Test("a token works until it expires", arguments: TokenAge.all)
    func expiry(_ age: TokenAge) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let issued = try await TokenService(store: store, clock: { referenceTime })
                .create(
                    actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository],
                    expiresAt: referenceTime.addingTimeInterval(TokenAge.lifetime))

            let later = TokenService(store: store, clock: { referenceTime.addingTimeInterval(age.presentedAfter) })
            let actor = try await later.authenticate(secret: issued.secret)

            #expect((actor != nil) == age.accepted)
        }
    }

    @Test("a token cannot be created already expired", arguments: [0.0, -60.0])
    func expiredAtCreation(_ offset: TimeInterval) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store, clock: { referenceTime })
            let error = await #expect(throws: GatehouseError.self) {
                try await tokens.create(
                    actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository],
                    expiresAt: referenceTime.addingTimeInterval(offset))
            }
            #expect(error?.category == ErrorCategory.invalidInput)
            #expect(try await tokens.list(actor: .user(acme.rita), username: "rita").isEmpty)
        }
    }

    @Test("a token is accepted only with its owner's name or email", arguments: PresentedName.all)
    func presentedName(_ presented: PresentedName) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            let issued = try await tokens.create(actor: .user(acme.rita), username: "rita", name: "ci", scopes: [.repository], expiresAt: nil)

            let actor = try await tokens.authenticate(secret: issued.secret, username: presented.username)

            let expected: Actor? = presented.accepted ? .user(acme.rita, scopes: TokenScopes([.repository])) : nil
            #expect(actor == expected)
        }
    }

    @Test("a token needs at least one scope; nothing is stored or audited without")
    func noScopes() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            let error = await #expect(throws: GatehouseError.self) {
                try await tokens.create(actor: .user(acme.rita), username: "rita", name: "ci", scopes: [], expiresAt: nil)
            }
            guard case .invalidArgument? = error else {
                Issue.record("expected invalidArgument, got \(String(describing: error))")
                return
            }
            #expect(try await tokens.list(actor: .user(acme.rita), username: "rita").isEmpty)
            #expect(try await acme.auditCount(.tokenCreated) == 0)
        }
    }

    @Test("nobody creates tokens for another person's account, which looks unknown")
    func createForOthers() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let tokens = TokenService(store: store)
            await #expect(throws: GatehouseError.accessDenied(.accountNotFound("rita"))) {
                try await tokens.create(actor: .user(acme.mia), username: "rita", name: "ci", scopes: [.repository], expiresAt: nil)
            }
            #expect(try await tokens.list(actor: .localOperator, username: "rita").isEmpty)
            #expect(try await acme.auditCount(.tokenCreated) == 0)
        }
    }
}
