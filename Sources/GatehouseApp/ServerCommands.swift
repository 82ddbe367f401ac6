import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseMail
import GatehouseSSH
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Git server (built-in SSH) and the REST API.")
    @OptionGroup var options: DataOptions
    @Option(help: "Where the built-in SSH server listens (HOST:PORT; port 0 picks a free one).")
    var ssh = ListenAddress(host: "0.0.0.0", port: 2222)
    @Option(help: "Where the REST API listens (HOST:PORT; port 0 picks a free one).")
    var http = ListenAddress(host: "0.0.0.0", port: 8080)
    @Option(help: "The SSH user name clients connect as.") var sshUser = "git"
    @Option(help: "The SMTP server for email notices (HOST:PORT). Without it, notices stay in the outbox (gatehouse mail list).")
    var smtp: ListenAddress?
    @Option(help: "The SMTP user name; the password is read from $GATEHOUSE_SMTP_PASSWORD.") var smtpUser: String?
    @Option(help: "The sender address of email notices.") var smtpFrom = "gatehouse@localhost"
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"

    func run() async throws {
        var logger = Logger(label: "gatehouse")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let directory = try await DataDirectory.open(options.data, logger: logger)
        let server = try directory.sshServer(.init(host: ssh.host, port: ssh.port, user: sshUser))
        let port = try await server.bind()
        let hostKeys = try directory.hostKeys()
        var banner = "Gatehouse is serving \(directory.url.path)\n"
        banner += "SSH: \(ListenAddress(host: ssh.host, port: port)) (user \(sshUser))\n"
        for key in hostKeys.publicKeys { banner += "Host key: \(key.type.rawValue) \(key.fingerprint)\n" }
        banner += "Clone with: git clone ssh://\(sshUser)@HOST:\(port)/WORKSPACE/REPOSITORY.git\n"
        // Unbuffered, so that scripts and tests waiting for the address see it at once.
        FileHandle.standardOutput.write(Data(banner.utf8))
        let httpHost = http.host
        let api = directory.apiServer(ssh: try directory.sshEndpoint(port: port, user: sshUser))
            .application(host: http.host, port: http.port) { boundPort in
                FileHandle.standardOutput.write(Data("HTTP: \(ListenAddress(host: httpHost, port: boundPort)) (REST API at /2.0/)\n".utf8))
            }
        let mail = directory.mailRelay(smtp: smtp.map {
            SMTPConfiguration(host: $0.host, port: $0.port, username: smtpUser,
                              password: ProcessInfo.processInfo.environment["GATEHOUSE_SMTP_PASSWORD"], from: smtpFrom)
        })
        let group = ServiceGroup(services: [server, api, mail], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
        await directory.close()
    }
}

struct HostKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host-keys",
        abstract: "Print the host key fingerprints and known_hosts lines (the fix for \"Host key verification failed\").")
    @OptionGroup var options: DataOptions
    @Option(help: "The host name clients use.") var host = "localhost"
    @Option(help: "The SSH port clients use.") var port = 2222

    func run() async throws {
        let url = URL(fileURLWithPath: options.data, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keys = try HostKeys.loadOrCreate(in: url)
        print("Host key fingerprints (compare with what ssh shows when it asks to trust the host):")
        for key in keys.publicKeys { print("  \(key.bits) \(key.fingerprint) (\(key.type.displayName))") }
        print("\nLines for ~/.ssh/known_hosts:")
        for line in keys.knownHostsLines(host: host, port: port) { print(line) }
        print("\nIf ssh says \"Host key verification failed\", remove the old entry with `ssh-keygen -R \(port == 22 ? host : "[\(host)]:\(port)")` and add the lines above.")
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit log, newest first.")
    @OptionGroup var options: DataOptions
    @Option(help: "Only this workspace's entries.") var workspace: String?
    @Option(help: "How many entries.") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let entries = try await options.withDirectory { directory in
            let scope = if let workspace { try await directory.directory.requireWorkspace(workspace) } else { Workspace?.none }
            return try await directory.store.auditEntries(workspace: scope, limit: limit)
        }
        if json { return try printJSON(entries) }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            print("\(formatter.string(from: entry.at))\t\(entry.actor)\t\(entry.action.rawValue)\t\(entry.object)\t\(entry.detail)\t\(entry.sourceIP ?? "-")")
        }
    }
}

struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mail", abstract: "Inspect the outbox of email notices.",
                                                    subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued, sent and failed notices, newest first.")
        @OptionGroup var options: DataOptions
        @Option(help: "Only this status: pending, sent or failed.") var status: MailStatus?
        @Option(help: "How many messages.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let messages = try await options.withDirectory { try await $0.store.mail(status: status, limit: limit) }
            if json { return try printJSON(messages) }
            if messages.isEmpty { print("The outbox is empty.") }
            let formatter = ISO8601DateFormatter()
            for message in messages {
                let error = message.lastError.map { "\t\($0)" } ?? ""
                print("\(formatter.string(from: message.createdAt))\t\(message.status.rawValue)\t\(message.attempts) attempts\t\(message.mail.to)\t\(message.mail.subject)\(error)")
            }
        }
    }
}

extension MailStatus: ExpressibleByArgument {}
