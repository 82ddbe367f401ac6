import Foundation
import GatehouseCore
import Testing

@Suite("Key expiry: refusals, warnings on stderr and by mail, the lifetime policy")
struct ExpiryTests {
    @Test("a deployment key works until its expiry, warns during its last week, and is refused after it, saying when and what to do")
    func deployKeyExpiry() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            let access = AccessService(store: store, clock: { clock.date })
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "jenkins", keyText: ciKey.line,
                expiresAt: referenceTime.addingTimeInterval(10 * 86_400))
            func outcome() async throws -> SessionOutcome {
                let principal = try #require(try await access.principal(fingerprint: ciKey.fingerprint))
                return await access.outcome(of: "git-upload-pack 'acme/app.git'", principal: principal, sourceIP: nil)
            }
            guard case .git(let early) = try await outcome() else {
                Issue.record("refused before expiry")
                return
            }
            #expect(early.warning == nil)
            clock.advance(5 * 86_400)
            guard case .git(let late) = try await outcome() else {
                Issue.record("refused before expiry")
                return
            }
            #expect(late.warning?.hasPrefix("warning: this deployment key expires on ") == true && late.warning?.contains("(in 5 days)") == true)
            clock.advance(6 * 86_400)
            let refused = try await outcome()
            let day = AccessDenial.deployKeyExpired(label: "jenkins", on: referenceTime.addingTimeInterval(10 * 86_400), repository: "acme/app")
            #expect(refused == .refusal(day.description))
            #expect(
                day.description.hasPrefix("the deployment key 'jenkins' expired on ")
                    && day.description.hasSuffix("ask an administrator of acme/app for a new one."))
        }
    }

    @Test("a principal resolved before the expiry (a long-lived connection) is refused after it, ssh -T included")
    func connectionOutlivesExpiry() async throws {
        try await withStore { store in
            _ = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            let access = AccessService(store: store, clock: { clock.date })
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "jenkins", keyText: ciKey.line, expiresAt: referenceTime.addingTimeInterval(60))
            let principal = try #require(try await access.principal(fingerprint: ciKey.fingerprint))
            clock.advance(120)
            for command in ["git-upload-pack 'acme/app.git'", nil] {
                let outcome = await access.outcome(of: command, principal: principal, sourceIP: nil)
                guard case .message(let text, 1) = outcome else {
                    Issue.record("\(command ?? "ssh -T"): \(outcome)")
                    continue
                }
                #expect(text.contains("the deployment key 'jenkins' expired on"), "\(text)")
            }
        }
    }

    @Test("warnings are not sent for attachments that had already expired, and the lifetime policy counts whole days")
    func staleWarningsAndWholeDays() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "old", keyText: otherKey.line, expiresAt: referenceTime.addingTimeInterval(60))
            clock.advance(30 * 86_400)
            #expect(try await keys.sendExpiryWarnings() == 0)
            #expect(try await acme.pendingMail().filter { $0.mail.subject.contains("expires") }.isEmpty)
            try await DirectoryService(store: store, storage: acme.storage).setMaxDeployKeyLifetime(actor: .localOperator, workspace: "acme", days: 90)
            let lastDay = AccessDenial.day(clock.date.addingTimeInterval(90 * 86_400))
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/tools"], label: "ci", keyText: ciKey.line, expiresAt: try ExpiryDate.parse(lastDay))
        }
    }

    @Test("an expired account key is refused everywhere, saying so")
    func accountKeyExpiry() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            _ = try await keys.addAccountKey(
                actor: .localOperator, username: "olivia", label: "laptop", keyText: laptopKey.line, expiresAt: referenceTime.addingTimeInterval(60))
            clock.advance(120)
            let access = AccessService(store: store, clock: { clock.date })
            let principal = try #require(try await access.principal(fingerprint: laptopKey.fingerprint))
            let outcome = await access.outcome(of: "git-upload-pack 'acme/app.git'", principal: principal, sourceIP: nil)
            guard case .message(let text, 1) = outcome else {
                Issue.record("\(outcome)")
                return
            }
            #expect(text.contains("the SSH key 'laptop'") && text.contains("add a new key to your account"), "\(text)")
            _ = acme
        }
    }

    @Test("warning mails go out seven days before and on the day, each once, however many senders look")
    func warningMails() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "jenkins", keyText: ciKey.line,
                expiresAt: referenceTime.addingTimeInterval(10 * 86_400))
            let administrators = try await store.directory.administrators(of: acme.app, on: store.db).count
            func warnings() async throws -> [QueuedMail] { try await acme.pendingMail().filter { $0.mail.subject.contains("expires") } }
            #expect(try await keys.sendExpiryWarnings() == 0, "not within a week yet")
            clock.advance(4 * 86_400)
            async let first = keys.sendExpiryWarnings()
            async let second = KeyService(store: store, clock: { clock.date }).sendExpiryWarnings()
            #expect(try await first + second == 1, "two senders, one warning")
            #expect(try await warnings().count == administrators)
            #expect(try await keys.sendExpiryWarnings() == 0)
            clock.advance(6 * 86_400 - 60)
            #expect(try await keys.sendExpiryWarnings() == 1)
            let mails = try await warnings()
            #expect(mails.count == 2 * administrators && mails.contains { $0.mail.subject.hasSuffix("expires today") })
        }
    }

    @Test("under the workspace's lifetime policy a key needs an expiry within it; a past expiry is always refused")
    func lifetimePolicy() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            try await DirectoryService(store: store, storage: acme.storage).setMaxDeployKeyLifetime(actor: .localOperator, workspace: "acme", days: 90)
            for expiry in [nil, referenceTime.addingTimeInterval(91 * 86_400)] {
                await #expect {
                    _ = try await keys.addDeployKey(actor: .localOperator, repositories: ["acme/app"], label: "ci", keyText: ciKey.line, expiresAt: expiry)
                } throws: { error in
                    (error as? GatehouseError)?.description.contains("at most 90 days") == true
                }
            }
            await #expect(throws: GatehouseError.self) {
                _ = try await keys.addDeployKey(
                    actor: .localOperator, repositories: ["acme/app"], label: "ci", keyText: ciKey.line, expiresAt: referenceTime.addingTimeInterval(-1))
            }
            _ = try await keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "ci", keyText: ciKey.line, expiresAt: referenceTime.addingTimeInterval(30 * 86_400))
            #expect(try await acme.attachments(on: acme.app).count == 1)
        }
    }

    @Test("expiries are read as people write them", arguments: [("2027-03-31", 1_806_537_599.0), ("2027-03-31T12:00:00Z", 1_806_494_400.0)])
    func parsing(_ row: (String, Double)) throws {
        #expect(try ExpiryDate.parse(row.0).timeIntervalSince1970 == row.1)
        #expect(try ExpiryDate.parse("90d", now: referenceTime) == referenceTime.addingTimeInterval(90 * 86_400))
        #expect(throws: GatehouseError.self) { _ = try ExpiryDate.parse("soon") }
    }
}
