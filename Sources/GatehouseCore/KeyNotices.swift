import Foundation

/// The emails sent when a key is added. They name the key by label, type and fingerprint, never by its full text.
public enum KeyNotices {
    public static func deployKeyAdded(_ deployKey: DeployKey, by actor: Actor, recipients: [User]) -> [OutgoingMail] {
        let repository = deployKey.repository.fullName
        let body = """
            A deployment key was added to \(repository).

              Added by:     \(actor.auditName)
              Label:        \(deployKey.label)
              Key type:     \(deployKey.key.typeName)
              Fingerprint:  \(deployKey.key.fingerprint)
              Repository:   \(repository)
              Time:         \(timestamp(deployKey.addedAt))
              Access:       \(KeyPermission.summary(deployKey.access, deployKey.refRules))

            You receive this because you administer \(repository). If you did not expect this key, remove it:
              API: DELETE /2.0/repositories/\(repository)/deploy-keys/\(deployKey.id)
              CLI: gatehouse deploy-key remove \(repository) \(deployKey.id)
            """
        return recipients.map { OutgoingMail(to: $0.email, subject: "[Gatehouse] Deployment key \"\(deployKey.label)\" added to \(repository)", body: body) }
    }

    /// A deployment key's attachment as the change it is: its audit entry and the administrators' notices.
    public static func deployKeyAddedChange(_ deployKey: DeployKey, by actor: Actor, sourceIP: String?, recipients: [User]) -> ChangeRecord {
        let key = deployKey.key
        let what = key.certificatePrincipals.map { "certificate authority for principals \($0.joined(separator: ",")), " } ?? ""
        let audit = AuditEntry(
            at: deployKey.addedAt, actor: actor.auditName, action: .deployKeyAdded, object: deployKey.repository.fullName,
            detail: "deploy key \(deployKey.id) label \"\(deployKey.label)\", \(what)\(key.typeName) \(key.fingerprint)",
            sourceIP: sourceIP, workspaceID: deployKey.repository.workspaceID)
        return ChangeRecord(audit: audit, mail: deployKeyAdded(deployKey, by: actor, recipients: recipients))
    }

    /// A workspace deployment key as the change it is: its audit entry and every workspace administrator's notice.
    /// Who attached a workspace key: someone, or a machine with a registration token.
    public enum WorkspaceKeyAdder: Sendable {
        case actor(Actor)
        case registrationToken(UUID)
    }

    public static func workspaceDeployKeyAdded(_ attached: WorkspaceDeployKey, by adder: WorkspaceKeyAdder, sourceIP: String?, recipients: [User])
        -> ChangeRecord
    {
        let workspace = attached.workspace.slug
        let access = KeyPermission.summary(attached.access, attached.refRules)
        let (actorName, action, addedBy) =
            switch adder {
            case .actor(let actor): (actor.auditName, AuditAction.workspaceDeployKeyAdded, actor.auditName)
            case .registrationToken(let id):
                (
                    "registration token \(id.uuidString.lowercased())", AuditAction.deployKeyRegistered,
                    "registration token \(id.uuidString.lowercased()) from \(sourceIP ?? "-")"
                )
            }
        let audit = AuditEntry(
            at: attached.addedAt, actor: actorName, action: action, object: workspace,
            detail:
                "workspace deploy key \(attached.id) label \"\(attached.label)\", repositories \(attached.selector), \(access), \(attached.key.typeName) \(attached.key.fingerprint)",
            sourceIP: sourceIP, workspaceID: attached.workspace.id)
        let body = """
            A deployment key was added to the workspace \(workspace).

              Added by:      \(addedBy)
              Label:         \(attached.label)
              Key type:      \(attached.key.typeName)
              Fingerprint:   \(attached.key.fingerprint)
              Repositories:  \(attached.selector == .all ? "all, including those created later" : attached.selector.description)
              Time:          \(timestamp(attached.addedAt))
              Access:        \(access)

            You receive this because you administer \(workspace). If you did not expect this key, remove it:
              API: DELETE /2.0/workspaces/\(workspace)/deploy-keys/\(attached.id)
              CLI: gatehouse workspace deploy-key remove \(workspace) \(attached.id)
            """
        let mail = recipients.map {
            OutgoingMail(to: $0.email, subject: "[Gatehouse] Deployment key \"\(attached.label)\" added to workspace \(workspace)", body: body)
        }
        return ChangeRecord(audit: audit, mail: mail)
    }

    /// One mail per administrator for a whole rotation, however many repositories it covers.
    public static func rotationStarted(_ rotation: Rotation, workspace: String, by actor: Actor, recipients: [User]) -> [OutgoingMail] {
        let when = rotation.oldRemovedAt.map { "at \(timestamp($0)) (both keys work until then)" } ?? "now (no overlap)"
        let body = """
            A deployment key is being rotated in the workspace \(workspace).

              Rotated by:   \(actor.auditName)
              Old key:      \(rotation.oldFingerprint)
              New key:      \(rotation.newFingerprint)
              Attachments:  \(rotation.steps.count)
            \(rotation.steps.map { "                \($0.place) \"\($0.label)\"" }.joined(separator: "\n"))

            The old key's attachments are removed \(when).
            If you did not expect this, see `gatehouse deploy-key where \(rotation.newFingerprint)`.
            """
        return recipients.map {
            OutgoingMail(to: $0.email, subject: "[Gatehouse] Deployment key rotation in \(workspace): \(rotation.steps.count) attachments", body: body)
        }
    }

    /// "today", "in 1 day", "in 12 days": how soon an expiry comes, for warnings on stderr and in mail.
    static func expiresIn(_ expiry: Date, now: Date) -> String {
        let days = max(0, Int(expiry.timeIntervalSince(now) / 86_400))
        return days == 0 ? "today" : days == 1 ? "in 1 day" : "in \(days) days"
    }

    /// One mail per administrator when a rotation's overlap ended and the old key's attachments were removed.
    public static func rotationFinished(fingerprint: String, places: [String], workspace: String, recipients: [User]) -> [OutgoingMail] {
        let body = """
            The rotation's overlap has ended: the old deployment key \(fingerprint) was removed from \(places.count) places in \(workspace).

            \(places.map { "  \($0)" }.joined(separator: "\n"))
            """
        return recipients.map {
            OutgoingMail(to: $0.email, subject: "[Gatehouse] Old deployment key removed from \(workspace) after rotation", body: body)
        }
    }

    /// A deployment key's attachment expires soon (or today).
    static func expiryWarning(
        label: String, fingerprint: String, place: String, removeWith: String, expiresAt: Date, now: Date, recipients: [User]
    ) -> [OutgoingMail] {
        let when = expiresIn(expiresAt, now: now)
        let body = """
            The deployment key "\(label)" (\(fingerprint)) on \(place) expires \(when), at \(timestamp(expiresAt)).
            After that it is refused.

            To keep the machine working, give it a new key before then: add the new key, or rotate
              (gatehouse deploy-key rotate --workspace WORKSPACE --old \(fingerprint) --key-file new.pub).
            If the key is no longer needed, nothing is to be done; remove it now with: \(removeWith)
            """
        return recipients.map {
            OutgoingMail(to: $0.email, subject: "[Gatehouse] Deployment key \"\(label)\" on \(place) expires \(when)", body: body)
        }
    }

    public static func accountKeyAdded(_ key: StoredKey, owner: User, by actor: Actor) -> OutgoingMail {
        let label = key.label ?? ""
        let body = """
            An SSH key was added to your Gatehouse account \(owner.username).

              Added by:     \(actor.auditName)
              Label:        \(label)
              Key type:     \(key.typeName)
              Fingerprint:  \(key.fingerprint)
              Time:         \(timestamp(key.createdAt))

            A key on your account can do everything you can. If you did not add it, remove it now:
              API: DELETE /2.0/users/\(owner.username)/ssh-keys/{\(key.id.uuidString.lowercased())}
              CLI: gatehouse ssh-key remove \(owner.username) \(key.id.uuidString.lowercased())
            """
        return OutgoingMail(to: owner.email, subject: "[Gatehouse] SSH key \"\(label)\" added to your account", body: body)
    }

    static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
