import GatehouseCore

/// Lists of any length printed with bounded memory: read a window at a time, printed as it arrives.
enum ListPrinting {
    static let batch = 500

    /// Calls `print` with each window's items in order until the list ends; returns how many items there were.
    /// `cursor` gives an item's id for lists in id order: each window then starts after the last one's end instead
    /// of skipping what came before, so a list of any length costs the same per item.
    @discardableResult
    static func each<Item>(
        _ load: (ListWindow) async throws -> ListPage<Item>, cursor: ((Item) -> Int)? = nil, _ print: ([Item]) -> Void
    ) async throws -> Int {
        var count = 0
        var window = ListWindow(offset: 0, limit: batch)
        while true {
            let page = try await load(window)
            if !page.items.isEmpty { print(page.items) }
            count += page.items.count
            guard page.hasMore, let last = page.items.last else { break }
            window = ListWindow(offset: window.offset + batch, limit: batch, after: cursor?(last))
        }
        return count
    }

    /// `--json`: one JSON array whose elements are printed as they are read.
    static func jsonArray<Item>(
        _ load: (ListWindow) async throws -> ListPage<Item>, cursor: ((Item) -> Int)? = nil, _ element: (Item) -> String
    ) async throws {
        var first = true
        try await each(load, cursor: cursor) { items in
            for item in items {
                Swift.print((first ? "[\n" : ",\n") + element(item), terminator: "")
                first = false
            }
        }
        Swift.print(first ? "[]" : "\n]")
    }
}
