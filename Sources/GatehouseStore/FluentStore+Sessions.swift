import FluentKit
import FluentSQL
import Foundation
import GatehouseCore

extension FluentStore {
    public func setPasswordHash(_ hash: String, user: User) async throws {
        try await UserModel.query(on: database).filter(\.$id == user.id).set(\.$passwordHash, to: hash).update()
    }

    public func passwordHash(username: String) async throws -> (User, String?)? {
        guard let model = try await UserModel.query(on: database).filter(\.$username == username).first() else { return nil }
        return (model.entity, model.passwordHash)
    }

    public func createSession(_ session: WebSession, hash: String) async throws {
        let model = SessionModel()
        model.id = session.id
        model.hash = hash
        model.userID = session.userID
        model.createdAt = session.createdAt
        model.expiresAt = session.expiresAt
        try await model.create(on: database)
    }

    public func session(hash: String) async throws -> (WebSession, User)? {
        guard let row = try await SessionModel.query(on: database).filter(\.$hash == hash)
            .join(UserModel.self, on: \SessionModel.$userID == \UserModel.$id).first() else { return nil }
        let session = WebSession(id: row.id!, userID: row.userID, createdAt: row.createdAt, expiresAt: row.expiresAt)
        return (session, try row.joined(UserModel.self).entity)
    }

    public func deleteSession(hash: String) async throws {
        try await SessionModel.query(on: database).filter(\.$hash == hash).delete()
    }

    public func recordSignInFailure(keys: [String], at date: Date) async throws {
        try await database.transaction { db in
            for key in keys {
                let failure = SignInFailureModel()
                failure.key = key
                failure.at = date
                try await failure.create(on: db)
            }
        }
    }

    public func signInFailures(key: String, since: Date) async throws -> Int {
        try await SignInFailureModel.query(on: database).filter(\.$key == key).filter(\.$at >= since).count()
    }
}

extension FluentStore {
    public func pruneSignIns(now: Date, failuresBefore: Date) async throws {
        try await SessionModel.query(on: database).filter(\.$expiresAt < now).delete()
        try await SignInFailureModel.query(on: database).filter(\.$at < failuresBefore).delete()
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
