import FluentKit
import Foundation
import GatehouseCore

final class UserModel: Model, @unchecked Sendable {
    static let schema = "users"
    @ID(key: .id) var id: UUID?
    @Field(key: "username") var username: String
    @Field(key: "email") var email: String
    @Field(key: "display_name") var displayName: String
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "password_hash") var passwordHash: String?

    init() {}

    var entity: User { User(id: id!, username: username, email: email, displayName: displayName) }
}

final class WorkspaceModel: Model, @unchecked Sendable {
    static let schema = "workspaces"
    @ID(key: .id) var id: UUID?
    @Field(key: "slug") var slug: String
    @Field(key: "name") var name: String
    @Field(key: "owner_id") var ownerID: UUID
    @Field(key: "seat_limit") var seatLimit: Int
    @Field(key: "allow_write_deploy_keys") var allowWriteDeployKeys: Bool
    @OptionalField(key: "max_deploy_key_lifetime_days") var maxDeployKeyLifetimeDays: Int?

    init() {}

    var entity: Workspace {
        Workspace(
            id: id!, slug: slug, name: name, ownerID: ownerID, seatLimit: seatLimit, allowWriteDeployKeys: allowWriteDeployKeys,
            maxDeployKeyLifetimeDays: maxDeployKeyLifetimeDays)
    }
}

final class MemberModel: Model, @unchecked Sendable {
    static let schema = "workspace_members"
    @ID(key: .id) var id: UUID?
    @Field(key: "workspace_id") var workspaceID: UUID
    @Field(key: "user_id") var userID: UUID
    @Field(key: "role") var role: String

    init() {}
}

final class RepositoryModel: Model, @unchecked Sendable {
    static let schema = "repositories"
    @ID(key: .id) var id: UUID?
    @Field(key: "workspace_id") var workspaceID: UUID
    @Field(key: "slug") var slug: String
    @Field(key: "is_private") var isPrivate: Bool
    @Field(key: "created_at") var createdAt: Date

    init() {}

    func entity(workspaceSlug: String) -> Repository {
        Repository(id: id!, workspaceID: workspaceID, workspaceSlug: workspaceSlug, slug: slug, isPrivate: isPrivate)
    }
}

final class PermissionModel: Model, @unchecked Sendable {
    static let schema = "repository_permissions"
    @ID(key: .id) var id: UUID?
    @Field(key: "repository_id") var repositoryID: UUID
    @Field(key: "user_id") var userID: UUID
    @Field(key: "level") var level: Int

    init() {}
}

final class KeyModel: Model, @unchecked Sendable {
    static let schema = "ssh_keys"
    @ID(key: .id) var id: UUID?
    @Field(key: "kind") var kind: String
    @Field(key: "fingerprint") var fingerprint: String
    @Field(key: "public_key") var publicKey: String
    @OptionalField(key: "comment") var comment: String?
    @OptionalField(key: "user_id") var userID: UUID?
    @OptionalField(key: "label") var label: String?
    @Field(key: "created_at") var createdAt: Date
    @OptionalField(key: "last_used") var lastUsed: Date?
    /// Certificate authorities only: their principals (see `StoredPrincipals`).
    @OptionalField(key: "principals") var principals: String?
    @OptionalField(key: "expires_on") var expiresAt: Date?

    init() {}

    var entity: StoredKey {
        var key = StoredKey(
            id: id!, kind: KeyKind(rawValue: kind) ?? .account, fingerprint: fingerprint, publicKey: publicKey,
            comment: comment, userID: userID, label: label, createdAt: createdAt, lastUsed: lastUsed,
            principals: StoredPrincipals.names(principals))
        key.expiresAt = expiresAt
        return key
    }
}

final class AttachmentModel: Model, @unchecked Sendable {
    static let schema = "deploy_keys"
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Field(key: "key_id") var keyID: UUID
    @Field(key: "repository_id") var repositoryID: UUID
    @Field(key: "label") var label: String
    @Field(key: "access") var access: Int
    @OptionalField(key: "added_by") var addedBy: UUID?
    @Field(key: "added_at") var addedAt: Date
    @OptionalField(key: "last_used") var lastUsed: Date?
    @OptionalField(key: "ref_rules") var refRules: String?
    @OptionalField(key: "expires_on") var expiresAt: Date?
    @Field(key: "expiry_warnings") var expiryWarnings: Int

    init() {}
}

/// A deployment key attached to a workspace, covering the repositories its selector names.
final class WorkspaceAttachmentModel: Model, @unchecked Sendable {
    static let schema = "workspace_deploy_keys"
    @ID(custom: .id, generatedBy: .database) var id: Int?
    @Field(key: "key_id") var keyID: UUID
    @Field(key: "workspace_id") var workspaceID: UUID
    @Field(key: "label") var label: String
    @Field(key: "selector") var selector: String
    @Field(key: "access") var access: Int
    @OptionalField(key: "ref_rules") var refRules: String?
    @OptionalField(key: "added_by") var addedBy: UUID?
    @Field(key: "added_at") var addedAt: Date
    @OptionalField(key: "last_used") var lastUsed: Date?
    @OptionalField(key: "expires_on") var expiresAt: Date?
    @Field(key: "expiry_warnings") var expiryWarnings: Int

    init() {}
}

final class AuditModel: Model, @unchecked Sendable {
    static let schema = "audit_log"
    @ID(key: .id) var id: UUID?
    @Field(key: "at") var at: Date
    @Field(key: "actor") var actor: String
    @Field(key: "action") var action: String
    @Field(key: "object") var object: String
    @Field(key: "detail") var detail: String
    @OptionalField(key: "source_ip") var sourceIP: String?
    @OptionalField(key: "workspace_id") var workspaceID: UUID?

    init() {}

    convenience init(_ entry: AuditEntry) {
        self.init()
        at = entry.at
        actor = entry.actor
        action = entry.action.rawValue
        object = entry.object
        detail = entry.detail
        sourceIP = entry.sourceIP
        workspaceID = entry.workspaceID
    }

    var entity: AuditEntry {
        AuditEntry(
            at: at, actor: actor, action: AuditAction(rawValue: action) ?? .pushDenied, object: object, detail: detail,
            sourceIP: sourceIP, workspaceID: workspaceID)
    }
}

/// How a certificate authority's principals sit in `ssh_keys.principals`: comma-separated, which is safe because
/// `CertificatePrincipals` allows no commas in a name. Every reader and the writer go through here.
enum StoredPrincipals {
    static func column(_ principals: [String]?) -> String? {
        principals?.joined(separator: ",")
    }

    static func names(_ column: String?) -> [String] {
        column?.split(separator: ",").map(String.init) ?? []
    }
}
