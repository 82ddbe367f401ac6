import Foundation
import GatehouseCore
import GatehouseHTTP
import Testing

@Suite("The OpenAPI document names what the server sends")
struct OpenAPIDocumentTests {
    @Test("every audit action the server records is one the document lists, and no other")
    func auditActions() throws {
        let document = try JSONSerialization.jsonObject(with: OpenAPIDocument.data) as? [String: Any]
        let schemas = (document?["components"] as? [String: Any])?["schemas"] as? [String: Any]
        let entry = (schemas?["AuditEntry"] as? [String: Any])?["properties"] as? [String: Any]
        let documented = (entry?["action"] as? [String: Any])?["enum"] as? [String]
        #expect(Set(documented ?? []) == Set(AuditAction.allCases.map(\.rawValue)))
    }
}
