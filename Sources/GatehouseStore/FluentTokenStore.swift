import FluentKit
import Foundation
import GatehouseCore
import SQLKit

struct FluentTokenStore: TokenStore {
    func insert(_ token: APIToken, hash: String, on db: any StoreHandle) async throws {
        try await unique { try await TokenModel(token, hash: hash).create(on: db.fluent) }
    }

    func token(hash: String, on db: any StoreHandle) async throws -> (APIToken, User)? {
        // Every authenticated API request starts here: one indexed read in plain SQL.
        guard
            let row = try await db.sql.raw(
                """
                SELECT t.id, t.name, t.scopes, t.created_at, t.expires_at, t.last_used,
                       u.id AS user_id, u.username, u.email, u.display_name
                FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = \(bind: hash)
                """
            ).first()
        else { return nil }
        let user = try Rows.user(row, id: "user_id")
        let scopes = try row.decode(column: "scopes", as: String.self).split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }
        let token = APIToken(
            id: try row.decode(column: "id", as: UUID.self), userID: user.id, name: try row.decode(column: "name", as: String.self),
            scopes: TokenScopes(scopes), createdAt: try row.decode(column: "created_at", as: Date.self),
            expiresAt: try row.decode(column: "expires_at", as: Date?.self), lastUsed: try row.decode(column: "last_used", as: Date?.self))
        return (token, user)
    }

    func tokens(of userID: UUID, on db: any StoreHandle) async throws -> [APIToken] {
        try await TokenModel.query(on: db.fluent).filter(\.$userID == userID).sort(\.$createdAt).all().map(\.entity)
    }

    func delete(id: UUID, of userID: UUID, on db: any StoreHandle) async throws -> Bool {
        guard let model = try await TokenModel.query(on: db.fluent).filter(\.$id == id).filter(\.$userID == userID).first() else {
            return false
        }
        try await model.delete(on: db.fluent)
        return true
    }

    func recordUse(id: UUID, at date: Date, ifUnusedSince cutoff: Date, on db: any StoreHandle) async throws {
        try await TokenModel.query(on: db.fluent).filter(\.$id == id)
            .group(.or) { $0.filter(\.$lastUsed == nil).filter(\.$lastUsed < cutoff) }
            .set(\.$lastUsed, to: date).update()
    }
}

final class TokenModel: Model, @unchecked Sendable {
    static let schema = "api_tokens"
    @ID(key: .id) var id: UUID?
    @Field(key: "user_id") var userID: UUID
    @Field(key: "name") var name: String
    @Field(key: "hash") var hash: String
    /// Space-separated scope names.
    @Field(key: "scopes") var scopes: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "expires_at") var expiresAt: Date?
    @OptionalField(key: "last_used") var lastUsed: Date?

    init() {}

    convenience init(_ token: APIToken, hash: String) {
        self.init()
        id = token.id
        userID = token.userID
        name = token.name
        self.hash = hash
        scopes = token.scopes.names.joined(separator: " ")
        createdAt = token.createdAt
        expiresAt = token.expiresAt
    }

    var entity: APIToken {
        APIToken(
            id: id!, userID: userID, name: name, scopes: TokenScopes(scopes.split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }),
            createdAt: createdAt, expiresAt: expiresAt, lastUsed: lastUsed)
    }
}

/// API tokens: the unique hash is the index every authenticated request is looked up by.
struct CreateTokens: AsyncMigration {
    var name: String { "gatehouse.v2.tokens" }

    func prepare(on database: any Database) async throws {
        try await database.schema(TokenModel.schema)
            .id()
            .field("user_id", .uuid, .required, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("name", .string, .required)
            .field("hash", .string, .required)
            .field("scopes", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime)
            .field("last_used", .datetime)
            .unique(on: "hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(TokenModel.schema).delete()
    }
}
