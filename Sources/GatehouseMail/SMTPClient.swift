import Foundation
import GatehouseCore
import NIOCore
import NIOPosix
import NIOSSL

/// Sends one message per connection over SMTP (RFC 5321), with AUTH PLAIN or LOGIN when credentials are set.
public struct SMTPClient: Sendable {
    public let configuration: SMTPConfiguration
    public var timeout: Duration = .seconds(30)

    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
    }

    public func send(_ mail: OutgoingMail) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.deliver(mail) }
            group.addTask {
                try await Task.sleep(for: self.timeout)
                throw SMTPError("The SMTP server \(self.configuration.host):\(self.configuration.port) did not finish within \(self.timeout).")
            }
            try await group.next()
            group.cancelAll()
        }
    }

    private func deliver(_ mail: OutgoingMail) async throws {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: configuration.host, port: configuration.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
                }
        } catch {
            throw SMTPError("Cannot connect to the SMTP server \(configuration.host):\(configuration.port): \(error).")
        }
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(replies: SMTPReplyReader(inbound.makeAsyncIterator()), outbound: outbound)
            try await session.expect(220, after: nil)
            var capabilities = try await session.command("EHLO \(configuration.heloName)", expect: 250)
            if configuration.security == .startTLS {
                guard capabilities.lines.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                    throw SMTPError(
                        "The SMTP server \(configuration.host):\(configuration.port) does not offer STARTTLS. Use a port that does (often 587), or set smtp.tls to none for a relay on a trusted network.",
                        permanent: true)
                }
                try await session.command("STARTTLS", expect: 220)
                try await startTLS(on: channel.channel)
                // RFC 3207: forget what was said in the clear and ask again. The handshake happens on this first write.
                do {
                    capabilities = try await session.command("EHLO \(configuration.heloName)", expect: 250)
                } catch let error as SMTPError {
                    throw error
                } catch {
                    throw SMTPError(
                        "TLS with the SMTP server \(configuration.host):\(configuration.port) failed; its certificate could not be verified or the handshake broke (\(error)). If the relay uses its own CA, set smtp.ca-file to it."
                    )
                }
            }
            if let username = configuration.username {
                try await authenticate(&session, username: username, password: configuration.password ?? "", capabilities: capabilities)
            }
            try await session.command("MAIL FROM:<\(configuration.from)>", expect: 250)
            try await session.command("RCPT TO:<\(mail.to)>", expect: 250, 251)
            try await session.command("DATA", expect: 354)
            try await session.write(MessageFormat.render(mail, from: configuration.from) + ".\r\n")
            try await session.expect(250, after: "the message")
            _ = try? await session.command("QUIT", expect: 221)
        }
    }

    /// Puts TLS under the SMTP conversation; the certificate is verified against the host name (or IP address).
    private func startTLS(on channel: any Channel) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let file = configuration.trustedCertificatesFile {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
        }
        let context = try NIOSSLContext(configuration: tls)
        let isAddress = configuration.host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" }
        let hostname = isAddress ? nil : configuration.host
        try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: hostname), position: .first)
        }.get()
    }

    private func authenticate(_ session: inout SMTPSession, username: String, password: String, capabilities: SMTPReply) async throws {
        let mechanisms =
            capabilities.lines.first { $0.uppercased().hasPrefix("AUTH ") || $0.uppercased().hasPrefix("AUTH=") }?
            .uppercased().split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init) ?? []
        let base64 = { (text: String) in Data(text.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            try await session.command("AUTH PLAIN \(base64("\0\(username)\0\(password)"))", expect: 235, redacted: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            try await session.command("AUTH LOGIN", expect: 334)
            try await session.command(base64(username), expect: 334, redacted: "the user name")
            try await session.command(base64(password), expect: 235, redacted: "the password")
        } else {
            throw SMTPError(
                "The SMTP server offers no AUTH PLAIN or LOGIN, but a user name is configured. Remove smtp user or use a server that offers them.",
                permanent: true)
        }
    }
}

/// One SMTP reply: its code and text lines (several for `250-` continuations).
struct SMTPReply {
    var code: Int
    var lines: [String]
}

/// Reads CRLF-terminated reply lines from the connection and groups them into replies.
struct SMTPReplyReader {
    var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    var buffer = ByteBuffer()

    init(_ iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator) {
        self.iterator = iterator
    }

    mutating func next() async throws -> SMTPReply {
        var lines: [String] = []
        while true {
            let line = try await nextLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw SMTPError("The SMTP server sent an unreadable reply: \(line.prefix(200))") }
            let separator = line.dropFirst(3).first
            lines.append(String(line.dropFirst(4)))
            if separator != "-" { return SMTPReply(code: code, lines: lines) }
        }
    }

    private mutating func nextLine() async throws -> String {
        while true {
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                var bytes = buffer.readBytes(length: newline - buffer.readerIndex + 1) ?? []
                // Byte-wise: as a String, "\r\n" is one Character and would not match a "\n" suffix.
                while let last = bytes.last, last == UInt8(ascii: "\n") || last == UInt8(ascii: "\r") { bytes.removeLast() }
                return String(decoding: bytes, as: UTF8.self)
            }
            guard buffer.readableBytes < 64 * 1024 else { throw SMTPError("The SMTP server sent an over-long line.") }
            guard var chunk = try await iterator.next() else { throw SMTPError("The SMTP server closed the connection.") }
            buffer.writeBuffer(&chunk)
        }
    }
}

/// Commands and replies, turning unexpected codes into errors that name the step.
struct SMTPSession {
    var replies: SMTPReplyReader
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    mutating func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    @discardableResult
    mutating func command(_ line: String, expect codes: Int..., redacted: String? = nil) async throws -> SMTPReply {
        try await write(line + "\r\n")
        return try await expect(codes, after: redacted ?? String(line.prefix(40)))
    }

    @discardableResult
    mutating func expect(_ codes: Int..., after step: String?) async throws -> SMTPReply {
        try await expect(codes, after: step)
    }

    mutating func expect(_ codes: [Int], after step: String?) async throws -> SMTPReply {
        let reply = try await replies.next()
        guard codes.contains(reply.code) else {
            let what = step.map { "after \($0)" } ?? "on connecting"
            throw SMTPError(
                "The SMTP server answered \(reply.code) \(reply.lines.joined(separator: " ")) \(what).", permanent: (500...599).contains(reply.code))
        }
        return reply
    }
}
