import FluentKit
import FluentSQL
import Foundation
import GatehouseCore

struct FluentWebSessionStore: WebSessionStore {
    func insert(_ session: WebSession, hash: String, on db: any StoreHandle) async throws {
        let model = SessionModel()
        model.id = session.id
        model.hash = hash
        model.userID = session.userID
        model.createdAt = session.createdAt
        model.expiresAt = session.expiresAt
        try await unique { try await model.create(on: db.fluent) }
    }

    func session(hash: String, on db: any StoreHandle) async throws -> (WebSession, User)? {
        guard
            let row = try await SessionModel.query(on: db.fluent).filter(\.$hash == hash)
                .join(UserModel.self, on: \SessionModel.$userID == \UserModel.$id).first()
        else { return nil }
        let session = WebSession(id: row.id!, userID: row.userID, createdAt: row.createdAt, expiresAt: row.expiresAt)
        return (session, try row.joined(UserModel.self).entity)
    }

    func delete(hash: String, on db: any StoreHandle) async throws {
        try await SessionModel.query(on: db.fluent).filter(\.$hash == hash).delete()
    }

    func deleteAll(userID: UUID, on db: any StoreHandle) async throws {
        try await SessionModel.query(on: db.fluent).filter(\.$userID == userID).delete()
    }

    func recordAttempt(keys: [String], at date: Date, on db: any StoreHandle) async throws -> [UUID] {
        var ids: [UUID] = []
        for key in keys {
            let attempt = SignInFailureModel()
            attempt.id = UUID()
            attempt.key = key
            attempt.at = date
            try await attempt.create(on: db.fluent)
            ids.append(attempt.id!)
        }
        return ids
    }

    func forgetAttempts(_ ids: [UUID], on db: any StoreHandle) async throws {
        try await SignInFailureModel.query(on: db.fluent).filter(\.$id ~~ ids).delete()
    }

    func recordSignInAddress(userID: UUID, address: String, at date: Date, on db: any StoreHandle) async throws {
        if let known = try await SignInAddressModel.query(on: db.fluent).filter(\.$userID == userID).filter(\.$address == address).first() {
            known.lastAt = date
            return try await known.update(on: db.fluent)
        }
        let known = SignInAddressModel()
        known.userID = userID
        known.address = address
        known.lastAt = date
        // Two first sign-ins from one address at once: the other one's row is as good as this one.
        do { try await unique { try await known.create(on: db.fluent) } } catch is UniqueViolation {}
    }

    func hasSignedIn(userID: UUID, from address: String, since: Date, on db: any StoreHandle) async throws -> Bool {
        try await SignInAddressModel.query(on: db.fluent).filter(\.$userID == userID).filter(\.$address == address)
            .filter(\.$lastAt >= since).first() != nil
    }

    func failures(key: String, since: Date, on db: any StoreHandle) async throws -> Int {
        try await SignInFailureModel.query(on: db.fluent).filter(\.$key == key).filter(\.$at >= since).count()
    }

    func prune(now: Date, failuresBefore: Date, on db: any StoreHandle) async throws {
        try await SessionModel.query(on: db.fluent).filter(\.$expiresAt < now).delete()
        try await SignInFailureModel.query(on: db.fluent).filter(\.$at < failuresBefore).delete()
    }
}

final class SessionModel: Model, @unchecked Sendable {
    static let schema = "web_sessions"
    @ID(key: .id) var id: UUID?
    @Field(key: "hash") var hash: String
    @Field(key: "user_id") var userID: UUID
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "expires_at") var expiresAt: Date

    init() {}
}

final class SignInFailureModel: Model, @unchecked Sendable {
    static let schema = "sign_in_failures"
    @ID(key: .id) var id: UUID?
    @Field(key: "key") var key: String
    @Field(key: "at") var at: Date

    init() {}
}

/// An address an account has signed in from: after too many failed sign-ins, the account is still open from here.
final class SignInAddressModel: Model, @unchecked Sendable {
    static let schema = "sign_in_addresses"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "address") var address: String
    @Field(key: "last_at") var lastAt: Date

    init() {}
}

/// The addresses each account signed in from, so that an attacker's failures cannot lock the owner out.
struct AddSignInAddresses: AsyncMigration {
    var name: String { "gatehouse.v10.sign-in-addresses" }

    func prepare(on database: any Database) async throws {
        try await database.schema(SignInAddressModel.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("address", .string, .required)
            .field("last_at", .datetime, .required)
            .unique(on: "user_id", "address")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SignInAddressModel.schema).delete()
    }
}

/// Passwords, browser sessions (by the hash of the cookie's secret) and failed sign-ins for rate limits.
struct CreateWebSignIn: AsyncMigration {
    var name: String { "gatehouse.v4.web-sign-in" }

    func prepare(on database: any Database) async throws {
        try await database.schema(UserModel.schema).field("password_hash", .string).update()
        try await database.schema(SessionModel.schema)
            .id()
            .field("hash", .string, .required)
            .field("user_id", .uuid, .required, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .unique(on: "hash")
            .create()
        try await database.schema(SignInFailureModel.schema)
            .id()
            .field("key", .string, .required)
            .field("at", .datetime, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "sign_in_failures_by_key").on(SignInFailureModel.schema).column("key").column("at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(SignInFailureModel.schema).delete()
        try await database.schema(SessionModel.schema).delete()
        try await database.schema(UserModel.schema).deleteField("password_hash").update()
    }
}
