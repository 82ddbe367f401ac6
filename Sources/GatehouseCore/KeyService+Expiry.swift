import Foundation

/// Expiry warnings: every administrator of a repository (or workspace) is mailed seven days before one of its
/// deployment keys expires and again on the day, each exactly once however many nodes look.
extension KeyService {
    /// Sends the warnings that are due; returns how many attachments were warned about.
    @discardableResult
    public func sendExpiryWarnings() async throws -> Int {
        let now = clock()
        let endOfToday = ExpiryDate.startOfUTCDay(now).addingTimeInterval(86_400)
        var sent = 0
        // The day's warning first, so that a key made to expire within a day gets that one and not both.
        for (stage, horizon) in [(2, endOfToday), (1, now.addingTimeInterval(AccessService.expiryWarningWindow))] {
            let (repositories, workspaces) = try await store.keys.expiring(before: horizon, warnedBelow: stage, on: store.db)
            for attached in repositories {
                guard let expiry = attached.expiresAt else { continue }
                let place = attached.repository.fullName
                let store = store
                if try await store.transaction({ tx in
                    guard try await store.keys.markWarned(.repository(attached.id), stage: stage, on: tx) else { return false }
                    // Already expired (the server was down, or the key was made so): marked, but no "expires" mail.
                    guard expiry > now else { return false }
                    let recipients = try await store.directory.administrators(of: attached.repository, on: tx)
                    for mail in KeyNotices.expiryWarning(
                        label: attached.label, fingerprint: attached.key.fingerprint, place: place,
                        removeWith: "gatehouse deploy-key remove \(place) \(attached.id)", expiresAt: expiry, now: now, recipients: recipients)
                    {
                        try await store.outbox.enqueue(mail, at: now, on: tx)
                    }
                    return true
                }) {
                    sent += 1
                }
            }
            for attached in workspaces {
                guard let expiry = attached.expiresAt else { continue }
                let place = "workspace \(attached.workspace.slug)"
                let store = store
                if try await store.transaction({ tx in
                    guard try await store.keys.markWarned(.workspace(attached.id), stage: stage, on: tx) else { return false }
                    guard expiry > now else { return false }
                    let recipients = try await store.directory.administrators(of: attached.workspace, on: tx)
                    for mail in KeyNotices.expiryWarning(
                        label: attached.label, fingerprint: attached.key.fingerprint, place: place,
                        removeWith: "gatehouse workspace deploy-key remove \(attached.workspace.slug) \(attached.id)", expiresAt: expiry, now: now,
                        recipients: recipients)
                    {
                        try await store.outbox.enqueue(mail, at: now, on: tx)
                    }
                    return true
                }) {
                    sent += 1
                }
            }
        }
        return sent
    }
}
