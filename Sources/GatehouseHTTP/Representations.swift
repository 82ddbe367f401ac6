import Foundation
import GatehouseCore

/// `{"href": "..."}`, as in Bitbucket's `links`.
struct Link: Encodable {
    var href: String
}

struct SelfLinks: Encodable {
    var `self`: Link
}

struct RepositoryLinks: Encodable {
    var `self`: Link
    var html: Link
}

/// Curly-braced UUIDs, as Bitbucket writes them.
func braced(_ id: UUID) -> String { "{\(id.uuidString.lowercased())}" }

struct UserJSON: Encodable {
    var type = "user"
    var uuid: String
    var username: String
    var nickname: String
    var display_name: String
    var links: SelfLinks

    init(_ user: User, base: String) {
        uuid = braced(user.id)
        username = user.username
        nickname = user.username
        display_name = user.displayName
        links = SelfLinks(self: Link(href: "\(base)/2.0/users/\(user.username)"))
    }
}

struct WorkspaceRefJSON: Encodable {
    var type = "workspace"
    var slug: String
    var uuid: String
}

struct RepositoryJSON: Encodable {
    var type = "repository"
    var uuid: String
    var name: String
    var slug: String
    var full_name: String
    var is_private: Bool
    var workspace: WorkspaceRefJSON
    var links: RepositoryLinks

    init(_ repository: Repository, base: String) {
        uuid = braced(repository.id)
        name = repository.slug
        slug = repository.slug
        full_name = repository.fullName
        is_private = repository.isPrivate
        workspace = WorkspaceRefJSON(slug: repository.workspaceSlug, uuid: braced(repository.workspaceID))
        links = RepositoryLinks(
            self: Link(href: "\(base)/2.0/repositories/\(repository.fullName)"),
            html: Link(href: "\(base)/\(repository.fullName)"))
    }
}

/// The owner of a deploy key: the account that added it (null when the operator added it from the CLI).
struct AdderJSON: Encodable {
    var type = "user"
    var username: String
}

struct DeployKeyJSON: Encodable {
    var id: Int
    var type = "deploy_key"
    var key: String
    var label: String
    var comment: String?
    var fingerprint: String
    var added_on: Date
    var last_used: Date?
    var repository: RepositoryJSON
    var owner: AdderJSON?
    var links: SelfLinks
    /// Which SSH front end serves the key, when the built-in server cannot (our addition; only on creation).
    var notice: String?
    /// Certificate authorities only (our addition): the principals their certificates must name.
    var certificate_principals: [String]?
    /// Our additions: `read`, or `write` limited to `ref_rules`.
    var permission: String
    var ref_rules: [RefRuleJSON]
    var expires_on: Date?

    init(_ deployKey: DeployKey, base: String) {
        expires_on = deployKey.expiresAt
        id = deployKey.id
        key = deployKey.key.publicKey
        label = deployKey.label
        comment = deployKey.key.comment
        fingerprint = deployKey.key.fingerprint
        added_on = deployKey.addedAt
        last_used = deployKey.lastUsed
        repository = RepositoryJSON(deployKey.repository, base: base)
        owner = deployKey.addedBy.map { AdderJSON(username: $0) }
        links = SelfLinks(self: Link(href: "\(base)/2.0/repositories/\(deployKey.repository.fullName)/deploy-keys/\(deployKey.id)"))
        certificate_principals = deployKey.key.certificatePrincipals
        permission = deployKey.access.name
        ref_rules = deployKey.refRules.map(RefRuleJSON.init)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(key, forKey: .key)
        try container.encode(label, forKey: .label)
        try container.encode(comment, forKey: .comment)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(added_on, forKey: .added_on)
        try container.encode(last_used, forKey: .last_used)
        try container.encode(repository, forKey: .repository)
        try container.encode(owner, forKey: .owner)
        try container.encode(links, forKey: .links)
        try container.encodeIfPresent(notice, forKey: .notice)
        try container.encodeIfPresent(certificate_principals, forKey: .certificate_principals)
        try container.encode(permission, forKey: .permission)
        try container.encode(ref_rules, forKey: .ref_rules)
        try container.encode(expires_on, forKey: .expires_on)
    }

    private enum CodingKeys: String, CodingKey {
        case expires_on, permission, ref_rules, id, type, key, label, comment, fingerprint, added_on, last_used, repository, owner, links, notice,
            certificate_principals
    }
}

struct SSHKeyJSON: Encodable {
    var uuid: String
    var type = "ssh_key"
    var key: String
    var label: String
    var comment: String?
    var fingerprint: String
    var created_on: Date
    var last_used: Date?
    /// When the key stops working; null for never.
    var expires_on: Date?
    var owner: UserJSON
    var links: SelfLinks
    var notice: String?

    init(_ key: StoredKey, owner: User, base: String) {
        uuid = braced(key.id)
        self.key = key.publicKey
        label = key.label ?? ""
        comment = key.comment
        fingerprint = key.fingerprint
        created_on = key.createdAt
        last_used = key.lastUsed
        expires_on = key.expiresAt
        self.owner = UserJSON(owner, base: base)
        links = SelfLinks(self: Link(href: "\(base)/2.0/users/\(owner.username)/ssh-keys/\(braced(key.id))"))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(uuid, forKey: .uuid)
        try container.encode(type, forKey: .type)
        try container.encode(key, forKey: .key)
        try container.encode(label, forKey: .label)
        try container.encode(comment, forKey: .comment)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(created_on, forKey: .created_on)
        try container.encode(last_used, forKey: .last_used)
        try container.encode(expires_on, forKey: .expires_on)
        try container.encode(owner, forKey: .owner)
        try container.encode(links, forKey: .links)
        try container.encodeIfPresent(notice, forKey: .notice)
    }

    private enum CodingKeys: String, CodingKey {
        case notice, uuid, type, key, label, comment, fingerprint, created_on, last_used, expires_on, owner, links
    }
}

struct AuditEntryJSON: Encodable {
    var type = "audit_entry"
    var at: Date
    var actor: String
    var action: String
    var object: String
    var detail: String
    var source_ip: String?

    init(_ entry: AuditEntry) {
        at = entry.at
        actor = entry.actor
        action = entry.action.rawValue
        object = entry.object
        detail = entry.detail
        source_ip = entry.sourceIP
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(at, forKey: .at)
        try container.encode(actor, forKey: .actor)
        try container.encode(action, forKey: .action)
        try container.encode(object, forKey: .object)
        try container.encode(detail, forKey: .detail)
        try container.encode(source_ip, forKey: .source_ip)
    }

    private enum CodingKeys: String, CodingKey {
        case type, at, actor, action, object, detail, source_ip
    }
}

/// One host key, with the line that goes into `~/.ssh/known_hosts`.
struct HostKeyJSON: Encodable {
    var type = "host_key"
    var key_type: String
    var fingerprint: String
    var known_hosts: String
}

/// Request bodies.
struct KeyInput: Decodable {
    var key: String
    var label: String
    /// Our addition: when the key stops working (ISO 8601).
    var expires_on: String?
}

struct DeployKeyInput: Decodable {
    var key: String
    var label: String
    /// Our addition: add the key as a certificate authority trusted for these principals.
    var certificate_principals: [String]?
    /// Our additions: absent means read-only, so Bitbucket's scripts are unaffected.
    var permission: String?
    var ref_rules: [RefRuleJSON]?
    /// Our addition: when the key stops working (ISO 8601).
    var expires_on: String?
}

struct LabelInput: Decodable {
    var label: String
    var key: String?
}

/// A change to a deployment key: its label and/or permission and rules (never the key itself).
struct DeployKeyChangeInput: Decodable {
    var label: String?
    var key: String?
    var permission: String?
    var ref_rules: [RefRuleJSON]?
}

/// A workspace deployment key to add (POST) or change (PUT: every field optional but `key`, which must match).
struct WorkspaceDeployKeyInput: Decodable {
    var key: String?
    var label: String?
    /// When the key stops working (ISO 8601); POST only.
    var expires_on: String?
    /// `"all"` or a list of slugs and globs.
    var repositories: RepositoriesJSON?
    var permission: String?
    var ref_rules: [RefRuleJSON]?
}

/// `{"pattern": "refs/tags/v*", "allow": ["create"]}`; `allow` defaults to create and update.
struct RefRuleJSON: Codable {
    var pattern: String
    var allow: [String]?

    init(_ rule: RefRule) {
        pattern = rule.pattern
        allow = rule.sortedOperations.map(\.rawValue)
    }

    func rule() throws -> RefRule {
        guard let allow else { return try RefRule(pattern: pattern) }
        return try RefRule(parsing: "\(pattern):\(allow.joined(separator: ","))")
    }
}

/// A workspace key's selector: `"all"` or `["web-*", "api"]`.
enum RepositoriesJSON: Codable {
    case all
    case names([String])

    init(_ selector: RepositorySelector) {
        switch selector {
        case .all: self = .all
        case .matching(let names): self = .names(names)
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let names = try? container.decode([String].self) {
            self = .names(names)
            return
        }
        guard try container.decode(String.self) == "all" else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "repositories is \"all\" or a list of slugs")
        }
        self = .all
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .all: try container.encode("all")
        case .names(let names): try container.encode(names)
        }
    }

    func selector() throws -> RepositorySelector {
        switch self {
        case .all: .all
        case .names(let names): try RepositorySelector(names: names)
        }
    }
}

/// The permission fields of a request: absent means read-only.
func keyPermission(_ permission: String?, _ rules: [RefRuleJSON]?) throws -> KeyPermission {
    try KeyPermission(named: permission, rules: try (rules ?? []).map { try $0.rule() })
}

/// A workspace deployment key (our addition to Bitbucket's shapes).
struct WorkspaceDeployKeyJSON: Encodable {
    var id: Int
    var type = "workspace_deploy_key"
    var key: String
    var label: String
    var comment: String?
    var fingerprint: String
    var added_on: Date
    var last_used: Date?
    var workspace: WorkspaceRefJSON
    var repositories: RepositoriesJSON
    var permission: String
    var ref_rules: [RefRuleJSON]
    var owner: AdderJSON?
    var links: SelfLinks
    var expires_on: Date?

    init(_ attached: WorkspaceDeployKey, base: String) {
        expires_on = attached.expiresAt
        id = attached.id
        key = attached.key.publicKey
        label = attached.label
        comment = attached.key.comment
        fingerprint = attached.key.fingerprint
        added_on = attached.addedAt
        last_used = attached.lastUsed
        workspace = WorkspaceRefJSON(slug: attached.workspace.slug, uuid: braced(attached.workspace.id))
        repositories = RepositoriesJSON(attached.selector)
        permission = attached.access.name
        ref_rules = attached.refRules.map(RefRuleJSON.init)
        owner = attached.addedBy.map { AdderJSON(username: $0) }
        links = SelfLinks(self: Link(href: "\(base)/2.0/workspaces/\(attached.workspace.slug)/deploy-keys/\(attached.id)"))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(type, forKey: .type)
        try container.encode(key, forKey: .key)
        try container.encode(label, forKey: .label)
        try container.encode(comment, forKey: .comment)
        try container.encode(fingerprint, forKey: .fingerprint)
        try container.encode(added_on, forKey: .added_on)
        try container.encode(last_used, forKey: .last_used)
        try container.encode(workspace, forKey: .workspace)
        try container.encode(repositories, forKey: .repositories)
        try container.encode(permission, forKey: .permission)
        try container.encode(ref_rules, forKey: .ref_rules)
        try container.encode(owner, forKey: .owner)
        try container.encode(links, forKey: .links)
        try container.encode(expires_on, forKey: .expires_on)
    }

    private enum CodingKeys: String, CodingKey {
        case id, type, key, label, comment, fingerprint, added_on, last_used, workspace, repositories, permission, ref_rules, owner, links,
            expires_on
    }
}

struct RepositoryInput: Decodable {
    var is_private: Bool?
}

/// `POST /2.0/workspaces/{workspace}/deploy-keys/attach`: one key on many repositories (slugs and globs).
struct AttachInput: Decodable {
    var key: String
    var label: String
    var repositories: [String]
    var permission: String?
    var ref_rules: [RefRuleJSON]?
}

/// One repository of a bulk attach: `created`, or `already_attached` with the attachment it has.
struct AttachOutcomeJSON: Encodable {
    var repository: String
    var status: String
    var deploy_key: DeployKeyJSON

    init(_ outcome: AttachOutcome, base: String) {
        repository = outcome.deployKey.repository.fullName
        status = outcome.created ? "created" : "already_attached"
        deploy_key = DeployKeyJSON(outcome.deployKey, base: base)
    }
}

/// Where a key is attached, as far as the caller administers.
struct KeyUsageJSON: Encodable {
    var fingerprint: String
    var repositories: [DeployKeyJSON]
    var workspace_keys: [WorkspaceDeployKeyJSON]

    init(_ usage: KeyUsage, base: String) {
        fingerprint = usage.fingerprint
        repositories = usage.repositoryAttachments.map { DeployKeyJSON($0, base: base) }
        workspace_keys = usage.workspaceAttachments.map { WorkspaceDeployKeyJSON($0, base: base) }
    }
}

/// `POST /2.0/workspaces/{workspace}/deploy-keys/rotate`.
struct RotateInput: Decodable {
    var old: String
    var key: String
    /// Default 24; 0 removes the old key's attachments at once.
    var overlap_hours: Double?
}

struct RotationJSON: Encodable {
    var old: String
    var new: String
    var old_removed_on: Date?
    var values: [Step]

    struct Step: Encodable {
        var place: String
        var label: String
        var old_id: Int
        var new_id: Int
        var status: String
    }

    init(_ rotation: Rotation) {
        old = rotation.oldFingerprint
        new = rotation.newFingerprint
        old_removed_on = rotation.oldRemovedAt
        values = rotation.steps.map {
            Step(place: $0.place, label: $0.label, old_id: $0.oldID, new_id: $0.newID, status: $0.created ? "created" : "already_attached")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(old, forKey: .old)
        try container.encode(new, forKey: .new)
        try container.encode(old_removed_on, forKey: .old_removed_on)
        try container.encode(values, forKey: .values)
    }

    private enum CodingKeys: String, CodingKey {
        case old, new, old_removed_on, values
    }
}

/// `POST /2.0/workspaces/{workspace}/registration-tokens`.
struct RegistrationTokenInput: Decodable {
    var repositories: RepositoriesJSON?
    var permission: String?
    var ref_rules: [RefRuleJSON]?
    var uses: Int?
    /// Default 1.
    var expires_in_hours: Double?
    var label_prefix: String?
}

/// A registration token; `token` (the secret) only in the answer that created it.
struct RegistrationTokenJSON: Encodable {
    var id: String
    var type = "registration_token"
    var repositories: RepositoriesJSON
    var permission: String
    var ref_rules: [RefRuleJSON]
    var label_prefix: String
    var uses_left: Int
    var expires_on: Date
    var created_by: String
    var created_on: Date
    var token: String?

    init(_ token: RegistrationToken) {
        id = braced(token.id)
        repositories = RepositoriesJSON(token.selector)
        permission = token.access.name
        ref_rules = token.refRules.map(RefRuleJSON.init)
        label_prefix = token.labelPrefix
        uses_left = token.usesLeft
        expires_on = token.expiresAt
        created_by = token.createdBy
        created_on = token.createdAt
    }
}

/// An `expires_on` field: ISO 8601 (a day means the end of that day, UTC).
func expiry(_ text: String?) throws -> Date? {
    guard let text else { return nil }
    return try ExpiryDate.parse(text)
}
