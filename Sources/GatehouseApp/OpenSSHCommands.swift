import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseGit
import GatehouseKeys
import GatehouseStore
import Logging

private func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path, isDirectory: true).standardizedFileURL.path
}

/// A logger for commands whose output is for sshd or git: only what would stop the process.
var quietLogger: Logger {
    var logger = Logger(label: "gatehouse")
    logger.logLevel = .critical
    return logger
}

struct AuthorizedKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorized-keys",
        abstract: "For sshd's AuthorizedKeysCommand: print the forced-command line for a known key, nothing otherwise.",
        discussion: "sshd_config: AuthorizedKeysCommand /path/to/gatehouse authorized-keys --data DIR %u %t %k")
    @OptionGroup var options: DataOptions
    @Option(help: "The SSH user name Git clients connect as.") var sshUser = "git"
    @Argument(help: "The user sshd authenticates (%u).") var user: String
    @Argument(help: "The key type (%t).") var type: String
    @Argument(help: "The base64 key (%k).") var key: String

    func run() async throws {
        if let line = Self.line(user: user, type: type, key: key, sshUser: sshUser, data: options.data) { print(line) }
    }

    /// The line for sshd, or nil for an unknown user, an unparsable key or an unknown key (sshd then refuses it).
    /// For a certificate (`%t` is a `-cert-v01` type) the line trusts the authority that signed it, if that is a
    /// stored certificate authority; sshd then checks the signature, validity and principals itself.
    /// One read-only query through the fingerprint index (`KeyIndexLookup`); nothing is migrated or started.
    static func line(user: String, type: String, key: String, sshUser: String, data: String) -> String? {
        guard user == sshUser else { return nil }
        let database = DataDirectory.databaseLocation(URL(fileURLWithPath: data, isDirectory: true))
        func command(_ found: KeyIndexLookup.Found) -> String {
            AuthorizedKeysLine.shellCommand(executable: DataDirectory.executablePath(), dataDirectory: absolute(data), keyID: found.id)
        }
        if SSHCertificate.types[type] != nil {
            guard let certificate = try? SSHCertificate(type: type, base64: key),
                let found = try? KeyIndexLookup.key(fingerprint: certificate.signingKey.fingerprint, in: database),
                found.kind == .certificateAuthority
            else { return nil }
            return try? AuthorizedKeysLine.certificateAuthorityLine(
                forcedCommand: command(found), principals: found.principals,
                authority: certificate.signingKey)
        }
        guard let publicKey = try? PublicKey(parsing: "\(type) \(key)"),
            let found = try? KeyIndexLookup.key(fingerprint: publicKey.fingerprint, in: database),
            found.kind?.logsInWithItsOwnKey == true
        else { return nil }
        return try? AuthorizedKeysLine.line(forcedCommand: command(found), key: publicKey)
    }
}

/// sshd's AuthorizedKeysCommand, answered before the command-line parser and the async runtime start.
public enum AuthorizedKeysFastPath {
    /// Answers `authorized-keys [--data DIR] [--ssh-user USER] USER TYPE KEY`, the shape sshd_config uses;
    /// false for anything else (such as `--help`), which then takes the normal path.
    public static func run(_ arguments: [String]) -> Bool {
        guard arguments.count >= 5, arguments[1] == "authorized-keys" else { return false }
        var data = DataDirectory.defaultPath()
        var sshUser = "git"
        var positional: [String] = []
        var index = 2
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--data", "--ssh-user":
                guard index + 1 < arguments.count else { return false }
                if argument == "--data" { data = arguments[index + 1] } else { sshUser = arguments[index + 1] }
                index += 2
            default:
                if argument.hasPrefix("-") { return false }
                positional.append(argument)
                index += 1
            }
        }
        guard positional.count == 3 else { return false }
        if let line = AuthorizedKeysCommand.line(user: positional[0], type: positional[1], key: positional[2], sshUser: sshUser, data: data) { print(line) }
        return true
    }
}

struct ShellCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shell",
        abstract: "The forced command sshd runs for a Gatehouse key: decides SSH_ORIGINAL_COMMAND and execs git.")
    @OptionGroup var options: DataOptions
    @Option(help: "The stored key's id, as printed by authorized-keys.") var key: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let sourceIP = environment["SSH_CONNECTION"]?.split(separator: " ").first.map(String.init)
        guard let keyID = UUID(uuidString: key), let data = try await DataDirectory.openExisting(options.data, logger: quietLogger, watchChanges: true)
        else {
            Self.finish(.refusal("Gatehouse has no data at \(options.data); check the AuthorizedKeysCommand line in sshd_config."))
        }
        let running = RunningSessions(access: data.access)
        // Read before deciding: a change committed while the decision is made is decided again.
        let decidedAt = running.version()
        let principal = try await data.access.principal(keyID: keyID)
        let outcome: SessionOutcome =
            if let principal {
                await data.access.outcome(of: environment["SSH_ORIGINAL_COMMAND"], principal: principal, sourceIP: sourceIP)
            } else {
                .keyRemoved
            }
        guard case .git(let command) = outcome else { Self.finish(outcome) }
        if let warning = command.warning { FileHandle.standardError.write(Data(warning.utf8)) }
        guard let directory = try? data.repositories.resolvedDirectory(of: command.repository) else { Self.finish(.gitFailed(command.repository)) }
        let pid: pid_t
        do {
            pid = try GitExec.spawn(
                command, directory: directory, gitProtocol: environment["GIT_PROTOCOL"], hooks: data.repositories.hooks, sourceIP: sourceIP)
        } catch {
            Self.finish(.refusal(GatehouseError(error).callerMessage))
        }
        let watcher = Task { await running.watch() }
        let status: Int32
        do {
            status = try await running.run(key: .id(keyID), command: command, decidedAt: decidedAt) {
                await withTaskCancellationHandler {
                    await GitExec.exitStatus(of: pid)
                } onCancel: {
                    GitExec.stop(pid)
                }
            }
        } catch let ended as SessionEnded {
            FileHandle.standardError.write(Data(ended.reason.utf8))
            status = 1
        }
        watcher.cancel()
        await data.close()
        Foundation.exit(status)
    }

    /// Prints a message outcome on stderr and exits with its status.
    private static func finish(_ outcome: SessionOutcome) -> Never {
        guard case .message(let text, let exitStatus) = outcome else { Foundation.exit(1) }
        FileHandle.standardError.write(Data(text.utf8))
        Foundation.exit(exitStatus)
    }
}

struct SSHDConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sshd-config", abstract: "Print an sshd_config snippet that serves Gatehouse through OpenSSH.")
    @OptionGroup var options: DataOptions
    @Option(help: "The system user Git clients connect as (it must exist).") var sshUser = "git"

    func run() async throws {
        print(Self.snippet(executable: DataDirectory.executablePath(), dataDirectory: absolute(options.data), user: sshUser))
    }

    static func snippet(executable: String, dataDirectory: String, user: String) -> String {
        let command = [executable, "authorized-keys", "--data", dataDirectory, "--ssh-user", user].map(AuthorizedKeysLine.shellWord).joined(separator: " ")
        return """
            # Gatehouse: Git over OpenSSH for the user \(user). Keys come from Gatehouse, not from authorized_keys.
            Match User \(user)
                AuthorizedKeysFile none
                AuthorizedKeysCommand \(command) %u %t %k
                AuthorizedKeysCommandUser \(user)
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                AcceptEnv GIT_PROTOCOL
                PermitTTY no
                AllowTcpForwarding no
                AllowAgentForwarding no
                AllowStreamLocalForwarding no
                X11Forwarding no
                PermitTunnel no
            """
    }
}
