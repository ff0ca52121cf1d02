// What a template sees is exactly what its view model encodes. A model conforms to `TemplateModel`
// (Encodable): its stored properties through the synthesized conformance, anything computed through
// its own `encode(to:)`. `Templates` renders nothing else, so a page model that does not conform
// does not compile, and a value a template needs cannot hide in a computed property.
//
// The encoder writes Mustache's own shapes directly — `[String: Any]` for a keyed value, `[Any]` for
// a list, the scalars as themselves — once per render. Mustache reads dictionaries without
// reflection; looking names up by `Mirror` through the context stack was four fifths of the queue
// page's CPU, and reflecting each model once (the earlier flattening) is slower than this encoder,
// which never reflects at all (docs/performance.md).
import Foundation

/// A value a template renders: the page model of `Site.page`, the layout, an email's model.
public protocol TemplateModel: Encodable, Sendable {}

/// Turns an `Encodable` value into what Mustache reads: dictionaries, arrays and scalars.
/// An absent optional is left out of its parent, so `{{#name}}` and `{{^name}}` see it as missing.
enum TemplateEncoding {
    static func encode(_ value: some Encodable) -> Any {
        if let scalar = scalar(value) { return scalar }
        let encoder = ValueEncoder()
        do {
            try value.encode(to: encoder)
        } catch {
            // The encoder itself never throws; a model's own encode(to:) might. Rendering goes on without it.
            return [String: Any]()
        }
        return encoder.result
    }

    /// Scalars Mustache prints as they are (`String(describing:)`), and lists of strings, without an encoder.
    @inline(__always)
    static func scalar(_ value: some Encodable) -> Any? {
        switch value {
        case let string as String: return string
        case let bool as Bool: return bool
        case let int as Int: return int
        case let strings as [String]: return strings
        case let double as Double: return double
        case let int64 as Int64: return int64
        case let substring as Substring: return String(substring)
        default: return nil
        }
    }
}

/// One value being encoded: keyed (a struct), unkeyed (a list), or a single value.
private final class ValueEncoder: Encoder {
    enum Storage {
        case empty
        case keyed(KeyedStorage)
        case unkeyed(UnkeyedStorage)
        case single(Any)
    }

    var storage: Storage = .empty
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    var result: Any {
        switch storage {
        case .empty: return [String: Any]()
        case .keyed(let keyed): return keyed.value
        case .unkeyed(let unkeyed): return unkeyed.value
        case .single(let value): return value
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let keyed: KeyedStorage
        if case .keyed(let existing) = storage {
            keyed = existing
        } else {
            keyed = KeyedStorage()
            storage = .keyed(keyed)
        }
        return KeyedEncodingContainer(KeyedContainer<Key>(keyed))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let unkeyed: UnkeyedStorage
        if case .unkeyed(let existing) = storage {
            unkeyed = existing
        } else {
            unkeyed = UnkeyedStorage()
            storage = .unkeyed(unkeyed)
        }
        return UnkeyedContainer(unkeyed)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleContainer(self) }
}

/// A struct's fields; nested containers (rare: only a hand-written encode(to:) makes them) are
/// resolved when the value is read.
private final class KeyedStorage {
    var fields: [String: Any] = [:]
    var nested: [(String, ValueEncoder)] = []

    init() { fields.reserveCapacity(16) }

    var value: [String: Any] {
        guard !nested.isEmpty else { return fields }
        var all = fields
        for (key, encoder) in nested { all[key] = encoder.result }
        return all
    }
}

private final class UnkeyedStorage {
    var items: [Any] = []
    var nested: [(Int, ValueEncoder)] = []

    var value: [Any] {
        guard !nested.isEmpty else { return items }
        var all = items
        for (index, encoder) in nested { all[index] = encoder.result }
        return all
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let storage: KeyedStorage
    var codingPath: [any CodingKey] { [] }

    init(_ storage: KeyedStorage) { self.storage = storage }

    // Nil is absence: the key is left out, as an absent optional is.
    mutating func encodeNil(forKey key: Key) throws { storage.fields[key.stringValue] = nil }
    mutating func encode(_ value: Bool, forKey key: Key) throws { storage.fields[key.stringValue] = value }
    mutating func encode(_ value: String, forKey key: Key) throws { storage.fields[key.stringValue] = value }
    mutating func encode(_ value: Int, forKey key: Key) throws { storage.fields[key.stringValue] = value }
    mutating func encode(_ value: Double, forKey key: Key) throws { storage.fields[key.stringValue] = value }
    mutating func encode(_ value: Int64, forKey key: Key) throws { storage.fields[key.stringValue] = value }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        storage.fields[key.stringValue] = TemplateEncoding.encode(value)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let encoder = ValueEncoder()
        storage.nested.append((key.stringValue, encoder))
        return encoder.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let encoder = ValueEncoder()
        storage.nested.append((key.stringValue, encoder))
        return encoder.unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = ValueEncoder()
        storage.nested.append((key.stringValue, encoder))
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let storage: UnkeyedStorage
    var codingPath: [any CodingKey] { [] }
    var count: Int { storage.items.count }

    init(_ storage: UnkeyedStorage) { self.storage = storage }

    mutating func encodeNil() throws { storage.items.append(NSNull()) }
    mutating func encode(_ value: Bool) throws { storage.items.append(value) }
    mutating func encode(_ value: String) throws { storage.items.append(value) }
    mutating func encode(_ value: Int) throws { storage.items.append(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { storage.items.append(TemplateEncoding.encode(value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let encoder = placeholder()
        return encoder.container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { placeholder().unkeyedContainer() }

    mutating func superEncoder() -> any Encoder { placeholder() }

    private mutating func placeholder() -> ValueEncoder {
        let encoder = ValueEncoder()
        storage.nested.append((storage.items.count, encoder))
        storage.items.append(NSNull())
        return encoder
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { [] }

    init(_ encoder: ValueEncoder) { self.encoder = encoder }

    mutating func encodeNil() throws { encoder.storage = .single(NSNull()) }
    mutating func encode(_ value: Bool) throws { encoder.storage = .single(value) }
    mutating func encode(_ value: String) throws { encoder.storage = .single(value) }
    mutating func encode(_ value: Int) throws { encoder.storage = .single(value) }
    mutating func encode(_ value: Double) throws { encoder.storage = .single(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { encoder.storage = .single(TemplateEncoding.encode(value)) }
}
