import Foundation
import GatehouseHTTP
import Testing

@Suite("REST API: the OpenAPI document")
struct OpenAPITests {
    @Test("every route the server has is documented, and nothing undocumented is served; /2.0/openapi.json serves the file")
    func everyRouteDocumented() async throws {
        try await TestGatehouse.with { gatehouse in
            let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? [String: Any])
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let documented = Set(paths.flatMap { path, operations in operations.keys.map { "\($0.uppercased()) \(path)" } })
            let served = Set(try gatehouse.data.apiServer(ssh: try gatehouse.data.sshEndpoint(port: gatehouse.port, user: "git")).registeredRoutes)
            #expect(served.count >= 17)
            #expect(documented == served, "undocumented: \(served.subtracting(documented)); not served: \(documented.subtracting(served))")
            let fetched = try await gatehouse.api.request("GET", "/2.0/openapi.json")
            #expect(fetched.status == 200 && fetched.headers["content-type"]?.hasPrefix("application/json") == true)
            #expect(Data(fetched.body.utf8) == OpenAPIDocument.data)
        }
    }

    @Test("schemathesis finds no server error and no response that breaks the document")
    func schemathesis() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["acme/app"], label: "existing")
            let token = try await gatehouse.token("olivia")
            let config = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Servers/schemathesis.toml").path
            let checks = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
            let result = try await runCommand(
                "schemathesis",
                [
                    "--config-file", config, "--no-color", "run", "\(gatehouse.api.base)/2.0/openapi.json", "--checks", checks,
                    "--header", "Authorization: Bearer \(token)", "--max-examples", "50", "--seed", "20261127",
                    // Random strings rarely make valid paths for some operations; that is about generation, not the API.
                    "--suppress-health-check", "filter_too_much",
                ], environment: ["SCHEMATHESIS_HOOKS": ""])
            #expect(result.succeeded, "\(result.stdout.suffix(6000))\n\(result.stderr.suffix(2000))")
            #expect(result.stdout.contains("passed"), "\(result.stdout.suffix(2000))")
        }
    }
}
