import FluentKit
import Foundation
import GatehouseCore

extension FluentStore {
    public func createToken(_ token: APIToken, hash: String, audit: AuditEntry) async throws {
        let model = TokenModel(token, hash: hash)
        try await database.transaction { db in
            try await model.create(on: db)
            try await AuditModel(audit).create(on: db)
        }
    }

    public func tokens(user: User) async throws -> [APIToken] {
        try await TokenModel.query(on: database).filter(\.$userID == user.id).sort(\.$createdAt).all().map(\.entity)
    }

    public func deleteToken(id: UUID, user: User, audit: AuditEntry) async throws -> Bool {
        try await database.transaction { db in
            guard let model = try await TokenModel.query(on: db).filter(\.$id == id).filter(\.$userID == user.id).first() else {
                return false
            }
            try await model.delete(on: db)
            try await AuditModel(audit).create(on: db)
            return true
        }
    }

    public func recordTokenUse(id: UUID, at date: Date, ifUnusedSince cutoff: Date) async throws {
        try await TokenModel.query(on: database).filter(\.$id == id)
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
        APIToken(id: id!, userID: userID, name: name, scopes: TokenScopes(scopes.split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }),
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
