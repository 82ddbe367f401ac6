import FluentKit
import Foundation
import GatehouseCore
import SQLKit

final class RegistrationModel: Model, @unchecked Sendable {
    static let schema = "registration_tokens"
    @ID(key: .id) var id: UUID?
    @Field(key: "workspace_id") var workspaceID: UUID
    @Field(key: "hash") var hash: String
    @Field(key: "selector") var selector: String
    @Field(key: "access") var access: Int
    @OptionalField(key: "ref_rules") var refRules: String?
    @Field(key: "label_prefix") var labelPrefix: String
    @Field(key: "uses_left") var usesLeft: Int
    @Field(key: "expires_at") var expiresAt: Date
    @Field(key: "created_by") var createdBy: String
    @Field(key: "created_at") var createdAt: Date

    init() {}

    var entity: RegistrationToken {
        RegistrationToken(
            id: id!, workspaceID: workspaceID, selector: (try? RepositorySelector(parsing: selector)) ?? .matching([]),
            access: AccessLevel(rawValue: access) ?? .read, refRules: StoredRefRules.rules(refRules), labelPrefix: labelPrefix, usesLeft: usesLeft,
            expiresAt: expiresAt, createdBy: createdBy, createdAt: createdAt)
    }
}

struct FluentRegistrationStore: RegistrationTokenStore {
    func insert(_ token: RegistrationToken, hash: String, on db: any StoreHandle) async throws {
        let model = RegistrationModel()
        model.id = token.id
        model.workspaceID = token.workspaceID
        model.hash = hash
        model.selector = token.selector.description
        model.access = token.access.rawValue
        model.refRules = StoredRefRules.column(token.refRules)
        model.labelPrefix = token.labelPrefix
        model.usesLeft = token.usesLeft
        model.expiresAt = token.expiresAt
        model.createdBy = token.createdBy
        model.createdAt = token.createdAt
        try await unique { try await model.create(on: db.fluent) }
    }

    func tokens(workspaceID: UUID, on db: any StoreHandle) async throws -> [RegistrationToken] {
        try await RegistrationModel.query(on: db.fluent).filter(\.$workspaceID == workspaceID).sort(\.$createdAt).all().map(\.entity)
    }

    func token(hash: String, on db: any StoreHandle) async throws -> RegistrationToken? {
        try await RegistrationModel.query(on: db.fluent).filter(\.$hash == hash).first()?.entity
    }

    func consume(hash: String, workspaceID: UUID, now: Date, on db: any StoreHandle) async throws -> RegistrationToken? {
        let taken = try await db.sql.raw(
            """
            UPDATE registration_tokens SET uses_left = uses_left - 1
            WHERE hash = \(bind: hash) AND workspace_id = \(bind: workspaceID) AND uses_left > 0 AND expires_at > \(bind: now) RETURNING id
            """
        ).all()
        guard let row = taken.first else { return nil }
        return try await RegistrationModel.find(try row.decode(column: "id", as: UUID.self), on: db.fluent)?.entity
    }

    func delete(id: UUID, workspaceID: UUID, on db: any StoreHandle) async throws -> Bool {
        guard let model = try await RegistrationModel.query(on: db.fluent).filter(\.$id == id).filter(\.$workspaceID == workspaceID).first()
        else { return false }
        try await model.delete(on: db.fluent)
        return true
    }
}

/// Registration tokens: the unique hash is the index a machine's registration is looked up by.
struct CreateRegistrationTokens: AsyncMigration {
    var name: String { "gatehouse.v8.registration-tokens" }

    func prepare(on database: any Database) async throws {
        try await database.schema(RegistrationModel.schema)
            .id()
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("hash", .string, .required)
            .field("selector", .string, .required)
            .field("access", .int, .required)
            .field("ref_rules", .string)
            .field("label_prefix", .string, .required)
            .field("uses_left", .int, .required)
            .field("expires_at", .datetime, .required)
            .field("created_by", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "hash")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(RegistrationModel.schema).delete()
    }
}
