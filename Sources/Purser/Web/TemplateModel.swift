// Page models turned into dictionaries once, before rendering. Mustache looks every name up
// through the whole context stack, reflecting each struct on the way (Mirror, with a linear scan
// of its fields per lookup); on a queue page of fifty rows with their options that was four
// fifths of the page's CPU. Reflecting each value once and handing Mustache dictionaries (which
// it reads directly) renders the same page several times faster.
import Foundation

enum TemplateModel {
    static func flatten(_ value: Any) -> Any {
        switch value {
        case is String, is Bool, is Int, is Double, is Substring: return value
        case let array as [Any]: return array.map(flatten)
        case let dictionary as [String: Any]: return dictionary.mapValues(flatten)
        default: break
        }
        let mirror = Mirror(reflecting: value)
        switch mirror.displayStyle {
        case .optional:
            // A present optional stands for its value; an absent one is left out by its parent.
            return mirror.children.first.map { flatten($0.value) } ?? value
        case .collection, .set:
            return mirror.children.map { flatten($0.value) }
        case .struct, .class:
            var fields: [String: Any] = [:]
            for child in mirror.children {
                guard let label = child.label else { continue }
                let inner = Mirror(reflecting: child.value)
                if inner.displayStyle == .optional {
                    guard let wrapped = inner.children.first else { continue }
                    fields[label] = flatten(wrapped.value)
                } else {
                    fields[label] = flatten(child.value)
                }
            }
            return fields
        default:
            return value
        }
    }
}
