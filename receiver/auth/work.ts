// What checking a request's credentials costs, counted where the cost is: HMAC-SHA256 passes
// over the body (signatures/common.ts, hmacSha256) and SHA-256s of a presented token
// (schemes/bearer.ts, tokenMatches). Everything else a verifier does (reading a header,
// decoding a signature, comparing digests) is a few microseconds whatever the request.
// authenticate() (./index.ts) brings every refusal to the same count, and the tests read it to
// check that every refusal does the same work without timing anything.
export const authWork = { bodyMacs: 0, tokenHashes: 0 };
