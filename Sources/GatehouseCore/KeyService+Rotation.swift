import Foundation
import GatehouseKeys

/// One attachment carried from the old key to the new one by a rotation.
public struct RotationStep: Sendable, Equatable {
    /// `acme/app`, or `workspace acme (all repositories)`.
    public var place: String
    public var label: String
    public var oldID: Int
    public var newID: Int
    /// False when the new key was already there (its attachment is kept as it is).
    public var created: Bool
}

/// What a rotation did, and when the old key's attachments go.
public struct Rotation: Sendable, Equatable {
    public var oldFingerprint: String
    public var newFingerprint: String
    public var steps: [RotationStep]
    /// When the old attachments are removed; nil when they already were (no overlap).
    public var oldRemovedAt: Date?
}

/// Rotating one key everywhere in a workspace: the new key gets every attachment the old one has there (labels,
/// permissions, rules, selectors), both work during the overlap, and the server removes the old ones when it ends,
/// exactly once whichever node gets there first.
extension KeyService {
    public func rotate(
        actor: Actor, workspace slug: String, oldFingerprint: String, newKeyText: String, overlap: TimeInterval? = nil, sourceIP: String? = nil
    ) async throws -> Rotation {
        // A day unless the caller says otherwise: long enough for a fleet to pick up the new key.
        let overlap = overlap ?? 86_400
        guard overlap >= 0, overlap <= 90 * 86_400 else {
            throw GatehouseError.invalidArgument("The overlap is from 0 to 90 days (e.g. 24h; 0 removes the old key at once).")
        }
        try Self.requireFingerprint(oldFingerprint)
        let newKey = try Self.parse(newKeyText)
        let workspace = try await authorizer.workspace(slug, visibleTo: actor)
        let unknown = GatehouseError.notFound(
            "\(oldFingerprint) is not a deployment key of workspace \(workspace.slug) that you administer. Find it with `gatehouse deploy-key where \(oldFingerprint)`."
        )
        guard newKey.fingerprint != oldFingerprint else {
            throw GatehouseError.invalidArgument("The new key is the old key. Generate a new one (ssh-keygen -t ed25519) and rotate to that.")
        }
        guard let oldKey = try await store.keys.key(fingerprint: oldFingerprint, on: store.db), oldKey.kind == .deploy else { throw unknown }
        let repositoryAttachments = try await store.keys.deployKeys(.key(oldKey.id), on: store.db).filter { $0.repository.workspaceID == workspace.id }
        let workspaceAttachments = try await store.keys.workspaceDeployKeys(.key(oldKey.id), on: store.db).filter { $0.workspace.id == workspace.id }
        guard !repositoryAttachments.isEmpty || !workspaceAttachments.isEmpty else { throw unknown }
        // The caller must administer every attachment it moves; the refusal names the first it does not.
        let repositories = repositoryAttachments.map(\.repository)
        let administered = Set(try await authorizer.permitted(actor, .administer, among: repositories).map(\.id))
        if let first = repositoryAttachments.first(where: { !administered.contains($0.repository.id) }) {
            // A repository the caller cannot even read is not named: the key is "not found" for them.
            let readable = Set(try await authorizer.permitted(actor, .read, among: repositories).map(\.id))
            guard readable.contains(first.repository.id) else { throw unknown }
            throw GatehouseError.accessDenied(.notAdministrator(repository: first.repository.fullName))
        }
        if !workspaceAttachments.isEmpty { try await authorizer.administeredWorkspace(workspace, actor: actor) }

        let now = clock()
        let store = store
        return try await disclosingKind(to: actor, of: newKey.fingerprint) {
            try await store.transaction { tx in
                let newKeyID = try await Self.storedKeyID(newKey, principals: nil, at: now, store: store, on: tx)
                let existing = try await store.keys.deployKeys(.key(newKeyID), on: tx)
                let existingOnWorkspace = try await store.keys.workspaceDeployKeys(.key(newKeyID), on: tx)
                var steps: [RotationStep] = []
                for old in repositoryAttachments {
                    if let there = existing.first(where: { $0.repository.id == old.repository.id }) {
                        steps.append(RotationStep(place: old.repository.fullName, label: there.label, oldID: old.id, newID: there.id, created: false))
                        continue
                    }
                    let id = try await store.keys.attach(
                        NewAttachment(
                            keyID: newKeyID, repositoryID: old.repository.id, label: old.label, access: old.access, refRules: old.refRules,
                            addedBy: actor.user?.id, addedAt: now, expiresAt: Self.capped(old.expiresAt, by: workspace, now: now)), on: tx)
                    steps.append(RotationStep(place: old.repository.fullName, label: old.label, oldID: old.id, newID: id, created: true))
                }
                for old in workspaceAttachments {
                    let place = GrantScope.workspace(id: workspace.id, slug: workspace.slug, selector: old.selector).name
                    if let there = existingOnWorkspace.first(where: { $0.workspace.id == workspace.id }) {
                        steps.append(RotationStep(place: place, label: there.label, oldID: old.id, newID: there.id, created: false))
                        continue
                    }
                    let id = try await store.keys.attach(
                        NewWorkspaceAttachment(
                            keyID: newKeyID, workspaceID: workspace.id, label: old.label, selector: old.selector, access: old.access,
                            refRules: old.refRules, addedBy: actor.user?.id, addedAt: now,
                            expiresAt: Self.capped(old.expiresAt, by: workspace, now: now)), on: tx)
                    steps.append(RotationStep(place: place, label: old.label, oldID: old.id, newID: id, created: true))
                }
                for step in steps where step.created {
                    try await store.audit.append(
                        AuditEntry(
                            at: now, actor: actor.auditName, action: .keyRotated, object: step.place,
                            detail: "\"\(step.label)\" \(oldFingerprint) (\(step.oldID)) → \(newKey.fingerprint) (\(step.newID))", sourceIP: sourceIP,
                            workspaceID: workspace.id), on: tx)
                }
                let removal = ScheduledRemoval(
                    id: UUID(), keyID: oldKey.id, workspaceID: workspace.id, repositoryAttachments: repositoryAttachments.map(\.id),
                    workspaceAttachments: workspaceAttachments.map(\.id), dueAt: now.addingTimeInterval(overlap), requestedBy: actor.auditName)
                let recipients = try await store.directory.administrators(of: workspace, on: tx)
                let rotation = Rotation(
                    oldFingerprint: oldFingerprint, newFingerprint: newKey.fingerprint, steps: steps, oldRemovedAt: overlap == 0 ? nil : removal.dueAt)
                for mail in KeyNotices.rotationStarted(rotation, workspace: workspace.slug, by: actor, recipients: recipients) {
                    try await store.outbox.enqueue(mail, at: now, on: tx)
                }
                if overlap == 0 {
                    try await Self.remove(removal, workspace: workspace, at: now, store: store, on: tx)
                } else {
                    try await store.keys.schedule(removal, on: tx)
                }
                return rotation
            }
        }
    }

    /// A rotated (or registered) attachment keeps its expiry, within the workspace's lifetime policy.
    static func capped(_ expiry: Date?, by workspace: Workspace, now: Date) -> Date? {
        guard let latest = workspace.latestDeployKeyExpiry(now: now) else { return expiry }
        return min(expiry ?? latest, latest)
    }

    /// Removes the old attachments of rotations whose overlap has ended; returns how many rotations it finished.
    /// Each one is taken and carried out in one unit of work, so two nodes never remove (or mail) twice.
    @discardableResult
    public func finishRotations(limit: Int = 50) async throws -> Int {
        let now = clock()
        var finished = 0
        var failures: [any Error] = []
        for removal in try await store.keys.dueRemovals(now: now, limit: limit, on: store.db) {
            let store = store
            do {
                let done = try await store.transaction { tx in
                    guard try await store.keys.take(removal, on: tx) else { return false }
                    guard let workspace = try await store.directory.workspace(id: removal.workspaceID, on: tx) else { return true }
                    try await Self.remove(removal, workspace: workspace, at: now, store: store, on: tx)
                    return true
                }
                if done { finished += 1 }
            } catch {
                // One removal that fails must not hold up the others; it stays due and is tried again.
                failures.append(error)
            }
        }
        if let first = failures.first, finished == 0 { throw first }
        return finished
    }

    /// Detaches what `removal` names (whatever of it still exists), audits each, mails the administrators once, and
    /// deletes the old key when nothing else uses it.
    static func remove(_ removal: ScheduledRemoval, workspace: Workspace, at now: Date, store: Store, on tx: any StoreHandle) async throws {
        let repositoryAttachments = try await store.keys.deployKeys(.ids(removal.repositoryAttachments), on: tx)
        let workspaceAttachments = try await store.keys.workspaceDeployKeys(.key(removal.keyID), on: tx)
            .filter { removal.workspaceAttachments.contains($0.id) }
        var places: [String] = []
        for attachment in repositoryAttachments {
            try await store.keys.detach(id: attachment.id, on: tx)
            places.append(attachment.repository.fullName)
            try await store.audit.append(
                AuditEntry(
                    at: now, actor: removal.requestedBy, action: .deployKeyRemoved, object: attachment.repository.fullName,
                    detail: "deploy key \(attachment.id) \"\(attachment.label)\" \(attachment.key.fingerprint): rotated out", sourceIP: nil,
                    workspaceID: attachment.repository.workspaceID), on: tx)
        }
        for attachment in workspaceAttachments {
            try await store.keys.detachFromWorkspace(id: attachment.id, on: tx)
            places.append("workspace \(workspace.slug)")
            try await store.audit.append(
                AuditEntry(
                    at: now, actor: removal.requestedBy, action: .workspaceDeployKeyRemoved, object: workspace.slug,
                    detail: "workspace deploy key \(attachment.id) \"\(attachment.label)\" \(attachment.key.fingerprint): rotated out", sourceIP: nil,
                    workspaceID: workspace.id), on: tx)
        }
        try await forgetIfUnused(removal.keyID, store: store, on: tx)
        guard !places.isEmpty else { return }
        let fingerprint = repositoryAttachments.first?.key.fingerprint ?? workspaceAttachments.first?.key.fingerprint ?? "?"
        for mail in KeyNotices.rotationFinished(
            fingerprint: fingerprint, places: places, workspace: workspace.slug,
            recipients: try await store.directory.administrators(of: workspace, on: tx))
        {
            try await store.outbox.enqueue(mail, at: now, on: tx)
        }
    }
}
