import ArgumentParser
import Foundation
import GatehouseCore
import GatehouseGit
import Logging
import Subprocess

/// Git's `pre-receive` and `post-receive` for pushes of write-enabled deployment keys (see `GitHooks`): git runs
/// them with the ref updates on standard input and the pushing key in variables the server set.
struct HookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hook", abstract: "Run by git for deployment keys' pushes: checks (pre-receive) and audits (post-receive) each ref.",
        shouldDisplay: false)
    @Argument(help: "pre-receive or post-receive.") var name: String

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let data = environment["GATEHOUSE_DATA"], let key = environment["GATEHOUSE_HOOK_KEY"].flatMap(UUID.init(uuidString:)),
            let repository = environment["GATEHOUSE_HOOK_REPOSITORY"], GitHooks.names.contains(name)
        else {
            // Without the server's variables nothing can be checked: refuse (pre-receive) rather than let it through.
            Self.fail("ERROR: this push cannot be checked (the hook ran without Gatehouse's settings); nothing was written.")
        }
        let sourceIP = environment["GATEHOUSE_HOOK_SOURCE_IP"].flatMap { $0.isEmpty ? nil : $0 }
        guard let directory = try await DataDirectory.openExisting(data, logger: quietLogger) else {
            Self.fail("ERROR: Gatehouse has no data at \(data); nothing was written.")
        }
        let changes = try await Self.readChanges()
        do {
            if name == "pre-receive" {
                let refusal = try await directory.access.checkPush(
                    keyID: key, repository: repository, updates: changes.map(\.update), sourceIP: sourceIP)
                await directory.close()
                if let refusal { Self.fail(refusal) }
            } else {
                try await directory.access.recordPush(keyID: key, repository: repository, changes: changes, sourceIP: sourceIP)
                await directory.close()
            }
        } catch {
            await directory.close()
            Self.fail(
                name == "pre-receive"
                    ? "ERROR: The server could not check this push; nothing was written. Try again."
                    : "warning: the push went through, but its audit entries could not be written; tell the operator.")
        }
    }

    /// `OLD NEW REF` lines, each with the operation it amounts to (a fast-forward or not, asked of git).
    static func readChanges() async throws -> [RefChange] {
        var changes: [RefChange] = []
        while let line = readLine() {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 3 else { continue }
            let (old, new, ref) = (fields[0], fields[1], fields[2])
            let operation: RefOperation
            if old.allSatisfy({ $0 == "0" }) {
                operation = .create
            } else if new.allSatisfy({ $0 == "0" }) {
                operation = .delete
            } else {
                // The hook runs inside receive-pack's environment, so git sees the pushed objects (quarantine).
                let result = try await Subprocess.run(
                    .name("git"), arguments: ["merge-base", "--is-ancestor", old, new], environment: .inherit, output: .discarded,
                    error: .discarded)
                operation = result.terminationStatus.isSuccess ? .update : .force
            }
            changes.append(RefChange(update: RefUpdate(ref: ref, operation: operation), old: old, new: new))
        }
        return changes
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
        Foundation.exit(1)
    }
}
