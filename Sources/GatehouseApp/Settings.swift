import Configuration
import Foundation
import GatehouseCore
import GatehouseGit
import GatehouseHTTP
import GatehouseMail
import GatehouseSSH
import GatehouseStore
import SystemPackage

/// `gatehouse serve`'s settings, each from the first place that has it: a command-line flag, a `GATEHOUSE_*`
/// environment variable (`smtp.host` is `GATEHOUSE_SMTP_HOST`), the data directory's `gatehouse.json`
/// (`{"smtp": {"host": "..."}}`), or the default. `serve` prints where each came from.
struct Settings {
    var sshListen: ListenAddress
    var sshUser: String
    var httpListen: ListenAddress
    var smtpHost: String?
    var smtpPort: Int
    var smtpUser: String?
    var smtpPassword: String?
    var smtpFrom: String
    var smtpSecurity: SMTPConfiguration.Security
    var smtpTrustedCertificates: String?
    var mailMaximumAttempts: Int
    var mailKeepDays: Int
    var maximumBodySize: Int
    var httpIdleTimeout: Duration
    var trustForwardedHeaders: Bool
    /// nil: `/metrics` is served on `http.listen`.
    var metricsListen: ListenAddress?
    var metricsToken: String?
    var signInLimits: SignInLimits
    var sshLimits: SSHLimits
    var gitProcesses: GitProcessSlots.Limits
    var gitIdleTimeout: Duration
    var databaseBusyTimeout: Duration
    var logLevel: String
    /// `key = value (source)` for every setting, secrets masked.
    var report: [String] = []

    static let fileName = "gatehouse.json"

    /// - Parameter flags: the settings given on the command line, by key.
    static func load(
        flags: [String: String], dataDirectory: URL,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> Settings {
        let file = dataDirectory.appendingPathComponent(fileName)
        let fileReader: ConfigReader
        do {
            fileReader = ConfigReader(provider: try await FileProvider<JSONSnapshot>(filePath: FilePath(file.path), allowMissing: true))
        } catch {
            throw SettingsError("\(file.path) is not valid JSON: \(error). Fix it or remove it; see README, \"Configuration\".")
        }
        let sources = Sources(flags: flags, environment: environment, file: fileReader, filePath: file.path)
        var report: [String] = []
        func value(_ key: String, default fallback: String?, secret: Bool = false) -> String? {
            let (value, source) = sources.lookup(key) ?? (fallback, "default")
            if let value { report.append("\(key) = \(secret ? "(secret)" : value) (\(source))") }
            return value
        }
        func address(_ key: String, default fallback: String) throws -> ListenAddress {
            try optionalAddress(key, default: fallback)!
        }
        func optionalAddress(_ key: String, default fallback: String?) throws -> ListenAddress? {
            guard let text = value(key, default: fallback) else { return nil }
            guard let address = ListenAddress(argument: text) else {
                throw SettingsError("\(key) is \"\(text)\", which is not HOST:PORT (e.g. 0.0.0.0:2222).")
            }
            return address
        }
        func number(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            let text = value(key, default: String(fallback))!
            guard let number = Int(text), range.contains(number) else {
                throw SettingsError("\(key) is \"\(text)\"; give a whole number from \(range.lowerBound) to \(range.upperBound).")
            }
            return number
        }
        func signInLimits() throws -> SignInLimits {
            var limits = SignInLimits()
            limits.failuresPerAccount = try number("web.sign-in-failures-per-account", default: limits.failuresPerAccount, range: 1...1000)
            limits.failuresPerAddress = try number("web.sign-in-failures-per-address", default: limits.failuresPerAddress, range: 1...100_000)
            return limits
        }
        func seconds(_ key: String, default fallback: Duration, range: ClosedRange<Int>) throws -> Duration {
            .seconds(try number(key, default: Int(fallback.components.seconds), range: range))
        }
        func sshLimits() throws -> SSHLimits {
            var limits = SSHLimits()
            limits.loginGrace = try seconds("ssh.login-grace-seconds", default: limits.loginGrace, range: 1...600)
            limits.maxAuthTries = try number("ssh.max-auth-tries", default: limits.maxAuthTries, range: 1...100)
            limits.maxUnauthenticated = try number("ssh.max-unauthenticated", default: limits.maxUnauthenticated, range: 1...100_000)
            limits.maxUnauthenticatedPerAddress = try number(
                "ssh.max-unauthenticated-per-address", default: limits.maxUnauthenticatedPerAddress, range: 1...100_000)
            limits.maxSessions = try number("ssh.max-sessions", default: limits.maxSessions, range: 1...1000)
            limits.idleTimeout = try seconds("ssh.idle-timeout-seconds", default: limits.idleTimeout, range: 10...604_800)
            limits.maxConnectionLifetime = try seconds(
                "ssh.max-connection-lifetime-seconds", default: limits.maxConnectionLifetime, range: 60...31_536_000)
            limits.channelWindow = try number("ssh.channel-window-kib", default: limits.channelWindow / 1024, range: 2048...65_536) * 1024
            return limits
        }
        func gitProcesses() throws -> GitProcessSlots.Limits {
            var limits = GitProcessSlots.Limits()
            limits.perNode = try number("git.max-processes", default: limits.perNode, range: 1...10_000)
            limits.perKey = try number("git.max-processes-per-key", default: limits.perKey, range: 1...10_000)
            limits.queueWait = try seconds("git.queue-seconds", default: limits.queueWait, range: 0...600)
            return limits
        }
        func flag(_ key: String, default fallback: Bool) throws -> Bool {
            let text = value(key, default: String(fallback))!
            // gatehouse.json's true and false arrive as 1 and 0.
            switch text.lowercased() {
            case "true", "1": return true
            case "false", "0": return false
            default: throw SettingsError("\(key) is \"\(text)\"; give true or false.")
            }
        }
        func secretToken(_ key: String) throws -> String? {
            guard let token = value(key, default: nil, secret: true) else { return nil }
            guard token.count >= 16 else { throw SettingsError("\(key) is too short to be a secret: give at least 16 characters.") }
            return token
        }
        func security(_ text: String) throws -> SMTPConfiguration.Security {
            guard let security = SMTPConfiguration.Security(rawValue: text) else {
                throw SettingsError("smtp.tls is \"\(text)\"; give starttls (the default) or none.")
            }
            return security
        }
        var settings = Settings(
            sshListen: try address("ssh.listen", default: "0.0.0.0:2222"),
            sshUser: value("ssh.user", default: "git")!,
            httpListen: try address("http.listen", default: "0.0.0.0:8080"),
            smtpHost: value("smtp.host", default: nil),
            smtpPort: try number("smtp.port", default: 25, range: 1...65535),
            smtpUser: value("smtp.user", default: nil),
            smtpPassword: value("smtp.password", default: nil, secret: true),
            smtpFrom: value("smtp.from", default: "gatehouse@localhost")!,
            smtpSecurity: try security(value("smtp.tls", default: "starttls")!),
            smtpTrustedCertificates: value("smtp.ca-file", default: nil),
            mailMaximumAttempts: try number("mail.max-attempts", default: 8, range: 1...100),
            mailKeepDays: try number("mail.keep-days", default: 30, range: 1...3650),
            maximumBodySize: try number(
                "http.max-body-kib", default: APIServer.defaultMaximumBodySize / 1024,
                range: 1...(APIServer.largestMaximumBodySize / 1024)) * 1024,
            httpIdleTimeout: try seconds("http.idle-timeout-seconds", default: APIServer.defaultIdleTimeout, range: 1...3600),
            trustForwardedHeaders: try flag("http.trust-forwarded-headers", default: false),
            metricsListen: try optionalAddress("metrics.listen", default: nil),
            metricsToken: try secretToken("metrics.token"),
            signInLimits: try signInLimits(),
            sshLimits: try sshLimits(),
            gitProcesses: try gitProcesses(),
            gitIdleTimeout: try seconds("git.idle-timeout-seconds", default: GitProcess.defaultIdleTimeout, range: 10...86_400),
            databaseBusyTimeout: try seconds("database.busy-timeout-seconds", default: StoreFactory.defaultBusyTimeout, range: 1...600),
            logLevel: value("log.level", default: "info")!)
        settings.report = report
        return settings
    }

    /// The places a setting can come from, in order.
    struct Sources {
        var flags: [String: String]
        var environment: [String: String]
        var file: ConfigReader
        var filePath: String

        func lookup(_ key: String) -> (String, String)? {
            if let flag = flags[key] { return (flag, "command line") }
            let variable = "GATEHOUSE_" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
            if let value = environment[variable], !value.isEmpty { return (value, "environment \(variable)") }
            let configKey = ConfigKey(key.split(separator: ".").map(String.init))
            if let text = file.string(forKey: configKey) { return (text, filePath) }
            if let number = file.int(forKey: configKey) { return (String(number), filePath) }
            return nil
        }
    }
}

struct SettingsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
