import Foundation
import GatehouseApp
import GatehouseCore
import Logging
import Subprocess
import SystemPackage
import Testing

@Suite("The gatehouse command line")
struct CLITests {
    @Test("the quickstart works end to end: set up, serve, clone with a deployment key, push refused")
    func quickstart() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = CLI(data: root.appendingPathComponent("data"), binary: try gatehouseBinary())
        let deployKey = try await KeyPair.generate("ed25519", in: root)
        let ownerKey = try await KeyPair.generate("ed25519", in: root)

        for step in [
            ["user", "add", "alice", "--email", "alice@example.com"],
            ["workspace", "add", "acme", "--owner", "alice", "--seats", "3"],
            ["repo", "create", "acme/website"],
            ["ssh-key", "add", "alice", "--label", "laptop", "--key-file", ownerKey.privateKeyPath + ".pub"],
            ["deploy-key", "add", "acme/website", "--label", "build server", "--key-file", deployKey.privateKeyPath + ".pub"],
        ] {
            let result = try await cli.run(step)
            #expect(result.succeeded, "\(step): \(result)")
        }
        let listed = try await cli("deploy-key", "list", "acme/website", "--json")
        let keys = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]]
        #expect(keys?.count == 1)
        let fingerprint = try await deployKey.fingerprint()
        #expect(keys?.first?["fingerprint"] as? String == fingerprint)
        #expect(keys?.first?["label"] as? String == "build server")

        let log = root.appendingPathComponent("serve.log")
        let status = try await withServer(binary: cli.binary, data: cli.data, log: log) { start in
            let port = start.sshPort
            let ssh = "ssh -F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o BatchMode=yes -p \(port)"
            let url = "ssh://git@127.0.0.1:\(port)/acme/website.git"
            let seed = root.appendingPathComponent("seed").path
            for step in [["init", "-q", "-b", "main", seed], ["-C", seed, "commit", "-q", "--allow-empty", "-m", "first"]] {
                #expect(try await runCommand("git", step).succeeded)
            }
            let push = try await runCommand(
                "git", ["-C", seed, "push", "-q", url, "main"], environment: ["GIT_SSH_COMMAND": "\(ssh) -i \(ownerKey.privateKeyPath)"])
            #expect(push.succeeded, "\(push)")
            let clone = root.appendingPathComponent("clone").path
            let cloned = try await runCommand("git", ["clone", "-q", url, clone], environment: ["GIT_SSH_COMMAND": "\(ssh) -i \(deployKey.privateKeyPath)"])
            #expect(cloned.succeeded, "\(cloned)")
            #expect(try await runCommand("git", ["-C", clone, "log", "--format=%s"]).stdout == "first\n")
            #expect(try await runCommand("git", ["-C", clone, "commit", "-q", "--allow-empty", "-m", "change"]).succeeded)
            let refused = try await runCommand(
                "git", ["-C", clone, "push", "-q", "origin", "main"], environment: ["GIT_SSH_COMMAND": "\(ssh) -i \(deployKey.privateKeyPath)"])
            #expect(!refused.succeeded)
            #expect(refused.stderr.contains("is read-only"), "\(refused)")
        }
        #expect(status == 0, "serve stops cleanly on SIGTERM")
        // One log line per Git operation: who, where, what, how much and how it ended.
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("git operation") }
        #expect(
            lines.contains {
                $0.contains("repository=acme/website") && $0.contains("service=upload-pack") && $0.contains("result=ok")
                    && $0.contains("bytes_sent=") && $0.contains("duration_ms=") && $0.contains("principal=deploy-key SHA256:")
            }, "\(lines)")
    }

    @Test(
        "refusals go to stderr with a non-zero exit and change nothing",
        arguments: [
            (["repo", "create", "acme/Bad Name"], "not a valid repository name"),
            (["repo", "create", "nowhere/app"], "No workspace named 'nowhere'"),
            (["deploy-key", "list", "acme/missing"], "not found"),
            (["deploy-key", "edit", "acme/app", "99", "--label", "x"], "No deployment key 99 on acme/app"),
            (["deploy-key", "add", "acme/app", "--label", "x", "--key-file", "/nonexistent.pub"], "Cannot read the key file"),
            (["user", "add", "bob", "--email", "not-an-address"], "is not an email address"),
            (["workspace", "member", "add", "acme", "ghost"], "No user named 'ghost'"),
        ])
    func refusals(arguments: [String], message: String) async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let before = try await cli("repo", "list", "--json").stdout + (try await cli("audit", "--json").stdout)
        let result = try await cli.run(arguments)
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr.contains(message), "\(result)")
        #expect(try await cli("repo", "list", "--json").stdout + (try await cli("audit", "--json").stdout) == before)
    }

    @Test("deploy-key reads the key from stdin, edits the label and removes the key")
    func deployKeyLifecycle() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        _ = try await cli("repo", "create", "acme/lib")
        let key = try await KeyPair.generate("ecdsa", in: root)
        let added = try await cli("deploy-key", "add", "acme/app", "acme/lib", "--label", "ci", "--key-file", "-", input: key.publicKey + "\r\n")
        #expect(added.succeeded, "\(added)")
        #expect(added.stdout.contains("to acme/app") && added.stdout.contains("to acme/lib"))
        let privateKey = try String(contentsOfFile: key.privateKeyPath, encoding: .utf8)
        let pasted = try await cli("deploy-key", "add", "acme/app", "--label", "oops", "--key-file", "-", input: privateKey)
        #expect(pasted.status == 1 && pasted.stderr.contains("this is a private key; paste the contents of the .pub file"), "\(pasted)")
        let edited = try await cli("deploy-key", "edit", "acme/app", "1", "--label", "jenkins")
        #expect(edited.succeeded && edited.stdout.contains("\"jenkins\""), "\(edited)")
        #expect(try await cli("deploy-key", "list", "acme/app").stdout.contains("jenkins"))
        #expect(try await cli("deploy-key", "remove", "acme/app", "1").succeeded)
        #expect(try await cli("deploy-key", "list", "acme/app").stdout.contains("has no deployment keys"))
        #expect(try await cli("deploy-key", "list", "acme/lib").stdout.contains("ci"))
        let conflict = try await cli("ssh-key", "add", "alice", "--label", "mine", "--key-file", key.privateKeyPath + ".pub")
        #expect(conflict.status == 1 && conflict.stderr.contains("already used as a deployment key"), "\(conflict)")
        let rsa = try await KeyPair.generate("rsa", bits: 3072, in: root)
        let rsaAdded = try await cli("deploy-key", "add", "acme/lib", "--label", "jenkins-rsa", "--key-file", rsa.privateKeyPath + ".pub")
        #expect(rsaAdded.succeeded && rsaAdded.stdout.contains("work through the OpenSSH front end"), "\(rsaAdded)")
        let audit = try await cli("audit")
        #expect(audit.stdout.contains("deploy_key.added") && audit.stdout.contains("deploy_key.renamed") && audit.stdout.contains("deploy_key.removed"))
    }

    @Test("--data before the subcommand, a token without a name, and --json in the API's representations")
    func conventions() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let first = try await runCommand(cli.binary, ["--data", cli.data.path, "user", "add", "bob", "--email", "bob@example.com"])
        #expect(first.succeeded && first.stdout.contains("Created user bob"), "\(first)")
        let users = try await cli("user", "list", "--json")
        let listed = try JSONSerialization.jsonObject(with: Data(users.stdout.utf8)) as? [[String: Any]]
        #expect(listed?.compactMap { $0["username"] as? String } == ["alice", "bob"], "\(users)")
        #expect(listed?.first?["type"] as? String == "user" && listed?.first?["display_name"] as? String == "alice", "\(users)")

        let token = try await cli("token", "create", "alice", "--scope", "repository")
        #expect(token.succeeded && token.stderr.contains("\"API token\""), "\(token)")
        let repositories = try await cli("repo", "list", "--json")
        let parsed = try JSONSerialization.jsonObject(with: Data(repositories.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["full_name"] as? String == "acme/app" && parsed?.first?["is_private"] as? Bool == true, "\(repositories)")
    }

    @Test("deploy-key add --repos attaches to every match of a glob; deploy-key where lists each attachment; write rules are shown")
    func fleetCommands() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        _ = try await cli("repo", "create", "acme/web-shop")
        _ = try await cli("repo", "create", "acme/web-blog")
        let key = try await KeyPair.generate("ed25519", in: root)
        let added = try await cli(
            "deploy-key", "add", "acme/app", "--repos", "acme/web-*", "--label", "jenkins", "--key-file", key.privateKeyPath + ".pub",
            "--write", "refs/tags/v*:create")
        #expect(added.succeeded && added.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("Added") }.count == 3, "\(added)")
        #expect(added.stdout.contains("write (create refs/tags/v*)"), "\(added)")
        let found = try await cli("deploy-key", "where", "--key-file", key.privateKeyPath + ".pub")
        #expect(found.succeeded, "\(found)")
        for name in ["acme/app", "acme/web-shop", "acme/web-blog"] { #expect(found.stdout.contains(name), "\(found)") }
        let json = try await cli("deploy-key", "where", try await key.fingerprint(), "--json")
        let usage = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((usage?["repositories"] as? [Any])?.count == 3, "\(json)")
        let badRule = try await cli("deploy-key", "edit", "acme/app", "1", "--write", "v*")
        #expect(badRule.status == 1 && badRule.stderr.contains("refs/tags/v*"), "\(badRule)")
    }

    @Test("host-keys prints fingerprints and known_hosts lines for the given host and port")
    func hostKeys() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = CLI(data: root.appendingPathComponent("data"), binary: try gatehouseBinary())
        let result = try await cli("host-keys", "--host", "git.example.com", "--port", "2222")
        #expect(result.succeeded)
        #expect(result.stdout.contains("[git.example.com]:2222 ssh-ed25519 AAAA"))
        #expect(result.stdout.contains("[git.example.com]:2222 ecdsa-sha2-nistp256 AAAA"))
        #expect(result.stdout.contains("SHA256:"))
        let again = try await cli("host-keys", "--host", "git.example.com", "--port", "22")
        #expect(again.stdout.contains("\ngit.example.com ssh-ed25519 AAAA"))
    }

    @Test("authorized-keys prints one forced-command line for a known key and nothing for anything else")
    func authorizedKeys() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        for (type, bits) in [("ed25519", 0), ("ecdsa", 256), ("rsa", 3072)] {
            let key = try await KeyPair.generate(type, bits: bits == 0 ? nil : bits, in: root)
            #expect(try await cli("deploy-key", "add", "acme/app", "--label", type, "--key-file", key.privateKeyPath + ".pub").succeeded)
            let fields = key.publicKey.split(separator: " ").map(String.init)
            let result = try await cli("authorized-keys", "git", fields[0], fields[1])
            #expect(result.succeeded && result.stderr.isEmpty, "\(result)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix("command=\"") == true)
            #expect(result.stdout.contains(" shell --data \(cli.data.path) --key "), "\(result)")
            #expect(lines.first?.hasSuffix("\",restrict \(fields[0]) \(fields[1])") == true, "\(result)")
        }
        let known = try await KeyPair.generate("ed25519", in: root)
        #expect(try await cli("deploy-key", "add", "acme/app", "--label", "known", "--key-file", known.privateKeyPath + ".pub").succeeded)
        let knownFields = known.publicKey.split(separator: " ").map(String.init)
        let stranger = try await KeyPair.generate("ed25519", in: root).publicKey.split(separator: " ").map(String.init)
        for arguments in [
            ["git", stranger[0], stranger[1]],  // unknown key
            ["root", knownFields[0], knownFields[1]],  // not the Git user
            ["git", knownFields[0], knownFields[1] + "\nssh-rsa AAAA"],  // a second line smuggled in
            ["git", "ssh-dss", knownFields[1]],
        ] {  // wrong type for the blob
            let result = try await cli.run(["authorized-keys"] + arguments)
            #expect(result.succeeded && result.stdout.isEmpty, "\(arguments): \(result)")
        }
        // A certificate: the line trusts its signing authority for the stored principals; the authority's key alone gets nothing.
        let authority = try await KeyPair.generate("ed25519", in: root)
        let trusted = try await cli(
            "deploy-key", "add", "acme/app", "--label", "build CA", "--key-file", authority.privateKeyPath + ".pub",
            "--certificate-principal", "ci", "--certificate-principal", "release")
        #expect(trusted.succeeded && trusted.stdout.contains("Added certificate authority") && trusted.stdout.contains("OpenSSH front end"), "\(trusted)")
        let machine = try await KeyPair.generate("ed25519", in: root)
        #expect(try await runCommand("ssh-keygen", ["-q", "-s", authority.privateKeyPath, "-I", "m", "-n", "ci", machine.privateKeyPath + ".pub"]).succeeded)
        let certificate = try String(contentsOfFile: machine.privateKeyPath + "-cert.pub", encoding: .utf8).split(separator: " ").map(String.init)
        let certified = try await cli("authorized-keys", "git", certificate[0], certificate[1])
        let authorityFields = authority.publicKey.split(separator: " ").map(String.init)
        #expect(
            certified.stdout.split(separator: "\n").count == 1 && certified.stdout.hasPrefix("cert-authority,principals=\"ci,release\",command=\""),
            "\(certified)")
        #expect(certified.stdout.hasSuffix(",restrict \(authorityFields[0]) \(authorityFields[1])\n"), "\(certified)")
        #expect(try await cli("authorized-keys", "git", authorityFields[0], authorityFields[1]).stdout.isEmpty, "the authority's key is no login key")
        #expect(try await cli("deploy-key", "list", "acme/app").stdout.contains("certificate authority (ssh-ed25519) for ci,release"))
        let unprincipled = try await cli(
            "deploy-key", "add", "acme/app", "--label", "bad", "--key-file", machine.privateKeyPath + ".pub",
            "--certificate-principal", "a,b")
        #expect(!unprincipled.succeeded && unprincipled.stderr.contains("The principal \"a,b\" is not allowed"), "\(unprincipled)")

        // No database there (yet): nothing, and nothing created.
        let nowhere = root.appendingPathComponent("nowhere").path
        let empty = try await runCommand(cli.binary, ["authorized-keys", "--data", nowhere, "git", knownFields[0], knownFields[1]])
        #expect(empty.succeeded && empty.stdout.isEmpty && !FileManager.default.fileExists(atPath: nowhere), "\(empty)")
        // Anything but sshd's shape goes through the ordinary parser.
        let help = try await runCommand(cli.binary, ["authorized-keys", "--help"])
        #expect(help.stdout.contains("AuthorizedKeysCommand"), "\(help)")
    }

    @Test("the shell forced command refuses a key that is gone, and sshd-config prints a working snippet")
    func shellAndSSHDConfig() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let gone = try await cli("shell", "--key", "F038BFF1-8092-4826-AA4D-2F095496437A")
        #expect(gone.status == 1 && gone.stderr.contains("no longer registered"), "\(gone)")
        let snippet = try await cli("sshd-config")
        #expect(snippet.succeeded)
        #expect(snippet.stdout.contains("Match User git"))
        #expect(snippet.stdout.contains("AuthorizedKeysCommand \(cli.binary) authorized-keys --data \(cli.data.path) --ssh-user git %u %t %k"), "\(snippet)")
        #expect(snippet.stdout.contains("AcceptEnv GIT_PROTOCOL"))
        #expect(snippet.stdout.contains("PasswordAuthentication no"))
    }

    @Test("serve reads settings from flags, then GATEHOUSE_* variables, then gatehouse.json, then defaults, and says which")
    func settingsSources() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        try #"{"ssh": {"user": "deploy"}, "smtp": {"host": "127.0.0.1", "port": 2525, "from": "file@example.com", "password": "hunter2"}}"#
            .write(to: cli.data.appendingPathComponent("gatehouse.json"), atomically: true, encoding: .utf8)
        let status = try await withServer(binary: cli.binary, data: cli.data, environment: ["GATEHOUSE_SMTP_FROM": "env@example.com"]) { start in
            let banner = start.banner
            for line in [
                "Setting: ssh.user = deploy (\(cli.data.path)/gatehouse.json)",
                "Setting: smtp.port = 2525 (\(cli.data.path)/gatehouse.json)",
                "Setting: smtp.from = env@example.com (environment GATEHOUSE_SMTP_FROM)",
                "Setting: log.level = warning (command line)",
                "Setting: http.listen = 127.0.0.1:0 (command line)",
                "Setting: mail.max-attempts = 8 (default)",
                "Setting: smtp.password = (secret)",
            ] {
                #expect(banner.contains(line), "missing \(line) in \(banner)")
            }
            #expect(!banner.contains("hunter2"))
            #expect(banner.contains("(user deploy)"))
        }
        #expect(status == 0)

        try "{not json".write(to: cli.data.appendingPathComponent("gatehouse.json"), atomically: true, encoding: .utf8)
        let broken = try await cli("serve", "--ssh", "127.0.0.1:0", "--http", "127.0.0.1:0")
        #expect(!broken.succeeded && broken.stderr.contains("gatehouse.json is not valid JSON"), "\(broken)")
    }

    @Test("serve takes its limits from the settings: request body size and failed sign-ins per account")
    func limitSettings() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        #expect(try await cli("user", "passwd", "alice", input: "correct horse battery\n").succeeded)
        let secret = try await cli("token", "create", "alice", "limits", "--scope", "repository:admin").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try #"{"http": {"max-body-kib": 1}}"#.write(to: cli.data.appendingPathComponent("gatehouse.json"), atomically: true, encoding: .utf8)
        let environment = ["GATEHOUSE_WEB_SIGN_IN_FAILURES_PER_ACCOUNT": "2"]
        let status = try await withServer(binary: cli.binary, data: cli.data, environment: environment) { start in
            #expect(start.banner.contains("Setting: http.max-body-kib = 1 (\(cli.data.path)/gatehouse.json)"), "\(start.banner)")
            #expect(start.banner.contains("Setting: web.sign-in-failures-per-account = 2 (environment GATEHOUSE_WEB_SIGN_IN_FAILURES_PER_ACCOUNT)"))
            #expect(start.banner.contains("Setting: web.sign-in-failures-per-address = 20 (default)"))
            let base = "http://127.0.0.1:\(start.httpPort)"

            let label = String(repeating: "x", count: 1100)
            let large = try await runCommand(
                "curl",
                [
                    "-s", "-w", "\n%{http_code}", "-u", "alice:\(secret)", "-H", "Content-Type: application/json",
                    base + "/2.0/repositories/acme/app/deploy-keys", "-d", #"{"label": "\#(label)", "key": "x"}"#,
                ])
            #expect(large.stdout.hasSuffix("\n413") && large.stdout.contains("larger than 1 KiB") && large.stdout.contains("http.max-body-kib"), "\(large)")

            let browser = WebTests.Browser(base: base, jar: root.appendingPathComponent("cookies"))
            let csrf = try #require(browser.csrf(from: try await browser.get("/login")))
            for attempt in 1...2 {
                let wrong = try await browser.post("/login", ["username": "alice", "password": "wrong \(attempt)", "csrf": csrf])
                #expect(wrong.status == 401, "\(wrong.status)")
            }
            let limited = try await browser.post("/login", ["username": "alice", "password": "correct horse battery", "csrf": csrf])
            #expect(limited.status == 429, "the third try is refused, as the setting says")
        }
        #expect(status == 0)
        let outOfRange = try await runCommand(
            cli.binary, ["serve", "--ssh", "127.0.0.1:0", "--http", "127.0.0.1:0", "--data", cli.data.path],
            environment: ["GATEHOUSE_HTTP_MAX_BODY_KIB": "0"])
        #expect(!outOfRange.succeeded && outOfRange.stderr.contains(#"http.max-body-kib is "0"; give a whole number from 1 to 1024"#), "\(outOfRange)")
    }

    @Test("token create prints a token once that the API accepts; token list shows it without the secret; token revoke ends it")
    func tokens() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let created = try await cli(
            "token", "create", "alice", "deploy script", "--scope", "repository:admin", "--scope", "account",
            "--expires", "2099-12-31")
        #expect(created.succeeded, "\(created)")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("ght_") && !secret.contains(" "))
        #expect(created.stderr.contains("shown only now"))
        let listed = try await cli("token", "list", "alice")
        #expect(listed.stdout.contains("deploy script") && listed.stdout.contains("account,repository:admin") && !listed.stdout.contains(secret), "\(listed)")
        let id = try #require(listed.stdout.split(separator: "\t").first.map(String.init))

        let log = root.appendingPathComponent("serve.log")
        let status = try await withServer(binary: cli.binary, data: cli.data, log: log) { start in
            let url = "http://127.0.0.1:\(start.httpPort)/2.0/user"
            let me = try await runCommand("curl", ["-s", "-u", "alice:\(secret)", url])
            #expect(me.stdout.contains(#""username":"alice""#), "\(me)")
            let revoked = try await cli("token", "revoke", "alice", id)
            #expect(revoked.succeeded, "\(revoked)")
            let after = try await runCommand("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:\(secret)", url])
            #expect(after.stdout == "401")
        }
        #expect(status == 0)
        // One log line per API request, with the route pattern, status and caller.
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").filter { $0.contains("api request") }
        #expect(lines.contains { $0.contains("route=/2.0/user") && $0.contains("status=200") && $0.contains("actor=alice") }, "\(lines)")
        #expect(lines.contains { $0.contains("status=401") && $0.contains("actor=anonymous") }, "\(lines)")

        let refusals: [([String], String)] = [
            (["token", "create", "alice", "x"], "at least one scope"),
            (["token", "create", "alice", "x", "--scope", "repository", "--expires", "2001-01-01"], "in the past"),
            (["token", "create", "alice", "x", "--scope", "repository", "--expires", "soon"], "is not a date"),
            (["token", "create", "nobody", "x", "--scope", "repository"], "No user named 'nobody'"),
            (["token", "revoke", "alice", "not-a-uuid"], "is not a token id"),
        ]
        for (arguments, message) in refusals {
            let result = try await cli.run(arguments)
            #expect(!result.succeeded && result.stderr.contains(message), "\(arguments): \(result)")
        }
    }

    @Test("a running server answers repeated reads from its cache only until anything changes, even in another process")
    func cacheFollowsOtherProcesses() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let created = try await cli("token", "create", "alice", "poller", "--scope", "repository:admin")
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tokenID = try #require(try await cli("token", "list", "alice").stdout.split(separator: "\t").first.map(String.init))
        let key = try await KeyPair.generate("ed25519", in: root)

        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let base = "http://127.0.0.1:\(start.httpPort)"
            func labels() async throws -> String {
                let listed = try await runCommand(
                    "curl", ["-s", "-w", " %{http_code}", "-u", "alice:\(secret)", base + "/2.0/repositories/acme/app/deploy-keys"])
                let status = String(listed.stdout.split(separator: " ").last ?? "")
                guard status == "200" else { return status }
                let page = try JSONSerialization.jsonObject(with: Data(listed.stdout.dropLast(4).utf8)) as? [String: Any]
                return ((page?["values"] as? [[String: Any]]) ?? []).compactMap { $0["label"] as? String }.joined(separator: ",")
            }
            #expect(try await labels() == "")
            #expect(try await labels() == "")
            let metrics = try await runCommand("curl", ["-s", base + "/metrics"]).stdout
            #expect(metrics.contains("gatehouse_api_cache_hits_total"), "the second read was served from the cache")

            #expect(try await cli("deploy-key", "add", "acme/app", "--label", "from the CLI", "--key-file", key.privateKeyPath + ".pub").succeeded)
            #expect(try await labels() == "from the CLI")
            #expect(try await cli("deploy-key", "edit", "acme/app", "1", "--label", "renamed").succeeded)
            #expect(try await labels() == "renamed")
            #expect(try await cli("deploy-key", "remove", "acme/app", "1").succeeded)
            #expect(try await labels() == "")
            #expect(try await cli("token", "revoke", "alice", tokenID).succeeded)
            #expect(try await labels() == "401")
        }
        #expect(status == 0)
    }

    @Test("with metrics.listen and metrics.token, /metrics is served only on its own address and only with the token; with the token alone, on the API's")
    func metricsApart() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let environment = ["GATEHOUSE_METRICS_LISTEN": "127.0.0.1:0", "GATEHOUSE_METRICS_TOKEN": "scrape-secret-0001"]
        let status = try await withServer(binary: cli.binary, data: cli.data, environment: environment) { start in
            #expect(start.banner.contains("metrics.token = (secret)") && !start.banner.contains("scrape-secret-0001"), "\(start.banner)")
            let metricsPort = try #require(start.metricsPort, "\(start.banner)")
            func status(_ port: Int, _ headers: [String] = []) async throws -> String {
                try await runCommand("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + headers + ["http://127.0.0.1:\(port)/metrics"]).stdout
            }
            #expect(try await status(start.httpPort, ["-H", "Authorization: Bearer scrape-secret-0001"]) == "404")
            #expect(try await status(metricsPort) == "401")
            #expect(try await status(metricsPort, ["-H", "Authorization: Bearer scrape-secret-0002"]) == "401")
            let scraped = try await runCommand(
                "curl", ["-s", "-H", "Authorization: Bearer scrape-secret-0001", "http://127.0.0.1:\(metricsPort)/metrics"])
            #expect(scraped.stdout.contains("gatehouse_"), "\(scraped)")
        }
        #expect(status == 0)
        // With the token alone, /metrics stays on the API's address, and its Bearer token is not taken for an API token.
        let alone = try await withServer(binary: cli.binary, data: cli.data, environment: ["GATEHOUSE_METRICS_TOKEN": "scrape-secret-0001"]) {
            start in
            let base = "http://127.0.0.1:\(start.httpPort)/metrics"
            let refused = try await runCommand("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", base])
            let scraped = try await runCommand("curl", ["-s", "-H", "Authorization: Bearer scrape-secret-0001", base])
            #expect(refused.stdout == "401", "\(refused)")
            #expect(scraped.stdout.contains("gatehouse_"), "\(scraped)")
        }
        #expect(alone == 0)
    }

    @Test("serve refuses a busy address with the setting to change, and exits instead of serving half of itself")
    func busyAddress() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let other = root.appendingPathComponent("other").path
            for (flag, port, setting) in [("--http", start.httpPort, "http.listen"), ("--ssh", start.sshPort, "ssh.listen")] {
                var arguments = ["serve", "--data", other, "--ssh", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", "critical"]
                arguments[arguments.firstIndex(of: flag)! + 1] = "127.0.0.1:\(port)"
                let second = try await runCommand(cli.binary, arguments)
                #expect(second.status == 1, "\(setting): \(second)")
                #expect(second.stderr.contains("Cannot listen on 127.0.0.1:\(port) (\(setting)): the address is already in use."), "\(second)")
            }
        }
        #expect(status == 0)
    }

    @Test("deploy-key list prints a list longer than one batch whole and in order, as text and as one JSON array")
    func longList() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        let count = 1_203
        var logger = Logger(label: "gatehouse-test")
        logger.logLevel = .warning
        let directory = try await DataDirectory.open(cli.data.path, logger: logger)
        for index in 1...count {
            // Any 32 bytes make a well-formed ed25519 public key, which is all a listed key needs to be.
            let blob = Self.sshString(Array("ssh-ed25519".utf8)) + Self.sshString((0..<32).map { _ in UInt8.random(in: 0...255) })
            _ = try await directory.keys.addDeployKey(
                actor: .localOperator, repositories: ["acme/app"], label: "machine \(index)",
                keyText: "ssh-ed25519 \(Data(blob).base64EncodedString())")
        }
        await directory.close()

        let text = try await cli("deploy-key", "list", "acme/app")
        let labels = text.stdout.split(separator: "\n").map { $0.split(separator: "\t")[1] }
        #expect(text.succeeded && labels == (1...count).map { "machine \($0)"[...] }, "\(text.stderr)")
        let json = try await cli("deploy-key", "list", "acme/app", "--json")
        let keys = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(keys?.map { $0["label"] as? String } == (1...count).map { "machine \($0)" })
    }

    static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt32(bytes.count).bigEndian, Array.init) + bytes
    }

    @Test("SIGTERM stops a server at once: the scheduled work and the mail relay do not sit out their wait first")
    func stopsAtOnce() async throws {
        let root = try makeTemporaryDirectory("gatehouse-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let cli = try await CLI.withWorkspace(in: root)
        var signalled = ContinuousClock.now
        // With SMTP set, the relay polls the outbox every few seconds; the scheduled work waits 30 s between rounds.
        let status = try await withServer(
            binary: cli.binary, data: cli.data, environment: ["GATEHOUSE_SMTP_HOST": "127.0.0.1", "GATEHOUSE_SMTP_PORT": "9"]
        ) { start in
            let answered = try await runCommand("curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(start.httpPort)/2.0/hostkeys"])
            #expect(answered.stdout == "200")
            signalled = ContinuousClock.now
        }
        let stopping = ContinuousClock.now - signalled
        #expect(status == 0)
        #expect(stopping < .seconds(5), "it took \(stopping) to stop (30 s when the scheduled work finished its wait)")
    }
}
