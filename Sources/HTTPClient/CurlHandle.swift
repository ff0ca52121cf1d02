// One curl easy handle per thread, reset and reused so connections and TLS sessions are kept.
import CCurl
import CCurlShim
import Foundation

final class CurlHandle {
    private let handle: UnsafeMutableRawPointer

    private init() {
        handle = curl_easy_init()!
    }

    deinit { curl_easy_cleanup(handle) }

    static func forCurrentThread() -> CurlHandle {
        let key = "purser.curl-handle"
        if let existing = Thread.current.threadDictionary[key] as? CurlHandle { return existing }
        let created = CurlHandle()
        Thread.current.threadDictionary[key] = created
        return created
    }

    /// Collects the body (up to a limit) and header lines of one transfer.
    final class Sink {
        var body: [UInt8] = []
        var headers: [(name: String, value: String)] = []
        let limit: Int
        var exceeded = false
        /// Streaming: each piece goes here as it arrives instead of into `body`; false stops reading.
        var stream: ((UnsafeRawBufferPointer) -> Bool)?
        var received = 0
        var stopped = false
        init(limit: Int) { self.limit = limit }
    }

    func perform(
        _ request: ClientRequest, options: HTTPClient.Options, stream: ((UnsafeRawBufferPointer) -> Bool)? = nil
    ) throws -> ClientResponse {
        curl_easy_reset(handle)
        let sink = Sink(limit: options.maxResponseBytes)
        sink.stream = stream
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        var resolveList: UnsafeMutablePointer<curl_slist>?
        defer {
            curl_slist_free_all(headerList)
            curl_slist_free_all(resolveList)
        }
        for field in request.headers {
            // Bytes, not Characters: "\r\n" is one Character and would slip past a Character test.
            guard !field.name.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 58 }),
                !field.value.utf8.contains(where: { $0 == 13 || $0 == 10 })
            else {
                throw HTTPClientError(kind: .invalidRequest, message: "header \(field.name) contains a line break")
            }
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        // Stop libcurl adding "Expect: 100-continue", which costs a round trip on every POST.
        headerList = curl_slist_append(headerList, "Expect:")
        for entry in options.resolve { resolveList = curl_slist_append(resolveList, entry) }

        func milliseconds(_ duration: Duration) -> Int {
            Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
        }
        _ = purser_curl_set_pointer(handle, CURLOPT_URL, request.url)
        _ = purser_curl_set_pointer(handle, CURLOPT_CUSTOMREQUEST, request.method)
        _ = purser_curl_set_long(handle, CURLOPT_NOSIGNAL, 1)
        _ = purser_curl_set_long(handle, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(options.connectTimeout))
        _ = purser_curl_set_long(handle, CURLOPT_TIMEOUT_MS, milliseconds(options.totalTimeout))
        _ = purser_curl_set_long(handle, CURLOPT_FOLLOWLOCATION, options.followRedirects ? 1 : 0)
        _ = purser_curl_set_long(handle, CURLOPT_MAXREDIRS, 5)
        _ = purser_curl_set_long(handle, CURLOPT_SSL_VERIFYPEER, options.verifyTLS ? 1 : 0)
        _ = purser_curl_set_long(handle, CURLOPT_SSL_VERIFYHOST, options.verifyTLS ? 2 : 0)
        _ = purser_curl_set_pointer(handle, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = purser_curl_set_pointer(handle, CURLOPT_HTTPHEADER, headerList)
        if resolveList != nil { _ = purser_curl_set_pointer(handle, CURLOPT_RESOLVE, resolveList) }
        _ = purser_curl_set_write_function(
            handle, CURLOPT_WRITEFUNCTION,
            { data, size, count, user in
                let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                let length = size * count
                if sink.body.count + sink.received + length > sink.limit {
                    sink.exceeded = true
                    return 0
                }
                if let stream = sink.stream {
                    sink.received += length
                    guard stream(UnsafeRawBufferPointer(start: data, count: length)) else {
                        sink.stopped = true
                        return 0
                    }
                    return length
                }
                data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                    sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
                }
                return length
            })
        _ = purser_curl_set_pointer(handle, CURLOPT_WRITEDATA, sinkPointer)
        _ = purser_curl_set_write_function(
            handle, CURLOPT_HEADERFUNCTION,
            { data, size, count, user in
                let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                let length = size * count
                let line = data!.withMemoryRebound(to: UInt8.self, capacity: length) {
                    String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
                }
                if line.hasPrefix("HTTP/") {
                    sink.headers.removeAll()  // a new response (after 100 Continue or a redirect)
                } else if let colon = line.firstIndex(of: ":") {
                    let name = String(line[..<colon])
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
                    sink.headers.append((name, value))
                }
                return length
            })
        _ = purser_curl_set_pointer(handle, CURLOPT_HEADERDATA, sinkPointer)

        let code: CURLcode = withExtendedLifetime(sink) {
            if let body = request.body {
                return body.withUnsafeBytes { bytes in
                    _ = purser_curl_set_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                    _ = purser_curl_set_pointer(handle, CURLOPT_POSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
                    return curl_easy_perform(handle)
                }
            }
            if request.method == "HEAD" { _ = purser_curl_set_long(handle, CURLOPT_NOBODY, 1) }
            return curl_easy_perform(handle)
        }
        guard code == CURLE_OK || (code == CURLE_WRITE_ERROR && sink.stopped) else {
            if sink.exceeded {
                throw HTTPClientError(kind: .tooLarge, message: "response body over \(options.maxResponseBytes) bytes")
            }
            let message = String(cString: curl_easy_strerror(code))
            let kind: HTTPClientError.Kind =
                switch code {
                case CURLE_OPERATION_TIMEDOUT: .timeout
                case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_RECV_ERROR, CURLE_SEND_ERROR: .connection
                case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION: .tls
                case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
                default: .other
                }
            throw HTTPClientError(kind: kind, message: message)
        }
        var status = 0
        _ = purser_curl_get_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return ClientResponse(status: status, headers: sink.headers, body: sink.body)
    }
}
