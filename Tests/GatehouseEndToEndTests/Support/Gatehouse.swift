import Foundation
import GatehouseApp
import GatehouseCore
import GatehouseGit
import GatehouseSSH
import Logging

/// A Gatehouse server on an ephemeral loopback port with its own data directory, driven by the real
/// `ssh` and `git`. Set-up goes through the same services the CLI uses.
final class TestGatehouse: @unchecked Sendable {
    let root: URL
    let data: DataDirectory
    let server: SSHServer
    /// The port clients connect to: the built-in server's, or the private sshd's.
    let port: Int
    /// The user name clients connect as.
    let sshUser: String
    /// The REST API, on its own ephemeral loopback port.
    let api: TestAPI
    private let sshd: TestSSHD?
    private let serverTask: Task<Void, any Error>

    private init(root: URL, data: DataDirectory, server: SSHServer, port: Int, sshUser: String, sshd: TestSSHD?, api: TestAPI) {
        self.root = root
        self.data = data
        self.server = server
        self.port = port
        self.sshUser = sshUser
        self.sshd = sshd
        self.api = api
        self.serverTask = Task { try await server.run() }
    }

    /// Starts a server (and, for the OpenSSH front end, a private sshd in front of it), runs `body`, and stops
    /// everything and removes its files whatever happens.
    /// `limits`, `gitProcesses` and `gitIdleTimeout` configure the built-in server (the OpenSSH front end has sshd's own).
    static func with(
        _ frontEnd: FrontEnd = .builtIn, limits: SSHLimits = SSHLimits(), gitProcesses: GitProcessSlots.Limits = .init(),
        gitIdleTimeout: Duration = GitProcess.defaultIdleTimeout, _ body: (TestGatehouse) async throws -> Void
    ) async throws {
        let root = try makeTemporaryDirectory("gatehouse-e2e")
        var logger = Logger(label: "gatehouse-test")
        logger.logLevel = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_TRACE"] != nil ? .trace : .warning
        let data = try await DataDirectory.open(root.appendingPathComponent("data").path, logger: logger, hookExecutable: try gatehouseBinary())
        let server = try data.sshServer(
            .init(host: "127.0.0.1", port: 0, user: "git", limits: limits, gitProcesses: gitProcesses), gitIdleTimeout: gitIdleTimeout)
        let builtInPort = try await server.bind()
        var sshd: TestSSHD?
        if frontEnd == .openSSH {
            // sshd logs in real users: the test runs as root, so root it is, with forced commands only.
            do {
                sshd = try await TestSSHD.start(gatehouseBinary: try gatehouseBinary(), data: data.url, user: "root")
            } catch {
                await server.stop()
                await data.close()
                throw error
            }
        }
        let sshPort = sshd?.port ?? builtInPort
        let api = try await TestAPI.start(try data.apiServer(ssh: try data.sshEndpoint(port: sshPort, user: "git")), logger: logger)
        let gatehouse = TestGatehouse(
            root: root, data: data, server: server, port: sshPort,
            sshUser: sshd == nil ? "git" : "root", sshd: sshd, api: api)
        do {
            try await body(gatehouse)
        } catch {
            await gatehouse.stop()
            throw error
        }
        await gatehouse.stop()
    }

    private func stop() async {
        await api.stop()
        await sshd?.stop()
        await server.stop()
        _ = await serverTask.result
        await data.close()
        try? FileManager.default.removeItem(at: root)
    }

    // MARK: Set-up through the services

    @discardableResult
    func user(_ name: String) async throws -> User {
        try await data.directory.addUser(username: name, email: "\(name)@example.com")
    }

    @discardableResult
    func workspace(_ slug: String, owner: String, seats: Int = 5) async throws -> Workspace {
        try await data.directory.addWorkspace(slug: slug, owner: owner, seatLimit: seats)
    }

    @discardableResult
    func repository(_ fullName: String, isPublic: Bool = false) async throws -> Repository {
        try await data.directory.createRepository(fullName, isPrivate: !isPublic)
    }

    func key(_ type: String = "ed25519", bits: Int? = nil) async throws -> KeyPair {
        let directory = root.appendingPathComponent("keys", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try await KeyPair.generate(type, bits: bits, in: directory)
    }

    @discardableResult
    func addDeployKey(_ key: KeyPair, to repositories: [String], label: String = "ci") async throws -> [DeployKey] {
        try await data.keys.addDeployKey(actor: .localOperator, repositories: repositories, label: label, keyText: key.publicKey)
    }

    func addAccountKey(_ key: KeyPair, user: String, label: String = "laptop") async throws {
        _ = try await data.keys.addAccountKey(actor: .localOperator, username: user, label: label, keyText: key.publicKey)
    }

    /// A new API token for `user` with `scopes` (all of them by default).
    func token(_ user: String, scopes: [TokenScope] = TokenScope.allCases) async throws -> String {
        try await data.tokens.create(actor: .localOperator, username: user, name: "test", scopes: scopes, expiresAt: nil).secret
    }

    /// A workspace `acme` owned by `owner` (with an account key) holding the given repositories,
    /// each with one commit on main pushed by the owner.
    func seeded(repositories: [String], owner: String = "olivia") async throws -> KeyPair {
        try await user(owner)
        try await workspace("acme", owner: owner)
        let ownerKey = try await key()
        try await addAccountKey(ownerKey, user: owner)
        for name in repositories {
            try await repository(name)
            try await pushCommit(to: name, with: ownerKey, file: "README.md", content: "\(name)\n")
        }
        return ownerKey
    }

    // MARK: Real clients

    /// The ssh command line git uses, with one or more identities and nothing from the user's configuration.
    /// `options` come first because ssh keeps the first value it sees for each option.
    func sshCommand(_ keys: [KeyPair], options: [String] = []) -> [String] {
        ["ssh"] + options + [
            "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", "IdentityAgent=none",
            "-p", String(port),
        ] + keys.flatMap { ["-i", $0.privateKeyPath] }
    }

    /// Runs `ssh [options] git@127.0.0.1 [command]`.
    func ssh(
        _ keys: KeyPair..., user: String? = nil, options: [String] = [], command: String? = nil, input: String? = nil
    ) async throws -> CommandResult {
        let line = sshCommand(keys, options: options) + ["\(user ?? sshUser)@127.0.0.1"] + (command.map { [$0] } ?? [])
        return try await runCommand(line[0], Array(line.dropFirst()), input: input)
    }

    /// Asks for `fullName`'s refs with `git-upload-pack` over ssh and ends the session at once (a flush packet):
    /// exit 0 with the refs on stdout when the session may run.
    func advertisement(_ fullName: String, key: KeyPair, options: [String] = []) async throws -> CommandResult {
        try await advertisement(fullName, keys: [key], options: options)
    }

    /// The same with several identities, offered in order.
    func advertisement(_ fullName: String, keys: [KeyPair], options: [String] = []) async throws -> CommandResult {
        let line = sshCommand(keys, options: options) + ["\(sshUser)@127.0.0.1", "git-upload-pack '\(fullName).git'"]
        return try await runCommand(line[0], Array(line.dropFirst()), input: "0000")
    }

    /// Runs git with GIT_SSH_COMMAND set to use `keys` against this server.
    func git(_ arguments: [String], keys: [KeyPair] = [], in directory: URL? = nil) async throws -> CommandResult {
        let sshCommand = sshCommand(keys).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
        let location = directory.map { ["-C", $0.path] } ?? []
        return try await runAsync("git", location + arguments, environment: ["GIT_SSH_COMMAND": sshCommand, "GIT_TERMINAL_PROMPT": "0"])
    }

    func url(_ fullName: String) -> String { "ssh://\(sshUser)@127.0.0.1:\(port)/\(fullName).git" }

    /// A scratch directory for clones.
    func scratch(_ name: String) -> URL { root.appendingPathComponent("work-\(name)-\(UUID().uuidString.prefix(6))") }

    /// Commits a file in a fresh local repository and pushes it to main.
    @discardableResult
    func pushCommit(to fullName: String, with key: KeyPair, file: String, content: String) async throws -> CommandResult {
        let local = scratch("push")
        try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
        for arguments in [["init", "-q", "-b", "main"], ["fetch", "-q", url(fullName), "main"]] {
            _ = try await git(arguments, keys: [key], in: local)
        }
        // Build on what is there when the repository already has commits.
        _ = try await git(["reset", "-q", "--soft", "FETCH_HEAD"], in: local)
        try content.write(to: local.appendingPathComponent(file), atomically: true, encoding: .utf8)
        _ = try await git(["add", file], in: local)
        _ = try await git(["commit", "-q", "-m", "Add \(file)"], in: local)
        return try await git(["push", url(fullName), "HEAD:refs/heads/main"], keys: [key], in: local)
    }

    /// The refs of a repository, read straight from its directory on disk.
    func refs(of fullName: String) async throws -> String {
        let repository = try await data.directory.requireRepository(fullName)
        let directory = data.repositories.directory(of: repository)
        return try await runAsync("git", ["--git-dir", directory.path, "for-each-ref"]).stdout
    }

    func runAsync(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> CommandResult {
        try await runCommand(executable, arguments, environment: environment)
    }
}
