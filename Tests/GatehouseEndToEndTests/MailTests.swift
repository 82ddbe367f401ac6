import Foundation
import GatehouseApp
import GatehouseCore
import GatehouseMail
import Logging
import NIOCore
import NIOPosix
import Testing

@Suite("Email notices through a real SMTP server")
struct MailTests {
    /// Sends from the outbox every 100 ms and retries after 200 ms, so that tests need not wait long.
    static var quickPolicy: MailRelay.Policy {
        var policy = MailRelay.Policy()
        policy.pollInterval = .milliseconds(100)
        policy.firstRetryDelay = 0.2
        return policy
    }

    /// Runs the outbox sender of `data` against `smtp` while `body` runs.
    /// Plain SMTP unless `trusting` names the certificate of a server that requires STARTTLS.
    static func withRelay(
        _ data: DataDirectory, smtp: TestSMTPServer, login: (String, String)? = nil, trusting certificate: String? = nil,
        _ body: () async throws -> Void
    ) async throws {
        let configuration = SMTPConfiguration(
            host: "127.0.0.1", port: smtp.port, username: login?.0, password: login?.1,
            from: "gatehouse@example.com", security: certificate == nil ? .none : .startTLS,
            trustedCertificatesFile: certificate)
        let relay = data.mailRelay(smtp: configuration, policy: quickPolicy)
        let task = Task { try await relay.run() }
        defer { task.cancel() }
        try await body()
    }

    /// The outbox once no message is still pending: the SMTP server has a message on disk a moment
    /// before the relay hears its 250 and records it as sent, so reading the outbox at once would race.
    static func settledOutbox(_ data: DataDirectory, limit: Duration = .seconds(20)) async throws -> [QueuedMail] {
        let deadline = ContinuousClock.now + limit
        while try await data.store.mailCount(status: .pending) > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await data.store.mail(status: nil, limit: 20)
    }

    @Test("a deployment key added through the API is announced to every administrator of the repository, and only to them")
    func deployKeyNotice() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            for name in ["wade", "rae", "wes"] { try await gatehouse.user(name) }
            try await gatehouse.data.directory.setMember(workspace: "acme", username: "wade", role: .admin)
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "rae", level: .admin)
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "wes", level: .write)
            let smtp = try await TestSMTPServer.start()
            defer { Task { await smtp.stop() } }
            try await Self.withRelay(gatehouse.data, smtp: smtp) {
                let key = try await gatehouse.key()
                let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
                let added = try await gatehouse.api.request(
                    "POST", "/2.0/repositories/acme/app/deploy-keys", auth: auth,
                    body: #"{"key": "\#(key.publicKey)", "label": "build server"}"#)
                #expect(added.status == 200, "\(added)")
                // The owner's own account key, added while seeding, has its notice too; these are the deployment key's.
                let messages = try await smtp.waitForMessages(4).filter { $0.contains("Deployment key") }
                #expect(messages.count == 3)
                let recipients = Set(messages.compactMap { Self.header("X-Envelope-To", in: $0) })
                #expect(recipients == ["olivia@example.com", "wade@example.com", "rae@example.com"])
                let fingerprint = try await key.fingerprint()
                let base64 = String(key.publicKey.split(separator: " ")[1])
                for message in messages {
                    #expect(Self.header("Subject", in: message) == "[Gatehouse] Deployment key \"build server\" added to acme/app")
                    for fact in [
                        "Added by:     olivia", "Label:        build server", "Key type:     ssh-ed25519",
                        "Fingerprint:  \(fingerprint)", "Repository:   acme/app",
                        "DELETE /2.0/repositories/acme/app/deploy-keys/\(added.json["id"].int ?? -1)",
                    ] {
                        #expect(message.contains(fact), "missing \(fact) in \(message)")
                    }
                    #expect(!message.contains(base64), "the key's text never goes out by mail")
                }
                let outbox = try await Self.settledOutbox(gatehouse.data).filter { $0.mail.subject.contains("Deployment key") }
                #expect(outbox.count == 3 && outbox.allSatisfy { $0.status == .sent && $0.attempts == 0 })
            }
        }
    }

    @Test("an SSH key added to an account is announced to its owner, over an SMTP server that requires AUTH")
    func accountKeyNotice() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            let smtp = try await TestSMTPServer.start(login: ("relay", "s3cret"))
            defer { Task { await smtp.stop() } }
            try await Self.withRelay(gatehouse.data, smtp: smtp, login: ("relay", "s3cret")) {
                let key = try await gatehouse.key()
                let auth = Credential.basic("sam", try await gatehouse.token("sam"))
                let added = try await gatehouse.api.request(
                    "POST", "/2.0/users/sam/ssh-keys", auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "laptop"}"#)
                #expect(added.status == 201)
                let messages = try await smtp.waitForMessages(1)
                #expect(messages.count == 1)
                #expect(Self.header("X-Envelope-To", in: messages.first ?? "") == "sam@example.com")
                #expect(Self.header("Subject", in: messages.first ?? "") == "[Gatehouse] SSH key \"laptop\" added to your account")
                #expect(messages.first?.contains(try await key.fingerprint()) == true)
            }
        }
    }

    @Test("a server that refuses for now and then accepts gets the message on a retry")
    func retries() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            let smtp = try await TestSMTPServer.start(refusing: 2)
            defer { Task { await smtp.stop() } }
            try await Self.withRelay(gatehouse.data, smtp: smtp) {
                try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
                let messages = try await smtp.waitForMessages(1)
                #expect(messages.count == 1)
                let outbox = try await Self.settledOutbox(gatehouse.data)
                #expect(outbox.map(\.status) == [.sent])
                #expect(outbox.first?.attempts == 2 && outbox.first?.lastError == nil, "\(outbox)")
            }
        }
    }

    @Test("a sender stopped in the middle of a delivery hands the message back, due now and with no attempt counted")
    func stoppingReleasesTheClaim() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
            // A server that accepts the connection and never says a word keeps the sender waiting mid-delivery.
            let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .bind(host: "127.0.0.1", port: 0).get()
            defer { silent.close(promise: nil) }
            let configuration = SMTPConfiguration(
                host: "127.0.0.1", port: try #require(silent.localAddress?.port),
                from: "gatehouse@example.com", security: .none)
            let relay = Task { try await gatehouse.data.mailRelay(smtp: configuration, policy: Self.quickPolicy).run() }
            let deadline = ContinuousClock.now + .seconds(20)
            while try await gatehouse.data.store.mail(status: .pending, limit: 1).first.map({ $0.nextAttemptAt <= Date() }) ?? false,
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            let claimed = try #require(try await gatehouse.data.store.mail(status: .pending, limit: 1).first)
            #expect(claimed.nextAttemptAt > Date().addingTimeInterval(60), "the sender has claimed it for its lease")

            relay.cancel()
            _ = await relay.result
            let released = try #require(try await gatehouse.data.store.mail(status: nil, limit: 10).first)
            #expect(released.status == .pending && released.attempts == 0 && released.lastError == nil, "\(released)")
            #expect(released.nextAttemptAt <= Date(), "due again at once, not after the lease")
        }
    }

    @Test("sent and failed messages older than the retention are deleted; recent ones and pending ones stay")
    func pruning() async throws {
        try await TestGatehouse.with { gatehouse in
            for name in ["old", "failed", "recent", "waiting"] {
                try await gatehouse.user(name)
                try await gatehouse.addAccountKey(try await gatehouse.key(), user: name)
            }
            let store = gatehouse.data.store
            let queued = Dictionary(uniqueKeysWithValues: try await store.mail(status: nil, limit: 10).map { ($0.mail.to, $0) })
            let day: TimeInterval = 86_400
            try await store.markMailSent(id: try #require(queued["old@example.com"]).id, at: Date().addingTimeInterval(-40 * day))
            try await store.markMailSent(id: try #require(queued["recent@example.com"]).id, at: Date().addingTimeInterval(-2 * day))
            try await store.markMailAttemptFailed(id: try #require(queued["failed@example.com"]).id, error: "550 no such user", retryAt: nil)

            var policy = Self.quickPolicy
            policy.retention = 30 * day
            let relay = gatehouse.data.mailRelay(smtp: nil, policy: policy)
            try await relay.pruneOld()
            let kept = Set(try await store.mail(status: nil, limit: 10).map(\.mail.to))
            #expect(kept == ["recent@example.com", "failed@example.com", "waiting@example.com"], "only the one sent 40 days ago goes: \(kept)")

            // Seen from 45 days ahead, the recent and the failed message are old too; the pending one never is.
            let later = MailRelay(
                outbox: OutboxService(store: store, clock: { Date().addingTimeInterval(45 * day) }), smtp: nil,
                policy: policy, logger: Logger(label: "test"))
            try await later.pruneOld()
            let left = try await store.mail(status: nil, limit: 10).map(\.mail.to)
            #expect(left == ["waiting@example.com"], "\(left)")
        }
    }

    @Test("with no SMTP server the notice waits in the outbox, and a restarted server with SMTP delivers it")
    func outboxSurvivesRestart() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
            let waiting = try await gatehouse.data.store.mail(status: .pending, limit: 10)
            #expect(waiting.count == 1 && waiting.first?.mail.to == "sam@example.com")

            // A second process on the same data directory stands for the restarted server.
            let restarted = try await DataDirectory.open(gatehouse.data.url.path, logger: Logger(label: "restarted"))
            let smtp = try await TestSMTPServer.start()
            try await Self.withRelay(restarted, smtp: smtp) {
                let delivered = try await smtp.waitForMessages(1)
                #expect(delivered.count == 1)
            }
            await smtp.stop()
            await restarted.close()
        }
    }

    @Test("a permanent refusal marks the message failed with the server's answer, shown by gatehouse mail list")
    func permanentFailure() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            let smtp = try await TestSMTPServer.start(login: ("relay", "right"))
            defer { Task { await smtp.stop() } }
            try await Self.withRelay(gatehouse.data, smtp: smtp, login: ("relay", "wrong")) {
                try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
                let deadline = ContinuousClock.now + .seconds(20)
                while try await gatehouse.data.store.mail(status: .failed, limit: 1).isEmpty, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            let failed = try await gatehouse.data.store.mail(status: .failed, limit: 10)
            let everything = try await gatehouse.data.store.mail(status: nil, limit: 10)
            #expect(failed.count == 1 && failed.first?.attempts == 1, "\(everything)")
            #expect(failed.first?.lastError?.contains("535") == true, "\(failed)")
            let listed = try await runCommand(try gatehouseBinary(), ["mail", "list", "--status", "failed", "--data", gatehouse.data.url.path])
            #expect(
                listed.succeeded && listed.stdout.contains("failed") && listed.stdout.contains("sam@example.com") && listed.stdout.contains("535"), "\(listed)")
        }
    }

    @Test("STARTTLS: the connection is upgraded and the certificate verified before logging in")
    func startTLS() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            let (certificate, key) = try await Self.selfSignedCertificate(in: gatehouse.scratch("tls"))
            let smtp = try await TestSMTPServer.start(login: ("relay", "s3cret"), tls: (certificate, key))
            defer { Task { await smtp.stop() } }
            try await Self.withRelay(gatehouse.data, smtp: smtp, login: ("relay", "s3cret"), trusting: certificate) {
                try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
                let messages = try await smtp.waitForMessages(1)
                #expect(messages.count == 1)
            }
        }
    }

    /// Each way a secure connection must not happen: the message fails for good and says why.
    static let insecure: [(name: String, offerTLS: Bool, trustServer: Bool, error: String)] = [
        ("server offers no STARTTLS", false, false, "does not offer STARTTLS"),
        ("certificate not trusted", true, false, "certificate could not be verified"),
    ]

    @Test("with STARTTLS required, a server without it or with an untrusted certificate never gets the message", arguments: insecure.indices)
    func refusesInsecure(index: Int) async throws {
        let row = Self.insecure[index]
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("sam")
            let (certificate, key) = try await Self.selfSignedCertificate(in: gatehouse.scratch("tls"))
            let smtp = try await TestSMTPServer.start(tls: row.offerTLS ? (certificate, key) : nil)
            defer { Task { await smtp.stop() } }
            let configuration = SMTPConfiguration(
                host: "127.0.0.1", port: smtp.port, from: "gatehouse@example.com", security: .startTLS,
                trustedCertificatesFile: row.trustServer ? certificate : nil)
            var policy = Self.quickPolicy
            policy.maximumAttempts = 1
            let relay = gatehouse.data.mailRelay(smtp: configuration, policy: policy)
            try await gatehouse.addAccountKey(try await gatehouse.key(), user: "sam")
            try await relay.deliverDue(with: SMTPClient(configuration: configuration))
            let failed = try await gatehouse.data.store.mail(status: .failed, limit: 10)
            #expect(failed.count == 1 && failed.first?.lastError?.contains(row.error) == true, "\(row.name): \(failed)")
            #expect(smtp.messages().isEmpty, "\(row.name)")
        }
    }

    /// A certificate for 127.0.0.1 made by the real openssl.
    static func selfSignedCertificate(in directory: URL) async throws -> (certificate: String, key: String) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        let made = try await runCommand(
            "openssl",
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ])
        guard made.succeeded else { throw TestSetupError("openssl: \(made)") }
        return (certificate, key)
    }

    /// A header's value in a raw message (first occurrence).
    static func header(_ name: String, in message: String) -> String? {
        for line in message.components(separatedBy: "\r\n") {
            if line.isEmpty { return nil }
            if line.lowercased().hasPrefix(name.lowercased() + ":") {
                return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
