// Typed entry points for curl_easy_setopt and curl_easy_getinfo, which are variadic.
#pragma once
#include <curl/curl.h>

/// Sets an option whose argument is a long.
CURLcode purser_curl_set_long(CURL *handle, CURLoption option, long value);
/// Sets an option whose argument is a pointer (strings, lists, user data).
CURLcode purser_curl_set_pointer(CURL *handle, CURLoption option, const void *value);
/// Sets an option whose argument is a function pointer (write and header callbacks).
CURLcode purser_curl_set_write_function(CURL *handle, CURLoption option,
                                        size_t (*callback)(char *, size_t, size_t, void *));
/// Sets CURLOPT_POSTFIELDSIZE_LARGE and friends, whose argument is a curl_off_t.
CURLcode purser_curl_set_off(CURL *handle, CURLoption option, curl_off_t value);
/// Reads an info value that is a long (CURLINFO_RESPONSE_CODE).
CURLcode purser_curl_get_long(CURL *handle, CURLINFO info, long *value);
