// SPDX-License-Identifier: BSD-3-Clause
// The Contact URI of a redirect: the dialled user and URI parameters of the request around the
// backend's scheme, host, port and parameters, composed per request without allocating.
#pragma once

#include "message_view.hpp"
#include "uri.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace sipredir::sip {

// Which URI of the request a Contact takes its user (and URI parameters) from.
enum class contact_user : std::uint8_t {
    request_uri, // the Request-URI: the target the caller dialled
    to,          // the To URI
    none,        // no user and no parameters of the request: the backend's URI alone
};

// The URI `from` names in `request`: the parsed Request-URI, or the To URI parsed here. Empty
// (scheme other) for none, and when that URI is missing, malformed, or not sip, sips or tel.
uri_view contact_source(const message_view& request, contact_user from) noexcept;

// Writes one Contact value: `backend` with the user and URI parameters of `source` put in.
// `backend` is the backend's part as the control plane renders it: ["<"] scheme ":" hostport
// *(";" uri-parameter) [">"], with no user and no headers. The result is `backend`'s scheme and
// host:port (RFC 3261 §8.3: a redirect names where to send the request next), `source`'s user
// byte for byte (its password part left out), `source`'s URI parameters except transport and
// maddr (they would send the caller elsewhere) and except those `backend` carries itself, then
// `backend`'s parameters. `source`'s headers are never copied. A tel `source` becomes a SIP URI
// as RFC 3261 §19.1.6 says. A `source` with scheme other gives `backend` unchanged. Returns the
// bytes the value needs; writes only within `out` (all of it when they fit).
std::size_t
write_contact_uri(std::string_view backend, const uri_view& source, std::span<char> out) noexcept;

// True when `text` is empty or a run of ";" pname ["=" pvalue] (RFC 3261 §19.1.1
// uri-parameters: names and values of paramchar, escapes well formed).
bool valid_uri_params(std::string_view text) noexcept;

} // namespace sipredir::sip
