import FluentKit
import FluentSQL
import Foundation
import GatehouseCore

struct FluentOutboxStore: OutboxStore {
    func enqueue(_ mail: OutgoingMail, at date: Date, on db: any StoreHandle) async throws {
        try await MailModel(mail, at: date).create(on: db.fluent)
    }

    func claimDue(now: Date, limit: Int, lease: TimeInterval, on db: any StoreHandle) async throws -> [QueuedMail] {
        let due = try await MailModel.query(on: db.fluent).filter(\.$status == MailStatus.pending.rawValue)
            .filter(\.$nextAttemptAt <= now).sort(\.$nextAttemptAt).limit(limit).all()
        guard !due.isEmpty else { return [] }
        // Pushing the next attempt past the lease is the claim: another sender (another node) skips these
        // until then, and if this one dies mid-send they become due again instead of being lost.
        let deadline = now.addingTimeInterval(lease)
        try await MailModel.query(on: db.fluent).filter(\.$id ~~ due.compactMap(\.id)).set(\.$nextAttemptAt, to: deadline).update()
        return due.map { model in
            var claimed = model.entity
            claimed.nextAttemptAt = deadline
            return claimed
        }
    }

    func markSent(id: UUID, at date: Date, on db: any StoreHandle) async throws {
        try await MailModel.query(on: db.fluent).filter(\.$id == id)
            .set(\.$status, to: MailStatus.sent.rawValue).set(\.$sentAt, to: date).set(\.$lastError, to: nil).update()
    }

    func release(_ claims: [(id: UUID, claimedUntil: Date)], at date: Date, on db: any StoreHandle) async throws {
        // A claim whose lease ran out may have been taken by another sender since: that one is left alone.
        for claim in claims {
            try await MailModel.query(on: db.fluent).filter(\.$id == claim.id).filter(\.$status == MailStatus.pending.rawValue)
                .filter(\.$nextAttemptAt == claim.claimedUntil).set(\.$nextAttemptAt, to: date).update()
        }
    }

    func markAttemptFailed(id: UUID, error: String, retryAt: Date?, now: Date, on db: any StoreHandle) async throws {
        guard let model = try await MailModel.find(id, on: db.fluent) else { return }
        model.attempts += 1
        model.lastError = error
        if let retryAt {
            model.nextAttemptAt = retryAt
        } else {
            model.status = MailStatus.failed.rawValue
            // For a failed message this is when it failed, which is what pruning counts from.
            model.nextAttemptAt = now
        }
        try await model.update(on: db.fluent)
    }

    func prune(before date: Date, on db: any StoreHandle) async throws -> Int {
        let sent = MailModel.query(on: db.fluent).filter(\.$status == MailStatus.sent.rawValue).filter(\.$sentAt < date)
        let failed = MailModel.query(on: db.fluent).filter(\.$status == MailStatus.failed.rawValue).filter(\.$nextAttemptAt < date)
        let count = try await sent.count() + failed.count()
        try await sent.delete()
        try await failed.delete()
        return count
    }

    func count(status: MailStatus, on db: any StoreHandle) async throws -> Int {
        try await MailModel.query(on: db.fluent).filter(\.$status == status.rawValue).count()
    }

    func messages(status: MailStatus?, limit: Int, on db: any StoreHandle) async throws -> [QueuedMail] {
        var query = MailModel.query(on: db.fluent)
        if let status { query = query.filter(\.$status == status.rawValue) }
        return try await query.sort(\.$createdAt, .descending).limit(limit).all().map(\.entity)
    }
}

final class MailModel: Model, @unchecked Sendable {
    static let schema = "mail_outbox"
    @ID(key: .id) var id: UUID?
    @Field(key: "recipient") var recipient: String
    @Field(key: "subject") var subject: String
    @Field(key: "body") var body: String
    @Field(key: "status") var status: String
    @Field(key: "attempts") var attempts: Int
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "next_attempt_at") var nextAttemptAt: Date
    @OptionalField(key: "last_error") var lastError: String?
    @OptionalField(key: "sent_at") var sentAt: Date?

    init() {}

    convenience init(_ mail: OutgoingMail, at date: Date) {
        self.init()
        recipient = mail.to
        subject = mail.subject
        body = mail.body
        status = MailStatus.pending.rawValue
        attempts = 0
        createdAt = date
        nextAttemptAt = date
    }

    var entity: QueuedMail {
        QueuedMail(
            id: id!, mail: OutgoingMail(to: recipient, subject: subject, body: body), status: MailStatus(rawValue: status) ?? .pending,
            attempts: attempts, createdAt: createdAt, nextAttemptAt: nextAttemptAt, lastError: lastError, sentAt: sentAt)
    }
}

/// The persistent outbox: mail is written with the change it reports and sent later, so a restart loses nothing.
struct CreateMailOutbox: AsyncMigration {
    var name: String { "gatehouse.v3.mail-outbox" }

    func prepare(on database: any Database) async throws {
        try await database.schema(MailModel.schema)
            .id()
            .field("recipient", .string, .required)
            .field("subject", .string, .required)
            .field("body", .string, .required)
            .field("status", .string, .required)
            .field("attempts", .int, .required)
            .field("created_at", .datetime, .required)
            .field("next_attempt_at", .datetime, .required)
            .field("last_error", .string)
            .field("sent_at", .datetime)
            .create()
        if let sql = database as? any SQLDatabase {
            try await sql.create(index: "mail_outbox_due").on(MailModel.schema).column("status").column("next_attempt_at").run()
        }
    }

    func revert(on database: any Database) async throws {
        try await database.schema(MailModel.schema).delete()
    }
}
