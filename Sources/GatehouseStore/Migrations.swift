import FluentKit
import FluentSQL
import GatehouseCore

/// The schema. Uniqueness and references live here so that concurrent requests cannot break the rules.
struct CreateSchema: AsyncMigration {
    var name: String { "gatehouse.v1" }

    func prepare(on database: any Database) async throws {
        try await database.schema(UserModel.schema)
            .id()
            .field("username", .string, .required)
            .field("email", .string, .required)
            .field("display_name", .string, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "username")
            .create()
        try await database.schema(WorkspaceModel.schema)
            .id()
            .field("slug", .string, .required)
            .field("name", .string, .required)
            .field("owner_id", .uuid, .required, .references(UserModel.schema, .id))
            .field("seat_limit", .int, .required)
            .unique(on: "slug")
            .create()
        try await database.schema(MemberModel.schema)
            .id()
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("role", .string, .required)
            .unique(on: "workspace_id", "user_id")
            .create()
        try await database.schema(RepositoryModel.schema)
            .id()
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("slug", .string, .required)
            .field("is_private", .bool, .required)
            .field("created_at", .datetime, .required)
            .unique(on: "workspace_id", "slug")
            .create()
        try await database.schema(PermissionModel.schema)
            .id()
            .field("repository_id", .uuid, .required, .references(RepositoryModel.schema, .id, onDelete: .cascade))
            .field("user_id", .uuid, .required, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("level", .int, .required)
            .unique(on: "repository_id", "user_id")
            .create()
        // One row per distinct key: the unique fingerprint is both the lookup index used at every SSH
        // authentication and the rule that a key is an account key or a deployment key, never both.
        try await database.schema(KeyModel.schema)
            .id()
            .field("kind", .string, .required)
            .field("fingerprint", .string, .required)
            .field("public_key", .string, .required)
            .field("comment", .string)
            .field("user_id", .uuid, .references(UserModel.schema, .id, onDelete: .cascade))
            .field("label", .string)
            .field("created_at", .datetime, .required)
            .field("last_used", .datetime)
            .unique(on: "fingerprint")
            .create()
        try await database.schema(AttachmentModel.schema)
            .field(.id, .int, .identifier(auto: true))
            .field("key_id", .uuid, .required, .references(KeyModel.schema, .id, onDelete: .cascade))
            .field("repository_id", .uuid, .required, .references(RepositoryModel.schema, .id, onDelete: .cascade))
            .field("label", .string, .required)
            .field("access", .int, .required)
            .field("added_by", .uuid, .references(UserModel.schema, .id, onDelete: .setNull))
            .field("added_at", .datetime, .required)
            .field("last_used", .datetime)
            .unique(on: "key_id", "repository_id")
            .create()
        try await database.schema(AuditModel.schema)
            .id()
            .field("at", .datetime, .required)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("object", .string, .required)
            .field("detail", .string, .required)
            .field("source_ip", .string)
            .field("workspace_id", .uuid)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "deploy_keys_by_repository").on(AttachmentModel.schema).column("repository_id").run()
            try await sql.create(index: "ssh_keys_by_user").on(KeyModel.schema).column("user_id").run()
            try await sql.create(index: "audit_log_by_workspace").on(AuditModel.schema).column("workspace_id").column("at").run()
        }
    }

    func revert(on database: any Database) async throws {
        for schema in [
            AuditModel.schema, AttachmentModel.schema, KeyModel.schema, PermissionModel.schema,
            RepositoryModel.schema, MemberModel.schema, WorkspaceModel.schema, UserModel.schema,
        ] {
            try await database.schema(schema).delete()
        }
    }
}

/// Certificate authorities are stored keys of kind `certificate-authority` with the principals they accept.
struct AddCertificateAuthorities: AsyncMigration {
    var name: String { "gatehouse.v5.certificate-authorities" }

    func prepare(on database: any Database) async throws {
        try await database.schema(KeyModel.schema).field("principals", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(KeyModel.schema).deleteField("principals").update()
    }
}

/// Write-enabled deployment keys (ref rules on an attachment), workspace deployment keys, and the workspace
/// policy that can turn write-enabled keys off.
struct AddWriteAndWorkspaceKeys: AsyncMigration {
    var name: String { "gatehouse.v6.write-and-workspace-keys" }

    func prepare(on database: any Database) async throws {
        try await database.schema(AttachmentModel.schema).field("ref_rules", .string).update()
        try await database.schema(WorkspaceModel.schema).field("allow_write_deploy_keys", .bool, .required, .sql(.default(true))).update()
        try await database.schema(WorkspaceAttachmentModel.schema)
            .field(.id, .int, .identifier(auto: true))
            .field("key_id", .uuid, .required, .references(KeyModel.schema, .id, onDelete: .cascade))
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("label", .string, .required)
            .field("selector", .string, .required)
            .field("access", .int, .required)
            .field("ref_rules", .string)
            .field("added_by", .uuid, .references(UserModel.schema, .id, onDelete: .setNull))
            .field("added_at", .datetime, .required)
            .field("last_used", .datetime)
            .unique(on: "key_id", "workspace_id")
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "workspace_deploy_keys_by_workspace").on(WorkspaceAttachmentModel.schema).column("workspace_id").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(WorkspaceAttachmentModel.schema).delete()
        try await database.schema(WorkspaceModel.schema).deleteField("allow_write_deploy_keys").update()
        try await database.schema(AttachmentModel.schema).deleteField("ref_rules").update()
    }
}

/// Rotations with an overlap: the old key's attachments to remove when it ends.
struct AddScheduledRemovals: AsyncMigration {
    var name: String { "gatehouse.v7.scheduled-removals" }

    func prepare(on database: any Database) async throws {
        try await database.schema(RemovalModel.schema)
            .id()
            .field("key_id", .uuid, .required)
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("repository_attachments", .string, .required)
            .field("workspace_attachments", .string, .required)
            .field("due_at", .datetime, .required)
            .field("requested_by", .string, .required)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "key_removals_due").on(RemovalModel.schema).column("due_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(RemovalModel.schema).delete()
    }
}

/// Expiry of deployment keys (per attachment) and account keys, the warnings sent about it, and the workspace
/// policy that bounds deployment keys' lifetime.
struct AddKeyExpiry: AsyncMigration {
    var name: String { "gatehouse.v9.key-expiry" }

    func prepare(on database: any Database) async throws {
        for schema in [AttachmentModel.schema, WorkspaceAttachmentModel.schema] {
            try await database.schema(schema).field("expires_on", .datetime).update()
            try await database.schema(schema).field("expiry_warnings", .int, .required, .sql(.default(0))).update()
        }
        try await database.schema(KeyModel.schema).field("expires_on", .datetime).update()
        try await database.schema(WorkspaceModel.schema).field("max_deploy_key_lifetime_days", .int).update()
    }

    func revert(on database: any Database) async throws {
        for schema in [AttachmentModel.schema, WorkspaceAttachmentModel.schema] {
            try await database.schema(schema).deleteField("expiry_warnings").update()
            try await database.schema(schema).deleteField("expires_on").update()
        }
        try await database.schema(KeyModel.schema).deleteField("expires_on").update()
        try await database.schema(WorkspaceModel.schema).deleteField("max_deploy_key_lifetime_days").update()
    }
}

/// Ids that are never given twice (a counter per table of deployment keys, starting after the highest id in use)
/// and each key's last use per workspace, for the daily "first use" entry in every workspace's audit log.
struct AddIDCountersAndWorkspaceUses: AsyncMigration {
    var name: String { "gatehouse.v11.id-counters-and-workspace-uses" }

    func prepare(on database: any Database) async throws {
        try await database.schema("id_counters")
            .field("name", .string, .required)
            .field("last", .int, .required)
            .unique(on: "name")
            .create()
        guard let sql = database as? any SQLDatabase else { throw GatehouseError.internalFailure("The store needs an SQL database.") }
        for table in [AttachmentModel.schema, WorkspaceAttachmentModel.schema] {
            try await sql.raw(
                "INSERT INTO id_counters (name, last) SELECT \(bind: table), COALESCE(MAX(id), 0) FROM \(ident: table)"
            ).run()
        }
        try await database.schema("key_workspace_uses")
            .field("key_id", .uuid, .required, .references(KeyModel.schema, .id, onDelete: .cascade))
            .field("workspace_id", .uuid, .required, .references(WorkspaceModel.schema, .id, onDelete: .cascade))
            .field("last_used", .datetime, .required)
            .unique(on: "key_id", "workspace_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema("key_workspace_uses").delete()
        try await database.schema("id_counters").delete()
    }
}
