// The email templates see what MailComposer's model encodes, as pages see their view models'
// (Web/TemplateModel.swift).
extension MailComposer.Model: TemplateModel {
    private enum CodingKeys: String, CodingKey {
        case subject, text, url, preferencesURL
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(subject, forKey: .subject)
        try container.encode(text, forKey: .text)
        try container.encodeIfPresent(url, forKey: .url)
        try container.encode(preferencesURL, forKey: .preferencesURL)
    }
}
