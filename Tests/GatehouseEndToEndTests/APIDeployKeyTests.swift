import Foundation
import Testing

@Suite("REST API: deployment keys")
struct APIDeployKeyTests {
    @Test("a key added through the API has Bitbucket's shape, clones with git, and is refused once deleted through the API")
    func lifecycle() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let key = try await gatehouse.key()
            let path = "/2.0/repositories/acme/app/deploy-keys"

            let added = try await gatehouse.api.request("POST", path, auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "build server"}"#)
            #expect(added.status == 200, "\(added)")
            let object = added.json
            let id = try #require(object["id"].int)
            #expect(object["type"].string == "deploy_key")
            #expect(object["label"].string == "build server")
            #expect(object["comment"].string == "ed25519@tests")
            #expect(key.publicKey.hasPrefix(object["key"].string ?? "-"))
            #expect(object["fingerprint"].string == (try await key.fingerprint()))
            #expect(object["last_used"].isNull)
            #expect(object["added_on"].string?.isEmpty == false)
            #expect(object["repository"]["full_name"].string == "acme/app")
            #expect(object["repository"]["type"].string == "repository")
            #expect(object["repository"]["uuid"].string?.hasPrefix("{") == true)
            #expect(object["owner"]["username"].string == "olivia")
            #expect(object["links"]["self"]["href"].string == "\(gatehouse.api.base)\(path)/\(id)")

            let clone = try await gatehouse.git(["clone", gatehouse.url("acme/app"), gatehouse.scratch("clone").path], keys: [key])
            #expect(clone.succeeded, "\(clone)")

            let listed = try await gatehouse.api.request("GET", path, auth: auth)
            #expect(listed.status == 200)
            #expect(listed.json["values"].array.map { $0["id"].int } == [id])
            #expect(listed.json["size"].int == 1 && listed.json["page"].int == 1 && listed.json["pagelen"].int == 10)
            let fetched = try await gatehouse.api.request("GET", "\(path)/\(id)", auth: auth)
            #expect(fetched.status == 200 && fetched.json["last_used"].string != nil, "last_used is set by the clone: \(fetched)")

            let deleted = try await gatehouse.api.request("DELETE", "\(path)/\(id)", auth: auth)
            #expect(deleted.status == 204 && deleted.body.isEmpty, "\(deleted)")
            #expect(try await gatehouse.api.request("GET", "\(path)/\(id)", auth: auth).status == 404)
            let refused = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [key])
            #expect(!refused.succeeded)
        }
    }

    @Test("PUT changes the label only: the same key is accepted, a different key is refused")
    func editLabel() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.bearer(try await gatehouse.token("olivia"))
            let key = try await gatehouse.key()
            let other = try await gatehouse.key()
            let id = try #require(try await gatehouse.addDeployKey(key, to: ["acme/app"], label: "old").first?.id)
            let url = "/2.0/repositories/acme/app/deploy-keys/\(id)"

            let renamed = try await gatehouse.api.request("PUT", url, auth: auth, body: #"{"label": "new", "key": "\#(key.publicKey)"}"#)
            #expect(renamed.status == 200 && renamed.json["label"].string == "new", "\(renamed)")
            let swapped = try await gatehouse.api.request("PUT", url, auth: auth, body: #"{"label": "newer", "key": "\#(other.publicKey)"}"#)
            #expect(swapped.status == 400)
            #expect(swapped.errorMessage == "The key of a deployment key can't be changed; delete it and add the new key.", "\(swapped)")
            #expect(try await gatehouse.api.request("GET", url, auth: auth).json["label"].string == "new")
        }
    }

    /// Each refusal: what is sent, the status, and the start of the message the caller reads.
    static let refusals: [(name: String, body: String, contentType: String, status: Int, message: String)] = [
        (
            "private key pasted", #"{"label": "x", "key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----"}"#,
            "application/json", 400, "this is a private key; paste the contents of the .pub file"
        ),
        ("not a key", #"{"label": "x", "key": "hello"}"#, "application/json", 400, ""),
        ("DSA key", #"{"label": "x", "key": "ssh-dss AAAAB3NzaC1kc3MAAACBAP8="}"#, "application/json", 400, ""),
        ("malformed JSON", #"{"label": "x", "key": "#, "application/json", 400, "The request body is not valid JSON."),
        ("missing key", #"{"label": "x"}"#, "application/json", 400, "The field `key` is required."),
        ("missing label", #"{"key": "ssh-ed25519 AAAA"}"#, "application/json", 400, "The field `label` is required."),
        ("label not a string", #"{"key": "ssh-ed25519 AAAA", "label": 7}"#, "application/json", 400, "The field `label` must be a string."),
        (
            "over-long label", #"{"label": "\#(String(repeating: "l", count: 101))", "key": "$PUBLIC_KEY"}"#, "application/json", 400,
            "The label is longer than 100 characters."
        ),
        ("form instead of JSON", "label=x&key=y", "application/x-www-form-urlencoded", 415, "The request body must be JSON."),
        ("JSON array", "[]", "application/json", 400, ""),
    ]

    @Test("bad requests get a clear 4xx in Bitbucket's error shape and add nothing", arguments: refusals.indices)
    func refusesBadRequests(index: Int) async throws {
        let refusal = Self.refusals[index]
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let key = try await gatehouse.key()
            let body = refusal.body.replacingOccurrences(of: "$PUBLIC_KEY", with: key.publicKey)
            let response = try await gatehouse.api.request(
                "POST", "/2.0/repositories/acme/app/deploy-keys", auth: auth, body: body,
                contentType: refusal.contentType)
            #expect(response.status == refusal.status, "\(refusal.name): \(response)")
            #expect(response.json["type"].string == "error", "\(refusal.name): \(response)")
            #expect(response.errorMessage?.hasPrefix(refusal.message) == true && response.errorMessage?.isEmpty == false, "\(refusal.name): \(response)")
            #expect(try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app").isEmpty, "\(refusal.name)")
        }
    }

    @Test("Bitbucket's messages for a key already on the repository and a key registered to an account; unknown fields are ignored")
    func knownMessages() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let key = try await gatehouse.key()
            let path = "/2.0/repositories/acme/app/deploy-keys"
            let first = try await gatehouse.api.request("POST", path, auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "a", "colour": "blue"}"#)
            #expect(first.status == 200, "\(first)")
            let again = try await gatehouse.api.request("POST", path, auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "b"}"#)
            #expect(again.status == 400 && again.errorMessage == "Someone has already added that access key to this repository.", "\(again)")
            let account = try await gatehouse.api.request("POST", path, auth: auth, body: #"{"key": "\#(ownerKey.publicKey)", "label": "c"}"#)
            #expect(account.status == 400 && account.errorMessage == "Someone has already registered that SSH key.", "\(account)")
            #expect(!account.body.contains("olivia"))
        }
    }

    @Test(
        "a path asked with a method it does not take gets 405 naming the methods it does; an unknown path gets 404",
        arguments: [
            ("DELETE", "/2.0/hostkeys", "GET, HEAD"),
            ("PATCH", "/2.0/repositories/acme/app/deploy-keys", "GET, HEAD, POST"),
            ("POST", "/2.0/repositories/acme/app/deploy-keys/1", "GET, HEAD, PUT, DELETE"),
            ("DELETE", "/2.0/users/olivia/ssh-keys", "GET, HEAD, POST"),
            ("GET", "/2.0/repositories/acme/app/deploy-keys/1/extra", nil),
            ("POST", "/2.0/nothing-here", nil),
        ])
    func wrongMethod(method: String, path: String, allowed: String?) async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let response = try await gatehouse.api.request(method, path, auth: .basic("olivia", try await gatehouse.token("olivia")))
            if let allowed {
                #expect(response.status == 405 && response.headers["allow"] == allowed, "\(response)")
                #expect(response.errorMessage == "This path takes \(allowed) only.", "\(response)")
            } else {
                #expect(response.status == 404 && response.json["type"].string == "error", "\(response)")
            }
        }
    }

    @Test("a certificate authority is added with its principals (our addition), listed with them, and refused bad principals")
    func certificateAuthority() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let authority = try await gatehouse.key()
            let path = "/2.0/repositories/acme/app/deploy-keys"
            let added = try await gatehouse.api.request(
                "POST", path, auth: auth,
                body: #"{"key": "\#(authority.publicKey)", "label": "build CA", "certificate_principals": ["ci"]}"#)
            #expect(added.status == 200 && added.json["certificate_principals"][0].string == "ci", "\(added)")
            #expect(added.json["notice"].string?.contains("OpenSSH front end") == true, "\(added)")
            let listed = try await gatehouse.api.request("GET", path, auth: auth)
            #expect(listed.json["values"][0]["certificate_principals"].array.compactMap(\.string) == ["ci"], "\(listed)")

            let plain = try await gatehouse.key()
            let refused = try await gatehouse.api.request(
                "POST", path, auth: auth,
                body: #"{"key": "\#(plain.publicKey)", "label": "x", "certificate_principals": ["a\"b"]}"#)
            #expect(refused.status == 400 && refused.errorMessage?.hasPrefix("The principal") == true, "\(refused)")
            let none = try await gatehouse.api.request(
                "POST", path, auth: auth,
                body: #"{"key": "\#(plain.publicKey)", "label": "x", "certificate_principals": []}"#)
            #expect(none.status == 400 && none.errorMessage?.contains("at least one principal") == true, "\(none)")
            #expect(try await gatehouse.api.request("GET", path, auth: auth).json["size"].int == 1, "nothing added by the refusals")
        }
    }

    @Test("bodies over 64 KiB get 413 and bodies that are not UTF-8 get 400")
    func rawBodies() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let large = gatehouse.scratch("large")
            try Data(#"{"label": "x", "key": ""#.utf8 + Array(repeating: UInt8(ascii: "A"), count: 70 * 1024) + Array(#""}"#.utf8)).write(to: large)
            let tooLarge = try await gatehouse.api.request("POST", "/2.0/repositories/acme/app/deploy-keys", auth: auth, bodyFile: large)
            #expect(tooLarge.status == 413 && tooLarge.json["type"].string == "error", "\(tooLarge)")
            let latin1 = gatehouse.scratch("latin1")
            try Data(#"{"label": "caf"#.utf8 + [0xE9] + Array(#"", "key": "x"}"#.utf8)).write(to: latin1)
            let notUTF8 = try await gatehouse.api.request("POST", "/2.0/repositories/acme/app/deploy-keys", auth: auth, bodyFile: latin1)
            #expect(notUTF8.status == 400 && notUTF8.errorMessage == "The request body is not valid UTF-8.", "\(notUTF8)")
        }
    }

    @Test("pages follow ?page= and ?pagelen= with next and previous links; out-of-range values are refused")
    func pagination() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            for label in ["one", "two", "three"] { try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["acme/app"], label: label) }
            let path = "/2.0/repositories/acme/app/deploy-keys"
            let first = try await gatehouse.api.request("GET", "\(path)?pagelen=2", auth: auth)
            #expect(first.json["values"].array.map { $0["label"].string } == ["one", "two"])
            #expect(first.json["size"].int == 3 && first.json["pagelen"].int == 2 && !first.json["previous"].exists)
            let next = try #require(first.json["next"].string)
            // The link says where the page ended, so that following it costs the same however far in it goes.
            #expect(next.hasSuffix("?page=2&pagelen=2&after=\(try #require(first.json["values"].array.last?["id"].int))"), "\(next)")
            let second = try await gatehouse.api.request("GET", next, auth: auth)
            #expect(second.json["values"].array.map { $0["label"].string } == ["three"], "\(second)")
            #expect(second.json["page"].int == 2 && !second.json["next"].exists && second.json["previous"].string != nil)
            for query in ["pagelen=0", "pagelen=101", "page=0", "page=x"] {
                let refused = try await gatehouse.api.request("GET", "\(path)?\(query)", auth: auth)
                #expect(refused.status == 400 && refused.errorMessage?.contains("must be a whole number") == true, "\(query): \(refused)")
            }
        }
    }

    @Test("the shape of a user's script: curl -X POST -u user:token -H 'Content-Type: application/json' URL -d '{...}'")
    func userScript() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let token = try await gatehouse.token("olivia", scopes: [.repositoryAdmin])
            let key = try await gatehouse.key()
            let result = try await runCommand(
                "curl",
                [
                    "-s", "-X", "POST", "-u", "olivia:\(token)", "-H", "Content-Type: application/json",
                    "\(gatehouse.api.base)/2.0/repositories/acme/app/deploy-keys",
                    "-d", #"{"key":"\#(key.publicKey)","label":"deploy@web-1"}"#,
                ])
            #expect(result.succeeded, "\(result)")
            #expect(result.stdout.contains(#""label":"deploy@web-1""#), "\(result)")
            let stored = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            #expect(stored.map(\.label) == ["deploy@web-1"])
        }
    }
}
