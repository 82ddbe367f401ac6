import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseHTTP
import GatehouseKeys
import GatehouseMail
import GatehouseSSH
import Logging
import NIOCore
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Git server (built-in SSH), the REST API and the mail sender.",
        discussion: "Settings come from these flags, else GATEHOUSE_* environment variables, else DATA/gatehouse.json, else defaults.")
    @OptionGroup var options: DataOptions
    @Option(help: "ssh.listen: where the built-in SSH server listens (HOST:PORT; port 0 picks a free one). Default 0.0.0.0:2222.")
    var ssh: String?
    @Option(help: "http.listen: where the REST API listens (HOST:PORT). Default 0.0.0.0:8080.") var http: String?
    @Option(help: "ssh.user: the SSH user name clients connect as. Default git.") var sshUser: String?
    @Option(help: "smtp.host and smtp.port: the SMTP server for notices (HOST:PORT). Without it, notices stay in the outbox.")
    var smtp: String?
    @Option(help: "smtp.user: the SMTP user name; the password comes from GATEHOUSE_SMTP_PASSWORD or gatehouse.json.") var smtpUser: String?
    @Option(help: "smtp.from: the sender address of notices. Default gatehouse@localhost.") var smtpFrom: String?
    @Option(help: "smtp.tls: starttls (default: upgrade and verify the certificate) or none (a relay on a trusted network).")
    var smtpTLS: String?
    @Option(help: "log.level: trace, debug, info, notice, warning, error. Default info.") var logLevel: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["ssh.listen"] = ssh
        flags["http.listen"] = http
        flags["ssh.user"] = sshUser
        flags["smtp.user"] = smtpUser
        flags["smtp.from"] = smtpFrom
        flags["smtp.tls"] = smtpTLS
        flags["log.level"] = logLevel
        if let smtp {
            guard let address = ListenAddress(argument: smtp) else { throw ValidationError("--smtp must be HOST:PORT, e.g. mail.example.com:587.") }
            flags["smtp.host"] = address.host
            flags["smtp.port"] = String(address.port)
        }
        let dataURL = URL(fileURLWithPath: options.data, isDirectory: true)
        let settings = try await Settings.load(flags: flags, dataDirectory: dataURL)

        var logger = Logger(label: "gatehouse")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        _ = GatehouseMetrics.registry
        let directory = try await DataDirectory.open(
            options.data, logger: logger, signInLimits: settings.signInLimits, busyTimeout: settings.databaseBusyTimeout)
        do {
            try await serve(directory, settings: settings, logger: logger)
        } catch {
            await directory.close()
            throw error
        }
        await directory.close()
    }

    private func serve(_ directory: DataDirectory, settings: Settings, logger: Logger) async throws {
        let server = try directory.sshServer(
            .init(
                host: settings.sshListen.host, port: settings.sshListen.port, user: settings.sshUser, limits: settings.sshLimits,
                gitProcesses: settings.gitProcesses), gitIdleTimeout: settings.gitIdleTimeout)
        let openFiles = OpenFileLimit.raiseToHardLimit()
        let port = try await Self.listening("ssh.listen", settings.sshListen) { try await server.bind() }
        let hostKeys = try directory.hostKeys()
        var banner = "Gatehouse is serving \(directory.url.path)\n"
        banner += settings.report.map { "Setting: \($0)\n" }.joined()
        banner += "Open files: at most \(openFiles) (the process's limit, raised to its hard limit)\n"
        banner += "SSH: \(ListenAddress(host: settings.sshListen.host, port: port)) (user \(settings.sshUser))\n"
        for key in hostKeys.publicKeys { banner += "Host key: \(key.type.rawValue) \(key.fingerprint)\n" }
        banner += "Clone with: git clone ssh://\(settings.sshUser)@HOST:\(port)/WORKSPACE/REPOSITORY.git\n"
        // Unbuffered, so that scripts and tests waiting for the address see it at once.
        FileHandle.standardOutput.write(Data(banner.utf8))
        let httpHost = settings.httpListen.host
        let metrics = DataDirectory.metricsEndpoint(token: settings.metricsToken)
        let api = try directory.apiServer(
            ssh: try directory.sshEndpoint(port: port, user: settings.sshUser), maximumBodySize: settings.maximumBodySize,
            idleTimeout: settings.httpIdleTimeout, trustForwardedHeaders: settings.trustForwardedHeaders,
            metrics: settings.metricsListen == nil ? metrics : nil
        )
        .application(host: settings.httpListen.host, port: settings.httpListen.port) { boundPort in
            FileHandle.standardOutput.write(Data("HTTP: \(ListenAddress(host: httpHost, port: boundPort)) (REST API at /2.0/)\n".utf8))
        }
        var policy = MailRelay.Policy()
        policy.maximumAttempts = settings.mailMaximumAttempts
        policy.retention = TimeInterval(settings.mailKeepDays) * 86_400
        let mail = directory.mailRelay(
            smtp: settings.smtpHost.map {
                SMTPConfiguration(
                    host: $0, port: settings.smtpPort, username: settings.smtpUser, password: settings.smtpPassword,
                    from: settings.smtpFrom, security: settings.smtpSecurity, trustedCertificatesFile: settings.smtpTrustedCertificates)
            }, policy: policy)
        let scheduled = ScheduledWork(keys: directory.keys, logger: logger)
        var services: [any Service] = [server, api, mail, scheduled]
        if let listen = settings.metricsListen {
            let application = metrics.application(host: listen.host, port: listen.port, logger: logger) { boundPort in
                FileHandle.standardOutput.write(Data("Metrics: \(ListenAddress(host: listen.host, port: boundPort))/metrics\n".utf8))
            }
            services.append(Listener(setting: "metrics.listen", address: listen, service: application))
        }
        let group = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await Self.listening("http.listen", settings.httpListen) { try await group.run() }
    }

    static let flags = ["ssh.listen": "--ssh", "http.listen": "--http"]

    /// A service that listens on the address of `setting`, so that a busy address is reported under its own name.
    struct Listener<Wrapped: Service>: Service {
        var setting: String
        var address: ListenAddress
        var service: Wrapped

        func run() async throws {
            try await Serve.listening(setting, address) { try await service.run() }
        }
    }

    /// Runs `body`; an address already in use becomes a refusal that names the setting to change.
    static func listening<T>(_ setting: String, _ address: ListenAddress, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as IOError where error.errnoCode == EADDRINUSE || error.errnoCode == EACCES {
            let reason = error.errnoCode == EADDRINUSE ? "the address is already in use" : "permission denied (ports below 1024 need privileges)"
            throw GatehouseError.invalidArgument(
                "Cannot listen on \(address) (\(setting)): \(reason). Stop what uses it, or choose another address with \(Self.flags[setting] ?? setting) HOST:PORT."
            )
        }
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
        print(
            "\nIf ssh says \"Host key verification failed\", remove the old entry with `ssh-keygen -R '\(KnownHosts.hostPattern(host: host, port: port))'` and add the lines above."
        )
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the audit log, newest first.")
    @OptionGroup var options: DataOptions
    @Option(help: "Only this workspace's entries.") var workspace: String?
    @Option(help: "How many entries.") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let entries = try await options.withDirectory {
            try await $0.directory.auditLog(actor: .localOperator, workspace: workspace, window: ListWindow(offset: 0, limit: limit)).items
        }
        if json { return print(CommandLineJSON.auditEntries(entries)) }
        let formatter = ISO8601DateFormatter()
        for entry in entries {
            print("\(formatter.string(from: entry.at))\t\(entry.actor)\t\(entry.action.rawValue)\t\(entry.object)\t\(entry.detail)\t\(entry.sourceIP ?? "-")")
        }
    }
}

struct MailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mail", abstract: "Inspect the outbox of email notices.",
        subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queued, sent and failed notices, newest first.")
        @OptionGroup var options: DataOptions
        @Option(help: "Only this status: pending, sent or failed.") var status: MailStatus?
        @Option(help: "How many messages.") var limit = 50
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let messages = try await options.withDirectory { try await $0.outbox.messages(status: status, limit: limit) }
            if json { return print(CommandLineJSON.encode(messages)) }
            if messages.isEmpty { print("The outbox is empty.") }
            let formatter = ISO8601DateFormatter()
            for message in messages {
                let error = message.lastError.map { "\t\($0)" } ?? ""
                print(
                    "\(formatter.string(from: message.createdAt))\t\(message.status.rawValue)\t\(message.attempts) attempts\t\(message.mail.to)\t\(message.mail.subject)\(error)"
                )
            }
        }
    }
}

extension MailStatus: ExpressibleByArgument {}
